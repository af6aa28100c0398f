"""The sops value codec: ``ENC[AES256_GCM,data:…,iv:…,tag:…,type:…]``.

Each value is encrypted with AES-256-GCM under the document's 32-byte data key, a fresh 32-byte IV
and, as additional authenticated data, the value's path (``a:b:c:``). The plaintext is the Go text
form of the value (see :mod:`kseal.sops.gofmt`); ``type`` says how to parse it back. Empty strings
and empty comments are never encrypted. The IV is a parameter, so outputs can be byte-exact.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import TYPE_CHECKING

from kseal.errors import DecryptError, EncryptError
from kseal.sops import gofmt
from kseal.sops.tree import Comment, FloatText, Scalar, Timestamp

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_a2b = binascii.a2b_base64
_b2a = binascii.b2a_base64

TAG_SIZE = 16
KEY_SIZE = 32

# As in sops: anchored at the start only, greedy groups.
ENC_RE = re.compile(r"ENC\[AES256_GCM,data:(.+),iv:(.+),tag:(.+),type:(.+)\]")


def to_bytes(value: Scalar) -> tuple[bytes, str]:
    """The bytes sops encrypts and hashes for ``value``, and its ``type`` name."""
    if isinstance(value, str):
        return value.encode("utf-8", "surrogateescape"), "str"
    if isinstance(value, bytes):
        return value, "str"
    if isinstance(value, bool):
        return gofmt.format_bool(value).encode(), "bool"
    if isinstance(value, int):
        return str(value).encode(), "int"
    if isinstance(value, float):
        return gofmt.format_float_f(value).encode(), "float"
    if isinstance(value, Timestamp):
        return value.text.encode(), "time"
    if isinstance(value, Comment):
        return value.text.encode("utf-8", "surrogateescape"), "comment"
    raise EncryptError(f"cannot encrypt a value of type {type(value).__name__}")


# Float spellings Go's ParseFloat reads as YAML does (no underscores, no .inf/.nan) and that are
# no integer to YAML (a dot or an exponent).
_FLOAT_SPELLING = re.compile(
    r"[-+]?(?:[0-9]+\.[0-9]*|\.[0-9]+|[0-9]+(?=[eE]))(?:[eE][-+]?[0-9]+)?\Z"
)


def float_spelling(text: str) -> bool:
    """True when ``text`` may be kept as a :class:`FloatText` (encrypted and written as is)."""
    return _FLOAT_SPELLING.match(text) is not None


def sealed_bytes(value: Scalar) -> tuple[bytes, str]:
    """The bytes kseal encrypts for ``value``: :func:`to_bytes`, except that a float keeps its
    source spelling (sops parses it to the same number and hashes the Go form, as kseal does)."""
    if isinstance(value, FloatText) and float_spelling(value.text):
        return value.text.encode(), "float"
    return to_bytes(value)


def from_bytes(data: bytes, kind: str) -> Scalar:
    """Parse decrypted bytes back into a typed value (Go semantics); errors name no data.

    Accepted: the types sops's stores write (``str``, ``int``, ``float``, ``bool``, ``time``,
    ``comment``). Any store may hold any of them (``sops encrypt --output-type`` converts), except
    ``comment`` outside a comment, which the caller checks.
    """
    try:
        if kind == "str":
            try:
                return data.decode("utf-8")
            except UnicodeDecodeError:
                return data
        text = data.decode("utf-8")
        if kind == "int":
            return gofmt.parse_int(text)
        if kind == "float":
            number = gofmt.parse_float(text)
            if text != gofmt.format_float_f(number) and float_spelling(text):
                return FloatText(text)
            return number
        if kind == "bool":
            return gofmt.parse_bool(text)
        if kind == "time":
            return Timestamp(gofmt.canonical_rfc3339(text))
        if kind == "comment":
            return Comment(text)
    except (ValueError, UnicodeDecodeError):
        raise DecryptError(f"decrypted value is not a valid {kind}") from None
    if kind == "bytes":
        # sops's cipher knows the name but no store ever writes it, and sops cannot walk the
        # result: a file holding it was altered.
        raise DecryptError(
            "unsupported value type 'bytes'",
            hints=["sops never writes it: the file was altered; restore it from version control"],
        )
    raise DecryptError(f"unknown value type {kind!r}")


class Cipher:
    """AES-256-GCM bound to one data key."""

    def __init__(self, key: bytes) -> None:
        if len(key) != KEY_SIZE:
            raise EncryptError("the data key must be 32 bytes")
        from cryptography.exceptions import InvalidTag
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        self._aead: AESGCM = AESGCM(key)
        self._failures = (InvalidTag, ValueError)

    def encrypt(self, value: Scalar, aad: str, iv: bytes) -> str:
        """``value`` as an ``ENC[...]`` string; ``""`` for an empty string, bytes or comment."""
        plain, kind = sealed_bytes(value)
        if not plain and kind in ("str", "comment"):
            return ""
        return self.encrypt_raw(plain, kind, aad, iv)

    def encrypt_raw(self, plain: bytes, kind: str, aad: str, iv: bytes) -> str:
        sealed = self._aead.encrypt(iv, plain, aad.encode("utf-8", "surrogateescape"))
        data, tag = sealed[:-TAG_SIZE], sealed[-TAG_SIZE:]
        data64 = _b2a(data, newline=False).decode()
        iv64 = _b2a(iv, newline=False).decode()
        tag64 = _b2a(tag, newline=False).decode()
        return f"ENC[AES256_GCM,data:{data64},iv:{iv64},tag:{tag64},type:{kind}]"

    def decrypt(self, text: str, aad: str) -> Scalar:
        """The typed value of an ``ENC[...]`` string; ``""`` decrypts to ``""``."""
        if text == "":
            return ""
        data, kind = self.decrypt_raw(text, aad)
        return from_bytes(data, kind)

    def decrypt_raw(self, text: str, aad: str) -> tuple[bytes, str]:
        parts = parse_enc(text)
        if parts is None:
            raise DecryptError("value does not match the sops data format (ENC[AES256_GCM,...])")
        data, iv, tag, kind = parts
        if not iv:
            raise DecryptError("value has an empty IV")
        try:
            plain = self._aead.decrypt(iv, data + tag, aad.encode("utf-8", "surrogateescape"))
        except self._failures:
            raise DecryptError(
                "value failed authentication (tampered, moved, or from another file)"
            ) from None
        return plain, kind


_PREFIX = "ENC[AES256_GCM,data:"


def parse_enc(text: str) -> tuple[bytes, bytes, bytes, str] | None:
    """Split an ``ENC[...]`` string into (data, iv, tag, type); None if it is not one.

    The usual shape (one line, four comma-separated fields, canonical base64) is split directly;
    anything else goes through sops's regex (:data:`ENC_RE`), which gives the same answer for the
    usual shape, only slower."""
    if text.startswith(_PREFIX) and text.endswith("]") and "\n" not in text:
        fields = text[len(_PREFIX) : -1].split(",")
        if len(fields) == 4:
            data, iv, tag, kind = fields
            if iv[:3] == "iv:" and tag[:4] == "tag:" and kind[:5] == "type:":
                try:
                    raw = [_a2b(f, strict_mode=True) for f in (data, iv[3:], tag[4:])]
                except binascii.Error:
                    pass  # not canonical base64: the regex path decides
                else:
                    if data and raw[1] and kind[5:] and len(raw[2]) == TAG_SIZE:
                        return raw[0], raw[1], raw[2], kind[5:]
    return _parse_enc_regex(text)


def _parse_enc_regex(text: str) -> tuple[bytes, bytes, bytes, str] | None:
    m = ENC_RE.match(text)
    if m is None:
        return None
    try:
        data, iv, tag = (base64.b64decode(m.group(i), validate=True) for i in (1, 2, 3))
    except (binascii.Error, ValueError):
        return None
    if len(tag) != TAG_SIZE:
        return None
    return data, iv, tag, m.group(4)


def is_encrypted_value(value: object) -> bool:
    return isinstance(value, str) and value.startswith("ENC[AES256_GCM,")
