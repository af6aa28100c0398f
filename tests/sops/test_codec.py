"""The value codec, checked byte for byte against sops's own test vector and round trips."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kseal.errors import DecryptError
from kseal.sops.codec import Cipher, from_bytes, parse_enc, to_bytes
from kseal.sops.tree import Comment, Timestamp

# From sops aes/cipher_test.go: key "f"*32, AAD "bar:", plaintext "foo".
SOPS_VECTOR = (
    "ENC[AES256_GCM,data:oYyi,iv:MyIDYbT718JRr11QtBkcj3Dwm4k1aCGZBVeZf0EyV8o=,"
    "tag:t5z2Z023Up0kxwCgw1gNxg==,type:str]"
)
KEY = b"f" * 32


def test_sops_vector_decrypts() -> None:
    assert Cipher(KEY).decrypt(SOPS_VECTOR, "bar:") == "foo"


def test_sops_vector_is_reproduced_byte_for_byte() -> None:
    iv = base64.b64decode("MyIDYbT718JRr11QtBkcj3Dwm4k1aCGZBVeZf0EyV8o=")
    assert Cipher(KEY).encrypt("foo", "bar:", iv) == SOPS_VECTOR


def test_wrong_aad_fails() -> None:
    with pytest.raises(DecryptError):
        Cipher(KEY).decrypt(SOPS_VECTOR, "")


@pytest.mark.parametrize(
    ("value", "plain", "kind"),
    [
        ("héllo", "héllo".encode(), "str"),
        (b"\xff\x00", b"\xff\x00", "str"),
        (-42, b"-42", "int"),
        (1.0, b"1", "float"),
        (1e21, b"1000000000000000000000", "float"),
        (1e-7, b"0.0000001", "float"),
        (True, b"True", "bool"),
        (False, b"False", "bool"),
        (Timestamp("2024-01-01T00:00:00Z"), b"2024-01-01T00:00:00Z", "time"),
        (Comment(" note"), b" note", "comment"),
    ],
)
def test_go_text_forms(value: object, plain: bytes, kind: str) -> None:
    assert to_bytes(value) == (plain, kind)  # type: ignore[arg-type]


def test_empty_values_are_not_encrypted() -> None:
    c = Cipher(KEY)
    assert c.encrypt("", "a:", b"\0" * 32) == ""
    assert c.encrypt(Comment(""), "a:", b"\0" * 32) == ""
    assert c.decrypt("", "a:") == ""


@pytest.mark.parametrize(
    ("data", "kind", "expected"),
    [
        (b"True", "bool", True),
        (b"t", "bool", True),
        (b"0", "bool", False),
        (b"+7", "int", 7),
        (b"2.50", "float", 2.5),
        (b"2024-01-01T10:00:00.500+02:00", "time", Timestamp("2024-01-01T10:00:00.5+02:00")),
        (b"\xff", "str", b"\xff"),
    ],
)
def test_decrypted_parsing_follows_go(data: bytes, kind: str, expected: object) -> None:
    assert from_bytes(data, kind) == expected


@pytest.mark.parametrize(
    ("data", "kind"), [(b"yes", "bool"), (b"1.5", "int"), (b"x", "nope"), (b"x", "bytes")]
)
def test_bad_decrypted_values_fail_without_echoing_them(data: bytes, kind: str) -> None:
    with pytest.raises(DecryptError) as info:
        from_bytes(data, kind)
    assert data.decode() not in str(info.value) or kind == "nope"


def test_parse_enc_rejects_garbage() -> None:
    assert parse_enc("ENC[AES256_GCM,data:!!,iv:a,tag:b,type:str]") is None
    assert parse_enc("plain") is None


@given(
    st.one_of(
        st.text(min_size=1),
        st.integers(min_value=-(2**63), max_value=2**63 - 1),
        st.floats(allow_nan=False),
        st.booleans(),
    ),
    st.text(max_size=20),
)
def test_round_trip(value: object, aad: str) -> None:
    c = Cipher(KEY)
    enc = c.encrypt(value, aad, b"\x01" * 32)  # type: ignore[arg-type]
    out = c.decrypt(enc, aad)
    assert type(out) is type(value)
    assert out == value


_B64 = st.binary(max_size=40).map(lambda b: base64.b64encode(b).decode())
_FIELD = st.one_of(_B64, st.text(alphabet="AQ=+/,]\n x", max_size=8), _B64.map(lambda s: s + "="))


@given(
    data=_FIELD,
    iv=_FIELD,
    tag=st.one_of(
        st.binary(min_size=16, max_size=16).map(lambda b: base64.b64encode(b).decode()), _FIELD
    ),
    kind=st.one_of(st.sampled_from(["str", "int", ""]), st.text(alphabet="ab],\n", max_size=5)),
    tail=st.sampled_from(["]", "] ", "]]", "", "]\nx]"]),
)
def test_parse_enc_fast_path_answers_as_sops_regex(
    data: str, iv: str, tag: str, kind: str, tail: str
) -> None:
    """The comma split with strict base64 gives what sops's regex with b64decode gives."""
    from kseal.sops.codec import _parse_enc_regex

    text = f"ENC[AES256_GCM,data:{data},iv:{iv},tag:{tag},type:{kind}{tail}"
    assert parse_enc(text) == _parse_enc_regex(text)
