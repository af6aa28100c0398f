"""Run the real controller (``kseal_controller.main.serve``) in threads against the emulator.

There is no real Kubernetes API server here (see docs/controller/testing.md): the controller talks
to the kmock-based emulator of ``conftest.py`` over real HTTP with the real ``kubernetes`` client.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from kseal_controller import config
from kseal_controller.kube import Kube
from kseal_controller.main import Running, serve

NAMESPACE = "kube-system"
PROXY = f"/api/v1/namespaces/{NAMESPACE}/services/http:sealed-secrets-controller:http/proxy"


def wait_until(check: Callable[[], Any], timeout: float = 20.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


@contextmanager
def controller(url: str, *flags: str, env: dict[str, str] | None = None) -> Iterator[Running]:
    """A controller on ephemeral ports, stopped (gracefully) when the block ends."""
    argv = [
        "--listen-addr=127.0.0.1:0",
        "--listen-metrics-addr=127.0.0.1:0",
        "--key-size=2048",
        "--workers=2",
        *flags,
    ]
    cfg = config.parse(argv, {"POD_NAMESPACE": NAMESPACE, **(env or {})})
    stop = threading.Event()
    started: list[Running] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            serve(cfg, kube=Kube.at(url), stop=stop, on_ready=started.append)
        except BaseException as exc:  # surfaced to the test below
            errors.append(exc)

    thread = threading.Thread(target=run, name="controller-under-test", daemon=True)
    thread.start()
    wait_until(lambda: started or errors, 30.0, "the controller to start")
    if errors:
        raise errors[0]
    try:
        yield started[0]
    finally:
        stop.set()
        thread.join(30.0)


def http(port: int, path: str, body: bytes | None = None, method: str = "GET") -> tuple[int, bytes]:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=body, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310 - loopback
            return answer.status, answer.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


def metric(port: int, name: str, labels: str = "") -> float:
    """The value of one sample on the metrics port (0 when absent)."""
    _, body = http(port, "/metrics")
    for line in body.decode().splitlines():
        if line.startswith(name + (f"{{{labels}}}" if labels else "")) and not line.startswith("#"):
            head, _, value = line.rpartition(" ")
            if labels or head == name or head.startswith(name + "{"):
                return float(value)
    return 0.0


def proxy_to(emulator: Any, port: int) -> None:
    """Make the emulator's service proxy forward the controller's three endpoints to ``port``,
    as the API server does for kubeseal and ``kseal seal --fetch-cert``; and give it the Service
    object they read first."""
    import kmock

    async def forward(request: Any) -> kmock.Response:
        path = request.url.path.split("/proxy", 1)[1]
        body = request.body or None
        status, data = await _in_thread(lambda: http(port, path, body, request.method.value))
        return kmock.Response(status=status, payload=data)

    for verb, endpoint in (("get", "cert.pem"), ("post", "verify"), ("post", "rotate")):
        emulator.answer(f"{verb} {PROXY}/v1/{endpoint}", forward)
    emulator.answer(
        f"get /api/v1/namespaces/{NAMESPACE}/services/sealed-secrets-controller",
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "sealed-secrets-controller", "namespace": NAMESPACE},
            "spec": {"ports": [{"name": "http", "port": 8080}]},
        },
    )


async def _in_thread(fn: Callable[[], Any]) -> Any:
    import asyncio

    return await asyncio.to_thread(fn)


def kubeconfig(tmp: Path, url: str) -> Path:
    path = tmp / "kubeconfig"
    path.write_text(
        json.dumps(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "emulator", "cluster": {"server": url}}],
                "users": [{"name": "tester", "user": {"token": "test-only"}}],
                "contexts": [
                    {"name": "emulator", "context": {"cluster": "emulator", "user": "tester"}}
                ],
                "current-context": "emulator",
            }
        )
    )
    return path


def kseal(*args: str, stdin: bytes | None = None, env: dict[str, str] | None = None) -> bytes:
    """The real kseal CLI in a subprocess (as users run it)."""
    done = subprocess.run(
        [sys.executable, "-m", "kseal", *args],
        input=stdin,
        capture_output=True,
        env=env,
        check=False,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr.decode()
    return done.stdout
