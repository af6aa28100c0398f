"""Cluster access through the API server's service proxy, against a local emulation.

No Kubernetes API server can run in this environment, so these tests serve, on 127.0.0.1, the few
API paths kseal (and kubeseal) use: GET the controller Service, and the service-proxy paths
``/v1/cert.pem``, ``/v1/verify`` and ``/v1/rotate`` with the controller's status codes (200, 409).
The real ``kubernetes`` client library does the talking, configured by a real kubeconfig file.
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

from kseal import keys, secret

pytest.importorskip("kubernetes")

NS, NAME = "kube-system", "sealed-secrets-controller"
PROXY = f"/api/v1/namespaces/{NS}/services/http:{NAME}:http/proxy"


class FakeApi(BaseHTTPRequestHandler):
    state: ClassVar[dict[str, object]] = {}

    def log_message(self, *args: object) -> None:
        pass

    def _send(self, code: int, body: bytes, ctype: str = "application/json") -> None:
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _status(self, code: int, reason: str) -> None:
        body = {
            "kind": "Status",
            "apiVersion": "v1",
            "status": "Failure",
            "reason": reason,
            "code": code,
        }
        self._send(code, json.dumps(body).encode())

    def do_GET(self) -> None:
        if self.path == f"/api/v1/namespaces/{NS}/services/{NAME}":
            svc = {
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": {"name": NAME, "namespace": NS},
                "spec": {"ports": [{"name": "http", "port": 8080}]},
            }
            self._send(200, json.dumps(svc).encode())
        elif self.path == f"{PROXY}/v1/cert.pem":
            if self.state.get("blocked"):
                self._status(403, "Forbidden")
            else:
                self._send(200, self.state["cert"], "application/x-pem-file")  # type: ignore[arg-type]
        else:
            self._status(404, "NotFound")

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        ss = json.loads(body)
        private = self.state["private"]
        if self.path == f"{PROXY}/v1/verify":
            try:
                secret.unseal_sealed_secret(ss, [private])  # type: ignore[list-item]
                self._send(200, b"")
            except Exception:
                self._send(409, b"")
        elif self.path == f"{PROXY}/v1/rotate":
            plain = secret.unseal_sealed_secret(ss, [private])  # type: ignore[list-item]
            plain["metadata"] = ss["metadata"]
            new_cert = keys.load_certificate(self.state["new_cert"])  # type: ignore[arg-type]
            out = secret.seal_secret(plain, new_cert.public_key)
            self._send(200, json.dumps(out).encode())
        else:
            self._status(404, "NotFound")


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict[str, object]]]:
    now = datetime.now(UTC)
    key_pem, cert_pem = keys.generate(now, bits=2048)
    new_key_pem, new_cert_pem = keys.generate(now, bits=2048)
    FakeApi.state = {
        "cert": cert_pem,
        "private": keys.load_private_key_pem(key_pem, "k"),
        "new_cert": new_cert_pem,
        "new_key": new_key_pem,
    }
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeApi)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    tmp = tmp_path_factory.mktemp("kube")
    kubeconfig = tmp / "config"
    kubeconfig.write_text(
        "apiVersion: v1\nkind: Config\n"
        f"clusters:\n- name: fake\n  cluster:\n    server: http://127.0.0.1:{server.server_address[1]}\n"
        "users:\n- name: me\n  user:\n    token: test-token\n"
        "contexts:\n- name: fake\n  context:\n    cluster: fake\n    user: me\n"
        "- name: other\n  context:\n    cluster: fake\n    user: me\n"
        "current-context: fake\n"
    )
    yield kubeconfig, FakeApi.state
    server.shutdown()


def _kseal(*args: str, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "kseal", *args], input=stdin, capture_output=True, check=False
    )


SECRET = json.dumps(
    {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "db", "namespace": "prod"},
        "stringData": {"password": "SENTINEL-7f3a"},
    }
).encode()


def test_fetch_cert_through_the_service_proxy(api: tuple[Path, dict[str, object]]) -> None:
    kubeconfig, state = api
    out = _kseal("seal", "--fetch-cert", "--kubeconfig", str(kubeconfig), "--context", "other")
    assert out.returncode == 0, out.stderr
    assert out.stdout == state["cert"]


def test_seal_with_the_fetched_cert_and_validate(api: tuple[Path, dict[str, object]]) -> None:
    kubeconfig, state = api
    out = _kseal("seal", "--kubeconfig", str(kubeconfig), "--validate", stdin=SECRET)
    assert out.returncode == 0, out.stderr
    ss = json.loads(out.stdout)
    plain = secret.unseal_sealed_secret(ss, [state["private"]])  # type: ignore[list-item]
    assert base64.b64decode(plain["data"]["password"]) == b"SENTINEL-7f3a"


def test_validate_reports_an_undecryptable_secret(
    api: tuple[Path, dict[str, object]], tmp_path: Path
) -> None:
    kubeconfig, state = api
    (tmp_path / "new.pem").write_bytes(state["new_cert"])  # type: ignore[arg-type]
    out = _kseal(
        "seal",
        "--cert",
        str(tmp_path / "new.pem"),
        "--kubeconfig",
        str(kubeconfig),
        "--validate",
        stdin=SECRET,
    )
    assert out.returncode == 1
    assert out.stderr.decode().startswith("kseal: error: unable to decrypt sealed secret: db")


def test_re_encrypt(api: tuple[Path, dict[str, object]], tmp_path: Path) -> None:
    kubeconfig, state = api
    sealed_json = _kseal("seal", "--kubeconfig", str(kubeconfig), stdin=SECRET).stdout
    target = tmp_path / "ss.json"
    target.write_bytes(sealed_json)
    out = _kseal("seal", "--re-encrypt", "--kubeconfig", str(kubeconfig), "-f", str(target))
    assert out.returncode == 0, out.stderr
    rotated = json.loads(target.read_text())
    new_private = keys.load_private_key_pem(state["new_key"], "new")  # type: ignore[arg-type]
    assert (
        base64.b64decode(secret.unseal_sealed_secret(rotated, [new_private])["data"]["password"])
        == b"SENTINEL-7f3a"
    )


def test_blocked_proxy_and_wrong_service_give_hints(api: tuple[Path, dict[str, object]]) -> None:
    kubeconfig, state = api
    state["blocked"] = True
    try:
        out = _kseal("cert", "--kubeconfig", str(kubeconfig))
    finally:
        state["blocked"] = False
    assert out.returncode == 1
    err = out.stderr.decode()
    assert "403" in err
    assert "kubectl port-forward" in err
    out = _kseal("cert", "--kubeconfig", str(kubeconfig), "--controller-name", "sealed-secrets")
    assert out.returncode == 1
    assert "--controller-name" in out.stderr.decode()


def test_bad_kubeconfig(tmp_path: Path) -> None:
    out = _kseal("cert", "--kubeconfig", str(tmp_path / "missing"))
    assert out.returncode == 1
    assert out.stderr.decode().startswith("kseal: error: cannot load the kubeconfig")
