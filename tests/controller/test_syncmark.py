"""Sync marks: a keyed proof that a Secret holds what its SealedSecret unseals to."""

from __future__ import annotations

import base64
import copy
import hashlib
from collections.abc import Callable
from functools import cache
from typing import Any

from cryptography.hazmat.primitives.asymmetric import rsa

from kseal import keys
from kseal_controller import syncmark

SENTINEL = "SENTINEL-5f3a9c"


@cache
def _private(n: int) -> Any:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _key(n: int) -> tuple[str, bytes]:
    private = _private(n)
    return keys.fingerprint(private.public_key()), syncmark.mac_key(private)


SS: dict[str, Any] = {
    "apiVersion": "bitnami.com/v1alpha1",
    "kind": "SealedSecret",
    "metadata": {"name": "db", "namespace": "prod", "uid": "u-1", "generation": 1},
    "spec": {
        "encryptedData": {"password": "AgBxyz=="},
        "template": {"metadata": {"name": "db", "namespace": "prod"}, "type": "Opaque"},
    },
}


def _secret(value: str = SENTINEL, **extra: Any) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "db", "namespace": "prod", "annotations": {}},
        "type": "Opaque",
        "data": {"password": base64.b64encode(value.encode()).decode()},
        **extra,
    }


def _marked(secret: dict[str, Any], ss: dict[str, Any] = SS, n: int = 1) -> dict[str, Any]:
    out = copy.deepcopy(secret)
    out["metadata"]["annotations"].update(syncmark.marks(ss, out, *_key(n)))
    return out


def test_mac_key_is_derived_per_private_key_and_is_not_the_key() -> None:
    a, b = syncmark.mac_key(_private(1)), syncmark.mac_key(_private(2))
    assert len(a) == 32 and a != b
    assert syncmark.mac_key(_private(1)) == a  # deterministic: survives a restart


def test_a_secret_written_with_marks_is_in_sync() -> None:
    secret = _marked(_secret())
    assert syncmark.in_sync(SS, secret, dict([_key(1)]))


def test_annotation_values_have_the_documented_shape() -> None:
    key_id, key = _key(1)
    marks = syncmark.marks(SS, _secret(), key_id, key)
    assert marks[syncmark.SPEC_DIGEST_ANNOTATION].startswith("sha256:")
    assert marks[syncmark.DATA_MAC_ANNOTATION].startswith(key_id + ":")
    tag = marks[syncmark.DATA_MAC_ANNOTATION].rpartition(":")[2]
    assert len(base64.b64decode(tag)) == 32


def test_tampered_data_is_not_in_sync() -> None:
    secret = _marked(_secret())
    mac_keys = dict([_key(1)])
    changes: tuple[Callable[[dict[str, Any]], object], ...] = (
        lambda s: s["data"].update(password=base64.b64encode(b"other").decode()),
        lambda s: s["data"].update(extra="eA=="),
        lambda s: s["data"].pop("password"),
        lambda s: s.update(type="kubernetes.io/tls"),
        lambda s: s["data"].update(password="not base64!"),
    )
    for change in changes:
        edited = copy.deepcopy(secret)
        change(edited)
        assert not syncmark.in_sync(SS, edited, mac_keys)


def test_a_changed_spec_or_identity_is_not_in_sync() -> None:
    secret = _marked(_secret())
    mac_keys = dict([_key(1)])
    for path, value in (
        (("spec", "encryptedData", "password"), "AgBother=="),
        (("spec", "template", "type"), "kubernetes.io/tls"),
        (("spec", "template", "data"), {"x": "{{ .password }}"}),
        (("metadata", "name"), "db2"),
        (("metadata", "namespace"), "staging"),
        (("metadata", "uid"), "u-2"),
        (("metadata", "annotations"), {"sealedsecrets.bitnami.com/namespace-wide": "true"}),
    ):
        ss = copy.deepcopy(SS)
        node = ss
        for part in path[:-1]:
            node = node[part]
        node[path[-1]] = value
        assert not syncmark.in_sync(ss, secret, mac_keys), path


def test_what_does_not_reach_the_secret_does_not_matter() -> None:
    secret = _marked(_secret())
    ss = copy.deepcopy(SS)
    ss["metadata"].update(generation=7, labels={"a": "b"}, resourceVersion="99")
    ss["metadata"]["annotations"] = {"kseal.dev/sealing-key": "SHA256:x", "note": "y"}
    ss["status"] = {"conditions": [{"type": "Synced", "status": "True"}]}
    assert syncmark.in_sync(ss, secret, dict([_key(1)]))


def test_marks_survive_the_api_servers_defaults() -> None:
    written = _marked(_secret(type=None) | {"data": {}})
    written.pop("type")
    stored = copy.deepcopy(written)
    stored["type"] = "Opaque"
    stored.pop("data")
    stored["metadata"].update(resourceVersion="5", uid="s-1")
    assert syncmark.in_sync(SS, stored, dict([_key(1)]))


def test_marks_copied_onto_another_secret_or_spec_do_not_verify() -> None:
    other_ss = copy.deepcopy(SS)
    other_ss["metadata"].update(name="other", uid="u-9")
    other_secret = _marked(_secret("other value"), other_ss)
    forged = _secret("other value")
    forged["metadata"]["annotations"] = {
        syncmark.SPEC_DIGEST_ANNOTATION: syncmark.spec_digest(SS),  # anyone can compute this
        syncmark.DATA_MAC_ANNOTATION: other_secret["metadata"]["annotations"][
            syncmark.DATA_MAC_ANNOTATION
        ],
    }
    assert syncmark.in_sync(other_ss, other_secret, dict([_key(1)]))
    assert not syncmark.in_sync(SS, forged, dict([_key(1)]))


def test_key_rotation_old_marks_verify_while_their_key_is_loaded() -> None:
    old = _marked(_secret(), n=1)
    assert syncmark.in_sync(SS, old, dict([_key(1), _key(2)]))
    assert not syncmark.in_sync(SS, old, dict([_key(2)]))
    new = _marked(_secret(), n=2)
    assert syncmark.in_sync(SS, new, dict([_key(1), _key(2)]))


def test_a_mac_under_a_key_id_with_the_wrong_key_does_not_verify() -> None:
    secret = _marked(_secret(), n=1)
    key_id, _key1 = _key(1)
    _id2, key2 = _key(2)
    assert not syncmark.in_sync(SS, secret, {key_id: key2})


def test_missing_or_malformed_marks_are_not_in_sync() -> None:
    mac_keys = dict([_key(1)])
    assert not syncmark.in_sync(SS, _secret(), mac_keys)
    for mac in ("", "nocolon", ":abc", "SHA256:unknown:abc", "é:ü"):
        secret = _marked(_secret())
        secret["metadata"]["annotations"][syncmark.DATA_MAC_ANNOTATION] = mac
        assert not syncmark.in_sync(SS, secret, mac_keys)
    secret = _marked(_secret())
    secret["metadata"]["annotations"] = None
    assert not syncmark.in_sync(SS, secret, mac_keys)


def test_no_plain_hash_of_a_value_appears_and_the_mac_needs_the_private_key() -> None:
    secret = _marked(_secret())
    text = str(secret["metadata"]["annotations"])
    value = SENTINEL.encode()
    for digest in (hashlib.sha256(value), hashlib.sha1(value), hashlib.md5(value)):  # noqa: S324
        assert digest.hexdigest() not in text
        assert base64.b64encode(digest.digest()).decode() not in text
    assert SENTINEL not in text
    assert base64.b64encode(value).decode() not in text
    # the same data and spec under another private key give another MAC
    other = syncmark.marks(SS, _secret(), _key(1)[0], _key(2)[1])
    assert (
        other[syncmark.DATA_MAC_ANNOTATION]
        != secret["metadata"]["annotations"][syncmark.DATA_MAC_ANNOTATION]
    )
