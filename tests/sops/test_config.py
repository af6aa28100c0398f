"""``.sops.yaml``: discovery and creation-rule selection, as sops does it."""

from __future__ import annotations

from pathlib import Path

import pytest

from kseal.errors import ConfigError
from kseal.sops.config import find_config, load_config, misnamed_config
from kseal.sops.rules import Rules

CONFIG = """\
creation_rules:
  - path_regex: secrets/prod/.*\\.yaml$
    encrypted_regex: ^(data|stringData)$
    age: age1prod1, age1prod2
  - path_regex: \\.env$
    age: [age1env]
  - age: age1default
"""


def test_first_matching_rule_wins(tmp_path: Path) -> None:
    cfg = load_config(CONFIG, tmp_path / ".sops.yaml")
    prod = cfg.rule_for(tmp_path / "secrets" / "prod" / "db.yaml")
    assert prod is not None
    assert prod.age == ["age1prod1", "age1prod2"]
    assert prod.rules == Rules(encrypted_regex="^(data|stringData)$")
    env_rule = cfg.rule_for(tmp_path / "app.env")
    assert env_rule is not None
    assert env_rule.age == ["age1env"]
    other = cfg.rule_for(tmp_path / "x.json")
    assert other is not None
    assert other.age == ["age1default"]


def test_no_match_is_an_error_with_hints(tmp_path: Path) -> None:
    cfg = load_config(
        "creation_rules:\n  - path_regex: ^only/\n    age: age1x\n", tmp_path / ".sops.yaml"
    )
    with pytest.raises(ConfigError) as info:
        cfg.rule_for(tmp_path / "other.yaml")
    assert "'^only/'" in "\n".join(info.value.hints)


def test_path_is_relative_to_the_config_directory(tmp_path: Path) -> None:
    cfg = load_config(
        "creation_rules:\n  - path_regex: ^app/\n    age: age1x\n", tmp_path / ".sops.yaml"
    )
    assert cfg.rule_for(tmp_path / "app" / "s.yaml") is not None


def test_discovery_walks_up_and_warns_about_yml(tmp_path: Path) -> None:
    deep = tmp_path / "a" / "b"
    deep.mkdir(parents=True)
    assert find_config(deep) is None or not str(find_config(deep)).startswith(str(tmp_path))
    (tmp_path / ".sops.yml").write_text("creation_rules: []\n")
    assert misnamed_config(deep) == tmp_path / ".sops.yml"
    (tmp_path / "a" / ".sops.yaml").write_text(CONFIG)
    assert find_config(deep) == tmp_path / "a" / ".sops.yaml"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("creation_rules:\n  - encrypted_regex: a\n    unencrypted_suffix: b\n", "more than one"),
        ("creation_rules:\n  - path_regex: '('\n", "invalid path_regex"),
        ("creation_rules: nope\n", "must be a list"),
        ("creation_rules:\n  - age: 5\n", "comma-separated"),
    ],
)
def test_bad_configs(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_config(text, tmp_path / ".sops.yaml")


def test_config_without_rules_is_absent(tmp_path: Path) -> None:
    assert (
        load_config("stores: {}\n", tmp_path / ".sops.yaml").rule_for(tmp_path / "x.yaml") is None
    )


def test_key_groups_with_merge_and_foreign_keys(tmp_path: Path) -> None:
    from kseal.errors import ConfigError
    from kseal.sops.config import load_config

    text = (
        "creation_rules:\n"
        "  - path_regex: groups\n"
        "    shamir_threshold: 2\n"
        "    key_groups:\n"
        "      - age: [age1a, age1b]\n"
        "      - merge:\n"
        "          - age: [age1c]\n"
        "          - age: age1d\n"
        "  - path_regex: pgp\n"
        "    key_groups:\n"
        "      - age: [age1a]\n"
        "        pgp: [FINGERPRINT]\n"
        "  - path_regex: flatpgp\n"
        "    age: age1a\n"
        "    pgp: FINGERPRINT\n"
    )
    cfg = load_config(text, tmp_path / ".sops.yaml")
    rule = cfg.rule_for(tmp_path / "groups.yaml")
    assert rule is not None and rule.groups() == [["age1a", "age1b"], ["age1c", "age1d"]]
    assert rule.shamir_threshold == 2
    for name in ("pgp.yaml", "flatpgp.yaml"):
        rule = cfg.rule_for(tmp_path / name)
        assert rule is not None
        with pytest.raises(ConfigError, match="pgp keys, which kseal cannot encrypt for"):
            rule.groups()
