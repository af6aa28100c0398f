"""The only module that touches ruamel.yaml.

Two services: ``events()`` streams libyaml parse events with their source positions (the fast path
of the YAML store is built on it), and ``safe_load_all()`` loads small plain documents such as
``.sops.yaml``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from kseal.errors import InputError


def safe_load_all(text: str) -> list[Any]:
    """Plain Python data for each document of ``text`` (YAML 1.2, no custom tags)."""
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    yaml = YAML(typ="safe", pure=False)
    try:
        return list(yaml.load_all(text))
    except YAMLError as exc:
        raise InputError(f"invalid YAML: {_one_line(exc)}") from None


def events(text: str) -> Iterator[Any]:
    """libyaml events of ``text``; each has ``start_mark.index``/``end_mark.index`` in characters."""
    from ruamel.yaml.cyaml import CParser  # type: ignore[attr-defined]
    from ruamel.yaml.error import YAMLError

    parser = CParser(text)
    try:
        while True:
            event = parser.get_event()
            yield event
            if type(event).__name__ == "StreamEndEvent":
                return
    except YAMLError as exc:
        raise InputError(f"invalid YAML: {_one_line(exc)}") from None
    finally:
        parser.dispose()


def _one_line(exc: Exception) -> str:
    """A YAML error as one line: the problem and where, never the offending source text."""
    problem = getattr(exc, "problem", None) or "parse error"
    mark = getattr(exc, "problem_mark", None)
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
    return f"{problem}{where}"
