"""Build document trees from libyaml events, remembering where every leaf sits in the source.

The events come from :func:`kseal.yamlio.read_events` (libyaml, fast), one handler per kind. Comments are not events: they
are found in the gaps between events and attached like sops does (a comment belongs to the
collection whose items it is indented with; a comment on the same line as a value goes before that
item). For each document the result keeps the source span of every leaf in walk order, so the
store can later rewrite just those spans and leave the rest of the file byte for byte.
"""

from __future__ import annotations

from typing import Any, NamedTuple, cast

from kseal.errors import InputError
from kseal.sops.stores.yaml_feet import refile
from kseal.sops.stores.yaml_values import materialize, plain_data, resolve_event
from kseal.sops.tree import Branch, Comment, Scalar, Value
from kseal.yamlio import (
    AliasEvent,
    DocumentEnd,
    DocumentStart,
    MappingEnd,
    MappingStart,
    ScalarEvent,
    SequenceEnd,
    SequenceStart,
    StreamEnd,
    read_events,
)


class Span(NamedTuple):
    start: int
    end: int
    value: Scalar
    flow: bool = False
    parent_col: int = 0
    block: bool = False
    anchor: str | None = None
    seq_col: int = -1  # the dash's column when the value's mapping is a block sequence item
    item: bool = False  # the value is a sequence item (else a mapping value)


class Entry(NamedTuple):  # an item as parsed: key or dash to end of value, key, span or collection
    start: int
    end: int
    key: str | None = None
    comment: bool = False
    span: Span | None = None
    child: object | None = None


class NodeLayout(NamedTuple):
    node: object  # the Branch or list, checked by identity
    col: int  # column of its keys or dashes
    flow: bool
    entries: list[Entry]


class Layout:  # where a document's collections sit, so items can be inserted and removed
    __slots__ = ("comments", "indent", "meta_indent", "nodes", "seq_indent")

    def __init__(self) -> None:
        self.nodes: dict[int, NodeLayout] = {}  # by id() of the collection
        self.comments: list[int] = []  # where every comment starts (sorted)
        self.indent = 0  # the file's mapping indentation (0: not seen)
        self.seq_indent = -1  # how far a sequence under a key is indented (-1: not seen)
        self.meta_indent = False  # the indentation was only seen in the sops metadata


class DocInfo:
    __slots__ = ("end", "in_place", "layout", "meta_region")

    def __init__(self) -> None:
        self.in_place = True
        self.end = 0  # where metadata is appended (end of the root mapping's content)
        self.meta_region: tuple[int, int] | None = None
        self.layout = Layout()


class Parsed(NamedTuple):
    text: str
    docs: list[Branch]
    infos: list[DocInfo]
    metadata: Any


class _Frame:
    """A collection being read."""

    __slots__ = (
        "anchor",
        "before_item",
        "col",
        "entries",
        "flow",
        "is_map",
        "items",
        "key",
        "key_col",
        "key_start",
        "last_index",
        "last_line",
        "meta",
        "seen",
        "start",
    )

    def __init__(
        self, is_map: bool, items: Any, col: int, flow: bool, meta: bool, anchor: str | None
    ) -> None:
        self.is_map = is_map
        self.items = items
        self.col = col
        self.flow = flow
        self.meta = meta
        self.anchor = anchor
        self.key: str | None = None
        self.key_col = 0
        self.key_start = 0
        self.start = 0
        self.entries: list[Entry] = []
        self.before_item: list[Span] = []
        self.last_index = -1
        self.last_line = -1
        self.seen: set[str] = set()


def _line_start(text: str, pos: int) -> int:
    return text.rfind("\n", 0, pos) + 1


def _eol(text: str, pos: int) -> int:
    nl = text.find("\n", pos)
    return len(text) if nl < 0 else nl


# a comment found between events: (column, line, its span, whose value is the Comment)
_Found = tuple[int, int, Span]


class _Builder:
    def __init__(self, text: str) -> None:
        self.text = text
        self.docs: list[Branch] = []
        self.infos: list[DocInfo] = []
        self.metadata: Any = None
        self.anchors: dict[str, Value] = {}
        self.stack: list[_Frame] = []
        self.carry: list[_Found] = []
        self.prev = 0  # where the last event ended: comments are looked for after it
        self.info = DocInfo()
        self.root: Branch | None = None
        self.last_end = 0
        self.pending_inner: list[_Found] = []
        self._lpos = 0
        self._line = 0
        self.comment_starts: list[int] = []  # shared by every DocInfo's layout
        self.info.layout.comments = self.comment_starts

    def _line_at(self, pos: int) -> int:
        """0-based line of ``pos``; positions mostly increase, so count incrementally."""
        if pos < self._lpos:
            self._lpos, self._line = 0, 0
        self._line += self.text.count("\n", self._lpos, pos)
        self._lpos = pos
        return self._line

    # -- comments --------------------------------------------------------------------------
    def _comments_in_gap(self, start: int, end: int) -> list[_Found]:
        found = []
        text = self.text
        pos = text.find("#", start, end)
        while pos >= 0:
            eol = _eol(text, pos)
            stop = eol - 1 if eol > pos and text[eol - 1 : eol] == "\r" else eol
            if not (self.stack and self.stack[-1].meta):  # the metadata's comments are dropped
                col = pos - _line_start(text, pos)
                span = Span(pos + 1, stop, Comment(text[pos + 1 : stop]))
                self.comment_starts.append(pos)
                found.append((col, self._line_at(pos), span))
            pos = text.find("#", eol, end)
        return found

    def _gap(self, start: int, closing: bool, opening_col: int = -1) -> None:
        """Attach the comments between the previous event and one starting at ``start``;
        ``closing`` for the end of a collection or document, ``opening_col`` for the start of
        a block collection (its column)."""
        found = self._comments_in_gap(self.prev, start) if start > self.prev else []
        if opening_col >= 0 and self.stack:
            # Comments indented with the new collection's items (and on later lines than the
            # key) are its head comments; the rest stay in the parent.
            key_line = self._line_at(self.stack[-1].key_start)
            self.pending_inner = [c for c in found if c[0] >= opening_col and c[1] > key_line]
            found = [c for c in found if not (c[0] >= opening_col and c[1] > key_line)]
        if found and closing and self.stack:  # comments before a dedent: yaml.v3's feet
            starts = [c[2].start - 1 for c in found]
            frames = [(f.col, f.is_map, f.key_col) for f in self.stack]
            found = refile(self.text, self.prev, start, found, starts, frames)
        if found or self.carry:
            # on a closing event, comments carried from an inner collection are offered to the
            # collection being closed (they stay carried if indented less)
            self._place(found, closing)

    def _place(self, comments: list[_Found], closing: bool) -> None:
        if not self.stack:
            self.carry.extend(comments)
            return
        frame = self.stack[-1]
        pending = self.carry + comments
        self.carry = []
        for found in pending:
            col, line, span = found
            if closing and col < frame.col:
                self.carry.append(found)
            elif frame.is_map and frame.key is not None:
                frame.before_item.append(span)
            elif not closing and frame.last_index >= 0 and line == frame.last_line:
                self._insert(frame, frame.last_index, span)
                frame.last_index += 1
            else:
                self._insert(frame, len(frame.items), span)

    def _insert(self, frame: _Frame, index: int, span: Span) -> None:
        if frame.is_map:
            frame.items.insert(index, (span.value, None))
        else:
            frame.items.insert(index, span.value)
        frame.entries.insert(index, _comment_entry(span))

    def _append_to_root(self, root: Branch, info: DocInfo, span: Span) -> None:
        root.append((cast(Comment, span.value), None))
        layout = info.layout.nodes.get(id(root))
        if layout is not None:
            layout.entries.append(_comment_entry(span))

    # -- values ----------------------------------------------------------------------------
    def _add(self, value: Value, end: int, start: int, span: Span | None = None) -> None:
        """Add ``value`` (read from ``span``, when it is a leaf of the source) where it belongs."""
        if not self.stack:
            if not isinstance(value, Branch):
                raise InputError(
                    "the top level of a YAML document must be a mapping",
                    hints=["sops and kseal encrypt mappings; wrap a list under a key"],
                )
            self.root = value
            return
        frame = self.stack[-1]
        line = self._line_at(max(end - 1, 0))
        if frame.is_map:
            key = frame.key or ""
            for comment in frame.before_item:
                frame.items.append((comment.value, None))
                frame.entries.append(_comment_entry(comment))
            frame.before_item = []
            frame.items.append((key, value))
            frame.entries.append(_entry(value, frame.key_start, end, key, span))
            frame.key = None
            if frame.meta is False and len(self.stack) == 1 and key == "sops":
                self._take_metadata(frame, end)
                return
        else:
            frame.items.append(value)
            frame.entries.append(_entry(value, start, end, None, span))
        frame.last_index = len(frame.items) - 1
        frame.last_line = line

    def _take_metadata(self, frame: _Frame, end: int) -> None:
        _key, value = frame.items.pop()
        frame.entries.pop()
        if self.metadata is None:
            self.metadata = value
        start = _line_start(self.text, frame.key_start)
        stop = min(_eol(self.text, end - 1) + 1, len(self.text))
        self.info.meta_region = (start, stop)

    # -- one handler per event kind ----------------------------------------------------------
    def scalar(self, ev: ScalarEvent) -> None:
        start, end = ev.start, ev.end
        if self.carry or (start > self.prev and self.text.find("#", self.prev, start) >= 0):
            self._gap(start, False)
        if end > self.prev:
            self.prev = end
        value = resolve_event(ev)
        frame = self.stack[-1] if self.stack else None
        if frame is None and value is None:
            return  # an empty or null document: yaml.v3 (so sops) reads it as an empty mapping
        if ev.anchor:
            self.anchors[ev.anchor] = value
        if frame is not None and frame.is_map and frame.key is None:
            self._key(frame, value, ev)
            return
        self.last_end = end
        if frame is not None and frame.meta:
            self._add(value, end, start)
            return
        parent_col = (
            frame.key_col if frame is not None and frame.is_map else (frame.col if frame else 0)
        )
        outer = self.stack[-2] if len(self.stack) > 1 else None
        fields = (
            start,
            end,
            value,
            bool(frame and frame.flow),  # flow
            parent_col,
            ev.style in ("|", ">"),  # block
            ev.anchor,
            outer.col if frame and frame.is_map and outer and not outer.is_map else -1,  # seq_col
            bool(frame and not frame.is_map),  # item
        )
        self._add(value, end, start, _new(Span, fields))

    @staticmethod
    def _key(frame: _Frame, value: Scalar, ev: ScalarEvent) -> None:
        if not isinstance(value, str):
            raise InputError(
                f"unsupported mapping key at line {ev.line + 1}: only string keys are supported",
                hints=["quote the key to make it a string"],
            )
        if value in frame.seen:
            raise InputError(f"duplicate key {value!r} at line {ev.line + 1}")
        frame.seen.add(value)
        frame.key, frame.key_col, frame.key_start = value, ev.column, ev.start

    def start_mapping(self, ev: MappingStart) -> None:
        self._start_collection(ev, True)

    def start_sequence(self, ev: SequenceStart) -> None:
        self._start_collection(ev, False)

    def _start_collection(self, ev: MappingStart | SequenceStart, is_map: bool) -> None:
        flow, col = ev.flow, ev.column
        self._gap(ev.start, False, -1 if flow else col)
        self.prev = max(self.prev, ev.end)
        parent = self.stack[-1] if self.stack else None
        meta = bool(parent and (parent.meta or (len(self.stack) == 1 and parent.key == "sops")))
        if not self.stack and (flow or col != 0):
            self.info.in_place = False
        if parent is not None and parent.is_map and not flow and not parent.flow:
            layout = self.info.layout  # the file's indentation, the sops block's as a last resort
            if is_map and col > parent.key_col and (not layout.indent or layout.meta_indent > meta):
                layout.indent, layout.meta_indent = col - parent.key_col, meta
            elif not is_map and not meta and layout.seq_indent < 0:
                layout.seq_indent = col - parent.key_col
        frame = _Frame(is_map, Branch() if is_map else [], col, flow, meta, ev.anchor)
        frame.start = ev.start
        self.stack.append(frame)
        if len(self.stack) == 1 and self.carry:
            self._place([], closing=False)
        if self.pending_inner:
            self._place(self.pending_inner, closing=False)
            self.pending_inner = []

    def end_collection(self, ev: MappingEnd | SequenceEnd) -> None:
        self._gap(ev.start, True)
        self.prev = max(self.prev, ev.end)
        frame = self.stack.pop()
        if frame.anchor:
            self.anchors[frame.anchor] = frame.items
        if not frame.meta:
            layout = NodeLayout(frame.items, frame.col, frame.flow, frame.entries)
            self.info.layout.nodes[id(frame.items)] = layout
        if not self.stack:
            self.info.end = ev.start
        if frame.flow:
            self.last_end = max(self.last_end, ev.end)
        self._add(frame.items, self.last_end, frame.start)

    def alias(self, ev: AliasEvent) -> None:
        self._gap(ev.start, False)
        self.prev = max(self.prev, ev.end)
        if ev.anchor not in self.anchors:
            raise InputError(f"unknown alias *{ev.anchor} at line {ev.line + 1}")
        self.info.in_place = False  # sops expands aliases: every copy gets its own ciphertext
        value = materialize(self.anchors[ev.anchor])
        frame = self.stack[-1] if self.stack else None
        if frame is not None and frame.is_map and frame.key is None:
            raise InputError(f"an alias cannot be a mapping key (line {ev.line + 1})")
        self.last_end = ev.end
        self._add(value, ev.end, ev.start)

    def start_document(self, ev: DocumentStart) -> None:
        self._gap(ev.start, False)
        self.prev = max(self.prev, ev.end)

    def end_document(self, ev: DocumentEnd) -> None:
        self._gap(ev.start, True)
        self.prev = max(self.prev, ev.start)
        root = self.root if self.root is not None else Branch()
        for _col, _line, span in self.carry:
            self._append_to_root(root, self.info, span)
        self.carry = []
        if self.root is None:
            self.info.in_place = False
        self.docs.append(root)
        self.infos.append(self.info)
        self.info = DocInfo()
        self.info.layout.comments = self.comment_starts
        self.root = None

    def end_stream(self, _ev: StreamEnd) -> None:
        if self.prev < len(self.text) and self.docs:
            for _col, _line, span in self._comments_in_gap(self.prev, len(self.text)):
                self._append_to_root(self.docs[-1], self.infos[-1], span)

    def run(self) -> None:
        handlers: dict[type, Any] = {
            ScalarEvent: self.scalar,
            MappingStart: self.start_mapping,
            SequenceStart: self.start_sequence,
            MappingEnd: self.end_collection,
            SequenceEnd: self.end_collection,
            AliasEvent: self.alias,
            DocumentStart: self.start_document,
            DocumentEnd: self.end_document,
            StreamEnd: self.end_stream,
        }
        scalar = self.scalar
        for ev in read_events(self.text):
            if type(ev) is ScalarEvent:
                scalar(ev)
            else:
                handlers[type(ev)](ev)


# NamedTuple.__new__ without its Python-level argument handling, for the records made per value
_new = tuple.__new__


def _comment_entry(span: Span) -> Entry:
    return Entry(span.start - 1, span.end, comment=True, span=span)


def _entry(value: Value, start: int, end: int, key: str | None, span: Span | None) -> Entry:
    if span is not None:
        return _new(Entry, (start, end, key, False, span, None))
    if isinstance(value, Branch | list):
        return Entry(start, end, key, child=value)
    return Entry(start, end, key)  # an alias copy (the document is not edited in place)


def parse(text: str) -> Parsed:
    builder = _Builder(text)
    builder.run()
    return Parsed(text, builder.docs, builder.infos, plain_data(builder.metadata))
