"""The terminal: the one-line error reporter (and, lazily, rich for progress and tables)."""

from __future__ import annotations

import sys
from typing import NoReturn

from kseal.errors import KsealError


def report(err: KsealError) -> None:
    """The one-line error and its hints, on stderr."""
    sys.stderr.write(f"kseal: error: {err.message}\n")
    for hint in err.hints:
        sys.stderr.write(f"kseal: hint: {hint}\n")
    sys.stderr.flush()


def fail(err: KsealError) -> NoReturn:
    report(err)
    raise SystemExit(err.exit_code)
