"""In-place YAML edits that add and remove items: exact output text (the sops round trips are in
tests/interop/test_yaml_layout.py)."""

from __future__ import annotations

import random
from collections.abc import Callable

import pytest

from kseal.errors import KsealError
from kseal.sops.stores.yaml_store import YamlStore
from kseal.sops.tree import Branch, Comment, Value, to_plain
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
        _set(["a", "k", "m"], "v"),
        "a:\n   b: 1\n   k:\n      m: v\n",
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
    # no final line break in, none out (as the input had)
    ("unset-last-item", "a: 1\nb: 2", _unset(["b"]), "a: 1"),
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
    (
        "unset-bare-dash-item",
        "l:\n  - a\n  -\n    k: v\n  - b\n",
        _unset(["l", 1]),
        "l:\n  - a\n  - b\n",
    ),
    (
        "append-map-item",
        "l:\n  - a: 1\nz: 0\n",
        _set(["l", 5], Branch([("m", Branch([("k", 1)]))])),
        "l:\n  - a: 1\n  - m:\n      k: 1\nz: 0\n",
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


def _random_yaml(rnd: random.Random) -> str:
    lines: list[str] = []

    def block(col: int, depth: int, kind: str) -> None:
        for i in range(rnd.randint(1, 3)):
            if kind == "map":
                key = f"k{len(lines)}"
                if depth < 3 and rnd.random() < 0.5:
                    lines.append(" " * col + key + ":")
                    block(col + 2, depth + 1, rnd.choice(["map", "seq"]))
                else:
                    lines.append(" " * col + f"{key}: v{i}")
            elif depth < 3 and rnd.random() < 0.3:
                lines.append(" " * col + "-")
                block(col + 2, depth + 1, "map")
            else:
                lines.append(" " * col + f"- s{i}")
            for _ in range(rnd.randint(0, 2) if rnd.random() < 0.5 else 0):
                lines.append(" " * rnd.choice(range(0, col + 5, 2)) + f"# c{len(lines)}")

    block(0, 0, "map")
    return "\n".join(lines) + "\n"


def _paths(node: Value, here: list[str | int]) -> list[list[str | int]]:
    out = [here] if here else []
    if isinstance(node, Branch):
        for k, v in node:
            if isinstance(k, str):
                out += _paths(v, [*here, k])
    elif isinstance(node, list):
        items = [v for v in node if not isinstance(v, Comment)]
        for n, v in enumerate(items):
            out += _paths(v, [*here, n])
    return out


def _has_empty(value: object) -> bool:
    if isinstance(value, dict):
        return not value or any(_has_empty(v) for v in value.values())
    if isinstance(value, list):
        return not value or any(_has_empty(v) for v in value)
    return False


NEW_VALUES: list[Value] = ["v", 5, Branch([("x", [1, 2])]), [Branch([("a", Branch([("b", 1)]))])]]


@pytest.mark.parametrize("seed", range(4))
def test_random_edits_keep_the_content(seed: int) -> None:
    """Random files with comments at random indentation, random set/unset: whatever is edited
    in place reads back as the tree."""
    rnd = random.Random(seed)
    store = YamlStore()
    for _ in range(60):
        loaded = store.load(_random_yaml(rnd).encode())
        doc = loaded.docs[0]
        path = rnd.choice(_paths(doc, []))
        try:
            if rnd.random() < 0.4:
                unset_path(doc, path)
            else:
                tail: list[str | int] = ["new"] if isinstance(path[-1], str) else [99]
                set_path(
                    doc, path[:-1] + tail if rnd.random() < 0.5 else path, rnd.choice(NEW_VALUES)
                )
        except KsealError:
            continue
        if _has_empty(to_plain(doc)):
            continue  # a collection left with only comments cannot be written as YAML
        out = store.emit(loaded.docs, None, source=loaded.source).decode()
        assert safe_load_all(out)[0] == to_plain(doc), out
