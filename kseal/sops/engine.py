"""Whole-file operations: encrypt and decrypt bytes in one format into bytes in another.

No I/O here: randomness, time, key wrapping and unwrapping are passed in, so every output can be
reproduced in tests. The CLI supplies the real ones.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import cast

from kseal.errors import (
    AlreadyEncryptedError,
    KsealError,
    NotEncryptedError,
    PathNotFoundError,
    TreePathError,
)
from kseal.sops import keygroups
from kseal.sops.document import Stash, check_mac, decrypt_docs, encrypt_docs, encrypt_mac
from kseal.sops.gofmt import utc_now_rfc3339
from kseal.sops.metadata import Metadata, from_plain
from kseal.sops.rules import Rules
from kseal.sops.stores import Store
from kseal.sops.tree import Branch, Comment, Value
from kseal.sops.verify import outline
from kseal.sops.verify import verify as check_output

Random = Callable[[int], bytes]
Wrap = Callable[[bytes, str], str]
Unwrap = Callable[[Metadata], bytes]


@dataclass
class EncryptOptions:
    """``recipients`` is one key group; ``groups`` (when given) replaces it with several."""

    recipients: Sequence[str] = ()
    rules: Rules = field(default_factory=Rules)
    indent: int | None = None
    groups: Sequence[Sequence[str]] = ()
    shamir_threshold: int = 0

    def key_groups(self) -> list[list[str]]:
        if self.groups:
            return [list(g) for g in self.groups]
        return [list(self.recipients)]


def encrypt(
    data: bytes,
    in_store: Store,
    out_store: Store,
    options: EncryptOptions,
    *,
    wrap: Wrap,
    random: Random,
    now: datetime,
    verify: bool = False,
) -> bytes:
    """Encrypt ``data``; with ``verify`` (for a file about to be replaced, as by ``encrypt -i``)
    the result is decrypted again in memory and checked first (:mod:`kseal.sops.verify`)."""
    loaded = in_store.load(data)
    if loaded.metadata is not None:
        raise AlreadyEncryptedError(
            "the file is already encrypted (it has sops metadata)",
            hints=["use 'kseal decrypt' first, or 'kseal rotate' to change its keys"],
        )
    groups = options.key_groups()
    if not all(groups):
        raise KsealError(
            "no recipients to encrypt for",
            hints=[
                "pass --age age1...,age1... or set SOPS_AGE_RECIPIENTS",
                "or add a creation rule with 'age:' to .sops.yaml",
            ],
        )
    rules = options.rules.with_default()
    if not (in_store.structured and out_store.structured):
        rules = Rules()  # as sops >= 3.11: the single binary value is always encrypted
    key = random(32)
    expected = outline(loaded.docs) if verify else None
    mac = encrypt_docs(loaded.docs, key, rules, lambda: random(32))
    lastmodified = utc_now_rfc3339(now)
    key_groups, threshold = keygroups.seal(
        key, groups, options.shamir_threshold, wrap=wrap, random=random
    )
    metadata = Metadata(
        groups=key_groups,
        shamir_threshold=threshold,
        lastmodified=lastmodified,
        mac=encrypt_mac(mac, key, lastmodified, random(32)),
        rules=rules,
    )
    source = loaded.source if out_store.name == in_store.name else None
    out = out_store.emit(loaded.docs, metadata.to_plain(), source=source, indent=options.indent)
    if expected is not None:
        check_output(out, out_store, key, expected)
    return out


@dataclass
class Decrypted:
    docs: list[Branch]
    metadata: Metadata
    source: object | None
    key: bytes = b""
    stash: Stash = field(default_factory=dict)
    in_clear: list[str] = field(default_factory=list)  # paths kept in the clear (--ignore-mac)


def decrypt_tree(
    data: bytes, store: Store, *, unwrap: Unwrap, ignore_mac: bool, keep_stash: bool = False
) -> Decrypted:
    """Decrypt in place; ``keep_stash`` records old ciphertexts for a stable re-encryption.

    With ``ignore_mac``, values that were pasted in the clear into the file are kept as they are
    (listed in ``in_clear``), so that the file can be decrypted and encrypted again whole."""
    loaded = store.load(data)
    if loaded.metadata is None:
        raise NotEncryptedError(
            "sops metadata not found: the file is not encrypted",
            hints=["'kseal filestatus FILE' tells whether a file is encrypted"],
        )
    metadata = from_plain(loaded.metadata)
    key = unwrap(metadata)
    stash: Stash = {}
    in_clear: list[str] | None = [] if ignore_mac else None
    mac = decrypt_docs(
        loaded.docs, key, metadata.rules, stash=stash if keep_stash else None, in_clear=in_clear
    )
    if not ignore_mac:
        check_mac(metadata.mac, mac, key, metadata.lastmodified)
    return Decrypted(loaded.docs, metadata, loaded.source, key, stash, in_clear or [])


def decrypt(
    data: bytes,
    in_store: Store,
    out_store: Store,
    *,
    unwrap: Unwrap,
    ignore_mac: bool = False,
    extract: str | None = None,
    indent: int | None = None,
    in_clear: list[str] | None = None,
) -> bytes:
    """Decrypt ``data`` into ``out_store``'s format; the paths of values found in the clear
    (only tolerated with ``ignore_mac``) are appended to ``in_clear``."""
    result = decrypt_tree(data, in_store, unwrap=unwrap, ignore_mac=ignore_mac)
    if in_clear is not None:
        in_clear.extend(result.in_clear)
    if extract is not None:
        if not in_store.structured:
            raise TreePathError("--extract cannot be used with binary files")
        return out_store.emit_value(lookup(result.docs[0], parse_path(extract)))
    source = result.source if out_store.name == in_store.name else None
    return out_store.emit(result.docs, None, source=source, indent=indent)


# ---- tree paths: ["a"][0]['b'] ------------------------------------------------------------------


def parse_path(text: str) -> list[str | int]:
    """Parse sops's Python-style index path; strings are quoted, integers bare."""
    out: list[str | int] = []
    pos = 0
    text = text.strip()
    while pos < len(text):
        if text[pos] != "[":
            raise _bad_path(text)
        end = _index_end(text, pos + 1)
        inner = text[pos + 1 : end].strip()
        pos = end + 1
        if len(inner) >= 2 and inner[0] == inner[-1] and inner[0] in "\"'":
            out.append(inner[1:-1].replace("\\" + inner[0], inner[0]))
        else:
            try:
                out.append(int(inner))
            except ValueError:
                raise _bad_path(text) from None
    if not out:
        raise _bad_path(text)
    return out


def _index_end(text: str, pos: int) -> int:
    quote = text[pos] if pos < len(text) and text[pos] in "\"'" else ""
    i = pos + 1 if quote else pos
    while i < len(text):
        c = text[i]
        if quote and c == "\\":
            i += 2
            continue
        if quote and c == quote:
            quote = ""
        elif not quote and c == "]":
            return i
        i += 1
    raise _bad_path(text)


def _bad_path(text: str) -> TreePathError:
    return TreePathError(
        f"invalid tree path {text!r}",
        hints=['use the form \'["key"][0]["subkey"]\': strings quoted, list indexes bare'],
    )


def lookup(doc: Branch, path: list[str | int]) -> Value:
    """The value at ``path``; PathNotFoundError (exit 1, as sops) when it names nothing."""
    current: Value = doc
    for step in path:
        if isinstance(step, str):
            if not isinstance(current, Branch) or step not in current.keys_():
                raise PathNotFoundError(f"component [{step!r}] not found")
            current = current.get(step)
        else:
            if isinstance(current, Branch) or not isinstance(current, list):
                raise PathNotFoundError(
                    f"component [{step}] is an index, but the value is not a list"
                )
            items = [v for v in cast("list[Value]", current) if not isinstance(v, Comment)]
            if not -len(items) <= step < len(items):
                raise PathNotFoundError(f"component [{step}] is out of bounds")
            current = items[step]
    return current
