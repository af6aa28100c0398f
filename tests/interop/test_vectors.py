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


_VALUE = re.compile(r"ENC\[AES256_GCM,data:([^,]*),iv:([^,]+),tag:([^,]+),type:(\w+)\]")


def _flips(enc: bytes, field: str) -> list[bytes]:
    """One variant per encrypted value (comments included, the MAC excluded), each with one bit of
    that value's data, iv or tag flipped and re-encoded as valid base64."""
    text = enc.decode()
    out = []
    for m in _VALUE.finditer(text):
        if text[max(0, m.start() - 5) : m.start()] == "mac: ":
            continue
        group = {"data": 1, "iv": 2, "tag": 3}[field]
        raw = bytearray(base64.b64decode(m.group(group)))
        if not raw:
            continue
        raw[len(raw) // 2] ^= 0x10
        start, end = m.span(group)
        out.append((text[:start] + base64.b64encode(bytes(raw)).decode() + text[end:]).encode())
    return out


SENTINEL = "SENTINEL-7f3a-plaintext"
DOC = (
    f"# a comment\nuser: admin\npassword: {SENTINEL}\nport: 5432\nratio: 0.5\non: true\n"
    f"when: 2024-01-01\nlist: [a, {SENTINEL}]\nnote_unencrypted: hi\n"
).encode()


@pytest.mark.parametrize("writer", ["kseal", "sops"])
@pytest.mark.parametrize("field", ["data", "iv", "tag"])
def test_tampered_values_fail(peer: Peer, writer: str, field: str) -> None:
    enc = (
        peer.kseal_encrypt(DOC, "yaml")
        if writer == "kseal"
        else peer.sops("encrypt", "--age", peer.public, data=DOC)
    )
    variants = _flips(enc, field)
    assert len(variants) >= 8
    for bad in variants:
        try:
            out = peer.kseal_decrypt(bad, "yaml")
        except (DecryptError, MacError) as exc:
            assert SENTINEL not in str(exc)  # noqa: PT017 - many variants per test
        else:
            # Only a comment may fail to decrypt without failing the file (as sops): it stays encrypted.
            assert b"#ENC[" in out


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
