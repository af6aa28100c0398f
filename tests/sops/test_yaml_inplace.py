"""In-place YAML edits that add and remove items: exact output text (the sops round trips are in
tests/interop/test_yaml_layout.py)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from kseal.sops.stores.yaml_store import YamlStore
from kseal.sops.tree import Branch, Value, to_plain
from kseal.sops.workflows import set_path, unset_path
from kseal.yamlio import safe_load_all


def _edit(text: str, change: Callable[[Branch], None]) -> str:
    store = YamlStore()
    loaded = store.load(text.encode())
    change(loaded.docs[0])
    out = store.emit(loaded.docs, None, source=loaded.source).decode()
    assert safe_load_all(out)[0] == to_plain(loaded.docs[0])  # whatever the layout
    return out


def _set(path: list[str | int], value: Value) -> Callable[[Branch], None]:
    def change(doc: Branch) -> None:
        set_path(doc, path, value)

    return change


def _unset(path: list[str | int]) -> Callable[[Branch], None]:
    def change(doc: Branch) -> None:
        unset_path(doc, path)

    return change


CASES = [
    # (name, source, change, expected)
    ("append-root", "a: 1  # one\nb: 2\n", _set(["c"], "x"), "a: 1  # one\nb: 2\nc: x\n"),
    ("no-final-newline", "a: 1\nb: 2", _set(["c"], 3), "a: 1\nb: 2\nc: 3"),
    ("nested", "a:\n  b: 1\nz: 0\n", _set(["a", "c"], True), "a:\n  b: 1\n  c: true\nz: 0\n"),
    (
        "new-nested-map",
        "a:\n   b: 1\n",
        _set(["a", "n", "m"], "v"),
        "a:\n   b: 1\n   n:\n      m: v\n",
    ),
    (
        "after-foot-comment",
        "a:\n  b: 1\n  # foot\nz: 0\n",
        _set(["a", "c"], 2),
        "a:\n  b: 1\n  # foot\n  c: 2\nz: 0\n",
    ),
    (
        "after-block-scalar",
        "a:\n  s: |\n    one\n    two\nz: 0\n",
        _set(["a", "t"], 1),
        "a:\n  s: |\n    one\n    two\n  t: 1\nz: 0\n",
    ),
    (
        "list-append",
        "l:\n  - a\n  - b\nz: 0\n",
        _set(["l", 9], "c"),
        "l:\n  - a\n  - b\n  - c\nz: 0\n",
    ),
    ("unindented-list", "l:\n- a\nz: 0\n", _set(["l", 9], "c"), "l:\n- a\n- c\nz: 0\n"),
    ("new-list-unindented", "l:\n- a\n", _set(["m"], ["x"]), "l:\n- a\nm:\n- x\n"),
    (
        "nested-list",
        "l:\n  - - x\n    - y\n",
        _set(["l", 0, 9], "z"),
        "l:\n  - - x\n    - y\n    - z\n",
    ),
    (
        "map-in-list",
        "l:\n  - a: 1\n    b: 2\n",
        _set(["l", 0, "c"], 3),
        "l:\n  - a: 1\n    b: 2\n    c: 3\n",
    ),
    ("crlf", "a:\r\n  b: 1\r\n", _set(["a", "c"], 2), "a:\r\n  b: 1\r\n  c: 2\r\n"),
    ("unset-key", "a: 1\n# keep\nb: 2\nc: 3\n", _unset(["b"]), "a: 1\n# keep\nc: 3\n"),
    ("unset-subtree", "a:\n  b:\n    c: 1\n  d: 2\n", _unset(["a", "b"]), "a:\n  d: 2\n"),
    ("unset-list-item", "l:\n  - a\n  - b\n  - c\n", _unset(["l", 1]), "l:\n  - a\n  - c\n"),
    ("unset-last-item", "a: 1\nb: 2", _unset(["b"]), "a: 1\n"),
    # what cannot be edited line by line is written afresh, as small as possible
    ("emptied-map", "a:\n  b: 1\nz: 0\n", _unset(["a", "b"]), "a: {}\nz: 0\n"),
    ("emptied-list", "a:\n  - 1\nz: 0\n", _unset(["a", 0]), "a: []\nz: 0\n"),
    ("into-flow", "a: {x: 1}\nz: 0\n", _set(["a", "k"], 2), "a:\n  x: 1\n  k: 2\nz: 0\n"),
    (
        "first-key-of-list-item",
        "l:\n  - a: 1\n    b: 2\nz: 0\n",
        _unset(["l", 0, "a"]),
        "l:\n  - b: 2\nz: 0\n",
    ),
    ("scalar-to-map", "a: 1\nz: 0\n", _set(["a"], Branch([("x", 1)])), "a:\n  x: 1\nz: 0\n"),
]


@pytest.mark.parametrize(
    ("source", "change", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_in_place_inserts_and_removals(
    source: str, change: Callable[[Branch], None], expected: str
) -> None:
    assert _edit(source, change) == expected


def test_other_documents_untouched() -> None:
    source = "a: 1\n---\n# two\nb:   2\n"
    assert _edit(source, _set(["c"], 3)) == "a: 1\nc: 3\n---\n# two\nb:   2\n"
