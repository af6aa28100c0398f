"""age recipients and identities: the only module that uses pyrage.

Pure: strings and bytes in, strings and bytes out; no environment, no files. The data key of a
sops file is wrapped once per recipient as a separate ASCII-armored age file, exactly as sops
stores it in the metadata's ``enc`` fields.

The post-quantum type of age 1.3 (``age1pq1...`` / ``AGE-SECRET-KEY-PQ-1...``) is not in pyrage;
:mod:`kseal.agepq` implements it and this module routes to it, so callers see one interface.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from kseal import agefile, agepq
from kseal.errors import KeyMaterialError, KeyRetrievalError

SECRET_PREFIX = "AGE-SECRET-KEY-1"  # noqa: S105 - the identity prefix, not a secret


@dataclass(frozen=True)
class Identity:
    """One private key, where it came from, and its public recipient (when derivable)."""

    key: Any  # a pyrage identity, or an agepq.HybridIdentity
    source: str
    public: str | None

    def to_public(self) -> str:
        if self.public is None:
            raise KeyMaterialError(
                f"cannot derive the public key of the identity from {self.source}"
            )
        return self.public


def parse_recipient(text: str) -> Any:
    """A recipient for ``age1pq1...`` (post-quantum, an agepq.HybridRecipient), or a pyrage one
    for ``age1...`` (X25519) or ``ssh-ed25519``/``ssh-rsa`` public keys."""
    import pyrage

    value = text.strip()
    try:
        if value.startswith(agepq.RECIPIENT_PREFIX):
            return agepq.HybridRecipient.from_str(value)
        if value.startswith("age1"):
            return pyrage.x25519.Recipient.from_str(value)
        if value.startswith(("ssh-ed25519 ", "ssh-rsa ")):
            return pyrage.ssh.Recipient.from_str(value)
    except (pyrage.RecipientError, ValueError):
        pass
    raise KeyMaterialError(
        f"invalid age recipient {abbreviate(value)!r}",
        hints=[
            "a recipient is an age public key (age1... or, post-quantum, age1pq1...) or an SSH "
            "public key (ssh-ed25519 ... / ssh-rsa ...)",
            "get one from 'kseal keygen -y KEYFILE' or 'age-keygen -y KEYFILE'",
        ],
    )


def abbreviate(recipient: str) -> str:
    """A recipient short enough for a message (post-quantum ones are ~2000 characters, SSH RSA
    ones ~700): its start and its end, which tell keys apart."""
    return recipient if len(recipient) <= 120 else f"{recipient[:20]}...{recipient[-8:]}"


def split_recipients(text: str) -> list[str]:
    """A comma-separated recipient list (``--age``, ``SOPS_AGE_RECIPIENTS``, ``.sops.yaml``)."""
    return [r.strip() for r in text.split(",") if r.strip()]


def wrap_key(data_key: bytes, recipient: str) -> str:
    """``data_key`` as a single-recipient, ASCII-armored age file (trailing newline included)."""
    import pyrage

    parsed = parse_recipient(recipient)
    try:
        if isinstance(parsed, agepq.HybridRecipient):
            return agefile.armor(agepq.encrypt(data_key, parsed))
        armored = pyrage.encrypt(data_key, [parsed], armored=True)
    except (pyrage.EncryptError, ValueError):
        # e.g. a well-formed recipient whose X25519 point has low order
        raise KeyMaterialError(
            f"cannot encrypt for the age recipient {abbreviate(recipient.strip())!r}"
        ) from None
    text: str = armored.decode("ascii")
    return text if text.endswith("\n") else text + "\n"


def unwrap_key(enc: str, identities: Sequence[Identity]) -> bytes:
    """Decrypt one ``enc`` value with any of ``identities``; raises without revealing anything."""
    import pyrage

    data = enc.strip().replace("\r\n", "\n").encode("ascii", "replace")
    if data.startswith(b"-----BEGIN"):
        data += b"\n"
    hybrid = [i.key for i in identities if isinstance(i.key, agepq.HybridIdentity)]
    classic = [i.key for i in identities if not isinstance(i.key, agepq.HybridIdentity)]
    if hybrid:
        result = _unwrap_hybrid(data, hybrid)
        if result is not None:
            return result
    if classic:
        try:
            plain: bytes = pyrage.decrypt(data, classic)
        except pyrage.DecryptError:
            pass
        else:
            return plain
    raise KeyRetrievalError("no identity could decrypt the data key")


def _unwrap_hybrid(data: bytes, identities: list[Any]) -> bytes | None:
    """The data key when a post-quantum identity opens ``data``; None otherwise."""
    try:
        raw = agefile.dearmor(data.decode("ascii")) if agefile.is_armored(data) else data
        if agepq.STANZA_TYPE not in agefile.header_stanza_types(raw):
            return None
        return agepq.decrypt(raw, identities)
    except (agefile.AgeFormatError, agefile.NoMatchError, UnicodeDecodeError):
        return None


def parse_identities(text: str, source: str) -> list[Identity]:
    """Identities from an age key file (``#`` comments and blank lines ignored) or an OpenSSH
    private key. Errors name the source and line number, never the line's content."""
    import pyrage

    if "OPENSSH PRIVATE" in text:
        try:
            key = pyrage.ssh.Identity.from_buffer(text.encode())
        except (pyrage.IdentityError, ValueError):
            raise KeyMaterialError(
                f"{source}: unsupported or passphrase-protected SSH private key"
            ) from None
        return [Identity(key, source, None)]
    found = []
    for number, raw in enumerate(text.splitlines(), 1):
        for token in raw.split() if not raw.lstrip().startswith("#") else []:
            if not token.startswith((SECRET_PREFIX, agepq.SECRET_PREFIX)):
                raise KeyMaterialError(
                    f"{source}: line {number} is not an age identity "
                    "(AGE-SECRET-KEY-1... or AGE-SECRET-KEY-PQ-1...)"
                )
            try:
                parsed = _parse_age_identity(token)
            except (pyrage.IdentityError, ValueError):
                raise KeyMaterialError(
                    f"{source}: line {number} holds a malformed age identity"
                ) from None
            found.append(Identity(parsed, source, str(parsed.to_public())))
    return found


def _parse_age_identity(token: str) -> Any:
    import pyrage

    if token.startswith(agepq.SECRET_PREFIX):
        return agepq.HybridIdentity.from_str(token)
    return pyrage.x25519.Identity.from_str(token)


def unlock_identities(data: bytes, passphrase: str, source: str) -> list[Identity]:
    """The identities inside a passphrase-protected (scrypt, ``age -p``) identity file, binary or
    armored. A wrong passphrase raises without saying anything about the contents."""
    import pyrage

    try:
        text = pyrage.passphrase.decrypt(data, passphrase)
    except pyrage.DecryptError:
        raise KeyMaterialError(f"{source}: incorrect passphrase") from None
    try:
        return parse_identities(text.decode("utf-8"), source)
    except UnicodeDecodeError:
        raise KeyMaterialError(f"{source}: the decrypted identity file is not text") from None


def is_passphrase_protected(data: bytes) -> bool:
    head = data.lstrip()[:40]
    return head.startswith((b"age-encryption.org/", b"-----BEGIN AGE ENCRYPTED FILE"))


def generate_identity(*, pq: bool = False) -> tuple[str, str]:
    """A new identity: X25519 (``AGE-SECRET-KEY-1...``, ``age1...``) or, with ``pq``, hybrid
    post-quantum (``AGE-SECRET-KEY-PQ-1...``, ``age1pq1...``)."""
    import pyrage

    key: Any = agepq.HybridIdentity.generate() if pq else pyrage.x25519.Identity.generate()
    return str(key), str(key.to_public())


def format_key_file(secret: str, public: str, created: datetime) -> str:
    """The file ``age-keygen`` writes: a created stamp, the public key, the secret key."""
    stamp = created.replace(microsecond=0).isoformat()
    if stamp.endswith("+00:00"):
        stamp = stamp[:-6] + "Z"
    return f"# created: {stamp}\n# public key: {public}\n{secret}\n"


def public_of(secret: str) -> str:
    identities = parse_identities(secret, "the given key")
    if len(identities) != 1:
        raise KeyMaterialError("expected exactly one age identity")
    return identities[0].to_public()
