"""age's post-quantum recipient type: hybrid ML-KEM-768 + X25519 (age 1.3, sops 3.11+).

From the age specification (C2SP age, "mlkem768x25519" recipient stanza):

* The identity is a 32-byte seed, Bech32-encoded as ``AGE-SECRET-KEY-PQ-1...`` (upper case). It
  is the private key of the HPKE KEM MLKEM768-X25519 (the X-Wing construction, KEM id 0x647a):
  ``SHAKE256(seed, 96)`` gives the ML-KEM-768 seed ``d || z`` (64 bytes) and the X25519 scalar.
* The recipient is the KEM public key, the ML-KEM-768 encapsulation key (1184 bytes) followed by
  the X25519 public key (32 bytes), Bech32-encoded as ``age1pq1...``.
* A file key is wrapped with single-shot HPKE (base mode, KDF HKDF-SHA256, AEAD
  ChaCha20-Poly1305, info ``age-encryption.org/mlkem768x25519``, empty AAD) into the stanza
  ``-> mlkem768x25519 <base64 of the 1120-byte encapsulated key>`` whose body is the 32-byte
  ciphertext.

The KEM, HPKE, SHAKE256 and the primitives all come from `cryptography` (>= 47) and hashlib; this
module only maps the age encodings onto them. Pure: no environment, no files.
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

from kseal import agefile, bech32

RECIPIENT_HRP = "age1pq"
IDENTITY_HRP = "age-secret-key-pq-"
RECIPIENT_PREFIX = RECIPIENT_HRP + "1"
SECRET_PREFIX = IDENTITY_HRP.upper() + "1"
STANZA_TYPE = "mlkem768x25519"
LABEL = b"age-encryption.org/mlkem768x25519"
SEED_SIZE = 32
_MLKEM_PUBLIC_SIZE = 1184
PUBLIC_SIZE = _MLKEM_PUBLIC_SIZE + 32
ENC_SIZE = 1088 + 32
_BODY_SIZE = agefile.FILE_KEY_SIZE + 16


def _suite() -> Any:
    from cryptography.hazmat.primitives import hpke

    return hpke.Suite(hpke.KEM.MLKEM768_X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.CHACHA20_POLY1305)


class HybridRecipient:
    """An ``age1pq1...`` public key."""

    __slots__ = ("_key", "public")

    def __init__(self, public: bytes) -> None:
        from cryptography.hazmat.primitives import hpke
        from cryptography.hazmat.primitives.asymmetric import mlkem, x25519

        if len(public) != PUBLIC_SIZE:
            raise ValueError("an MLKEM768-X25519 public key is 1216 bytes")
        self.public = public
        self._key = hpke.MLKEM768X25519PublicKey(
            mlkem.MLKEM768PublicKey.from_public_bytes(public[:_MLKEM_PUBLIC_SIZE]),
            x25519.X25519PublicKey.from_public_bytes(public[_MLKEM_PUBLIC_SIZE:]),
        )

    @classmethod
    def from_str(cls, text: str) -> HybridRecipient:
        """Parse ``age1pq1...``; raises ValueError (without the key) when it is malformed."""
        hrp, data = bech32.decode(text)
        if hrp != RECIPIENT_HRP:
            raise ValueError("not an age1pq recipient")
        return cls(data)

    def __str__(self) -> str:
        return bech32.encode(RECIPIENT_HRP, self.public)

    def __repr__(self) -> str:
        return f"HybridRecipient({str(self)[:16]}...)"

    def wrap(self, file_key: bytes) -> agefile.Stanza:
        sealed: bytes = _suite().encrypt(file_key, self._key, info=LABEL)
        enc, body = sealed[:ENC_SIZE], sealed[ENC_SIZE:]
        return agefile.Stanza(STANZA_TYPE, (agefile.b64encode_raw(enc),), body)


class HybridIdentity:
    """An ``AGE-SECRET-KEY-PQ-1...`` private key. Its repr never shows the seed."""

    __slots__ = ("_key", "_seed", "_x25519", "recipient")

    def __init__(self, seed: bytes) -> None:
        from cryptography.hazmat.primitives import hpke
        from cryptography.hazmat.primitives.asymmetric import mlkem, x25519

        if len(seed) != SEED_SIZE:
            raise ValueError("an MLKEM768-X25519 private key is a 32-byte seed")
        expanded = hashlib.shake_256(seed).digest(96)
        ml = mlkem.MLKEM768PrivateKey.from_seed_bytes(expanded[:64])
        xk = x25519.X25519PrivateKey.from_private_bytes(expanded[64:])
        self._seed = seed
        self._x25519 = xk
        self._key = hpke.MLKEM768X25519PrivateKey(ml, xk)
        self.recipient = HybridRecipient(
            ml.public_key().public_bytes_raw() + xk.public_key().public_bytes_raw()
        )

    @classmethod
    def generate(cls) -> HybridIdentity:
        return cls(secrets.token_bytes(SEED_SIZE))

    @classmethod
    def from_str(cls, text: str) -> HybridIdentity:
        """Parse ``AGE-SECRET-KEY-PQ-1...``; raises ValueError (without the key) when malformed."""
        hrp, data = bech32.decode(text)
        if hrp != IDENTITY_HRP:
            raise ValueError("not an AGE-SECRET-KEY-PQ identity")
        return cls(data)

    def __str__(self) -> str:
        return bech32.encode(IDENTITY_HRP, self._seed).upper()

    def __repr__(self) -> str:
        return f"HybridIdentity(recipient={self.recipient!r})"

    def to_public(self) -> HybridRecipient:
        return self.recipient

    def unwrap(self, stanza: agefile.Stanza) -> bytes | None:
        """The file key when ``stanza`` was made for this identity, else None."""
        from cryptography.exceptions import InvalidTag
        from cryptography.hazmat.primitives.asymmetric import x25519

        if stanza.type != STANZA_TYPE:
            return None
        if len(stanza.args) != 1:
            raise agefile.AgeFormatError("invalid mlkem768x25519 stanza")
        enc = agefile.b64decode_raw(stanza.args[0])
        if len(enc) != ENC_SIZE or len(stanza.body) != _BODY_SIZE:
            raise agefile.AgeFormatError("invalid mlkem768x25519 stanza")
        try:
            # age refuses a low-order X25519 share (an all-zero shared secret) as malformed
            self._x25519.exchange(x25519.X25519PublicKey.from_public_bytes(enc[-32:]))
        except ValueError:
            raise agefile.AgeFormatError("invalid mlkem768x25519 stanza") from None
        try:
            # ML-KEM rejects implicitly: a stanza for another key fails here, at the AEAD.
            key: bytes = _suite().decrypt(enc + stanza.body, self._key, info=LABEL)
        except (InvalidTag, ValueError):
            return None
        return key


def encrypt(plaintext: bytes, recipient: HybridRecipient) -> bytes:
    """A binary age file of ``plaintext`` for one post-quantum recipient."""
    file_key = secrets.token_bytes(agefile.FILE_KEY_SIZE)
    return agefile.encrypt(plaintext, [recipient.wrap(file_key)], file_key)


def decrypt(data: bytes, identities: list[HybridIdentity]) -> bytes:
    """The plaintext of a binary age file; raises agefile.NoMatchError / AgeFormatError."""
    return agefile.decrypt(data, [i.unwrap for i in identities])
