"""Post-quantum age (mlkem768x25519) and the age file framing kseal writes for it.

Known answers come from outside kseal: the Flux vector (identity made by age 1.3, file written by
sops 3.12.1), the BIP 173 Bech32 vectors, and rage (pyrage), which frames X25519 files that
kseal's age framing must read, and reads the X25519 files kseal's framing writes.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from kseal import agefile, agekey, agepq, bech32, identities
from kseal.errors import KeyMaterialError, KeyRetrievalError
from kseal.sops import engine
from kseal.sops.metadata import AgeKey, KeyGroup, Metadata
from kseal.sops.stores import get_store

VECTORS = Path(__file__).parent / "vectors"
FLUX_KEY_FILE = VECTORS / "keys" / "flux-age-pq-TESTONLY.txt"
FLUX_FILE = VECTORS / "sops" / "flux-age-pq.yaml"
FLUX_RECIPIENT = FLUX_KEY_FILE.read_text().splitlines()[1].removeprefix("# public key: ")
FLUX_IDENTITY = FLUX_KEY_FILE.read_text().splitlines()[2]
DATA_KEY = bytes(range(32))


# --- the Flux vector: an identity age 1.3 made and a file sops 3.12.1 wrote -----------------


def test_flux_identity_derives_the_recipient_age_printed() -> None:
    # SHAKE256 seed expansion, ML-KEM-768 key generation and the Bech32 encoding, as a known answer
    assert agekey.public_of(FLUX_IDENTITY) == FLUX_RECIPIENT
    assert FLUX_RECIPIENT.startswith("age1pq1") and len(FLUX_RECIPIENT) == 1959
    identity = agepq.HybridIdentity.from_str(FLUX_IDENTITY)
    assert str(identity) == FLUX_IDENTITY  # upper case, like age
    assert len(identity.recipient.public) == 1184 + 32


def test_flux_vector_decrypts_with_its_mac(tmp_path: Path) -> None:
    store = get_store("yaml")
    env = {"SOPS_AGE_KEY_FILE": str(FLUX_KEY_FILE)}
    out = engine.decrypt(
        FLUX_FILE.read_bytes(),
        store,
        store,
        unwrap=lambda md: identities.unwrap_data_key(md, env, tmp_path),
    )
    assert b"stringData:\n  key: value\n" in out


def test_flux_vector_through_the_cli(tmp_path: Path) -> None:
    """The reported failure: exit 128, 'not an age identity'."""
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "SOPS_AGE_KEY_FILE": str(FLUX_KEY_FILE),
    }
    out = subprocess.run(
        [sys.executable, "-m", "kseal", "decrypt", str(FLUX_FILE)],
        capture_output=True,
        env=env,
        check=False,
    )
    assert out.returncode == 0, out.stderr.decode()
    assert b"  key: value\n" in out.stdout


def test_flux_stanza_is_what_kseal_writes() -> None:
    """kseal's own wrap has the shape of the vector's: one stanza, same sizes, same armor."""
    ours = agefile.dearmor(agekey.wrap_key(DATA_KEY, FLUX_RECIPIENT))
    theirs_text = FLUX_FILE.read_text().split("enc: |\n")[1].split("  lastmodified")[0]
    theirs = agefile.dearmor("\n".join(line.strip() for line in theirs_text.splitlines()))
    for raw in (ours, theirs):
        stanzas, _, _, payload = agefile._parse(raw)
        assert [(s.type, len(agefile.b64decode_raw(s.args[0])), len(s.body)) for s in stanzas] == [
            ("mlkem768x25519", 1120, 32)
        ]
        assert len(payload) == 16 + 32 + 16
    assert len(ours) == len(theirs)


# --- wrapping, unwrapping, discovery --------------------------------------------------------


def test_wrap_unwrap_and_wrong_identity() -> None:
    secret, public = agekey.generate_identity(pq=True)
    assert secret.startswith("AGE-SECRET-KEY-PQ-1") and public.startswith("age1pq1")
    enc = agekey.wrap_key(DATA_KEY, public)
    assert enc.startswith("-----BEGIN AGE ENCRYPTED FILE-----\n") and enc.endswith("-----\n")
    assert agekey.unwrap_key(enc, agekey.parse_identities(secret, "k")) == DATA_KEY
    other, _ = agekey.generate_identity(pq=True)
    classic, _ = agekey.generate_identity()
    with pytest.raises(KeyRetrievalError):
        agekey.unwrap_key(enc, agekey.parse_identities(f"{other}\n{classic}\n", "k"))


def test_mixed_key_file_opens_both_kinds() -> None:
    pq_secret, pq_public = agekey.generate_identity(pq=True)
    x_secret, x_public = agekey.generate_identity()
    ids = agekey.parse_identities(f"# both\n{x_secret}\n\n{pq_secret}\n", "keys.txt")
    assert [i.public for i in ids] == [x_public, pq_public]
    for recipient in (x_public, pq_public):
        assert agekey.unwrap_key(agekey.wrap_key(DATA_KEY, recipient), ids) == DATA_KEY


def test_passphrase_protected_pq_key_file(tmp_path: Path) -> None:
    import pyrage  # noqa: TID251 - test setup: a passphrase file as age -p writes it

    locked = tmp_path / "keys.age"
    locked.write_bytes(pyrage.passphrase.encrypt(FLUX_KEY_FILE.read_bytes(), "pw"))
    ids = agekey.unlock_identities(locked.read_bytes(), "pw", "keys.age")
    assert [i.public for i in ids] == [FLUX_RECIPIENT]
    enc = agekey.wrap_key(DATA_KEY, FLUX_RECIPIENT)
    meta = Metadata([KeyGroup(age=[AgeKey(FLUX_RECIPIENT, enc)])])
    env = {"SOPS_AGE_KEY_FILE": str(locked)}
    assert identities.unwrap_data_key(meta, env, tmp_path, lambda _: "pw") == DATA_KEY


def test_discovery_explains_failures_briefly_and_without_keys(tmp_path: Path) -> None:
    _, public = agekey.generate_identity(pq=True)
    mine, my_public = agekey.generate_identity(pq=True)
    meta = Metadata([KeyGroup(age=[AgeKey(public, agekey.wrap_key(DATA_KEY, public))])])
    with pytest.raises(KeyRetrievalError) as info:
        identities.unwrap_data_key(meta, {"SOPS_AGE_KEY": mine}, tmp_path)
    text = "\n".join([info.value.message, *info.value.hints])
    assert mine not in text and "AGE-SECRET-KEY-PQ" not in text
    # 2000-character recipients are shortened, but still recognisable
    assert public not in text and public[:20] in text and public[-8:] in text
    assert my_public[:20] in text
    assert max(len(line) for line in text.splitlines()) < 200


@pytest.mark.parametrize(
    "bad",
    [
        FLUX_RECIPIENT[:-1] + ("q" if FLUX_RECIPIENT[-1] != "q" else "p"),  # checksum
        FLUX_RECIPIENT[:100],  # truncated
        bech32.encode("age1pq", b"\x00" * 1215),  # wrong length
        bech32.encode("age1pq", b"\xff" * 1216),  # not an ML-KEM-768 key (coefficients >= q)
    ],
)
def test_malformed_pq_recipients(bad: str) -> None:
    with pytest.raises(KeyMaterialError) as info:
        agekey.parse_recipient(bad)
    assert len(info.value.message) < 160
    with pytest.raises(KeyMaterialError):
        agekey.wrap_key(DATA_KEY, bad)


def test_low_order_x25519_half_is_refused_cleanly() -> None:
    _, public = agekey.generate_identity(pq=True)
    _, key = bech32.decode(public)
    bad = bech32.encode("age1pq", key[:1184] + bytes(32))
    with pytest.raises(KeyMaterialError) as info:
        agekey.wrap_key(DATA_KEY, bad)
    assert info.value.message.startswith("cannot encrypt for the age recipient 'age1pq1")


def test_malformed_pq_identity_names_the_line_only() -> None:
    broken = FLUX_IDENTITY[:-1] + ("Q" if FLUX_IDENTITY[-1] != "Q" else "P")
    with pytest.raises(KeyMaterialError) as info:
        agekey.parse_identities(f"# c\n{broken}\n", "keys.txt")
    assert info.value.message == "keys.txt: line 2 holds a malformed age identity"
    short = bech32.encode("age-secret-key-pq-", b"\x01" * 31).upper()
    with pytest.raises(KeyMaterialError):
        agekey.parse_identities(short, "keys.txt")


def test_identity_repr_hides_the_seed() -> None:
    identity = agepq.HybridIdentity.from_str(FLUX_IDENTITY)
    assert FLUX_IDENTITY[20:40].lower() not in repr(identity).lower()
    assert "age1pq1" in repr(identity)


# --- Bech32 ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "valid",
    [
        "A12UEL5L",
        "a12uel5l",
        "an83characterlonghumanreadablepartthatcontainsthenumber1andtheexcludedcharactersbio1tt5tgs",
        "abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw",
        "split1checkupstagehandshakeupstreamerranterredcaperred2y9e3w",
    ],
)
def test_bech32_bip173_valid(valid: str) -> None:
    hrp, _ = bech32.decode(valid)
    assert hrp == valid.lower()[: valid.lower().rfind("1")]


@pytest.mark.parametrize(
    "invalid",
    ["pzry9x0s0muk", "1pzry9x0s0muk", "x1b4n0q5v", "li1dgmt3", "A1G7SGD8", "10a06t8", "1qzzfhee"],
)
def test_bech32_bip173_invalid(invalid: str) -> None:
    with pytest.raises(ValueError):
        bech32.decode(invalid)


def test_bech32_matches_rage_for_x25519_keys() -> None:
    import pyrage  # noqa: TID251 - rage's own Bech32 and X25519 as the reference

    key = X25519PrivateKey.generate()
    secret = bech32.encode("age-secret-key-", key.private_bytes_raw()).upper()
    public = bech32.encode("age", key.public_key().public_bytes_raw())
    assert str(pyrage.x25519.Identity.from_str(secret).to_public()) == public
    assert bech32.decode(public) == ("age", key.public_key().public_bytes_raw())
    with pytest.raises(ValueError, match="mixed case"):
        bech32.decode(public[:10].upper() + public[10:])


# --- the age v1 framing, checked against rage with X25519 stanzas built here ----------------

_X25519_LABEL = b"age-encryption.org/v1/X25519"


def _wrap_key_x25519(share: bytes, secret: bytes, recipient: bytes) -> bytes:
    return HKDF(hashes.SHA256(), 32, share + recipient, _X25519_LABEL).derive(secret)


def x25519_stanza(recipient: bytes, file_key: bytes) -> agefile.Stanza:
    eph = X25519PrivateKey.generate()
    share = eph.public_key().public_bytes_raw()
    key = _wrap_key_x25519(
        share, eph.exchange(X25519PublicKey.from_public_bytes(recipient)), recipient
    )
    body = ChaCha20Poly1305(key).encrypt(b"\x00" * 12, file_key, None)
    return agefile.Stanza("X25519", (agefile.b64encode_raw(share),), body)


def x25519_unwrapper(key: X25519PrivateKey) -> agefile.Unwrapper:
    ours = key.public_key().public_bytes_raw()

    def unwrap(stanza: agefile.Stanza) -> bytes | None:
        if stanza.type != "X25519":
            return None
        share = agefile.b64decode_raw(stanza.args[0]) if len(stanza.args) == 1 else b""
        if len(share) != 32 or len(stanza.body) != 32:
            raise agefile.AgeFormatError("invalid X25519 stanza")
        try:
            secret = key.exchange(X25519PublicKey.from_public_bytes(share))
        except ValueError:  # low order: the all-zero shared secret
            raise agefile.AgeFormatError("invalid X25519 stanza") from None
        wrap = _wrap_key_x25519(share, secret, ours)
        try:
            return ChaCha20Poly1305(wrap).decrypt(b"\x00" * 12, stanza.body, None)
        except InvalidTag:
            return None

    return unwrap


@pytest.mark.parametrize("size", [0, 1, 64 * 1024, 64 * 1024 + 1, 3 * 64 * 1024 + 17])
def test_framing_interoperates_with_rage(size: int) -> None:
    import pyrage  # noqa: TID251 - the reference implementation of the age format

    key = X25519PrivateKey.generate()
    public = key.public_key().public_bytes_raw()
    identity = pyrage.x25519.Identity.from_str(
        bech32.encode("age-secret-key-", key.private_bytes_raw()).upper()
    )
    plain = os.urandom(size)
    # rage writes (binary and armored), kseal's framing reads
    recipient = pyrage.x25519.Recipient.from_str(bech32.encode("age", public))
    for armored in (False, True):
        data = pyrage.encrypt(plain, [recipient], armored=armored)
        raw = agefile.dearmor(data.decode()) if armored else data
        assert agefile.decrypt(raw, [x25519_unwrapper(key)]) == plain
    # kseal's framing writes (with a second stanza rage must skip), rage reads
    file_key = os.urandom(16)
    other = X25519PrivateKey.generate().public_key().public_bytes_raw()
    stanzas = [x25519_stanza(other, file_key), x25519_stanza(public, file_key)]
    raw = agefile.encrypt(plain, stanzas, file_key)
    assert pyrage.decrypt(raw, [identity]) == plain
    assert pyrage.decrypt(agefile.armor(raw).encode(), [identity]) == plain


def test_framing_rejects_tampering() -> None:
    secret, public = agekey.generate_identity(pq=True)
    identity = agepq.HybridIdentity.from_str(secret)
    raw = agepq.encrypt(DATA_KEY, agepq.HybridRecipient.from_str(public))
    assert agepq.decrypt(raw, [identity]) == DATA_KEY
    mac_at = raw.index(b"\n--- ") + 5
    flip_mac = raw[:mac_at] + bytes([raw[mac_at] ^ 1]) + raw[mac_at + 1 :]
    flip_payload = raw[:-1] + bytes([raw[-1] ^ 1])
    for bad in (flip_mac, flip_payload):
        with pytest.raises((agefile.NoMatchError, agefile.AgeFormatError)):
            agepq.decrypt(bad, [identity])
    for bad in (raw[:40], raw[: raw.index(b"\n--- ")], b"age-encryption.org/v2\n", raw[:-20]):
        with pytest.raises((agefile.NoMatchError, agefile.AgeFormatError)):
            agepq.decrypt(bad, [identity])
    with pytest.raises(KeyRetrievalError):
        agekey.unwrap_key(agefile.armor(flip_payload), agekey.parse_identities(secret, "k"))
