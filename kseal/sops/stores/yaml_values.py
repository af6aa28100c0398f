"""Values for the YAML parser: scalars checked against their explicit tags, and the copies aliases
expand to."""

from __future__ import annotations

import copy
from typing import Any, cast

from kseal.errors import InputError
from kseal.sops.stores.yaml_scalar import resolve, resolve_plain
from kseal.sops.tree import Branch, Comment, Scalar, Timestamp, Value
from kseal.yamlio import ScalarEvent

_TYPED = {"int": int, "float": float, "bool": bool, "null": type(None), "timestamp": Timestamp}


def resolve_event(ev: ScalarEvent) -> Scalar:
    """The scalar's value; a value its explicit tag does not fit is an input error, as in sops
    ("cannot decode !!str as a !!int"). Messages never quote the value."""
    tag = ev.tag
    try:
        if tag is None:  # the common case: what resolve() does for an untagged scalar
            return resolve_plain(ev.value) if ev.plain else ev.value
        value = resolve(ev.value, tag, ev.plain)
    except ValueError as exc:  # !!binary that is not base64, integers past Python's digit limit
        what = "an integer with too many digits" if "digits" in str(exc) else "a malformed value"
        raise InputError(f"invalid YAML: {what} at line {ev.line + 1}") from None
    if tag is None or not isinstance(value, str) or not tag.startswith("tag:yaml.org,2002:"):
        return value
    short = tag.rpartition(":")[2]
    if short in _TYPED:
        raise InputError(
            f"invalid YAML: the value at line {ev.line + 1} cannot be decoded as a !!{short}"
        )
    return value


def materialize(value: Value) -> Value:
    """A deep copy of an anchored value, without its comments (what an alias expands to)."""
    if isinstance(value, Branch):
        return Branch((k, materialize(v)) for k, v in value if not isinstance(k, Comment))
    if isinstance(value, list):
        return [materialize(v) for v in cast("list[Value]", value) if not isinstance(v, Comment)]
    return copy.copy(value)


def plain_data(value: Any) -> Any:
    """The ``sops`` metadata subtree as plain dicts and lists."""
    if isinstance(value, Branch):
        return {k: plain_data(v) for k, v in value if isinstance(k, str)}
    if isinstance(value, list):
        return [plain_data(v) for v in value if not isinstance(v, Comment)]
    return value
