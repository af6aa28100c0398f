"""The sealed format against third-party implementations from npm, and an independent decrypt.

Peers: @socialgouv/aes-gcm-rsa-oaep (all scopes, values and whole manifests; also used to decrypt
kseal's output) and @linode/kubeseal-encrypt (namespace-wide values). Installed by ./test from
tests/interop/package.json (into tests/interop/node_modules); skipped when node or the packages are absent.
"""

from __future__ import annotations

import base64
import json
import shutil
import struct
import subprocess
import sys
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from kseal import keys, manifests, sealed, secret
from kseal.sealed import Scope

ROOT = Path(__file__).resolve().parents[2]
PEER = Path(__file__).with_name("npm_peer.cjs")
NODE_MODULES = Path(__file__).with_name("node_modules")  # npm ci --prefix tests/interop
HAVE_NODE = shutil.which("node") is not None and (NODE_MODULES / "@socialgouv").is_dir()
needs_npm = pytest.mark.skipif(
    not HAVE_NODE, reason="node or the npm peers are missing (npm install)"
)
NPM_SCOPE = {
    Scope.STRICT: "strict",
    Scope.NAMESPACE_WIDE: "namespace",
    Scope.CLUSTER_WIDE: "cluster",
}


@cache
def _pair(bits: int = 2048) -> tuple[bytes, bytes]:
    return keys.generate(datetime.now(UTC), bits=bits)


def _npm(request: dict[str, object]) -> object:
    out = subprocess.run(
        ["node", str(PEER)],
        input=json.dumps(request).encode(),
        capture_output=True,
        cwd=ROOT,
        check=False,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr.decode()
    return json.loads(out.stdout)


def independent_unseal(private_pem: bytes, blob: bytes, label: bytes) -> bytes:
    """The format from the spec, written here without kseal: length, OAEP-SHA256, AES-GCM zero nonce."""
    key = serialization.load_pem_private_key(private_pem, password=None)
    (n,) = struct.unpack(">H", blob[:2])
    session = key.decrypt(
        blob[2 : 2 + n], padding.OAEP(padding.MGF1(hashes.SHA256()), hashes.SHA256(), label or None)
    )  # type: ignore[union-attr]
    return AESGCM(session).decrypt(bytes(12), blob[2 + n :], None)


VALUES = ["s3cr3t", "", "ünïcødé ✓ 🔐", "line\nbreak", "x" * 5000]


@needs_npm
@pytest.mark.parametrize("scope", list(Scope))
@pytest.mark.parametrize("value", VALUES)
def test_socialgouv_values_unseal_with_kseal(scope: Scope, value: str) -> None:
    private_pem, cert_pem = _pair()
    blob_b64 = _npm(
        {
            "op": "socialgouv-value",
            "cert": cert_pem.decode(),
            "scope": NPM_SCOPE[scope],
            "namespace": "prod",
            "name": "db",
            "value": value,
        }
    )
    assert isinstance(blob_b64, str)
    private = keys.load_private_key_pem(private_pem, "test")
    label = sealed.label("prod", "db", scope)
    assert sealed.unseal([private], base64.b64decode(blob_b64), label) == value.encode()
    for other in Scope:
        if sealed.label("prod", "db", other) != label:
            with pytest.raises(sealed.UnsealError):
                sealed.unseal(
                    [private], base64.b64decode(blob_b64), sealed.label("prod", "db", other)
                )


@needs_npm
@pytest.mark.parametrize("scope", list(Scope))
def test_socialgouv_manifest_unseals_with_the_cli(scope: Scope, tmp_path: Path) -> None:
    private_pem, cert_pem = _pair()
    manifest = _npm(
        {
            "op": "socialgouv-manifest",
            "cert": cert_pem.decode(),
            "scope": NPM_SCOPE[scope],
            "namespace": "prod",
            "name": "db",
            "values": {"user": "admin", "password": "p@ss"},
        }
    )
    (tmp_path / "ss.json").write_text(json.dumps(manifest))
    (tmp_path / "key.pem").write_bytes(private_pem)
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "kseal",
            "unseal",
            "-k",
            str(tmp_path / "key.pem"),
            "-o",
            "json",
            str(tmp_path / "ss.json"),
        ],
        capture_output=True,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)["data"]
    assert {k: base64.b64decode(v) for k, v in data.items()} == {
        "user": b"admin",
        "password": b"p@ss",
    }


@needs_npm
@pytest.mark.parametrize("value", VALUES[:3])
def test_linode_namespace_wide_values_unseal_with_kseal(value: str) -> None:
    private_pem, cert_pem = _pair()
    cert = keys.load_certificate(cert_pem)
    spki = cert.public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    blob_b64 = _npm(
        {"op": "linode-value", "spki": spki.decode(), "namespace": "prod", "value": value}
    )
    assert isinstance(blob_b64, str)
    private = keys.load_private_key_pem(private_pem, "test")
    assert sealed.unseal([private], base64.b64decode(blob_b64), b"prod") == value.encode()


@needs_npm
@pytest.mark.parametrize("scope", list(Scope))
def test_kseal_output_decrypts_with_socialgouv(scope: Scope) -> None:
    private_pem, cert_pem = _pair()
    cert = keys.load_certificate(cert_pem)
    label = sealed.label("prod", "db", scope)
    blob = sealed.seal(cert.public_key, "vålue ✓".encode(), label)
    out = _npm(
        {
            "op": "socialgouv-decrypt",
            "key": private_pem.decode(),
            "blob": base64.b64encode(blob).decode(),
            "label": label.decode(),
        }
    )
    assert out == "vålue ✓"


@pytest.mark.parametrize("scope", list(Scope))
@pytest.mark.parametrize("value", [b"", b"\x00\xff binary", "ünï".encode(), b"y" * 10000])
def test_kseal_output_decrypts_with_an_independent_implementation(
    scope: Scope, value: bytes
) -> None:
    private_pem, cert_pem = _pair()
    cert = keys.load_certificate(cert_pem)
    label = sealed.label("ns", "name", scope)
    blob = sealed.seal(cert.public_key, value, label)
    assert len(blob) == 2 + 256 + len(value) + 16
    assert blob[:2] == b"\x01\x00"
    assert independent_unseal(private_pem, blob, label) == value


def test_4096_bit_blob_layout() -> None:
    private_pem, cert_pem = _pair(4096)
    cert = keys.load_certificate(cert_pem)
    blob = sealed.seal(cert.public_key, b"1234567", b"ns/name")
    assert len(blob) == 537  # 2 + 512 + 7 + 16, as the reference states for the Go controller
    assert blob[:2] == b"\x02\x00"
    assert base64.b64encode(blob)[:3] in (b"AgA", b"AgB", b"AgC", b"AgD")
    assert independent_unseal(private_pem, blob, b"ns/name") == b"1234567"


def test_sealed_secret_manifest_round_trip() -> None:
    private_pem, cert_pem = _pair()
    cert = keys.load_certificate(cert_pem)
    src = {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "Opaque",
        "metadata": {
            "name": "db",
            "namespace": "prod",
            "labels": {"app": "x"},
            "uid": "123",
            "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{}"},
        },
        "data": {"a": base64.b64encode(b"\x00\x01").decode()},
        "stringData": {"b": "two"},
    }
    ss = secret.seal_secret(src, cert.public_key)
    assert list(ss) == ["kind", "apiVersion", "metadata", "spec"]
    assert ss["metadata"] == {"name": "db", "namespace": "prod", "creationTimestamp": None}
    assert ss["spec"]["template"]["metadata"] == {
        "name": "db",
        "namespace": "prod",
        "creationTimestamp": None,
        "labels": {"app": "x"},
    }
    assert ss["spec"]["template"]["type"] == "Opaque"
    out = secret.unseal_sealed_secret(ss, [keys.load_private_key_pem(private_pem, "t")])
    assert out["data"] == {"a": "AAE=", "b": base64.b64encode(b"two").decode()}
    assert manifests.dump_json(ss).startswith(
        '{\n  "kind": "SealedSecret",\n  "apiVersion": "bitnami.com/v1alpha1",'
    )
    assert manifests.dump_yaml(ss).startswith(
        "---\napiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata:\n  creationTimestamp: null\n"
    )


def test_renamed_sealed_secret_explains_the_label() -> None:
    private_pem, cert_pem = _pair()
    cert = keys.load_certificate(cert_pem)
    ss = secret.seal_secret(
        {
            "kind": "Secret",
            "metadata": {"name": "db", "namespace": "prod"},
            "stringData": {"k": "SENTINEL-7f3a"},
        },
        cert.public_key,
    )
    ss["metadata"]["name"] = "renamed"
    with pytest.raises(sealed.UnsealError) as info:
        secret.unseal_sealed_secret(ss, [keys.load_private_key_pem(private_pem, "t")])
    text = "\n".join([info.value.message, *info.value.hints])
    assert "'prod/renamed'" in text
    assert "sealed for the label 'prod/db'" in text
    assert "SENTINEL" not in text


@needs_npm
@pytest.mark.parametrize("scope", list(Scope))
def test_merge_into_a_socialgouv_sealed_secret(scope: Scope, tmp_path: Path) -> None:
    """--merge-into a SealedSecret another implementation wrote: the new item is sealed with the
    target's label (the peer decrypts it with that label), the template gains the input's labels
    and annotations, and the old items stay."""
    private_pem, cert_pem = _pair()
    manifest = _npm(
        {
            "op": "socialgouv-manifest",
            "cert": cert_pem.decode(),
            "scope": NPM_SCOPE[scope],
            "namespace": "prod",
            "name": "db",
            "values": {"user": "admin"},
        }
    )
    target = tmp_path / "ss.json"
    target.write_text(json.dumps(manifest))
    (tmp_path / "cert.pem").write_bytes(cert_pem)
    (tmp_path / "key.pem").write_bytes(private_pem)
    update = {
        "kind": "Secret",
        "metadata": {"name": "other", "namespace": "prod", "labels": {"team": "a"}},
        "stringData": {"password": "p@ss ✓"},
    }
    kseal = [sys.executable, "-m", "kseal"]
    out = subprocess.run(
        [*kseal, "seal", "--cert", str(tmp_path / "cert.pem"), "--merge-into", str(target)],
        input=json.dumps(update).encode(),
        capture_output=True,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    merged = json.loads(target.read_text())
    assert merged["spec"]["template"]["metadata"]["labels"] == {"team": "a"}
    label = sealed.label("prod", "db", scope)
    peer = _npm(
        {
            "op": "socialgouv-decrypt",
            "key": private_pem.decode(),
            "blob": merged["spec"]["encryptedData"]["password"],
            "label": label.decode(),
        }
    )
    assert peer == "p@ss ✓"
    back = subprocess.run(
        [*kseal, "unseal", "-k", str(tmp_path / "key.pem"), "-o", "json", str(target)],
        capture_output=True,
        check=False,
    )
    assert back.returncode == 0, back.stderr
    data = json.loads(back.stdout)["data"]
    assert {k: base64.b64decode(v) for k, v in data.items()} == {
        "user": b"admin",
        "password": "p@ss ✓".encode(),
    }
