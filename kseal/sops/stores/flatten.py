"""Helpers shared by the flat stores (dotenv and INI).

sops cannot nest values in those formats, so it spells its metadata flat: a map step is
``__map_<key>`` and a list step ``__list_<index>`` (``age__list_0__map_enc``). Newlines in metadata
values are written as a literal ``\\n``. Non-string data values are written with Go's
``stores.ValToString`` (:func:`val_to_string`), and both formats trim with Go's ``unicode.IsSpace``.
"""

from __future__ import annotations

import re
from itertools import pairwise
from typing import Any

from kseal.errors import MetadataError
from kseal.sops import gofmt
from kseal.sops.tree import Comment, Timestamp, Value

# Go's unicode.IsSpace (Python's str.isspace also counts U+001C..U+001F, which Go does not).
GO_SPACE = "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"

_PART = re.compile(r"__(list|map)_")
_INDEX = re.compile(r"[0-9]+\Z")
_FRACTION = re.compile(r"\.[0-9]+")


def go_trim(text: str) -> str:
    """Go ``strings.TrimSpace``."""
    return text.strip(GO_SPACE)


def flatten(metadata: dict[str, Any]) -> list[tuple[str, str]]:
    """The flat ``(key, text)`` pairs of a metadata block; ``None`` and empty containers vanish."""
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
        walk(value, key)
    return out


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return f"{value:.0f}"  # sops: shamir_threshold through a JSON round trip
    return str(value)


def unflatten(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """Rebuild the nested metadata (keys in first-seen order; a repeated key's last value wins)."""
    root: dict[str, Any] = {}
    for key, value in pairs:
        parts = _PART.split(key)
        steps: list[str | int] = [parts[0]]
        for kind, name in zip(parts[1::2], parts[2::2], strict=True):
            if kind == "map":
                steps.append(name)
            elif _INDEX.match(name) and int(name) <= len(pairs):
                steps.append(int(name))
            else:
                raise MetadataError(f"sops metadata: bad list index in key {key!r}")
        _put(root, steps, value, key)
    return root


def _put(root: dict[str, Any], steps: list[str | int], value: str, key: str) -> None:
    node: Any = root
    for step, nxt in pairwise(steps):
        child_type: type = list if isinstance(nxt, int) else dict
        if isinstance(node, dict) and isinstance(step, str):
            node = node.setdefault(step, child_type())
        elif isinstance(node, list) and isinstance(step, int):
            node.extend([None] * (step + 1 - len(node)))
            if node[step] is None:
                node[step] = child_type()
            node = node[step]
        if not isinstance(node, child_type):
            raise MetadataError(f"sops metadata: conflicting keys around {key!r}")
    last = steps[-1]
    if isinstance(node, dict) and isinstance(last, str):
        node[last] = value
    elif isinstance(node, list) and isinstance(last, int):
        node.extend([None] * (last + 1 - len(node)))
        node[last] = value
    else:
        raise MetadataError(f"sops metadata: conflicting keys around {key!r}")


def val_to_string(value: Value) -> str:
    """Go ``stores.ValToString``: how sops 3.11 writes a non-string value into dotenv and INI."""
    if isinstance(value, str):
        return value
    if isinstance(value, bytes):
        return value.decode("utf-8", "surrogateescape")
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _float_upper_g(value)
    if isinstance(value, Timestamp):
        return _FRACTION.sub("", value.text, count=1)  # time.RFC3339 has no fraction
    if isinstance(value, Comment):
        return value.text
    if value is None:
        return "<nil>"  # Go's fmt "%v" of nil, as sops writes it
    raise TypeError(f"not a scalar: {type(value).__name__}")


def _float_upper_g(x: float) -> str:
    """``FormatFloat(x, 'G', -1, 64)``, with ``.0`` added when it would read as an integer."""
    text = gofmt.format_float_g(x)
    if x == x and abs(x) != float("inf"):
        text = text.replace("e", "E")
    if "." not in text and "E" not in text:
        text = gofmt.format_float_f(x) if x != x or abs(x) == float("inf") else f"{x:.1f}"
    return text
