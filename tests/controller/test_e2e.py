"""End to end: the real controller, the real kubernetes client and the real kseal CLI against the
API emulator (no real API server can run here; see docs/controller/testing.md)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from tests.controller.running import (
    NAMESPACE,
    controller,
    kseal,
    kubeconfig,
    metric,
    proxy_to,
    wait_until,
)

SENTINEL = "SENTINEL-5f3a9c-value"


def _secret(name: str = "db", namespace: str = "app", **data: str) -> bytes:
    items = data or {"password": SENTINEL}
    lines = ["apiVersion: v1", "kind: Secret", "metadata:", f"  name: {name}",
             f"  namespace: {namespace}", "stringData:"]
    lines += [f"  {k}: {v}" for k, v in items.items()]
    return ("\n".join(lines) + "\n").encode()


def test_a_secret_sealed_with_the_fetched_certificate_becomes_the_secret(
    kmock_server: Any, tmp_path: Path
) -> None:
    with controller(kmock_server.url) as running:
        proxy_to(kmock_server, running.api_port)
        env = {**os.environ, "KUBECONFIG": str(kubeconfig(tmp_path, kmock_server.url))}
        cert = kseal("seal", "--fetch-cert", env=env)
        assert b"BEGIN CERTIFICATE" in cert
        (tmp_path / "cert.pem").write_bytes(cert)
        sealed = kseal("seal", "--cert", str(tmp_path / "cert.pem"), "-o", "json",
                       stdin=_secret(), env=env)
        import json

        kmock_server.seed(json.loads(sealed))
        secret = wait_until(lambda: kmock_server.get("Secret", "app", "db"), what="the Secret")
        import base64

        assert base64.b64decode(secret["data"]["password"]).decode() == SENTINEL
        wait_until(lambda: _reasons(kmock_server) == ["Unsealed"], what="the Unsealed Event")
        ss = wait_until(
            lambda: (kmock_server.get("SealedSecret", "app", "db") or {}).get("status"),
            what="the status",
        )
        assert ss["conditions"][0]["status"] == "True"
        assert metric(running.metrics_port, "kseal_controller_rsa_operations_total") >= 1
        assert kmock_server.objects("Secret", NAMESPACE)  # the key Secret it made


# ---- helpers sealing in process with the running controller's certificate ------------------

def _seal(public_key: Any, name: str = "db", namespace: str = "app", *, scope: str = "strict",
          template_data: dict[str, str] | None = None, **data: str) -> dict[str, Any]:
    from kseal.sealed import Scope
    from kseal.secret import seal_secret
    from kseal.yamlio import safe_load_all

    secret = safe_load_all(_secret(name, namespace, **data).decode())[0]
    sealed = seal_secret(secret, public_key, scope=Scope.parse(scope))
    if template_data:
        sealed["spec"]["template"]["data"] = template_data
    return sealed


def _latest_public(running: Any) -> Any:
    return running.controller.keyring.latest().private_key.public_key()


def _status(kmock_server: Any, name: str = "db", namespace: str = "app") -> dict[str, Any]:
    ss = kmock_server.get("SealedSecret", namespace, name) or {}
    conditions = (ss.get("status") or {}).get("conditions") or [{}]
    return conditions[0]


def _decoded(secret: dict[str, Any]) -> dict[str, str]:
    import base64

    return {k: base64.b64decode(v).decode() for k, v in (secret.get("data") or {}).items()}


def _reasons(kmock_server: Any, namespace: str = "app") -> list[str]:
    return [e["reason"] for e in kmock_server.objects("Event", namespace)]


def test_a_renamed_sealed_secret_fails_with_the_label_hint_in_status_event_and_metric(
    kmock_server: Any,
) -> None:
    with controller(kmock_server.url, "--max-unseal-retries=1") as running:
        sealed = _seal(_latest_public(running))
        sealed["metadata"]["name"] = "renamed"
        kmock_server.seed(sealed)
        cond = wait_until(lambda: _status(kmock_server, "renamed").get("status") == "False"
                          and _status(kmock_server, "renamed"), what="Synced False")
        assert cond["message"].startswith("no key could decrypt secret (password)")
        assert "'app/db'" in cond["message"]  # the label it was sealed for, from the template
        wait_until(lambda: "ErrUnsealFailed" in _reasons(kmock_server), what="the Event")
        assert kmock_server.get("Secret", "app", "renamed") is None
        errors = 'namespace="app",reason="unseal"'
        wait_until(lambda: metric(running.metrics_port,
                                  "sealed_secrets_controller_unseal_errors_total", errors) >= 1)
        assert metric(running.metrics_port, "sealed_secrets_controller_condition_info",
                      'condition="Synced",name="renamed",namespace="app",'
                      'ss_app_kubernetes_io_instance=""') == -1


def test_a_value_sealed_for_another_key_fails(kmock_server: Any) -> None:
    from datetime import UTC, datetime

    from kseal import keys

    _pem, cert = keys.generate(datetime.now(UTC), bits=2048)
    other = keys.load_certificate(cert).public_key
    with controller(kmock_server.url, "--max-unseal-retries=1"):
        kmock_server.seed(_seal(other))
        cond = wait_until(lambda: _status(kmock_server).get("status") == "False"
                          and _status(kmock_server), what="Synced False")
        assert "no key could decrypt secret" in cond["message"]
        assert "1 private key(s) tried" in cond["message"]


def test_an_unmanaged_secret_is_left_alone_and_said_so(kmock_server: Any) -> None:
    kmock_server.seed({"apiVersion": "v1", "kind": "Secret",
                       "metadata": {"name": "db", "namespace": "app"}, "data": {"x": "eA=="}})
    with controller(kmock_server.url, "--max-unseal-retries=1") as running:
        kmock_server.seed(_seal(_latest_public(running)))
        cond = wait_until(lambda: _status(kmock_server).get("status") == "False"
                          and _status(kmock_server), what="Synced False")
        assert 'Resource "db" already exists and is not managed by SealedSecret' in cond["message"]
        wait_until(lambda: "ErrUpdateFailed" in _reasons(kmock_server), what="the Event")
        assert _decoded(kmock_server.get("Secret", "app", "db")) == {"x": "x"}
        wait_until(lambda: metric(running.metrics_port,
                                  "sealed_secrets_controller_unseal_errors_total",
                                  'namespace="app",reason="unmanaged"') >= 1)


def test_a_managed_secret_is_taken_over(kmock_server: Any) -> None:
    kmock_server.seed({"apiVersion": "v1", "kind": "Secret", "metadata": {
        "name": "db", "namespace": "app",
        "annotations": {"sealedsecrets.bitnami.com/managed": "true"}}, "data": {"x": "eA=="}})
    with controller(kmock_server.url) as running:
        ss = kmock_server.seed(_seal(_latest_public(running)))
        secret = wait_until(lambda: "password" in (kmock_server.get("Secret", "app", "db")
                                                   .get("data") or {})
                            and kmock_server.get("Secret", "app", "db"))
        assert _decoded(secret) == {"password": SENTINEL}
        assert secret["metadata"]["ownerReferences"][0]["uid"] == ss["metadata"]["uid"]


def test_template_data_is_rendered(kmock_server: Any) -> None:
    with controller(kmock_server.url) as running:
        kmock_server.seed(_seal(_latest_public(running), template_data={
            "dsn": "postgres://app:{{ .password }}@db:5432/app", "json": "{{ toJson .password }}"}))
        secret = wait_until(lambda: kmock_server.get("Secret", "app", "db"))
        assert _decoded(secret) == {"password": SENTINEL,
                                    "dsn": f"postgres://app:{SENTINEL}@db:5432/app",
                                    "json": f'"{SENTINEL}"'}


def test_key_renewal_keeps_old_sealed_secrets_working(kmock_server: Any) -> None:
    with controller(kmock_server.url) as running:
        old_public = _latest_public(running)
        first = running.controller.keyring.latest().fingerprint
        running.controller.new_key_now.set()  # what SIGUSR1 does
        wait_until(lambda: len(running.controller.keyring) == 2, what="a second key")
        assert running.controller.keyring.latest().fingerprint != first
        kmock_server.seed(_seal(old_public, "old"))
        kmock_server.seed(_seal(_latest_public(running), "new"))
        for name in ("old", "new"):
            assert _decoded(wait_until(lambda n=name: kmock_server.get("Secret", "app", n))) == {
                "password": SENTINEL}
        assert len([s for s in kmock_server.objects("Secret", NAMESPACE)]) == 2


def test_a_key_secret_added_while_running_is_used_without_a_restart(kmock_server: Any) -> None:
    from datetime import UTC, datetime

    from kseal import keys
    from kseal_controller import keyring

    pem, cert = keys.generate(datetime.now(UTC), bits=2048)
    restored = keys.load_certificate(cert).public_key
    with controller(kmock_server.url, "--max-unseal-retries=1"):
        kmock_server.seed(_seal(restored))  # fails: the key is not there yet
        wait_until(lambda: _status(kmock_server).get("status") == "False", what="a failure")
        kmock_server.seed(keyring.key_secret(pem, cert, prefix="sealed-secrets-key",
                                             namespace=NAMESPACE, labels={}, annotations={})
                          | {"metadata": {"name": "restored-key", "namespace": NAMESPACE,
                                          "labels": {keyring.KEY_LABEL: "active"}}})
        secret = wait_until(lambda: kmock_server.get("Secret", "app", "db"), what="the Secret")
        assert _decoded(secret) == {"password": SENTINEL}
        wait_until(lambda: _status(kmock_server).get("status") == "True")
        assert "message" not in _status(kmock_server)  # no stale message after recovery


def test_verify_and_rotate_behave_as_the_originals(kmock_server: Any) -> None:
    import json

    from kseal.secret import unseal_sealed_secret

    with controller(kmock_server.url) as running:
        good = _seal(_latest_public(running))
        bad = _seal(_latest_public(running))
        bad["metadata"]["name"] = "elsewhere"
        port = running.api_port
        assert http_status(port, "/v1/verify", json.dumps(good).encode()) == 200
        assert http_status(port, "/v1/verify", json.dumps(bad).encode()) == 409
        running.controller.new_key_now.set()
        wait_until(lambda: len(running.controller.keyring) == 2)
        newest = running.controller.keyring.latest()
        # a template that claims a wider scope than the values were sealed for is not kept
        good["spec"]["template"]["metadata"].setdefault("annotations", {})[
            "sealedsecrets.bitnami.com/cluster-wide"] = "true"
        status, body = _http(port, "/v1/rotate", json.dumps(good).encode(), "POST")
        assert status == 200
        rotated = json.loads(body)
        assert rotated["metadata"]["annotations"]["kseal.dev/sealing-key"] == newest.fingerprint
        assert "sealedsecrets.bitnami.com/cluster-wide" not in (
            rotated["spec"]["template"]["metadata"].get("annotations") or {})
        opened = unseal_sealed_secret(rotated, [newest.private_key])
        assert _decoded(opened) == {"password": SENTINEL}
        assert _http(port, "/v1/rotate", json.dumps(bad).encode(), "POST")[0] == 500


def http_status(port: int, path: str, body: bytes) -> int:
    return _http(port, path, body, "POST")[0]


def _http(port: int, path: str, body: bytes, method: str) -> tuple[int, bytes]:
    from tests.controller.running import http

    return http(port, path, body, method)


def test_a_restart_in_sync_does_no_rsa_and_restores_a_hand_edited_secret(
    kmock_server: Any,
) -> None:
    names = [f"s{i}" for i in range(12)]
    with controller(kmock_server.url) as running:
        public = _latest_public(running)
        for name in names:
            kmock_server.seed(_seal(public, name, a=SENTINEL, b="two"))
        for name in names:
            wait_until(lambda n=name: kmock_server.get("Secret", "app", n), what=name)
    edited = kmock_server.get("Secret", "app", "s3")
    edited["data"]["a"] = "aGFja2Vk"  # "hacked"
    kmock_server.update(edited)
    with controller(kmock_server.url) as running:
        wait_until(lambda: metric(running.metrics_port,
                                  "sealed_secrets_controller_unseal_requests_total") >= 12)
        wait_until(lambda: _decoded(kmock_server.get("Secret", "app", "s3"))["a"] == SENTINEL,
                   what="the hand edit undone")
        assert metric(running.metrics_port, "kseal_controller_restart_skips_total") == 11
        assert metric(running.metrics_port, "kseal_controller_rsa_operations_total") == 2


def test_a_deleted_secret_is_recreated_unless_skip_recreate(kmock_server: Any) -> None:
    with controller(kmock_server.url) as running:
        kmock_server.seed(_seal(_latest_public(running)))
        wait_until(lambda: kmock_server.get("Secret", "app", "db"))
        kmock_server.delete("Secret", "app", "db")
        wait_until(lambda: kmock_server.get("Secret", "app", "db"), what="re-creation")
    with controller(kmock_server.url, "--skip-recreate") as running:
        wait_until(lambda: metric(running.metrics_port,
                                  "sealed_secrets_controller_unseal_requests_total") >= 1)
        kmock_server.delete("Secret", "app", "db")
        import time

        time.sleep(0.5)
        assert kmock_server.get("Secret", "app", "db") is None


def test_api_errors_and_expired_watches_are_survived(kmock_server: Any) -> None:
    with controller(kmock_server.url) as running:
        public = _latest_public(running)
        kmock_server.fail(r"/namespaces/app/secrets$", 500, method="POST", times=2)
        kmock_server.seed(_seal(public, "one"))
        wait_until(lambda: kmock_server.get("Secret", "app", "one"), what="created after 500s")
        kmock_server.expire_watches()
        kmock_server.seed(_seal(public, "two"))
        wait_until(lambda: kmock_server.get("Secret", "app", "two"), what="seen after a 410")
        changed = _seal(public, "one", password="new-value")
        current = kmock_server.get("SealedSecret", "app", "one")
        current["spec"] = changed["spec"]
        kmock_server.fail(r"/namespaces/app/secrets/one$", 409, method="PUT", times=1)
        kmock_server.update(current)
        wait_until(lambda: _decoded(kmock_server.get("Secret", "app", "one")).get("password")
                   == "new-value", what="the update after a conflict")


def test_no_value_reaches_logs_events_status_or_metrics(
    kmock_server: Any, caplog: Any
) -> None:
    import logging

    caplog.set_level(logging.DEBUG)
    kmock_server.seed({"apiVersion": "v1", "kind": "Secret",
                       "metadata": {"name": "taken", "namespace": "app"}, "data": {}})
    with controller(kmock_server.url, "--max-unseal-retries=1", "--log-level=DEBUG") as running:
        public = _latest_public(running)
        kmock_server.seed(_seal(public, "ok"))
        kmock_server.seed(_seal(public, "taken"))
        renamed = _seal(public, "x")
        renamed["metadata"]["name"] = "renamed"
        kmock_server.seed(renamed)
        kmock_server.seed(_seal(public, "tpl", template_data={"t": "{{ sha256sum .password }}"}))
        for name in ("taken", "renamed", "tpl"):
            wait_until(lambda n=name: _status(kmock_server, n).get("status") == "False", what=name)
        wait_until(lambda: kmock_server.get("Secret", "app", "ok"))
        wait_until(lambda: {"Unsealed", "ErrUnsealFailed", "ErrUpdateFailed"}
                   <= set(_reasons(kmock_server)), what="the Events")
        _, exposition = _http(running.metrics_port, "/metrics", b"", "GET")
    texts = [caplog.text, exposition.decode()]
    texts += [str(e) for e in kmock_server.objects("Event", "app")]
    texts += [str(s.get("status")) for s in kmock_server.objects("SealedSecret", "app")]
    for text in texts:
        assert SENTINEL not in text
    assert "sha256sum" in _status(kmock_server, "tpl")["message"]


def test_a_hand_edit_is_undone_while_running(kmock_server: Any) -> None:
    """Beyond the original (which only notices at the next unseal): the edit breaks the sync
    marks, so the owner is queued at once."""
    with controller(kmock_server.url) as running:
        kmock_server.seed(_seal(_latest_public(running)))
        secret = wait_until(lambda: kmock_server.get("Secret", "app", "db"))
        secret["data"]["password"] = "aGFja2Vk"
        kmock_server.update(secret)
        wait_until(lambda: _decoded(kmock_server.get("Secret", "app", "db"))["password"]
                   == SENTINEL, what="the edit undone")
        added = kmock_server.get("Secret", "app", "db")
        added["data"]["extra"] = "eA=="
        kmock_server.update(added)
        wait_until(lambda: "extra" not in kmock_server.get("Secret", "app", "db")["data"],
                   what="the added key removed")


def test_only_the_namespaces_and_labels_asked_for_are_watched(kmock_server: Any) -> None:
    import time

    flags = ("--all-namespaces=false", "--additional-namespaces=app", "--label-selector=team=a")
    with controller(kmock_server.url, *flags) as running:
        public = _latest_public(running)
        picked = _seal(public, "picked")
        picked["metadata"]["labels"] = {"team": "a"}
        other_team = _seal(public, "other-team")
        other_team["metadata"]["labels"] = {"team": "b"}
        elsewhere = _seal(public, "elsewhere", "not-watched")
        elsewhere["metadata"]["labels"] = {"team": "a"}
        for obj in (picked, other_team, elsewhere):
            kmock_server.seed(obj)
        wait_until(lambda: kmock_server.get("Secret", "app", "picked"), what="the watched one")
        time.sleep(0.5)
        assert kmock_server.get("Secret", "app", "other-team") is None
        assert kmock_server.get("Secret", "not-watched", "elsewhere") is None


def test_kseal_seal_validate_and_re_encrypt_go_through_the_service_proxy(
    kmock_server: Any, tmp_path: Path
) -> None:
    """The CLI's kubeseal-compatible paths (`--validate`, `--re-encrypt`) against the running
    controller, through the API server's service proxy as kubeseal reaches it."""
    import json

    with controller(kmock_server.url) as running:
        proxy_to(kmock_server, running.api_port)
        env = {**os.environ, "KUBECONFIG": str(kubeconfig(tmp_path, kmock_server.url))}
        sealed = kseal("seal", "--fetch-cert", env=env)
        (tmp_path / "cert.pem").write_bytes(sealed)
        out = kseal("seal", "--cert", str(tmp_path / "cert.pem"), "--validate", "-o", "json",
                    stdin=_secret(), env=env)
        first = json.loads(out)
        running.controller.new_key_now.set()
        wait_until(lambda: len(running.controller.keyring) == 2, what="a second key")
        (tmp_path / "ss.json").write_bytes(out)
        kseal("seal", "--re-encrypt", "-f", str(tmp_path / "ss.json"), env=env)  # in place
        rotated = json.loads((tmp_path / "ss.json").read_bytes())
        newest = running.controller.keyring.latest().fingerprint
        assert rotated["metadata"]["annotations"]["kseal.dev/sealing-key"] == newest
        assert rotated["spec"]["encryptedData"] != first["spec"]["encryptedData"]
        kmock_server.seed(rotated)
        secret = wait_until(lambda: kmock_server.get("Secret", "app", "db"), what="the Secret")
        assert _decoded(secret) == {"password": SENTINEL}
