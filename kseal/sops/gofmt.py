"""Go-compatible text forms of scalars, as sops writes and hashes them.

sops hashes and encrypts the Go ``strconv``/``time`` forms of values, so a byte-compatible writer
must produce exactly these strings: floats with ``FormatFloat(f, 'f', -1, 64)``, bools as
``True``/``False``, times as RFC3339Nano. This module is the single place that knows them.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1


def _digits(x: float) -> tuple[str, int]:
    """Shortest round-trip decimal digits of finite, non-zero |x| and the decimal point position."""
    from decimal import Decimal  # only floats need it

    _, digits, exp = Decimal(repr(abs(x))).normalize().as_tuple()
    text = "".join(map(str, digits))
    return text, len(text) + int(exp)  # value = 0.<text> * 10**dp


def format_float_f(x: float) -> str:
    """``strconv.FormatFloat(x, 'f', -1, 64)``: shortest round-trip digits, never an exponent."""
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "+Inf" if x > 0 else "-Inf"
    neg = "-" if math.copysign(1.0, x) < 0 else ""
    if x == 0:
        return neg + "0"
    digits, dp = _digits(x)
    if dp <= 0:
        return f"{neg}0.{'0' * -dp}{digits}"
    if dp >= len(digits):
        return neg + digits + "0" * (dp - len(digits))
    return f"{neg}{digits[:dp]}.{digits[dp:]}"


def format_float_e(x: float) -> str:
    """``strconv.FormatFloat(x, 'e', -1, 64)`` for finite x: ``d.ddde±XX``."""
    neg = "-" if math.copysign(1.0, x) < 0 else ""
    if x == 0:
        return neg + "0e+00"
    digits, dp = _digits(x)
    exp = dp - 1
    mant = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
    return f"{neg}{mant}e{'+' if exp >= 0 else '-'}{abs(exp):02d}"


def format_float_g(x: float) -> str:
    """``strconv.FormatFloat(x, 'g', -1, 64)`` (yaml.v3's float output)."""
    if math.isnan(x) or math.isinf(x):
        return format_float_f(x)
    if x == 0:
        return "-0" if math.copysign(1.0, x) < 0 else "0"
    _, dp = _digits(x)
    exp = dp - 1
    if exp < -4 or exp >= 6:  # Go uses precision 6 for this decision when the precision is shortest
        return format_float_e(x)
    return format_float_f(x)


def format_float_json(x: float) -> str:
    """Go ``encoding/json`` float output: 'f' for 1e-6 <= |x| < 1e21, else 'e' with a short exponent."""
    if math.isnan(x) or math.isinf(x):
        raise ValueError("JSON cannot represent NaN or infinity")
    a = abs(x)
    if a != 0 and (a < 1e-6 or a >= 1e21):
        s = format_float_e(x)
        if len(s) >= 4 and s[-4] == "e" and s[-3] == "-" and s[-2] == "0":
            s = s[:-2] + s[-1]
        return s
    return format_float_f(x)


def format_bool(b: bool) -> str:
    """sops's serialization of booleans (inherited from Python sops)."""
    return "True" if b else "False"


_GO_BOOL = {
    "1": True,
    "t": True,
    "T": True,
    "TRUE": True,
    "true": True,
    "True": True,
    "0": False,
    "f": False,
    "F": False,
    "FALSE": False,
    "false": False,
    "False": False,
}


def parse_bool(s: str) -> bool:
    """``strconv.ParseBool``."""
    try:
        return _GO_BOOL[s]
    except KeyError:
        raise ValueError(f"invalid boolean {s!r}") from None


_INT_RE = re.compile(r"[+-]?[0-9]+\Z")


def parse_int(s: str) -> int:
    """``strconv.Atoi`` on 64-bit: optional sign, decimal digits, int64 range."""
    if not _INT_RE.match(s):
        raise ValueError("invalid integer")
    v = int(s)
    if not INT64_MIN <= v <= INT64_MAX:
        raise ValueError("integer out of range")
    return v


_FLOAT_RE = re.compile(
    r"[+-]?(?:(?:[0-9](?:_?[0-9])*)?\.?[0-9]*(?:[eE][+-]?[0-9]+)?|inf(?:inity)?|nan)\Z", re.I
)


def parse_float(s: str) -> float:
    """``strconv.ParseFloat(s, 64)`` for decimal input (hex floats are not accepted)."""
    if (
        not s
        or not _FLOAT_RE.match(s)
        or (not any(c.isdigit() for c in s) and not re.search("inf|nan", s, re.I))
    ):
        raise ValueError("invalid float")
    return float(s.replace("_", ""))


# ---- time ---------------------------------------------------------------------------------------

_RFC3339 = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})\Z"
)


def format_rfc3339nano(
    year: int,
    month: int,
    day: int,
    hour: int,
    minute: int,
    second: int,
    nanos: int,
    offset_min: int,
) -> str:
    """Go ``time.Format(time.RFC3339Nano)``: trailing fractional zeros dropped, ``Z`` for UTC."""
    frac = ""
    if nanos:
        frac = "." + f"{nanos:09d}".rstrip("0")
    if offset_min == 0:
        zone = "Z"
    else:
        sign = "+" if offset_min > 0 else "-"
        zone = f"{sign}{abs(offset_min) // 60:02d}:{abs(offset_min) % 60:02d}"
    return f"{year:04d}-{month:02d}-{day:02d}T{hour:02d}:{minute:02d}:{second:02d}{frac}{zone}"


def _validate(year: int, month: int, day: int, hour: int, minute: int, second: int) -> None:
    datetime(year, month, day, hour, minute, second)  # raises ValueError when out of range


def canonical_rfc3339(s: str) -> str:
    """Parse an RFC3339 timestamp (Go ``time.UnmarshalText``) and return its RFC3339Nano form."""
    m = _RFC3339.match(s)
    if not m:
        raise ValueError("invalid RFC3339 timestamp")
    year, month, day, hour, minute, second = (int(m.group(i)) for i in range(1, 7))
    _validate(year, month, day, hour, minute, second)
    nanos = int((m.group(7) or "").ljust(9, "0") or 0)
    zone = m.group(8)
    offset = (
        0 if zone == "Z" else (int(zone[1:3]) * 60 + int(zone[4:6])) * (1 if zone[0] == "+" else -1)
    )
    if abs(offset) >= 24 * 60:
        raise ValueError("time zone offset out of range")
    return format_rfc3339nano(year, month, day, hour, minute, second, nanos, offset)


_YAML_TS = re.compile(
    r"(\d{4})-(\d{1,2})-(\d{1,2})"
    r"(?:(?:([Tt])|( ))(\d{1,2}):(\d{1,2}):(\d{1,2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})?)?\Z"
)


def yaml_timestamp(s: str) -> str | None:
    """yaml.v3's timestamp resolution of a plain scalar; the canonical RFC3339Nano text or None.

    The accepted layouts are yaml.v3's: ``2006-1-2T15:4:5.999999999Z07:00`` (``t`` allowed),
    ``2006-1-2 15:4:5.999999999`` (no zone, UTC) and ``2006-1-2``.
    """
    m = _YAML_TS.match(s)
    if not m:
        return None
    year, month, day = int(m.group(1)), int(m.group(2)), int(m.group(3))
    if m.group(6) is None:
        hour = minute = second = nanos = offset = 0
    else:
        hour, minute, second = int(m.group(6)), int(m.group(7)), int(m.group(8))
        nanos = int((m.group(9) or "").ljust(9, "0") or 0)
        zone = m.group(10)
        if m.group(4) and zone is None:
            return None  # the T layout requires a zone
        if m.group(5) and zone is not None:
            return None  # the space layout has no zone
        offset = 0
        if zone and zone != "Z":
            offset = (int(zone[1:3]) * 60 + int(zone[4:6])) * (1 if zone[0] == "+" else -1)
            if abs(offset) >= 24 * 60:
                return None
    try:
        _validate(year, month, day, hour, minute, second)
    except ValueError:
        return None
    return format_rfc3339nano(year, month, day, hour, minute, second, nanos, offset)


def utc_now_rfc3339(now: datetime) -> str:
    """``lastmodified`` as sops writes it: UTC, second precision, ``Z``."""
    t = now.astimezone(UTC) if now.tzinfo else now.replace(tzinfo=UTC)
    t = t - timedelta(microseconds=t.microsecond)
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")
