"""Post-quantum age recipients (age1pq1...) between kseal and the real sops 3.11 binary.

sops 3.11.0 is built with age 1.3.1, which has the hybrid ML-KEM-768 + X25519 recipient type; the
age CLI on the test machines (1.1) does not, so sops is the peer for this type.
"""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from kseal import agekey
from kseal.sops import engine
from kseal.sops.rules import Rules
from kseal.sops.stores import get_store
from tests.interop.conftest import SOPS, Peer, needs_sops

pytestmark = needs_sops

VECTORS = Path(__file__).resolve().parents[1] / "vectors"
FLUX_KEY_FILE = VECTORS / "keys" / "flux-age-pq-TESTONLY.txt"
FLUX_FILE = VECTORS / "sops" / "flux-age-pq.yaml"
SECRET = b"apiVersion: v1\nkind: Secret\nmetadata:\n  name: pq\nstringData:\n  token: s3cr3t-pq\n"
DOC = {"user": "alice", "password": "hunter2", "nested": {"list": ["a", 1, True]}}


@pytest.fixture(scope="module")
def pq_peer(tmp_path_factory: pytest.TempPathFactory) -> Peer:
    tmp = tmp_path_factory.mktemp("pq")
    secret, public = agekey.generate_identity(pq=True)
    key_file = tmp / "keys.txt"
    key_file.write_text(agekey.format_key_file(secret, public, datetime.now(UTC)))
    return Peer(tmp, key_file, public)


def _kseal(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "kseal", *args], capture_output=True, env=env, check=False
    )


def test_flux_vector_sops_and_kseal_agree(tmp_path: Path) -> None:
    peer = Peer(tmp_path, FLUX_KEY_FILE, "")
    by_sops = peer.sops("decrypt", "--output-type", "json", str(FLUX_FILE))
    by_kseal = peer.kseal_decrypt(FLUX_FILE.read_bytes(), "yaml")
    assert json.loads(by_sops)["stringData"] == {"key": "value"}
    assert b"stringData:\n  key: value\n" in by_kseal


@pytest.mark.parametrize("fmt", ["yaml", "json"])
def test_kseal_encrypts_sops_decrypts(pq_peer: Peer, fmt: str) -> None:
    plain = SECRET if fmt == "yaml" else json.dumps(DOC).encode()
    enc = pq_peer.kseal_encrypt(plain, fmt)
    assert b"mlkem768x25519" not in enc  # the stanza is inside the armored enc block
    assert pq_peer.public.encode() in enc
    out = pq_peer.sops("decrypt", "--output-type", "json", data=enc, suffix=f".{fmt}")
    want = (
        {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "pq"}} if fmt == "yaml" else DOC
    )
    got = json.loads(out)
    if fmt == "yaml":
        assert got["stringData"] == {"token": "s3cr3t-pq"}
        got.pop("stringData")
    assert got == want


@pytest.mark.parametrize("fmt", ["yaml", "json"])
def test_sops_encrypts_kseal_decrypts(pq_peer: Peer, fmt: str) -> None:
    plain = SECRET if fmt == "yaml" else json.dumps(DOC).encode()
    enc = pq_peer.sops("encrypt", "--age", pq_peer.public, data=plain, suffix=f".{fmt}")
    out = pq_peer.kseal_decrypt(enc, fmt)
    if fmt == "yaml":
        assert b"token: s3cr3t-pq" in out
    else:
        assert json.loads(out) == DOC


def test_mixed_classic_and_pq_recipients(pq_peer: Peer, peer: Peer) -> None:
    """One file for an X25519 and a post-quantum recipient: each key opens it, in both tools."""
    store = get_store("yaml")
    options = engine.EncryptOptions(recipients=[peer.public, pq_peer.public], rules=Rules())
    enc = engine.encrypt(
        SECRET,
        store,
        store,
        options,
        wrap=agekey.wrap_key,
        random=os.urandom,
        now=datetime.now(UTC),
    )
    by_sops = pq_peer.sops("encrypt", "--age", f"{peer.public},{pq_peer.public}", data=SECRET)
    for who in (peer, pq_peer):
        for data in (enc, by_sops):
            assert b"token: s3cr3t-pq" in who.sops("decrypt", data=data)
            assert b"token: s3cr3t-pq" in who.kseal_decrypt(data, "yaml")


def test_keygen_pq_cli_file_and_recipient_work_with_sops(tmp_path: Path) -> None:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "SOPS_DISABLE_VERSION_CHECK": "1",
    }
    key = tmp_path / "sops" / "age" / "keys.txt"
    out = _kseal("keygen", "--pq", "-o", str(key), env=env)
    assert out.returncode == 0, out.stderr.decode()
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    public = out.stderr.decode().removeprefix("Public key: ").strip()
    # age-keygen's layout: the created stamp, the public key, the identity
    lines = key.read_text().splitlines()
    assert len(lines) == 3
    assert re.fullmatch(r"# created: \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)", lines[0])
    assert lines[1] == f"# public key: {public}"
    assert re.fullmatch(r"AGE-SECRET-KEY-PQ-1[0-9A-Z]{58}", lines[2])
    assert re.fullmatch(r"age1pq1[0-9a-z]{1952}", public)
    assert _kseal("keygen", "-y", str(key), env=env).stdout.decode() == public + "\n"

    # kseal's CLI encrypts for the recipient, sops decrypts with kseal's identity file
    plain = tmp_path / "s.yaml"
    plain.write_bytes(SECRET)
    enc = _kseal("encrypt", "--age", public, str(plain), env=env)
    assert enc.returncode == 0, enc.stderr.decode()
    sops_env = {**env, "SOPS_AGE_KEY_FILE": str(key)}
    enc_file = tmp_path / "s.enc.yaml"
    enc_file.write_bytes(enc.stdout)
    assert SOPS is not None
    out = subprocess.run(
        [SOPS, "decrypt", str(enc_file)], capture_output=True, env=sops_env, check=False
    )
    assert out.returncode == 0, out.stderr.decode()
    assert b"token: s3cr3t-pq" in out.stdout
    # sops accepts the recipient kseal printed, and kseal's CLI reads the result
    out = subprocess.run(
        [SOPS, "encrypt", "--age", public, str(plain)], capture_output=True, env=env, check=False
    )
    assert out.returncode == 0, out.stderr.decode()
    enc_file.write_bytes(out.stdout)
    dec = _kseal("decrypt", str(enc_file), env=sops_env)
    assert dec.returncode == 0, dec.stderr.decode()
    assert b"token: s3cr3t-pq" in dec.stdout
