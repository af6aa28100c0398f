"""Secret and SealedSecret manifests as plain dicts: kubeseal's sealing rules and output shape,
and the controller's unsealing rules. Pure: keys, session keys and defaults are parameters.

Sealing reads scope, name and namespace from the input Secret (after ``--scope`` rewrote its
annotations). Unsealing reads them from the SealedSecret's own top-level ``metadata``, as the
controller does, and uses ``spec.template`` only for the body of the Secret.
"""

from __future__ import annotations

import base64
import binascii
import copy
import json
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from kseal import sealed
from kseal.errors import InputError, KsealError
from kseal.sealed import Scope

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey

API_VERSION = "bitnami.com/v1alpha1"
KIND = "SealedSecret"
# Out of band: which key sealed this resource (never part of the blob format).
KEY_ANNOTATION = "kseal.dev/sealing-key"
_DROPPED_META = (
    "selfLink",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "managedFields",
    "ownerReferences",
)
_DROPPED_ANNOTATIONS = (
    "kubectl.kubernetes.io/last-applied-configuration",
    "kubecfg.ksonnet.io/last-applied-configuration",
)
# ObjectMeta field order as Kubernetes serializes it (kubeseal's JSON output follows it).
_META_ORDER = (
    "name",
    "generateName",
    "namespace",
    "creationTimestamp",
    "labels",
    "annotations",
    "finalizers",
)


def is_secret(doc: object) -> bool:
    return isinstance(doc, dict) and str(doc.get("kind", "")).lower() == "secret"


def expand(docs: Sequence[object]) -> list[dict[str, Any]]:
    """Documents as objects, with ``kind: List`` items expanded and empty documents skipped."""
    out: list[dict[str, Any]] = []
    for doc in docs:
        if doc is None:
            continue
        if isinstance(doc, list):
            out.extend(expand(doc))
        elif (
            isinstance(doc, dict)
            and doc.get("kind") == "List"
            and isinstance(doc.get("items"), list)
        ):
            out.extend(expand(doc["items"]))
        elif isinstance(doc, dict):
            out.append(doc)
        else:
            raise InputError("expected Kubernetes objects (mappings) in the input")
    return out


def secret_items(secret: dict[str, Any]) -> dict[str, bytes]:
    """``data`` (base64) and ``stringData`` merged; stringData wins, as in Kubernetes."""
    items: dict[str, bytes] = {}
    for key, value in (secret.get("data") or {}).items():
        try:
            items[str(key)] = base64.b64decode(str(value or ""), validate=True)
        except (binascii.Error, ValueError):
            raise InputError(f"data.{key} is not valid base64") from None
    for key, value in (secret.get("stringData") or {}).items():
        items[str(key)] = ("" if value is None else str(value)).encode()
    return items


def _ordered_meta(meta: dict[str, Any]) -> dict[str, Any]:
    out = {k: meta[k] for k in _META_ORDER if k in meta}
    out.update({k: v for k, v in meta.items() if k not in out})
    return out


def seal_secret(
    secret: dict[str, Any],
    public_key: RSAPublicKey,
    *,
    scope: Scope = Scope.STRICT,
    name: str | None = None,
    namespace: str | None = None,
    default_namespace: str = "default",
    allow_empty: bool = False,
    key_fingerprint: str | None = None,
    seal: Callable[[RSAPublicKey, bytes, bytes], bytes] = sealed.seal,
) -> dict[str, Any]:
    """A SealedSecret for ``secret``, shaped like kubeseal's output."""
    meta = copy.deepcopy(secret.get("metadata") or {})
    if name:
        meta["name"] = name
    if not meta.get("name"):
        raise InputError(
            "missing metadata.name in input Secret", hints=["add metadata.name or pass --name"]
        )
    annotations = {
        k: v for k, v in (meta.get("annotations") or {}).items() if k not in _DROPPED_ANNOTATIONS
    }
    if scope is not Scope.STRICT:
        annotations.pop(sealed.CLUSTER_WIDE_ANNOTATION, None)
        annotations.pop(sealed.NAMESPACE_WIDE_ANNOTATION, None)
        annotations.update(scope.annotations())
    effective = Scope.of(annotations)
    if effective is not Scope.CLUSTER_WIDE:
        if namespace and meta.get("namespace") and meta["namespace"] != namespace:
            raise InputError(
                f"namespace mismatch: input secret is in namespace {meta['namespace']!r} but "
                f"{namespace!r} was specified"
            )
        meta["namespace"] = meta.get("namespace") or namespace or default_namespace
        if not meta["namespace"]:
            raise InputError("secret must declare a namespace")
    for field in _DROPPED_META:
        meta.pop(field, None)
    if annotations:
        meta["annotations"] = annotations
    else:
        meta.pop("annotations", None)
    items = secret_items(secret)
    if not items and not allow_empty:
        raise InputError(
            "secret.data is empty in input Secret, assuming this is an error and aborting. "
            "To work with empty data, --allow-empty-data can be used"
        )
    oaep_label = sealed.label(meta.get("namespace", ""), meta["name"], effective)
    encrypted = {
        k: base64.b64encode(seal(public_key, items[k], oaep_label)).decode("ascii")
        for k in sorted(items)
    }
    top: dict[str, Any] = {"name": meta["name"]}
    if "namespace" in meta:
        top["namespace"] = meta["namespace"]
    top["creationTimestamp"] = None
    top_annotations = dict(effective.annotations())
    if key_fingerprint:
        top_annotations[KEY_ANNOTATION] = key_fingerprint
    if top_annotations:
        top["annotations"] = top_annotations
    template: dict[str, Any] = {"metadata": _ordered_meta({**meta, "creationTimestamp": None})}
    if secret.get("type"):
        template["type"] = secret["type"]
    if secret.get("immutable") is not None:
        template["immutable"] = secret["immutable"]
    return {
        "kind": KIND,
        "apiVersion": API_VERSION,
        "metadata": top,
        "spec": {"template": template, "encryptedData": encrypted},
    }


def order_keys(private_keys: Sequence[RSAPrivateKey], hint: str | None) -> list[RSAPrivateKey]:
    """Candidate keys, the one whose fingerprint the annotation names first."""
    if not hint:
        return list(private_keys)
    from kseal.keys import fingerprint

    return sorted(private_keys, key=lambda k: fingerprint(k.public_key()) != hint)


def unseal_with(
    keys: Sequence[RSAPrivateKey], blob: bytes, oaep_label: bytes
) -> tuple[bytes, RSAPrivateKey]:
    """Plaintext and the key that opened it (keys are tried in order, one at a time)."""
    for key in keys:
        try:
            return sealed.unseal([key], blob, oaep_label), key
        except sealed.UnsealError:
            continue
    raise sealed.UnsealError("no key could decrypt secret")


def scope_of_sealed(sealed_secret: dict[str, Any]) -> tuple[str, str, Scope]:
    meta = sealed_secret.get("metadata") or {}
    return (
        str(meta.get("namespace") or ""),
        str(meta.get("name") or ""),
        Scope.of(meta.get("annotations")),
    )


def unseal_sealed_secret(
    sealed_secret: dict[str, Any], private_keys: Sequence[RSAPrivateKey]
) -> dict[str, Any]:
    """The Secret the controller would create (offline recovery). Errors name keys, never data."""
    if sealed_secret.get("kind") != KIND:
        raise InputError(f"expected a SealedSecret, got kind {sealed_secret.get('kind')!r}")
    namespace, name, scope = scope_of_sealed(sealed_secret)
    oaep_label = sealed.label(namespace, name, scope)
    hint = ((sealed_secret.get("metadata") or {}).get("annotations") or {}).get(KEY_ANNOTATION)
    candidates = order_keys(private_keys, hint)
    spec = sealed_secret.get("spec") or {}
    template = spec.get("template") or {}
    encrypted = spec.get("encryptedData") or {}
    if encrypted and spec.get("data"):
        raise InputError(
            "cannot use the field 'encryptedData' and the deprecated field 'data' at the same time"
        )
    data: dict[str, str] = {}
    failed: list[str] = []
    for key in sorted(encrypted):
        try:
            blob = base64.b64decode(str(encrypted[key]), validate=True)
            plain, used = unseal_with(candidates, blob, oaep_label)
            data[key] = base64.b64encode(plain).decode()
            candidates.remove(used)
            candidates.insert(0, used)  # the key that worked is the likeliest for the next item
        except (binascii.Error, ValueError, KsealError):
            failed.append(key)
    if spec.get("data") and not encrypted:
        try:
            v1 = json.loads(sealed.unseal(candidates, base64.b64decode(spec["data"]), oaep_label))
            data.update(v1.get("data") or {})
        except (binascii.Error, ValueError, KsealError):
            failed.append("data")
    if failed:
        hints = [
            f"the controller uses the label {oaep_label.decode()!r} (scope {scope.value}, from the "
            "SealedSecret's own metadata)",
        ]
        t_meta = template.get("metadata") or {}
        t_label = sealed.label(
            str(t_meta.get("namespace") or namespace),
            str(t_meta.get("name") or name),
            Scope.of(t_meta.get("annotations")),
        )
        if t_label != oaep_label:
            hints.insert(
                0,
                f"it was likely sealed for the label {t_label.decode()!r} (spec.template.metadata): "
                "re-seal it under its new name, namespace or scope",
            )
        hints.append(f"{len(private_keys)} private key(s) tried")
        raise sealed.UnsealError(f"no key could decrypt secret ({', '.join(failed)})", hints=hints)
    if template.get("data"):
        raise KsealError(
            "spec.template.data (Go templates) cannot be rendered offline by kseal yet",
            hints=["the encryptedData items decrypted fine; only the templates are not supported"],
        )
    meta = copy.deepcopy(template.get("metadata") or {})
    meta["name"], meta["namespace"] = name, namespace
    meta.pop("creationTimestamp", None)
    out: dict[str, Any] = {"kind": "Secret", "apiVersion": "v1", "metadata": _ordered_meta(meta)}
    if template.get("immutable") is not None:
        out["immutable"] = template["immutable"]
    out["data"] = data
    if template.get("type"):
        out["type"] = template["type"]
    return out
