"""Bech32 (BIP 173 checksum) as age uses it: any length, one case, the HRP is the key type.

age encodes X25519 keys with it and, since age 1.3, the post-quantum ones: a 1216-byte
``age1pq1...`` recipient is far past BIP 173's 90-character limit, which age does not apply.
Pure; errors are :class:`ValueError` naming the problem, never echoing the input.
"""

from __future__ import annotations

CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_GENERATOR = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)


def _polymod(values: list[int]) -> int:
    check = 1
    for value in values:
        top = check >> 25
        check = (check & 0x1FFFFFF) << 5 ^ value
        for i, gen in enumerate(_GENERATOR):
            if (top >> i) & 1:
                check ^= gen
    return check


def _expand_hrp(hrp: str) -> list[int]:
    return [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]


def _regroup(data: bytes | list[int], source: int, target: int, pad: bool) -> list[int]:
    acc = bits = 0
    out = []
    for value in data:
        acc = (acc << source) | value
        bits += source
        while bits >= target:
            bits -= target
            out.append((acc >> bits) & ((1 << target) - 1))
    if pad:
        if bits:
            out.append((acc << (target - bits)) & ((1 << target) - 1))
    elif bits >= source or (acc << (target - bits)) & ((1 << target) - 1):
        raise ValueError("invalid padding")
    return out


def encode(hrp: str, data: bytes) -> str:
    """The lowercase Bech32 string for ``hrp`` and ``data``."""
    hrp = hrp.lower()
    words = _regroup(data, 8, 5, pad=True)
    check = _polymod(_expand_hrp(hrp) + words + [0] * 6) ^ 1
    words += [(check >> 5 * (5 - i)) & 31 for i in range(6)]
    return hrp + "1" + "".join(CHARSET[w] for w in words)


def decode(text: str) -> tuple[str, bytes]:
    """(lowercase HRP, data) of a Bech32 string; mixed case or a bad checksum fail."""
    if text.lower() != text and text.upper() != text:
        raise ValueError("mixed case")
    text = text.lower()
    pos = text.rfind("1")
    if pos < 1 or pos + 7 > len(text):
        raise ValueError("separator '1' at an invalid position")
    hrp, rest = text[:pos], text[pos + 1 :]
    if any(not 33 <= ord(c) <= 126 for c in hrp):
        raise ValueError("invalid character in the type")
    try:
        words = [CHARSET.index(c) for c in rest]
    except ValueError:
        raise ValueError("invalid character in the data") from None
    if _polymod(_expand_hrp(hrp) + words) != 1:
        raise ValueError("invalid checksum")
    return hrp, bytes(_regroup(words[:-6], 5, 8, pad=False))
