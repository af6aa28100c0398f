"""The in-memory document tree shared by every store, and the one walk order over it.

A document is a :class:`Branch`: an ordered list of ``(key, value)`` items. A key is a ``str`` or a
:class:`Comment` (then the value is ``None``); comments sit where they appeared in the source. A
sequence is a plain ``list`` whose elements may also be :class:`Comment`. Leaf values are ``str``,
``bytes`` (binary data that is not UTF-8), ``int``, ``float``, ``bool``, :class:`Timestamp`,
:class:`Comment` or ``None``.

``leaves()`` defines the walk order (depth first, document order) that sops uses for encryption and
for the MAC. Stores that edit text in place rely on the same order, so it lives here and only here.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import NamedTuple, TypeAlias, Union, cast, overload


@dataclass(frozen=True, slots=True)
class Comment:
    """A comment line; ``text`` is everything after the leading ``#`` (YAML/dotenv) or ``;``/``#`` (INI)."""

    text: str


@dataclass(frozen=True, slots=True)
class Timestamp:
    """A YAML timestamp, kept as its canonical Go RFC3339Nano text (e.g. ``2024-01-01T00:00:00Z``)."""

    text: str


class FloatText(float):
    """A float that remembers its spelling in the source (``1e10``, ``1.50``, ``.5``).

    It equals the plain float and the MAC and stash see it as one (sops hashes Go's form of the
    number), but it is encrypted in its own spelling, which Go's ``ParseFloat`` reads back as the
    same number, and written back that way, so a kseal round trip keeps the file's text.
    """

    __slots__ = ("text",)
    text: str

    def __new__(cls, text: str) -> FloatText:
        obj = super().__new__(cls, text)
        obj.text = text
        return obj

    def __getnewargs__(self) -> tuple[str]:  # type: ignore[override]
        return (self.text,)


Scalar: TypeAlias = str | bytes | int | float | bool | Timestamp | Comment | None
Value: TypeAlias = Union["Branch", "list[Value]", Scalar]
Key: TypeAlias = str | Comment


class Branch(list[tuple[Key, Value]]):
    """An ordered mapping that keeps comments as items.

    YAML and JSON keys are unique. dotenv and INI may repeat a key (or section), as sops allows;
    the walk and in-place edits are positional, and ``get``/``set`` see the first occurrence.
    """

    def get(self, key: str, default: Value = None) -> Value:
        for k, v in self:
            if isinstance(k, str) and k == key:
                return v
        return default

    def keys_(self) -> list[str]:
        return [k for k, _ in self if isinstance(k, str)]

    def set(self, key: str, value: Value) -> None:
        for i, (k, _) in enumerate(self):
            if isinstance(k, str) and k == key:
                self[i] = (k, value)
                return
        self.append((key, value))

    def pop_key(self, key: str) -> Value:
        for i, (k, v) in enumerate(self):
            if isinstance(k, str) and k == key:
                del self[i]
                return v
        raise KeyError(key)


# The comments above a leaf as a linked chain (newest first), shared between leaves, so the walk
# stays linear however many comments there are; ``Leaf.comments`` builds the tuple on demand.
_Chain: TypeAlias = "tuple[str, _Chain] | None"


class Leaf(NamedTuple):
    """One leaf met by the walk.

    ``path`` holds the mapping keys from the document root (list indices are not part of it, as in
    sops). ``comments`` is the stack of comments directly preceding this leaf or one of its
    ancestors, flattened; for a comment leaf its own text is the last element (as in sops, where
    the comment regex rules skip that last one). The selection rules for comment regexes read it.
    ``replace`` swaps the leaf's value in its container.
    """

    path: tuple[str, ...]
    value: Scalar
    chain: _Chain
    container: Branch | list[Value]
    at: int  # the leaf's index in its container
    kind: int  # _VALUE, _COMMENT_KEY, _ITEM or _COMMENT_ITEM

    @property
    def in_seq(self) -> bool:
        """A sequence element (where sops may write a comment as an ENC value)."""
        return self.kind == _ITEM

    @property
    def comments(self) -> Comments:
        return Comments(self.chain)

    def replace(self, new: Scalar) -> None:
        if self.kind == _VALUE:
            branch = cast("Branch", self.container)
            branch[self.at] = (branch[self.at][0], new)
        elif self.kind == _COMMENT_KEY:
            if not isinstance(new, Comment):
                raise TypeError("a comment item can only be replaced by a comment")
            cast("Branch", self.container)[self.at] = (new, None)
        else:
            cast("list[Value]", self.container)[self.at] = new


# Leaf.__new__ without NamedTuple's Python-level argument handling (one leaf per value walked)
_new = tuple.__new__

# where a leaf sits: a mapping value, a comment item of a mapping, a list element, a comment in a list
_VALUE, _COMMENT_KEY, _ITEM, _COMMENT_ITEM = 0, 1, 2, 3


class Comments(Sequence[str]):
    """A leaf's comment stack, oldest first; built from the shared chain only when read."""

    __slots__ = ("_chain", "_items")

    def __init__(self, chain: _Chain) -> None:
        self._chain = chain
        self._items: tuple[str, ...] | None = None

    def _tuple(self) -> tuple[str, ...]:
        if self._items is None:
            out: list[str] = []
            chain = self._chain
            while chain is not None:
                out.append(chain[0])
                chain = chain[1]
            self._items = tuple(reversed(out))
        return self._items

    @overload
    def __getitem__(self, index: int) -> str: ...
    @overload
    def __getitem__(self, index: slice) -> tuple[str, ...]: ...
    def __getitem__(self, index: int | slice) -> str | tuple[str, ...]:
        return self._tuple()[index]

    def __len__(self) -> int:
        return len(self._tuple())

    def __iter__(self) -> Iterator[str]:
        return iter(self._tuple())


def leaves(doc: Branch) -> Iterator[Leaf]:
    """Yield every leaf of ``doc`` in sops's order (comments are leaves too; nested containers are not)."""
    yield from _walk_branch(doc, (), None)


def _walk_branch(branch: Branch, path: tuple[str, ...], stack: _Chain) -> Iterator[Leaf]:
    chain = stack
    for index, (key, value) in enumerate(branch):
        if isinstance(key, Comment):
            chain = (key.text, chain)
            yield _new(Leaf, (path, key, chain, branch, index, _COMMENT_KEY))
            continue
        here, chain = chain, stack
        child = (*path, key)
        if isinstance(value, Branch):
            yield from _walk_branch(value, child, here)
        elif isinstance(value, list):
            yield from _walk_list(cast("list[Value]", value), child, here)
        else:
            yield _new(Leaf, (child, value, here, branch, index, _VALUE))


def _walk_list(seq: list[Value], path: tuple[str, ...], stack: _Chain) -> Iterator[Leaf]:
    chain = stack
    for index, value in enumerate(seq):
        if isinstance(value, Comment):
            chain = (value.text, chain)
            yield _new(Leaf, (path, value, chain, seq, index, _COMMENT_ITEM))
            continue
        here, chain = chain, stack
        if isinstance(value, Branch):
            yield from _walk_branch(value, path, here)
        elif isinstance(value, list):
            yield from _walk_list(cast("list[Value]", value), path, here)
        else:
            yield _new(Leaf, (path, value, here, seq, index, _ITEM))


def to_plain(value: Value) -> object:
    """The tree as plain Python data (dicts, lists, scalars; comments dropped), for comparisons."""
    if isinstance(value, Branch):
        return {k: to_plain(v) for k, v in value if not isinstance(k, Comment)}
    if isinstance(value, list):
        return [to_plain(v) for v in cast("list[Value]", value) if not isinstance(v, Comment)]
    if isinstance(value, Timestamp):
        return value.text
    return value


def shape(value: Value) -> tuple[object, ...]:
    """An outline of ``value``'s structure, without its scalar values or comments: mapping keys
    and container kinds. Two trees with equal shapes differ in leaf values and comments only."""
    out: list[object] = []
    stack: list[object] = [value]
    close_map, close_seq = object(), object()
    while stack:
        item = stack.pop()
        if item is close_map:
            out.append("}")
        elif item is close_seq:
            out.append("]")
        elif isinstance(item, Branch):
            out.append("{")
            stack.append(close_map)
            for k, v in reversed(item):
                if isinstance(k, str):
                    stack.append(v)
                    stack.append(("key", k))
        elif isinstance(item, list):
            out.append("[")
            stack.append(close_seq)
            stack.extend(v for v in reversed(item) if not isinstance(v, Comment))
        elif isinstance(item, tuple):
            out.append(item)  # ("key", name): never equal to a bracket or a leaf marker
        else:
            out.append(".")
    return tuple(out)


def from_plain(value: object) -> Value:
    """Build a tree from plain Python data (dicts become branches, in insertion order)."""
    if isinstance(value, dict):
        return Branch((str(k), from_plain(v)) for k, v in value.items())
    if isinstance(value, list | tuple):
        return [from_plain(v) for v in value]
    if value is None or isinstance(value, str | bytes | int | float | bool | Timestamp | Comment):
        return value
    raise TypeError(f"unsupported value type {type(value).__name__}")
