"""Reading and writing Kubernetes manifests the way kubeseal does.

JSON output is Go's ``json.MarshalIndent`` with two spaces (HTML characters escaped) and a
trailing newline; YAML output is sigs.k8s.io/yaml's: keys sorted, two-space indentation, list
items at their key's column, each document prefixed with ``---``.
"""

from __future__ import annotations

import copy
from typing import Any

from kseal.errors import InputError
from kseal.sops.stores.json_store import encode as go_json
from kseal.sops.stores.json_store import to_tree
from kseal.sops.stores.yaml_scalar import format_scalar
from kseal.yamlio import safe_load_all


def load(data: bytes) -> list[Any]:
    try:
        return _load(data)
    except RecursionError:
        raise InputError("the input is nested too deeply") from None


def _load(data: bytes) -> list[Any]:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError("no secrets found. Ensure the input is valid and UTF-8 encoded") from None
    stripped = text.lstrip()
    docs = _json_stream(stripped) if stripped.startswith(("{", "[")) else None
    if docs is None:
        docs = [doc for doc in safe_load_all(text) if doc is not None]
    for doc in docs:
        _check_structure(doc)
    return docs


# Kubernetes objects are a few levels deep; far deeper input is an attack or a mistake, and would
# exhaust Python's recursion limit further on (copies, output).
MAX_DEPTH = 100


def _check_structure(doc: Any) -> None:
    """Refuse a YAML alias inside its own anchor (``&a {x: *a}``, an endless object) and nesting
    deeper than ``MAX_DEPTH``. Iterative; a subtree shared through aliases is walked once."""
    heights: dict[int, int] = {}  # finished nodes: how deep they go
    on_path: set[int] = set()
    stack: list[list[Any]] = []  # [node, children iterator, height of its deepest child]

    def child_height(height: int) -> None:
        if stack:
            stack[-1][2] = max(stack[-1][2], height)
        if len(stack) + height > MAX_DEPTH:
            raise InputError("the input is nested too deeply")

    def enter(node: Any) -> None:
        if not isinstance(node, dict | list):
            return
        if id(node) in heights:
            child_height(heights[id(node)])
        elif id(node) in on_path:
            raise InputError("the input has a YAML alias inside its own anchor (a cycle)")
        else:
            on_path.add(id(node))
            stack.append([node, iter(node.values() if isinstance(node, dict) else node), 0])
            if len(stack) > MAX_DEPTH:
                raise InputError("the input is nested too deeply")

    enter(doc)
    while stack:
        node, children, deepest = stack[-1]
        child = next(children, _DONE)
        if child is not _DONE:
            enter(child)
            continue
        stack.pop()
        on_path.discard(id(node))
        heights[id(node)] = deepest + 1
        child_height(deepest + 1)


_DONE = object()


def _json_stream(text: str) -> list[Any] | None:
    """Concatenated JSON values (``{...}{...}``), as kubeseal accepts; None if not JSON."""
    import json

    decoder = json.JSONDecoder()
    docs, pos = [], 0
    while pos < len(text):
        try:
            doc, pos = decoder.raw_decode(text, pos)
        except json.JSONDecodeError:
            return None
        docs.append(doc)
        while pos < len(text) and text[pos].isspace():
            pos += 1
    return docs


# The Go ``map[string]...`` fields of Secrets and SealedSecrets: encoding/json writes their keys
# sorted, whatever order the input had (struct fields keep their declaration order).
_GO_MAPS = (
    ("metadata", "labels"),
    ("metadata", "annotations"),
    ("data",),
    ("stringData",),
    ("spec", "encryptedData"),
    ("spec", "template", "metadata", "labels"),
    ("spec", "template", "metadata", "annotations"),
    ("spec", "template", "data"),
)


def _sorted_maps(obj: Any) -> Any:
    if not isinstance(obj, dict):
        return obj
    out = copy.deepcopy(obj)
    for path in _GO_MAPS:
        node: Any = out
        for key in path[:-1]:
            node = node.get(key) if isinstance(node, dict) else None
        if isinstance(node, dict) and isinstance(node.get(path[-1]), dict):
            node[path[-1]] = dict(sorted(node[path[-1]].items(), key=lambda kv: str(kv[0])))
    return out


def dump_json(obj: Any) -> str:
    """Go's ``json.MarshalIndent`` of a Kubernetes object: map fields sorted, struct fields not."""
    return go_json(to_tree(_sorted_maps(obj)), "  ") + "\n"


def dump_yaml(obj: Any) -> str:
    lines: list[str] = []
    _yaml(obj, 0, lines)
    return "---\n" + "\n".join(lines) + "\n"


def _yaml(obj: Any, col: int, lines: list[str]) -> None:
    pad = " " * col
    for key in sorted(obj):
        value = obj[key]
        head = f"{pad}{format_scalar(str(key))}:"
        if isinstance(value, dict) and value:
            lines.append(head)
            _yaml(value, col + 2, lines)
        elif isinstance(value, list) and value:
            lines.append(head)
            for item in value:
                if isinstance(item, dict) and item:
                    sub: list[str] = []
                    _yaml(item, col + 2, sub)
                    lines.append(f"{pad}- {sub[0][col + 2 :]}")
                    lines.extend(sub[1:])
                else:
                    lines.append(f"{pad}- {_scalar(item)}")
        else:
            lines.append(f"{head} {_scalar(value)}")


def _scalar(value: Any) -> str:
    if isinstance(value, dict):
        return "{}"
    if isinstance(value, list):
        return "[]"
    return format_scalar(value)
