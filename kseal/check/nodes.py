"""YAML and JSON documents as small node trees that remember line and column (1-based).

Built from libyaml events (``kseal.yamlio.events``); scalars stay strings (the checks only need to
know whether a value is empty, templated or an ``ENC[...]`` string). Aliases resolve to their
anchored node.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from kseal.yamlio import events

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
        for k, v in self.items:
            if k.value == key:
                return v
        return None

    def text(self, key: str) -> str:
        value = self.get(key)
        return value.value if isinstance(value, Scalar) and not value.is_null else ""

    def key_node(self, key: str) -> Scalar | None:
        return next((k for k, _ in self.items if k.value == key), None)


@dataclass(slots=True)
class Seq:
    line: int
    col: int
    items: list[Node] = field(default_factory=list)


Node = Scalar | Map | Seq


def parse(text: str) -> list[Node]:
    """Every document of ``text`` (raises InputError when it is not YAML)."""
    docs: list[Node] = []
    stack: list[Map | Seq] = []
    pending_key: list[Scalar | None] = []
    anchors: dict[str, Node] = {}

    def add(node: Node) -> None:
        if not stack:
            docs.append(node)
            return
        top = stack[-1]
        if isinstance(top, Seq):
            top.items.append(node)
        elif pending_key[-1] is None:
            pending_key[-1] = (
                node if isinstance(node, Scalar) else Scalar("", False, node.line, node.col)
            )
        else:
            top.items.append((pending_key[-1], node))
            pending_key[-1] = None

    for ev in events(text):
        kind = type(ev).__name__
        if kind == "ScalarEvent":
            mark = ev.start_mark
            node: Node = Scalar(ev.value, ev.style is None, mark.line + 1, mark.column + 1)
            if ev.anchor:
                anchors[ev.anchor] = node
            add(node)
        elif kind in ("MappingStartEvent", "SequenceStartEvent"):
            mark = ev.start_mark
            coll: Map | Seq = (Map if kind == "MappingStartEvent" else Seq)(
                mark.line + 1, mark.column + 1
            )
            if ev.anchor:
                anchors[ev.anchor] = coll
            add(coll)
            stack.append(coll)
            pending_key.append(None)
        elif kind in ("MappingEndEvent", "SequenceEndEvent"):
            stack.pop()
            pending_key.pop()
        elif kind == "AliasEvent":
            add(anchors.get(ev.anchor, Scalar("", True, ev.start_mark.line + 1, 1)))
    return docs


def to_plain(node: Node | None) -> Any:
    """Plain data (dicts, lists, strings, None) for code that wants it."""
    if isinstance(node, Map):
        return {k.value: to_plain(v) for k, v in node.items}
    if isinstance(node, Seq):
        return [to_plain(v) for v in node.items]
    if isinstance(node, Scalar):
        return None if node.is_null else node.value
    return None


def manifests(doc: Node) -> list[Map]:
    """The Kubernetes objects in a document: itself, the items of a ``kind: List``, or the
    elements of a top-level array (JSON arrays of manifests)."""
    if isinstance(doc, Seq):
        return [m for item in doc.items for m in manifests(item)]
    if not isinstance(doc, Map):
        return []
    items = doc.get("items")
    if doc.text("kind").endswith("List") and isinstance(items, Seq):
        return [m for m in items.items if isinstance(m, Map)]
    return [doc]
