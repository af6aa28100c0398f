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


def on_a_terminal(cwd: Path, *args: str) -> tuple[int, str]:
    """Run kseal with stdout and stderr on a pseudo-terminal (100 columns), in ``cwd`` as
    ``$HOME``; (exit code, everything shown)."""
    import pty

    env = {k: v for k, v in os.environ.items() if not k.startswith(("SOPS_", "KSEAL_"))}
    pid, fd = pty.fork()
    if pid == 0:  # pragma: no cover - child
        os.chdir(cwd)
        os.execvpe(  # noqa: S606
            sys.executable,
            [sys.executable, "-m", "kseal", *args],
            {**env, "HOME": str(cwd), "COLUMNS": "100"},
        )
    chunks = []
    while True:
        try:
            data = os.read(fd, 4096)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), b"".join(chunks).decode("utf-8", "replace")
