"""The dotenv store, with sops's exact rules.

Reading: the input is split on ``\\n`` only (a ``\\r`` stays in the value) and empty lines are
skipped. A line whose first byte is ``#`` is a comment (its text is the rest of the line). Any other
line must hold ``=``: the key is everything before the first ``=`` and the value everything after
it, neither trimmed, quotes kept, a literal ``\\n`` turned into a newline. A value that is not UTF-8
is kept as ``bytes``. A repeated key is kept twice, as sops does. Keys starting with ``sops_`` are
the flattened metadata. No byte order mark is skipped: sops makes it part of the first key.

Writing: ``KEY=VALUE`` lines with newlines as ``\\n``, ``#text`` comment lines, non-string values in
Go's ``ValToString`` form, then the metadata as ``sops_*`` lines sorted by key (sops 3.9 to 3.12).
"""

from __future__ import annotations

from typing import Any

from kseal.errors import EmitError, InputError
from kseal.sops.stores.base import Loaded
from kseal.sops.stores.flatten import flatten, unflatten, val_to_string
from kseal.sops.tree import Branch, Comment, Value

PREFIX = "sops_"


def _text(raw: bytes, number: int, what: str) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError(
            f"invalid dotenv input: the {what} on line {number} is not UTF-8"
        ) from None


class DotenvStore:
    name = "dotenv"
    structured = True

    def load(self, data: bytes) -> Loaded:
        doc = Branch()
        meta: list[tuple[str, str]] = []
        for number, line in enumerate(data.split(b"\n"), 1):
            if not line:
                continue
            if line[:1] == b"#":
                doc.append((Comment(_text(line[1:], number, "comment")), None))
                continue
            key_raw, sep, value_raw = line.partition(b"=")
            if not sep:
                raise InputError(
                    f"invalid dotenv input: line {number} has no '='",
                    hints=["every line must be KEY=VALUE, a #comment, or empty"],
                )
            key = _text(key_raw, number, "key")
            raw = value_raw.replace(b"\\n", b"\n")
            if key.startswith(PREFIX):
                meta.append((key[len(PREFIX) :], _text(raw, number, "metadata value")))
                continue
            try:
                value: str | bytes = raw.decode("utf-8")
            except UnicodeDecodeError:
                value = raw
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
        if len(docs) > 1:
            raise EmitError(
                "dotenv holds one document, but this input has several",
                hints=["split the YAML documents (---) into separate files"],
            )
        out: list[bytes] = []
        for key, value in docs[0] if docs else ():
            if isinstance(key, Comment):
                out.append(b"#" + _encode(key.text) + b"\n")
            else:
                out.append(_encode(key) + b"=" + _value(value, key) + b"\n")
        if metadata is not None:
            for key, text in sorted(flatten(metadata)):
                escaped = text.replace("\n", "\\n")
                out.append(_encode(f"{PREFIX}{key}={escaped}\n"))
        return b"".join(out)

    def emit_value(self, value: Value) -> bytes:
        """sops's ``--extract``: strings raw, a mapping as a dotenv file, nothing else."""
        if isinstance(value, str):
            return _encode(value)
        if isinstance(value, bytes):
            return value
        if isinstance(value, Branch):
            return self.emit([value], None)
        raise EmitError(
            "the dotenv format can only extract strings and flat mappings",
            hints=["choose another output format with --output-type (yaml or json)"],
        )


def _encode(text: str) -> bytes:
    return text.encode("utf-8", "surrogateescape")


def _value(value: Value, key: str) -> bytes:
    if isinstance(value, Branch | list):
        raise EmitError(
            f"dotenv cannot hold the nested value of key {key!r}",
            hints=["use YAML or JSON for nested data"],
        )
    if isinstance(value, bytes):
        return value.replace(b"\n", b"\\n")
    if isinstance(value, str):
        return _encode(value.replace("\n", "\\n"))
    return _encode(val_to_string(value))
