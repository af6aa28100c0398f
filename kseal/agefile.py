"""The age v1 file format (age-encryption.org/v1), for recipient types pyrage cannot take.

pyrage owns the X25519, SSH and passphrase recipients end to end, but it accepts no recipient or
identity implemented outside it. For those (the post-quantum ``mlkem768x25519`` stanza of age 1.3,
:mod:`kseal.agepq`) this module frames a file key into a complete age file and back: the header
(stanzas and the HMAC over them), the ChaCha20-Poly1305 STREAM payload, and the ASCII armor sops
stores in its ``enc`` fields. The primitives are `cryptography`'s; only the framing is here.

Pure: bytes in, bytes out. Failures raise :class:`AgeFormatError` (malformed input) or
:class:`NoMatchError` (well-formed, but no identity opens it); neither says anything about keys.
"""

from __future__ import annotations

import base64
import binascii
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass

VERSION_LINE = b"age-encryption.org/v1"
ARMOR_BEGIN = "-----BEGIN AGE ENCRYPTED FILE-----"
ARMOR_END = "-----END AGE ENCRYPTED FILE-----"
FILE_KEY_SIZE = 16
CHUNK_SIZE = 64 * 1024
_TAG_SIZE = 16
_COLUMNS = 64  # stanza bodies (unpadded base64) and the armor (padded base64) wrap here


class AgeFormatError(ValueError):
    """The bytes are not a well-formed age file."""


class NoMatchError(ValueError):
    """No identity could unwrap the file key, or the header MAC / payload did not authenticate."""


@dataclass(frozen=True)
class Stanza:
    type: str
    args: tuple[str, ...]
    body: bytes


# An identity, seen from here: a stanza in, the 16-byte file key out, or None when not for it.
Unwrapper = Callable[[Stanza], "bytes | None"]


def b64encode_raw(data: bytes) -> str:
    """age's base64: the standard alphabet without padding."""
    return base64.b64encode(data).decode("ascii").rstrip("=")


def b64decode_raw(text: str) -> bytes:
    """The inverse of :func:`b64encode_raw`; padding, whitespace and non-canonical forms fail."""
    if "=" in text or any(c.isspace() for c in text):
        raise AgeFormatError("invalid base64 in the age header")
    try:
        data = base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise AgeFormatError("invalid base64 in the age header") from None
    if b64encode_raw(data) != text:
        raise AgeFormatError("non-canonical base64 in the age header")
    return data


def encrypt(plaintext: bytes, stanzas: Sequence[Stanza], file_key: bytes) -> bytes:
    """A binary age file: ``stanzas`` (each wrapping ``file_key``) and the encrypted payload."""
    header = _header_without_mac(stanzas)
    mac = _header_mac(file_key, header)
    nonce = secrets.token_bytes(16)
    payload = _seal_stream(_payload_key(file_key, nonce), plaintext)
    return header + b" " + b64encode_raw(mac).encode() + b"\n" + nonce + payload


def decrypt(data: bytes, identities: Sequence[Unwrapper]) -> bytes:
    """The plaintext of a binary age file whose header one of ``identities`` can unwrap."""
    stanzas, header, mac, payload = _parse(data)
    file_key = None
    for unwrap in identities:
        for stanza in stanzas:
            file_key = unwrap(stanza)
            if file_key is not None:
                break
        if file_key is not None:
            break
    if file_key is None:
        raise NoMatchError("no identity matched any of the recipients")
    from cryptography.hazmat.primitives import constant_time

    if not constant_time.bytes_eq(_header_mac(file_key, header), mac):
        raise NoMatchError("the age header MAC does not verify")
    if len(payload) < 16:
        raise AgeFormatError("the age payload is truncated")
    return _open_stream(_payload_key(file_key, payload[:16]), payload[16:])


def armor(data: bytes) -> str:
    """The ASCII armor age writes: padded base64 in 64-column lines, with a trailing newline."""
    text = base64.b64encode(data).decode("ascii")
    lines = [text[i : i + _COLUMNS] for i in range(0, len(text), _COLUMNS)]
    return "\n".join([ARMOR_BEGIN, *lines, ARMOR_END]) + "\n"


def dearmor(text: str) -> bytes:
    """The binary age file inside ``text``, read as strictly as age does: whitespace only around
    the armor, LF or CRLF line ends, 64-column lines, canonical padded base64."""
    lines = [line.removesuffix("\r") for line in text.strip().split("\n")]
    if len(lines) < 2 or lines[0] != ARMOR_BEGIN or lines[-1] != ARMOR_END:
        raise AgeFormatError("not an ASCII-armored age file")
    body = lines[1:-1]
    if any(not line or len(line) > _COLUMNS for line in body) or any(
        len(line) != _COLUMNS for line in body[:-1]
    ):
        raise AgeFormatError("malformed age armor (lines must be 64 columns)")
    joined = "".join(body)
    try:
        data = base64.b64decode(joined, validate=True)
    except (binascii.Error, ValueError):
        raise AgeFormatError("malformed age armor (invalid base64)") from None
    if base64.b64encode(data).decode("ascii") != joined:
        raise AgeFormatError("malformed age armor (non-canonical base64)")
    return data


def is_armored(data: bytes) -> bool:
    return data.lstrip().startswith(ARMOR_BEGIN.encode())


def header_stanza_types(data: bytes) -> list[str]:
    """The stanza types of a binary age file's header; [] when it cannot be parsed."""
    try:
        return [s.type for s in _parse(data)[0]]
    except AgeFormatError:
        return []


def _header_without_mac(stanzas: Sequence[Stanza]) -> bytes:
    out = [VERSION_LINE + b"\n"]
    for stanza in stanzas:
        out.append(" ".join(["->", stanza.type, *stanza.args]).encode("ascii") + b"\n")
        body = b64encode_raw(stanza.body)
        # The last body line is always shorter than 64 columns, so it may be empty.
        for i in range(0, len(body) + 1, _COLUMNS):
            out.append(body[i : i + _COLUMNS].encode("ascii") + b"\n")
    out.append(b"---")
    return b"".join(out)


def _parse(data: bytes) -> tuple[list[Stanza], bytes, bytes, bytes]:
    """(stanzas, the header bytes the MAC covers, the MAC, the payload)."""
    pos = 0

    def line() -> bytes:
        nonlocal pos
        end = data.find(b"\n", pos)
        if end < 0:
            raise AgeFormatError("the age header is truncated")
        text, pos = data[pos:end], end + 1
        return text

    if line() != VERSION_LINE:
        raise AgeFormatError("not an age v1 file")
    stanzas: list[Stanza] = []
    while True:
        start = pos
        text = line()
        if text.startswith(b"--- "):
            mac = b64decode_raw(_ascii(text[4:]))
            if len(mac) != 32:
                raise AgeFormatError("malformed age header MAC")
            return stanzas, data[: start + 3], mac, data[pos:]
        if not text.startswith(b"-> "):
            raise AgeFormatError("malformed age header line")
        parts = _ascii(text[3:]).split(" ")
        if not parts or any(not p for p in parts):
            raise AgeFormatError("malformed age stanza")
        body = b""
        while True:
            chunk = _ascii(line())
            body += b64decode_raw(chunk) if chunk else b""
            if len(chunk) > _COLUMNS:
                raise AgeFormatError("malformed age stanza body")
            if len(chunk) < _COLUMNS:
                break
        stanzas.append(Stanza(parts[0], tuple(parts[1:]), body))


def _ascii(raw: bytes) -> str:
    try:
        text = raw.decode("ascii")
    except UnicodeDecodeError:
        raise AgeFormatError("non-ASCII bytes in the age header") from None
    if not text.isprintable():
        raise AgeFormatError("control characters in the age header")
    return text


def _hkdf(ikm: bytes, salt: bytes, info: bytes) -> bytes:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    return HKDF(hashes.SHA256(), 32, salt or None, info).derive(ikm)


def _header_mac(file_key: bytes, header: bytes) -> bytes:
    from cryptography.hazmat.primitives import hashes, hmac

    h = hmac.HMAC(_hkdf(file_key, b"", b"header"), hashes.SHA256())
    h.update(header)
    return h.finalize()


def _payload_key(file_key: bytes, nonce: bytes) -> bytes:
    return _hkdf(file_key, nonce, b"payload")


def _chunk_nonce(counter: int, last: bool) -> bytes:
    return counter.to_bytes(11, "big") + (b"\x01" if last else b"\x00")


def _seal_stream(key: bytes, plaintext: bytes) -> bytes:
    from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

    aead = ChaCha20Poly1305(key)
    chunks = [plaintext[i : i + CHUNK_SIZE] for i in range(0, len(plaintext), CHUNK_SIZE)] or [b""]
    return b"".join(
        aead.encrypt(_chunk_nonce(n, n == len(chunks) - 1), chunk, None)
        for n, chunk in enumerate(chunks)
    )


def _open_stream(key: bytes, ciphertext: bytes) -> bytes:
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

    aead = ChaCha20Poly1305(key)
    size = CHUNK_SIZE + _TAG_SIZE
    chunks = [ciphertext[i : i + size] for i in range(0, len(ciphertext), size)]
    if not chunks:
        raise AgeFormatError("the age payload is truncated")
    out = []
    for n, chunk in enumerate(chunks):
        last = n == len(chunks) - 1
        if len(chunk) < _TAG_SIZE or (last and n > 0 and len(chunk) == _TAG_SIZE):
            raise AgeFormatError("the age payload is truncated")
        try:
            out.append(aead.decrypt(_chunk_nonce(n, last), chunk, None))
        except InvalidTag:
            raise NoMatchError("the age payload does not authenticate") from None
    return b"".join(out)
