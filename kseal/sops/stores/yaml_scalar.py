"""YAML scalars the way sops's YAML library (yaml.v3) reads them, and how kseal writes them back.

Reading: yaml.v3's resolver is YAML 1.2-like: only ``true``/``false`` (three spellings each) are
booleans, so ``yes``/``no``/``on``/``off`` stay strings; unquoted timestamps are times; integers
accept ``0x``/``0o``/``0b``, legacy ``0123`` octal and ``_`` separators. Writing: a string is
written plain only when reading it back gives the same string, with yaml.v3 and with every YAML
1.1 reader (kubectl's go-yaml v2, PyYAML, ruamel 1.1): ``on``, ``no``, ``1:20``, ``0_``, ``=``,
``<<`` or ``2001-12-14 21:59:43.10 -5`` are quoted, as yaml.v3 itself quotes ``yes``/``no``.
"""

from __future__ import annotations

import base64
import binascii
import math
import re

from kseal.errors import InputError
from kseal.sops import gofmt
from kseal.sops.codec import float_spelling
from kseal.sops.tree import Comment, FloatText, Scalar, Timestamp

_MAP: dict[str, Scalar] = {
    **dict.fromkeys(("true", "True", "TRUE"), True),
    **dict.fromkeys(("false", "False", "FALSE"), False),
    **dict.fromkeys(("", "~", "null", "Null", "NULL"), None),
    **dict.fromkeys((".nan", ".NaN", ".NAN"), math.nan),
    **dict.fromkeys((".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF"), math.inf),
    **dict.fromkeys(("-.inf", "-.Inf", "-.INF"), -math.inf),
}
_YAML_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?\Z")
_DIGITS = {2: "01", 8: "01234567", 10: "0123456789", 16: "0123456789abcdefABCDEF"}

_TAGS = {
    "tag:yaml.org,2002:" + t: t
    for t in ("str", "int", "float", "bool", "null", "timestamp", "binary")
}


def _go_parse_int(s: str) -> int | None:
    """``strconv.ParseInt(s, 0, 64)`` then ``ParseUint``: sign, base prefix, legacy octal."""
    body = s
    neg = False
    if body[:1] in "+-" and body:
        neg = body[0] == "-"
        body = body[1:]
    base = 10
    if len(body) > 1 and body[0] == "0":
        prefix = body[1].lower()
        if prefix in "xob":
            base = {"x": 16, "o": 8, "b": 2}[prefix]
            body = body[2:]
        else:
            base = 8
            body = body[1:]
    if not body or any(c not in _DIGITS[base] for c in body):
        return None
    value = -int(body, base) if neg else int(body, base)
    if value < gofmt.INT64_MIN or value > 2**64 - 1 or (neg and value < gofmt.INT64_MIN):
        return None
    return value


def resolve_plain(s: str) -> Scalar:
    """The value of an untagged plain scalar, as yaml.v3 resolves it."""
    if s in _MAP:
        return _MAP[s]
    hint = s[0]
    if hint == ".":
        try:
            number = gofmt.parse_float(s)
        except ValueError:
            return s
        return FloatText(s) if float_spelling(s) else number
    if hint in "+-0123456789":
        ts = gofmt.yaml_timestamp(s)
        if ts is not None:
            return Timestamp(ts)
        plain = s.replace("_", "")
        if plain:
            as_int = _go_parse_int(plain) if plain[:2].lower() not in ("0o", "0b") else None
            if as_int is not None:
                return as_int
            if _YAML_FLOAT.match(plain):
                number = float(plain)
                if math.isinf(number):
                    return s  # out of range for Go's ParseFloat: yaml.v3 keeps the string
                return FloatText(s) if float_spelling(s) else number
            for prefix, base in (("0b", 2), ("-0b", 2), ("0o", 8), ("-0o", 8)):
                if plain.startswith(prefix):
                    digits = plain[len(prefix) :]
                    if digits and all(c in _DIGITS[base] for c in digits):
                        v = int(digits, base)
                        return -v if prefix.startswith("-") else v
    return s


def _binary(value: str) -> bytes:
    """A ``!!binary`` scalar's bytes: strict base64 where line breaks are ignored (Go's decoder)."""
    try:
        return base64.b64decode(value.replace("\n", "").replace("\r", ""), validate=True)
    except (binascii.Error, ValueError):
        raise InputError("invalid YAML: a !!binary value holds invalid base64 data") from None


def resolve(value: str, tag: str | None, plain: bool) -> Scalar:
    """The value of a scalar event: quoted scalars are strings; standard tags are honoured."""
    kind = _TAGS.get(tag or "")
    if kind == "str" or (tag == "!" and not plain):
        return value
    if kind == "binary":
        return _binary(value)
    if not plain and kind is None:
        return value
    resolved = resolve_plain(value)
    if kind in (None, "timestamp"):
        return resolved
    if kind == "int" and isinstance(resolved, int) and not isinstance(resolved, bool):
        return resolved
    if kind == "float" and isinstance(resolved, int | float) and not isinstance(resolved, bool):
        return float(resolved)
    if kind == "bool" and isinstance(resolved, bool):
        return resolved
    if kind == "null" and resolved is None:
        return None
    return value


# ---- writing ----------------------------------------------------------------------------------

_INDICATORS = set("-?:,[]{}#&*!|>'\"%@`")
_FLOW_UNSAFE = set(",[]{}")
_ESCAPES = {
    "\0": "\\0",
    "\a": "\\a",
    "\b": "\\b",
    "\t": "\\t",
    "\n": "\\n",
    "\v": "\\v",
    "\f": "\\f",
    "\r": "\\r",
    "\x1b": "\\e",
    '"': '\\"',
    "\\": "\\\\",
    "\x85": "\\N",
    "\u2028": "\\L",
    "\u2029": "\\P",
}


# Characters YAML may not hold raw: outside the printable set (tab, \x20-\x7e, \xa0-\ud7ff,
# \ue000-\ufffd, astral), plus the BOM. Written as a positive class, which compiles several times
# faster than the negated one (tests/sops/test_yaml_store.py checks both agree on every code point).
_NON_PRINTABLE = re.compile("[\x00-\x08\n-\x1f\x7f-\x9f\ud800-\udfff\ufeff\ufffe\uffff]")
# ENC[...] values and similar base64-ish tokens: always safe unquoted in block context.
_SAFE_TOKEN = re.compile(r"[A-Za-z][A-Za-z0-9+/=:,_\[\]]*\Z")
# Words and phrases starting with a letter, of letters, digits and "_./-", single spaces between:
# plain unless one of the YAML 1.1 words below (no indicator, no ": " or " #", no number or
# timestamp, nothing to escape; the YAML 1.2 words among them are YAML 1.1 words too).
_PLAIN_WORDS = re.compile(r"[A-Za-z][A-Za-z0-9_./-]*(?: [A-Za-z0-9_./-]+)*\Z")


def _printable(c: str) -> bool:
    return _NON_PRINTABLE.match(c) is None


def double_quoted(s: str) -> str:
    out = ['"']
    for c in s:
        esc = _ESCAPES.get(c)
        if esc is not None:
            out.append(esc)
        elif _printable(c):
            out.append(c)
        elif ord(c) <= 0xFF:
            out.append(f"\\x{ord(c):02x}")
        elif ord(c) <= 0xFFFF:
            out.append(f"\\u{ord(c):04x}")
        else:
            out.append(f"\\U{ord(c):08x}")
    out.append('"')
    return "".join(out)


# What a YAML 1.1 reader (or a YAML 1.2 reader with the wider ruamel/PyYAML regexes) resolves to a
# type other than str. Strings yaml.v3 already resolves to another type are caught by
# resolve_plain; these catch the rest.
_YAML11_WORDS = frozenset(
    (
        *("y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO"),
        *("true", "True", "TRUE", "false", "False", "FALSE"),
        *("on", "On", "ON", "off", "Off", "OFF"),
        *("", "~", "null", "Null", "NULL", "=", "<<"),
    )
)
_YAML11_NUMBER = re.compile(
    r"""[-+]?(?:
        0b[01_]+ | 0o?[0-7_]+ | 0x[0-9a-fA-F_]+          # binary, octal (1.1 and 1.2), hex
      | [0-9][0-9_]* | (?<=[-+])[0-9_]+                  # decimal, with separators
      | [0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?      # base 60 (1:20, 190:20:30.15)
      | [0-9][0-9_]*\.[0-9_]*(?:[eE][-+]?[0-9]+)?        # 1.  1.5  1.5e3
      | [0-9][0-9_]*[eE][-+]?[0-9]+                      # 1e3
      | \.[0-9_]+(?:[eE][-+]?[0-9]+)?                    # .5
      | \.(?:inf|Inf|INF|nan|NaN|NAN)
    )\Z""",
    re.X,
)
_YAML11_TIMESTAMP = re.compile(
    r"""[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}
        (?:(?:[Tt]|[ \t]+)[0-9]{1,2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]*)?
           (?:[ \t]*(?:Z|[-+][0-9]{1,2}(?::[0-9]{2})?))?)?\Z""",
    re.X,
)


def yaml11_typed(s: str) -> bool:
    """True when a YAML 1.1 reader would take the plain scalar ``s`` for something not a string."""
    return (
        s in _YAML11_WORDS
        or _YAML11_NUMBER.match(s) is not None
        or _YAML11_TIMESTAMP.match(s) is not None
    )


def plain_ok(s: str, *, flow: bool = False) -> bool:
    """True when ``s`` can be written unquoted and reads back as the same string."""
    if not flow and s.startswith("ENC[") and _SAFE_TOKEN.match(s):
        return True
    if _PLAIN_WORDS.match(s):  # the common case, decided without the checks of _plain_ok
        return s not in _YAML11_WORDS
    return _plain_ok(s, flow)


def _plain_ok(s: str, flow: bool) -> bool:
    if not s or s[0] in _INDICATORS or s[0].isspace() or s[-1].isspace():
        return False
    if s.startswith(("---", "...")) or ": " in s or " #" in s or s.endswith(":") or "\t" in s:
        return False
    if flow and any(c in _FLOW_UNSAFE for c in s):
        return False
    if _NON_PRINTABLE.search(s) or yaml11_typed(s):
        return False
    resolved = resolve_plain(s)
    return isinstance(resolved, str) and resolved == s


def literal_ok(s: str) -> bool:
    """True when ``s`` is best written as a ``|`` block: several lines, nothing that needs escapes.

    Trailing line breaks are fine (``|+`` keeps them); leading ones, a leading space, trailing
    spaces on a line and characters that need escapes are not (yaml.v3 quotes those too).
    """
    if "\n" not in s or s.startswith(("\n", " ", "\t")) or "\r" in s:
        return False
    body = s.rstrip("\n")
    if not body:
        return False
    return not _NON_PRINTABLE.search(body.replace("\n", "")) and not any(
        line != line.rstrip(" \t") for line in body.split("\n")
    )


def folded_ok(s: str) -> bool:
    """True when ``s`` reads back unchanged from a ``>`` block written by :func:`folded`."""
    if s.startswith(("\n", " ", "\t")) or "\r" in s or not s.rstrip("\n"):
        return False
    body = s.rstrip("\n")
    return not _NON_PRINTABLE.search(body.replace("\n", "")) and not any(
        line != line.strip(" \t") for line in body.split("\n")
    )


def chomping(s: str) -> str:
    """The block chomping indicator that gives back the trailing line breaks of ``s``."""
    if not s.endswith("\n"):
        return "-"
    return "+" if s.endswith("\n\n") else ""


def literal(s: str, indent: str, chomp: str | None = None) -> str:
    """A ``|`` block (``|-``, ``|+`` by the trailing line breaks) whose content lines start with
    ``indent``, without the line break that ends its last line: the text that follows supplies
    it. With ``|+`` the extra trailing line breaks are written as empty lines; ``chomp`` forces
    the indicator (``+`` when empty lines that follow the block supply some of them)."""
    body = s[:-1] if s.endswith("\n") else s
    return (
        "|"
        + (chomping(s) if chomp is None else chomp)
        + "".join("\n" + (indent + line if line else "") for line in body.split("\n"))
    )


def folded(s: str, indent: str, chomp: str | None = None) -> str:
    """A ``>`` block for ``s`` (see :func:`folded_ok`): each line break of the value becomes an
    empty line, so that folding gives it back; otherwise like :func:`literal`."""
    body = s.rstrip("\n")
    out = [">" + (chomping(s) if chomp is None else chomp)]
    for n, line in enumerate(body.split("\n")):
        if n:
            out.append("")  # a single break before a text line would fold into a space
        if line:
            out.append(indent + line)
    out.extend("" for _ in range(len(s) - len(body) - 1))
    return "\n".join(out)


def format_scalar(value: Scalar, *, flow: bool = False) -> str:
    """A one-line YAML spelling of ``value`` that reads back as the same typed value."""
    if type(value) is str:  # the common case first
        return value if plain_ok(value, flow=flow) else double_quoted(value)
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, FloatText) and isinstance(resolve_plain(value.text), float):
        return value.text
    if isinstance(value, float):
        if math.isnan(value):
            return ".nan"
        if math.isinf(value):
            return ".inf" if value > 0 else "-.inf"
        return repr(value)
    if isinstance(value, Timestamp):
        return value.text
    if isinstance(value, bytes):
        return "!!binary " + base64.b64encode(value).decode("ascii")
    if isinstance(value, Comment):
        raise TypeError("comments are not scalars")
    return value if plain_ok(value, flow=flow) else double_quoted(value)
