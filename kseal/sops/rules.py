"""Which values get encrypted: sops's six selection rules and ``mac_only_encrypted``.

At most one rule may be set. Regexes are searched (unanchored) in each path component or comment,
like Go's ``regexp.Match``; kseal uses Python ``re``, which agrees with RE2 on the patterns people
write for this (RE2 rejects backreferences and lookaround; Python accepts them).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, fields

from kseal.errors import ConflictError

DEFAULT_UNENCRYPTED_SUFFIX = "_unencrypted"
RULE_NAMES = (
    "unencrypted_suffix",
    "encrypted_suffix",
    "unencrypted_regex",
    "encrypted_regex",
    "unencrypted_comment_regex",
    "encrypted_comment_regex",
)


@dataclass(frozen=True)
class Rules:
    unencrypted_suffix: str = ""
    encrypted_suffix: str = ""
    unencrypted_regex: str = ""
    encrypted_regex: str = ""
    unencrypted_comment_regex: str = ""
    encrypted_comment_regex: str = ""
    mac_only_encrypted: bool = False

    def __post_init__(self) -> None:
        chosen = [name for name in RULE_NAMES if getattr(self, name)]
        if len(chosen) > 1:
            raise ConflictError(
                "only one encryption selection rule can be used at a time",
                hints=[f"got: {', '.join(chosen)}"],
            )
        for name in RULE_NAMES[2:]:
            pattern = getattr(self, name)
            if pattern:
                try:
                    re.compile(pattern)
                except re.error as exc:
                    raise ConflictError(f"invalid {name} {pattern!r}: {exc}") from None

    def with_default(self) -> Rules:
        """These rules, or ``unencrypted_suffix: _unencrypted`` when none is set (as sops writes)."""
        if any(getattr(self, name) for name in RULE_NAMES):
            return self
        return Rules(
            unencrypted_suffix=DEFAULT_UNENCRYPTED_SUFFIX,
            mac_only_encrypted=self.mac_only_encrypted,
        )

    def as_dict(self) -> dict[str, str | bool]:
        return {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name)}


class Selector:
    """Compiled form of :class:`Rules`: ``should_encrypt(path, comments, is_comment)``."""

    def __init__(self, rules: Rules) -> None:
        self.rules = rules
        self._usuffix = rules.unencrypted_suffix
        self._esuffix = rules.encrypted_suffix
        self._uregex = re.compile(rules.unencrypted_regex) if rules.unencrypted_regex else None
        self._eregex = re.compile(rules.encrypted_regex) if rules.encrypted_regex else None
        self._ucomment = (
            re.compile(rules.unencrypted_comment_regex) if rules.unencrypted_comment_regex else None
        )
        self._ecomment = (
            re.compile(rules.encrypted_comment_regex) if rules.encrypted_comment_regex else None
        )
        self._cache: dict[tuple[str, ...], bool] = {}

    @property
    def uses_comments(self) -> bool:
        return self._ucomment is not None or self._ecomment is not None

    def should_encrypt(
        self, path: tuple[str, ...], comments: Sequence[str], is_comment: bool
    ) -> bool:
        if not self.uses_comments:
            cached = self._cache.get(path)
            if cached is None:
                cached = self._cache[path] = self._by_path(path)
            return cached
        encrypted = self._by_path(path)
        if self._ucomment is not None and any(self._ucomment.search(c) for c in comments):
            encrypted = False
        if self._ecomment is not None:
            # The comment line that matches is itself left in the clear: skip the leaf's own text.
            considered = comments[:-1] if is_comment else comments
            encrypted = any(self._ecomment.search(c) for c in considered)
        return encrypted

    def _by_path(self, path: tuple[str, ...]) -> bool:
        encrypted = True
        if self._usuffix and any(p.endswith(self._usuffix) for p in path):
            encrypted = False
        if self._esuffix:
            encrypted = any(p.endswith(self._esuffix) for p in path)
        if self._uregex is not None and any(self._uregex.search(p) for p in path):
            encrypted = False
        if self._eregex is not None:
            encrypted = any(self._eregex.search(p) for p in path)
        return encrypted
