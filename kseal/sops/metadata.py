"""The ``sops`` metadata block: tolerant reading of every layout sops 3.7–3.13 writes, and writing
in sops 3.11's layout (struct order, empty key lists omitted).

Metadata arrives from a store as plain data. In dotenv and INI files every value is a string, so
numbers and booleans are coerced here. Key sources kseal does not implement (pgp, kms, ...) are
kept verbatim so that rewriting a file never drops another team's keys.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from kseal.errors import ConflictError, MetadataError
from kseal.sops import gofmt
from kseal.sops.rules import RULE_NAMES, Rules
from kseal.sops.tree import Timestamp

# The sops format version kseal writes: the release whose layout kseal reproduces. It must be
# semver, since sops compares it on every decrypt.
FORMAT_VERSION = "3.11.0"

# Key-source lists in the order sops 3.11 writes them, before/after ``age``.
_SOURCES_BEFORE_AGE = ("kms", "gcp_kms", "hckms", "azure_kv", "hc_vault")
_SOURCES_AFTER_AGE = ("pgp",)
_OTHER_SOURCES = (*_SOURCES_BEFORE_AGE, *_SOURCES_AFTER_AGE)


@dataclass
class AgeKey:
    recipient: str
    enc: str


@dataclass
class KeyGroup:
    age: list[AgeKey] = field(default_factory=list)
    other: dict[str, list[Any]] = field(default_factory=dict)

    def key_count(self) -> int:
        return len(self.age) + sum(len(v) for v in self.other.values())


@dataclass
class Metadata:
    groups: list[KeyGroup]
    lastmodified: str = ""
    mac: str = ""
    rules: Rules = field(default_factory=Rules)
    shamir_threshold: int = 0
    version: str = FORMAT_VERSION

    @property
    def age_keys(self) -> list[AgeKey]:
        return [k for g in self.groups for k in g.age]

    def to_plain(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.shamir_threshold:
            out["shamir_threshold"] = self.shamir_threshold
        if len(self.groups) > 1:
            out["key_groups"] = [_group_to_plain(g) for g in self.groups]
        else:
            group = self.groups[0] if self.groups else KeyGroup()
            for name in _SOURCES_BEFORE_AGE:
                if group.other.get(name):
                    out[name] = group.other[name]
            if group.age:
                out["age"] = [{"recipient": k.recipient, "enc": k.enc} for k in group.age]
        out["lastmodified"] = self.lastmodified
        out["mac"] = self.mac
        if len(self.groups) == 1:
            for name in _SOURCES_AFTER_AGE:
                if self.groups[0].other.get(name):
                    out[name] = self.groups[0].other[name]
        for name in RULE_NAMES:
            if getattr(self.rules, name):
                out[name] = getattr(self.rules, name)
        if self.rules.mac_only_encrypted:
            out["mac_only_encrypted"] = True
        out["version"] = self.version
        return out


def _group_to_plain(group: KeyGroup) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in _SOURCES_AFTER_AGE + _SOURCES_BEFORE_AGE:
        if group.other.get(name):
            out[name] = group.other[name]
    out["hc_vault"] = group.other.get("hc_vault") or []
    out["age"] = [{"recipient": k.recipient, "enc": k.enc} for k in group.age]
    return out


def from_plain(raw: object) -> Metadata:
    """Read a ``sops`` block in any layout sops 3.7–3.13 writes."""
    if not isinstance(raw, dict):
        raise MetadataError("sops metadata not found", hints=["is this file encrypted?"])
    if raw.get("key_groups"):
        groups_raw = raw["key_groups"]
        if not isinstance(groups_raw, list):
            raise MetadataError("sops metadata: key_groups must be a list")
        groups = [_group_from_plain(g) for g in groups_raw]
    else:
        groups = [_group_from_plain(raw)]
    if not any(g.key_count() for g in groups):
        raise MetadataError("no keys found in the file's sops metadata")
    try:
        rules = Rules(
            **{name: _text(raw.get(name), name) for name in RULE_NAMES},
            mac_only_encrypted=_flag(raw.get("mac_only_encrypted")),
        )
    except ConflictError as exc:  # a regex Go's RE2 rejects, or several selection rules
        raise MetadataError(f"the file's sops metadata: {exc.message}", hints=exc.hints) from None
    return Metadata(
        groups=groups,
        lastmodified=_lastmodified(raw.get("lastmodified")),
        mac=_text(raw.get("mac"), "mac"),
        rules=rules,
        shamir_threshold=_int(raw.get("shamir_threshold")),
        version=_text(raw.get("version"), "version") or "",
    )


def _group_from_plain(raw: object) -> KeyGroup:
    if not isinstance(raw, dict):
        raise MetadataError("sops metadata: a key group must be a mapping")
    group = KeyGroup()
    for entry in _list(raw.get("age"), "age"):
        if not isinstance(entry, dict):
            raise MetadataError("sops metadata: age entries must be mappings")
        group.age.append(
            AgeKey(
                recipient=_text(entry.get("recipient"), "age recipient").strip(),
                enc=_text(entry.get("enc"), "age enc"),
            )
        )
    for name in _OTHER_SOURCES:
        entries = _list(raw.get(name), name)
        if entries:
            group.other[name] = entries
    return group


def _list(value: object, name: str) -> list[Any]:
    if value is None or value == "":
        return []
    if not isinstance(value, list):
        raise MetadataError(f"sops metadata: {name} must be a list")
    return value


def _text(value: object, name: str) -> str:
    if value is None:
        return ""
    if isinstance(value, Timestamp):
        return value.text
    if isinstance(value, str):
        return value
    raise MetadataError(f"sops metadata: {name} must be a string")


def _flag(value: object) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value:
        try:
            return gofmt.parse_bool(value)
        except ValueError:
            raise MetadataError("sops metadata: mac_only_encrypted must be a boolean") from None
    return False


def _int(value: object) -> int:
    if value is None or value == "":
        return 0
    if isinstance(value, bool):
        raise MetadataError("sops metadata: shamir_threshold must be a number")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            return int(float(value))  # dotenv/INI; sops <= 3.10 wrote "2.0"
        except ValueError:
            pass
    raise MetadataError("sops metadata: shamir_threshold must be a number")


def _lastmodified(value: object) -> str:
    """The MAC's AAD: Go re-formats the parsed time as RFC3339 (fraction dropped, Z for UTC)."""
    text = _text(value, "lastmodified")
    try:
        canonical = gofmt.canonical_rfc3339(text)
    except ValueError:
        raise MetadataError(
            "sops metadata: lastmodified is not an RFC3339 time",
            hints=["the file may be corrupted or hand-edited"],
        ) from None
    head, dot, rest = canonical.partition(".")
    if dot:
        zone_at = next(i for i, c in enumerate(rest) if not c.isdigit())
        canonical = head + rest[zone_at:]
    return canonical
