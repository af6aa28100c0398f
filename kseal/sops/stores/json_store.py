"""The JSON store: one object per file; comments are not part of JSON; ``sops`` is the last key."""

from __future__ import annotations

from typing import Any

from kseal.errors import InputError
from kseal.sops.stores import Loaded
from kseal.sops.stores.gojson import encode, indent_text, loads, to_plain, to_tree
from kseal.sops.tree import Branch, Value


def decode_text(data: bytes, kind: str) -> str:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"the {kind} input is not valid UTF-8 (byte {exc.start})") from None
    return text[1:] if text.startswith("\ufeff") else text


class JsonStore:
    name = "json"

    def load(self, data: bytes) -> Loaded:
        value = loads(decode_text(data, "JSON"))
        if not isinstance(value, Branch):
            raise InputError(
                "the top level of a JSON document must be an object",
                hints=['wrap a list in an object: {"items": [...]}'],
            )
        metadata = None
        if "sops" in value.keys_():
            raw = to_plain(value.pop_key("sops"))
            if not isinstance(raw, dict):
                raise InputError("the top-level 'sops' key must hold an object")
            metadata = raw
        return Loaded([value], metadata)

    def emit(
        self,
        docs: list[Branch],
        metadata: dict[str, Any] | None,
        *,
        source: object | None = None,
        indent: int | None = None,
    ) -> bytes:
        doc = Branch(docs[0]) if docs else Branch()
        if len(docs) > 1:
            from kseal.errors import EmitError

            raise EmitError("JSON holds one document; this input has several (YAML ---)")
        if metadata is not None:
            doc.append(("sops", to_tree(metadata)))
        return (encode(doc, indent_text(indent)) + "\n").encode("utf-8")

    def emit_value(self, value: Value) -> bytes:
        if isinstance(value, str):
            return value.encode("utf-8")
        if isinstance(value, bytes):
            return value
        text = encode(value, "\t")
        return (text + "\n" if isinstance(value, Branch | list) else text).encode("utf-8")
