"""A subset of Go's ``text/template`` with sprig's functions: what the sealed-secrets controller
renders ``spec.template.data`` with, over ``map[string]string{key: plaintext}``.

Supported: literal text, ``{{ .key }}``, ``{{ . }}``, ``{{ index . "key" }}``, ``{{-``/``-}}``
trimming, ``{{/* comments */}}``, pipelines ``a | f b``, parenthesised calls, string (``"..."``,
```...```), decimal integer and boolean literals, and the functions in :data:`SUPPORTED`. Output
is byte-identical to Go's for these. Anything else (``if``, ``range``, ``with``, variables, other
functions) is a :class:`TemplateError` that names the construct, never template text or a value.

Go strings are bytes; here they are ``str`` decoded with ``surrogateescape``, so any plaintext
byte survives (callers decode and encode that way). Pure: no I/O.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NoReturn

from kseal.errors import ExitCode, KsealError


class TemplateError(KsealError):
    """A template kseal cannot render; the message names the construct, never a value."""

    exit_code = ExitCode.GENERIC


NO_VALUE = "<no value>"  # what Go prints for a missing map key
_SPACE = " \t\r\n"  # Go's template lexer: what {{- and -}} trim, and what separates tokens
_MAX_DEPTH = 50
_KEYWORDS = ("if", "else", "end", "range", "with", "define", "template", "block", "break",
             "continue")  # fmt: skip
_IDENT = re.compile(r"[^\W\d]\w*")
_FIELD = re.compile(r"\.([^\W\d]\w*)")
_NUMBER = re.compile(r"[+-]?\d[\w.+-]*")


# --- values ---------------------------------------------------------------------------------
# Go values map onto Python: string -> str, int -> int, bool -> bool, []interface{} -> list,
# the root map -> dict, nil and a missing map entry -> None.


def _type_name(value: object) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "[]interface {}"
    return "map[string]string"


def _fmt_v(value: object) -> str:
    """Go's ``%v``."""
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | str):
        return str(value)
    if isinstance(value, list):
        return "[" + " ".join(_fmt_v(v) for v in value) + "]"
    if not isinstance(value, dict):
        raise TypeError(type(value).__name__)
    return "map[" + " ".join(f"{k}:{_fmt_v(value[k])}" for k in sorted(value)) + "]"


def _printed(value: object) -> str:
    """What an action writes for its value (text/template's printValue)."""
    return NO_VALUE if value is None else _fmt_v(value)


def _raw(text: str) -> bytes:
    return text.encode("utf-8", "surrogateescape")


def _unraw(data: bytes) -> str:
    return data.decode("utf-8", "surrogateescape")


def _is_raw_byte(char: str) -> bool:
    """A byte that is not valid UTF-8, carried as a lone surrogate by ``surrogateescape``."""
    return "\udc80" <= char <= "\udcff"


def go_quote(text: str) -> str:
    """Go's ``strconv.Quote`` (``%q``): escapes for quotes, controls, non-printables, bad bytes."""
    out = ['"']
    for char in text:
        code = ord(char)
        if _is_raw_byte(char):
            out.append(f"\\x{code - 0xDC00:02x}")
        elif char in '"\\':
            out.append("\\" + char)
        elif char.isprintable():
            out.append(char)
        elif char in _C_ESCAPES:
            out.append(_C_ESCAPES[char])
        elif code < 0x20 or code == 0x7F:
            out.append(f"\\x{code:02x}")
        elif code < 0x10000:
            out.append(f"\\u{code:04x}")
        else:
            out.append(f"\\U{code:08x}")
    out.append('"')
    return "".join(out)


_C_ESCAPES = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t",
              "\v": "\\v"}  # fmt: skip
_JSON_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r",
                 "\t": "\\t", "\u2028": "\\u2028", "\u2029": "\\u2029"}  # fmt: skip
_HTML_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026"}


def _json_string(text: str, escape_html: bool) -> str:
    """Go's encoding/json string: <>& escaped unless raw, bad bytes as \\ufffd."""
    out = ['"']
    for char in text:
        if char in _JSON_ESCAPES:
            out.append(_JSON_ESCAPES[char])
        elif escape_html and char in _HTML_ESCAPES:
            out.append(_HTML_ESCAPES[char])
        elif ord(char) < 0x20:
            out.append(f"\\u{ord(char):04x}")
        elif _is_raw_byte(char):
            out.append("\\ufffd")
        else:
            out.append(char)
    out.append('"')
    return "".join(out)


def _json(value: object, escape_html: bool, indent: str, depth: int = 0) -> str:
    """Go's json.Marshal (``indent`` "") or json.MarshalIndent(v, "", indent)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return _json_string(value, escape_html)
    if isinstance(value, list):
        items = [_json(v, escape_html, indent, depth + 1) for v in value]
        return _json_container("[", items, "]", indent, depth)
    if not isinstance(value, dict):
        raise TypeError(type(value).__name__)
    sep = ": " if indent else ":"
    items = [
        _json_string(k, escape_html) + sep + _json(value[k], escape_html, indent, depth + 1)
        for k in sorted(value)
    ]
    return _json_container("{", items, "}", indent, depth)


def _json_container(open_: str, items: list[str], close: str, indent: str, depth: int) -> str:
    if not items:
        return open_ + close
    if not indent:
        return open_ + ",".join(items) + close
    inner = "\n" + indent * (depth + 1)
    return open_ + inner + ("," + inner).join(items) + "\n" + indent * depth + close


# --- sprig and builtin functions --------------------------------------------------------------


def _strval(value: object) -> str:
    return value if isinstance(value, str) else _fmt_v(value)


def _b64dec(text: str) -> str:
    """sprig's b64dec: the decoded bytes, or Go's error text when the input is not base64."""
    try:
        return _unraw(_go_b64decode(_raw(text)))
    except _CorruptInput as err:
        return f"illegal base64 data at input byte {err.offset}"


class _CorruptInput(Exception):
    def __init__(self, offset: int) -> None:
        super().__init__(offset)
        self.offset = offset


_B64 = {
    c: i for i, c in enumerate(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
}
_NL = b"\r\n"


def _go_b64decode(src: bytes) -> bytes:
    """Go's base64.StdEncoding.DecodeString: padding required, CR/LF ignored, and on error the
    same offset Go reports."""
    out = bytearray()
    si = 0
    while si < len(src):
        si, chunk = _b64_quantum(src, si)
        out += chunk
    return bytes(out)


def _b64_quantum(src: bytes, si: int) -> tuple[int, bytes]:
    """One 4-character quantum from ``si``: the next index and its bytes."""
    vals: list[int] = []
    while len(vals) < 4:
        if si == len(src):
            if not vals:
                return si, b""
            raise _CorruptInput(si - len(vals))
        char = src[si]
        si += 1
        if char in _B64:
            vals.append(_B64[char])
        elif char in _NL:
            continue
        elif char != ord("=") or len(vals) < 2:
            raise _CorruptInput(si - 1)
        else:
            return _b64_padding(src, si, vals)
    value = vals[0] << 18 | vals[1] << 12 | vals[2] << 6 | vals[3]
    return si, value.to_bytes(3, "big")


def _b64_padding(src: bytes, si: int, vals: list[int]) -> tuple[int, bytes]:
    """The end of the input after a '=' (already consumed) following ``vals``."""
    if len(vals) == 2:
        si = _skip_newlines(src, si)
        if si == len(src):
            raise _CorruptInput(len(src))
        if src[si] != ord("="):
            raise _CorruptInput(si - 1)
        si += 1
    si = _skip_newlines(src, si)
    if si < len(src):
        raise _CorruptInput(si)
    value = [*vals, 0, 0][:4]
    whole = (value[0] << 18 | value[1] << 12 | value[2] << 6 | value[3]).to_bytes(3, "big")
    return si, whole[: len(vals) - 1]


def _skip_newlines(src: bytes, si: int) -> int:
    while si < len(src) and src[si] in _NL:
        si += 1
    return si


def _go_is_space(char: str) -> bool:
    """Go's unicode.IsSpace (Python's isspace also counts U+001C..U+001F)."""
    return char.isspace() and not "\x1c" <= char <= "\x1f"


def _trim(text: str) -> str:
    start, end = 0, len(text)
    while start < end and _go_is_space(text[start]):
        start += 1
    while end > start and _go_is_space(text[end - 1]):
        end -= 1
    return text[start:end]


def _case(text: str, upper: bool) -> str:
    """Go's strings.ToUpper/ToLower: rune by rune (simple case mapping), bad bytes as U+FFFD."""
    if text.isascii():
        return text.upper() if upper else text.lower()
    out = []
    for char in text:
        if _is_raw_byte(char):
            out.append("\ufffd")
            continue
        mapped = char.upper() if upper else char.lower()
        if len(mapped) != 1:  # a full (multi-character) mapping: Go uses the simple one
            mapped = char.title() if upper else _SIMPLE_LOWER.get(char, char)
        out.append(mapped if len(mapped) == 1 else char)
    return "".join(out)


_SIMPLE_LOWER = {"\u0130": "i"}
_LATIN1_SPACES = frozenset(b"\t\n\v\f\r \x85\xa0")


def _nospace(text: str) -> str:
    """goutils.DeleteWhiteSpace, byte by byte as it is: when anything is removed, every other
    byte is re-encoded as the Latin-1 character of that value."""
    data = _raw(text)
    kept = [b for b in data if b not in _LATIN1_SPACES]
    if len(kept) == len(data):
        return text
    return "".join(chr(b) for b in kept)


def _trunc(count: int, text: str) -> str:
    data = _raw(text)
    if count < 0 and len(data) + count > 0:
        return _unraw(data[len(data) + count :])
    if count >= 0 and len(data) > count:
        return _unraw(data[:count])
    return text


def _indent(spaces: int, text: str) -> str:
    if spaces < 0:  # Go's strings.Repeat panics, failing the template
        raise TemplateError('function "indent": negative count')
    pad = " " * spaces
    return pad + text.replace("\n", "\n" + pad)


def _quote(*values: object) -> str:
    return " ".join(go_quote(_strval(v)) for v in values if v is not None)


def _squote(*values: object) -> str:
    return " ".join(f"'{_fmt_v(v)}'" for v in values if v is not None)


def _cat(*values: object) -> str:
    return " ".join(_fmt_v(v) for v in values if v is not None)


def _empty(value: object) -> bool:
    if value is None or value is False:
        return True
    if isinstance(value, str | list | dict):
        return len(value) == 0
    return value == 0


def _default(default: object, *given: object) -> object:
    return default if not given or _empty(given[0]) else given[0]


def _join(sep: str, value: object) -> str:
    if isinstance(value, list):
        return sep.join(_strval(v) for v in value if v is not None)
    return "" if value is None else _strval(value)


def _sprint(*values: object) -> str:
    """fmt.Sprint: a space between operands when neither is a string."""
    out = []
    for i, value in enumerate(values):
        if i and not isinstance(value, str) and not isinstance(values[i - 1], str):
            out.append(" ")
        out.append(_fmt_v(value))
    return "".join(out)


def _sprintln(*values: object) -> str:
    return " ".join(_fmt_v(v) for v in values) + "\n"


_VERB = re.compile(r"%(.?)", re.DOTALL)


def _sprintf(fmt: str, *args: object) -> str:
    """fmt.Sprintf for the verbs %s %d %q %v and %% (no flags, width or precision)."""
    out: list[str] = []
    pos, used = 0, 0
    for match in _VERB.finditer(fmt):
        out.append(fmt[pos : match.start()])
        pos = match.end()
        verb = match.group(1)
        if verb == "%":
            out.append("%")
        elif verb == "":
            out.append("%!(NOVERB)")
        elif verb not in "sdqv":
            raise TemplateError(
                "printf: only the verbs %s, %d, %q, %v and %% are supported by kseal "
                "(no flags, width or precision)"
            )
        elif used < len(args):
            out.append(_verb(verb, args[used]))
            used += 1
        else:
            out.append(f"%!{verb}(MISSING)")
    out.append(fmt[pos:])
    if used < len(args):
        extra = ", ".join(
            "<nil>" if a is None else f"{_type_name(a)}={_fmt_v(a)}" for a in args[used:]
        )
        out.append(f"%!(EXTRA {extra})")
    return "".join(out)


def _verb(verb: str, arg: object) -> str:
    if verb == "v":
        return _fmt_v(arg)
    if arg is None:
        return f"%!{verb}(<nil>)"
    if isinstance(arg, list):
        return "[" + " ".join(_verb(verb, a) for a in arg) + "]"
    if isinstance(arg, dict):
        return (
            "map[" + " ".join(f"{_verb(verb, k)}:{_verb(verb, arg[k])}" for k in sorted(arg)) + "]"
        )
    if verb == "s" and isinstance(arg, str):
        return arg
    if verb == "q" and isinstance(arg, str):
        return go_quote(arg)
    if verb == "d" and isinstance(arg, int) and not isinstance(arg, bool):
        return str(arg)
    if verb == "q" and isinstance(arg, int) and not isinstance(arg, bool):
        raise TemplateError("printf: %q of a number is not supported by kseal")
    return f"%!{verb}({_type_name(arg)}={_fmt_v(arg)})"


def _index(item: object, *keys: object) -> object:
    """text/template's index, for the root map and lists."""
    for key in keys:
        if item is None:
            raise TemplateError('function "index": index of untyped nil')
        if isinstance(item, dict) and isinstance(key, str):
            item = item.get(key, "")
        elif isinstance(item, list) and isinstance(key, int) and not isinstance(key, bool):
            if not 0 <= key < len(item):
                raise TemplateError(f'function "index": index out of range: {key}')
            item = item[key]
        else:
            raise TemplateError(
                'function "index": kseal supports only index . "key" (and list positions)'
            )
    return item


@dataclass(frozen=True)
class _Func:
    call: Callable[..., object]
    params: tuple[str, ...]  # "str", "int" or "any" per parameter
    variadic: str | None = None  # the kind of any further arguments


_S, _I, _A = "str", "int", "any"
_FUNCS: dict[str, _Func] = {
    "b64dec": _Func(_b64dec, (_S,)),
    "b64enc": _Func(lambda s: _unraw(base64.b64encode(_raw(s))), (_S,)),
    "cat": _Func(_cat, (), _A),
    "default": _Func(_default, (_A,), _A),
    "index": _Func(_index, (_A,), _A),
    "indent": _Func(_indent, (_I, _S)),
    "join": _Func(_join, (_S, _A)),
    "list": _Func(lambda *v: list(v), (), _A),
    "lower": _Func(lambda s: _case(s, upper=False), (_S,)),
    "nindent": _Func(lambda n, s: "\n" + _indent(n, s), (_I, _S)),
    "nospace": _Func(_nospace, (_S,)),
    "print": _Func(_sprint, (), _A),
    "printf": _Func(_sprintf, (_S,), _A),
    "println": _Func(_sprintln, (), _A),
    "quote": _Func(_quote, (), _A),
    "replace": _Func(lambda old, new, src: src.replace(old, new), (_S, _S, _S)),
    "squote": _Func(_squote, (), _A),
    "toJson": _Func(lambda v: _json(v, escape_html=True, indent=""), (_A,)),
    "toPrettyJson": _Func(lambda v: _json(v, escape_html=True, indent="  "), (_A,)),
    "toRawJson": _Func(lambda v: _json(v, escape_html=False, indent=""), (_A,)),
    "trim": _Func(_trim, (_S,)),
    "trimPrefix": _Func(lambda p, s: s.removeprefix(p), (_S, _S)),
    "trimSuffix": _Func(lambda x, s: s.removesuffix(x), (_S, _S)),
    "trunc": _Func(_trunc, (_I, _S)),
    "upper": _Func(lambda s: _case(s, upper=True), (_S,)),
}
SUPPORTED: tuple[str, ...] = tuple(sorted(_FUNCS))
_SUPPORTED_TEXT = ", ".join(SUPPORTED)


def _unsupported_function(name: str) -> TemplateError:
    return TemplateError(
        f'function "{name}" is not supported by kseal; supported: {_SUPPORTED_TEXT}'
    )


def _check_arg(name: str, position: int, kind: str, value: object) -> None:
    if kind == _A:
        return
    if kind == _S and isinstance(value, str):
        return
    if kind == _I and isinstance(value, int) and not isinstance(value, bool):
        return
    got = "a missing value" if value is None else _type_name(value)
    want = "string" if kind == _S else "int"
    raise TemplateError(
        f'function "{name}": argument {position} has the wrong type (expected {want}, got {got})'
    )


def _call(name: str, args: Sequence[object]) -> object:
    func = _FUNCS[name]
    fixed = len(func.params)
    if len(args) < fixed or (func.variadic is None and len(args) != fixed):
        want = f"at least {fixed}" if func.variadic else str(fixed)
        raise TemplateError(
            f'function "{name}": wrong number of arguments (want {want}, got {len(args)})'
        )
    for position, value in enumerate(args, 1):
        kind = func.params[position - 1] if position <= fixed else func.variadic
        _check_arg(name, position, kind or _A, value)
    return func.call(*args)


# --- lexing and parsing -----------------------------------------------------------------------


@dataclass(frozen=True)
class _Field:
    name: str


@dataclass(frozen=True)
class _Dot:
    pass


@dataclass(frozen=True)
class _Literal:
    value: object


@dataclass(frozen=True)
class _Function:
    name: str


@dataclass(frozen=True)
class _Pipeline:
    commands: tuple[tuple[Any, ...], ...]  # each command: operands, the first one executed


@dataclass(frozen=True)
class _Token:
    kind: str  # "|", "(", ")" or "operand"
    node: Any = None


class _Lexer:
    """Splits a template into text and actions, and actions into tokens."""

    def __init__(self, source: str) -> None:
        self.src = source
        self.pos = 0

    def line(self, pos: int | None = None) -> int:
        return self.src.count("\n", 0, self.pos if pos is None else pos) + 1

    def fail(self, what: str) -> TemplateError:
        return TemplateError(f"{what} (line {self.line()})")

    def parts(self) -> list[str | list[_Token]]:
        """Text and the token lists of actions, whitespace trimmed where ``{{-``/``-}}`` ask."""
        out: list[str | list[_Token]] = []
        trim_next = False
        while True:
            start = self.src.find("{{", self.pos)
            text = self.src[self.pos : len(self.src) if start < 0 else start]
            if trim_next:
                text = text.lstrip(_SPACE)
            if start < 0:
                out.append(text)
                return out
            self.pos = start + 2
            if self.src.startswith("-", self.pos) and self.src[
                self.pos + 1 : self.pos + 2
            ] in tuple(_SPACE):
                text = text.rstrip(_SPACE)
                self.pos += 2
            out.append(text)
            if self.src.startswith("/*", self.pos):
                trim_next = self._comment()
                continue
            tokens, trim_next = self._action()
            out.append(tokens)

    def _comment(self) -> bool:
        end = self.src.find("*/", self.pos + 2)
        if end < 0:
            raise self.fail("unclosed comment")
        self.pos = end + 2
        trim = self._at_right_delim()
        if trim is None:
            raise self.fail("comment ends before closing delimiter")
        return trim

    def _at_right_delim(self) -> bool | None:
        """At ``}}`` or `` -}}``: move past it and tell whether it trims; else None."""
        if self.src.startswith("}}", self.pos):
            self.pos += 2
            return False
        if self.src[self.pos : self.pos + 1] in tuple(_SPACE) and self.src.startswith(
            "-}}", self.pos + 1
        ):
            self.pos += 4
            return True
        return None

    def _action(self) -> tuple[list[_Token], bool]:
        tokens: list[_Token] = []
        while True:
            trim = self._at_right_delim()
            if trim is not None:
                return tokens, trim
            if self.pos >= len(self.src):
                raise self.fail("unclosed action")
            char = self.src[self.pos]
            if char in _SPACE:
                self.pos += 1
            elif char in "|()":
                tokens.append(_Token(char))
                self.pos += 1
            else:
                tokens.append(_Token("operand", self._operand(char)))
                if self.src.startswith(".", self.pos) and char != '"' and char != "`":
                    raise self.fail("chained field access (.a.b) is not supported by kseal")

    def _operand(self, char: str) -> object:
        if char == '"':
            return _Literal(self._quoted())
        if char == "`":
            end = self.src.find("`", self.pos + 1)
            if end < 0:
                raise self.fail("unterminated raw quoted string")
            value, self.pos = self.src[self.pos + 1 : end], end + 1
            return _Literal(value)
        if char == ".":
            field = _FIELD.match(self.src, self.pos)
            if field:
                self.pos = field.end()
                return _Field(field.group(1))
            if self.src[self.pos + 1 : self.pos + 2].isdigit():
                raise self.fail("only decimal integer literals are supported by kseal")
            self.pos += 1
            return _Dot()
        if char in "+-" or char.isdigit():
            return _Literal(self._number())
        ident = _IDENT.match(self.src, self.pos)
        if ident:
            self.pos = ident.end()
            return _identifier(ident.group(), self)
        raise self.fail(_bad_char(char))

    def _number(self) -> int:
        match = _NUMBER.match(self.src, self.pos)
        if not match or not re.fullmatch(r"[+-]?(0|[1-9]\d*)", match.group()):
            raise self.fail("only decimal integer literals are supported by kseal")
        value = int(match.group())
        if not -(2**63) <= value < 2**63:
            raise self.fail("integer literal out of range")
        self.pos = match.end()
        return value

    def _quoted(self) -> str:
        end = self.pos + 1
        while True:
            if end >= len(self.src) or self.src[end] == "\n":
                raise self.fail("unterminated quoted string")
            if self.src[end] == "\\":
                end += 2
                continue
            if self.src[end] == '"':
                break
            end += 1
        body, self.pos = self.src[self.pos + 1 : end], end + 1
        return _unquote(body, self)


def _bad_char(char: str) -> str:
    if char == "$":
        return "variables ($) are not supported by kseal"
    if char in ":=":
        return "variable assignment is not supported by kseal"
    if char == "'":
        return "character constants are not supported by kseal"
    return "unexpected character in an action"


def _identifier(name: str, lexer: _Lexer) -> object:
    if name in ("true", "false"):
        return _Literal(name == "true")
    if name in _KEYWORDS:
        return _unsupported_action(name, lexer)
    if name == "nil":
        raise lexer.fail("nil is not supported by kseal")
    if name not in _FUNCS:
        raise _unsupported_function(name[:64])
    return _Function(name)


def _unsupported_action(name: str, lexer: _Lexer) -> NoReturn:
    raise lexer.fail(
        f'"{name}" actions are not supported by kseal; supported: references (.key, '
        'index . "key"), pipelines and functions'
    )


_ESCAPES = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v",
            "\\": "\\", '"': '"'}  # fmt: skip
_ESCAPE = re.compile(
    r"\\(?:([abfnrtv\\\"])|x([0-9A-Fa-f]{2})|([0-7]{3})|u([0-9A-Fa-f]{4})|U([0-9A-Fa-f]{8}))"
)


def _unquote(body: str, lexer: _Lexer) -> str:
    """A Go double-quoted string's body (strconv.Unquote); \\x and octal escapes are bytes."""
    out = bytearray()
    pos = 0
    while pos < len(body):
        if body[pos] != "\\":
            nxt = body.find("\\", pos)
            nxt = len(body) if nxt < 0 else nxt
            out += _raw(body[pos:nxt])
            pos = nxt
            continue
        match = _ESCAPE.match(body, pos)
        if not match:
            raise lexer.fail("invalid escape sequence in a quoted string")
        simple, hex2, octal, u4, u8 = match.groups()
        if simple:
            out += _ESCAPES[simple].encode()
        elif hex2 or octal:
            value = int(hex2, 16) if hex2 else int(octal, 8)
            if value > 0xFF:
                raise lexer.fail("invalid escape sequence in a quoted string")
            out.append(value)
        else:
            code = int(u4 or u8, 16)
            if code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
                raise lexer.fail("invalid escape sequence in a quoted string")
            out += chr(code).encode()
        pos = match.end()
    return _unraw(bytes(out))


class _Parser:
    def __init__(self, tokens: list[_Token], lexer: _Lexer) -> None:
        self.tokens = tokens
        self.lexer = lexer
        self.pos = 0

    def pipeline(self, depth: int = 0) -> _Pipeline:
        if depth > _MAX_DEPTH:
            raise TemplateError(f"parentheses nested deeper than {_MAX_DEPTH}")
        commands = [self._command(depth)]
        while self.pos < len(self.tokens) and self.tokens[self.pos].kind == "|":
            self.pos += 1
            command = self._command(depth)
            if not isinstance(command[0], _Function | _Field):  # as Go's parser checks
                raise TemplateError(f"non executable command in pipeline stage {len(commands) + 1}")
            commands.append(command)
        return _Pipeline(tuple(commands))

    def _command(self, depth: int) -> tuple[Any, ...]:
        operands: list[Any] = []
        while self.pos < len(self.tokens) and self.tokens[self.pos].kind not in ("|", ")"):
            token = self.tokens[self.pos]
            self.pos += 1
            if token.kind == "(":
                operands.append(self.pipeline(depth + 1))
                if self.pos >= len(self.tokens) or self.tokens[self.pos].kind != ")":
                    raise TemplateError("unclosed left paren")
                self.pos += 1
            else:
                operands.append(token.node)
        if not operands:
            raise TemplateError("missing value for command")
        return tuple(operands)

    def top(self) -> _Pipeline:
        if not self.tokens:
            raise TemplateError("missing value for command")
        pipe = self.pipeline()
        if self.pos < len(self.tokens):
            raise TemplateError("unexpected right paren")
        return pipe


def parse(source: str) -> list[str | _Pipeline]:
    """The template as text pieces and pipelines (TemplateError on anything unsupported)."""
    lexer = _Lexer(source)
    out: list[str | _Pipeline] = []
    for part in lexer.parts():
        if isinstance(part, str):
            if part:
                out.append(part)
        else:
            out.append(_Parser(part, lexer).top())
    return out


# --- execution --------------------------------------------------------------------------------


def _eval_pipeline(pipe: _Pipeline, root: dict[str, str]) -> object:
    value: object = _NO_FINAL
    for command in pipe.commands:
        value = _eval_command(command, root, value)
    return value


_NO_FINAL = object()


def _eval_command(command: tuple[Any, ...], root: dict[str, str], final: object) -> object:
    head, rest = command[0], command[1:]
    if isinstance(head, _Function):
        args = [_eval_arg(a, root) for a in rest]
        if final is not _NO_FINAL:
            args.append(final)
        return _call(head.name, args)
    if rest or final is not _NO_FINAL:
        raise TemplateError("only a function can take arguments")
    return _eval_arg(head, root)


def _eval_arg(node: object, root: dict[str, str]) -> object:
    if isinstance(node, _Field):
        return root.get(node.name)
    if isinstance(node, _Dot):
        return root
    if isinstance(node, _Literal):
        return node.value
    if isinstance(node, _Function):
        return _call(node.name, [])
    if not isinstance(node, _Pipeline):
        raise TypeError(type(node).__name__)
    return _eval_pipeline(node, root)


def render(source: str, values: Mapping[str, str]) -> str:
    """``source`` executed over ``values`` as Go's text/template + sprig would."""
    root = dict(values)
    try:
        return "".join(
            part if isinstance(part, str) else _printed(_eval_pipeline(part, root))
            for part in parse(source)
        )
    except RecursionError:
        raise TemplateError("template nested too deeply") from None
