"""The C2SP CCTV age test vectors (tests/vectors/age-testkit-TESTONLY) against kseal's age framing.

Every vector is one age file and the outcome the age specification requires. Hybrid
(mlkem768x25519) stanzas are opened by kseal.agepq; X25519 stanzas by the small unwrapper in
tests/test_agepq.py, so the header, HMAC, STREAM and armor rules of kseal/agefile.py meet the
whole suite. The passphrase (scrypt) vectors are left out: pyrage owns that type.
"""

from __future__ import annotations

import hashlib
import zlib
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from kseal import agefile, agepq, bech32
from tests.test_agepq import x25519_unwrapper

TESTKIT = Path(__file__).parent / "vectors" / "age-testkit-TESTONLY"

# What each `expect:` means for kseal's API: success, or which exception.
FAILURES: dict[str, tuple[type[Exception], ...]] = {
    "no match": (agefile.NoMatchError,),
    "HMAC failure": (agefile.NoMatchError,),  # kseal does not tell a bad MAC from no match
    "header failure": (agefile.AgeFormatError,),
    "armor failure": (agefile.AgeFormatError,),
    "payload failure": (agefile.AgeFormatError, agefile.NoMatchError),
}


def _load(path: Path) -> tuple[dict[str, list[str]], bytes]:
    raw = path.read_bytes()
    head, _, body = raw.partition(b"\n\n")
    meta: dict[str, list[str]] = {}
    for line in head.decode().splitlines():
        key, _, value = line.partition(": ")
        meta.setdefault(key, []).append(value)
    if meta.get("compressed") == ["zlib"]:
        body = zlib.decompress(body)
    return meta, body


def _unwrappers(meta: dict[str, list[str]]) -> list[agefile.Unwrapper]:
    out: list[agefile.Unwrapper] = []
    for text in meta.get("identity", []):
        if text.startswith(agepq.SECRET_PREFIX):
            out.append(agepq.HybridIdentity.from_str(text).unwrap)
        else:
            hrp, scalar = bech32.decode(text)
            assert hrp == "age-secret-key-"
            out.append(x25519_unwrapper(X25519PrivateKey.from_private_bytes(scalar)))
    return out


def _open(meta: dict[str, list[str]], body: bytes) -> bytes:
    if meta.get("armored") == ["yes"]:
        try:
            text = body.decode("ascii")
        except UnicodeDecodeError:
            raise agefile.AgeFormatError("not ASCII") from None
        body = agefile.dearmor(text)
    return agefile.decrypt(body, _unwrappers(meta))


VECTORS = sorted(p.name for p in TESTKIT.iterdir() if p.name != "README.md")


def test_the_vectors_are_here() -> None:
    assert len(VECTORS) == 117
    assert sum(name.startswith(("hybrid", "armor_hybrid")) for name in VECTORS) == 19


@pytest.mark.parametrize("name", VECTORS)
def test_vector(name: str) -> None:
    meta, body = _load(TESTKIT / name)
    expect = meta["expect"][0]
    if expect == "success":
        plain = _open(meta, body)
        assert hashlib.sha256(plain).hexdigest() == meta["payload"][0]
    else:
        with pytest.raises(FAILURES[expect]):
            _open(meta, body)
