"""The only module that touches ruamel.yaml.

Two services: ``events()`` streams libyaml parse events with their source positions (the fast path
of the YAML store is built on it), and ``safe_load_all()`` loads small plain documents such as
``.sops.yaml``.

Both refuse hostile input before it costs time or memory (:class:`_Limits`): collections nested
deeper than :data:`MAX_DEPTH`, and alias expansion beyond what yaml.v3 (the YAML library of sops)
allows ("excessive aliasing"), so a few hundred bytes of nested aliases cannot expand to gigabytes.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from kseal.errors import InputError, text_position


def safe_load_all(text: str) -> list[Any]:
    """Plain Python data for each document of ``text`` (YAML 1.2, no custom tags)."""
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    for _event in events(text):  # the limits below, before ruamel builds anything
        pass
    yaml = YAML(typ="safe", pure=False)
    try:
        return list(yaml.load_all(text))
    except YAMLError as exc:
        raise InputError(f"invalid YAML: {_one_line(exc, text)}") from None
    except (ValueError, IndexError, TypeError, KeyError, OverflowError):
        # a value ruamel cannot construct (an integer past Python's digit limit, an empty
        # "!!int"); the message never quotes it
        raise InputError(
            "invalid YAML: a value cannot be read (a malformed or huge number?)"
        ) from None


def events(text: str) -> Iterator[Any]:
    """libyaml events of ``text``; each has ``start_mark.index``/``end_mark.index`` in characters."""
    from ruamel.yaml.cyaml import CParser  # type: ignore[attr-defined]
    from ruamel.yaml.error import YAMLError

    parser = CParser(text)
    limits = _Limits()
    try:
        while True:
            event = parser.get_event()
            limits.check(event)
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


# Deeper nesting is refused: kseal walks trees recursively, and libyaml slows down quadratically
# with the nesting of flow collections. yaml.v3 stops at 10000 levels; real files use a dozen.
MAX_DEPTH = 200

# yaml.v3's alias budget (decode.go, allowedAliasRatio): once a document has more than 1000 nodes
# and more than 100 of them come from alias expansion, the expanded share may be at most 99% up to
# 400,000 nodes, falling linearly to 10% at 4,000,000 nodes.
_RATIO_LOW = 400_000
_RATIO_HIGH = 4_000_000


def _allowed_alias_ratio(decoded: int) -> float:
    if decoded <= _RATIO_LOW:
        return 0.99
    if decoded >= _RATIO_HIGH:
        return 0.10
    return 0.99 - 0.89 * ((decoded - _RATIO_LOW) / (_RATIO_HIGH - _RATIO_LOW))


class _Limits:
    """Counts, per document, the nodes yaml.v3 would decode (aliases expanded) and how deep they
    nest, without expanding anything: each anchor remembers the size and depth of its node."""

    def __init__(self) -> None:
        self._start_document()

    def _start_document(self) -> None:
        self.anchors: dict[str, tuple[int, int]] = {}  # anchor -> (nodes, levels of nesting)
        self.open: list[list[Any]] = []  # [nodes so far, deepest child, anchor] per collection
        self.decoded = 1  # the document node
        self.aliased = 0

    def check(self, event: Any) -> None:
        name = type(event).__name__
        if name in ("MappingStartEvent", "SequenceStartEvent"):
            self._depth(len(self.open) + 1, event)
            self.decoded += 1
            self.open.append([1, 0, event.anchor])
        elif name in ("MappingEndEvent", "SequenceEndEvent"):
            size, depth, anchor = self.open.pop()
            self._add(size, depth + 1, anchor)
        elif name == "ScalarEvent":
            self.decoded += 1
            self._add(1, 0, event.anchor)
        elif name == "AliasEvent":
            if event.anchor not in self.anchors:
                return  # the consumer reports the unknown alias
            expanded, depth = self.anchors[event.anchor]
            self._depth(len(self.open) + depth, event)
            self.decoded += 1 + expanded
            self.aliased += expanded
            self._add(1 + expanded, depth, None)
            if (
                self.aliased > 100
                and self.decoded > 1000
                and self.aliased / self.decoded > _allowed_alias_ratio(self.decoded)
            ):
                mark = event.start_mark
                raise InputError(
                    "invalid YAML: the document contains excessive aliasing "
                    f"(alias *{event.anchor} at line {mark.line + 1})",
                    hints=["aliases expanding to this many values are refused, as sops does"],
                )
        elif name == "DocumentStartEvent":
            self._start_document()

    @staticmethod
    def _depth(depth: int, event: Any) -> None:
        if depth > MAX_DEPTH:
            where = f"line {event.start_mark.line + 1}"
            if type(event).__name__ == "AliasEvent":
                where = f"alias *{event.anchor} at {where}"
            raise InputError(f"invalid YAML: nesting deeper than {MAX_DEPTH} levels ({where})")

    def _add(self, size: int, depth: int, anchor: str | None) -> None:
        if self.open:
            self.open[-1][0] += size
            self.open[-1][1] = max(self.open[-1][1], depth)
        if anchor:
            self.anchors[anchor] = (size, depth)
