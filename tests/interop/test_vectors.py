"""Files written by real sops releases (../shared/vectors, when present) and tampering."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import pytest

from kseal import agekey
from kseal.errors import DecryptError, KeyRetrievalError, MacError
from kseal.sops import engine
from kseal.sops.metadata import from_plain
from kseal.sops.stores import format_for_path, get_store
from tests.interop.conftest import Peer

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "vectors"
needs_shared = pytest.mark.skipif(not SHARED.is_dir(), reason="../shared/vectors is not present")


def _unwrap_with(key_text: str):  # type: ignore[no-untyped-def]
    ids = agekey.parse_identities(key_text, "vector key")
    return lambda md: agekey.unwrap_key(md.age_keys[0].enc, ids)


@needs_shared
def test_flux_age_vector_decrypts_and_passes_its_mac() -> None:
    folder = SHARED / "sops-flux-age"
    store = get_store("yaml")
    out = engine.decrypt(
        (folder / "secret.age.yaml").read_bytes(),
        store,
        store,
        unwrap=_unwrap_with((folder / "age.txt").read_text()),
    )
    assert b"secret: my-sops-age-secret" in out


@needs_shared
@pytest.mark.parametrize(
    "name",
    sorted(
        p.name
        for p in (SHARED / "sops-repo-pgp").glob("*")
        if p.suffix in (".yaml", ".json", ".ini", ".env", ".txt")
    )
    if SHARED.is_dir()
    else [],
)
def test_pgp_vectors_parse(name: str) -> None:
    """Without gpg the data keys stay locked, but every layout must load and its metadata parse."""
    path = SHARED / "sops-repo-pgp" / name
    fmt = format_for_path(name.replace(".enc.env", ".env"))
    loaded = get_store(fmt).load(path.read_bytes())
    assert loaded.metadata is not None
    meta = from_plain(loaded.metadata)
    assert meta.groups and meta.groups[0].other.get("pgp")


def _flip(enc: bytes, field: str) -> bytes:
    """Flip one bit in the first value's data, iv or tag (re-encoded as valid base64)."""
    text = enc.decode()
    m = re.search(r"(password: ENC\[AES256_GCM,data:)([^,]+),iv:([^,]+),tag:([^,]+),", text)
    assert m is not None
    parts = {"data": m.group(2), "iv": m.group(3), "tag": m.group(4)}
    raw = bytearray(base64.b64decode(parts[field]))
    raw[0] ^= 1
    parts[field] = base64.b64encode(bytes(raw)).decode()
    new = f"{m.group(1)}{parts['data']},iv:{parts['iv']},tag:{parts['tag']},"
    return (text[: m.start()] + new + text[m.end() :]).encode()


SENTINEL = "SENTINEL-7f3a-plaintext"
DOC = f"user: admin\npassword: {SENTINEL}\nnote_unencrypted: hi\n".encode()


@pytest.mark.parametrize("writer", ["kseal", "sops"])
@pytest.mark.parametrize("field", ["data", "iv", "tag"])
def test_tampered_values_fail(peer: Peer, writer: str, field: str) -> None:
    enc = (
        peer.kseal_encrypt(DOC, "yaml")
        if writer == "kseal"
        else peer.sops("encrypt", "--age", peer.public, data=DOC)
    )
    with pytest.raises(DecryptError) as info:
        peer.kseal_decrypt(_flip(enc, field), "yaml")
    assert SENTINEL not in str(info.value)
    assert '["password"]' in str(info.value)


@pytest.mark.parametrize("writer", ["kseal", "sops"])
def test_tampered_mac_and_lastmodified_fail(peer: Peer, writer: str) -> None:
    enc = (
        peer.kseal_encrypt(DOC, "yaml")
        if writer == "kseal"
        else peer.sops("encrypt", "--age", peer.public, data=DOC)
    )
    text = enc.decode()
    for bad in (
        re.sub(r'lastmodified: "[^"]+"', 'lastmodified: "2001-02-03T04:05:06Z"', text),
        re.sub(
            r"(mac: ENC\[AES256_GCM,data:)(.)",
            lambda m: m.group(1) + ("A" if m.group(2) != "A" else "B"),
            text,
        ),
        text.replace("note_unencrypted: hi", "note_unencrypted: ho"),
    ):
        with pytest.raises(MacError) as info:
            peer.kseal_decrypt(bad.encode(), "yaml")
        assert SENTINEL not in str(info.value)


def test_wrong_identity(peer: Peer, tmp_path: Path) -> None:
    enc = peer.sops("encrypt", "--age", peer.public, data=DOC)
    secret, _ = agekey.generate_identity()
    store = get_store("yaml")
    with pytest.raises(KeyRetrievalError) as info:
        engine.decrypt(enc, store, store, unwrap=_unwrap_with(secret))
    assert info.value.exit_code == 128
