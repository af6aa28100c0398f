"""``kseal seal`` / ``unseal`` / ``cert`` / ``keys generate`` through the real CLI."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from kseal import keys, sealed
from tests.cli.conftest import Run

SENTINEL = "SENTINEL-7f3a-plaintext"


@pytest.fixture
def pair(tmp_path: Path, kseal: Run) -> tuple[Path, Path]:
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    out = kseal("keys", "generate", "--key", str(key), "--cert", str(cert), "--bits", "2048")
    assert out.returncode == 0, out.stderr
    assert (key.stat().st_mode & 0o077) == 0
    return key, cert


SECRET = {
    "apiVersion": "v1",
    "kind": "Secret",
    "metadata": {"name": "db", "namespace": "prod"},
    "type": "Opaque",
    "stringData": {"password": SENTINEL, "user": "admin"},
}


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed")
def test_pipe_from_kubectl(kseal: Run, pair: tuple[Path, Path]) -> None:
    key, cert = pair
    made = subprocess.run(
        [
            "kubectl",
            "create",
            "secret",
            "generic",
            "db",
            "-n",
            "prod",
            f"--from-literal=password={SENTINEL}",
            "--dry-run=client",
            "-o",
            "yaml",
        ],
        capture_output=True,
        check=True,
    )
    out = kseal("seal", "--cert", str(cert), input=made.stdout)
    assert out.returncode == 0, out.stderr
    ss = json.loads(out.stdout)
    assert ss["kind"] == "SealedSecret"
    assert SENTINEL.encode() not in out.stdout
    assert (
        ss["metadata"]["annotations"]["kseal.dev/sealing-key"]
        == keys.load_certificate(cert.read_bytes()).fingerprint
    )
    back = kseal("unseal", "-k", str(key), "-o", "json", input=out.stdout)
    assert back.returncode == 0, back.stderr
    assert base64.b64decode(json.loads(back.stdout)["data"]["password"]).decode() == SENTINEL


def test_yaml_output_and_file(kseal: Run, pair: tuple[Path, Path], tmp_path: Path) -> None:
    _key, cert = pair
    target = tmp_path / "sealed.yaml"
    out = kseal(
        "seal",
        "--cert",
        str(cert),
        "-w",
        str(target),
        "--no-key-annotation",
        input=json.dumps(SECRET).encode(),
    )
    assert out.returncode == 0, out.stderr
    text = target.read_text()
    assert text.startswith(
        "---\napiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata:\n"
        "  creationTimestamp: null\n  name: db\n  namespace: prod\nspec:\n"
    )
    assert "annotations" not in text


def test_raw(kseal: Run, pair: tuple[Path, Path]) -> None:
    key, cert = pair
    private = keys.load_private_key_pem(key.read_bytes(), "k")
    out = kseal(
        "seal", "--raw", "--cert", str(cert), "-n", "prod", "--name", "db", input=SENTINEL.encode()
    )
    assert out.returncode == 0, out.stderr
    assert not out.stdout.endswith(b"\n")
    assert sealed.unseal([private], base64.b64decode(out.stdout), b"prod/db") == SENTINEL.encode()
    out = kseal("seal", "--raw", "--cert", str(cert), "--scope", "cluster-wide", input=b"v")
    assert sealed.unseal([private], base64.b64decode(out.stdout), b"") == b"v"
    out = kseal("seal", "--raw", "--cert", str(cert), "-n", "prod", input=b"v")
    assert out.returncode == 2
    assert b"--name" in out.stderr


def test_merge_into_keeps_format_and_scope(
    kseal: Run, pair: tuple[Path, Path], tmp_path: Path
) -> None:
    key, cert = pair
    target = tmp_path / "ss.yaml"
    first = {
        **SECRET,
        "metadata": {
            "name": "db",
            "namespace": "prod",
            "annotations": {"sealedsecrets.bitnami.com/namespace-wide": "true"},
        },
    }
    assert (
        kseal(
            "seal", "--cert", str(cert), "-w", str(target), input=json.dumps(first).encode()
        ).returncode
        == 0
    )
    extra = {"kind": "Secret", "metadata": {"name": "ignored"}, "stringData": {"token": "t0k"}}
    out = kseal(
        "seal", "--cert", str(cert), "--merge-into", str(target), input=json.dumps(extra).encode()
    )
    assert out.returncode == 0, out.stderr
    assert target.read_text().startswith("---\n")  # still YAML
    back = kseal("unseal", "-k", str(key), "-o", "json", str(target))
    assert back.returncode == 0, back.stderr
    assert set(json.loads(back.stdout)["data"]) == {"password", "user", "token"}
    out = kseal(
        "seal",
        "--cert",
        str(cert),
        "--merge-into",
        str(target),
        "--scope",
        "cluster-wide",
        input=json.dumps(extra).encode(),
    )
    assert out.returncode == 2
    assert b"namespace-wide" in out.stderr


def test_recovery_unseal_with_a_key_secret_backup(
    kseal: Run, pair: tuple[Path, Path], tmp_path: Path
) -> None:
    key, cert = pair
    sealed_out = kseal("seal", "--cert", str(cert), input=json.dumps(SECRET).encode()).stdout
    backup = {
        "apiVersion": "v1",
        "kind": "List",
        "items": [
            {
                "apiVersion": "v1",
                "kind": "Secret",
                "type": "kubernetes.io/tls",
                "metadata": {"name": "sealed-secrets-keyabc"},
                "data": {
                    "tls.key": base64.b64encode(key.read_bytes()).decode(),
                    "tls.crt": base64.b64encode(cert.read_bytes()).decode(),
                },
            }
        ],
    }
    (tmp_path / "backup.json").write_text(json.dumps(backup))
    out = kseal(
        "seal",
        "--recovery-unseal",
        "--recovery-private-key",
        str(tmp_path / "backup.json"),
        input=sealed_out,
    )
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["data"]["user"] == base64.b64encode(b"admin").decode()


def test_failures_are_one_line_and_leak_nothing(
    kseal: Run, pair: tuple[Path, Path], tmp_path: Path
) -> None:
    key, cert = pair
    sealed_out = kseal("seal", "--cert", str(cert), input=json.dumps(SECRET).encode()).stdout
    other_key, other_cert = tmp_path / "o.pem", tmp_path / "oc.pem"
    kseal("keys", "generate", "--key", str(other_key), "--cert", str(other_cert), "--bits", "2048")
    cases = [
        (kseal("unseal", "-k", str(other_key), input=sealed_out), 1),
        (
            kseal(
                "seal",
                "--cert",
                str(cert),
                input=b"kind: Secret\nmetadata: {namespace: x}\nstringData: {a: b}\n",
            ),
            2,
        ),
        (kseal("seal", "--cert", str(cert), input=b"kind: ConfigMap\n"), 2),
        (kseal("seal", "--cert", str(tmp_path / "missing.pem"), input=b"x"), 100),
        (kseal("seal", "--cert", str(key), input=json.dumps(SECRET).encode()), 1),
        (
            kseal(
                "seal", "--cert", str(cert), "--scope", "galaxy", input=json.dumps(SECRET).encode()
            ),
            2,
        ),
        (kseal("seal", "--cert", str(cert), "-n", "other", input=json.dumps(SECRET).encode()), 2),
    ]
    for out, code in cases:
        assert out.returncode == code, out.stderr
        err = out.stderr.decode()
        assert err.startswith("kseal: error: ")
        assert SENTINEL not in err
        assert "Traceback" not in err
        assert out.stdout == b""


def test_cert_prints_fingerprint_and_expiry(kseal: Run, pair: tuple[Path, Path]) -> None:
    _key, cert = pair
    out = kseal("cert", "--cert", str(cert))
    assert out.returncode == 0
    assert out.stdout.startswith(b"-----BEGIN CERTIFICATE-----")
    assert b"fingerprint: SHA256:" in out.stderr


def test_reseal_moves_every_file_to_the_new_key(
    kseal: Run, pair: tuple[Path, Path], tmp_path: Path
) -> None:
    old_key, old_cert = pair
    new_key, new_cert = tmp_path / "new.pem", tmp_path / "new-cert.pem"
    assert (
        kseal(
            "keys", "generate", "--key", str(new_key), "--cert", str(new_cert), "--bits", "2048"
        ).returncode
        == 0
    )
    tree = tmp_path / "repo"
    tree.mkdir()
    wide = {
        **SECRET,
        "metadata": {
            "name": "w",
            "namespace": "prod",
            "annotations": {"sealedsecrets.bitnami.com/namespace-wide": "true"},
        },
    }
    assert (
        kseal(
            "seal",
            "--cert",
            str(old_cert),
            "-w",
            str(tree / "a.json"),
            input=json.dumps(SECRET).encode(),
        ).returncode
        == 0
    )
    assert (
        kseal(
            "seal",
            "--cert",
            str(old_cert),
            "-w",
            str(tree / "b.yaml"),
            input=json.dumps(wide).encode(),
        ).returncode
        == 0
    )
    (tree / "plain.yaml").write_text("kind: ConfigMap\n")
    (tree / "broken.yaml").write_text(
        "kind: SealedSecret\nmetadata: {name: x, namespace: y}\nspec: {encryptedData: {k: AAAA}}\n"
    )
    out = kseal("reseal", "-k", str(old_key), "--cert", str(new_cert), str(tree))
    assert out.returncode == 1  # broken.yaml failed; the others were resealed
    assert b"resealed 2 file(s), skipped 1 without SealedSecrets, 1 failed" in out.stderr
    assert (tree / "a.json").read_text().startswith("{")
    assert (tree / "b.yaml").read_text().startswith("---")
    for name in ("a.json", "b.yaml"):
        assert kseal("unseal", "-k", str(new_key), str(tree / name)).returncode == 0
        assert kseal("unseal", "-k", str(old_key), str(tree / name)).returncode == 1


def test_sealed_secrets_environment_variables(kseal: Run, pair: tuple[Path, Path]) -> None:
    _key, cert = pair
    env = {
        "SEALED_SECRETS_CERT": str(cert),
        "SEALED_SECRETS_SCOPE": "cluster-wide",
        "SEALED_SECRETS_FORMAT": "yaml",
        "SEALED_SECRETS_ALLOW_EMPTY_DATA": "true",
    }
    out = kseal("seal", input=json.dumps({**SECRET, "stringData": {}}).encode(), env=env)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith(b"---\n")
    assert b"sealedsecrets.bitnami.com/cluster-wide" in out.stdout


def test_namespace_from_kubeconfig_and_concatenated_json(
    kseal: Run, pair: tuple[Path, Path], tmp_path: Path
) -> None:
    _key, cert = pair
    config = tmp_path / "kubeconfig"
    config.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: dev\ncontexts:\n"
        "- name: dev\n  context: {cluster: c, user: u, namespace: team-a}\n"
    )
    one = {"kind": "Secret", "metadata": {"name": "a"}, "stringData": {"k": "v"}}
    two = {
        "kind": "Secret",
        "metadata": {"name": "b", "namespace": "explicit"},
        "stringData": {"k": "v"},
    }
    stream = (json.dumps(one) + json.dumps(two)).encode()
    out = kseal("seal", "--cert", str(cert), "--kubeconfig", str(config), input=stream)
    assert out.returncode == 0, out.stderr
    docs = [
        json.loads(chunk) for chunk in out.stdout.decode().replace("}\n{", "}\n\x00{").split("\x00")
    ]
    assert [d["metadata"]["namespace"] for d in docs] == ["team-a", "explicit"]
