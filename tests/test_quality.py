"""Static checks run as part of the suite, so the one test command covers them too."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _have(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


@pytest.mark.skipif(not _have("ruff"), reason="ruff not installed (pip install -e '.[dev]')")
def test_ruff() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "kseal", "tests", "bench", "tools"],
        cwd=ROOT, capture_output=True, text=True,
    )
    assert out.returncode == 0, out.stdout + out.stderr


@pytest.mark.skipif(not _have("mypy"), reason="mypy not installed (pip install -e '.[dev]')")
def test_mypy_strict() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "mypy"], cwd=ROOT, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stdout + out.stderr
