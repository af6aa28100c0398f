"""The shapes of Kubernetes manifests as plain dicts: checked accessors that turn a wrong shape
(``metadata: [1]``, ``stringData: abc``, a list where a map belongs) into an input error naming the
field, and Go's quoting for names in messages. Pure.
"""

from __future__ import annotations

import json
import re
from typing import Any

from kseal.errors import InputError

# A Kubernetes namespace name: an RFC 1123 DNS label.
DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")


def go_quote(value: str) -> str:
    """``value`` as Go's ``%q`` prints it (kubeseal quotes names this way in its errors)."""
    return json.dumps(value, ensure_ascii=False)


def what(value: object) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    return f"a {type(value).__name__}"


def mapping(value: object, where: str) -> dict[str, Any]:
    """``value`` as a mapping (absent or null is empty); any other shape is an input error."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InputError(f"{where} must be a mapping, not {what(value)}")
    return value


def string_map(value: object, where: str) -> dict[str, str]:
    """A Go ``map[string]string`` (labels, annotations, encryptedData): null values are empty."""
    out: dict[str, str] = {}
    for key, item in mapping(value, where).items():
        if item is not None and not isinstance(item, str):
            raise InputError(f"{where}.{key} must be a string, not {what(item)}")
        out[str(key)] = item or ""
    return out


def text(value: object, where: str) -> str:
    """A string field (absent or null is empty)."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InputError(f"{where} must be a string, not {what(value)}")
    return value


def scalar_text(value: object, where: str) -> str:
    """A Secret value: strings, and numbers or booleans as YAML wrote them loosely."""
    if isinstance(value, dict | list):
        raise InputError(f"{where} must be a string, not {what(value)}")
    return "" if value is None else str(value)


def child(parent: dict[str, Any], key: str, where: str) -> dict[str, Any]:
    """The mapping at ``parent[key]``, created empty when absent (for in-place updates)."""
    value = parent.get(key)
    if value is None:
        value = parent[key] = {}
    return mapping(value, where)


def check_namespace(namespace: str, where: str) -> str:
    if namespace and (len(namespace) > 63 or not DNS_LABEL.fullmatch(namespace)):
        raise InputError(
            f"invalid namespace {go_quote(namespace)} in {where}",
            hints=[
                "a namespace is a DNS label: at most 63 lowercase letters, digits and '-', "
                "starting and ending with a letter or digit"
            ],
        )
    return namespace
