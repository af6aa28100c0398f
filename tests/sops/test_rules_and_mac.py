"""Selection rules, comment regexes and the MAC, with injected key and IVs."""

from __future__ import annotations

import hashlib
from itertools import count

import pytest

from kseal.errors import ConflictError, MacError
from kseal.sops.document import (
    MAC_ONLY_ENCRYPTED_INIT,
    check_mac,
    decrypt_docs,
    encrypt_docs,
    encrypt_mac,
)
from kseal.sops.rules import Rules
from kseal.sops.tree import Branch, Comment, from_plain

KEY = bytes(range(32))


def _ivs():  # type: ignore[no-untyped-def]
    n = count(1)
    return lambda: next(n).to_bytes(32, "big")


def _doc() -> Branch:
    doc = from_plain(
        {
            "name": "app",
            "password": "hunter2",
            "token_unencrypted": "public",
            "data": {"a": "1", "b_unencrypted": "2"},
            "stringData": {"c": 3},
            "nums": [1, 2.5, True],
        }
    )
    assert isinstance(doc, Branch)
    return doc


def _encrypted_keys(rules: Rules) -> set[str]:
    doc = _doc()
    encrypt_docs([doc], KEY, rules, _ivs())
    out = set()

    def walk(node: object, prefix: str) -> None:
        if isinstance(node, Branch):
            for k, v in node:
                walk(v, f"{prefix}{k}.")
        elif isinstance(node, list):
            for v in node:
                walk(v, prefix)
        elif isinstance(node, str) and node.startswith("ENC["):
            out.add(prefix.rstrip("."))

    walk(doc, "")
    return out


@pytest.mark.parametrize(
    ("rules", "expected"),
    [
        (Rules().with_default(), {"name", "password", "data.a", "stringData.c", "nums"}),
        (Rules(encrypted_suffix="word"), {"password"}),
        (
            Rules(unencrypted_regex="^(name|nums)$"),
            {"password", "token_unencrypted", "data.a", "data.b_unencrypted", "stringData.c"},
        ),
        (
            Rules(encrypted_regex="^(data|stringData)$"),
            {"data.a", "data.b_unencrypted", "stringData.c"},
        ),
    ],
)
def test_selection_rules(rules: Rules, expected: set[str]) -> None:
    assert _encrypted_keys(rules) == expected


def test_only_one_rule() -> None:
    with pytest.raises(ConflictError, match="only one"):
        Rules(encrypted_regex="a", unencrypted_suffix="_u")


def test_comment_regexes() -> None:
    doc = Branch(
        [
            (Comment(" sops:enc"), None),
            ("secret", "s"),
            ("open", "o"),
            (Comment(" keep"), None),
            ("also_open", "x"),
        ]
    )
    encrypt_docs([doc], KEY, Rules(encrypted_comment_regex="sops:enc"), _ivs())
    assert doc[0] == (Comment(" sops:enc"), None)  # the marker itself stays readable
    assert str(doc[1][1]).startswith("ENC[")
    assert doc[2][1] == "o" and doc[4][1] == "x"
    assert doc[3] == (Comment(" keep"), None)

    doc2 = Branch([(Comment(" plain"), None), ("shown", "v"), ("hidden", "h")])
    encrypt_docs([doc2], KEY, Rules(unencrypted_comment_regex="plain"), _ivs())
    assert doc2[1][1] == "v" and str(doc2[2][1]).startswith("ENC[")


def test_mac_covers_plain_values_in_walk_order() -> None:
    doc = from_plain({"a": "x", "b_unencrypted": 1, "c": [True, 1.0], "d": None})
    assert isinstance(doc, Branch)
    mac = encrypt_docs([doc], KEY, Rules().with_default(), _ivs())
    assert mac == hashlib.sha512(b"x1True1").hexdigest().upper()


def test_mac_only_encrypted() -> None:
    doc = from_plain({"a": "x", "b_unencrypted": "y"})
    assert isinstance(doc, Branch)
    rules = Rules(unencrypted_suffix="_unencrypted", mac_only_encrypted=True)
    mac = encrypt_docs([doc], KEY, rules, _ivs())
    assert mac == hashlib.sha512(MAC_ONLY_ENCRYPTED_INIT + b"x").hexdigest().upper()
    assert decrypt_docs([doc], KEY, rules) == mac


def test_encrypted_output_is_byte_exact_with_injected_ivs() -> None:
    doc = from_plain({"a": "x"})
    assert isinstance(doc, Branch)
    encrypt_docs([doc], KEY, Rules(), _ivs())
    expected = (
        "ENC[AES256_GCM,data:YA==,iv:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAE=,"
        "tag:GQGfx5toWgYKCBU+Tac9Pw==,type:str]"
    )
    assert doc.get("a") == expected
    # The same bytes computed independently: AES-256-GCM, 32-byte IV, AAD = path + ":".
    import base64

    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    sealed = AESGCM(KEY).encrypt((1).to_bytes(32, "big"), b"x", b"a:")
    assert base64.b64encode(sealed[:-16]).decode() in expected
    assert base64.b64encode(sealed[-16:]).decode() in expected


def test_mac_checks() -> None:
    mac = "AB" * 64
    stored = encrypt_mac(mac, KEY, "2024-01-01T00:00:00Z", b"\x09" * 32)
    check_mac(stored, mac, KEY, "2024-01-01T00:00:00Z")
    with pytest.raises(MacError, match="mismatch"):
        check_mac(stored, "CD" * 64, KEY, "2024-01-01T00:00:00Z")
    with pytest.raises(MacError, match="lastmodified"):
        check_mac(stored, mac, KEY, "2024-01-01T00:00:01Z")
    with pytest.raises(MacError, match="no MAC"):
        check_mac("", mac, KEY, "2024-01-01T00:00:00Z")


def test_stash_keeps_unchanged_ciphertext() -> None:
    doc = from_plain({"a": "x", "b": "y"})
    assert isinstance(doc, Branch)
    encrypt_docs([doc], KEY, Rules(), _ivs())
    before = list(doc)
    stash: dict[tuple[tuple[str, ...], bytes], str] = {}
    decrypt_docs([doc], KEY, Rules(), stash=stash)
    doc.set("b", "changed")
    encrypt_docs([doc], KEY, Rules(), lambda: b"\x77" * 32, stash=stash)
    assert doc[0] == before[0]
    assert doc[1] != before[1]
