"""``kseal bootstrap`` against the API emulator with the real kubernetes client (CLI in a
subprocess): all or nothing, idempotent, both write paths, clear errors, and no value anywhere."""

from __future__ import annotations

import base64
import json
import os
import re
import signal
import subprocess
import sys
import time

from tests.cluster.conftest import Env, plaintext_files, secret_yaml

SENTINEL = "s3ntinel-VALUE-9f2c"


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def _two_secrets(world: Env) -> None:
    world.encrypt("db.yaml", secret_yaml("db", password=SENTINEL, user="app")
                  + "---\n" + secret_yaml("api", token=SENTINEL + "-api"))


def _no_value(world: Env, out: subprocess.CompletedProcess[str]) -> None:
    for stream in (out.stdout, out.stderr):
        assert SENTINEL not in stream
        assert _b64(SENTINEL) not in stream
    assert plaintext_files([world.tmp, world.root / "repo", world.home], SENTINEL) == []


def test_bootstrap_creates_the_secrets(world: Env) -> None:
    _two_secrets(world)
    out = world.run("bootstrap", "db.yaml")
    assert out.returncode == 0, out.stderr
    db = world.api.get("Secret", "apps", "db")
    assert db is not None and db["data"] == {"password": _b64(SENTINEL), "user": _b64("app")}
    assert world.api.get("Secret", "apps", "api") is not None
    assert "created" in out.stdout
    _no_value(world, out)


def test_bootstrap_writes_with_server_side_apply_as_field_manager_kseal(world: Env) -> None:
    _two_secrets(world)
    assert world.run("bootstrap", "db.yaml").returncode == 0
    patches = [p for m, p in world.writes() if m == "PATCH"]
    assert len(patches) == 2
    assert all("fieldManager=kseal" in p and "force=true" in p for p in patches)


def test_a_rerun_makes_no_write_and_says_unchanged(world: Env) -> None:
    _two_secrets(world)
    assert world.run("bootstrap", "db.yaml").returncode == 0
    before = len(world.writes())
    out = world.run("bootstrap", "db.yaml")
    assert out.returncode == 0, out.stderr
    assert len(world.writes()) == before
    assert re.findall(r"(?m)^Secret\s+apps\s+(\S+)\s.*\bunchanged$", out.stdout) == ["db", "api"]
    assert "2 objects: 2 unchanged" in out.stdout


def test_a_changed_value_updates_only_that_secret(world: Env) -> None:
    _two_secrets(world)
    assert world.run("bootstrap", "db.yaml").returncode == 0
    api_rv = world.api.get("Secret", "apps", "api")["metadata"]["resourceVersion"]  # type: ignore[index]
    before = len(world.writes())
    world.encrypt("db.yaml", secret_yaml("db", password=SENTINEL + "2", user="app")
                  + "---\n" + secret_yaml("api", token=SENTINEL + "-api"))
    out = world.run("bootstrap", "db.yaml")
    assert out.returncode == 0, out.stderr
    writes = world.writes()[before:]
    assert len(writes) == 1 and "/secrets/db" in writes[0][1]
    assert world.api.get("Secret", "apps", "db")["data"]["password"] == _b64(SENTINEL + "2")  # type: ignore[index]
    assert world.api.get("Secret", "apps", "api")["metadata"]["resourceVersion"] == api_rv  # type: ignore[index]


def test_create_or_update_path_when_the_server_has_no_server_side_apply(world: Env) -> None:
    world.api.switch(server_side_apply=False)
    _two_secrets(world)
    out = world.run("bootstrap", "db.yaml")
    assert out.returncode == 0, out.stderr
    methods = [m for m, _ in world.writes()]
    assert methods.count("POST") == 2
    assert world.api.get("Secret", "apps", "db")["data"]["user"] == _b64("app")  # type: ignore[index]
    world.encrypt("db.yaml", secret_yaml("db", password=SENTINEL, user="other"))
    before = len(world.writes())
    out = world.run("bootstrap", "db.yaml")
    assert out.returncode == 0, out.stderr
    # each run probes server-side apply once (answered 415), then creates or updates
    assert [m for m, _ in world.writes()[before:]] == ["PATCH", "PUT"]
    assert world.api.get("Secret", "apps", "db")["data"]["user"] == _b64("other")  # type: ignore[index]
    assert "updated" in out.stdout


def test_create_or_update_retries_a_conflict(world: Env) -> None:
    world.api.switch(server_side_apply=False)
    world.api.seed({"apiVersion": "v1", "kind": "Secret",
                    "metadata": {"name": "db", "namespace": "apps"}, "data": {"user": _b64("x")}})
    world.encrypt("db.yaml", secret_yaml("db", password=SENTINEL, user="app"))
    world.api.fail(r"/secrets/db", 409, method="PUT", times=1, message=SENTINEL)
    out = world.run("bootstrap", "db.yaml")
    assert out.returncode == 0, out.stderr
    assert world.api.get("Secret", "apps", "db")["data"]["user"] == _b64("app")  # type: ignore[index]
    _no_value(world, out)


def test_a_conflict_that_persists_is_a_clear_error(world: Env) -> None:
    world.api.switch(server_side_apply=False)
    world.api.seed({"apiVersion": "v1", "kind": "Secret",
                    "metadata": {"name": "db", "namespace": "apps"}, "data": {"user": _b64("x")}})
    world.encrypt("db.yaml", secret_yaml("db", password=SENTINEL))
    world.api.fail(r"/secrets/db", 409, method="PUT", times=None, message=SENTINEL)
    out = world.run("bootstrap", "db.yaml")
    assert out.returncode == 1
    assert "conflict" in out.stderr and "run bootstrap again" in out.stderr
    _no_value(world, out)


def test_a_tampered_file_applies_nothing(world: Env) -> None:
    world.encrypt("a.yaml", secret_yaml("first", password=SENTINEL))
    path = world.encrypt("b.yaml", secret_yaml("second", password=SENTINEL))
    text = path.read_text()
    start = text.index("ENC[AES256_GCM,data:") + len("ENC[AES256_GCM,data:")
    path.write_text(text[:start] + ("A" if text[start] != "A" else "B") + text[start + 1:])
    out = world.run("bootstrap", ".")
    assert out.returncode != 0
    assert "b.yaml" in out.stderr
    assert world.api.requests == []
    _no_value(world, out)


def test_a_malformed_document_applies_nothing(world: Env) -> None:
    world.encrypt("a.yaml", secret_yaml("first", password=SENTINEL))
    world.encrypt("b.yaml", secret_yaml("Bad_Name", password=SENTINEL))
    out = world.run("bootstrap", "a.yaml", "b.yaml")
    assert out.returncode == 2
    assert "metadata.name" in out.stderr
    assert world.api.requests == []


def test_duplicate_objects_are_refused(world: Env) -> None:
    world.encrypt("a.yaml", secret_yaml("same", password=SENTINEL))
    world.encrypt("b.yaml", secret_yaml("same", password="other"))
    out = world.run("bootstrap", "a.yaml", "b.yaml")
    assert out.returncode == 2 and "appears twice" in out.stderr
    assert world.api.requests == []


def test_plaintext_secret_files_are_refused(world: Env) -> None:
    path = world.root / "repo" / "plain.yaml"
    path.write_text(secret_yaml("plain", password="not-secret"))
    out = world.run("bootstrap", "plain.yaml")
    assert out.returncode == 2
    assert "not SOPS-encrypted" in out.stderr and "kseal encrypt -i" in out.stderr
    assert world.api.requests == []


def test_other_kinds_are_refused_unless_allowed(world: Env) -> None:
    cm = ("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: apps\n"
          "data:\n  mode: " + SENTINEL + "\n")
    world.encrypt("cm.yaml", cm, rules=None)
    out = world.run("bootstrap", "cm.yaml")
    assert out.returncode == 2 and "--allow-kind ConfigMap" in out.stderr
    assert world.api.requests == []
    out = world.run("bootstrap", "--allow-kind", "ConfigMap", "cm.yaml")
    assert out.returncode == 0, out.stderr
    assert world.api.get("ConfigMap", "apps", "settings")["data"] == {"mode": SENTINEL}  # type: ignore[index]
    before = len(world.writes())
    assert world.run("bootstrap", "--allow-kind", "ConfigMap", "cm.yaml").returncode == 0
    assert len(world.writes()) == before


def test_json_and_fully_encrypted_documents(world: Env) -> None:
    doc = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "j", "namespace": "apps"},
           "data": {"k": _b64(SENTINEL)}}
    world.encrypt("s.json", json.dumps(doc), rules=__import__("kseal.sops.rules").sops.rules.Rules())
    out = world.run("bootstrap", "s.json", "--dry-run")
    assert out.returncode == 0, out.stderr
    assert "Secret apps/j" in out.stdout and "keys k" in out.stdout


def test_rbac_forbidden_names_the_verb_resource_and_the_check(world: Env) -> None:
    world.encrypt("db.yaml", secret_yaml("db", password=SENTINEL))
    world.api.fail(r"/secrets", 403, times=None, message=SENTINEL)
    out = world.run("bootstrap", "db.yaml")
    assert out.returncode == 1
    assert "forbidden" in out.stderr and "secrets in namespace apps" in out.stderr
    assert "kubectl auth can-i get secrets -n apps" in out.stderr
    _no_value(world, out)


def test_unauthorized_is_a_clear_error(world: Env) -> None:
    world.encrypt("db.yaml", secret_yaml("db", password=SENTINEL))
    world.api.fail(r"/secrets", 401, times=None, message=SENTINEL)
    out = world.run("bootstrap", "db.yaml")
    assert out.returncode == 1 and "401 Unauthorized" in out.stderr
    _no_value(world, out)


def test_missing_namespace_suggests_create_namespace(world: Env) -> None:
    world.api.switch(namespaces_exist=True)
    world.encrypt("db.yaml", secret_yaml("db", namespace="fresh", password=SENTINEL))
    out = world.run("bootstrap", "db.yaml")
    assert out.returncode == 1
    assert "namespace fresh does not exist" in out.stderr and "--create-namespace" in out.stderr
    assert world.writes() == []
    _no_value(world, out)


def test_create_namespace_creates_it(world: Env) -> None:
    world.api.switch(namespaces_exist=True)
    world.encrypt("db.yaml", secret_yaml("db", namespace="fresh", password=SENTINEL))
    out = world.run("bootstrap", "--create-namespace", "db.yaml")
    assert out.returncode == 0, out.stderr
    assert world.api.get("Namespace", None, "fresh") is not None
    assert world.api.get("Secret", "fresh", "db") is not None


def test_namespace_option_fills_documents_without_one(world: Env) -> None:
    world.encrypt("db.yaml", secret_yaml("db", namespace=None, password=SENTINEL))
    out = world.run("bootstrap", "db.yaml")
    assert out.returncode == 2 and "--namespace" in out.stderr
    out = world.run("bootstrap", "-n", "team", "db.yaml")
    assert out.returncode == 0, out.stderr
    assert world.api.get("Secret", "team", "db") is not None


def test_no_cluster_is_a_clear_error(world: Env) -> None:
    world.encrypt("db.yaml", secret_yaml("db", password=SENTINEL))
    out = world.run("bootstrap", "db.yaml", env=world.environ(KUBECONFIG=str(world.root / "none")))
    assert out.returncode == 1 and "kubeconfig" in out.stderr
    assert "--dry-run" in out.stderr
    _no_value(world, out)


def test_dry_run_is_offline_and_prints_key_names_only(world: Env) -> None:
    _two_secrets(world)
    out = world.run("bootstrap", "--dry-run", "db.yaml",
                    env=world.environ(KUBECONFIG=str(world.root / "none")))
    assert out.returncode == 0, out.stderr
    assert "Secret apps/db" in out.stdout and "password, user" in out.stdout
    assert world.api.requests == []
    _no_value(world, out)


def test_diff_prints_added_changed_and_removed_key_names(world: Env) -> None:
    world.api.seed({"apiVersion": "v1", "kind": "Secret",
                    "metadata": {"name": "db", "namespace": "apps"},
                    "data": {"password": _b64("old"), "gone": _b64(SENTINEL)}})
    world.encrypt("db.yaml", secret_yaml("db", password=SENTINEL, user="app")
                  + "---\n" + secret_yaml("api", token=SENTINEL))
    out = world.run("bootstrap", "--diff", "db.yaml")
    assert out.returncode == 0, out.stderr
    assert "  + user" in out.stdout and "  ~ password" in out.stdout and "  - gone" in out.stdout
    assert "Secret apps/api: would create" in out.stdout
    assert world.writes() == []
    _no_value(world, out)


def test_github_masks_first_and_writes_the_step_summary(world: Env) -> None:
    _two_secrets(world)
    summary = world.root / "summary.md"
    out = world.run("bootstrap", "db.yaml", env=world.environ(
        GITHUB_ACTIONS="true", GITHUB_STEP_SUMMARY=str(summary)))
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    masks = [line for line in lines if line.startswith("::add-mask::")]
    assert f"::add-mask::{SENTINEL}" in masks and f"::add-mask::{_b64(SENTINEL)}" in masks
    assert lines[: len(masks)] == masks
    rest = "\n".join(lines[len(masks):]) + out.stderr + summary.read_text()
    assert SENTINEL not in rest and _b64(SENTINEL) not in rest
    assert "| Secret | apps | db | password, user | created |" in summary.read_text()


def test_gitlab_prints_the_summary_without_masks(world: Env) -> None:
    _two_secrets(world)
    out = world.run("bootstrap", "db.yaml", env=world.environ(GITLAB_CI="true"))
    assert out.returncode == 0, out.stderr
    assert "::add-mask::" not in out.stdout and "RESULT" in out.stdout
    _no_value(world, out)


def test_no_plaintext_on_disk_after_sigint_during_a_slow_answer(world: Env) -> None:
    _two_secrets(world)
    world.api.delay(r"/secrets/db", 30)
    proc = subprocess.Popen(
        [sys.executable, "-m", "kseal", "bootstrap", "db.yaml"], cwd=world.root / "repo",
        env=world.environ(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 20
    while not any("/secrets/db" in p for _, p in world.api.requests):
        assert time.monotonic() < deadline and proc.poll() is None
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=20)
    assert proc.returncode == 130
    assert stderr.strip().splitlines()[-1:] == ["kseal: error: interrupted"], stderr
    assert SENTINEL not in stdout + stderr
    assert plaintext_files([world.tmp, world.root / "repo", world.home], SENTINEL) == []


def test_allow_kind_applies_a_crd_kind_found_through_discovery(world: Env) -> None:
    store = ("apiVersion: external-secrets.io/v1beta1\nkind: SecretStore\nmetadata:\n"
             "  name: vault\n  namespace: apps\nspec:\n  provider:\n    token: " + SENTINEL + "\n")
    world.encrypt("store.yaml", store, rules=__import__("kseal.sops.rules").sops.rules.Rules(
        encrypted_regex="^(spec)$"))
    out = world.run("bootstrap", "--allow-kind", "SecretStore", "store.yaml")
    assert out.returncode == 0, out.stderr
    assert ("GET", "/apis/external-secrets.io/v1beta1") in world.api.requests
    found = world.api.get("SecretStore", "apps", "vault")
    assert found is not None and found["spec"] == {"provider": {"token": SENTINEL}}
    _no_value(world, out)
    before = len(world.writes())
    assert world.run("bootstrap", "--allow-kind", "SecretStore", "store.yaml").returncode == 0
    assert len(world.writes()) == before


def test_an_unserved_api_version_is_refused_before_any_write(world: Env) -> None:
    doc = ("apiVersion: nowhere.example/v1\nkind: Thing\nmetadata:\n  name: t\n  namespace: apps\n"
           "spec:\n  v: " + SENTINEL + "\n")
    world.encrypt("thing.yaml", doc, rules=__import__("kseal.sops.rules").sops.rules.Rules())
    world.encrypt("db.yaml", secret_yaml("db", password=SENTINEL))
    out = world.run("bootstrap", "--allow-kind", "Thing", "db.yaml", "thing.yaml")
    assert out.returncode == 1 and "does not serve nowhere.example/v1" in out.stderr
    assert world.writes() == []
    _no_value(world, out)


def test_context_selects_the_cluster(world: Env) -> None:
    config = json.loads(world.kubeconfig.read_text())
    config["clusters"].append({"name": "dead", "cluster": {"server": "http://127.0.0.1:9"}})
    config["contexts"].append({"name": "dead", "context": {"cluster": "dead", "user": "tester"}})
    config["current-context"] = "dead"
    world.kubeconfig.write_text(json.dumps(config))
    world.encrypt("db.yaml", secret_yaml("db", password=SENTINEL))
    out = world.run("bootstrap", "db.yaml")
    assert out.returncode == 1 and "cannot reach the Kubernetes API server" in out.stderr
    _no_value(world, out)
    out = world.run("bootstrap", "--context", "emulator", "db.yaml")
    assert out.returncode == 0, out.stderr
    assert world.api.get("Secret", "apps", "db") is not None


def test_in_cluster_credentials_are_used_without_a_kubeconfig(world: Env) -> None:
    world.encrypt("db.yaml", secret_yaml("db", password=SENTINEL))
    env = world.environ(KUBERNETES_SERVICE_HOST="127.0.0.1", KUBERNETES_SERVICE_PORT="9")
    del env["KUBECONFIG"]
    out = world.run("bootstrap", "db.yaml", env=env)
    assert out.returncode == 1 and "service-account credentials" in out.stderr
    _no_value(world, out)


def test_age_key_file_option_adds_an_identity(world: Env) -> None:
    world.encrypt("db.yaml", secret_yaml("db", password=SENTINEL))
    env = world.environ()
    del env["KSEAL_AGE_KEY_FILE"]
    out = world.run("bootstrap", "--dry-run", "db.yaml", env=env)
    assert out.returncode == 128
    out = world.run("bootstrap", "--dry-run", "--age-key-file", str(world.identity), "db.yaml",
                    env=env)
    assert out.returncode == 0, out.stderr
    _no_value(world, out)


def test_plain_manifests_next_to_encrypted_ones_in_a_directory_are_skipped(world: Env) -> None:
    world.encrypt("secrets/db.yaml", secret_yaml("db", password=SENTINEL))
    (world.root / "repo" / "secrets" / "kustomization.yaml").write_text(
        "resources:\n  - db.yaml\n")
    out = world.run("bootstrap", "--dry-run", "secrets")
    assert out.returncode == 0, out.stderr
    assert "Secret apps/db" in out.stdout


def test_a_failure_midway_lists_what_was_handled_before_it(world: Env) -> None:
    _two_secrets(world)
    world.api.fail(r"/secrets/api", 403, method="PATCH", times=None, message=SENTINEL)
    out = world.run("bootstrap", "db.yaml")
    assert out.returncode == 1 and "may not patch secrets" in out.stderr
    assert "1 object(s) were handled before this error" in out.stderr
    assert re.search(r"(?m)^Secret\s+apps\s+db\s+password,user\s+created$", out.stdout)
    _no_value(world, out)
