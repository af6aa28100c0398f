"""The only module that touches ruamel.yaml.

Two services: ``read_events()`` streams the parse events of a YAML text as kseal's own typed events
with their source positions (the fast path of the YAML store is built on them), and
``safe_load_all()`` loads small plain documents such as ``.sops.yaml``.

Both refuse hostile input before it costs time or memory (:class:`_Limits`): collections nested
deeper than :data:`MAX_DEPTH`, and alias expansion beyond what yaml.v3 (the YAML library of sops)
allows ("excessive aliasing"), so a few hundred bytes of nested aliases cannot expand to gigabytes.
The parser is libyaml through ruamel.yaml's C extension; without it kseal stops with an install
hint (the pure-Python parser is an order of magnitude slower and reports other positions).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

from kseal.errors import InputError, KsealError, text_position

# ---- events -----------------------------------------------------------------------------------
# Positions are character indexes into the text (``start``/``end``) and the 0-based line and
# column where the event starts.


class ScalarEvent(NamedTuple):
    value: str
    tag: str | None  # an explicit tag, e.g. "tag:yaml.org,2002:int" for !!int
    style: str  # "" plain, "'", '"', "|" or ">"
    plain: bool  # plain and untagged: the value's type is resolved from its text
    anchor: str | None
    start: int
    end: int
    line: int
    column: int


class MappingStart(NamedTuple):
    flow: bool
    anchor: str | None
    start: int
    end: int
    line: int
    column: int


class SequenceStart(NamedTuple):
    flow: bool
    anchor: str | None
    start: int
    end: int
    line: int
    column: int


class MappingEnd(NamedTuple):
    start: int
    end: int


class SequenceEnd(NamedTuple):
    start: int
    end: int


class AliasEvent(NamedTuple):
    anchor: str
    start: int
    end: int
    line: int


class DocumentStart(NamedTuple):
    start: int
    end: int


class DocumentEnd(NamedTuple):
    start: int
    end: int


class StreamEnd(NamedTuple):
    start: int


Event = (
    ScalarEvent
    | MappingStart
    | SequenceStart
    | MappingEnd
    | SequenceEnd
    | AliasEvent
    | DocumentStart
    | DocumentEnd
    | StreamEnd
)


def safe_load_all(text: str) -> list[Any]:
    """Plain Python data for each document of ``text`` (YAML 1.2, no custom tags)."""
    for _event in read_events(text):  # the limits below, before ruamel builds anything
        pass
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

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


def read_events(text: str) -> Iterator[Event]:
    """The typed parse events of ``text``, ending with :class:`StreamEnd`."""
    return _parse(text)


def _c_parser() -> Any:
    try:
        from ruamel.yaml.cyaml import CParser  # type: ignore[attr-defined]
    except ImportError:
        raise KsealError(
            "kseal needs the C extension of ruamel.yaml (ruamel.yaml.clib), which is not installed",
            hints=[
                "install it into kseal's environment: pip install ruamel.yaml.clib "
                "(or reinstall kseal: pipx reinstall kseal)"
            ],
        ) from None
    return CParser


def _converters() -> dict[type, Callable[[Any], Event]]:
    """ruamel's event classes -> the function making kseal's event of each."""
    from ruamel.yaml import events as ev

    def scalar(e: Any) -> Event:
        style = e.style or ""
        s, end = e.start_mark, e.end_mark.index
        plain = not style and e.implicit[0]
        return ScalarEvent(e.value, e.tag, style, plain, e.anchor, s.index, end, s.line, s.column)

    def mapping(e: Any) -> Event:
        s = e.start_mark
        return MappingStart(
            bool(e.flow_style), e.anchor, s.index, e.end_mark.index, s.line, s.column
        )

    def sequence(e: Any) -> Event:
        s = e.start_mark
        return SequenceStart(
            bool(e.flow_style), e.anchor, s.index, e.end_mark.index, s.line, s.column
        )

    def alias(e: Any) -> Event:
        s = e.start_mark
        return AliasEvent(e.anchor, s.index, e.end_mark.index, s.line)

    def span(kind: Callable[[int, int], Event]) -> Callable[[Any], Event]:
        return lambda e: kind(e.start_mark.index, e.end_mark.index)

    return {
        ev.ScalarEvent: scalar,
        ev.MappingStartEvent: mapping,
        ev.SequenceStartEvent: sequence,
        ev.AliasEvent: alias,
        ev.MappingEndEvent: span(MappingEnd),
        ev.SequenceEndEvent: span(SequenceEnd),
        ev.DocumentStartEvent: span(DocumentStart),
        ev.DocumentEndEvent: span(DocumentEnd),
        ev.StreamEndEvent: lambda e: StreamEnd(e.start_mark.index),
    }


_CONVERT: dict[type, Callable[[Any], Event]] = {}


def _parse(text: str) -> Iterator[Event]:
    """kseal's events, checked by :class:`_Limits`; the stream start is left out. Scalars, most of any document, are converted and counted inline."""
    parser = _c_parser()(text)
    from ruamel.yaml.error import YAMLError
    from ruamel.yaml.events import ScalarEvent as RawScalar

    if not _CONVERT:  # filled on first use: importing kseal.yamlio costs nothing
        _CONVERT.update(_converters())
    convert = _CONVERT
    limits = _Limits()
    new = tuple.__new__
    try:
        get = parser.get_event
        get()  # StreamStart
        while True:
            raw = get()
            if type(raw) is RawScalar:
                style, mark, anchor = raw.style or "", raw.start_mark, raw.anchor
                plain = not style and raw.implicit[0]
                fields = (raw.value, raw.tag, style, plain, anchor)
                event: Event = new(
                    ScalarEvent, (*fields, mark.index, raw.end_mark.index, mark.line, mark.column)
                )
                limits.decoded += 1
                if anchor:
                    limits.anchors[anchor] = (1, 0)
            else:
                event = convert[type(raw)](raw)
                limits.check(event)
                if type(event) is StreamEnd:
                    yield event
                    return
            yield event
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
    nest, without expanding anything: each anchor remembers the size and depth of its node.

    ``decoded`` counts every node so far, so a collection's size is how much it grew while the
    collection was open; each open collection remembers that count and its deepest child."""

    def __init__(self) -> None:
        self._start_document()

    def _start_document(self) -> None:
        self.anchors: dict[str, tuple[int, int]] = {}  # anchor -> (nodes, levels of nesting)
        self.open: list[list[Any]] = []  # [decoded before it, deepest child, anchor] per collection
        self.decoded = 1  # the document node
        self.aliased = 0

    def check(self, event: Event) -> None:
        if isinstance(event, ScalarEvent):
            self.decoded += 1
            if event.anchor:
                self.anchors[event.anchor] = (1, 0)
        elif isinstance(event, MappingStart | SequenceStart):
            self._start(event)
        elif isinstance(event, MappingEnd | SequenceEnd):
            self._end()
        elif isinstance(event, AliasEvent):
            self._alias(event)
        elif isinstance(event, DocumentStart):
            self._start_document()

    def _start(self, event: MappingStart | SequenceStart) -> None:
        if len(self.open) >= MAX_DEPTH:
            _too_deep(f"line {event.line + 1}")
        self.open.append([self.decoded, 0, event.anchor])
        self.decoded += 1

    def _end(self) -> None:
        before, deepest, anchor = self.open.pop()
        depth = deepest + 1
        if self.open and self.open[-1][1] < depth:
            self.open[-1][1] = depth
        if anchor:
            self.anchors[anchor] = (self.decoded - before, depth)

    def _alias(self, event: AliasEvent) -> None:
        if event.anchor not in self.anchors:
            return  # the consumer reports the unknown alias
        expanded, depth = self.anchors[event.anchor]
        if len(self.open) + depth > MAX_DEPTH:
            _too_deep(f"alias *{event.anchor} at line {event.line + 1}")
        self.decoded += 1 + expanded
        self.aliased += expanded
        if self.open and self.open[-1][1] < depth:
            self.open[-1][1] = depth
        if (
            self.aliased > 100
            and self.decoded > 1000
            and self.aliased / self.decoded > _allowed_alias_ratio(self.decoded)
        ):
            raise InputError(
                "invalid YAML: the document contains excessive aliasing "
                f"(alias *{event.anchor} at line {event.line + 1})",
                hints=["aliases expanding to this many values are refused, as sops does"],
            )


def _too_deep(where: str) -> None:
    raise InputError(f"invalid YAML: nesting deeper than {MAX_DEPTH} levels ({where})")
