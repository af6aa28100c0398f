"""``kseal seal`` / ``unseal`` / ``cert`` / ``keys generate`` through the real CLI."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kseal import keys, sealed
from tests.cli.conftest import Run
from tests.test_sealed import JSONISH, SEALED_PATHS, SECRET_DOC, SECRET_PATHS, _mutate, _sealed_doc

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


@pytest.fixture(scope="module")
def shared_pair(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """One key pair for the many small CLI cases below (made in-process: faster)."""
    from datetime import UTC, datetime

    where = tmp_path_factory.mktemp("pair")
    private_pem, cert_pem = keys.generate(datetime.now(UTC), bits=2048)
    (where / "key.pem").write_bytes(private_pem)
    (where / "key.pem").chmod(0o600)  # as kseal keys generate writes it
    (where / "cert.pem").write_bytes(cert_pem)
    return where / "key.pem", where / "cert.pem"


def _test_secret(key: str, value: str, name: str = "testname", namespace: str = "testns") -> bytes:
    """kubeseal's mkTestSecret: the item's key and value also as a label and an annotation."""
    return json.dumps(
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {
                "name": name,
                "namespace": namespace,
                "annotations": {key: value},
                "labels": {key: value},
            },
            "data": {key: base64.b64encode(value.encode()).decode()},
        }
    ).encode()


def _merge(kseal: Run, cert: Path, key: Path, new: bytes, old: bytes, path: Path) -> dict[str, Any]:
    """kubeseal's TestMergeInto helper: merge, then the result must unseal."""
    path.write_bytes(old)
    out = kseal("seal", "--cert", str(cert), "--merge-into", str(path), input=new)
    assert out.returncode == 0, out.stderr
    merged: dict[str, Any] = json.loads(path.read_text())
    back = kseal("unseal", "-k", str(key), "-o", "json", str(path))
    assert back.returncode == 0, back.stderr
    return merged


def _sealed(kseal: Run, cert: Path, secret_json: bytes) -> bytes:
    out = kseal("seal", "--cert", str(cert), input=secret_json)
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_merge_into_added(kseal: Run, shared_pair: tuple[Path, Path], tmp_path: Path) -> None:
    """TestMergeInto/added: items, template labels and annotations of both are kept."""
    key, cert = shared_pair
    old = _sealed(kseal, cert, _test_secret("bar", "secret2"))
    merged = _merge(kseal, cert, key, _test_secret("foo", "secret1"), old, tmp_path / "ss.json")
    template_meta = merged["spec"]["template"]["metadata"]
    assert set(merged["spec"]["encryptedData"]) == {"foo", "bar"}
    assert template_meta["annotations"] == {"bar": "secret2", "foo": "secret1"}
    assert template_meta["labels"] == {"bar": "secret2", "foo": "secret1"}
    back = kseal("unseal", "-k", str(key), "-o", "json", str(tmp_path / "ss.json"))
    data = json.loads(back.stdout)["data"]
    assert {k: base64.b64decode(v).decode() for k, v in data.items()} == {
        "foo": "secret1",
        "bar": "secret2",
    }


def test_merge_into_updated(kseal: Run, shared_pair: tuple[Path, Path], tmp_path: Path) -> None:
    """TestMergeInto/updated: the same key is replaced everywhere, not duplicated."""
    key, cert = shared_pair
    old = _sealed(kseal, cert, _test_secret("foo", "secret2"))
    before = json.loads(old)
    merged = _merge(kseal, cert, key, _test_secret("foo", "secret1"), old, tmp_path / "ss.json")
    for get in (
        lambda d: d["spec"]["encryptedData"],
        lambda d: d["spec"]["template"]["metadata"]["annotations"],
        lambda d: d["spec"]["template"]["metadata"]["labels"],
    ):
        assert len(get(merged)) == 1
        assert get(merged)["foo"] != get(before)["foo"]


def test_merge_into_bad_name(kseal: Run, shared_pair: tuple[Path, Path], tmp_path: Path) -> None:
    """TestMergeInto/bad name: the target's name and namespace win over the input's."""
    key, cert = shared_pair
    old = _sealed(kseal, cert, _test_secret("bar", "secret2"))
    new = _test_secret("foo", "secret1", name="badname", namespace="badns")
    merged = _merge(kseal, cert, key, new, old, tmp_path / "ss.json")
    assert merged["metadata"]["name"] == "testname"
    assert merged["spec"]["template"]["metadata"]["name"] == "testname"
    assert merged["spec"]["template"]["metadata"]["namespace"] == "testns"


def test_merge_into_writes_go_map_order_and_the_target_scope_wins(
    kseal: Run, shared_pair: tuple[Path, Path], tmp_path: Path
) -> None:
    key, cert = shared_pair
    old = _sealed(kseal, cert, _test_secret("m", "x"))
    new = json.dumps(
        {
            "kind": "Secret",
            "metadata": {
                "name": "n",
                # scope annotations of the input do not move the target out of its scope
                "annotations": {"zeta": "1", "sealedsecrets.bitnami.com/cluster-wide": "true"},
                "labels": {"zz": "1", "aa": "2"},
            },
            "stringData": {"z": "1", "a": "2"},
        }
    ).encode()
    merged = _merge(kseal, cert, key, new, old, tmp_path / "ss.json")
    # Go's encoding/json writes map keys sorted, whatever the input order was.
    assert list(merged["spec"]["encryptedData"]) == ["a", "m", "z"]
    assert list(merged["spec"]["template"]["metadata"]["labels"]) == ["aa", "m", "zz"]
    assert list(merged["spec"]["template"]["metadata"]["annotations"]) == ["m", "zeta"]
    assert list(merged["metadata"]["annotations"]) == ["kseal.dev/sealing-key"]


def test_seal_json_output_sorts_labels_and_annotations(
    kseal: Run, shared_pair: tuple[Path, Path]
) -> None:
    _key, cert = shared_pair
    src = {
        **SECRET,
        "metadata": {
            "name": "db",
            "namespace": "prod",
            "labels": {"b": "1", "a": "2"},
            "annotations": {"y": "1", "x": "2"},
        },
    }
    out = kseal("seal", "--cert", str(cert), input=json.dumps(src).encode())
    assert out.returncode == 0, out.stderr
    meta = json.loads(out.stdout)["spec"]["template"]["metadata"]
    assert list(meta["labels"]) == ["a", "b"]
    assert list(meta["annotations"]) == ["x", "y"]


def test_namespace_mismatch_quotes_names_like_kubeseal(
    kseal: Run, shared_pair: tuple[Path, Path], tmp_path: Path
) -> None:
    _key, cert = shared_pair
    out = kseal("seal", "--cert", str(cert), "-n", "other", input=json.dumps(SECRET).encode())
    assert out.returncode == 2
    assert out.stderr.decode().splitlines()[0] == (
        'kseal: error: namespace mismatch: input secret is in namespace "prod" but "other" '
        "was specified"
    )
    target = tmp_path / "ss.json"
    target.write_bytes(_sealed(kseal, cert, _test_secret("a", "b")))
    out = kseal(
        "seal", "--cert", str(cert), "--merge-into", str(target), "-n", "other", input=SECRET_JSON
    )
    assert out.returncode == 2
    assert b'namespace "testns" but "other" was specified' in out.stderr


SECRET_JSON = json.dumps(SECRET).encode()


def test_raw_refuses_an_empty_value_unless_allowed(
    kseal: Run, shared_pair: tuple[Path, Path], tmp_path: Path
) -> None:
    key, cert = shared_pair
    args = ("seal", "--raw", "--cert", str(cert), "-n", "prod", "--name", "db")
    out = kseal(*args, input=b"")
    assert out.returncode == 2
    assert out.stdout == b""
    lines = out.stderr.decode().splitlines()
    assert lines[0].startswith("kseal: error: the value to seal is empty (stdin)")
    assert lines[1] == "kseal: hint: to seal an empty value, pass --allow-empty-data"
    (tmp_path / "empty").write_bytes(b"")
    out = kseal(*args, "--from-file", f"k={tmp_path / 'empty'}")
    assert out.returncode == 2
    assert str(tmp_path / "empty") in out.stderr.decode()
    out = kseal(*args, "--allow-empty-data", input=b"")
    assert out.returncode == 0, out.stderr
    private = keys.load_private_key_pem(key.read_bytes(), "k")
    assert sealed.unseal([private], base64.b64decode(out.stdout), b"prod/db") == b""


def test_unseal_output_holds_every_input(
    kseal: Run, shared_pair: tuple[Path, Path], tmp_path: Path
) -> None:
    """Several inputs and --output: one YAML stream with every Secret, in input order."""
    key, cert = shared_pair
    for name in ("one", "two", "three"):
        src = {**SECRET, "metadata": {"name": name, "namespace": "prod"}}
        (tmp_path / f"{name}.json").write_bytes(_sealed(kseal, cert, json.dumps(src).encode()))
    files = [str(tmp_path / f"{n}.json") for n in ("one", "two", "three")]
    out = kseal("unseal", "-k", str(key), "--output", str(tmp_path / "all.yaml"), *files)
    assert out.returncode == 0, out.stderr
    text = (tmp_path / "all.yaml").read_text()
    assert text.count("---\n") == 3
    assert [line for line in text.splitlines() if line.startswith("  name:")] == [
        "  name: one",
        "  name: two",
        "  name: three",
    ]
    assert (tmp_path / "all.yaml").stat().st_mode & 0o077 == 0
    # JSON: concatenated objects, as kubeseal writes several documents
    out = kseal(
        "unseal", "-k", str(key), "-o", "json", "--output", str(tmp_path / "a.json"), *files
    )
    assert out.returncode == 0, out.stderr
    docs = (tmp_path / "a.json").read_text().replace("}\n{", "}\n\x00{").split("\x00")
    assert [json.loads(d)["metadata"]["name"] for d in docs] == ["one", "two", "three"]
    # a failing input writes nothing at all
    (tmp_path / "bad.json").write_text('{"kind": "SealedSecret", "spec": []}')
    out = kseal(
        "unseal",
        "-k",
        str(key),
        "--output",
        str(tmp_path / "none.yaml"),
        files[0],
        str(tmp_path / "bad.json"),
    )
    assert out.returncode == 2
    assert not (tmp_path / "none.yaml").exists()
    assert f"kseal: error: {tmp_path / 'bad.json'}: spec must be a mapping" in out.stderr.decode()


@pytest.mark.parametrize(
    "namespace", ["Prod", "prod_1", "-prod", "prod-", "a" * 64, "prod.eu", "pröd", "../etc"]
)
def test_offline_unseal_refuses_namespaces_that_are_not_dns_labels(
    kseal: Run, shared_pair: tuple[Path, Path], tmp_path: Path, namespace: str
) -> None:
    key, _cert = shared_pair
    ss = {
        "apiVersion": "bitnami.com/v1alpha1",
        "kind": "SealedSecret",
        "metadata": {"name": "db", "namespace": namespace},
        "spec": {"encryptedData": {}, "template": {"metadata": {"name": "db"}}},
    }
    out = kseal("unseal", "-k", str(key), input=json.dumps(ss).encode())
    assert out.returncode == 2, out.stderr
    lines = out.stderr.decode().splitlines()
    assert lines[0] == (
        f"kseal: error: invalid namespace {json.dumps(namespace, ensure_ascii=False)} in the "
        "SealedSecret's metadata"
    )
    assert lines[1].startswith("kseal: hint: a namespace is a DNS label")
    assert out.stdout == b""
    ok = {**ss, "metadata": {"name": "db", "namespace": "a" * 63}}
    assert kseal("unseal", "-k", str(key), input=json.dumps(ok).encode()).returncode == 0


# Malformed manifests: every command says what is wrong (exit 2), never "unexpected internal error".
CYCLE = "the input has a YAML alias inside its own anchor (a cycle)"
SS_HEAD = "apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\n"
SS_META = "metadata: {name: db, namespace: prod}\n"
BAD_SECRETS = [
    ("kind: Secret\nmetadata: [1]\nstringData: {a: b}\n", "metadata must be a mapping, not a list"),
    ("kind: Secret\nmetadata: {name: db}\ndata: [1]\n", "data must be a mapping, not a list"),
    ("kind: Secret\nmetadata: {name: db}\nstringData: abc\n", "stringData must be a mapping"),
    ("kind: Secret\nmetadata: {name: [db]}\nstringData: {a: b}\n", "metadata.name must be a"),
    ("kind: Secret\nmetadata: {name: db, namespace: {a: 1}}\nstringData: {a: b}\n", "namespace"),
    ("kind: Secret\nmetadata: {name: db, annotations: [1]}\nstringData: {a: b}\n", "annotations"),
    ("kind: Secret\nmetadata: {name: db, labels: {a: [1]}}\nstringData: {a: b}\n", "labels.a"),
    ("kind: Secret\nmetadata: {name: db}\ndata: {a: {b: c}}\n", "data.a must be a string"),
    ("kind: Secret\nmetadata: {name: db}\nstringData: {a: [b]}\n", "stringData.a must be"),
    ("kind: Secret\nmetadata: {name: db}\nstringData: {a: b}\ntype: [1]\n", "type must be"),
    ("kind: Secret\nmetadata: {name: db}\nstringData: {a: b}\nimmutable: 'yes'\n", "immutable"),
    ("- 1\n- 2\n", "expected Kubernetes objects"),
    ("kind: Secret\nmetadata: &m {name: db, x: *m}\nstringData: {a: b}\n", CYCLE),
    ('{"kind": "Secret", "x": ' + "[" * 5000 + "]" * 5000 + "}", "nested too deeply"),
    ("kind: Secret\nmetadata: {name: db, x: " + "[" * 101 + "]" * 101 + "}\n", "nested too deeply"),
]
BAD_SEALED = [
    (SS_HEAD + SS_META + "spec: {encryptedData: [1]}\n", "spec.encryptedData must be a mapping"),
    (
        SS_HEAD + SS_META + "spec: {template: {metadata: abc}, encryptedData: {}}\n",
        "spec.template.metadata must be a mapping, not a string",
    ),
    (SS_HEAD + "metadata: [1]\nspec: {encryptedData: {}}\n", "metadata must be a mapping"),
    (SS_HEAD + SS_META + "spec: abc\n", "spec must be a mapping, not a string"),
    (SS_HEAD + SS_META + "spec: {template: [1], encryptedData: {}}\n", "spec.template must be"),
    (SS_HEAD + SS_META + "spec: {encryptedData: {a: {b: 1}}}\n", "spec.encryptedData.a must be"),
    (SS_HEAD + SS_META + "spec: {encryptedData: {a: '!!'}}\n", "spec.encryptedData.a is not"),
    (
        SS_HEAD + "metadata: {name: db, namespace: prod, annotations: [1]}\n"
        "spec: {encryptedData: {}}\n",
        "metadata.annotations must be a mapping",
    ),
    (SS_HEAD + "metadata: {name: [1], namespace: prod}\nspec: {}\n", "metadata.name must be"),
    (
        SS_HEAD + SS_META + "spec: {template: {metadata: {labels: 3}}}\n",
        "spec.template.metadata.labels must be",
    ),
    (SS_HEAD + SS_META + "spec: {template: {data: [1]}}\n", "spec.template.data must be"),
    (SS_HEAD + SS_META + "spec: {data: [1]}\n", "spec.data must be a string"),
    (SS_HEAD.replace("SealedSecret", "[1]") + SS_META, "expected a SealedSecret, got kind a list"),
    (SS_HEAD + SS_META + "spec: &s {encryptedData: {}, template: {data: *s}}\n", CYCLE),
]


def _one_line_input_error(out: subprocess.CompletedProcess[bytes], expected: str) -> None:
    err = out.stderr.decode()
    assert out.returncode == 2, err
    # a key file's loose mode gets its own warning line; the error is still one line
    lines = [ln for ln in err.splitlines() if not ln.startswith("kseal: warning: ")]
    assert lines[0].startswith("kseal: error: "), err
    assert expected in lines[0], err
    assert all(line.startswith("kseal: hint: ") for line in lines[1:]), err
    assert "internal error" not in err
    assert "Traceback" not in err


@pytest.mark.parametrize(("manifest", "expected"), BAD_SECRETS)
def test_seal_says_what_is_wrong_with_a_malformed_secret(
    kseal: Run, shared_pair: tuple[Path, Path], tmp_path: Path, manifest: str, expected: str
) -> None:
    _key, cert = shared_pair
    out = kseal("seal", "--cert", str(cert), "-n", "prod", input=manifest.encode())
    _one_line_input_error(out, expected)
    assert out.stdout == b""
    _one_line_input_error(kseal("seal", "--cert", str(cert), input=manifest.encode()), expected)
    target = tmp_path / "ss.json"
    before = _sealed(kseal, cert, SECRET_JSON)
    target.write_bytes(before)
    out = kseal("seal", "--cert", str(cert), "--merge-into", str(target), input=manifest.encode())
    _one_line_input_error(out, expected)
    assert target.read_bytes() == before


@pytest.mark.parametrize(("manifest", "expected"), BAD_SEALED)
def test_unseal_merge_and_reseal_say_what_is_wrong_with_a_malformed_sealed_secret(
    kseal: Run, shared_pair: tuple[Path, Path], tmp_path: Path, manifest: str, expected: str
) -> None:
    key, cert = shared_pair
    path = tmp_path / "ss.yaml"
    path.write_text(manifest)
    _one_line_input_error(kseal("unseal", "-k", str(key), input=manifest.encode()), expected)
    _one_line_input_error(kseal("unseal", "-k", str(key), str(path)), f"{path}: {expected}")
    recovery = kseal(
        "seal", "--recovery-unseal", "--recovery-private-key", str(key), "-f", str(path)
    )
    _one_line_input_error(recovery, expected)
    merge = kseal("seal", "--cert", str(cert), "--merge-into", str(path), input=SECRET_JSON)
    _one_line_input_error(merge, f"{path}: {expected}")
    assert path.read_text() == manifest
    out = kseal("reseal", "-k", str(key), "--cert", str(cert), str(path))
    if "SealedSecret" not in manifest:
        assert out.stderr == b"resealed 0 file(s), skipped 1 without SealedSecrets, 0 failed\n"
        return
    assert out.returncode == 1  # reseal's "some files failed"
    err = out.stderr.decode()
    assert f"kseal: error: {path}: {expected}" in err
    assert "internal error" not in err
    assert "Traceback" not in err
    assert path.read_text() == manifest


def test_key_backups_of_the_wrong_shape_are_input_errors(
    kseal: Run, shared_pair: tuple[Path, Path], tmp_path: Path
) -> None:
    _key, cert = shared_pair
    ss = tmp_path / "ss.json"
    ss.write_bytes(_sealed(kseal, cert, SECRET_JSON))
    for backup, expected in [
        ("kind: Secret\ndata: [1]\n", "data must be a mapping, not a list"),
        ("kind: Secret\ndata: {tls.key: [1]}\n", "data.tls.key must be a string"),
        ("kind: Secret\ndata: {tls.key: '!!'}\n", "data.tls.key is not valid base64"),
        ("kind: Secret\ndata: {}\n", "secret must contain a 'tls.key' key"),
    ]:
        (tmp_path / "backup.yaml").write_text(backup)
        out = kseal("unseal", "-k", str(tmp_path / "backup.yaml"), str(ss))
        _one_line_input_error(out, f"{tmp_path / 'backup.yaml'}: {expected}")


@settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    st.lists(st.tuples(st.sampled_from(SECRET_PATHS), JSONISH), min_size=1, max_size=3),
    st.lists(st.tuples(st.sampled_from(SEALED_PATHS), JSONISH), min_size=1, max_size=3),
)
def test_fuzzed_manifests_never_exit_3_through_the_cli(
    kseal: Run,
    shared_pair: tuple[Path, Path],
    tmp_path: Path,
    secret_changes: list[tuple[tuple[str, ...], object]],
    sealed_changes: list[tuple[tuple[str, ...], object]],
) -> None:
    """The end-to-end counterpart of the fuzz tests in tests/test_sealed.py: each command either
    works or prints `kseal: error:` with its own exit code, never the internal-error exit 3."""
    key, cert = shared_pair
    src = json.dumps(_mutate(SECRET_DOC, secret_changes)).encode()
    ss_path = tmp_path / "ss.json"
    ss_path.write_text(json.dumps(_mutate(_sealed_doc(), sealed_changes)))
    for out in (
        kseal("seal", "--cert", str(cert), "-n", "prod", input=src),
        kseal("unseal", "-k", str(key), str(ss_path)),
        kseal("seal", "--cert", str(cert), "--merge-into", str(ss_path), input=src),
    ):
        assert out.returncode != 3, out.stderr
        if out.returncode:
            assert out.stderr.decode().startswith("kseal: error: "), out.stderr
            assert b"Traceback" not in out.stderr
