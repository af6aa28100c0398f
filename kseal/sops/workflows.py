"""Changing encrypted files: re-encrypting after edits, rotating and re-wrapping data keys, and
setting or removing single values.

Pure like the engine: randomness, time and key (un)wrapping are parameters. Re-encryption reuses
the old ciphertext of every value that did not change (the stash from decryption, valid only
under the same data key), so a Git diff shows only what really changed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from kseal.errors import KsealError, NotEncryptedError, TreePathError
from kseal.sops import keygroups
from kseal.sops.document import Stash, check_mac, decrypt_docs, encrypt_docs, encrypt_mac
from kseal.sops.engine import Decrypted, Random, Unwrap, Wrap
from kseal.sops.gofmt import utc_now_rfc3339
from kseal.sops.metadata import FORMAT_VERSION, Metadata, from_plain
from kseal.sops.stores import Store
from kseal.sops.tree import Branch, Comment, Value
from kseal.sops.verify import outline, verify


def reencrypt(
    dec: Decrypted,
    store: Store,
    key: bytes,
    *,
    random: Random,
    now: datetime,
    stash: Stash | None = None,
    source: object | None = None,
) -> bytes:
    """Encrypt the (changed) plaintext trees of ``dec`` again under ``key`` with a new MAC. The
    result is decrypted again in memory and checked before it is returned (it is about to replace
    a file)."""
    metadata = dec.metadata
    expected = outline(dec.docs)
    mac = encrypt_docs(dec.docs, key, metadata.rules, lambda: random(32), stash=stash)
    metadata.lastmodified = utc_now_rfc3339(now)
    metadata.mac = encrypt_mac(mac, key, metadata.lastmodified, random(32))
    metadata.version = FORMAT_VERSION
    out = store.emit(dec.docs, metadata.to_plain(), source=source)
    verify(out, store, key, expected)
    return out


def recipients_of(metadata: Metadata) -> list[list[str]]:
    return [[k.recipient for k in g.age] for g in metadata.groups]


def _only_age(metadata: Metadata, what: str) -> None:
    foreign = sorted({name for g in metadata.groups for name in g.other if g.other[name]})
    if foreign:
        raise KsealError(
            f"the file also has {', '.join(foreign)} keys, which kseal cannot {what}",
            hints=["use sops for this file, or remove those keys first"],
        )


def rotate(
    dec: Decrypted,
    store: Store,
    *,
    add: Sequence[str] = (),
    remove: Sequence[str] = (),
    wrap: Wrap,
    random: Random,
    now: datetime,
) -> bytes:
    """A new data key for the whole file; recipients in ``add`` join the first key group and those
    in ``remove`` leave every group (as ``sops rotate --add-age/--rm-age``)."""
    metadata = dec.metadata
    _only_age(metadata, "re-wrap for a new data key")
    groups = recipients_of(metadata)
    for r in add:
        if r not in groups[0]:
            groups[0].append(r)
    gone = set(remove)
    missing = gone - {r for g in groups for r in g}
    if missing:
        raise KsealError(f"not a recipient of this file: {', '.join(sorted(missing))}")
    groups = [[r for r in g if r not in gone] for g in groups]
    if not all(groups):
        raise KsealError(
            "removing these recipients would leave a key group empty",
            hints=["add another recipient in the same run with --add-age"],
        )
    key = random(32)
    metadata.groups, metadata.shamir_threshold = keygroups.seal(
        key, groups, metadata.shamir_threshold, wrap=wrap, random=random
    )
    return reencrypt(dec, store, key, random=random, now=now, source=dec.source)


@dataclass
class KeyUpdate:
    before: list[list[str]]
    after: list[list[str]]
    threshold_before: int
    threshold_after: int
    output: bytes

    @property
    def changed(self) -> bool:
        return self.before != self.after or self.threshold_before != self.threshold_after


def update_keys(
    data: bytes,
    store: Store,
    groups: Sequence[Sequence[str]],
    threshold: int,
    *,
    unwrap: Unwrap,
    wrap: Wrap,
    random: Random,
) -> KeyUpdate:
    """Wrap the file's unchanged data key for ``groups`` (from ``.sops.yaml``). The values, the
    MAC and ``lastmodified`` stay as they are."""
    loaded = store.load(data)
    if loaded.metadata is None:
        raise NotEncryptedError("the file is not encrypted (no sops metadata)")
    metadata = from_plain(loaded.metadata)
    before = recipients_of(metadata)
    new_groups = [list(g) for g in groups]
    t_before = keygroups.effective_threshold(len(before), metadata.shamir_threshold)
    t_after = keygroups.effective_threshold(len(new_groups), threshold)
    update = KeyUpdate(before, new_groups, t_before, t_after, data)
    if not update.changed and not any(g.other for g in metadata.groups):
        return update
    key = unwrap(metadata)
    metadata.groups, metadata.shamir_threshold = keygroups.seal(
        key, new_groups, threshold, wrap=wrap, random=random
    )
    update.output = store.emit(loaded.docs, metadata.to_plain(), source=loaded.source)
    # the values are untouched: the new bytes must decrypt to what the old ones do
    expected = store.load(data)
    check_mac(
        metadata.mac, decrypt_docs(expected.docs, key, metadata.rules), key, metadata.lastmodified
    )
    verify(update.output, store, key, outline(expected.docs))
    update.before = before
    return update


# ---- set / unset --------------------------------------------------------------------------------


def _items(seq: list[Value]) -> list[int]:
    """Positions of the non-comment elements of a list."""
    return [i for i, v in enumerate(seq) if not isinstance(v, Comment)]


def _fresh(path: Sequence[str | int], value: Value) -> Value:
    for step in reversed(path):
        value = Branch([(step, value)]) if isinstance(step, str) else [value]
    return value


def set_path(node: Value, path: Sequence[str | int], value: Value) -> Value:
    """``node`` with ``value`` at ``path``, creating what is missing (as ``sops set``). A list index
    past the end appends."""
    if not path:
        return value
    step, rest = path[0], path[1:]
    if isinstance(node, Branch) and isinstance(step, str):
        if step in node.keys_():
            node.set(step, set_path(node.get(step), rest, value))
        else:
            node.append((step, _fresh(rest, value)))
        return node
    if isinstance(node, list) and not isinstance(node, Branch) and isinstance(step, int):
        seq = node
        positions = _items(seq)
        if step < 0:
            raise TreePathError(f"negative index [{step}] in the path")
        if step >= len(positions):
            seq.append(_fresh(rest, value))
        else:
            seq[positions[step]] = set_path(seq[positions[step]], rest, value)
        return seq
    return _fresh(path, value)


def unset_path(doc: Branch, path: Sequence[str | int]) -> None:
    """Remove the key or list element at ``path``; TreePathError when it does not exist."""
    if not path:
        raise TreePathError("the path is empty")
    parent: Value = doc
    for step in path[:-1]:
        parent = _child(parent, step)
    last = path[-1]
    if isinstance(parent, Branch) and isinstance(last, str) and last in parent.keys_():
        parent.pop_key(last)
        return
    if isinstance(parent, list) and not isinstance(parent, Branch) and isinstance(last, int):
        seq = parent
        positions = _items(seq)
        if 0 <= last < len(positions):
            del seq[positions[last]]
            return
    raise TreePathError(f"component [{last!r}] not found")


def _child(node: Value, step: str | int) -> Value:
    if isinstance(node, Branch) and isinstance(step, str) and step in node.keys_():
        return node.get(step)
    if isinstance(node, list) and not isinstance(node, Branch) and isinstance(step, int):
        seq = node
        positions = _items(seq)
        if 0 <= step < len(positions):
            return seq[positions[step]]
    raise TreePathError(f"component [{step!r}] not found")
