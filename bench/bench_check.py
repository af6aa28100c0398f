"""kseal check vs detect-secrets-hook (PyPI detect-secrets) on the same generated tree, same run.

The tree holds N files: Deployments, ConfigMaps, SealedSecrets, SOPS-encrypted Secrets (written
by kseal, Flux layout and fully encrypted), and planted plaintext: Secrets (YAML and JSON), PEM
private keys, age identities. Both tools get every file path; each is timed over the whole tree
(median of R runs). Reported: files per second, and recall / false positives against the planted
files (a file counts as flagged if the tool reports anything in it).

    python3 -m pip install -e '.[dev,bench]'
    python3 bench/bench_check.py [--files 5000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import platform
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

# planted "keys" are random bytes in a PEM frame, built at run time
PEM_LABEL = "RSA PRIVATE" + " KEY"


def _encrypt(text: str, public: str, regex: str | None) -> str:
    from kseal import agekey
    from kseal.sops import engine
    from kseal.sops.rules import Rules
    from kseal.sops.stores import get_store

    store = get_store("yaml")
    rules = Rules(encrypted_regex=regex) if regex else Rules()
    return engine.encrypt(
        text.encode(),
        store,
        store,
        engine.EncryptOptions([public], rules),
        wrap=agekey.wrap_key,
        random=os.urandom,
        now=datetime.now(UTC),
    ).decode()


def _sealed(i: int) -> str:
    blob = base64.b64encode(os.urandom(300)).decode()
    return (
        "apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\n"
        f"metadata:\n  name: app-{i}\n  namespace: prod\nspec:\n  encryptedData:\n"
        f"    password: {blob}\n    token: {blob[::-1]}\n"
        f"  template:\n    metadata:\n      name: app-{i}\n      namespace: prod\n"
    )


def generate(root: Path, n: int, seed: int = 7) -> set[str]:
    from kseal import agekey

    rnd = random.Random(seed)
    _, public = agekey.generate_identity()
    secret_tpl = (
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db-{i}\n  namespace: prod\n"  # noqa: S105
        "type: Opaque\nstringData:\n  username: admin\n  password: {pw}\n"
    )
    sops_flux = _encrypt(secret_tpl.format(i=0, pw="x7Hq2pLmZ9vR4t"), public, "^(data|stringData)$")
    sops_all = _encrypt(secret_tpl.format(i=0, pw="x7Hq2pLmZ9vR4t"), public, None)
    planted: set[str] = set()
    for i in range(n):
        kind = rnd.random()
        sub = root / f"apps/app{i % 50}"
        sub.mkdir(parents=True, exist_ok=True)
        pw = "".join(
            rnd.choice("abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789") for _ in range(20)
        )
        if kind < 0.30:
            path = sub / f"deploy-{i}.yaml"
            path.write_text(
                "apiVersion: apps/v1\nkind: Deployment\n"
                f"metadata:\n  name: app-{i}\nspec:\n  replicas: 2\n  template:\n    spec:\n"
                "      containers:\n        - name: app\n          image: registry.example.com/app:1.2.3\n"
                "          env:\n            - name: DB_PASSWORD\n              valueFrom:\n"
                f"                secretKeyRef: {{name: db-{i}, key: password}}\n"
            )
        elif kind < 0.50:
            path = sub / f"config-{i}.yaml"
            path.write_text(
                f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg-{i}\ndata:\n"
                "  LOG_LEVEL: info\n  FEATURE_FLAGS: a,b,c\n  API_URL: https://api.example.com\n"
            )
        elif kind < 0.65:
            path = sub / f"sealed-{i}.yaml"
            path.write_text(_sealed(i))
        elif kind < 0.75:
            path = sub / f"secret-{i}.enc.yaml"
            path.write_text(sops_flux)
        elif kind < 0.85:
            path = sub / f"secret-{i}.sops.yaml"
            path.write_text(sops_all)
        elif kind < 0.92:
            path = sub / f"secret-{i}.yaml"
            path.write_text(secret_tpl.format(i=i, pw=pw))
            planted.add(str(path))
        elif kind < 0.95:
            path = sub / f"secret-{i}.json"
            data = base64.b64encode(pw.encode()).decode()
            path.write_text(
                json.dumps(
                    {
                        "apiVersion": "v1",
                        "kind": "Secret",
                        "metadata": {"name": f"j-{i}"},
                        "data": {"token": data},
                    }
                )
            )
            planted.add(str(path))
        elif kind < 0.975:
            path = sub / f"deploy-key-{i}.pem"
            body = base64.b64encode(os.urandom(600)).decode()
            lines = "\n".join(body[j : j + 64] for j in range(0, len(body), 64))
            path.write_text(f"-----BEGIN {PEM_LABEL}-----\n{lines}\n-----END {PEM_LABEL}-----\n")
            planted.add(str(path))
        else:
            from kseal import agekey as ak

            secret, pub = ak.generate_identity()
            path = sub / f"age-{i}.txt"
            path.write_text(f"# created: 2026-01-01T00:00:00Z\n# public key: {pub}\n{secret}\n")
            planted.add(str(path))
    return planted


def timed(argv: list[str], repeats: int, cwd: Path) -> tuple[float, str]:
    out = ""
    runs = []
    for _ in range(repeats + 1):
        start = time.perf_counter()
        proc = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, check=False)
        runs.append(time.perf_counter() - start)
        out = proc.stdout + proc.stderr
    return statistics.median(runs[1:]), out


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=5000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    beside = Path(sys.executable).parent / "detect-secrets-hook"
    hook = str(beside) if beside.exists() else shutil.which("detect-secrets-hook")
    if hook is None:
        sys.exit("bench: detect-secrets-hook not found (pip install -e '.[bench]')")
    tmp = Path(tempfile.mkdtemp(prefix="kseal-check-bench-"))
    try:
        planted = {os.path.relpath(p, tmp) for p in generate(tmp, args.files)}
        files = sorted(os.path.relpath(p, tmp) for p in tmp.rglob("*") if p.is_file())
        kseal = [sys.executable, "-m", "kseal", "check", "--format", "json", *files]
        k_time, k_out = timed(kseal, args.repeats, tmp)
        k_flagged = {f["path"] for f in json.loads(k_out[: k_out.rindex("}") + 1])["findings"]}
        d_time, d_out = timed([hook, *files], args.repeats, tmp)
        d_flagged = {m.group(1) for m in re.finditer(r"Location:\s+(\S+):\d+", d_out)}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"python {platform.python_version()} on {platform.platform()}, {os.cpu_count()} cores")
    print(
        f"{len(files)} files, {len(planted)} with a planted secret; median of {args.repeats} runs"
    )
    print(f"{'tool':<22} {'seconds':>8} {'files/s':>9} {'recall':>9} {'false pos.':>11}")
    for name, t, flagged in (
        ("kseal check", k_time, k_flagged),
        ("detect-secrets-hook", d_time, d_flagged),
    ):
        hits = len(flagged & planted)
        print(
            f"{name:<22} {t:>8.3f} {len(files) / t:>9.0f} {hits:>4}/{len(planted):<4} {len(flagged - planted):>11}"
        )
    print(f"throughput ratio kseal/detect-secrets: {d_time / k_time:.1f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
