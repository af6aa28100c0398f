"""``kseal keys backup|restore|list`` against the API emulator with the real kubernetes client,
and the disaster drill with the real controller: back up, wipe the cluster, restore, unseal.

The CLI runs in process (``kseal.cli.main.run``) so each call costs no interpreter start-up; the
controller runs in threads (tests/controller/running.py). Sentinel: no private key material
(``-----BEGIN``, the base64 of a key) is ever printed, on success or on error.
"""

from __future__ import annotations

import base64
import json
import os
import stat
import subprocess
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from kseal import agekey, keys
from kseal.controllerkeys import KEY_LABEL, LEGACY_NAME
from tests.controller import running
from tests.peers import sops_binary

pytest.importorskip("kubernetes")

NS = "kube-system"
SENTINEL = "SENTINEL-4b1e7d-drill-value"

Cli = Callable[..., tuple[int, str, str]]


@pytest.fixture
def age_identity(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> tuple[str, str]:
    secret, public = agekey.generate_identity()
    for name in list(os.environ):
        if name.startswith(("SOPS_", "KSEAL_")):
            monkeypatch.delenv(name)
    (tmp_path / "home").mkdir()
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("SOPS_AGE_KEY", secret)
    return secret, public


@pytest.fixture
def cli(
    kmock_server: Any, tmp_path: Path, capfd: pytest.CaptureFixture[str], age_identity: Any
) -> Iterator[Cli]:
    """Run ``kseal ARGS`` in process against the emulator: (exit code, stdout, stderr); every
    output is checked for key material."""
    from kseal.cli.main import run

    config = str(running.kubeconfig(tmp_path, kmock_server.url))
    seen: list[str] = []
    key_material: set[str] = set()

    def remember_keys() -> None:
        key_material.update(k for s in kmock_server.objects("Secret", NS) for k in _key_b64(s))

    def call(*args: str, cluster: bool = True) -> tuple[int, str, str]:
        argv = [*args, "--kubeconfig", config] if cluster else list(args)
        remember_keys()
        with pytest.raises(SystemExit) as done:
            run(argv)
        remember_keys()
        out, err = capfd.readouterr()
        seen.append(out + err)
        return int(done.value.code or 0), out, err

    yield call
    for text in seen:
        assert "-----BEGIN" not in text and SENTINEL not in text
        assert not any(k[:60] in text for k in key_material)


def _key_b64(secret: dict[str, Any]) -> list[str]:
    value = (secret.get("data") or {}).get("tls.key")
    return [value, base64.b64decode(value).decode()[40:100]] if value else []


def key_secret(name: str, days: int = 0, label: str | None = "active") -> dict[str, Any]:
    private, cert = keys.generate(
        datetime.now(UTC) - timedelta(days=days), bits=2048, ttl=timedelta(days=3650)
    )
    meta: dict[str, Any] = {"name": name, "namespace": NS}
    if label:
        meta["labels"] = {KEY_LABEL: label}
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": meta,
        "type": "kubernetes.io/tls",
        "data": {
            "tls.key": base64.b64encode(private).decode(),
            "tls.crt": base64.b64encode(cert).decode(),
        },
    }


def fingerprint_of(secret: dict[str, Any]) -> str:
    return keys.load_certificate(base64.b64decode(secret["data"]["tls.crt"])).fingerprint


# --- backup ---------------------------------------------------------------------------------------


def test_backup_writes_one_sops_list_of_every_key_secret_that_real_sops_opens(
    cli: Cli, kmock_server: Any, tmp_path: Path, age_identity: tuple[str, str]
) -> None:
    labelled = kmock_server.seed(key_secret("sealed-secrets-keyabcde", 3))
    legacy = kmock_server.seed(key_secret(LEGACY_NAME, 40, label=None))
    kmock_server.seed(
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "other", "namespace": NS},
            "data": {"x": "eQ=="},
        }
    )
    out = tmp_path / "keys.sops.yaml"
    code, _, err = cli("keys", "backup", "-o", str(out), "--age", age_identity[1])
    assert code == 0, err
    assert fingerprint_of(labelled) in err and fingerprint_of(legacy) in err
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["home", "keys.sops.yaml", "kubeconfig"]
    text = out.read_text()
    assert labelled["data"]["tls.key"] not in text and "ENC[AES256_GCM" in text
    assert "resourceVersion" not in text and "uid:" not in text
    sops = sops_binary()
    if sops is None:
        pytest.skip("the sops binary is not installed")
    done = subprocess.run(
        [sops, "decrypt", "--output-type", "json", str(out)],
        capture_output=True,
        check=False,
        env={**os.environ, "SOPS_AGE_KEY": age_identity[0]},
    )
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert doc["kind"] == "List"
    assert {s["metadata"]["name"] for s in doc["items"]} == {"sealed-secrets-keyabcde", LEGACY_NAME}
    by_name = {s["metadata"]["name"]: s for s in doc["items"]}
    assert by_name[LEGACY_NAME]["data"] == legacy["data"]


def test_backup_check_exits_0_when_complete_and_1_listing_missing_fingerprints(
    cli: Cli, kmock_server: Any, tmp_path: Path, age_identity: tuple[str, str]
) -> None:
    kmock_server.seed(key_secret("sealed-secrets-key1", 5))
    out = str(tmp_path / "keys.sops.yaml")
    assert cli("keys", "backup", "-o", out, "--age", age_identity[1])[0] == 0
    code, _, err = cli("keys", "backup", "--check", out)
    assert code == 0 and "holds all 1 key(s)" in err
    newer = kmock_server.seed(key_secret("sealed-secrets-key2", 0))
    code, _, err = cli("keys", "backup", "--check", out)
    assert code == 1
    assert f"missing: {fingerprint_of(newer)}" in err and "lacks 1 of the 2 key(s)" in err


def test_backup_without_key_secrets_or_without_output_is_a_clear_error(
    cli: Cli, tmp_path: Path, age_identity: tuple[str, str]
) -> None:
    code, _, err = cli("keys", "backup", "-o", str(tmp_path / "k.yaml"), "--age", age_identity[1])
    assert code == 1 and "no key Secrets found in namespace kube-system" in err
    assert not (tmp_path / "k.yaml").exists()
    code, _, err = cli("keys", "backup")
    assert code == 8 and "either -o FILE" in err


def test_forbidden_listing_names_the_rbac_fix(cli: Cli, kmock_server: Any, tmp_path: Path) -> None:
    kmock_server.fail(r"/api/v1/namespaces/kube-system/secrets", 403)
    code, _, err = cli("keys", "list")
    assert code == 1 and "may not list secrets" in err and "kubectl auth can-i list secrets" in err


# --- restore ------------------------------------------------------------------------------------


def _backup(cli: Cli, tmp_path: Path, recipient: str) -> str:
    out = str(tmp_path / "keys.sops.yaml")
    code, _, err = cli("keys", "backup", "-o", out, "--age", recipient)
    assert code == 0, err
    return out


def test_restore_creates_the_keys_then_leaves_them_unchanged_and_dry_run_writes_nothing(
    cli: Cli, kmock_server: Any, tmp_path: Path, age_identity: tuple[str, str]
) -> None:
    original = kmock_server.seed(key_secret("sealed-secrets-keyaaaaa", 2))
    path = _backup(cli, tmp_path, age_identity[1])
    kmock_server.reset()
    code, _, err = cli("keys", "restore", path, "--dry-run")
    assert code == 0 and "would create: kube-system/sealed-secrets-keyaaaaa" in err
    assert kmock_server.objects("Secret", NS) == []
    code, _, err = cli("keys", "restore", path)
    assert code == 0 and "created: kube-system/sealed-secrets-keyaaaaa" in err
    restored = kmock_server.get("Secret", NS, "sealed-secrets-keyaaaaa")
    assert restored["data"] == original["data"]
    assert restored["metadata"]["labels"] == {KEY_LABEL: "active"}
    code, _, err = cli("keys", "restore", path)
    assert code == 0 and "unchanged: kube-system/sealed-secrets-keyaaaaa" in err
    assert [m for m, _ in kmock_server.requests if m == "POST"] == ["POST"]


def test_restore_into_another_namespace(
    cli: Cli, kmock_server: Any, tmp_path: Path, age_identity: tuple[str, str]
) -> None:
    kmock_server.seed(key_secret("sealed-secrets-keyaaaaa", 2))
    path = _backup(cli, tmp_path, age_identity[1])
    code, _, err = cli("keys", "restore", path, "--controller-namespace", "sealed-secrets")
    assert code == 0, err
    assert kmock_server.get("Secret", "sealed-secrets", "sealed-secrets-keyaaaaa")


def test_restore_never_overwrites_a_different_secret_of_the_same_name(
    cli: Cli, kmock_server: Any, tmp_path: Path, age_identity: tuple[str, str]
) -> None:
    kmock_server.seed(key_secret("sealed-secrets-keyaaaaa", 2))
    kmock_server.seed(key_secret("sealed-secrets-keybbbbb", 1))
    path = _backup(cli, tmp_path, age_identity[1])
    kmock_server.reset()
    squatter = kmock_server.seed(key_secret("sealed-secrets-keybbbbb", 0))
    code, _, err = cli("keys", "restore", path)
    assert code == 8 and "restore never overwrites" in err and "sealed-secrets-keybbbbb" in err
    assert kmock_server.get("Secret", NS, "sealed-secrets-keyaaaaa") is None  # nothing written
    assert kmock_server.get("Secret", NS, "sealed-secrets-keybbbbb")["data"] == squatter["data"]


def test_restore_with_the_wrong_identity_fails_and_writes_nothing(
    cli: Cli, kmock_server: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    kmock_server.seed(key_secret("sealed-secrets-keyaaaaa", 2))
    path = _backup(cli, tmp_path, agekey.generate_identity()[1])
    kmock_server.reset()
    code, _, _ = cli("keys", "restore", path)
    assert code == 128
    assert kmock_server.objects("Secret", NS) == []


# --- list ---------------------------------------------------------------------------------------


def test_list_shows_fingerprint_age_expiry_and_the_active_key(cli: Cli, kmock_server: Any) -> None:
    old = kmock_server.seed(key_secret("sealed-secrets-keyold00", 40))
    new = kmock_server.seed(key_secret("sealed-secrets-keynew00", 2))
    bad = kmock_server.seed(key_secret("sealed-secrets-keybad00", 10, label="compromised"))
    code, out, _ = cli("keys", "list")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["FINGERPRINT", "SECRET", "STATE", "AGE", "EXPIRES"]
    assert lines[1].split()[:4] == [fingerprint_of(new), "sealed-secrets-keynew00", "active", "2d"]
    assert lines[2].split()[:3] == [fingerprint_of(bad), "sealed-secrets-keybad00", "compromised"]
    assert lines[3].split()[:5] == [
        fingerprint_of(old),
        "sealed-secrets-keyold00",
        "in",
        "use",
        "40d",
    ]


def test_list_sealed_counts_per_key_and_flags_lost_and_unknown_keys(
    cli: Cli, kmock_server: Any, tmp_path: Path
) -> None:
    from kseal.secret import KEY_ANNOTATION

    key = kmock_server.seed(key_secret("sealed-secrets-keyaaaaa", 2))
    tree = tmp_path / "repo" / "apps"
    tree.mkdir(parents=True)

    def sealed(name: str, fp: str | None) -> dict[str, Any]:
        meta: dict[str, Any] = {"name": name, "namespace": "app"}
        if fp:
            meta["annotations"] = {KEY_ANNOTATION: fp}
        return {
            "apiVersion": "bitnami.com/v1alpha1",
            "kind": "SealedSecret",
            "metadata": meta,
            "spec": {"encryptedData": {"x": "AAAA"}},
        }

    (tree / "a.yaml").write_text(json.dumps(sealed("a", fingerprint_of(key))))
    (tree / "b.json").write_text(
        json.dumps(
            {
                "apiVersion": "v1",
                "kind": "List",
                "items": [
                    sealed("b", fingerprint_of(key)),
                    sealed("c", "SHA256:lostkey"),
                    sealed("d", None),
                ],
            }
        )
    )
    (tree / "notes.txt").write_text("kind: SealedSecret")
    code, out, _ = cli("keys", "list", "--sealed", str(tmp_path / "repo"))
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split()[-1] == "SEALED" and lines[1].split()[-1] == "2"
    assert "1 SealedSecret(s) sealed with SHA256:lostkey, a key the cluster no longer has" in out
    assert "1 SealedSecret(s) without the kseal.dev/sealing-key annotation" in out


# --- the disaster drill ---------------------------------------------------------------------------


def _seal_for(running_controller: Any, name: str) -> dict[str, Any]:
    from kseal.secret import seal_secret

    key = running_controller.controller.keyring.latest()
    plain = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name, "namespace": "app"},
        "stringData": {"password": SENTINEL},
    }
    return seal_secret(plain, key.private_key.public_key(), key_fingerprint=key.fingerprint)


def _unsealed(kmock_server: Any, name: str) -> bool:
    found = kmock_server.get("Secret", "app", name)
    return bool(found) and base64.b64decode(found["data"]["password"]).decode() == SENTINEL


def test_disaster_drill_backup_wipe_restore_and_a_fresh_controller_unseals_old_sealed_secrets(
    cli: Cli, kmock_server: Any, tmp_path: Path, age_identity: tuple[str, str]
) -> None:
    with running.controller(kmock_server.url) as first:
        running.wait_until(lambda: first.controller.keyring.latest(), what="the first key")
        sealed = [_seal_for(first, "db"), _seal_for(first, "api")]
        old_fp = first.controller.keyring.latest().fingerprint
        path = _backup(cli, tmp_path, age_identity[1])
    kmock_server.reset()  # the cluster is lost
    code, _, err = cli("keys", "restore", path)
    assert code == 0 and "created: kube-system/" in err and old_fp in err
    with running.controller(kmock_server.url) as fresh:
        running.wait_until(
            lambda: fresh.controller.keyring.by_fingerprint(old_fp), what="the restored key"
        )
        assert len(fresh.controller.keyring) == 1  # no new key: the restored one is current
        for ss in sealed:
            kmock_server.seed(ss)
        running.wait_until(
            lambda: _unsealed(kmock_server, "db") and _unsealed(kmock_server, "api"),
            what="the old SealedSecrets unsealed",
        )
        assert cli("keys", "backup", "--check", path)[0] == 0
        fresh.controller.new_key_now.set()  # as SIGUSR1: the controller makes a new key
        running.wait_until(lambda: len(fresh.controller.keyring) == 2, what="a new key")
        new_fp = fresh.controller.keyring.latest().fingerprint
        code, _, err = cli("keys", "backup", "--check", path)
    assert code == 1 and f"missing: {new_fp}" in err and old_fp not in err


def test_restore_after_the_controller_started_is_picked_up_without_a_restart(
    cli: Cli, kmock_server: Any, tmp_path: Path, age_identity: tuple[str, str]
) -> None:
    with running.controller(kmock_server.url) as first:
        running.wait_until(lambda: first.controller.keyring.latest(), what="the first key")
        sealed = _seal_for(first, "db")
        old_fp = first.controller.keyring.latest().fingerprint
        path = _backup(cli, tmp_path, age_identity[1])
    kmock_server.reset()
    with running.controller(kmock_server.url) as fresh:
        running.wait_until(lambda: fresh.controller.keyring.latest(), what="a fresh key")
        assert fresh.controller.keyring.by_fingerprint(old_fp) is None
        kmock_server.seed(sealed)
        code, _, err = cli("keys", "restore", path)
        assert code == 0, err
        running.wait_until(
            lambda: fresh.controller.keyring.by_fingerprint(old_fp),
            what="the restored key in the running controller",
        )
        running.wait_until(lambda: _unsealed(kmock_server, "db"), what="the old SealedSecret")


def test_restore_into_a_missing_namespace_names_it_and_the_fix(
    cli: Cli, kmock_server: Any, tmp_path: Path, age_identity: tuple[str, str]
) -> None:
    kmock_server.seed(key_secret("sealed-secrets-keyaaaaa", 2))
    path = _backup(cli, tmp_path, age_identity[1])
    kmock_server.reset()
    kmock_server.fail(r"/namespaces/kube-system/secrets$", 404, method="POST")
    code, _, err = cli("keys", "restore", path)
    assert code == 1 and "namespace kube-system not found" in err
    assert "kubectl create namespace kube-system" in err


def test_a_tampered_backup_restores_nothing(
    cli: Cli, kmock_server: Any, tmp_path: Path, age_identity: tuple[str, str]
) -> None:
    kmock_server.seed(key_secret("sealed-secrets-keyaaaaa", 2))
    path = Path(_backup(cli, tmp_path, age_identity[1]))
    kmock_server.reset()
    text = path.read_text()
    path.write_text(text.replace("name: sealed-secrets-keyaaaaa", "name: sealed-secrets-keyzzzzz"))
    code, _, err = cli("keys", "restore", str(path))
    assert code == 51, err
    assert kmock_server.objects("Secret", NS) == []


def test_restore_refused_by_rbac_names_the_create_fix_and_writes_nothing(
    cli: Cli, kmock_server: Any, tmp_path: Path, age_identity: tuple[str, str]
) -> None:
    kmock_server.seed(key_secret("sealed-secrets-keyaaaaa", 2))
    path = _backup(cli, tmp_path, age_identity[1])
    kmock_server.reset()
    kmock_server.fail(r"/api/v1/namespaces/kube-system/secrets$", 403, method="POST", times=None)
    code, _, err = cli("keys", "restore", path)
    assert code == 1, err
    assert "may not create secrets" in err and "kubectl auth can-i create secrets" in err
    assert kmock_server.objects("Secret", NS) == []
