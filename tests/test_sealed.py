"""The hybrid sealed format: round trips per scope, and every kind of damage failing cleanly."""

from __future__ import annotations

import struct
from collections.abc import Callable
from datetime import UTC, datetime
from functools import cache
from typing import Any

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from hypothesis import given, settings
from hypothesis import strategies as st

from kseal import keys, sealed, sealed_edits
from kseal.errors import KsealError
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


# --- manifests of every shape: input errors, never internal ones --------------------------------

SECRET_DOC = {
    "apiVersion": "v1",
    "kind": "Secret",
    "metadata": {"name": "db", "namespace": "prod", "labels": {"b": "1", "a": "2"}},
    "data": {"a": "AAE="},
    "stringData": {"b": "two"},
    "type": "Opaque",
}


@cache
def _sealed_doc() -> dict[str, object]:
    from kseal import secret

    public, _right, _ = _keys()
    return secret.seal_secret(SECRET_DOC, public, key_fingerprint="SHA256:x")  # type: ignore[arg-type]


def test_merge_sealed_is_kubeseals_merge() -> None:
    """Items, template labels, annotations and data of the update join the target's (same keys
    replaced); the target's name, namespace, scope and type stay."""

    target = {
        "kind": "SealedSecret",
        "metadata": {"name": "t", "namespace": "ns"},
        "spec": {
            "encryptedData": {"old": "AAAA", "same": "AAAA"},
            "template": {
                "metadata": {"name": "t", "namespace": "ns", "labels": {"l": "1"}},
                "type": "kubernetes.io/tls",
                "data": {"tpl": "{{ .old }}"},
            },
        },
    }
    update = {
        "kind": "SealedSecret",
        "metadata": {"name": "u", "namespace": "other"},
        "spec": {
            "encryptedData": {"same": "BBBB", "new": "CCCC"},
            "template": {
                "metadata": {"name": "u", "labels": {"l": "2"}, "annotations": {"a": "x"}},
                "type": "Opaque",
                "data": {"tpl2": "{{ .new }}"},
            },
        },
    }
    merged = sealed_edits.merge_sealed(target, update)
    spec = merged["spec"]
    assert spec["encryptedData"] == {"old": "AAAA", "same": "BBBB", "new": "CCCC"}
    assert spec["template"]["metadata"] == {
        "name": "t",
        "namespace": "ns",
        "labels": {"l": "2"},
        "annotations": {"a": "x"},
    }
    assert spec["template"]["data"] == {"tpl": "{{ .old }}", "tpl2": "{{ .new }}"}
    assert spec["template"]["type"] == "kubernetes.io/tls"
    assert merged["metadata"] == {"name": "t", "namespace": "ns"}
    assert target["spec"]["encryptedData"] == {"old": "AAAA", "same": "AAAA"}  # not modified


def test_json_output_sorts_go_maps_only() -> None:
    from kseal import manifests

    obj = {
        "kind": "Secret",
        "metadata": {
            "name": "n",
            "labels": {"b": "1", "a": "2"},
            "annotations": {"z": "", "y": ""},
        },
        "data": {"d": "", "c": ""},
        "spec": {
            "template": {"metadata": {"labels": {"q": "", "p": ""}}, "data": {"s": "", "r": ""}}
        },
    }
    text = manifests.dump_json(obj)
    parsed = __import__("json").loads(text)
    assert list(parsed) == ["kind", "metadata", "data", "spec"]  # struct fields keep their order
    assert list(parsed["metadata"]) == ["name", "labels", "annotations"]
    assert list(parsed["metadata"]["labels"]) == ["a", "b"]
    assert list(parsed["metadata"]["annotations"]) == ["y", "z"]
    assert list(parsed["data"]) == ["c", "d"]
    assert list(parsed["spec"]["template"]["metadata"]["labels"]) == ["p", "q"]
    assert list(parsed["spec"]["template"]["data"]) == ["r", "s"]
    assert list(obj["metadata"]["labels"]) == ["b", "a"]  # the input is left alone


JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=6),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=6,
)
SECRET_PATHS = [
    (),
    ("kind",),
    ("metadata",),
    ("metadata", "name"),
    ("metadata", "namespace"),
    ("metadata", "labels"),
    ("metadata", "labels", "a"),
    ("metadata", "annotations"),
    ("metadata", "annotations", "sealedsecrets.bitnami.com/cluster-wide"),
    ("data",),
    ("data", "a"),
    ("stringData",),
    ("stringData", "b"),
    ("type",),
    ("immutable",),
]
SEALED_PATHS = [
    (),
    ("kind",),
    ("metadata",),
    ("metadata", "name"),
    ("metadata", "namespace"),
    ("metadata", "annotations"),
    ("metadata", "annotations", "kseal.dev/sealing-key"),
    ("metadata", "annotations", "sealedsecrets.bitnami.com/namespace-wide"),
    ("spec",),
    ("spec", "data"),
    ("spec", "encryptedData"),
    ("spec", "encryptedData", "a"),
    ("spec", "template"),
    ("spec", "template", "type"),
    ("spec", "template", "immutable"),
    ("spec", "template", "data"),
    ("spec", "template", "metadata"),
    ("spec", "template", "metadata", "name"),
    ("spec", "template", "metadata", "labels"),
    ("spec", "template", "metadata", "annotations"),
]


def _mutate(base: object, changes: list[tuple[tuple[str, ...], object]]) -> object:
    import copy

    doc = copy.deepcopy(base)
    for path, value in changes:
        if not path:
            doc = value
            continue
        node = doc
        for key in path[:-1]:
            node = node.get(key) if isinstance(node, dict) else None
        if isinstance(node, dict):
            node[path[-1]] = value
    return doc


def _error_of(call: Callable[..., object], *args: object) -> KsealError | None:
    try:
        call(*args)
    except KsealError as err:
        return err
    return None


def _input_errors_only(call: Callable[..., object], *args: object) -> None:
    """What the CLI would show: a KsealError keeps its exit code; anything else is exit 3."""
    err = _error_of(call, *args)
    assert err is None or (err.exit_code != 3 and "\n" not in err.message), err


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(SECRET_PATHS), JSONISH), min_size=1, max_size=3))
def test_any_secret_shape_gives_an_input_error_or_a_sealed_secret(
    changes: list[tuple[tuple[str, ...], object]],
) -> None:
    from kseal import manifests, secret

    public, _right, _ = _keys()
    doc = _mutate(SECRET_DOC, changes)

    def seal_all() -> None:
        for item in secret.expand([doc]):
            if not secret.is_secret(item):
                continue
            ss = secret.seal_secret(item, public, seal=lambda *_: b"x")  # type: ignore[arg-type]
            manifests.dump_json(ss)
            manifests.dump_yaml(ss)
            secret.check_secret(item)
            sealed_edits.merge_sealed(_sealed_doc(), ss)

    _input_errors_only(seal_all)


def _unseal(item: dict[str, Any]) -> None:
    from kseal import manifests, secret

    _public, right, _ = _keys()
    manifests.dump_json(secret.unseal_sealed_secret(item, [right]))  # type: ignore[list-item]


def _reseal(item: dict[str, Any]) -> None:
    import copy

    from kseal import manifests

    public, right, _ = _keys()
    doc = copy.deepcopy(item)
    sealed_edits.reseal_sealed_secret(doc, [right], public, "fp")  # type: ignore[arg-type, list-item]
    manifests.dump_yaml(doc)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(SEALED_PATHS), JSONISH), min_size=1, max_size=3))
def test_any_sealed_secret_shape_gives_an_input_error_or_a_secret(
    changes: list[tuple[tuple[str, ...], object]],
) -> None:
    from kseal import secret

    doc = _mutate(_sealed_doc(), changes)
    items = _error_of(secret.expand, [doc])
    assert items is None or items.exit_code == 2
    for item in secret.expand([doc]) if items is None else []:
        _input_errors_only(_unseal, item)
        _input_errors_only(_reseal, item)
        _input_errors_only(sealed_edits.merge_sealed, item, _sealed_doc())
        _input_errors_only(sealed_edits.merge_sealed, _sealed_doc(), item)
