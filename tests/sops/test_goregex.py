"""Regexes from .sops.yaml and file metadata run in RE2 with Go's syntax, as in sops: linear time
for a planted ``^(a+)+$``, Go-only syntax accepted, what Go rejects rejected with a clear error."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from kseal.errors import ConfigError, ConflictError, MetadataError
from kseal.goregex import GoRegexError, compile_go
from kseal.sops.config import load_config
from kseal.sops.metadata import from_plain
from kseal.sops.rules import Rules, Selector

EVIL = "^(a+)+$"


def test_catastrophic_pattern_is_linear() -> None:
    start = time.monotonic()
    assert not compile_go(EVIL).search("a" * 100_000 + "!")
    selector = Selector(Rules(encrypted_regex=EVIL))
    assert not selector.should_encrypt(("a" * 5000 + "!",), (), False)
    assert time.monotonic() - start < 2


@pytest.mark.parametrize(
    ("pattern", "text", "expected"),
    [
        (r"pass\z", "password", False),
        (r"word\z", "password", True),
        (r"^\pL+$", "Größe", True),
        (r"^\pL+$", "a1", False),
        (r"(?i)^PASS", "password", True),
        (r"^(?i:pass)WORD$", "passWORD", True),
        (r"^(?i:pass)WORD$", "password", False),
        (r"^\d+$", "٣", False),  # Go's \d is ASCII only; Python's re matches any digit
        (r"[[:upper:]]", "abc", False),
        (r"data", "stringData", False),  # case-sensitive, unanchored search
        (r"Data", "stringData", True),
    ],
)
def test_go_syntax_and_search_semantics(pattern: str, text: str, expected: bool) -> None:
    assert compile_go(pattern).search(text) is expected


@pytest.mark.parametrize("pattern", [r"(a)\1", r"(?=a)", r"(?<!a)b", r"a\Z", r"\C", "(", "a{2000}"])
def test_what_go_rejects_is_rejected(pattern: str) -> None:
    with pytest.raises(GoRegexError):
        compile_go(pattern)


def test_errors_name_where_the_regex_came_from() -> None:
    with pytest.raises(ConflictError, match=r"invalid encrypted_regex '\(\?=x\)'"):
        Rules(encrypted_regex="(?=x)")
    config = "creation_rules:\n  - path_regex: '(?!x)'\n    age: age1abc\n"
    with pytest.raises(ConfigError, match=r"creation rule 1: invalid path_regex '\(\?!x\)'"):
        load_config(config, Path(".sops.yaml"))
    config = "creation_rules:\n  - unencrypted_regex: '(a)\\1'\n    age: age1abc\n"
    with pytest.raises(ConfigError, match=r"creation rule 1: invalid unencrypted_regex"):
        load_config(config, Path(".sops.yaml"))
    raw = {"age": [{"recipient": "age1x", "enc": "x"}], "encrypted_regex": r"\Z"}
    with pytest.raises(MetadataError, match=r"sops metadata: invalid encrypted_regex"):
        from_plain(raw)


def test_path_regex_uses_go_syntax() -> None:
    config = load_config(
        "creation_rules:\n  - path_regex: '(?i)\\.SECRET\\.yaml\\z'\n    age: age1abc\n",
        Path("/repo/.sops.yaml"),
    )
    assert config.rule_for(Path("/repo/k8s/db.secret.YAML")) is not None
    with pytest.raises(ConfigError):
        config.rule_for(Path("/repo/k8s/db.secret.yaml.bak"))


def test_the_error_stays_on_one_line() -> None:
    with pytest.raises(ConflictError) as exc:
        Rules(unencrypted_regex="(?=\n)x")
    assert "\n" not in exc.value.message
    assert exc.value.message.startswith("invalid unencrypted_regex '(?=\\n)x'")
