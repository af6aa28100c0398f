from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

Run = Callable[..., subprocess.CompletedProcess[bytes]]


@pytest.fixture
def kseal(tmp_path: Path) -> Run:
    """Run the real CLI in a subprocess with a clean, isolated environment."""
    home = tmp_path / "home"
    home.mkdir()

    def run(
        *args: str,
        input: bytes | None = None,
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
    ) -> subprocess.CompletedProcess[bytes]:
        base = {
            k: v for k, v in os.environ.items() if not k.startswith(("SOPS_", "KSEAL_", "XDG_"))
        }
        base["HOME"] = str(home)
        return subprocess.run(
            [sys.executable, "-m", "kseal", *args],
            input=input,
            capture_output=True,
            env={**base, **(env or {})},
            cwd=cwd or tmp_path,
            check=False,
        )

    return run


@pytest.fixture
def identity(tmp_path: Path, kseal: Run) -> tuple[Path, str]:
    key = tmp_path / "key.txt"
    out = kseal("keygen", "-o", str(key))
    assert out.returncode == 0, out.stderr
    public = out.stderr.decode().split("Public key: ")[1].strip()
    return key, public
