"""What every store shares: the :class:`Store` protocol, its load result, and format choice.

Stores turn file bytes into document trees and back, one module per format.

Every store implements :class:`Store`. ``load`` accepts both plaintext and encrypted files: it
returns the documents with the ``sops`` metadata removed, and that metadata as plain data (a dict
of lists/dicts/str/int/bool, in file order), or ``None`` when the file has none. ``emit`` writes
documents back, appending ``metadata`` when it is given. ``source`` is whatever ``load`` kept about
the original text; a store may use it to edit the original text in place instead of re-emitting
(the YAML store does), and must fall back to a full emit when the trees no longer fit it.
"""

from __future__ import annotations

from typing import Any, NamedTuple, Protocol

from kseal.sops import gofmt
from kseal.sops.tree import Branch, Comment, Timestamp, Value

FORMATS = ("yaml", "json", "dotenv", "ini", "binary")


class Loaded(NamedTuple):
    docs: list[Branch]
    metadata: dict[str, Any] | None
    source: object | None = None


class Store(Protocol):
    name: str
    # False for the binary store: its one value is the whole file, so there are no paths to set,
    # no empty-document template, and the selection rules do not apply
    structured: bool

    def load(self, data: bytes) -> Loaded: ...

    def emit(
        self,
        docs: list[Branch],
        metadata: dict[str, Any] | None,
        *,
        source: object | None = None,
        indent: int | None = None,
    ) -> bytes: ...

    def emit_value(self, value: Value) -> bytes:
        """The ``--extract`` output of one subtree or scalar (string leaves are printed raw)."""
        ...


def format_for_path(path: str) -> str:
    """sops's choice of store from a file name: anything unknown is binary."""
    lower = path.lower()
    if lower.endswith((".yaml", ".yml")):
        return "yaml"
    if lower.endswith(".json"):
        return "json"
    if lower.endswith(".env"):
        return "dotenv"
    if lower.endswith(".ini"):
        return "ini"
    return "binary"


def scalar_text(value: Value, key: object) -> str:
    """A leaf as text for the flat formats (dotenv, INI), as sops's ValToString spells it."""
    from kseal.errors import EmitError

    if isinstance(value, Branch | list):
        raise EmitError(f"this format cannot hold the nested value of {key!r}; use YAML or JSON")
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return gofmt.format_float_f(value)
    if isinstance(value, Timestamp):
        return value.text
    if isinstance(value, bytes):
        return value.decode("utf-8", "surrogateescape")
    if isinstance(value, Comment):
        return value.text
    return value
