"""The binary store: the whole file is one value, ``data``; the encrypted form is a JSON file.

``load`` of plaintext gives ``Branch([("data", text)])``, ``text`` being ``str`` when the bytes are
UTF-8 and ``bytes`` otherwise. An input that is a JSON object with a ``data`` key and a ``sops``
object is taken to be an encrypted binary file, so its metadata is returned (sops itself would
encrypt such a file a second time). ``emit`` without metadata writes the raw bytes of ``data``; with
metadata it writes the JSON envelope (tab indent by default, as ``stores.json_binary.indent``).
"""

from __future__ import annotations

from typing import Any

from kseal.errors import EmitError, InputError
from kseal.sops.stores.base import Loaded
from kseal.sops.stores.json_store import JsonStore, loads, split_metadata
from kseal.sops.tree import Branch, Value


class BinaryStore:
    name = "binary"
    structured = False

    def load(self, data: bytes) -> Loaded:
        encrypted = self._encrypted(data)
        if encrypted is not None:
            return encrypted
        try:
            text: str | bytes = data.decode("utf-8")
        except UnicodeDecodeError:
            text = data
        return Loaded([Branch([("data", text)])], None)

    @staticmethod
    def _encrypted(data: bytes) -> Loaded | None:
        if data.lstrip()[:1] != b"{" or b'"sops"' not in data:
            return None
        try:
            value = loads(data)
        except InputError:
            return None
        if not isinstance(value, Branch) or "data" not in value.keys_():
            return None
        try:
            metadata = split_metadata(value)
        except InputError:
            return None
        return None if metadata is None else Loaded([value], metadata)

    def emit(
        self,
        docs: list[Branch],
        metadata: dict[str, Any] | None,
        *,
        source: object | None = None,
        indent: int | None = None,
    ) -> bytes:
        if metadata is not None:
            return JsonStore().emit(docs, metadata, indent=indent)
        if len(docs) != 1:
            raise EmitError("a binary file is written from exactly one document")
        if "data" not in docs[0].keys_():
            raise EmitError(
                "no binary data: the document has no top-level 'data' key",
                hints=["choose the output format with --output-type (yaml, json, dotenv, ini)"],
            )
        data = docs[0].get("data")
        if isinstance(data, bytes):
            return data
        if isinstance(data, str):
            return data.encode("utf-8", "surrogateescape")
        raise EmitError(
            "the top-level 'data' value must be a string to be written as a binary file",
            hints=["choose the output format with --output-type (yaml, json, dotenv, ini)"],
        )

    def emit_value(self, value: Value) -> bytes:
        raise EmitError("binary files are not structured: --extract cannot be used with them")
