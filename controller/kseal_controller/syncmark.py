"""Sync marks: how a restarted controller knows a Secret is in sync without decrypting anything.

Every Secret the controller writes carries two annotations:

``kseal.dev/sealed-spec-digest: sha256:<hex>``
    SHA-256 over a canonical JSON of everything that determines the Secret, read from the
    SealedSecret: its whole ``spec`` (``encryptedData``, the deprecated ``data``, and the
    ``template``: metadata, labels, annotations including skip-set-owner-references, type,
    immutable, and the template data, which is all a template reads besides the decrypted
    values), its ``metadata.name`` and ``metadata.namespace`` (the Secret's name and namespace,
    and part of the OAEP label), the scope its top-level annotations select (the rest of the
    label: a SealedSecret whose scope annotation changes must be unsealed again, and may now
    fail), and its ``metadata.uid`` (the Secret's ownerReference names it: a SealedSecret
    deleted and re-created under the same name is a new owner). Not covered: labels and other
    annotations of the SealedSecret (they do not reach the Secret), ``kseal.dev/sealing-key``
    (it only orders the keys tried), status and generation. The spec holds only ciphertext and
    template text, so a plain hash of it reveals nothing; anyone can recompute it.

``kseal.dev/data-mac: <key id>:<base64 HMAC-SHA256>``
    An HMAC over the spec digest, the Secret's type and every data item (key and decoded value,
    length-prefixed, keys sorted). The HMAC key is derived with HKDF-SHA256 from the DER of a
    controller private key (the key id is that key's fingerprint), so it never exists anywhere
    but in the controller's memory, differs per controller key, and cannot be computed by
    anyone who can read the annotation: a weak value cannot be brute-forced from it, which a
    plain hash of values would allow. Binding the digest in stops replaying the data and MAC
    of one Secret onto another one or onto an older spec.

A SealedSecret is in sync with its Secret when the Secret's digest equals the SealedSecret's
digest and the MAC verifies (constant time) under one of the controller's keys; a key that
has been renewed still verifies marks made with it while it is loaded. Type and data are
normalised as the API server stores them (no type is ``Opaque``, no data is empty), so a
Secret read back matches the body that was written. Labels, annotations and ownerReferences are
not covered: a hand edit of those is not detected at start-up (data and type edits are). Pure.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from kseal.sealed import Scope

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

SPEC_DIGEST_ANNOTATION = "kseal.dev/sealed-spec-digest"
DATA_MAC_ANNOTATION = "kseal.dev/data-mac"
_HKDF_INFO = b"kseal.dev/controller sync mark data-mac v1"
_MAC_DOMAIN = b"kseal.dev/data-mac v1\x00"
_DIGEST_PREFIX = "sha256:"
DEFAULT_TYPE = "Opaque"


def mac_key(private_key: RSAPrivateKey) -> bytes:
    """The 32-byte HMAC key derived from ``private_key`` (HKDF-SHA256, no salt, fixed info)."""
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    der = private_key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_HKDF_INFO).derive(der)


def _metadata(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    meta = obj.get("metadata")
    return meta if isinstance(meta, dict) else {}


def _annotations(obj: Mapping[str, Any]) -> dict[str, str]:
    annotations = _metadata(obj).get("annotations")
    if not isinstance(annotations, dict):
        return {}
    return {str(k): v for k, v in annotations.items() if isinstance(v, str)}


def spec_digest(sealed_secret: Mapping[str, Any]) -> str:
    """``sha256:<hex>`` over the spec, name, namespace, uid and scope (see the module doc)."""
    meta = _metadata(sealed_secret)
    material = {
        "v": 1,
        "name": meta.get("name") or "",
        "namespace": meta.get("namespace") or "",
        "uid": meta.get("uid") or "",
        "scope": Scope.of(_annotations(sealed_secret)).value,
        "spec": sealed_secret.get("spec"),
    }
    canonical = json.dumps(material, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return _DIGEST_PREFIX + hashlib.sha256(canonical.encode("ascii")).hexdigest()


def _field(value: bytes) -> bytes:
    return len(value).to_bytes(8, "big") + value


def _decoded(value: object) -> bytes:
    """A data item's bytes; anything that is not base64 is marked so it can never match."""
    if isinstance(value, str):
        try:
            return b"\x00" + base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            pass
    return b"\x01" + repr(value).encode("utf-8", "backslashreplace")


def _mac_message(digest: str, secret: Mapping[str, Any]) -> bytes:
    data = secret.get("data")
    items = data if isinstance(data, dict) else {}
    parts = [
        _MAC_DOMAIN,
        _field(digest.encode("utf-8", "backslashreplace")),
        _field(str(secret.get("type") or DEFAULT_TYPE).encode("utf-8", "backslashreplace")),
        len(items).to_bytes(8, "big"),
    ]
    for key in sorted(items, key=str):
        parts.append(_field(str(key).encode("utf-8", "backslashreplace")))
        parts.append(_field(_decoded(items[key])))
    return b"".join(parts)


def data_mac(key_id: str, key: bytes, secret: Mapping[str, Any], digest: str = "") -> str:
    """``<key_id>:<base64 HMAC-SHA256>`` over ``digest``, the type and the sorted data."""
    tag = hmac.new(key, _mac_message(digest, secret), hashlib.sha256).digest()
    return f"{key_id}:{base64.b64encode(tag).decode('ascii')}"


def marks(
    sealed_secret: Mapping[str, Any], secret: Mapping[str, Any], key_id: str, key: bytes
) -> dict[str, str]:
    """The two annotations for ``secret`` (its type and data final) made from ``sealed_secret``."""
    digest = spec_digest(sealed_secret)
    return {
        SPEC_DIGEST_ANNOTATION: digest,
        DATA_MAC_ANNOTATION: data_mac(key_id, key, secret, digest),
    }


def verified_digest(secret: Mapping[str, Any], mac_keys: Mapping[str, bytes]) -> str | None:
    """The spec digest ``secret``'s marks vouch for, when its MAC verifies under one of
    ``mac_keys`` (so its type and data are what the controller wrote for that spec); else None.
    Lets a cache keep one string per Secret instead of its data."""
    annotations = _annotations(secret)
    digest = annotations.get(SPEC_DIGEST_ANNOTATION, "")
    mac = annotations.get(DATA_MAC_ANNOTATION, "")
    key_id, _sep, _tag = mac.rpartition(":")
    key = mac_keys.get(key_id)
    if not digest or not key_id or key is None:
        return None
    expected = data_mac(key_id, key, secret, digest)
    if hmac.compare_digest(
        mac.encode("utf-8", "backslashreplace"), expected.encode("utf-8", "backslashreplace")
    ):
        return digest
    return None


def in_sync(
    sealed_secret: Mapping[str, Any], secret: Mapping[str, Any], mac_keys: Mapping[str, bytes]
) -> bool:
    """Whether ``secret`` holds what ``sealed_secret`` unseals to, proven by its marks."""
    return verified_digest(secret, mac_keys) == spec_digest(sealed_secret)
