"""Regular expressions that come from ``.sops.yaml`` or a file's own metadata, as sops runs them.

sops compiles ``path_regex`` and the selection regexes with Go's ``regexp`` package (RE2): linear
time whatever the pattern, and Go's syntax (``\\z``, ``\\pL``, ``(?i)``, no backreferences or
lookaround). Python's ``re`` backtracks, so a pattern planted in a file (``^(a+)+$``) could make a
command hang, and it reads some patterns differently. This module is the only user of RE2
(``google-re2``); like Go's ``regexp.MatchString``, :meth:`GoRegex.search` is unanchored.
"""

from __future__ import annotations

import functools

import re2


class GoRegexError(ValueError):
    """The pattern is not a valid Go (RE2) regular expression; ``reason`` says why."""

    def __init__(self, pattern: str, reason: str) -> None:
        super().__init__(reason)
        self.pattern = pattern
        self.reason = reason


def _options() -> re2.Options:
    options = re2.Options()
    options.log_errors = False  # RE2 would print its own copy of the error on stderr
    return options


_OPTIONS = _options()


def _go_only_check(pattern: str) -> None:
    """Reject the escapes C++ RE2 accepts but Go does not (``\\C``: any byte)."""
    i = 0
    while i < len(pattern):
        if pattern[i] == "\\" and i + 1 < len(pattern):
            if pattern[i + 1] == "C":
                raise GoRegexError(pattern, "invalid escape sequence: \\C")
            i += 2
            continue
        i += 1


class GoRegex:
    """A compiled pattern; matching takes time linear in the pattern and the text."""

    __slots__ = ("_compiled", "pattern")

    def __init__(self, pattern: str) -> None:
        _go_only_check(pattern)
        try:
            self._compiled = re2.compile(pattern, _OPTIONS)
        except re2.error as exc:
            raise GoRegexError(pattern, _reason(exc)) from None
        self.pattern = pattern

    def search(self, text: str) -> bool:
        """Whether the pattern matches anywhere in ``text`` (Go's ``MatchString``)."""
        return self._compiled.search(text) is not None


def _reason(exc: Exception) -> str:
    raw = exc.args[0] if exc.args else ""
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
    return text or "not a valid RE2 regular expression"


def shown(pattern: str) -> str:
    """The pattern quoted for a one-line message (escaped only when it holds control chars)."""
    return f"'{pattern}'" if pattern.isprintable() else repr(pattern)


@functools.lru_cache(maxsize=256)
def compile_go(pattern: str) -> GoRegex:
    """Compile ``pattern`` with Go's syntax; raises :class:`GoRegexError` when Go would."""
    return GoRegex(pattern)
