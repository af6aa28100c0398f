"""The hybrid sealed format: round trips per scope, and every kind of damage failing cleanly."""

from __future__ import annotations

import struct
from datetime import UTC, datetime
from functools import cache

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from hypothesis import given, settings
from hypothesis import strategies as st

from kseal import keys, sealed
from kseal.sealed import Scope


@cache
def _keys() -> tuple[object, object, object]:
    now = datetime.now(UTC)
    (k1, c1), (k2, _c2) = keys.generate(now, bits=2048), keys.generate(now, bits=2048)
    return (
        keys.load_certificate(c1).public_key,
        keys.load_private_key_pem(k1, "a"),
        keys.load_private_key_pem(k2, "b"),
    )


def test_labels() -> None:
    assert sealed.label("myns", "myname", Scope.STRICT) == b"myns/myname"
    assert sealed.label("myns", "myname", Scope.NAMESPACE_WIDE) == b"myns"
    assert sealed.label("myns", "myname", Scope.CLUSTER_WIDE) == b""
    assert (
        Scope.of(
            {
                "sealedsecrets.bitnami.com/cluster-wide": "true",
                "sealedsecrets.bitnami.com/namespace-wide": "true",
            }
        )
        is Scope.CLUSTER_WIDE
    )
    assert Scope.of({"sealedsecrets.bitnami.com/namespace-wide": "True"}) is Scope.STRICT


@pytest.mark.parametrize("scope", list(Scope))
def test_round_trip_and_wrong_label_or_key(scope: Scope) -> None:
    public, right, wrong = _keys()
    label = sealed.label("ns", "name", scope)
    blob = sealed.seal(public, b"value", label)  # type: ignore[arg-type]
    assert sealed.unseal([wrong, right], blob, label) == b"value"  # type: ignore[list-item]
    with pytest.raises(sealed.UnsealError, match="no key could decrypt secret"):
        sealed.unseal([wrong], blob, label)  # type: ignore[list-item]
    for other in (b"ns/other", b"other", b"x" if label == b"" else b""):
        with pytest.raises(sealed.UnsealError):
            sealed.unseal([right], blob, other)  # type: ignore[list-item]


def test_truncated_and_bit_flipped_blobs_fail() -> None:
    public, right, _ = _keys()
    blob = sealed.seal(public, b"some secret value", b"ns/name")  # type: ignore[arg-type]
    for size in (0, 1, 2, 100, 258, 258 + 15, len(blob) - 1):
        with pytest.raises(sealed.UnsealError):
            sealed.unseal([right], blob[:size], b"ns/name")  # type: ignore[list-item]
    for pos in (0, 1, 2, 130, 257, 258, 260, len(blob) - 17, len(blob) - 1):
        damaged = bytearray(blob)
        damaged[pos] ^= 0x01
        with pytest.raises(sealed.UnsealError):
            sealed.unseal([right], bytes(damaged), b"ns/name")  # type: ignore[list-item]


def test_byte_exact_with_an_injected_session_key() -> None:
    public, right, _ = _keys()
    session = bytes(range(32))
    blob = sealed.seal(public, b"hello", b"ns/name", session_key=session)  # type: ignore[arg-type]
    (n,) = struct.unpack(">H", blob[:2])
    assert n == 256
    # Everything after the RSA part is determined by the session key: AES-256-GCM, zero nonce.
    assert blob[2 + n :] == AESGCM(session).encrypt(bytes(12), b"hello", None)
    assert sealed.unseal([right], blob, b"ns/name") == b"hello"  # type: ignore[list-item]


@settings(max_examples=25, deadline=None)
@given(st.binary(max_size=2000), st.text(max_size=40))
def test_property_round_trip(value: bytes, text_label: str) -> None:
    public, right, _ = _keys()
    label = text_label.encode()
    assert sealed.unseal([right], sealed.seal(public, value, label), label) == value  # type: ignore[arg-type, list-item]


def test_keys_of_another_size_are_skipped_without_rsa_work() -> None:
    public, right, _ = _keys()
    blob = sealed.seal(public, b"v", b"")  # type: ignore[arg-type]
    big = keys.load_private_key_pem(keys.generate(datetime.now(UTC), bits=3072)[0], "big")

    class Counting:
        key_size = 3072
        calls = 0

        def decrypt(self, *args: object) -> bytes:
            Counting.calls += 1
            return big.decrypt(*args)  # type: ignore[arg-type]

    assert sealed.unseal([Counting(), right], blob, b"") == b"v"  # type: ignore[list-item]
    assert Counting.calls == 0


def test_expired_certificate_is_refused() -> None:
    from kseal.errors import KeyMaterialError

    past = datetime(2000, 1, 1, tzinfo=UTC)
    from datetime import timedelta

    _, cert_pem = keys.generate(past, bits=2048, ttl=timedelta(days=1))
    cert = keys.load_certificate(cert_pem)
    with pytest.raises(
        KeyMaterialError, match="failed to encrypt using an expired certificate on January 2, 2000"
    ):
        cert.check_valid(datetime.now(UTC))
