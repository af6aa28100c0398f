"""sops's flat spelling of metadata for dotenv and INI: ``age__list_0__map_enc`` and friends."""

from __future__ import annotations

import re
from itertools import pairwise
from typing import Any

from kseal.errors import MetadataError

_PART = re.compile(r"__(list|map)_")


def flatten(metadata: dict[str, Any]) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []

    def walk(value: Any, path: str) -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                walk(v, f"{path}__map_{k}")
        elif isinstance(value, list):
            for i, v in enumerate(value):
                walk(v, f"{path}__list_{i}")
        elif value is not None:
            out.append((path, _text(value)))

    for key, value in metadata.items():
        if isinstance(value, dict | list):
            walk(value, key)
        elif value is not None:
            out.append((key, _text(value)))
    return out


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def unflatten(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    root: dict[str, Any] = {}
    for key, value in pairs:
        parts = _PART.split(key)
        steps: list[str | int] = [parts[0]]
        for kind, name in zip(parts[1::2], parts[2::2], strict=True):
            if kind == "list":
                if not name.isdigit():
                    raise MetadataError(f"sops metadata: bad list index in {key!r}")
                steps.append(int(name))
            else:
                steps.append(name)
        _put(root, steps, value, key)
    return root


def _put(root: dict[str, Any], steps: list[str | int], value: str, key: str) -> None:
    node: Any = root
    for step, nxt in pairwise(steps):
        child_type: type = list if isinstance(nxt, int) else dict
        if isinstance(node, dict):
            assert isinstance(step, str)  # noqa: S101 - guaranteed by unflatten's parse
            node = node.setdefault(step, child_type())
        else:
            idx = int(step)
            while len(node) <= idx:
                node.append(None)
            if node[idx] is None:
                node[idx] = child_type()
            node = node[idx]
        if not isinstance(node, child_type):
            raise MetadataError(f"sops metadata: conflicting keys around {key!r}")
    last = steps[-1]
    if isinstance(node, dict) and isinstance(last, str):
        node[last] = value
    elif isinstance(node, list) and isinstance(last, int):
        while len(node) <= last:
            node.append(None)
        node[last] = value
    else:
        raise MetadataError(f"sops metadata: conflicting keys around {key!r}")
