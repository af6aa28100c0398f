"""Workflows over many files: kseal's bulk mode (one process) against the real sops Go binary run
once per file, as a shell loop must; plus single-file ``set`` and ``rotate``. Whole-process wall
time, median of N runs, ratios from the same run.

    python3 bench/bench_workflows.py [--files 200] [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_sops import small_secret
from common import kseal_command, sops_go_binary


def timed(fn: Callable[[], None], repeats: int, setup: Callable[[], None] = lambda: None) -> float:
    """Median wall time of ``fn`` after one warm-up; ``setup`` runs untimed before each call."""
    setup()
    fn()  # warm-up (file cache, .pyc)
    runs = []
    for _ in range(repeats):
        setup()
        start = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - start)
    return statistics.median(runs)


def run(argv: list[str], env: dict[str, str], cwd: Path) -> None:
    out = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, check=False)
    if out.returncode != 0:
        sys.exit(f"bench: {' '.join(argv[:3])} failed: {out.stderr.decode()[:300]}")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    sops = sops_go_binary()
    kseal = kseal_command()
    tmp = Path(tempfile.mkdtemp(prefix="kseal-bench-"))
    try:
        key = tmp / "key.txt"
        subprocess.run([*kseal, "keygen", "-o", str(key)], capture_output=True, check=True)
        public = subprocess.run(
            [*kseal, "keygen", "-y", str(key)], capture_output=True, check=True, text=True
        ).stdout.strip()
        env = {
            "PATH": os.environ["PATH"],
            "HOME": str(tmp),
            "SOPS_AGE_KEY_FILE": str(key),
            "SOPS_AGE_RECIPIENTS": public,
            "SOPS_DISABLE_VERSION_CHECK": "1",
        }
        plain = small_secret()
        tree = tmp / "tree"

        def reset() -> None:
            shutil.rmtree(tree, ignore_errors=True)
            tree.mkdir()
            for i in range(args.files):
                (tree / f"s{i:04d}.yaml").write_text(plain)

        def files() -> list[str]:
            return sorted(str(p) for p in tree.iterdir())

        def encrypted_tree() -> None:
            reset()
            run([*kseal, "encrypt", "-i", str(tree)], env, tmp)

        rows = []

        def kseal_bulk(op: str) -> Callable[[], None]:
            return lambda: run([*kseal, op, "-i", str(tree)], env, tmp)

        def sops_loop(op: str) -> Callable[[], None]:
            def go() -> None:
                for f in files():
                    run([sops, op, "-i", f], env, tmp)

            return go

        for op in ("encrypt", "decrypt", "rotate"):
            setup = reset if op == "encrypt" else encrypted_tree
            k = timed(kseal_bulk(op), args.repeats, setup)
            s = timed(sops_loop(op), args.repeats, setup)
            rows.append((f"{op} {args.files} files", k, s))
        one = tmp / "one.yaml"
        one.write_text(plain)
        run([*kseal, "encrypt", "-i", str(one)], env, tmp)
        for name, kargv, sargv in (
            (
                "set one value",
                [*kseal, "set", str(one), '["stringData"]["KEY_1"]', '"v"'],
                [sops, "set", str(one), '["stringData"]["KEY_1"]', '"v"'],
            ),
            (
                "rotate one file",
                [*kseal, "rotate", "-i", str(one)],
                [sops, "rotate", "-i", str(one)],
            ),
        ):
            k = timed(lambda argv=kargv: run(argv, env, tmp), args.repeats)
            s = timed(lambda argv=sargv: run(argv, env, tmp), args.repeats)
            rows.append((name, k, s))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"python {platform.python_version()} on {platform.platform()}, {os.cpu_count()} cores")
    print(f"kseal: {' '.join(kseal)}; sops: {sops}")
    print(f"{'case':<24} {'kseal':>9} {'sops':>9} {'sops/kseal':>11}")
    for name, k, s in rows:
        print(f"{name:<24} {k:>8.3f}s {s:>8.3f}s {s / k:>10.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
