"""The dotenv store, with sops's exact rules: the key is everything before the first ``=`` and the
value everything after it, untrimmed, quotes kept; ``\\n`` in a value is a newline; lines starting
with ``#`` are comments. Metadata is flattened into ``sops_*`` lines after the data, sorted."""

from __future__ import annotations

from typing import Any

from kseal.errors import InputError
from kseal.sops.stores import Loaded, scalar_text
from kseal.sops.stores.flatten import flatten, unflatten
from kseal.sops.stores.json_store import decode_text
from kseal.sops.tree import Branch, Comment, Value

PREFIX = "sops_"


class DotenvStore:
    name = "dotenv"

    def load(self, data: bytes) -> Loaded:
        doc = Branch()
        meta: list[tuple[str, str]] = []
        for number, line in enumerate(decode_text(data, "dotenv").split("\n"), 1):
            if not line:
                continue
            if line.startswith("#"):
                doc.append((Comment(line[1:]), None))
                continue
            key, sep, value = line.partition("=")
            if not sep:
                raise InputError(f"invalid dotenv input: line {number} has no '='")
            value = value.replace("\\n", "\n")
            if key.startswith(PREFIX):
                meta.append((key[len(PREFIX) :], value))
            else:
                doc.append((key, value))
        return Loaded([doc], unflatten(meta) if meta else None)

    def emit(
        self,
        docs: list[Branch],
        metadata: dict[str, Any] | None,
        *,
        source: object | None = None,
        indent: int | None = None,
    ) -> bytes:
        lines: list[str] = []
        for doc in docs[:1]:
            for key, value in doc:
                if isinstance(key, Comment):
                    lines.append("#" + key.text)
                else:
                    lines.append(f"{key}={_value(value, key)}")
        if metadata is not None:
            for key, value in sorted(flatten(metadata)):
                escaped = value.replace("\n", "\\n")
                lines.append(f"{PREFIX}{key}={escaped}")
        return "".join(line + "\n" for line in lines).encode("utf-8", "surrogateescape")

    def emit_value(self, value: Value) -> bytes:
        if isinstance(value, bytes):
            return value
        return _value(value, "value").replace("\\n", "\n").encode("utf-8")


def _value(value: Value, key: str) -> str:
    return scalar_text(value, key).replace("\n", "\\n")
