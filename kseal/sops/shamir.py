"""Shamir secret sharing over GF(2^8), as sops splits a data key across key groups.

The field is GF(2^8) with the AES reduction polynomial x^8 + x^4 + x^3 + x + 1. A secret of n bytes
becomes ``parts`` shares of n + 1 bytes: byte i of share k is the value at x = k + 1 of a random
polynomial of degree ``threshold - 1`` whose constant term is byte i of the secret, and the last
byte is x itself. Any ``threshold`` shares give the secret back by Lagrange interpolation at 0.
Randomness is a parameter, so shares can be reproduced in tests.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from kseal.errors import KeyRetrievalError


def _mul(a: int, b: int) -> int:
    out = 0
    while b:
        if b & 1:
            out ^= a
        a = ((a << 1) ^ 0x11B) if a & 0x80 else a << 1
        b >>= 1
    return out


_EXP = [0] * 510
_LOG = [0] * 256
_x = 1
for _i in range(255):
    _EXP[_i] = _EXP[_i + 255] = _x
    _LOG[_x] = _i
    _x = _mul(_x, 3)  # 3 generates the multiplicative group of this field


def mul(a: int, b: int) -> int:
    if a == 0 or b == 0:
        return 0
    return _EXP[_LOG[a] + _LOG[b]]


def div(a: int, b: int) -> int:
    if b == 0:
        raise ZeroDivisionError("division by zero in GF(2^8)")
    if a == 0:
        return 0
    return _EXP[_LOG[a] - _LOG[b] + 255]


def _evaluate(coefficients: Sequence[int], x: int) -> int:
    out = 0
    for c in reversed(coefficients):
        out = mul(out, x) ^ c
    return out


def split(secret: bytes, parts: int, threshold: int, random: Callable[[int], bytes]) -> list[bytes]:
    """``parts`` shares of ``secret``, any ``threshold`` of which recover it."""
    if not 2 <= threshold <= parts <= 255:
        raise ValueError("need 2 <= threshold <= parts <= 255")
    if not secret:
        raise ValueError("cannot split an empty secret")
    shares = [bytearray(len(secret) + 1) for _ in range(parts)]
    for k, share in enumerate(shares):
        share[-1] = k + 1
    for i, byte in enumerate(secret):
        coefficients = [byte, *random(threshold - 1)]
        for k, share in enumerate(shares):
            share[i] = _evaluate(coefficients, k + 1)
    return [bytes(s) for s in shares]


def combine(shares: Sequence[bytes]) -> bytes:
    """The secret from at least two shares (more than the threshold is fine)."""
    if len(shares) < 2:
        raise KeyRetrievalError("at least two key-group shares are needed to rebuild the data key")
    length = len(shares[0])
    if length < 2 or any(len(s) != length for s in shares):
        raise KeyRetrievalError("the key-group shares have different or invalid lengths")
    xs = [s[-1] for s in shares]
    if len(set(xs)) != len(xs) or 0 in xs:
        raise KeyRetrievalError("duplicate or invalid key-group shares")
    basis = []
    for i, xi in enumerate(xs):
        b = 1
        for j, xj in enumerate(xs):
            if i != j:
                b = mul(b, div(xj, xi ^ xj))
        basis.append(b)
    out = bytearray(length - 1)
    for idx in range(length - 1):
        acc = 0
        for i, share in enumerate(shares):
            acc ^= mul(share[idx], basis[i])
        out[idx] = acc
    return bytes(out)
