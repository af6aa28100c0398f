"""The only module that touches ruamel.yaml.

Two services: ``events()`` streams libyaml parse events with their source positions (the fast path
of the YAML store is built on it), and ``safe_load_all()`` loads small plain documents such as
``.sops.yaml``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from kseal.errors import InputError, text_position


def safe_load_all(text: str) -> list[Any]:
    """Plain Python data for each document of ``text`` (YAML 1.2, no custom tags)."""
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    yaml = YAML(typ="safe", pure=False)
    try:
        return list(yaml.load_all(text))
    except YAMLError as exc:
        raise InputError(f"invalid YAML: {_one_line(exc, text)}") from None


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
        raise InputError(f"invalid YAML: {_one_line(exc, text)}") from None
    finally:
        parser.dispose()


def _one_line(exc: Exception, text: str) -> str:
    """A YAML error as one line: the problem and where, never the offending source text.

    The context (e.g. the flow sequence left open) is named with where it starts, since the
    problem is often only detected on a later line.
    """
    problem = getattr(exc, "problem", None) or "parse error"
    out = f"{problem}{_where(getattr(exc, 'problem_mark', None), text)}"
    context = getattr(exc, "context", None)
    context_at = _where(getattr(exc, "context_mark", None), text)
    if context and context_at:
        return f"{out} ({context}{context_at})"
    return out


def _where(mark: Any, text: str) -> str:
    """`` at line L, column C`` for a libyaml mark, from its character index (libyaml puts the
    end of the stream on a line of its own after the last one)."""
    if mark is None:
        return ""
    index = getattr(mark, "index", None)
    if not isinstance(index, int) or not 0 <= index <= len(text):
        return f" at line {mark.line + 1}, column {mark.column + 1}"
    return text_position(text, index)
