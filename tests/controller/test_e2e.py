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
        events = kmock_server.objects("Event", "app")
        assert [e["reason"] for e in events] == ["Unsealed"]
        ss = wait_until(
            lambda: (kmock_server.get("SealedSecret", "app", "db") or {}).get("status"),
            what="the status",
        )
        assert ss["conditions"][0]["status"] == "True"
        assert metric(running.metrics_port, "kseal_controller_rsa_operations_total") >= 1
        assert kmock_server.objects("Secret", NAMESPACE)  # the key Secret it made
