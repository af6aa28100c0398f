"""``kseal check`` parses each file once (issue 10, item 9): the SOPS rules read the documents the
manifest rules already parsed; the SOPS store is loaded only for rules that need comments."""

from __future__ import annotations

import os
from datetime import UTC, datetime

import pytest

from kseal import agekey
from kseal.check import scan, sopsrules
from kseal.sops import engine
from kseal.sops.config import CreationRule
from kseal.sops.rules import Rules
from kseal.sops.stores import get_store

SECRET = b"""\
apiVersion: v1
kind: Secret
metadata:
  name: db
stringData:
  password: hunter2
"""


def _encrypted(rules: Rules) -> str:
    """A Secret encrypted in-process by kseal's engine, with a value then pasted in the clear."""
    _, recipient = agekey.generate_identity()
    store = get_store("yaml")
    out = engine.encrypt(
        SECRET,
        store,
        store,
        engine.EncryptOptions(recipients=[recipient], rules=rules),
        wrap=agekey.wrap_key,
        random=os.urandom,
        now=datetime.now(UTC),
    ).decode()
    return out.replace("stringData:\n", "stringData:\n  pasted: in-the-clear\n", 1)


@pytest.fixture
def store_loads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    calls: list[str] = []
    real = sopsrules._load

    def counting(fmt: str, data: bytes):  # type: ignore[no-untyped-def]
        calls.append(fmt)
        return real(fmt, data)

    monkeypatch.setattr(sopsrules, "_load", counting)
    return calls


def test_a_sops_file_is_parsed_once(store_loads: list[str]) -> None:
    text = _encrypted(Rules(encrypted_regex="^(data|stringData)$"))
    findings = scan.scan_bytes("secret.yaml", text.encode())
    assert ("KS202", 6) in [(f.rule, f.line) for f in findings]
    assert store_loads == []


def test_an_unencrypted_rule_match_is_parsed_once(store_loads: list[str]) -> None:
    plain = "apiVersion: example.com/v1\nkind: Credentials\nstringData:\n  password: x\n"
    rule = CreationRule(path_regex="secrets/", rules=Rules(encrypted_regex="^stringData$"))
    options = scan.Options(rule_for=lambda _path: rule)
    findings = scan.scan_bytes("secrets/db.yaml", plain.encode(), options)
    assert "KS201" in {f.rule for f in findings}
    assert store_loads == []


def test_comment_rules_still_read_the_comments(store_loads: list[str]) -> None:
    text = _encrypted(Rules(encrypted_comment_regex="^enc"))
    scan.scan_bytes("secret.yaml", text.encode())
    assert store_loads == ["yaml"]
