"""What teams use to accept findings: inline ``# kseal:allow RULE`` comments, a path/rule
allowlist (``.kseal.yaml`` or ``[tool.kseal.check]`` in ``pyproject.toml``) and a baseline file of
accepted findings (fingerprints only: never values)."""

from __future__ import annotations

import fnmatch
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from kseal.check.model import BY_NAME, RULES, Finding
from kseal.errors import ConfigError

_ALLOW = re.compile(r"kseal:allow\b([^\n]*)")


def _rule_ids(words: Iterable[str]) -> set[str]:
    out = set()
    for word in words:
        word = word.strip().strip(",")
        if not word:
            continue
        if word in RULES:
            out.add(word)
        elif word in BY_NAME:
            out.add(BY_NAME[word])
    return out


def inline_allowed(finding: Finding, lines: list[str]) -> bool:
    """``# kseal:allow`` (every rule) or ``# kseal:allow KS101 private-key`` on the finding's
    line or the line above it."""
    for number in (finding.line, finding.line - 1):
        if 1 <= number <= len(lines):
            m = _ALLOW.search(lines[number - 1])
            if m:
                rules = _rule_ids(m.group(1).split())
                if not rules or finding.rule in rules:
                    return True
    return False


@dataclass
class Allow:
    path: str
    rules: set[str] = field(default_factory=set)

    def covers(self, finding: Finding) -> bool:
        path_ok = fnmatch.fnmatchcase(finding.path, self.path) or finding.path.startswith(
            self.path.rstrip("/") + "/"
        )
        return path_ok and (not self.rules or finding.rule in self.rules)


def parse_allowlist(raw: object, where: str) -> list[Allow]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise ConfigError(f"{where}: 'allow' must be a list of {{path, rules}} entries")
    out = []
    for entry in raw:
        if not isinstance(entry, dict) or not isinstance(entry.get("path"), str):
            raise ConfigError(f"{where}: each allow entry needs a 'path' (a glob)")
        rules = entry.get("rules") or []
        if isinstance(rules, str):
            rules = [rules]
        ids = _rule_ids(str(r) for r in rules)
        if len(ids) != len(rules):
            raise ConfigError(
                f"{where}: unknown rule in {rules!r}", hints=["see kseal check --list-rules"]
            )
        out.append(Allow(entry["path"], ids))
    return out


@dataclass
class Baseline:
    fingerprints: set[str] = field(default_factory=set)

    def covers(self, finding: Finding) -> bool:
        return finding.fingerprint in self.fingerprints


def load_baseline(text: str, where: str) -> Baseline:
    try:
        raw = json.loads(text)
        entries = raw["findings"]
        return Baseline({str(e["fingerprint"]) for e in entries})
    except (ValueError, KeyError, TypeError):
        raise ConfigError(
            f"{where}: not a kseal baseline file",
            hints=["make one with kseal check --write-baseline FILE"],
        ) from None


def dump_baseline(findings: Iterable[Finding]) -> str:
    entries = sorted(
        ({"rule": f.rule, "path": f.path, "fingerprint": f.fingerprint} for f in findings),
        key=lambda e: (e["path"], e["rule"], e["fingerprint"]),
    )
    return json.dumps({"version": 1, "tool": "kseal check", "findings": entries}, indent=2) + "\n"
