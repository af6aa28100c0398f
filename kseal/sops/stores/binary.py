"""The binary store: the whole file is one value, ``data``; the encrypted form is JSON."""

from __future__ import annotations

from typing import Any

from kseal.errors import EmitError, InputError
from kseal.sops.stores import Loaded
from kseal.sops.stores.gojson import encode, indent_text, loads, to_plain, to_tree
from kseal.sops.tree import Branch, Value


class BinaryStore:
    name = "binary"

    def load(self, data: bytes) -> Loaded:
        if data.lstrip()[:1] == b"{" and b'"sops"' in data:
            try:
                value = loads(data.decode("utf-8"))
            except (InputError, UnicodeDecodeError):
                value = None
            if isinstance(value, Branch) and "sops" in value.keys_() and "data" in value.keys_():
                raw = to_plain(value.pop_key("sops"))
                if isinstance(raw, dict):
                    return Loaded([value], raw)
        try:
            text: str | bytes = data.decode("utf-8")
        except UnicodeDecodeError:
            text = data
        return Loaded([Branch([("data", text)])], None)

    def emit(
        self,
        docs: list[Branch],
        metadata: dict[str, Any] | None,
        *,
        source: object | None = None,
        indent: int | None = None,
    ) -> bytes:
        doc = docs[0] if docs else Branch()
        if metadata is not None:
            out = Branch(doc)
            out.append(("sops", to_tree(metadata)))
            return (encode(out, indent_text(indent)) + "\n").encode("utf-8")
        if "data" not in doc.keys_():
            raise EmitError("a binary file needs a top-level 'data' key")
        data = doc.get("data")
        if isinstance(data, bytes):
            return data
        if isinstance(data, str):
            return data.encode("utf-8", "surrogateescape")
        raise EmitError("the 'data' value of a binary file must be a string")

    def emit_value(self, value: Value) -> bytes:
        raise EmitError("--extract cannot be used with binary files")
