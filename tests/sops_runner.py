"""The real sops binary for store tests: a fresh age key, run in an empty directory."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.peers import sops_binary


class Sops:
    """The real sops binary with a fresh age key, run in an empty directory (no .sops.yaml)."""

    def __init__(self, binary: str, tmp: Path, suffix: str) -> None:
        self.binary, self.tmp, self.suffix = binary, tmp, suffix
        key = tmp / "key.txt"
        subprocess.run(["age-keygen", "-o", str(key)], capture_output=True, check=True)
        self.recipient = key.read_text().split("# public key: ")[1].split()[0]
        self.env = {
            "PATH": "/usr/bin:/bin",
            "HOME": str(tmp),
            "SOPS_DISABLE_VERSION_CHECK": "1",
            "SOPS_AGE_KEY_FILE": str(key),
        }

    def __call__(self, *args: str, data: bytes, suffix: str | None = None) -> bytes:
        path = self.tmp / f"input{suffix or self.suffix}"
        path.write_bytes(data)
        out = subprocess.run(
            [self.binary, *args, str(path)],
            cwd=self.tmp,
            env=self.env,
            capture_output=True,
            check=False,
        )
        assert out.returncode == 0, out.stderr.decode()
        return out.stdout

    def encrypt(self, data: bytes, suffix: str | None = None) -> bytes:
        return self("encrypt", "--age", self.recipient, data=data, suffix=suffix)


def sops_fixture(suffix: str) -> Callable[[pytest.TempPathFactory], Sops]:
    """A module-scoped ``sops`` fixture whose files get ``suffix``; skips without sops/age-keygen."""

    @pytest.fixture(scope="module")
    def sops(tmp_path_factory: pytest.TempPathFactory) -> Sops:
        binary = sops_binary()
        if binary is None or shutil.which("age-keygen") is None:
            pytest.skip("needs the sops binary and age-keygen")
        return Sops(binary, tmp_path_factory.mktemp("sops"), suffix)

    return sops
