"""The user's editor: find it ($SOPS_EDITOR, $EDITOR, or vim/nano/vi), run it on a file, and ask
whether to go back to it after an invalid edit."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

from kseal.errors import KsealError


def editor_command() -> list[str]:
    for var in ("SOPS_EDITOR", "EDITOR"):
        value = os.environ.get(var, "").strip()
        if value:
            try:
                return shlex.split(value)
            except ValueError:
                raise KsealError(f"cannot parse ${var}") from None
    for name in ("vim", "nano", "vi"):
        found = shutil.which(name)
        if found:
            return [found]
    raise KsealError("no editor found", hints=["set $EDITOR (or $SOPS_EDITOR)"])


def run_editor(path: Path) -> None:
    argv = [*editor_command(), str(path)]
    try:
        code = subprocess.run(argv, check=False).returncode
    except OSError as exc:
        raise KsealError(f"cannot run the editor {argv[0]!r}: {exc.strerror}") from None
    if code != 0:
        how = f"was killed by signal {-code}" if code < 0 else f"exited with status {code}"
        raise KsealError(f"the editor {how}; the file was not changed")


def ask_to_retry(error: KsealError) -> bool:
    from kseal.cli.ui import report

    report(error)
    sys.stderr.write("Press Enter to return to the editor, or Ctrl+C to give up: ")
    sys.stderr.flush()
    return sys.stdin.readline() != ""
