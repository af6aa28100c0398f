"""The key registry: the controller's private keys, read from and written to key Secrets.

Key Secrets are the Bitnami controller's, so keys carry over in both directions: Secrets in the
controller namespace holding a PKCS#1 PEM ``tls.key`` and a PEM ``tls.crt`` (only its first
certificate is used), labelled ``sealedsecrets.bitnami.com/sealed-secrets-key: active``, or the
pre-0.9 unlabelled Secret named exactly ``<key prefix>``. Any other label value (the documented
``compromised``) takes a key out of use. Keys are never deleted.

Parsing (:func:`key_from_secret`), the Secret to write (:func:`key_secret`) and the renewal
decisions (:func:`needs_new_key`, :func:`next_renewal`) are pure: they take ``now`` and do no I/O.
:class:`KeyRing` holds the loaded keys, thread-safe. Nothing here logs or raises key material: a
broken key Secret is reported by its namespace and name only.
"""

from __future__ import annotations

import base64
import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from kseal import controllerkeys
from kseal.controllerkeys import ACTIVE as ACTIVE
from kseal.controllerkeys import KEY_LABEL as KEY_LABEL  # re-exported: the controller names it here
from kseal.errors import KeyMaterialError
from kseal_controller.logfields import fields

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

KEY_SELECTOR = f"{KEY_LABEL}={ACTIVE}"  # the label selector that lists the key Secrets
TLS_TYPE = "kubernetes.io/tls"
CERT_NOT_BEFORE = "CertNotBefore"
SECRET_CREATION = "SecretCreationTimestamp"  # noqa: S105 - a flag value, not a password

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Key:
    """One sealing key: its ``SHA256:...`` fingerprint (the key id), private key and certificate."""

    fingerprint: str
    private_key: RSAPrivateKey
    cert_pem: bytes
    not_before: datetime
    created: datetime
    secret_name: str

    def ordering_time(self, order: str = CERT_NOT_BEFORE) -> datetime:
        """The time ``--key-order-priority`` compares to find the newest key."""
        return self.created if order == SECRET_CREATION else self.not_before

    def __repr__(self) -> str:  # never the private key
        return f"Key({self.fingerprint}, secret={self.secret_name!r})"


def is_key_secret(secret: Mapping[str, Any], prefix: str) -> bool:
    """Labelled ``active``, or the legacy Secret named ``prefix`` without the label."""
    return controllerkeys.is_key_secret(secret, prefix) and controllerkeys.state_of(secret) in (
        ACTIVE,
        controllerkeys.LEGACY,
    )


def parse_timestamp(text: object) -> datetime | None:
    """An RFC 3339 ``metadata.creationTimestamp`` (``2024-01-02T03:04:05Z``), or None."""
    if not isinstance(text, str) or not text:
        return None
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def read_key(secret: Mapping[str, Any]) -> Key:
    """The key a key Secret holds; :class:`KeyMaterialError` (naming no content) if unreadable."""
    private_key, cert = controllerkeys.open_key_secret(secret)
    meta = secret.get("metadata") or {}
    created = parse_timestamp(meta.get("creationTimestamp")) or cert.not_before
    return Key(
        fingerprint=cert.fingerprint,
        private_key=private_key,
        cert_pem=cert.pem,
        not_before=cert.not_before,
        created=created,
        secret_name=str(meta.get("name") or ""),
    )


def key_from_secret(secret: Mapping[str, Any], prefix: str) -> Key | None:
    """The key of a key Secret; None for other Secrets and for broken key Secrets (a warning
    naming the Secret, never its content, is logged for those)."""
    if not is_key_secret(secret, prefix):
        return None
    try:
        return read_key(secret)
    except KeyMaterialError as exc:
        meta = secret.get("metadata") or {}
        log.warning(
            "skipping an unreadable key Secret: %s",
            exc.message,
            extra=fields(namespace=meta.get("namespace"), name=meta.get("name")),
        )
        return None


def key_secret(
    private_pem: bytes,
    cert_pem: bytes,
    *,
    prefix: str,
    namespace: str,
    labels: Mapping[str, str] | None = None,
    annotations: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """A new key Secret as the original writes it: ``generateName: <prefix>``, type
    ``kubernetes.io/tls``, the ``active`` key label plus ``--privatekey-labels`` (which cannot
    override the key label) and ``--privatekey-annotations``."""
    all_labels = {KEY_LABEL: ACTIVE}
    all_labels.update({k: v for k, v in (labels or {}).items() if k != KEY_LABEL})
    metadata: dict[str, Any] = {
        "generateName": prefix,
        "namespace": namespace,
        "labels": all_labels,
    }
    if annotations:
        metadata["annotations"] = dict(annotations)
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": metadata,
        "type": TLS_TYPE,
        "data": {
            "tls.crt": base64.b64encode(cert_pem).decode(),
            "tls.key": base64.b64encode(private_pem).decode(),
        },
    }


# --- renewal decisions (pure) -------------------------------------------------------------


def needs_new_key(
    now: datetime,
    latest: Key | None,
    renew_period: timedelta,
    cutoff: datetime | None,
    *,
    order: str = CERT_NOT_BEFORE,
) -> bool:
    """A key must be made now: none exists, the newest is older than ``--key-cutoff-time``, or
    renewal is on (period > 0) and the newest is at least one period old."""
    if latest is None:
        return True
    made = latest.ordering_time(order)
    if cutoff is not None and made < cutoff:
        return True
    return renew_period > timedelta(0) and now - made >= renew_period


def next_renewal(
    now: datetime,
    latest: Key | None,
    renew_period: timedelta,
    *,
    order: str = CERT_NOT_BEFORE,
) -> datetime | None:
    """When the next key is due: the newest key's time plus the period, never before ``now``
    (the original's first delay, period - age(newest)); None when renewal is off (period 0)."""
    if renew_period <= timedelta(0):
        return None
    if latest is None:
        return now
    return max(now, latest.ordering_time(order) + renew_period)


# --- the registry -----------------------------------------------------------------------------


class KeyRing:
    """The loaded keys by fingerprint; thread-safe. ``latest()`` is the sealing key (served at
    /v1/cert.pem), chosen by ``order`` (``--key-order-priority``); on a tie the key added last
    wins, so a freshly generated key takes over at once.

    ``derive`` turns a private key into the MAC key of :meth:`mac_keys` (the controller passes
    ``syncmark.mac_key``); results are cached per fingerprint.
    """

    def __init__(
        self,
        order: str = CERT_NOT_BEFORE,
        derive: Callable[[RSAPrivateKey], bytes] | None = None,
    ) -> None:
        if order not in (CERT_NOT_BEFORE, SECRET_CREATION):
            raise ValueError(f"unknown key order {order!r}")
        self._order = order
        self._derive = derive
        self._lock = threading.Lock()
        self._keys: dict[str, tuple[tuple[datetime, datetime, int], Key]] = {}
        self._sorted: list[Key] = []
        self._macs: dict[str, bytes] = {}

    def add(self, key: Key) -> bool:
        """Register ``key``; False (and no change) if its fingerprint is already known."""
        with self._lock:
            if key.fingerprint in self._keys:
                return False
            rank = (key.ordering_time(self._order), key.created, len(self._keys))
            self._keys[key.fingerprint] = (rank, key)
            self._sorted = [k for _, k in sorted(self._keys.values(), key=lambda e: e[0])][::-1]
            return True

    def remove(self, fp: str) -> bool:
        """Take a key out of use (its Secret was relabelled, e.g. ``compromised``); the Secret
        itself is never deleted. False if the fingerprint is unknown."""
        with self._lock:
            if self._keys.pop(fp, None) is None:
                return False
            self._macs.pop(fp, None)
            self._sorted = [k for k in self._sorted if k.fingerprint != fp]
            return True

    def latest(self) -> Key | None:
        with self._lock:
            return self._sorted[0] if self._sorted else None

    def keys(self) -> list[Key]:
        """Every key, newest first."""
        with self._lock:
            return list(self._sorted)

    def private_keys(self) -> list[RSAPrivateKey]:
        """Every private key, newest first (the order unsealing tries them)."""
        with self._lock:
            return [k.private_key for k in self._sorted]

    def by_fingerprint(self, fp: str) -> Key | None:
        with self._lock:
            entry = self._keys.get(fp)
            return entry[1] if entry else None

    def mac_keys(self) -> dict[str, bytes]:
        """Fingerprint -> MAC key derived by ``derive``, for every key."""
        if self._derive is None:
            raise RuntimeError("this KeyRing was built without a MAC key derivation")
        with self._lock:
            for fp, (_, key) in self._keys.items():
                if fp not in self._macs:
                    self._macs[fp] = self._derive(key.private_key)
            return dict(self._macs)

    def __len__(self) -> int:
        with self._lock:
            return len(self._keys)

    def __repr__(self) -> str:
        return f"KeyRing({len(self)} keys)"
