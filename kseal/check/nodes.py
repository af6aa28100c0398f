"""YAML and JSON documents as small node trees that remember line and column (1-based).

Built from kseal's typed libyaml events (``kseal.yamlio.read_events``); scalars stay strings (the checks only need to
know whether a value is empty, templated or an ``ENC[...]`` string). Aliases resolve to their
anchored node (an alias inside its own anchor is null, so trees never loop). With duplicate keys
the last one wins, as in Go's decoder (what kubectl and the controllers read).

``parse_tolerant`` scans what parses: when a file as a whole is not YAML, each document is parsed
on its own and the broken ones are left out.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

from kseal.errors import InputError
from kseal.yamlio import (
    AliasEvent,
    MappingEnd,
    MappingStart,
    ScalarEvent,
    SequenceEnd,
    SequenceStart,
    read_events,
)

NULLS = ("", "~", "null", "Null", "NULL")


@dataclass(slots=True)
class Scalar:
    value: str
    plain: bool
    line: int
    col: int

    @property
    def is_null(self) -> bool:
        return self.plain and self.value in NULLS


@dataclass(slots=True)
class Map:
    line: int
    col: int
    items: list[tuple[Scalar, Node]] = field(default_factory=list)

    def get(self, key: str) -> Node | None:
        for k, v in reversed(self.items):
            if k.value == key:
                return v
        return None

    def text(self, key: str) -> str:
        value = self.get(key)
        return value.value if isinstance(value, Scalar) and not value.is_null else ""

    def key_node(self, key: str) -> Scalar | None:
        return next((k for k, _ in reversed(self.items) if k.value == key), None)


@dataclass(slots=True)
class Seq:
    line: int
    col: int
    items: list[Node] = field(default_factory=list)


Node = Scalar | Map | Seq


class _Builder:
    """Nodes from YAML events: the documents read, the open collections with their pending
    keys, and the anchors seen (one handler per event kind)."""

    def __init__(self, line_offset: int, strings: list[Scalar] | None) -> None:
        self.docs: list[Node] = []
        self.stack: list[Map | Seq] = []
        self.pending_key: list[Scalar | None] = []
        self.anchors: dict[str, Node] = {}
        self.line_offset = line_offset
        self.strings = strings
        self.handlers: dict[type, Callable[[Any], None]] = {
            ScalarEvent: self.scalar,
            MappingStart: lambda ev: self.start(ev, Map),
            SequenceStart: lambda ev: self.start(ev, Seq),
            MappingEnd: self.end,
            SequenceEnd: self.end,
            AliasEvent: self.alias,
        }

    def feed(self, ev: Any) -> None:
        handler = self.handlers.get(type(ev))
        if handler is not None:
            handler(ev)

    def add(self, node: Node) -> None:
        if not self.stack:
            self.docs.append(node)
            return
        top = self.stack[-1]
        if isinstance(top, Seq):
            top.items.append(node)
        elif self.pending_key[-1] is None:
            self.pending_key[-1] = (
                node if isinstance(node, Scalar) else Scalar("", False, node.line, node.col)
            )
        else:
            top.items.append((self.pending_key[-1], node))
            self.pending_key[-1] = None

    def scalar(self, ev: ScalarEvent) -> None:
        scalar = Scalar(ev.value, ev.plain, ev.line + 1 + self.line_offset, ev.column + 1)
        if self.strings is not None and "kind" in ev.value and "ecret" in ev.value.lower():
            self.strings.append(scalar)
        if ev.anchor:
            self.anchors[ev.anchor] = scalar
        self.add(scalar)

    def start(self, ev: MappingStart | SequenceStart, kind: type[Map] | type[Seq]) -> None:
        coll: Map | Seq = kind(ev.line + 1 + self.line_offset, ev.column + 1)
        if ev.anchor:
            self.anchors[ev.anchor] = coll
        self.add(coll)
        self.stack.append(coll)
        self.pending_key.append(None)

    def end(self, _ev: Any) -> None:
        self.stack.pop()
        self.pending_key.pop()

    def alias(self, ev: AliasEvent) -> None:
        target = self.anchors.get(ev.anchor)
        if target is None or any(target is open_node for open_node in self.stack):
            target = Scalar("", True, ev.line + 1 + self.line_offset, 1)
        self.add(target)


def parse(
    text: str, line_offset: int = 0, strings: list[Scalar] | None = None, partial: bool = False
) -> list[Node]:
    """Every document of ``text`` (raises InputError when it is not YAML, or with ``partial``
    returns what was read before the error). Lines are counted from ``line_offset``; string
    scalars that may hold a manifest (``kind`` and ``secret`` in them) are added to
    ``strings``."""
    builder = _Builder(line_offset, strings)
    try:
        for ev in read_events(text):
            builder.feed(ev)
    except InputError:
        if not partial:
            raise
    return builder.docs


# a line that starts a YAML document ("---") or ends one ("...")
_DOC_MARKER = re.compile(r"^(?:---|\.\.\.)(?=[ \t\r\n]|$)", re.M)
# what libyaml refuses to read (control characters, NUL...): blanked, so the rest still parses
_NON_PRINTABLE = re.compile(
    "[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]"
)


def parse_tolerant(text: str, strings: list[Scalar] | None = None) -> list[Node]:
    """The documents of ``text`` that parse (all of them when the text is YAML), and of a broken
    document what comes before the error."""
    found: list[Scalar] = []
    try:
        whole = parse(text, 0, found)
    except InputError:
        pass
    else:
        if strings is not None:
            strings.extend(found)
        return whole
    text = _NON_PRINTABLE.sub(" ", text)
    docs: list[Node] = []
    bounds = [0, *(m.start() for m in _DOC_MARKER.finditer(text) if m.start()), len(text)]
    line = 0
    for start, end in pairwise(bounds):
        chunk = text[start:end]
        docs.extend(parse(chunk, line, strings, partial=True))
        line += chunk.count("\n")
    return docs


def to_plain(node: Node | None, _memo: dict[int, Any] | None = None) -> Any:
    """Plain data (dicts, lists, strings, None) for code that wants it. An aliased node becomes
    one shared object, so alias bombs stay small."""
    memo = {} if _memo is None else _memo
    if isinstance(node, Scalar):
        return None if node.is_null else node.value
    if node is None:
        return None
    key = id(node)
    if key not in memo:
        if isinstance(node, Map):
            out: dict[str, Any] = {}
            memo[key] = out
            for k, v in node.items:
                out[k.value] = to_plain(v, memo)
        else:
            items: list[Any] = []
            memo[key] = items
            items.extend(to_plain(v, memo) for v in node.items)
    return memo[key]


def expanded_size(docs: list[Node], limit: int) -> int:
    """How many nodes ``docs`` would have with every alias expanded (counting stops past
    ``limit``): what a reader that copies aliases would build."""
    memo: dict[int, int] = {}

    def size(node: Node) -> int:
        if isinstance(node, Scalar):
            return 1
        key = id(node)
        if key not in memo:
            memo[key] = 0  # (an alias inside its own anchor was made null by parse)
            total = 1
            for item in node.items:
                total += size(item[1]) + 1 if isinstance(item, tuple) else size(item)
                if total > limit:
                    break
            memo[key] = total
        return memo[key]

    total = 0
    for doc in docs:
        total += size(doc)
        if total > limit:
            break
    return total


MAX_NESTING = 16


def manifests(doc: Node) -> list[Map]:
    """The Kubernetes objects in a document: itself, the items of a ``kind: List`` (Lists nest),
    or the elements of a top-level array (JSON arrays of manifests). Each node is visited once,
    however often it is aliased."""
    out: list[Map] = []
    seen: set[int] = set()

    def visit(node: Node, depth: int) -> None:
        if depth > MAX_NESTING or id(node) in seen:
            return
        seen.add(id(node))
        if isinstance(node, Seq):
            for item in node.items:
                visit(item, depth + 1)
        elif isinstance(node, Map):
            items = node.get("items")
            if node.text("kind").endswith("List") and isinstance(items, Seq):
                for item in items.items:
                    visit(item, depth + 1)
            else:
                out.append(node)

    visit(doc, 0)
    return out
