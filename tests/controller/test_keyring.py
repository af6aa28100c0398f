"""Key Secrets <-> keys, renewal decisions, and the thread-safe KeyRing (kseal_controller.keyring)."""

from __future__ import annotations

import base64
import hashlib
import logging
import threading
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

import pytest

from kseal import keys as kkeys
from kseal_controller import keyring
from kseal_controller.keyring import KEY_LABEL, Key, KeyRing

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
PREFIX = "sealed-secrets-key"


@cache
def _pair(n: int, days_ago: int = 0) -> tuple[bytes, bytes]:
    # small keys keep the suite fast; the registry does not care about the size
    return kkeys.generate(NOW - timedelta(days=days_ago), bits=1024, common_name=f"k{n}")


def _secret(
    pair: tuple[bytes, bytes],
    *,
    name: str = "sealed-secrets-keyabcde",
    labels: dict[str, str] | None = None,
    created: str | None = "2026-11-01T00:00:00Z",
) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "namespace": "kube-system"}
    meta["labels"] = {KEY_LABEL: "active"} if labels is None else labels
    if created:
        meta["creationTimestamp"] = created
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "kubernetes.io/tls",
        "metadata": meta,
        "data": {
            "tls.key": base64.b64encode(pair[0]).decode(),
            "tls.crt": base64.b64encode(pair[1]).decode(),
        },
    }


def _key(n: int, days_ago: int, created_days_ago: int | None = None) -> Key:
    created = NOW - timedelta(days=days_ago if created_days_ago is None else created_days_ago)
    key = keyring.key_from_secret(
        _secret(_pair(n, days_ago), created=created.strftime("%Y-%m-%dT%H:%M:%SZ")), PREFIX
    )
    assert key is not None
    return key


def test_labelled_active_secret_is_a_key() -> None:
    key = keyring.key_from_secret(_secret(_pair(1)), PREFIX)
    assert key is not None
    private = kkeys.load_private_key_pem(_pair(1)[0], "test")
    assert key.fingerprint == kkeys.fingerprint(private.public_key())
    assert key.fingerprint.startswith("SHA256:")
    assert key.cert_pem.startswith(b"-----BEGIN CERTIFICATE-----")
    assert key.not_before == NOW.replace(microsecond=0)
    assert key.created == datetime(2026, 11, 1, tzinfo=UTC)
    assert key.secret_name == "sealed-secrets-keyabcde"


def test_compromised_label_is_ignored() -> None:
    secret = _secret(_pair(1), labels={KEY_LABEL: "compromised"})
    assert keyring.key_from_secret(secret, PREFIX) is None


def test_compromised_legacy_named_secret_is_ignored_too() -> None:
    secret = _secret(_pair(1), name=PREFIX, labels={KEY_LABEL: "compromised"})
    assert keyring.key_from_secret(secret, PREFIX) is None


def test_legacy_unlabelled_secret_named_prefix_is_a_key() -> None:
    assert keyring.key_from_secret(_secret(_pair(1), name=PREFIX, labels={}), PREFIX) is not None


def test_unlabelled_secret_with_another_name_is_not_a_key() -> None:
    assert keyring.key_from_secret(_secret(_pair(1), name="other", labels={}), PREFIX) is None


def test_only_the_first_certificate_of_tls_crt_is_used() -> None:
    pair = _pair(1)
    secret = _secret((pair[0], pair[1] + _pair(2)[1]))
    key = keyring.key_from_secret(secret, PREFIX)
    assert key is not None
    assert key.cert_pem == pair[1]


def test_missing_creation_timestamp_falls_back_to_not_before() -> None:
    key = keyring.key_from_secret(_secret(_pair(1), created=None), PREFIX)
    assert key is not None and key.created == key.not_before


SENTINEL = "SENTINEL-5f3a9c"


@pytest.mark.parametrize(
    "breakage",
    ["bad_pem", "bad_base64", "no_key", "no_cert", "cert_of_other_key", "ec_key"],
)
def test_broken_key_secret_is_skipped_with_a_warning_naming_only_the_secret(
    breakage: str, caplog: pytest.LogCaptureFixture
) -> None:
    secret = _secret(_pair(1), name="broken-key")
    data = secret["data"]
    if breakage == "bad_pem":
        data["tls.key"] = base64.b64encode(b"-----BEGIN RSA " + b"PRIVATE KEY-----\n" + SENTINEL.encode()).decode()
    elif breakage == "bad_base64":
        data["tls.key"] = SENTINEL + "!!"
    elif breakage == "no_key":
        del data["tls.key"]
    elif breakage == "no_cert":
        del data["tls.crt"]
    elif breakage == "cert_of_other_key":
        data["tls.crt"] = base64.b64encode(_pair(2)[1]).decode()
    else:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import ec

        pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        data["tls.key"] = base64.b64encode(pem).decode()
    with caplog.at_level(logging.WARNING, logger="kseal_controller.keyring"):
        assert keyring.key_from_secret(secret, PREFIX) is None
    [record] = caplog.records
    assert record.levelno == logging.WARNING
    assert record.__dict__["fields"] == {"namespace": "kube-system", "name": "broken-key"}
    text = record.getMessage() + repr(record.__dict__)
    assert SENTINEL not in text
    assert "PRIVATE KEY" not in text
    for value in secret["data"].values():
        assert value[:24] not in text


def test_key_repr_holds_no_key_material() -> None:
    key = _key(1, 0)
    assert "PRIVATE" not in repr(key) and key.fingerprint in repr(key)


def test_key_secret_is_what_the_original_writes() -> None:
    private_pem, cert_pem = _pair(1)
    body = keyring.key_secret(
        private_pem,
        cert_pem,
        prefix="sealed-secrets-key",
        namespace="kube-system",
        labels={"team": "x", KEY_LABEL: "compromised"},
        annotations={"note": "y"},
    )
    assert body["type"] == "kubernetes.io/tls"
    meta = body["metadata"]
    assert meta["generateName"] == "sealed-secrets-key"
    assert "name" not in meta
    assert meta["namespace"] == "kube-system"
    assert meta["labels"] == {KEY_LABEL: "active", "team": "x"}
    assert meta["annotations"] == {"note": "y"}
    assert base64.b64decode(body["data"]["tls.key"]) == private_pem
    assert base64.b64decode(body["data"]["tls.crt"]) == cert_pem
    # and it reads back as a key
    body["metadata"]["name"] = "sealed-secrets-keyxyz12"
    assert keyring.key_from_secret(body, PREFIX) is not None


def test_key_secret_without_annotations_has_none() -> None:
    body = keyring.key_secret(*_pair(1), prefix="p", namespace="ns")
    assert "annotations" not in body["metadata"]
    assert body["metadata"]["labels"] == {KEY_LABEL: "active"}


def test_key_selector() -> None:
    assert keyring.KEY_SELECTOR == "sealedsecrets.bitnami.com/sealed-secrets-key=active"


# --- renewal --------------------------------------------------------------------------------

PERIOD = timedelta(days=30)


def test_new_key_when_none_exists() -> None:
    assert keyring.needs_new_key(NOW, None, PERIOD, None)
    assert keyring.needs_new_key(NOW, None, timedelta(0), None)


def test_no_new_key_while_the_newest_is_younger_than_the_period() -> None:
    assert not keyring.needs_new_key(NOW, _key(1, 10), PERIOD, None)


def test_new_key_when_the_newest_is_a_period_old() -> None:
    assert keyring.needs_new_key(NOW, _key(3, 30), PERIOD, None)


def test_period_zero_disables_renewal() -> None:
    assert not keyring.needs_new_key(NOW, _key(4, 400), timedelta(0), None)
    assert keyring.next_renewal(NOW, _key(4, 400), timedelta(0)) is None


def test_cutoff_newer_than_the_newest_key_forces_a_new_key() -> None:
    key = _key(1, 10)
    assert keyring.needs_new_key(NOW, key, timedelta(0), NOW - timedelta(days=5))
    assert not keyring.needs_new_key(NOW, key, timedelta(0), NOW - timedelta(days=15))


def test_first_renewal_is_period_minus_age_of_the_newest() -> None:
    assert keyring.next_renewal(NOW, _key(1, 10), PERIOD) == NOW.replace(microsecond=0) + timedelta(days=20)


def test_overdue_renewal_is_now() -> None:
    assert keyring.next_renewal(NOW, _key(3, 30), PERIOD) == NOW
    assert keyring.next_renewal(NOW, None, PERIOD) == NOW


def test_renewal_by_secret_creation_time() -> None:
    key = _key(1, 0, created_days_ago=40)
    assert not keyring.needs_new_key(NOW, key, PERIOD, None)
    assert keyring.needs_new_key(NOW, key, PERIOD, None, order=keyring.SECRET_CREATION)


# --- the ring -------------------------------------------------------------------------------


def test_latest_by_cert_not_before() -> None:
    ring = KeyRing()
    old, new = _key(3, 30, created_days_ago=0), _key(1, 10, created_days_ago=50)
    assert ring.add(new) and ring.add(old)
    assert ring.latest() == new
    assert ring.private_keys() == [new.private_key, old.private_key]
    assert len(ring) == 2


def test_latest_by_secret_creation_timestamp() -> None:
    ring = KeyRing(order=keyring.SECRET_CREATION)
    old_cert, new_cert = _key(3, 30, created_days_ago=0), _key(1, 10, created_days_ago=50)
    ring.add(new_cert)
    ring.add(old_cert)
    assert ring.latest() == old_cert


def test_adding_a_known_fingerprint_is_refused() -> None:
    ring = KeyRing()
    key = _key(1, 10)
    assert ring.add(key)
    assert not ring.add(key)
    assert len(ring) == 1


def test_empty_ring() -> None:
    ring = KeyRing()
    assert ring.latest() is None and ring.private_keys() == [] and len(ring) == 0


def test_by_fingerprint() -> None:
    ring = KeyRing()
    key = _key(1, 10)
    ring.add(key)
    assert ring.by_fingerprint(key.fingerprint) is key
    assert ring.by_fingerprint("SHA256:nope") is None


def test_a_key_added_later_with_the_same_time_becomes_latest() -> None:
    ring = KeyRing()
    a, b = _key(5, 0), _key(6, 0)
    ring.add(a)
    ring.add(b)
    assert ring.latest() == b


def test_mac_keys_are_derived_once_per_key() -> None:
    calls: list[str] = []

    def derive(private_key: Any) -> bytes:
        fp = kkeys.fingerprint(private_key.public_key())
        calls.append(fp)
        return hashlib.sha256(fp.encode()).digest()

    ring = KeyRing(derive=derive)
    a, b = _key(1, 10), _key(3, 30)
    ring.add(a)
    first = ring.mac_keys()
    ring.add(b)
    second = ring.mac_keys()
    ring.mac_keys()
    assert set(first) == {a.fingerprint}
    assert set(second) == {a.fingerprint, b.fingerprint}
    assert sorted(calls) == sorted([a.fingerprint, b.fingerprint])


def test_removed_key_is_out_of_use() -> None:
    ring = KeyRing(derive=lambda k: b"m")
    old, new = _key(3, 30), _key(1, 10)
    ring.add(old)
    ring.add(new)
    ring.mac_keys()
    assert ring.remove(new.fingerprint)
    assert not ring.remove(new.fingerprint)
    assert ring.latest() == old
    assert ring.private_keys() == [old.private_key]
    assert set(ring.mac_keys()) == {old.fingerprint}
    assert ring.add(new)  # a restored key comes back


def test_mac_keys_without_a_derivation_is_an_error() -> None:
    with pytest.raises(RuntimeError):
        KeyRing().mac_keys()


def test_unknown_order_is_refused() -> None:
    with pytest.raises(ValueError):
        KeyRing(order="Newest")


def test_ring_is_thread_safe() -> None:
    ring = KeyRing()
    keys = [_key(n, n) for n in range(1, 7)]
    barrier = threading.Barrier(len(keys))
    results: list[bool] = []

    def add(key: Key) -> None:
        barrier.wait()
        results.append(ring.add(key))
        ring.latest()
        ring.private_keys()

    threads = [threading.Thread(target=add, args=(k,)) for k in keys + keys]
    barrier = threading.Barrier(len(threads))
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count(True) == len(keys)
    assert len(ring) == len(keys)
    assert ring.latest() == keys[0]
