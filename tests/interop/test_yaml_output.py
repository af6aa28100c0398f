"""What kseal writes when it decrypts YAML, checked against the real sops and YAML 1.1 readers."""

from __future__ import annotations

import pytest

from kseal.errors import DecryptError, InputError
from tests import yaml11
from tests.interop.conftest import Peer
from tests.sops.test_yaml_store import YAML11_PLAIN, YAML11_TYPED


def _quoted_keys(text: str) -> set[str]:
    """The top-level keys whose value is written double-quoted."""
    out = set()
    for line in text.splitlines():
        key, _, value = line.partition(": ")
        if value.startswith('"'):
            out.add(key)
    return out


def test_decrypted_strings_stay_strings_for_yaml11_readers(peer: Peer) -> None:
    values = YAML11_TYPED + YAML11_PLAIN + ["0o17", "012", "~", "Null", "1e10", ".5", "1.", "+.inf"]
    plain = "".join(f"k{i}: {_dq(v)}\n" for i, v in enumerate(values))
    enc = peer.sops("encrypt", "--age", peer.public, data=plain.encode())
    ours = peer.kseal_decrypt(enc, "yaml").decode()
    theirs = peer.sops("decrypt", data=enc).decode()
    expected = {f"k{i}": v for i, v in enumerate(values)}
    for version in ((1, 1), (1, 2)):
        assert yaml11.load(ours, version) == expected
    # kseal quotes at least every value sops quotes (and also =, <<, 0b_, spaced timestamps)
    assert _quoted_keys(theirs) <= _quoted_keys(ours)


def _dq(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


EMPTY_DOCS = {
    "empty": "{}\n",
    "empty-with-comment": "{}  # c\n",
    "empty-first": "---\n{}\n---\na: 1\n",
    "empty-last": "a: 1\n---\n# only\n{}\n",
    # an empty or null document is an empty mapping to yaml.v3 (was "must be a mapping")
    "null-first": "null\n---\na: 1\n",
    "tilde": "~\n",
    "bare-marker-first": "---\n---\na: 1\n",
    "bare-marker-last": "a: 1\n--- # c\n",
}


@pytest.mark.parametrize("name", sorted(EMPTY_DOCS))
def test_empty_documents_decrypt_to_an_empty_mapping(peer: Peer, name: str) -> None:
    plain = EMPTY_DOCS[name].encode()
    by_sops = peer.sops("encrypt", "--age", peer.public, data=plain)
    expected = peer.sops("decrypt", data=by_sops)
    assert b"{}\n" in expected
    assert peer.kseal_decrypt(by_sops, "yaml") == expected
    by_kseal = peer.kseal_encrypt(plain, "yaml")
    assert peer.sops("decrypt", data=by_kseal) == expected
    assert peer.kseal_decrypt(by_kseal, "yaml") == expected


@pytest.mark.parametrize("path", ['["a"]', '["b"]', '["c"]'])
def test_extracting_an_empty_collection(peer: Peer, path: str) -> None:
    enc = peer.sops("encrypt", "--age", peer.public, data=b"a: {}\nb: []\nc:\n  d: {}\n")
    assert peer.kseal_decrypt(enc, "yaml", extract=path) == peer.sops(
        "decrypt", "--extract", path, data=enc
    )


@pytest.mark.parametrize("value", ['"!!!"', "aGVsbG8", "aGVsbG8==", "aGV sbG8="])
def test_invalid_binary_is_refused_like_sops(peer: Peer, value: str) -> None:
    plain = f"k: !!binary {value}\n".encode()
    with pytest.raises(AssertionError, match="invalid base64"):
        peer.sops("encrypt", "--age", peer.public, data=plain)
    with pytest.raises(InputError, match="invalid base64"):
        peer.kseal_encrypt(plain, "yaml")


def test_valid_binary_encrypts_like_sops(peer: Peer) -> None:
    plain = b"k: !!binary |\n  aGVs\n  bG8=\n"
    assert peer.sops("decrypt", data=peer.kseal_encrypt(plain, "yaml")) == b"k: hello\n"


TYPED_INPUTS = {
    ".yaml": b"a: hello\nn: 5\n",
    ".json": b'{"a": "hello", "n": 5}',
    ".env": b"a=hello\nn=5\n",
    ".ini": b"[s]\na=hello\nn=5\n",
}
FORMATS = {".yaml": "yaml", ".json": "json", ".env": "dotenv", ".ini": "ini"}


@pytest.mark.parametrize("suffix", sorted(TYPED_INPUTS))
@pytest.mark.parametrize("kind", ["bytes", "comment"])
def test_value_types_no_store_writes_are_refused(peer: Peer, suffix: str, kind: str) -> None:
    enc = peer.sops("encrypt", "--age", peer.public, data=TYPED_INPUTS[suffix], suffix=suffix)
    altered = enc.replace(b"type:str]", f"type:{kind}]".encode(), 1)
    assert altered != enc
    if kind == "bytes":  # sops cannot decrypt it either (it fails walking the []byte)
        with pytest.raises(AssertionError):
            peer.sops("decrypt", "--ignore-mac", data=altered, suffix=suffix)
    with pytest.raises(DecryptError, match=f"unsupported value type '{kind}'") as info:
        peer.kseal_decrypt(altered, FORMATS[suffix])
    assert "hello" not in str(info.value)


def test_comments_sops_writes_as_sequence_items_still_decrypt(peer: Peer) -> None:
    enc = peer.sops("encrypt", "--age", peer.public, data=b"a:\n  - x\n  # foot\nb: 1\n")
    assert b"type:comment]" in enc
    assert peer.kseal_decrypt(enc, "yaml") == peer.sops("decrypt", data=enc)


BLOCKS = """\
top: |
  l1
  l2
nest:
  keep: |+
    k1

  strip: |-
    s1
    s2
  fold: >
    f1 f2
  clip: |
    c1
  list:
    - |
      item
    - k: |
        in map
      j: x
"""


def test_decrypted_blocks_match_sops_indentation(peer: Peer) -> None:
    enc = peer.sops("encrypt", "--age", peer.public, data=BLOCKS.encode())
    # a 4-space sops file: 8 spaces under a 4-space key, |+ kept (was a quoted string)
    assert peer.kseal_decrypt(enc, "yaml") == peer.sops("decrypt", data=enc)


def test_kseal_round_trip_keeps_styles_and_sops_reads_it(peer: Peer) -> None:
    from tests.sops.test_yaml_store import STYLED

    for text in (STYLED, BLOCKS):
        enc = peer.kseal_encrypt(text.encode(), "yaml")
        assert peer.kseal_decrypt(enc, "yaml").decode() == text
        # sops reads the same values (its MAC over Go's forms matches), e.g. 1e10 as 1e+10
        by_sops = peer.sops("encrypt", "--age", peer.public, data=text.encode())
        assert peer.sops("decrypt", data=enc) == peer.sops("decrypt", data=by_sops)
