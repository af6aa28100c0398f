"""The plan of ``kseal bootstrap``: decrypted documents in, validated objects to apply out.

Pure: no I/O. Every document is checked here before the cluster side writes anything (all or
nothing): the kind is allowed, name and namespace are DNS names, a Secret's data is base64, and no
object appears twice. A Secret's ``stringData`` is folded into ``data``, as the API server does, so
comparing with the cluster is comparing ``data``. Errors name files, kinds and keys, never values.
"""

from __future__ import annotations

import base64
import copy
import re
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kseal.errors import InputError
from kseal.secret import expand, secret_items
from kseal.shapes import string_map

_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")
_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
CORE_NAMESPACED = frozenset({"Secret", "ConfigMap"})
_KEPT_META = ("name", "namespace", "labels", "annotations")
_NOT_FIELDS = ("apiVersion", "kind", "metadata", "status")


@dataclass(frozen=True)
class Item:
    """One object to apply: where it came from, what it is, the body to send, its key names."""

    source: str
    api_version: str
    kind: str
    namespace: str  # "" when the document has none and no default was given (cluster-scoped)
    name: str
    body: dict[str, Any]
    keys: tuple[str, ...]

    @property
    def label(self) -> str:
        """``Kind namespace/name`` (or ``Kind name``), for messages and plans."""
        where = f"{self.namespace}/{self.name}" if self.namespace else self.name
        return f"{self.kind} {where}"


@dataclass(frozen=True)
class Change:
    """How an object in the cluster differs from the plan; key names only."""

    exists: bool
    added: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    metadata: bool = False  # type, labels or annotations kseal sets differ

    @property
    def unchanged(self) -> bool:
        return self.exists and not (self.added or self.changed or self.removed or self.metadata)


def build(
    documents: Sequence[tuple[str, object]],
    *,
    allowed_kinds: Collection[str] = (),
    namespace: str | None = None,
) -> list[Item]:
    """The validated plan of ``documents`` (``(source, plain document)`` pairs, in order).

    ``allowed_kinds`` extends the default (Secret only); ``namespace`` is used for documents
    without one. Raises :class:`InputError` on the first invalid document."""
    allowed = {"secret", *(k.lower() for k in allowed_kinds)}
    items: list[Item] = []
    seen: dict[tuple[str, str, str, str], str] = {}
    for source, doc in documents:
        for obj in expand([doc]):
            item = _item(source, obj, allowed, namespace)
            key = (_group(item.api_version), item.kind, item.namespace, item.name)
            if key in seen:
                raise InputError(
                    f"{source}: {item.label} appears twice (first in {seen[key]})",
                    hints=["keep one document per object"],
                )
            seen[key] = source
            items.append(item)
    return items


def _group(api_version: str) -> str:
    return api_version.rpartition("/")[0]


def _item(source: str, obj: dict[str, Any], allowed: set[str], default_ns: str | None) -> Item:
    kind, api_version = obj.get("kind"), obj.get("apiVersion")
    if not isinstance(kind, str) or not kind or not isinstance(api_version, str) or not api_version:
        raise InputError(f"{source}: a document has no kind or apiVersion")
    meta = obj.get("metadata")
    meta = meta if isinstance(meta, dict) else {}
    name = meta.get("name")
    if not isinstance(name, str) or len(name) > 253 or not _SUBDOMAIN.match(name):
        raise InputError(
            f"{source}: {kind} has a missing or invalid metadata.name (a DNS subdomain)"
        )
    if kind.lower() not in allowed:
        raise InputError(
            f"{source}: {kind} {name}: bootstrap applies only Secrets unless told otherwise",
            hints=[f"pass --allow-kind {kind} to apply it"],
        )
    ns = meta.get("namespace") or default_ns or ""
    if not isinstance(ns, str) or (ns and (len(ns) > 63 or not _LABEL.match(ns))):
        raise InputError(f"{source}: {kind} {name}: metadata.namespace is not a DNS label")
    if not ns and kind in CORE_NAMESPACED:
        raise InputError(
            f"{source}: {kind} {name} has no namespace",
            hints=["set metadata.namespace or pass --namespace NS"],
        )
    body, keys = _body(source, obj, kind, name, ns)
    return Item(source, api_version, kind, ns, name, body, keys)


def _body(
    source: str, obj: dict[str, Any], kind: str, name: str, ns: str
) -> tuple[dict[str, Any], tuple[str, ...]]:
    """The object to send (server-set metadata dropped, stringData folded) and its key names."""
    body = {k: copy.deepcopy(v) for k, v in obj.items() if k not in ("metadata", "status")}
    old_meta = obj.get("metadata") or {}
    meta: dict[str, Any] = {"name": name, **({"namespace": ns} if ns else {})}
    try:
        for field in ("labels", "annotations"):
            if field in old_meta:
                meta[field] = string_map(old_meta[field], f"metadata.{field}")
        if kind == "Secret":
            items = secret_items(obj)
            body.pop("stringData", None)
            body["data"] = {k: base64.b64encode(v).decode() for k, v in sorted(items.items())}
            return {**body, "metadata": meta}, tuple(sorted(items))
        if kind == "ConfigMap":
            data = string_map(obj.get("data") or {}, "data")
            binary = string_map(obj.get("binaryData") or {}, "binaryData")
            for key, value in binary.items():
                _check_base64(value, f"binaryData.{key}")
            return {**body, "metadata": meta}, tuple(sorted({*data, *binary}))
    except InputError as exc:
        raise InputError(f"{source}: {kind} {name}: {exc.message}", hints=exc.hints) from None
    fields = tuple(sorted(k for k in body if k not in _NOT_FIELDS))
    return {**body, "metadata": meta}, fields


def _check_base64(value: str, where: str) -> None:
    try:
        base64.b64decode(value, validate=True)
    except ValueError:
        raise InputError(f"{where} is not valid base64") from None


def _entries(item: Item, obj: Mapping[str, Any]) -> dict[str, Any]:
    """The compared entries of ``obj``: data keys for Secrets and ConfigMaps, top-level fields
    for other kinds."""
    if item.kind == "Secret":
        return dict(obj.get("data") or {})
    if item.kind == "ConfigMap":
        return {**(obj.get("data") or {}), **(obj.get("binaryData") or {})}
    return {k: v for k, v in obj.items() if k not in _NOT_FIELDS}


def compare(item: Item, current: Mapping[str, Any] | None) -> Change:
    """How ``current`` (the cluster's object, or None) differs from ``item``'s body."""
    if current is None:
        return Change(False, added=item.keys)
    want, have = _entries(item, item.body), _entries(item, current)
    added = tuple(sorted(k for k in want if k not in have))
    changed = tuple(sorted(k for k in want if k in have and not _within(want[k], have[k])))
    removed: tuple[str, ...] = ()
    if item.kind in CORE_NAMESPACED:
        removed = tuple(sorted(k for k in have if k not in want))
    return Change(True, added, changed, removed, _metadata_differs(item, current))


def _metadata_differs(item: Item, current: Mapping[str, Any]) -> bool:
    meta, have = item.body["metadata"], current.get("metadata") or {}
    for field in ("labels", "annotations"):
        theirs = have.get(field) or {}
        if any(theirs.get(k) != v for k, v in (meta.get(field) or {}).items()):
            return True
    if item.kind == "Secret":
        if (item.body.get("type") or "Opaque") != (current.get("type") or "Opaque"):
            return True
        return bool(item.body.get("immutable")) != bool(current.get("immutable"))
    return False


def _within(want: Any, have: Any) -> bool:
    """``want`` is ``have``, or (for mappings) every field of ``want`` is within ``have``'s: the
    server may add defaults to what was applied."""
    if isinstance(want, dict) and isinstance(have, dict):
        return all(k in have and _within(v, have[k]) for k, v in want.items())
    return bool(want == have)


def values(items: Sequence[Item]) -> list[bytes]:
    """Every value the plan carries (Secret data decoded, other string fields), for CI masking."""
    out: list[bytes] = []
    for item in items:
        if item.kind == "Secret":
            out.extend(base64.b64decode(v) for v in item.body["data"].values())
        else:
            fields = {k: v for k, v in item.body.items() if k not in _NOT_FIELDS}
            out.extend(s.encode() for s in _strings(fields))
    return out


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)
