"""Stable ciphertext: re-encryption reuses each old ciphertext of an unchanged value once."""

from __future__ import annotations

import os

from kseal.sops.document import Stash, decrypt_docs, encrypt_docs
from kseal.sops.rules import Rules
from kseal.sops.tree import Branch, Comment

KEY = os.urandom(32)


def _iv() -> bytes:
    return os.urandom(32)


def _doc() -> Branch:
    return Branch(
        [
            (Comment(" note"), None),
            ("same", ["x", "x"]),
            ("port", "5432"),
            ("n", 1),
        ]
    )


def _encrypted() -> tuple[Branch, list[object]]:
    doc = _doc()
    encrypt_docs([doc], KEY, Rules(), _iv)
    return doc, [v for _, v in doc]


def test_unchanged_values_keep_their_ciphertext() -> None:
    doc, before = _encrypted()
    stash: Stash = {}
    decrypt_docs([doc], KEY, Rules(), stash=stash)
    encrypt_docs([doc], KEY, Rules(), _iv, stash=stash)
    assert [v for _, v in doc] == before


def test_equal_values_never_share_a_ciphertext() -> None:
    doc, _ = _encrypted()
    same = doc.get("same")
    assert isinstance(same, list) and same[0] != same[1]
    same = list(same)
    stash: Stash = {}
    decrypt_docs([doc], KEY, Rules(), stash=stash)
    doc.set("same", ["x", "x", "x"])  # a third equal value needs a fresh ciphertext
    encrypt_docs([doc], KEY, Rules(), _iv, stash=stash)
    after = doc.get("same")
    assert isinstance(after, list) and len(set(after)) == 3
    assert after[:2] == same


def test_type_change_is_not_reused_and_comments_are() -> None:
    doc, before = _encrypted()
    comment_before = doc[0][0]
    stash: Stash = {}
    decrypt_docs([doc], KEY, Rules(), stash=stash)
    doc.set("port", 5432)  # same text, now an int: the old str ciphertext must not be used
    encrypt_docs([doc], KEY, Rules(), _iv, stash=stash)
    assert doc.get("port") != before[2] and "type:int" in str(doc.get("port"))
    assert doc[0][0] == comment_before
