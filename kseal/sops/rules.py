"""Which values get encrypted: sops's six selection rules and ``mac_only_encrypted``.

At most one rule may be set. Regexes are searched (unanchored) in each path component or comment,
like Go's ``regexp.Match``, with RE2 (:mod:`kseal.goregex`): Go's syntax, and linear time even for
a pattern planted in a file's metadata.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from kseal.errors import ConflictError

if TYPE_CHECKING:
    from kseal.goregex import GoRegex

# kseal.goregex (and RE2 with it) is imported only when a regex rule is set: most files have none.

DEFAULT_UNENCRYPTED_SUFFIX = "_unencrypted"
REGEX_HINT = "sops reads regexes with Go's RE2 syntax: no backreferences, lookaround or \\Z"
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
                from kseal.goregex import GoRegexError, compile_go, shown

                try:
                    compile_go(pattern)
                except GoRegexError as exc:
                    raise ConflictError(
                        f"invalid {name} {shown(pattern)}: {exc.reason}", hints=[REGEX_HINT]
                    ) from None

    def with_default(self) -> Rules:
        """These rules, or ``unencrypted_suffix: _unencrypted`` when none is set (as sops writes)."""
        if any(getattr(self, name) for name in RULE_NAMES):
            return self
        return Rules(
            unencrypted_suffix=DEFAULT_UNENCRYPTED_SUFFIX,
            mac_only_encrypted=self.mac_only_encrypted,
        )


def _compiled(pattern: str) -> GoRegex | None:
    if not pattern:
        return None
    from kseal.goregex import compile_go

    return compile_go(pattern)  # validated by Rules already


class Selector:
    """Compiled form of :class:`Rules`: ``should_encrypt(path, comments, is_comment)``."""

    def __init__(self, rules: Rules) -> None:
        self.rules = rules
        self._usuffix = rules.unencrypted_suffix
        self._esuffix = rules.encrypted_suffix
        self._uregex = _compiled(rules.unencrypted_regex)
        self._eregex = _compiled(rules.encrypted_regex)
        self._ucomment = _compiled(rules.unencrypted_comment_regex)
        self._ecomment = _compiled(rules.encrypted_comment_regex)
        self._cache: dict[tuple[str, ...], bool] = {}
        self.uses_comments = self._ucomment is not None or self._ecomment is not None
        # with no regex at all (the default rule), a path is checked faster than it is cached
        self._suffix_only = not self.uses_comments and self._uregex is None and self._eregex is None

    def should_encrypt(
        self, path: tuple[str, ...], comments: Sequence[str], is_comment: bool
    ) -> bool:
        if self._suffix_only:
            if self._usuffix:
                return not _ends_with(path, self._usuffix)
            return _ends_with(path, self._esuffix) if self._esuffix else True
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
        if self._usuffix and _ends_with(path, self._usuffix):
            encrypted = False
        if self._esuffix:
            encrypted = _ends_with(path, self._esuffix)
        if self._uregex is not None and any(self._uregex.search(p) for p in path):
            encrypted = False
        if self._eregex is not None:
            encrypted = any(self._eregex.search(p) for p in path)
        return encrypted


def _ends_with(path: tuple[str, ...], suffix: str) -> bool:
    """Whether a component of ``path`` ends with ``suffix`` (a loop: the default rule's check runs
    once per value, and a generator costs more than the test)."""
    for part in path:
        if part.endswith(suffix):
            return True
    return False
