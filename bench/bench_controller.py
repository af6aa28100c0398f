"""The controller against the API emulator: convergence, restart, memory (issue 11's targets).

No real Kubernetes API server runs here; the controller (``python -m kseal_controller``, a
separate process, as deployed) talks to the kmock-based emulator of ``tests/emulator.py``
over real HTTP with the real ``kubernetes`` client. Run it with the Python of the environment
under test (it needs ``kseal[controller]`` and ``kmock`` there), from the repository root:

    python bench/bench_controller.py [--count 1000] [--values 5] [--restart 10000] [--bits 4096]

1. Convergence: ``--count`` SealedSecrets of ``--values`` values each (strict scope, sealed for
   the controller's key) are created while the controller runs with 1 worker, then with 2; the
   time until every Secret exists, as a ratio to the raw RSA-OAEP decryptions of the same values
   measured in the same run (one thread) (target: <= 1.3 with one worker), and the speed-up.
2. Restart: ``--restart`` SealedSecrets whose Secrets are in sync (written as the controller
   writes them, sync marks included) and whose status is Synced; the time from the process
   start until all are handled, and the RSA operations it made (targets: < 10 s, zero).
3. Peak memory (VmHWM) of the controller process with the ``--restart`` SealedSecrets watched
   (target: < 150 MB).
"""

from __future__ import annotations

import argparse
import base64
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT)]

from tests.controller.running import NAMESPACE, kubeconfig  # noqa: E402
from tests.emulator import EmulatorHandle, start_emulator  # noqa: E402

APP = "bench"


def _key_secret(bits: int) -> tuple[dict[str, Any], Any]:
    from kseal import keys
    from kseal_controller import keyring

    pem, cert = keys.generate(datetime.now(UTC), bits=bits)
    body = keyring.key_secret(
        pem, cert, prefix="sealed-secrets-key", namespace=NAMESPACE, labels={}, annotations={}
    )
    body["metadata"]["name"] = "sealed-secrets-keybench"
    body["metadata"].pop("generateName", None)
    return body, keys.load_private_key_pem(pem, "bench key")


def _sealed(public: Any, name: str, values: int, scope: str = "strict") -> dict[str, Any]:
    from kseal.sealed import Scope
    from kseal.secret import seal_secret

    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name, "namespace": APP},
        "stringData": {f"k{i}": f"value-{name}-{i}" for i in range(values)},
    }
    return seal_secret(secret, public, scope=Scope.parse(scope))


def _count(emulator: EmulatorHandle, plural: str) -> int:
    store = emulator.emulator.store
    return int(emulator._call(lambda: sum(1 for k in store if k[0] == plural and k[1] == APP)))


def _metric(port: int, name: str) -> float:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as answer:
            text = answer.read().decode()
    except OSError:
        return -1.0
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[-1])
    return 0.0


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Controller:
    """``python -m kseal_controller`` in a process of its own."""

    def __init__(self, config: Path, workers: int) -> None:
        self.metrics_port = _free_port()
        self.started = time.perf_counter()
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "kseal_controller",
                f"--kubeconfig={config}",
                f"--workers={workers}",
                f"--listen-addr=127.0.0.1:{_free_port()}",
                f"--listen-metrics-addr=127.0.0.1:{self.metrics_port}",
                "--log-level=WARN",
            ],
            env={**os.environ, "POD_NAMESPACE": NAMESPACE},
        )

    def wait_up(self) -> None:
        while _metric(self.metrics_port, "kseal_controller_rsa_operations_total") < 0:
            time.sleep(0.02)

    def metric(self, name: str) -> float:
        return _metric(self.metrics_port, name)

    def cpu_seconds(self) -> float:
        """User + system CPU time of the controller process so far."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def peak_rss_mb(self) -> float:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(60)


def _raw_rsa(private: Any, sealed: list[dict[str, Any]]) -> float:
    """One private-key RSA-OAEP operation per value, nothing else, one thread."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    blobs = []
    for ss in sealed:
        meta = ss["metadata"]
        label = f"{meta['namespace']}/{meta['name']}".encode()
        pad = padding.OAEP(padding.MGF1(hashes.SHA256()), hashes.SHA256(), label)
        for value in ss["spec"]["encryptedData"].values():
            raw = base64.b64decode(value)
            size = int.from_bytes(raw[:2], "big")
            blobs.append((raw[2 : 2 + size], pad))
    start = time.perf_counter()
    for blob, pad in blobs:
        private.decrypt(blob, pad)
    return time.perf_counter() - start


def converge(
    emulator: EmulatorHandle,
    config: Path,
    key: dict[str, Any],
    sealed: list[dict[str, Any]],
    workers: int,
) -> tuple[float, float]:
    """Wall time to converge, and the controller's own CPU time meanwhile."""
    emulator.reset()
    emulator.seed(key)
    controller = Controller(config, workers)
    try:
        controller.wait_up()
        cpu = controller.cpu_seconds()
        start = time.perf_counter()
        emulator.seed_many(sealed)
        while _count(emulator, "secrets") < len(sealed):
            time.sleep(0.01)
        return time.perf_counter() - start, controller.cpu_seconds() - cpu
    finally:
        controller.stop()


def restart(
    emulator: EmulatorHandle,
    config: Path,
    key: dict[str, Any],
    private: Any,
    count: int,
    values: int,
) -> tuple[float, float, float, float]:
    from kseal.secret import unseal_items
    from kseal_controller import keyring, reconcile, syncmark

    emulator.reset()
    emulator.seed(key)
    public = private.public_key()
    template = _sealed(public, "shared", values, scope="cluster-wide")  # one set of ciphertexts
    data = unseal_items(template, [private])
    sealed = []
    for i in range(count):
        ss = {**template, "metadata": {**template["metadata"], "name": f"s{i}", "namespace": APP}}
        ss["spec"] = {
            **template["spec"],
            "template": {
                **template["spec"]["template"],
                "metadata": {
                    **template["spec"]["template"]["metadata"],
                    "name": f"s{i}",
                    "namespace": APP,
                },
            },
        }
        sealed.append(ss)
    emulator.seed_many(sealed)
    fingerprint = keyring.read_key(key).fingerprint
    mark = (fingerprint, syncmark.mac_key(private))
    store = emulator.emulator.store
    stored = emulator._call(lambda: [o for k, o in store.items() if k[0] == "sealedsecrets"])
    emulator.seed_many([reconcile.desired(ss, data, mark=mark) for ss in stored])

    def synced() -> None:  # as a previous run left them: Synced True, generation observed
        for (plural, _ns, _name), obj in store.items():
            if plural == "sealedsecrets":
                obj["status"] = {
                    "observedGeneration": obj["metadata"]["generation"],
                    "conditions": [
                        {
                            "type": "Synced",
                            "status": "True",
                            "lastUpdateTime": "2026-01-01T00:00:00Z",
                            "lastTransitionTime": "2026-01-01T00:00:00Z",
                        }
                    ],
                }

    emulator._call(synced)
    controller = Controller(config, 2)
    try:
        while controller.metric("sealed_secrets_controller_unseal_requests_total") < count:
            time.sleep(0.05)
        seconds = time.perf_counter() - controller.started
        rsa = controller.metric("kseal_controller_rsa_operations_total")
        skips = controller.metric("kseal_controller_restart_skips_total")
        return seconds, rsa, skips, controller.peak_rss_mb()
    finally:
        controller.stop()


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--values", type=int, default=5)
    parser.add_argument("--restart", type=int, default=10_000)
    parser.add_argument("--bits", type=int, default=4096)
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args()
    emulator, stop = start_emulator()
    emulator.emulator.keep_requests = False
    try:
        with tempfile.TemporaryDirectory() as tmp:
            config = kubeconfig(Path(tmp), emulator.url)
            key, private = _key_secret(args.bits)
            sealed = [
                _sealed(private.public_key(), f"s{i}", args.values) for i in range(args.count)
            ]
            raw, one, two, cpu1, cpu2 = [], [], [], [], []
            for _ in range(args.repeats):
                raw.append(_raw_rsa(private, sealed))
                wall, cpu = converge(emulator, config, key, sealed, 1)
                one.append(wall)
                cpu1.append(cpu)
                wall, cpu = converge(emulator, config, key, sealed, 2)
                two.append(wall)
                cpu2.append(cpu)
            r, o, t, c1, c2 = (statistics.median(x) for x in (raw, one, two, cpu1, cpu2))
            ops = args.count * args.values
            print(
                f"python {sys.version.split()[0]}, {os.cpu_count()} cores, RSA-{args.bits}, "
                f"median of {args.repeats}"
            )
            print(f"converge {args.count} SealedSecrets x {args.values} values ({ops} RSA ops):")
            print(f"  raw RSA-OAEP decryptions, 1 thread: {r:7.2f} s ({r / ops * 1000:.2f} ms/op)")
            print(
                f"  controller, 1 worker:               {o:7.2f} s  = {o / r:.2f}x raw (target <= 1.3);"
                f" its own CPU {c1:.2f} s = {c1 / r:.2f}x raw"
            )
            print(
                f"  controller, 2 workers:              {t:7.2f} s  = {t / r:.2f}x raw, speed-up {o / t:.2f}x;"
                f" its own CPU {c2:.2f} s"
            )
            print(
                "  (the emulator, a Python process, shares the 2 cores and answers every request)"
            )
            seconds, rsa, skips, rss = restart(
                emulator, config, key, private, args.restart, args.values
            )
            print(
                f"restart with {args.restart} SealedSecrets in sync: {seconds:.2f} s from process "
                f"start (target < 10), {rsa:.0f} RSA operations (target 0), {skips:.0f} skipped"
            )
            print(
                f"peak RSS with {args.restart} SealedSecrets watched: {rss:.0f} MB (target < 150)"
            )
    finally:
        stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
