"""The JSON store, reading and writing JSON the way sops's Go code does.

Reading: the top level must be an object. Integers that fit int64 become ``int``, every other
number ``float`` (sops 3.13.2 semantics; 3.11 made every number a float). A duplicate key in an
object is an error (sops keeps both, which no JSON reader downstream agrees with). Invalid UTF-8
and lone ``\\uD800`` escapes become U+FFFD, as in Go. A UTF-8 byte order mark is skipped.

Writing: Go ``json.Marshal`` for keys and scalars (``<``, ``>``, ``&``, U+2028/2029 escaped, floats
via :func:`gofmt.format_float_json`), laid out by ``json.Indent`` with a tab (or N spaces), one
trailing newline, and the ``sops`` metadata as the last key. Comments have no place in JSON.
"""

from __future__ import annotations

import json
import re
from json.encoder import encode_basestring
from typing import Any, cast

from kseal.errors import EmitError, InputError, text_position
from kseal.sops import gofmt
from kseal.sops.stores.base import Loaded
from kseal.sops.tree import Branch, Comment, Timestamp, Value

# Go's json.Marshal escapes these where Python's encoder does not (HTML safety, JS line breaks).
_GO_ESCAPES = (
    ("<", "\\u003c"),
    (">", "\\u003e"),
    ("&", "\\u0026"),
    ("\u2028", "\\u2028"),
    ("\u2029", "\\u2029"),
)
_SURROGATE = re.compile("[\ud800-\udfff]")


def _go_escapes(text: str) -> str:
    """Go's extra escapes, applied to whole output (these characters only occur inside strings).
    Surrogates stand for undecodable bytes, which Go writes as ``\\ufffd``."""
    for char, escaped in _GO_ESCAPES:
        if char in text:
            text = text.replace(char, escaped)
    if _SURROGATE.search(text):
        text = _SURROGATE.sub("\\\\ufffd", text)
    return text


def _scalar(value: Value) -> str:
    if isinstance(value, str):
        return encode_basestring(value)
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
    if isinstance(value, bytes):
        return encode_basestring(value.decode("utf-8", "surrogateescape"))
    if isinstance(value, Timestamp):
        return encode_basestring(value.text)
    raise EmitError(f"cannot write a {type(value).__name__} as JSON")


def scalar(value: Value) -> str:
    """Go ``json.Marshal`` of a scalar tree value."""
    return _go_escapes(_scalar(value))


def encode(value: Value, indent: str) -> str:
    """``value`` as Go's ``json.Indent`` lays it out (comments dropped; empty containers inline)."""
    return _go_escapes(_encode(value, indent, 0))


def _encode(value: Value, indent: str, level: int) -> str:
    if isinstance(value, Branch):
        items = [(k, v) for k, v in value if not isinstance(k, Comment)]
        if not items:
            return "{}"
        inner = "\n" + indent * (level + 1)
        body = ",".join(
            f"{inner}{encode_basestring(k)}: {_encode(v, indent, level + 1)}" for k, v in items
        )
        return "{" + body + "\n" + indent * level + "}"
    if isinstance(value, list):
        elems = [v for v in cast("list[Value]", value) if not isinstance(v, Comment)]
        if not elems:
            return "[]"
        inner = "\n" + indent * (level + 1)
        body = ",".join(inner + _encode(v, indent, level + 1) for v in elems)
        return "[" + body + "\n" + indent * level + "]"
    return _scalar(value)


def indent_text(indent: int | None) -> str:
    """sops's JSON indent setting: tab by default (or -1), N >= 0 spaces."""
    if indent is None or indent == -1:
        return "\t"
    if indent < 0:
        raise EmitError("a JSON indent below -1 is not accepted")
    return " " * indent


# ---- reading --------------------------------------------------------------------------------------


def _pairs(pairs: list[tuple[str, Any]]) -> Branch:
    branch = Branch(pairs)
    if len({k for k, _ in pairs}) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise InputError(
                    f"duplicate key {key!r} in a JSON object",
                    hints=["keep one of them; sops and other tools disagree on which one wins"],
                )
            seen.add(key)
    return branch


def _int(text: str) -> int | float:
    try:
        value = int(text)
    except ValueError:  # more digits than Python converts; surely not an int64
        return _float(text)
    return value if gofmt.INT64_MIN <= value <= gofmt.INT64_MAX else _float(text)


def _float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise InputError("a JSON number is out of the float64 range")
    return value


def _reject(name: str) -> Any:
    raise InputError(f"invalid JSON number {name}")


def _replace_surrogates(value: Any) -> Any:
    if isinstance(value, str):
        return _SURROGATE.sub("\ufffd", value)
    if isinstance(value, Branch):
        return Branch((_replace_surrogates(k), _replace_surrogates(v)) for k, v in value)
    if isinstance(value, list):
        return [_replace_surrogates(v) for v in value]
    return value


def loads(data: bytes) -> Any:
    """Parse JSON bytes into tree values (objects become :class:`Branch`)."""
    try:
        text = data.decode("utf-8").removeprefix("\ufeff")
        fix = "\\ud" in text or "\\uD" in text
    except UnicodeDecodeError:
        text, fix = data.decode("utf-8", "surrogateescape").removeprefix("\ufeff"), True
    try:
        value = json.loads(
            text,
            object_pairs_hook=_pairs,
            parse_int=_int,
            parse_float=_float,
            parse_constant=_reject,
        )
    except json.JSONDecodeError as exc:
        raise InputError(f"invalid JSON: {exc.msg}{text_position(text, exc.pos)}") from None
    except RecursionError:
        raise InputError("invalid JSON: objects and arrays are nested too deeply") from None
    return _replace_surrogates(value) if fix else value


def to_plain(value: Value) -> Any:
    """Tree values as plain data (for the ``sops`` metadata)."""
    if isinstance(value, Branch):
        return {k: to_plain(v) for k, v in value if isinstance(k, str)}
    if isinstance(value, list):
        return [to_plain(v) for v in cast("list[Value]", value)]
    return value


def to_tree(value: Any) -> Value:
    """Plain data (the ``sops`` metadata) as tree values, for emitting."""
    if isinstance(value, dict):
        return Branch((str(k), to_tree(v)) for k, v in value.items())
    if isinstance(value, list):
        return [to_tree(v) for v in value]
    return cast(Value, value)


def split_metadata(doc: Branch) -> dict[str, Any] | None:
    """Remove the top-level ``sops`` key from ``doc`` and return it as plain data."""
    if not any(k == "sops" for k, _ in doc):
        return None
    raw = to_plain(doc.pop_key("sops"))
    if not isinstance(raw, dict):
        raise InputError("the top-level 'sops' key must hold an object")
    return raw


class JsonStore:
    name = "json"
    structured = True

    def load(self, data: bytes) -> Loaded:
        value = loads(data)
        if isinstance(value, list) and not isinstance(value, Branch):
            raise InputError(
                "the top level of a JSON document must be an object, not an array",
                hints=['wrap the array in an object, e.g. {"items": [...]}'],
            )
        if not isinstance(value, Branch):
            raise InputError(
                "the top level of a JSON document must be an object",
                hints=['wrap the value in an object, e.g. {"value": ...}'],
            )
        metadata = split_metadata(value)
        return Loaded([value], metadata)

    def emit(
        self,
        docs: list[Branch],
        metadata: dict[str, Any] | None,
        *,
        source: object | None = None,
        indent: int | None = None,
    ) -> bytes:
        if len(docs) > 1:
            raise EmitError(
                "JSON holds one document, but this input has several",
                hints=["split the YAML documents (---) into separate files"],
            )
        doc = Branch(docs[0]) if docs else Branch()
        if metadata is not None:
            doc.append(("sops", to_tree(metadata)))
        text = encode(doc, indent_text(indent)) + "\n"
        return text.encode("utf-8", "surrogateescape")

    def emit_value(self, value: Value) -> bytes:
        """sops's ``--extract``: strings raw, objects as a JSON file, anything else unterminated."""
        if isinstance(value, str):
            return value.encode("utf-8", "surrogateescape")
        if isinstance(value, bytes):
            return value
        if isinstance(value, Branch):
            return self.emit([value], None)
        return encode(value, "\t").encode("utf-8", "surrogateescape")
