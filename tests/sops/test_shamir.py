"""Shamir sharing over GF(2^8) and key groups: field arithmetic checked against sops's own
constant-time multiplication (transcribed as a reference), shares from any subset, errors."""

from __future__ import annotations

import itertools
import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kseal.errors import KeyRetrievalError
from kseal.sops import keygroups, shamir
from kseal.sops.metadata import AgeKey, KeyGroup, Metadata


def _reference_mult(a: int, b: int) -> int:
    """The bit-serial multiplication of sops's shamir.go (reduction 0x1B), as a reference."""
    acc = 0
    for i in range(7, -1, -1):
        bit = (b >> i) & 1
        a_or_zero = (-bit) & a
        zero_or_1b = (-(acc >> 7)) & 0x1B
        acc = (zero_or_1b ^ ((acc + acc) & 0xFF)) ^ a_or_zero
    return acc & 0xFF


def test_field_matches_reference() -> None:
    for a in range(256):
        for b in range(256):
            assert shamir.mul(a, b) == _reference_mult(a, b)
    for a in range(1, 256):
        assert shamir.mul(a, shamir.div(1, a)) == 1


def _counter() -> object:
    state = {"n": 0}

    def random(n: int) -> bytes:
        out = bytes((state["n"] + i) % 256 for i in range(n))
        state["n"] += n
        return out

    return random


def test_share_layout_is_sops_layout() -> None:
    secret = bytes(range(32))
    shares = shamir.split(secret, 3, 2, _counter())  # type: ignore[arg-type]
    assert [len(s) for s in shares] == [33, 33, 33]
    assert [s[-1] for s in shares] == [1, 2, 3]  # x coordinates 1..n, last byte
    # degree-1 polynomial per byte: y = secret[i] + c_i * x, c_i = i (the injected randomness)
    for x, share in zip((1, 2, 3), shares, strict=True):
        assert list(share[:-1]) == [secret[i] ^ shamir.mul(i, x) for i in range(32)]


@settings(max_examples=40, deadline=None)
@given(st.binary(min_size=1, max_size=48), st.integers(2, 6), st.data())
def test_any_threshold_subset_recovers(secret: bytes, parts: int, data: st.DataObject) -> None:
    threshold = data.draw(st.integers(2, parts))
    shares = shamir.split(secret, parts, threshold, os.urandom)
    for subset in itertools.combinations(shares, threshold):
        assert shamir.combine(list(subset)) == secret
    assert shamir.combine(shares) == secret


def test_too_few_shares_give_garbage_not_the_secret() -> None:
    secret = os.urandom(32)
    shares = shamir.split(secret, 3, 3, os.urandom)
    assert shamir.combine(shares[:2]) != secret


def test_errors() -> None:
    with pytest.raises(ValueError, match="threshold"):
        shamir.split(b"k", 2, 3, os.urandom)
    with pytest.raises(ValueError, match="threshold"):
        shamir.split(b"k", 3, 1, os.urandom)
    with pytest.raises(ValueError, match="empty"):
        shamir.split(b"", 3, 2, os.urandom)
    shares = shamir.split(b"key", 3, 2, os.urandom)
    for bad in ([shares[0]], [shares[0], shares[0]], [shares[0], shares[1][:-2]]):
        with pytest.raises(KeyRetrievalError):
            shamir.combine(bad)


def _wrap(key: bytes, recipient: str) -> str:
    return f"{recipient}:{key.hex()}"


def _open_for(mine: set[str]):  # type: ignore[no-untyped-def]
    def open_group(group: KeyGroup) -> bytes | str:
        for k in group.age:
            if k.recipient in mine:
                return bytes.fromhex(k.enc.split(":")[1])
        return "not mine"

    return open_group


def test_key_groups_seal_and_open() -> None:
    key = os.urandom(32)
    groups, threshold = keygroups.seal(
        key, [["a"], ["b", "b2"], ["c"]], 2, wrap=_wrap, random=os.urandom
    )
    assert threshold == 2 and [len(g.age) for g in groups] == [1, 2, 1]
    metadata = Metadata(groups=groups, shamir_threshold=threshold)
    assert keygroups.open_key(metadata, _open_for({"a", "c"})) == key
    assert keygroups.open_key(metadata, _open_for({"b2", "c"})) == key
    with pytest.raises(KeyRetrievalError, match="only 1 of the 2") as exc:
        keygroups.open_key(metadata, _open_for({"b"}))
    assert exc.value.hints == (
        "key group 1: not mine",
        "key group 2: opened",
        "key group 3: not mine",
    )


def test_key_groups_default_threshold_is_all_groups() -> None:
    key = os.urandom(32)
    groups, threshold = keygroups.seal(key, [["a"], ["b"]], 0, wrap=_wrap, random=os.urandom)
    assert threshold == 2
    metadata = Metadata(groups=groups, shamir_threshold=0)  # as files from old sops may say
    assert keygroups.open_key(metadata, _open_for({"a", "b"})) == key
    with pytest.raises(KeyRetrievalError):
        keygroups.open_key(metadata, _open_for({"a"}))


def test_single_group_wraps_the_key_itself() -> None:
    key = os.urandom(32)
    groups, threshold = keygroups.seal(key, [["a", "b"]], 0, wrap=_wrap, random=os.urandom)
    assert threshold == 0 and groups[0].age[0] == AgeKey("a", _wrap(key, "a"))
    with pytest.raises(KeyRetrievalError, match="impossible"):
        keygroups.seal(key, [["a"], ["b"]], 3, wrap=_wrap, random=os.urandom)
