"""``kseal-controller`` as a process: flags, signals (SIGUSR1: a new key now; SIGTERM: finish
in-flight work and exit 0), against the API emulator (no real API server can run here)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.controller.running import NAMESPACE, kubeconfig, wait_until


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _controller(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "kseal_controller", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "POD_NAMESPACE": NAMESPACE, **(env or {})},
    )


def test_version_and_a_bad_flag() -> None:
    done = subprocess.run([sys.executable, "-m", "kseal_controller", "--version"],
                          capture_output=True, check=False)
    assert done.returncode == 0 and done.stdout.startswith(b"kseal-controller ")
    done = subprocess.run([sys.executable, "-m", "kseal_controller", "--key-size=big"],
                          capture_output=True, check=False)
    assert done.returncode == 2
    assert done.stderr.decode().startswith("kseal-controller: error: ")
    assert b"Traceback" not in done.stderr


def test_sigusr1_makes_a_key_and_sigterm_stops_cleanly(kmock_server: Any, tmp_path: Path) -> None:
    config = kubeconfig(tmp_path, kmock_server.url)
    process = _controller(
        f"--kubeconfig={config}", f"--listen-addr=127.0.0.1:{_free_port()}",
        f"--listen-metrics-addr=127.0.0.1:{_free_port()}", "--key-size=2048",
        "--log-format=json",
    )
    try:
        wait_until(lambda: len(kmock_server.objects("Secret", NAMESPACE)) == 1, 30, "a first key")
        process.send_signal(signal.SIGUSR1)
        wait_until(lambda: len(kmock_server.objects("Secret", NAMESPACE)) == 2, 30, "a new key")
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, err.decode()
    lines = (out + err).decode().splitlines()
    assert any('"msg": "stopped"' in line for line in lines), lines
    assert b"Traceback" not in err


def test_no_cluster_is_one_clear_line(tmp_path: Path) -> None:
    process = _controller(f"--kubeconfig={tmp_path / 'missing'}")
    _out, err = process.communicate(timeout=30)
    assert process.returncode == 1
    assert b"Traceback" not in err
    assert b"error" in err.lower()


def test_help_lists_every_flag_and_exits_0() -> None:
    done = subprocess.run([sys.executable, "-m", "kseal_controller", "--help"],
                          capture_output=True, check=False, timeout=30)
    assert done.returncode == 0, done.stderr
    text = done.stdout.decode()
    for flag in ("--key-renew-period", "--all-namespaces", "--rate-limit", "--log-format"):
        assert flag in text
    assert "SEALED_SECRETS_KEY_RENEW_PERIOD" in text
