"""Values for the YAML parser: scalars checked against their explicit tags, the placeholders that
stand for leaves while a document is built, and the copies aliases expand to."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any, Protocol

from kseal.errors import InputError
from kseal.sops.stores.yaml_scalar import resolve
from kseal.sops.tree import Branch, Comment, Scalar, Timestamp, Value


class Valued(Protocol):
    value: Scalar


class Slot:
    """Stands for the leaf ``spans[index]`` until the document is complete."""

    __slots__ = ("index",)

    def __init__(self, index: int) -> None:
        self.index = index


_TYPED = {"int": int, "float": float, "bool": bool, "null": type(None), "timestamp": Timestamp}


def resolve_event(ev: Any, plain: bool) -> Scalar:
    """The scalar's value; a value its explicit tag does not fit is an input error, as in sops
    ("cannot decode !!str as a !!int"). Messages never quote the value."""
    line = ev.start_mark.line + 1
    try:
        value = resolve(ev.value, ev.tag, plain)
    except ValueError as exc:  # !!binary that is not base64, integers past Python's digit limit
        what = "an integer with too many digits" if "digits" in str(exc) else "a malformed value"
        raise InputError(f"invalid YAML: {what} at line {line}") from None
    tag = ev.tag or ""
    kind = _TYPED.get(tag.rpartition(":")[2]) if tag.startswith("tag:yaml.org,2002:") else None
    if kind is not None and isinstance(value, str):
        short = tag.rpartition(":")[2]
        raise InputError(f"invalid YAML: the value at line {line} cannot be decoded as a !!{short}")
    return value


def materialize(value: Any, spans: Sequence[Valued]) -> Value:
    """A deep copy of an anchored value with placeholders replaced by their values."""
    if isinstance(value, Slot):
        return spans[value.index].value
    if isinstance(value, Branch):
        return Branch((k, materialize(v, spans)) for k, v in value if not isinstance(k, Comment))
    if isinstance(value, list):
        return [materialize(v, spans) for v in value if not isinstance(v, Comment)]
    return copy.copy(value)  # type: ignore[no-any-return]


def plain_data(value: Any, spans: Sequence[Valued]) -> Any:
    """The ``sops`` metadata subtree as plain dicts and lists."""
    if value is None:
        return None
    if isinstance(value, Slot):
        return spans[value.index].value
    if isinstance(value, Branch):
        return {k: plain_data(v, spans) for k, v in value if isinstance(k, str)}
    if isinstance(value, list):
        return [plain_data(v, spans) for v in value if not isinstance(v, Comment)]
    return value
