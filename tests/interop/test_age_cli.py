"""Identities interoperate with the real age CLI (Debian package 'age') in both directions."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from kseal import agekey

pytestmark = pytest.mark.skipif(
    not (shutil.which("age") and shutil.which("age-keygen")),
    reason="the age CLI is not installed (apt-get install age)",
)


def _kseal(*args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "kseal", *args], capture_output=True, check=False)


def test_kseal_keygen_identity_works_with_age(tmp_path: Path) -> None:
    key = tmp_path / "kseal.txt"
    out = _kseal("keygen", "-o", str(key))
    assert out.returncode == 0
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    public = out.stderr.decode().split("Public key: ")[1].strip()
    # age-keygen -y agrees on the public key; age encrypts to it and decrypts with kseal's file.
    assert (
        subprocess.run(["age-keygen", "-y", str(key)], capture_output=True, check=True)
        .stdout.decode()
        .strip()
        == public
    )
    assert _kseal("keygen", "-y", str(key)).stdout.decode().strip() == public
    sealed = subprocess.run(
        ["age", "-r", public], input=b"hello age", capture_output=True, check=True
    ).stdout
    plain = subprocess.run(
        ["age", "-d", "-i", str(key)], input=sealed, capture_output=True, check=True
    ).stdout
    assert plain == b"hello age"


def test_age_keygen_identity_works_with_kseal(tmp_path: Path) -> None:
    key = tmp_path / "age.txt"
    subprocess.run(["age-keygen", "-o", str(key)], capture_output=True, check=True)
    public = (
        subprocess.run(["age-keygen", "-y", str(key)], capture_output=True, check=True)
        .stdout.decode()
        .strip()
    )
    assert _kseal("keygen", "-y", str(key)).stdout.decode().strip() == public
    wrapped = agekey.wrap_key(b"k" * 32, public)
    # The real age decrypts kseal's wrapped data key, and kseal reads the age-keygen file.
    assert (
        subprocess.run(
            ["age", "-d", "-i", str(key)], input=wrapped.encode(), capture_output=True, check=True
        ).stdout
        == b"k" * 32
    )
    ids = agekey.parse_identities(key.read_text(), "age.txt")
    assert agekey.unwrap_key(wrapped, ids) == b"k" * 32


def test_keygen_refuses_to_overwrite(tmp_path: Path) -> None:
    key = tmp_path / "k.txt"
    key.write_text("precious\n")
    out = _kseal("keygen", "-o", str(key))
    assert out.returncode == 3
    assert key.read_text() == "precious\n"


@pytest.mark.parametrize("size", [0, 100, 64 * 1024, 2 * 64 * 1024 + 5])
def test_age_file_framing_interoperates_with_the_age_cli(tmp_path: Path, size: int) -> None:
    """The age v1 framing kseal writes for post-quantum stanzas (kseal/agefile.py), checked
    against Go age with X25519 stanzas built by the tests: header, MAC, STREAM and armor."""
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

    from kseal import agefile, bech32
    from tests.test_agepq import x25519_stanza, x25519_unwrapper

    key = X25519PrivateKey.generate()
    key_file = tmp_path / "key.txt"
    key_file.write_text(bech32.encode("age-secret-key-", key.private_bytes_raw()).upper() + "\n")
    public = key.public_key().public_bytes_raw()
    plain = os.urandom(size)
    file_key = os.urandom(16)
    raw = agefile.encrypt(plain, [x25519_stanza(public, file_key)], file_key)
    for data in (raw, agefile.armor(raw).encode()):
        out = subprocess.run(
            ["age", "-d", "-i", str(key_file)], input=data, capture_output=True, check=True
        )
        assert out.stdout == plain
    for flags in ([], ["-a"]):
        out = subprocess.run(
            ["age", *flags, "-r", bech32.encode("age", public)],
            input=plain,
            capture_output=True,
            check=True,
        )
        data = agefile.dearmor(out.stdout.decode()) if flags else out.stdout
        assert agefile.decrypt(data, [x25519_unwrapper(key)]) == plain
