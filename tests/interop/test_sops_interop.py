"""kseal and the real sops 3.11 binary read each other's files, for every format and rule.

Documents are generated from seeds (tests/interop/gen.py), so many shapes are covered while every
failure is reproducible. kseal runs in-process through its engine (the CLI is tested end to end in
tests/cli); sops runs as the real Go binary.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from kseal.sops.rules import Rules
from kseal.sops.stores.dotenv import DotenvStore
from kseal.sops.stores.yaml_store import YamlStore
from kseal.sops.tree import Branch, Comment, Timestamp, leaves
from tests.interop.conftest import Peer
from tests.interop.gen import Gen, dotenv_doc, expected, ini_doc, json_doc, yaml_doc


def norm(v: Any) -> Any:
    """Type-strict comparison form; ints and floats compare as numbers (sops 3.11 reads JSON
    numbers as floats and writes 1.0 as 1)."""
    if isinstance(v, dict):
        return {k: norm(x) for k, x in v.items()}
    if isinstance(v, list):
        return [norm(x) for x in v]
    if isinstance(v, bool):
        return ("bool", v)
    if isinstance(v, int | float):
        return ("num", float(v))
    if isinstance(v, Timestamp):
        return ("time", v.text)
    return v


def _plain(v: Any) -> Any:
    if isinstance(v, Branch):
        return {k: _plain(x) for k, x in v if isinstance(k, str)}
    if isinstance(v, list):
        return [_plain(x) for x in v if not isinstance(x, Comment)]
    return v


def yaml_data(text: bytes) -> Any:
    return [norm(_plain(d)) for d in YamlStore().load(text).docs]


def _yaml_case(seed: int) -> tuple[str, list[Any]]:
    g = Gen(seed)
    trees = [g.tree() for _ in range(g.r.choice([1, 1, 1, 2, 3]))]
    indent = g.r.choice([2, 4])
    text = "---\n".join(yaml_doc(g, t, indent) for t in trees)
    return text, [norm(expected(t)) for t in trees]


@pytest.mark.parametrize("seed", range(16))
def test_yaml_kseal_to_sops(peer: Peer, seed: int) -> None:
    text, want = _yaml_case(seed)
    enc = peer.kseal_encrypt(text.encode(), "yaml")
    assert yaml_data(peer.sops("decrypt", data=enc)) == want


@pytest.mark.parametrize("seed", range(16))
def test_yaml_sops_to_kseal(peer: Peer, seed: int) -> None:
    text, want = _yaml_case(seed)
    enc = peer.sops("encrypt", "--age", peer.public, data=text.encode())
    assert yaml_data(peer.kseal_decrypt(enc, "yaml")) == want


@pytest.mark.parametrize("seed", range(8))
def test_json_both_ways(peer: Peer, seed: int) -> None:
    text, tree = json_doc(Gen(seed))
    by_kseal = peer.kseal_encrypt(text.encode(), "json")
    by_sops = peer.sops("encrypt", "--age", peer.public, data=text.encode(), suffix=".json")
    for enc in (by_kseal, by_sops):
        theirs = peer.sops("decrypt", data=enc, suffix=".json")
        ours = peer.kseal_decrypt(enc, "json")
        assert ours == theirs
        assert norm(json.loads(ours)) == norm(tree)


@pytest.mark.parametrize("seed", range(8))
def test_dotenv_both_ways(peer: Peer, seed: int) -> None:
    text, data = dotenv_doc(Gen(seed))
    by_kseal = peer.kseal_encrypt(text.encode(), "dotenv")
    by_sops = peer.sops("encrypt", "--age", peer.public, data=text.encode(), suffix=".env")
    for enc in (by_kseal, by_sops):
        theirs = peer.sops("decrypt", data=enc, suffix=".env")
        assert peer.kseal_decrypt(enc, "dotenv") == theirs
        assert theirs == text.encode()
    loaded = DotenvStore().load(text.encode()).docs[0]
    assert {k: v for k, v in loaded if isinstance(k, str)} == data


@pytest.mark.parametrize("seed", range(8))
def test_ini_both_ways(peer: Peer, seed: int) -> None:
    text, _data = ini_doc(Gen(seed))
    by_kseal = peer.kseal_encrypt(text.encode(), "ini")
    by_sops = peer.sops("encrypt", "--age", peer.public, data=text.encode(), suffix=".ini")
    for enc in (by_kseal, by_sops):
        theirs = peer.sops("decrypt", data=enc, suffix=".ini")
        assert peer.kseal_decrypt(enc, "ini") == theirs
    assert peer.sops("decrypt", data=by_sops, suffix=".ini") == peer.sops(
        "decrypt", data=by_kseal, suffix=".ini"
    )


@pytest.mark.parametrize(
    "payload", [b"", b"plain text\n", bytes(range(256)), "ünï\r\n✓".encode(), b"\x00" * 100]
)
def test_binary_both_ways(peer: Peer, payload: bytes) -> None:
    by_kseal = peer.kseal_encrypt(payload, "binary")
    assert peer.sops("decrypt", data=by_kseal, suffix=".bin") == payload
    by_sops = peer.sops("encrypt", "--age", peer.public, data=payload, suffix=".bin")
    assert peer.kseal_decrypt(by_sops, "binary") == payload


RULE_DOC = """\
# top comment
apiVersion: v1
kind: Secret
metadata:
  name: db # the name
  labels:
    tier_unencrypted: backend
data:
  password: aHVudGVyMg==
stringData:
  # sops:enc
  token: abc
  # plain
  open: visible
  nested:
    deep_secret: s3
    list: [1, two, 3.5]
config_unencrypted:
  debug: true
"""

RULES = [
    ("--unencrypted-suffix", "_unencrypted", Rules(unencrypted_suffix="_unencrypted")),
    ("--encrypted-suffix", "_secret", Rules(encrypted_suffix="_secret")),
    (
        "--unencrypted-regex",
        "^(metadata|kind|apiVersion)$",
        Rules(unencrypted_regex="^(metadata|kind|apiVersion)$"),
    ),
    ("--encrypted-regex", "^(data|stringData)$", Rules(encrypted_regex="^(data|stringData)$")),
    ("--unencrypted-comment-regex", "plain", Rules(unencrypted_comment_regex="plain")),
    ("--encrypted-comment-regex", "sops:enc", Rules(encrypted_comment_regex="sops:enc")),
]


def _shape(enc: bytes) -> list[tuple[tuple[str, ...], bool, bool]]:
    """(path, is-comment, is-encrypted) for every leaf, in walk order."""
    out = []
    for doc in YamlStore().load(enc).docs:
        for leaf in leaves(doc):
            value = leaf.value
            text = value.text if isinstance(value, Comment) else value
            out.append(
                (
                    leaf.path,
                    isinstance(value, Comment),
                    isinstance(text, str) and text.startswith("ENC["),
                )
            )
    return out


@pytest.mark.parametrize(("flag", "value", "rules"), RULES, ids=[r[0] for r in RULES])
def test_selection_rules_match_sops(peer: Peer, flag: str, value: str, rules: Rules) -> None:
    by_kseal = peer.kseal_encrypt(RULE_DOC.encode(), "yaml", rules)
    # sops 3.11's encrypt subcommand ignores the (global) comment-regex flags; a .sops.yaml works.
    if "comment" in flag:
        config = peer.file(
            f"creation_rules:\n  - {flag[2:].replace('-', '_')}: '{value}'\n    age: {peer.public}\n".encode(),
            ".sops.yaml",
        )
        by_sops = peer.sops("--config", str(config), "encrypt", data=RULE_DOC.encode())
    else:
        by_sops = peer.sops("encrypt", "--age", peer.public, flag, value, data=RULE_DOC.encode())
    assert _shape(by_kseal) == _shape(by_sops)
    assert yaml_data(peer.sops("decrypt", data=by_kseal)) == yaml_data(
        peer.kseal_decrypt(by_sops, "yaml")
    )


@pytest.mark.parametrize("suffix_rule", [None, "--encrypted-regex"])
def test_mac_only_encrypted(peer: Peer, suffix_rule: str | None) -> None:
    rules = Rules(
        mac_only_encrypted=True, encrypted_regex="^(data|stringData)$" if suffix_rule else ""
    )
    by_kseal = peer.kseal_encrypt(RULE_DOC.encode(), "yaml", rules)
    assert yaml_data(peer.sops("decrypt", data=by_kseal)) == yaml_data(RULE_DOC.encode())
    args = [suffix_rule, "^(data|stringData)$"] if suffix_rule else []
    by_sops = peer.sops(
        "--mac-only-encrypted", "encrypt", "--age", peer.public, *args, data=RULE_DOC.encode()
    )
    assert yaml_data(peer.kseal_decrypt(by_sops, "yaml")) == yaml_data(RULE_DOC.encode())


@pytest.mark.parametrize(
    "path",
    [
        '["stringData"]["token"]',
        '["stringData"]["nested"]["list"][1]',
        '["metadata"]',
        '["stringData"]["nested"]["list"]',
    ],
)
def test_extract_matches_sops(peer: Peer, path: str) -> None:
    enc = peer.sops("encrypt", "--age", peer.public, data=RULE_DOC.encode())
    theirs = peer.sops("decrypt", "--extract", path, data=enc)
    ours = peer.kseal_decrypt(enc, "yaml", extract=path)
    if isinstance(theirs, bytes) and not theirs.startswith((b"-", b"name")):
        assert ours == theirs
    else:  # subtrees: same data (sops re-indents)
        assert yaml_data(
            b"x:\n" + b"".join(b"  " + line for line in ours.splitlines(True))
        ) == yaml_data(b"x:\n" + b"".join(b"  " + line for line in theirs.splitlines(True)))
