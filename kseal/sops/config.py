"""``.sops.yaml``: finding it, and choosing the creation rule for a file.

As sops: the search starts in the current directory and walks up (at most 100 parents) looking for
exactly ``.sops.yaml``; the first rule whose ``path_regex`` is found (unanchored search) in the
file's path relative to the config's directory wins; a rule without ``path_regex`` matches every
file. ``path_regex`` is compiled as sops does, with Go's RE2 syntax (:mod:`kseal.goregex`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kseal.agekey import split_recipients
from kseal.errors import ConfigError, ConflictError, NoMatchingRuleError
from kseal.goregex import GoRegex, GoRegexError, compile_go, shown
from kseal.sops.rules import REGEX_HINT, RULE_NAMES, Rules
from kseal.yamlio import safe_load_all

NAME = ".sops.yaml"


def find_config(start: Path) -> Path | None:
    current = start.resolve()
    for _ in range(101):
        candidate = current / NAME
        if candidate.is_file():
            return candidate
        if current.parent == current:
            return None
        current = current.parent
    return None


def misnamed_config(start: Path) -> Path | None:
    """A ``.sops.yml`` that sops (and kseal) ignore, worth a warning when nothing else is found."""
    current = start.resolve()
    for _ in range(101):
        if (current / ".sops.yml").is_file():
            return current / ".sops.yml"
        if current.parent == current:
            return None
        current = current.parent
    return None


# Key sources sops can name in a rule that kseal cannot wrap a data key for.
FOREIGN_SOURCES = (
    "pgp",
    "kms",
    "gcp_kms",
    "hckms",
    "azure_keyvault",
    "hc_vault_transit_uri",
    "hc_vault",
)


@dataclass
class CreationRule:
    path_regex: str = ""
    age: list[str] = field(default_factory=list)
    key_groups: list[dict[str, Any]] = field(default_factory=list)
    shamir_threshold: int = 0
    rules: Rules = field(default_factory=Rules)
    foreign: list[str] = field(default_factory=list)
    where: str = ".sops.yaml"
    _compiled: GoRegex | None = field(default=None, repr=False, compare=False)

    def matches(self, relative: str) -> bool:
        if not self.path_regex:
            return True
        if self._compiled is None:
            self._compiled = _path_regex(self.path_regex, self.where)
        return self._compiled.search(relative)

    def groups(self) -> list[list[str]]:
        """The age recipients of each key group the rule asks for (one group without
        ``key_groups``). Raises when the rule names keys kseal cannot use: dropping them silently
        would lock their holders out."""
        if self.foreign:
            raise _foreign(self.where, self.foreign)
        if not self.key_groups:
            return [list(self.age)] if self.age else []
        return [
            _group_recipients(g, f"{self.where}: key group {i + 1}")
            for i, g in enumerate(self.key_groups)
        ]


def _group_recipients(raw: dict[str, Any], where: str) -> list[str]:
    foreign = [name for name in FOREIGN_SOURCES if raw.get(name)]
    if foreign:
        raise _foreign(where, foreign)
    out = _keys(raw.get("age"), "age", where)
    merged = raw.get("merge") or []
    if not isinstance(merged, list) or not all(isinstance(m, dict) for m in merged):
        raise ConfigError(f"{where}: 'merge' must be a list of key groups")
    for m in merged:
        out.extend(_group_recipients(m, where))
    if not out:
        raise ConfigError(f"{where}: the key group has no age keys")
    return out


def _foreign(where: str, names: list[str]) -> ConfigError:
    return ConfigError(
        f"{where}: uses {', '.join(names)} keys, which kseal cannot encrypt for",
        hints=[
            "kseal wraps data keys for age recipients only; dropping the other keys would lock "
            "their holders out",
            "use sops for files that need these keys, or move the rule to age",
        ],
    )


@dataclass
class Config:
    path: Path
    creation_rules: list[CreationRule]

    def rule_for(self, file: Path) -> CreationRule | None:
        """The first matching rule; None when the config has no rules at all."""
        if not self.creation_rules:
            return None
        directory = self.path.parent.resolve()
        absolute = file.resolve()
        try:
            relative = absolute.relative_to(directory).as_posix()
        except ValueError:
            relative = absolute.as_posix()
        for rule in self.creation_rules:
            if rule.matches(relative):
                return rule
        raise NoMatchingRuleError(
            f"no matching creation rule in {self.path} for {relative}",
            hints=[
                "rules' path_regex: " + ", ".join(f"'{r.path_regex}'" for r in self.creation_rules),
                "path_regex is searched in the path relative to the .sops.yaml directory; "
                "pass --age to skip the rules",
            ],
        )


def _keys(value: object, name: str, where: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return split_recipients(value)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return [v.strip() for v in value if v.strip()]
    raise ConfigError(f"{where}: '{name}' must be a comma-separated string or a list of strings")


def _rule(raw: object, where: str) -> CreationRule:
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: each creation rule must be a mapping")
    chosen = {n: raw[n] for n in RULE_NAMES if raw.get(n)}
    if len(chosen) > 1:
        raise ConfigError(f"{where}: more than one selection rule: {', '.join(chosen)}")
    for name, value in chosen.items():
        if not isinstance(value, str):
            raise ConfigError(f"{where}: '{name}' must be a string")
    pattern = raw.get("path_regex") or ""
    if not isinstance(pattern, str):
        raise ConfigError(f"{where}: 'path_regex' must be a string")
    compiled = _path_regex(pattern, where) if pattern else None
    groups = raw.get("key_groups") or []
    if not isinstance(groups, list) or not all(isinstance(g, dict) for g in groups):
        raise ConfigError(f"{where}: 'key_groups' must be a list of mappings")
    threshold = raw.get("shamir_threshold") or 0
    if not isinstance(threshold, int):
        raise ConfigError(f"{where}: 'shamir_threshold' must be an integer")
    try:
        rules = Rules(**chosen, mac_only_encrypted=bool(raw.get("mac_only_encrypted")))
    except ConflictError as exc:
        raise ConfigError(f"{where}: {exc.message}", hints=exc.hints) from None
    return CreationRule(
        path_regex=pattern,
        age=_keys(raw.get("age"), "age", where),
        key_groups=groups,
        shamir_threshold=threshold,
        rules=rules,
        foreign=[name for name in FOREIGN_SOURCES if raw.get(name)],
        where=where,
        _compiled=compiled,
    )


def _path_regex(pattern: str, where: str) -> GoRegex:
    try:
        return compile_go(pattern)
    except GoRegexError as exc:
        raise ConfigError(
            f"{where}: invalid path_regex {shown(pattern)}: {exc.reason}", hints=[REGEX_HINT]
        ) from None


def load_config(text: str, path: Path) -> Config:
    docs = safe_load_all(text)
    raw = docs[0] if docs else None
    if raw is None:
        return Config(path, [])
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: the top level must be a mapping")
    rules_raw = raw.get("creation_rules") or []
    if not isinstance(rules_raw, list):
        raise ConfigError(f"{path}: 'creation_rules' must be a list")
    return Config(
        path, [_rule(r, f"{path}: creation rule {i + 1}") for i, r in enumerate(rules_raw)]
    )
