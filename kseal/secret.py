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
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from kseal import sealed
from kseal.errors import InputError, KsealError
from kseal.sealed import Scope
from kseal.shapes import (
    check_namespace,
    go_quote,
    mapping,
    scalar_text,
    string_map,
    text,
    what,
)

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
    for key, value in mapping(secret.get("data"), "data").items():
        encoded = scalar_text(value, f"data.{key}")
        try:
            items[str(key)] = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            raise InputError(f"data.{key} is not valid base64") from None
    for key, value in mapping(secret.get("stringData"), "stringData").items():
        items[str(key)] = scalar_text(value, f"stringData.{key}").encode()
    return items


def _secret_metadata(secret: dict[str, Any]) -> dict[str, Any]:
    """A deep copy of the input Secret's metadata, its fields checked for shape."""
    meta = copy.deepcopy(mapping(secret.get("metadata"), "metadata"))
    for field in ("name", "namespace"):
        if field in meta:
            value = text(meta[field], f"metadata.{field}")
            if value:
                meta[field] = value
            else:
                del meta[field]
    for field in ("labels", "annotations"):
        if field in meta:
            meta[field] = string_map(meta[field], f"metadata.{field}")
    return meta


def namespace_of(secret: dict[str, Any]) -> str:
    """The input Secret's namespace ("" if none)."""
    return str(_secret_metadata(secret).get("namespace", ""))


def check_secret(secret: dict[str, Any]) -> None:
    """Fail with an input error unless ``secret`` has a Secret's shape."""
    _secret_metadata(secret)
    secret_items(secret)
    text(secret.get("type"), "type")
    _check_immutable(secret.get("immutable"), "immutable")


def _check_immutable(value: object, where: str) -> None:
    if value is not None and not isinstance(value, bool):
        raise InputError(f"{where} must be a boolean, not {what(value)}")


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
    meta = _secret_metadata(secret)
    if name:
        meta["name"] = name
    if not meta.get("name"):
        raise InputError(
            "missing metadata.name in input Secret", hints=["add metadata.name or pass --name"]
        )
    annotations = {
        k: v for k, v in meta.get("annotations", {}).items() if k not in _DROPPED_ANNOTATIONS
    }
    if scope is not Scope.STRICT:
        annotations.pop(sealed.CLUSTER_WIDE_ANNOTATION, None)
        annotations.pop(sealed.NAMESPACE_WIDE_ANNOTATION, None)
        annotations.update(scope.annotations())
    effective = Scope.of(annotations)
    if effective is not Scope.CLUSTER_WIDE:
        if namespace and meta.get("namespace") and meta["namespace"] != namespace:
            raise InputError(
                f"namespace mismatch: input secret is in namespace {go_quote(meta['namespace'])} "
                f"but {go_quote(namespace)} was specified"
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
    secret_type = text(secret.get("type"), "type")
    immutable = secret.get("immutable")
    _check_immutable(immutable, "immutable")
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
    if secret_type:
        template["type"] = secret_type
    if immutable is not None:
        template["immutable"] = immutable
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
    keys: Sequence[RSAPrivateKey],
    blob: bytes,
    oaep_label: bytes,
    on_attempt: Callable[[], None] | None = None,
) -> tuple[bytes, RSAPrivateKey]:
    """Plaintext and the key that opened it (keys are tried in order, one at a time).

    ``on_attempt()`` is called once per RSA private-key operation: keys whose modulus does not
    match the blob's RSA length are skipped without one."""
    rsa_len = int.from_bytes(blob[:2], "big") if len(blob) >= 2 else -1
    for key in keys:
        if (key.key_size + 7) // 8 != rsa_len:
            continue
        if on_attempt is not None:
            on_attempt()
        try:
            return sealed.unseal([key], blob, oaep_label), key
        except sealed.UnsealError:
            continue
    raise sealed.UnsealError("no key could decrypt secret")


def _sealed_metadata(sealed_secret: dict[str, Any]) -> dict[str, Any]:
    return mapping(sealed_secret.get("metadata"), "metadata")


def scope_of_sealed(sealed_secret: dict[str, Any]) -> tuple[str, str, Scope]:
    """Namespace, name and scope from the SealedSecret's own metadata (what the controller uses)."""
    meta = _sealed_metadata(sealed_secret)
    namespace = check_namespace(
        text(meta.get("namespace"), "metadata.namespace"), "the SealedSecret's metadata"
    )
    return (
        namespace,
        text(meta.get("name"), "metadata.name"),
        Scope.of(string_map(meta.get("annotations"), "metadata.annotations")),
    )


def sealed_key_hint(sealed_secret: dict[str, Any]) -> str:
    """The fingerprint the ``kseal.dev/sealing-key`` annotation names ("" if none)."""
    meta = _sealed_metadata(sealed_secret)
    return string_map(meta.get("annotations"), "metadata.annotations").get(KEY_ANNOTATION, "")


def sealed_spec(sealed_secret: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """``spec.template`` and ``spec.encryptedData``, checked for shape."""
    spec = mapping(sealed_secret.get("spec"), "spec")
    template = mapping(spec.get("template"), "spec.template")
    t_meta = mapping(template.get("metadata"), "spec.template.metadata")
    for field in ("name", "namespace"):
        text(t_meta.get(field), f"spec.template.metadata.{field}")
    for field in ("labels", "annotations"):
        string_map(t_meta.get(field), f"spec.template.metadata.{field}")
    string_map(template.get("data"), "spec.template.data")
    text(template.get("type"), "spec.template.type")
    _check_immutable(template.get("immutable"), "spec.template.immutable")
    text(spec.get("data"), "spec.data")
    encrypted = string_map(spec.get("encryptedData"), "spec.encryptedData")
    for key, value in encrypted.items():
        _blob(key, value)
    return template, encrypted


def _blob(key: str, value: str) -> bytes:
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise InputError(f"spec.encryptedData.{key} is not valid base64") from None


def check_kind(sealed_secret: dict[str, Any]) -> None:
    if sealed_secret.get("kind") != KIND:
        kind = sealed_secret.get("kind")
        shown = go_quote(kind) if isinstance(kind, str) else what(kind)
        raise InputError(f"expected a SealedSecret, got kind {shown}")


def unseal_items(
    sealed_secret: dict[str, Any],
    private_keys: Sequence[RSAPrivateKey],
    on_attempt: Callable[[], None] | None = None,
) -> dict[str, bytes]:
    """The decrypted ``spec.encryptedData`` items (or the deprecated v1 ``spec.data``), under the
    label the SealedSecret's own metadata gives, as the controller does. ``on_attempt()`` is
    called once per RSA private-key operation. Errors name keys, never data."""
    namespace, name, scope = scope_of_sealed(sealed_secret)
    oaep_label = sealed.label(namespace, name, scope)
    candidates = order_keys(private_keys, sealed_key_hint(sealed_secret))
    _template, encrypted = sealed_spec(sealed_secret)
    v1_blob = text(mapping(sealed_secret.get("spec"), "spec").get("data"), "spec.data")
    if encrypted and v1_blob:
        raise InputError(
            "cannot use the field 'encryptedData' and the deprecated field 'data' at the same time"
        )
    data: dict[str, bytes] = {}
    failed: list[str] = []
    for key in sorted(encrypted):
        try:
            plain, used = unseal_with(
                candidates, base64.b64decode(encrypted[key]), oaep_label, on_attempt
            )
            data[key] = plain
            candidates.remove(used)
            candidates.insert(0, used)  # the key that worked is the likeliest for the next item
        except KsealError:
            failed.append(key)
    if v1_blob and not encrypted:
        try:
            data.update(_unseal_v1(candidates, v1_blob, oaep_label, on_attempt))
        except (binascii.Error, ValueError, KsealError):
            failed.append("data")
    if failed:
        raise sealed.UnsealError(
            f"no key could decrypt secret ({', '.join(failed)})",
            hints=_unseal_hints(sealed_secret, oaep_label, scope, private_keys),
        )
    return data


def _unseal_v1(
    keys: Sequence[RSAPrivateKey],
    blob: str,
    oaep_label: bytes,
    on_attempt: Callable[[], None] | None,
) -> dict[str, bytes]:
    """The data of the JSON v1 Secret in the deprecated ``spec.data`` blob."""
    plain, _used = unseal_with(keys, base64.b64decode(blob), oaep_label, on_attempt)
    v1 = string_map(mapping(json.loads(plain), "the v1 Secret").get("data"), "the v1 Secret data")
    return {k: base64.b64decode(v, validate=True) for k, v in v1.items()}


def _unseal_hints(
    sealed_secret: dict[str, Any],
    oaep_label: bytes,
    scope: Scope,
    private_keys: Sequence[RSAPrivateKey],
) -> list[str]:
    """Why the values may not open: the label used, the one the template suggests, the keys."""
    namespace, name, _scope = scope_of_sealed(sealed_secret)
    template, _encrypted = sealed_spec(sealed_secret)
    t_meta = mapping(template.get("metadata"), "spec.template.metadata")
    hints = [
        f"the controller uses the label {oaep_label.decode()!r} (scope {scope.value}, from the "
        "SealedSecret's own metadata)",
    ]
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
    hint = sealed_key_hint(sealed_secret)
    if hint:
        from kseal.keys import fingerprint

        if all(fingerprint(k.public_key()) != hint for k in private_keys):
            hints.append(
                f"it was sealed with the key {hint} ({KEY_ANNOTATION}), which is not among them"
            )
    return hints


def secret_from_sealed(sealed_secret: dict[str, Any], data: Mapping[str, bytes]) -> dict[str, Any]:
    """The Secret the controller makes from a SealedSecret and its decrypted items: the template's
    metadata with name and namespace forced to the SealedSecret's, its type and immutability, the
    items, and ``spec.template.data`` rendered over them (replacing items of the same name).
    No ownerReferences: the controller adds them. Template errors name the keys, never values."""
    namespace, name, _scope = scope_of_sealed(sealed_secret)
    template, _encrypted = sealed_spec(sealed_secret)
    items = dict(data)
    items.update(render_template_data(string_map(template.get("data"), "spec.template.data"), data))
    meta = copy.deepcopy(mapping(template.get("metadata"), "spec.template.metadata"))
    meta["name"], meta["namespace"] = name, namespace
    meta.pop("creationTimestamp", None)
    out: dict[str, Any] = {"kind": "Secret", "apiVersion": "v1", "metadata": _ordered_meta(meta)}
    if template.get("immutable") is not None:
        out["immutable"] = template["immutable"]
    out["data"] = {k: base64.b64encode(items[k]).decode("ascii") for k in sorted(items)}
    if template.get("type"):
        out["type"] = template["type"]
    return out


def render_template_data(
    templates: Mapping[str, str], data: Mapping[str, bytes]
) -> dict[str, bytes]:
    """Each template rendered over ``{key: plaintext}`` (Go's text/template + sprig subset); all
    failing keys are reported together, as the controller collects them."""
    from kseal.gotemplate import TemplateError, render

    values = {k: v.decode("utf-8", "surrogateescape") for k, v in data.items()}
    out: dict[str, bytes] = {}
    errors: list[str] = []
    for key in sorted(templates):
        try:
            out[key] = render(templates[key], values).encode("utf-8", "surrogateescape")
        except TemplateError as err:
            errors.append(f"spec.template.data.{key}: {err.message}")
        except UnicodeEncodeError:
            errors.append(f"spec.template.data.{key}: the template holds text that is not Unicode")
    if errors:
        raise TemplateError("; ".join(errors))
    return out


def unseal_sealed_secret(
    sealed_secret: dict[str, Any], private_keys: Sequence[RSAPrivateKey]
) -> dict[str, Any]:
    """The Secret the controller would create (offline recovery). Errors name keys, never data."""
    check_kind(sealed_secret)
    return secret_from_sealed(sealed_secret, unseal_items(sealed_secret, private_keys))


def check_sealed_secret(sealed_secret: dict[str, Any]) -> None:
    """Fail with an input error unless ``sealed_secret`` has a SealedSecret's shape."""
    check_kind(sealed_secret)
    scope_of_sealed(sealed_secret)
    sealed_key_hint(sealed_secret)
    sealed_spec(sealed_secret)
