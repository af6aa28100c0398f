"""The Sealed Secrets hybrid format (Bitnami sealed-secrets, pkg/crypto), and scope labels.

A sealed value is ``uint16 big-endian len(r) || r || AES-256-GCM(session key, zero 12-byte nonce,
plaintext, no AAD)`` where ``r`` is the 32-byte session key encrypted with RSA-OAEP (SHA-256 hash
and MGF1) under the scope's label. Pure: bytes and keys in, bytes out; the session key is a
parameter so outputs can be reproduced in tests.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Sequence
from enum import Enum
from typing import TYPE_CHECKING

from kseal.errors import ExitCode, KsealError

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey

SESSION_KEY_SIZE = 32
NONCE = bytes(12)

CLUSTER_WIDE_ANNOTATION = "sealedsecrets.bitnami.com/cluster-wide"
NAMESPACE_WIDE_ANNOTATION = "sealedsecrets.bitnami.com/namespace-wide"


class UnsealError(KsealError):
    """No key could decrypt a sealed value (the controller's ``no key could decrypt secret``)."""

    exit_code = ExitCode.GENERIC


class Scope(Enum):
    STRICT = "strict"
    NAMESPACE_WIDE = "namespace-wide"
    CLUSTER_WIDE = "cluster-wide"

    @classmethod
    def parse(cls, text: str) -> Scope:
        if text == "":
            return cls.STRICT
        for scope in cls:
            if scope.value == text:
                return scope
        raise KsealError(
            f"invalid scope {text!r}: must be one of: strict, namespace-wide, cluster-wide",
            exit_code=ExitCode.INPUT,
        )

    @classmethod
    def of(cls, annotations: dict[str, str] | None) -> Scope:
        """The scope that annotations select (only the exact string "true" counts)."""
        annotations = annotations or {}
        if annotations.get(CLUSTER_WIDE_ANNOTATION) == "true":
            return cls.CLUSTER_WIDE
        if annotations.get(NAMESPACE_WIDE_ANNOTATION) == "true":
            return cls.NAMESPACE_WIDE
        return cls.STRICT

    def annotations(self) -> dict[str, str]:
        if self is Scope.CLUSTER_WIDE:
            return {CLUSTER_WIDE_ANNOTATION: "true"}
        if self is Scope.NAMESPACE_WIDE:
            return {NAMESPACE_WIDE_ANNOTATION: "true"}
        return {}


def label(namespace: str, name: str, scope: Scope) -> bytes:
    """The OAEP label: ``namespace/name`` (strict), ``namespace`` or empty (cluster-wide)."""
    if scope is Scope.CLUSTER_WIDE:
        return b""
    if scope is Scope.NAMESPACE_WIDE:
        return namespace.encode()
    return f"{namespace}/{name}".encode()


def _oaep(oaep_label: bytes):  # type: ignore[no-untyped-def]
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    return padding.OAEP(
        mgf=padding.MGF1(algorithm=hashes.SHA256()),
        algorithm=hashes.SHA256(),
        label=oaep_label or None,
    )


def seal(
    public_key: RSAPublicKey,
    plaintext: bytes,
    oaep_label: bytes,
    *,
    session_key: bytes | None = None,
) -> bytes:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    key = session_key if session_key is not None else os.urandom(SESSION_KEY_SIZE)
    wrapped = public_key.encrypt(key, _oaep(oaep_label))
    return struct.pack(">H", len(wrapped)) + wrapped + AESGCM(key).encrypt(NONCE, plaintext, None)


def unseal(private_keys: Sequence[RSAPrivateKey], blob: bytes, oaep_label: bytes) -> bytes:
    """Decrypt with the first key that works. Keys whose modulus does not match the blob's RSA
    length are skipped without an RSA operation; callers put the likeliest key first."""
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    if len(blob) < 2:
        raise UnsealError("sealed value too short")
    (rsa_len,) = struct.unpack(">H", blob[:2])
    if len(blob) < 2 + rsa_len + 16:
        raise UnsealError("sealed value too short")
    wrapped, sealed = blob[2 : 2 + rsa_len], blob[2 + rsa_len :]
    for key in private_keys:
        if (key.key_size + 7) // 8 != rsa_len:
            continue
        try:
            session_key = key.decrypt(wrapped, _oaep(oaep_label))
            return AESGCM(session_key).decrypt(NONCE, sealed, None)
        except (ValueError, InvalidTag):
            continue
    raise UnsealError("no key could decrypt secret")
