"""Writing YAML over the original text: only what changed is rewritten.

Changed leaves get their new value in place; keys and list items that were added are written with
the file's own indentation right after their siblings; removed ones take their lines with them.
Everything else (indentation, key order, quoting of untouched values, blank lines, comments and
document markers) stays byte for byte. sops itself re-indents the whole file and moves comments;
kseal does not.

When a change cannot be expressed this way (a flow collection that gains an item, a key sharing
its line with another item, ...), the smallest enclosing item that can be rewritten whole is
written afresh; when even the document cannot, the caller falls back to a full emit.
"""

from __future__ import annotations

from bisect import bisect_left
from typing import Any, cast

from kseal.errors import KsealError
from kseal.sops.stores.yaml_emit import (
    _emit_child,
    _emit_seq,
    _has_keys,
    _key,
    _value_text,
    emit_metadata,
)
from kseal.sops.stores.yaml_parse import DocInfo, Entry, Layout, NodeLayout, Parsed, _eol, parse
from kseal.sops.tree import Branch, Comment, Value, to_plain


def fits(docs: list[Branch], infos: list[DocInfo]) -> bool:
    """True when the text can be edited in place (same documents, each parsed for it)."""
    return len(docs) == len(infos) and all(info.in_place for info in infos)


def emit_in_place(
    text: str, docs: list[Branch], infos: list[DocInfo], metadata: dict[str, Any] | None
) -> str | None:
    """``text`` edited to hold ``docs`` (and ``metadata``), or None when it cannot be."""
    edits: list[tuple[int, int, int, str]] = []
    meta_text = emit_metadata(metadata) if metadata is not None else ""
    for doc, info in zip(docs, infos, strict=True):
        if not _Planner(text, info.layout, edits).collection(doc):
            return None
        # A document left with no keys is written as yaml.v3 writes an empty mapping: ``{}``.
        body = meta_text or ("" if _has_keys(doc) else "{}\n")
        if info.meta_region is not None:
            start, stop = info.meta_region
            edits.append((start, stop, len(edits), body))
        elif body:
            at = info.end
            prefix = "" if at == 0 or text[at - 1] == "\n" else "\n"
            edits.append((at, at, len(edits), prefix + body))
    edits.sort()
    out: list[str] = []
    pos = 0
    for start, end, _seq, new in edits:
        out.append(text[pos:start])
        out.append(new)
        pos = end
    out.append(text[pos:])
    return _final_line_break(text, "".join(out))


def _final_line_break(text: str, out: str) -> str:
    """``out`` without the final line break an edit added when ``text`` had none (appended or
    removed metadata, a new block), unless a block scalar's value needs it."""
    if not text or text.endswith("\n") or not out.endswith("\n"):
        return out
    trimmed = out[:-1]
    try:
        same = _content(parse(trimmed)) == _content(parse(out))
    except KsealError:
        same = False
    return trimmed if same else out


def _content(parsed: Parsed) -> object:
    return [to_plain(doc) for doc in parsed.docs], parsed.metadata


def _same(a: object, b: object) -> bool:
    return type(a) is type(b) and a == b


def _is_collection(value: object) -> bool:
    return isinstance(value, Branch | list)


class _Planner:
    """Collects the edits that turn the parsed text into the new tree, collection by collection
    (matched by identity: decryption, ``set`` and ``unset`` change the parsed trees in place)."""

    def __init__(self, text: str, layout: Layout, edits: list[tuple[int, int, int, str]]) -> None:
        self.text = text
        self.layout = layout
        self.edits = edits
        self.indent = layout.indent or 2
        self.block_step = layout.indent or 4  # block scalars: yaml.v3's default when unknown
        self.seq_indent = layout.seq_indent if layout.seq_indent >= 0 else self.indent
        self.newline = "\r\n" if "\r\n" in text[: text.find("\n") + 1] else "\n"

    def _edit(self, start: int, end: int, new: str) -> None:
        self.edits.append((start, end, len(self.edits), new))

    def collection(self, node: Value) -> bool:
        layout = self.layout.nodes.get(id(node))
        if layout is None or layout.node is not node:
            return False
        if isinstance(node, Branch):
            items: list[object] = [k for k, _ in node]
        else:
            items = list(cast("list[Value]", node))
        if not layout.flow and all(isinstance(item, Comment) for item in items):
            return False  # an emptied block collection must become {} or []
        mark = len(self.edits)
        if isinstance(node, Branch):
            ok = self._map(node, layout)
        else:
            ok = self._seq(cast("list[Value]", node), layout)
        if not ok:
            del self.edits[mark:]
        return ok

    # -- aligning the new items with the parsed ones -------------------------------------------
    def _map(self, node: Branch, layout: NodeLayout) -> bool:
        old = layout.entries
        old_keys = {e.key for e in old if e.key is not None}
        new_keys = {k for k, _ in node if isinstance(k, str)}
        i = j = 0
        while i < len(node) or j < len(old):
            if j < len(old) and old[j].key is not None and old[j].key not in new_keys:
                if not self._remove(old[j], layout):
                    return False
                j += 1
                continue
            if i < len(node):
                key, value = node[i]
                if isinstance(key, str) and key not in old_keys:
                    if not self._insert(old, j, layout, key, value):
                        return False
                    i += 1
                    continue
                if j < len(old) and (
                    (isinstance(key, Comment) and old[j].comment) or key == old[j].key
                ):
                    if not self._pair(key if isinstance(key, Comment) else value, old[j], layout):
                        return False
                    i += 1
                    j += 1
                    continue
            return False  # reordered keys, added or removed comments
        return True

    def _seq(self, node: list[Value], layout: NodeLayout) -> bool:
        old = layout.entries
        new_items = sum(1 for v in node if not isinstance(v, Comment))
        old_items = sum(1 for e in old if not e.comment)
        i = j = 0
        removals = max(old_items - new_items, 0)
        while i < len(node) or j < len(old):
            if j == len(old):  # appended items
                if isinstance(node[i], Comment) or not self._insert(old, j, layout, None, node[i]):
                    return False
                i += 1
                continue
            entry = old[j]
            if i == len(node) or (
                removals > 0 and not entry.comment and not self._matches(node[i], entry)
            ):
                if entry.comment or removals <= 0 or not self._remove(entry, layout):
                    return False
                removals -= 1
                j += 1
                continue
            if isinstance(node[i], Comment) != entry.comment:
                return False
            if not self._pair(node[i], entry, layout):
                return False
            i += 1
            j += 1
        return removals == 0

    def _matches(self, value: Value, entry: Entry) -> bool:
        if entry.child is not None:
            return value is entry.child
        return entry.span is not None and _same(value, entry.span.value)

    # -- edits ------------------------------------------------------------------------------------
    def _pair(self, value: Value, entry: Entry, layout: NodeLayout) -> bool:
        """``value`` takes the place of the parsed ``entry``."""
        if entry.span is not None and not _is_collection(value):
            if not _same(value, entry.span.value):
                new = _value_text(entry.span, cast("Any", value), self.text, self.block_step)
                self._edit(entry.span.start, entry.span.end, new)
            return True
        if entry.child is not None and value is entry.child and self.collection(value):
            return True
        return self._replace(entry, layout, value)

    def _lines(self, entry: Entry, layout: NodeLayout) -> tuple[int, int] | None:
        """The whole lines ``entry`` occupies, when nothing else shares them."""
        text = self.text
        start = self._start(entry, layout)
        if start is None or layout.flow or entry.end <= entry.start:
            return None
        first = text.rfind("\n", 0, start) + 1
        eol = _eol(text, entry.end - 1)
        if text[entry.end : eol].strip():
            return None  # a comment or another item follows on the last line
        stop = min(eol + 1, len(text))
        inside = bisect_left(self.layout.comments, stop) - bisect_left(self.layout.comments, first)
        if inside != self._comments_of(entry):
            return None  # a comment in these lines belongs elsewhere
        return first, stop

    def _comments_of(self, entry: Entry) -> int:
        if entry.comment:
            return 1
        child = self.layout.nodes.get(id(entry.child)) if entry.child is not None else None
        if child is None:
            return 0
        return sum(self._comments_of(e) for e in child.entries)

    def _remove(self, entry: Entry, layout: NodeLayout) -> bool:
        lines = self._lines(entry, layout)
        if lines is None:
            return False
        self._edit(lines[0], lines[1], "")
        return True

    def _replace(self, entry: Entry, layout: NodeLayout, value: Value) -> bool:
        lines = self._lines(entry, layout)
        if lines is None:
            return False
        key = entry.key
        col = self._col(entry, layout)
        if col is None or (key is None and isinstance(layout.node, Branch)):
            return False
        fresh = self._fresh(layout, col, key, value)
        if not lines[1] or self.text[lines[1] - 1] != "\n":
            fresh = fresh.removesuffix(self.newline)
        self._edit(lines[0], lines[1], fresh)
        return True

    def _insert(
        self, old: list[Entry], j: int, layout: NodeLayout, key: str | None, value: Value
    ) -> bool:
        """Write a new item before the parsed item ``j`` (after the last one when ``j`` is past
        the end), indented like its siblings."""
        if layout.flow or not old:
            return False
        text = self.text
        if j < len(old):
            start = self._start(old[j], layout)
            if start is None:
                return False
            at = text.rfind("\n", 0, start) + 1
            prefix = ""
        else:
            last = old[-1]
            at = min(_eol(text, last.end - 1) + 1, len(text))
            prefix = "" if text[at - 1] == "\n" else self.newline
        col = self._col(old[min(j, len(old) - 1)], layout)
        if col is None:
            return False
        fresh = self._fresh(layout, col, key, value)
        if prefix:  # the file ends without a line break, and still does
            fresh = prefix + fresh.removesuffix(self.newline)
        self._edit(at, at, fresh)
        return True

    def _col(self, entry: Entry, layout: NodeLayout) -> int | None:
        """The column new siblings of ``entry`` start at (keys, or dashes)."""
        if entry.comment or isinstance(layout.node, Branch):
            return layout.col
        start = self._start(entry, layout)
        return None if start is None else start - (self.text.rfind("\n", 0, start) + 1)

    def _start(self, entry: Entry, layout: NodeLayout) -> int | None:
        """Where ``entry`` begins (its key, ``#`` or dash), when only indentation precedes it."""
        text = self.text
        start = entry.start
        if not entry.comment and not isinstance(layout.node, Branch):
            start -= 1  # back to the dash, which may be alone on an earlier line
            while start >= 0 and text[start] in " \t\r\n":
                start -= 1
            if start < 0 or text[start] != "-":
                return None
        first = text.rfind("\n", 0, start) + 1
        return None if text[first:start].strip() else start

    def _fresh(self, layout: NodeLayout, col: int, key: str | None, value: Value) -> str:
        lines: list[str] = []
        # the emitter indents a mapping's nested content inside a "- " item from the dash, which
        # needs an indentation of at least 3 to stay below the item's keys
        in_list = not isinstance(layout.node, Branch)
        indent = self.indent if self.indent >= 3 or not _map_in_list(value, in_list) else 4
        if isinstance(layout.node, Branch):
            head = f"{' ' * col}{_key(cast('str', key))}:"
            if isinstance(value, list) and not isinstance(value, Branch) and value:
                lines.append(head)
                _emit_seq(value, col + self.seq_indent, indent, lines, False)
            else:
                _emit_child(head, value, col + indent, indent, lines, False)
        else:
            _emit_seq([value], col, indent, lines, False)
        return self.newline.join(lines) + self.newline


def _map_in_list(value: Value, in_list: bool) -> bool:
    """Whether a mapping with a nested collection sits in a list somewhere in ``value``."""
    if isinstance(value, Branch):
        nested = any(_is_collection(v) for _k, v in value)
        return (in_list and nested) or any(_map_in_list(v, False) for _k, v in value)
    if isinstance(value, list):
        return any(_map_in_list(v, True) for v in cast("list[Value]", value))
    return False
