"""The YAML store: multi-document, comments kept and encrypted like sops, edits made in place."""

from __future__ import annotations

from typing import Any

from kseal.errors import InputError, NoDocumentError
from kseal.sops.stores.base import Loaded
from kseal.sops.stores.yaml_emit import emit_docs, emit_value
from kseal.sops.stores.yaml_inplace import emit_in_place, fits
from kseal.sops.stores.yaml_parse import Parsed, parse
from kseal.sops.tree import Branch, Value


class YamlStore:
    name = "yaml"
    structured = True

    def load(self, data: bytes) -> Loaded:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InputError(f"the YAML input is not valid UTF-8 (byte {exc.start})") from None
        if text.startswith("\ufeff"):
            text = text[1:]
        parsed = parse(text)
        if not parsed.docs:
            raise NoDocumentError("the YAML input holds no document")
        metadata = parsed.metadata
        if metadata is not None and not isinstance(metadata, dict):
            raise InputError("the top-level 'sops' key must hold a mapping")
        return Loaded(parsed.docs, metadata, source=parsed)

    def emit(
        self,
        docs: list[Branch],
        metadata: dict[str, Any] | None,
        *,
        source: object | None = None,
        indent: int | None = None,
    ) -> bytes:
        if isinstance(source, Parsed) and indent is None and fits(docs, source.infos):
            text = emit_in_place(source.text, docs, source.infos, metadata)
            if text is not None:
                return text.encode("utf-8")
        return emit_docs(docs, metadata, indent or 4).encode("utf-8")

    def emit_value(self, value: Value) -> bytes:
        if isinstance(value, str):
            return value.encode("utf-8")
        if isinstance(value, bytes):
            return value
        return emit_value(value).encode("utf-8")
