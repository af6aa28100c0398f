"""JSON in and out the way sops's Go code does it (encoding/json escaping, json.Indent layout)."""

from __future__ import annotations

import json
from typing import Any, cast

from kseal.errors import EmitError, InputError
from kseal.sops import gofmt
from kseal.sops.tree import Branch, Comment, Timestamp, Value

_ESC = {
    '"': '\\"',
    "\\": "\\\\",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\b": "\\b",
    "\f": "\\f",
    "<": "\\u003c",
    ">": "\\u003e",
    "&": "\\u0026",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
}


def go_string(s: str) -> str:
    out = ['"']
    for c in s:
        esc = _ESC.get(c)
        if esc is not None:
            out.append(esc)
        elif ord(c) < 0x20:
            out.append(f"\\u{ord(c):04x}")
        elif 0xD800 <= ord(c) <= 0xDFFF:
            out.append("\\ufffd")
        else:
            out.append(c)
    out.append('"')
    return "".join(out)


def encode(value: Value, indent: str, level: int = 0) -> str:
    if isinstance(value, Branch):
        items = [(k, v) for k, v in value if isinstance(k, str)]
        if not items:
            return "{}"
        inner = indent * (level + 1)
        body = ",\n".join(
            f"{inner}{go_string(k)}: {encode(v, indent, level + 1)}" for k, v in items
        )
        return "{\n" + body + "\n" + indent * level + "}"
    if isinstance(value, list):
        elems = [v for v in cast("list[Value]", value) if not isinstance(v, Comment)]
        if not elems:
            return "[]"
        inner = indent * (level + 1)
        return (
            "[\n"
            + ",\n".join(inner + encode(v, indent, level + 1) for v in elems)
            + "\n"
            + indent * level
            + "]"
        )
    return scalar(value)


def scalar(value: Value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        try:
            return gofmt.format_float_json(value)
        except ValueError:
            raise EmitError("JSON cannot hold NaN or infinite numbers") from None
    if isinstance(value, Timestamp):
        return go_string(value.text)
    if isinstance(value, bytes):
        return go_string(value.decode("utf-8", "replace"))
    if isinstance(value, str):
        return go_string(value)
    raise EmitError(f"cannot write a {type(value).__name__} as JSON")


def indent_text(indent: int | None) -> str:
    return "\t" if indent is None else " " * indent


def _pairs(pairs: list[tuple[str, Any]]) -> Branch:
    seen: set[str] = set()
    for key, _ in pairs:
        if key in seen:
            raise InputError(f"duplicate key {key!r} in JSON object")
        seen.add(key)
    return Branch(pairs)


def _int(text: str) -> int | float:
    value = int(text)
    return value if gofmt.INT64_MIN <= value <= gofmt.INT64_MAX else float(text)


def _reject(name: str) -> Any:
    raise InputError(f"invalid JSON number {name}")


def loads(text: str) -> Any:
    try:
        return json.loads(text, object_pairs_hook=_pairs, parse_int=_int, parse_constant=_reject)
    except json.JSONDecodeError as exc:
        raise InputError(
            f"invalid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"
        ) from None


def to_tree(value: Any) -> Value:
    """Metadata dicts (plain data) as tree values, for emitting."""
    if isinstance(value, dict):
        return Branch((k, to_tree(v)) for k, v in value.items())
    if isinstance(value, list):
        return [to_tree(v) for v in value]
    return cast(Value, value)


def to_plain(value: Value) -> Any:
    if isinstance(value, Branch):
        return {k: to_plain(v) for k, v in value if isinstance(k, str)}
    if isinstance(value, list):
        return [to_plain(v) for v in cast("list[Value]", value)]
    return value
