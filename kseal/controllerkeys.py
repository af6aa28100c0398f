"""The sealed-secrets controller's key Secrets as data: the backup document, fingerprints, ages,
expiry, the active key, the restore plan and per-key SealedSecret counts.

Pure: no I/O; ``now`` is a parameter. Key Secrets are the Bitnami controller's (and kseal's
controller's): in the controller namespace, labelled ``sealedsecrets.bitnami.com/sealed-secrets-key``
(``active``; any other value such as ``compromised`` takes a key out of use), or the pre-0.9
unlabelled Secret named ``sealed-secrets-key``. Nothing here puts key material into a message:
a broken key Secret is named by its namespace and name only.
"""

from __future__ import annotations

import base64
import binascii
import copy
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from kseal.errors import ConflictError, InputError, KeyMaterialError

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

    from kseal.keys import Certificate

KEY_LABEL = "sealedsecrets.bitnami.com/sealed-secrets-key"
ACTIVE = "active"
LEGACY = "legacy"  # the state of the pre-0.9 unlabelled key Secret
LEGACY_NAME = "sealed-secrets-key"
# The encrypted_regex of a backup: every value under a Secret's data (tls.key, tls.crt and
# anything else); names, labels and types stay readable for review.
BACKUP_ENCRYPTED_REGEX = "^data$"
# Server-set metadata dropped from a backup (a restore makes the server set them again). The
# last-applied annotation would hold a copy of the key outside ``data``: it is dropped too.
SERVER_FIELDS = (
    "uid",
    "resourceVersion",
    "managedFields",
    "creationTimestamp",
    "selfLink",
    "generation",
    "generateName",
    "ownerReferences",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "finalizers",
)
DROPPED_ANNOTATIONS = ("kubectl.kubernetes.io/last-applied-configuration",)
UNKNOWN = "unknown"  # the count of SealedSecrets without the kseal.dev/sealing-key annotation


@dataclass(frozen=True)
class KeyInfo:
    """One key Secret's public facts: never its private key."""

    fingerprint: str
    secret_name: str
    state: str  # "active", "legacy", or the label's other value ("compromised"...)
    not_before: datetime
    not_after: datetime

    @property
    def in_use(self) -> bool:
        """Whether the controller unseals with it (and may seal with it)."""
        return self.state in (ACTIVE, LEGACY)


def _meta(secret: Mapping[str, Any]) -> Mapping[str, Any]:
    meta = secret.get("metadata")
    return meta if isinstance(meta, Mapping) else {}


def name_of(secret: Mapping[str, Any]) -> str:
    return str(_meta(secret).get("name") or "")


def _labels(secret: Mapping[str, Any]) -> Mapping[str, Any]:
    labels = _meta(secret).get("labels")
    return labels if isinstance(labels, Mapping) else {}


def is_key_secret(secret: Mapping[str, Any], legacy_name: str = LEGACY_NAME) -> bool:
    """Carries the key label (whatever its value), or is the legacy unlabelled key Secret."""
    return KEY_LABEL in _labels(secret) or name_of(secret) == legacy_name


def state_of(secret: Mapping[str, Any]) -> str:
    labels = _labels(secret)
    return str(labels[KEY_LABEL]) if KEY_LABEL in labels else LEGACY


def where_of(secret: Mapping[str, Any]) -> str:
    """``namespace/name``: how messages name a key Secret (never by its content)."""
    return f"{_meta(secret).get('namespace') or '?'}/{name_of(secret) or '?'}"


def key_field(secret: Mapping[str, Any], key: str, where: str) -> bytes:
    data = secret.get("data")
    value = data.get(key) if isinstance(data, Mapping) else None
    if not isinstance(value, str) or not value:
        raise KeyMaterialError(f"key Secret {where}: no data.{key}")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise KeyMaterialError(f"key Secret {where}: data.{key} is not valid base64") from None


def open_key_secret(secret: Mapping[str, Any]) -> tuple[RSAPrivateKey, Certificate]:
    """A key Secret's private key and certificate, checked to belong together; a
    :class:`KeyMaterialError` naming only the Secret when either is unreadable or they differ.
    (The CLI's key commands and the controller's key ring both read key Secrets through this.)"""
    from kseal.keys import fingerprint, load_certificate, load_private_key_pem

    where = where_of(secret)
    private = load_private_key_pem(
        key_field(secret, "tls.key", where), f"key Secret {where} tls.key"
    )
    try:
        cert = load_certificate(key_field(secret, "tls.crt", where))
    except KeyMaterialError as exc:
        raise KeyMaterialError(f"key Secret {where} tls.crt: {exc.message}") from None
    if cert.fingerprint != fingerprint(private.public_key()):
        raise KeyMaterialError(f"key Secret {where}: tls.crt does not certify its tls.key")
    return private, cert


def key_info(secret: Mapping[str, Any]) -> KeyInfo:
    """The public facts of a key Secret (see :func:`open_key_secret` for the errors)."""
    _private, cert = open_key_secret(secret)
    return KeyInfo(
        cert.fingerprint, name_of(secret), state_of(secret), cert.not_before, cert.not_after
    )


# --- the backup document -----------------------------------------------------------------------


def strip_server_fields(secret: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of the key Secret as it can be created again: no server-set metadata, no status,
    no last-applied copy."""
    clean = {k: copy.deepcopy(v) for k, v in secret.items() if k != "status"}
    clean.setdefault("apiVersion", "v1")
    clean.setdefault("kind", "Secret")
    meta = {k: v for k, v in _meta(secret).items() if k not in SERVER_FIELDS}
    annotations = {
        k: v for k, v in (meta.get("annotations") or {}).items() if k not in DROPPED_ANNOTATIONS
    }
    if annotations:
        meta["annotations"] = annotations
    else:
        meta.pop("annotations", None)
    clean["metadata"] = copy.deepcopy(meta)
    return clean


def backup_document(secrets: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """One Kubernetes ``List`` of the key Secrets (sorted by name), server fields stripped."""
    items = sorted((strip_server_fields(s) for s in secrets), key=name_of)
    return {"apiVersion": "v1", "kind": "List", "items": items}


def secrets_of_backup(doc: object) -> list[dict[str, Any]]:
    """The key Secrets of a decrypted backup document, checked for shape."""
    items = doc.get("items") if isinstance(doc, Mapping) and doc.get("kind") == "List" else None
    if not isinstance(items, list):
        raise InputError(
            "not a key backup: expected a Kubernetes List of key Secrets",
            hints=["make one with: kseal keys backup -o FILE --age RECIPIENT"],
        )
    for index, item in enumerate(items):
        if not isinstance(item, dict) or item.get("kind") != "Secret" or not name_of(item):
            raise InputError(f"not a key backup: items[{index}] is not a named Secret")
    return items


def infos(secrets: Iterable[Mapping[str, Any]]) -> list[KeyInfo]:
    return [key_info(s) for s in secrets]


def missing_from_backup(cluster: Iterable[KeyInfo], backup: Iterable[KeyInfo]) -> list[KeyInfo]:
    """The cluster's keys whose fingerprint the backup lacks."""
    held = {k.fingerprint for k in backup}
    return [k for k in cluster if k.fingerprint not in held]


# --- the active key, ages -----------------------------------------------------------------------


def active_key(keys: Sequence[KeyInfo]) -> KeyInfo | None:
    """The key the controller seals with: the in-use key with the newest certificate notBefore
    (the controller's default ``--key-order-priority``)."""
    usable = [k for k in keys if k.in_use]
    return max(usable, key=lambda k: k.not_before) if usable else None


def age_text(delta: timedelta) -> str:
    """``3d``, ``5h``, ``12m`` as kubectl shows ages (``0m`` for a clock skewed into the future)."""
    seconds = max(0, int(delta.total_seconds()))
    if seconds >= 86400:
        return f"{seconds // 86400}d"
    if seconds >= 3600:
        return f"{seconds // 3600}h"
    return f"{seconds // 60}m"


@dataclass(frozen=True)
class Row:
    fingerprint: str
    secret_name: str
    state: str  # "active" (seals now), "in use", or the label value
    age: str
    expires: str  # the certificate's notAfter, YYYY-MM-DD, with "(expired)" past it
    sealed: int | None  # SealedSecrets sealed with it (None without --sealed)


def rows(keys: Sequence[KeyInfo], now: datetime, counts: Mapping[str, int] | None) -> list[Row]:
    """One row per key, newest first."""
    active = active_key(keys)
    out = []
    for key in sorted(keys, key=lambda k: k.not_before, reverse=True):
        state = "active" if key == active else ("in use" if key.in_use else key.state)
        expires = f"{key.not_after:%Y-%m-%d}" + (" (expired)" if now > key.not_after else "")
        sealed = None if counts is None else counts.get(key.fingerprint, 0)
        out.append(
            Row(
                key.fingerprint,
                key.secret_name,
                state,
                age_text(now - key.not_before),
                expires,
                sealed,
            )
        )
    return out


# --- SealedSecrets per key ------------------------------------------------------------------------


def count_sealed(annotations: Iterable[str]) -> Counter[str]:
    """SealedSecrets per fingerprint from their ``kseal.dev/sealing-key`` annotations ("" for
    none counts under :data:`UNKNOWN`)."""
    return Counter(a or UNKNOWN for a in annotations)


def orphaned(counts: Mapping[str, int], keys: Iterable[KeyInfo]) -> dict[str, int]:
    """Counts of SealedSecrets sealed with a key the cluster no longer has."""
    known = {k.fingerprint for k in keys}
    return {fp: n for fp, n in counts.items() if fp != UNKNOWN and fp not in known}


# --- restore --------------------------------------------------------------------------------------


def same_key(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    """Whether two key Secrets hold the same key material and certificate."""
    data_a, data_b = a.get("data") or {}, b.get("data") or {}
    return all(data_a.get(k) == data_b.get(k) for k in ("tls.key", "tls.crt"))


def restore_plan(
    backup: Sequence[dict[str, Any]],
    existing: Mapping[str, Mapping[str, Any] | None],
    namespace: str,
) -> list[tuple[dict[str, Any], str]]:
    """(Secret to create, ``create`` or ``unchanged``) per backed-up key Secret, retargeted to
    ``namespace``. ``existing`` maps each name to the cluster's Secret of that name (None if
    absent). A different Secret under the same name is a :class:`ConflictError`: restore never
    overwrites."""
    plan = []
    clashes = []
    for secret in backup:
        body = strip_server_fields(secret)
        body["metadata"]["namespace"] = namespace
        current = existing.get(name_of(secret))
        if current is None:
            plan.append((body, "create"))
        elif same_key(current, body):
            plan.append((body, "unchanged"))
        else:
            clashes.append(name_of(secret))
    if clashes:
        raise ConflictError(
            f"Secret(s) {', '.join(clashes)} in namespace {namespace} exist with other content; "
            "restore never overwrites",
            hints=["restore into a fresh cluster, or delete or rename those Secrets first"],
        )
    return plan
