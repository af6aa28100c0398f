"""YAML comments next to sequences and nested collections, both ways with the real sops.

sops (yaml.v3) writes a comment that follows sequence items as a list element holding an
``ENC[...,type:comment]`` string; kseal must treat it as a comment (outside the MAC) when it
decrypts. And kseal must attach each comment where yaml.v3 does, since the comment's path is its
AAD: otherwise sops leaves the comment encrypted and warns.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from kseal.yamlio import safe_load_all
from tests.interop.conftest import SOPS, Peer

CASES = {
    "bare-dash": "items:\n  -\n    # note\n    key: v\n",
    "inside-item": "items:\n  - a: 1\n    # after a\n    b: 2\n",
    "nested-list": "items:\n  - - x\n    # in nested\n    - w\n",
    "list-foot": "items:\n  - x\n  # foot\nz: 1\n",
    "nested-foot": "items:\n  - - x\n    # c\n    - w\n  # foot\nz: 1\n",
    "last-list-foot": "a:\n  - x\n  # foot\n",
    "top-foot": "a:\n  - x\n# top foot\nb: 1\n",
    "map-in-list": "a:\n  - k: x\n    # in map\n  - w\n",
    "deeper-then-top": "a:\n  b:\n    c: 1\n    # four\n# zero\nd: 1\n",
    "list-then-key": "a:\n  b:\n    - c\n  # two\n  e: 1\n",
    # yaml.v3 attaches these foot comments to a collection other than the one their indentation
    # says (the first to the last value's collection, the second after the outermost block)
    "outdented-foot": "a:\n  b:\n    c: 1\n  # two\nd: 1\n",
    "two-outdented-feet": "a:\n  - b:\n      - c\n    # four\n  # two\nz: 1\n",
    # before the end of the document, a first comment indented like the last value stays with
    # it (and so do the lines after it); one indented less goes to the top level
    "end-indented": "a:\n  b: v\n    # x\n      # y\n",
    "end-dedented": "a:\n  b: v\n# x\n    # y\n# z\n",
    # lines that are not split up are one head comment of the next key, whatever their indent
    "one-head": "a:\n  b:\n    - s\n  # x\n      # y\n  k: v\n",
    # a group that ends a mapping stays inside it
    "mapping-foot": "a:\n  b:\n    c: v\n# x\n      # y\n# z\n  # w\nk: v\n",
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_sops_file_decrypts_with_kseal(peer: Peer, name: str) -> None:
    encrypted = peer.sops("encrypt", "--age", peer.public, data=CASES[name].encode())
    ours = peer.kseal_decrypt(encrypted, "yaml")
    theirs = peer.sops("decrypt", data=encrypted)
    assert safe_load_all(ours.decode()) == safe_load_all(theirs.decode())
    assert b"ENC[" not in ours


def _sops_keeps_a_comment_encrypted(peer: Peer, text: str, tmp: Path) -> bool:
    encrypted = peer.kseal_encrypt(text.encode(), "yaml")
    path = peer.file(encrypted, ".yaml")
    assert SOPS is not None
    out = subprocess.run(
        [SOPS, "decrypt", str(path)], capture_output=True, env=peer.env, check=True
    )
    assert peer.kseal_decrypt(encrypted, "yaml").decode() == text  # kseal's own round trip
    return b"ENC[" in out.stdout or b"possibly unencrypted comment" in out.stderr


@pytest.mark.parametrize("name", sorted(CASES))
def test_kseal_comments_decrypt_with_sops(peer: Peer, name: str, tmp_path: Path) -> None:
    assert not _sops_keeps_a_comment_encrypted(peer, CASES[name], tmp_path)
