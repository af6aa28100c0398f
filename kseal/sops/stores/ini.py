"""The INI store, following sops's use of go-ini (gopkg.in/ini.v1 1.67, non-unique sections).

The tree is ``section -> key -> string``; keys before the first header form ``DEFAULT``, always
the first section. A repeated header starts another section of that name; a repeated key keeps its
first place and takes the last value. Reading follows go-ini: lines are left-trimmed; ``#``/``;``
lines are comments; ``key = value`` or ``key: value``; a value opening with three double quotes or
a backquote runs to the last such quote (across lines if needed); otherwise the first ``#``/``;``
starts an inline comment, a trailing backslash continues the value, and one pair of surrounding
quotes goes. Comments above a header are the section's comment (its first tree item); comments
above a key and its inline comment are the key's comment (the item after the key). Comments after
the file's last key are dropped, as in sops. Writing is go-ini's pretty format: ``=`` aligned per
section by byte length, values quoted where needed, a blank line between sections, no header for
a leading ``DEFAULT``, and the metadata flattened into a last ``[sops]`` section, sorted by key.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from kseal.errors import EmitError, InputError
from kseal.sops.stores.base import Loaded
from kseal.sops.stores.flatten import GO_SPACE, flatten, go_trim, unflatten, val_to_string
from kseal.sops.stores.json_store import scalar
from kseal.sops.tree import Branch, Comment, Value

DEFAULT = "DEFAULT"
META = "sops"
_SURROGATE = re.compile("[\udc80-\udcff]")  # undecodable bytes, after surrogateescape
_OTHER_FORMAT = "choose another output format with --output-type (yaml or json)"


@dataclass
class _Key:
    value: str
    comment: str = ""


@dataclass
class _Section:
    name: str
    comment: str = ""
    keys: dict[str, _Key] = field(default_factory=dict)


def _strip_comment(comment: str) -> str:
    """sops's stripCommentChar: drop the leading run of ``;``/``#`` and spaces."""
    if comment.startswith(";"):
        return comment.lstrip("; ")
    if comment.startswith("#"):
        return comment.lstrip("# ")
    return comment


def _index_any(text: str, chars: str) -> int:
    """Go ``strings.IndexAny`` for two ASCII ``chars``."""
    first, second = text.find(chars[0]), text.find(chars[1])
    return second if first < 0 else first if second < 0 else min(first, second)


def _surrounded(text: str, quote: str) -> bool:
    return len(text) >= 2 and text[0] == quote == text[-1] and text.find(quote, 1) == len(text) - 1


class _Parser:
    def __init__(self, text: str) -> None:
        self.lines = text.split("\n")  # each but the last had a "\n", which go-ini keeps
        self.pos = 0
        self.comment = ""

    def next_line(self) -> str | None:
        self.pos += 1
        if self.pos >= len(self.lines):
            return self.lines[-1] or None if self.pos == len(self.lines) else None
        return self.lines[self.pos - 1] + "\n"

    def error(self, what: str, number: int | None = None) -> InputError:
        return InputError(f"invalid INI input: line {number or self.pos} {what}")

    def parse(self) -> list[_Section]:
        sections = [_Section(DEFAULT)]
        count = 1
        while (raw := self.next_line()) is not None:
            line = raw.lstrip(GO_SPACE)
            if not line:
                continue
            if line[0] in "#;":
                self.comment += line
                continue
            if line[0] == "[":
                close = line.rfind("]")
                if close < 0:
                    raise self.error("has an unclosed section header")
                if close == 1:
                    raise self.error("has an empty section name")
                cut = _index_any(line[close + 1 :], "#;")
                if cut >= 0:
                    self.comment += line[close + 1 + cut :]
                sections.append(_Section(line[1:close], go_trim(self.comment)))
                self.comment, count = "", 1
                continue
            name, offset = self.key_name(line)
            if name == "-":
                name, count = f"#{count}", count + 1
            value = self.value(line[offset:])
            keys = sections[-1].keys
            key = keys.setdefault(name, _Key(value))
            key.value, key.comment, self.comment = value, go_trim(self.comment), ""
        return sections

    def key_name(self, line: str) -> tuple[str, int]:
        """go-ini's readKeyName: the key (maybe quoted) and where its value starts."""
        quote = ""
        if line[0] == '"':
            quote = '"""' if len(line) > 6 and line.startswith('"""') else '"'
        elif line[0] == "`":
            quote = "`"
        end = line.find(quote, len(quote)) if quote else 0
        if end < 0:
            raise self.error("has a key with no closing quote")
        start = end + len(quote) if quote else 0
        delim = _index_any(line[start:], "=:")
        if delim < 0:
            raise self.error("is not 'key = value'")
        name = go_trim(line[len(quote) : end] if quote else line[:delim])
        if not name:
            raise self.error("has an empty key name")
        return name, start + delim + 1

    def value(self, raw: str) -> str:
        line = raw.lstrip(GO_SPACE)
        if not line:
            return ""
        quote = '"""' if len(line) > 3 and line.startswith('"""') else "`" if line[0] == "`" else ""
        if quote:
            end = line.rfind(quote, len(quote))
            if end >= 0:
                return line[len(quote) : end]
            return self.multiline(line[len(quote) :], quote)
        line = go_trim(line)
        if line.endswith("\\"):
            return self.continuation(line[:-1])
        cut = _index_any(line, "#;")
        if cut >= 0:
            self.comment += line[cut:]
            line = go_trim(line[:cut])
        if _surrounded(line, "'") or _surrounded(line, '"'):
            line = line[1:-1]
        return line

    def multiline(self, value: str, quote: str) -> str:
        start = self.pos
        while (raw := self.next_line()) is not None:
            end = raw.rfind(quote)
            if end >= 0:
                cut = _index_any(raw[end:], "#;")
                if cut >= 0:
                    self.comment += go_trim(raw[end + cut :])
                return value + raw[:end]
            value += raw
        raise self.error("opens a quoted value that is never closed", start)

    def continuation(self, value: str) -> str:
        while (raw := self.next_line()) is not None:
            line = go_trim(raw)
            if not line:
                break
            value += line
            if not value.endswith("\\"):
                break
            value = value[:-1]
        return value


def _text(text: str, what: str) -> str:
    """Parsed text (decoded with surrogateescape) that must be valid UTF-8."""
    if _SURROGATE.search(text):
        raise InputError(f"invalid INI input: a {what} is not valid UTF-8")
    return text


def _same(text: str, what: str) -> str:
    return text


def _tree_value(value: str) -> str | bytes:
    """A value whose bytes are not UTF-8 stays ``bytes``, as in a binary file."""
    return value.encode("utf-8", "surrogateescape") if _SURROGATE.search(value) else value


class IniStore:
    name = "ini"
    structured = True

    def load(self, data: bytes) -> Loaded:
        if data[:3] == b"\xef\xbb\xbf":
            data = data[3:]
        elif data[:2] in (b"\xfe\xff", b"\xff\xfe"):
            data = data[2:]  # go-ini drops a UTF-16 byte order mark (and reads on as bytes)
        try:
            text, check = data.decode("utf-8"), _same
        except UnicodeDecodeError:  # go-ini reads bytes: parse them, then check what must be text
            text, check = data.decode("utf-8", "surrogateescape"), _text
        sections = _Parser(text).parse()
        doc = Branch()
        metadata: dict[str, Any] | None = None
        for section in sections:
            if section.name == META:
                if metadata is None:  # sops reads the first [sops] section and drops them all
                    pairs = [
                        (check(k, "key"), check(v.value, "value")) for k, v in section.keys.items()
                    ]
                    metadata = unflatten([(k, v.replace("\\n", "\n")) for k, v in pairs])
                continue
            items = Branch()
            for name, key in [("", _Key("", section.comment)), *section.keys.items()]:
                if name:
                    value = key.value if check is _same else _tree_value(key.value)
                    items.append((check(name, "key"), value))
                if key.comment:
                    items.append((Comment(check(_strip_comment(key.comment), "comment")), None))
            doc.append((check(section.name, "section name"), items))
        return Loaded([doc], metadata)

    def emit(
        self,
        docs: list[Branch],
        metadata: dict[str, Any] | None,
        *,
        source: object | None = None,
        indent: int | None = None,
    ) -> bytes:
        sections = [s for doc in docs for s in _sections(doc)]
        if metadata is not None:
            flat = sorted(flatten(metadata))
            sections.append(_Section(META, keys={k: _Key(v.replace("\n", "\\n")) for k, v in flat}))
        return _write(sections).encode("utf-8", "surrogateescape")

    def emit_value(self, value: Value) -> bytes:
        """sops's ``--extract``: strings raw; a mapping of sections as INI; scalars as JSON."""
        if isinstance(value, str):
            return value.encode("utf-8", "surrogateescape")
        if isinstance(value, bytes):
            return value
        if isinstance(value, Branch):
            return self.emit([value], None)
        if isinstance(value, list):
            raise EmitError("the INI format cannot extract a list", hints=[_OTHER_FORMAT])
        return scalar(value).encode("utf-8")


def _sections(doc: Branch) -> list[_Section]:
    """go-ini sections from a tree the way sops's encodeTree builds them."""
    out: list[_Section] = []
    for name, body in doc:
        if isinstance(name, Comment):
            continue  # a comment outside any section has no place in INI (as in sops)
        if not isinstance(body, Branch):
            raise EmitError(
                f"INI needs sections, but {name!r} is not a mapping", hints=[_OTHER_FORMAT]
            )
        if not name:
            raise EmitError("INI sections need a name; the tree has an empty one")
        section = _Section(name)
        items = list(body)
        first = items[0][0] if items else None
        if isinstance(first, Comment):
            section.comment = first.text
            items.pop(0)
        last: _Key | None = None
        for key, value in items:
            if isinstance(key, Comment):
                if last is not None:
                    last.comment = key.text
                continue
            if isinstance(value, Branch | list):
                raise EmitError(
                    f"INI cannot hold the nested value of key {key!r} in section {name!r}",
                    hints=["use YAML or JSON for nested data"],
                )
            if not key:
                raise EmitError(f"INI keys need a name; section {name!r} has an empty one")
            text = val_to_string(value)
            last = section.keys.setdefault(key, _Key(text))
            last.value = text
        out.append(section)
    return out


def _comment_lines(comment: str, trim: bool) -> list[str]:
    """go-ini: ``; `` before a line unless it starts with ``#``/``;`` (key comments are trimmed)."""
    return [
        line[0] + " " + go_trim(line[1:])
        if line[:1] in ("#", ";")
        else "; " + (go_trim(line) if trim else line)
        for line in comment.split("\n")
    ]


def _quoted_key(name: str) -> str:
    if '"' in name or "=" in name or ":" in name:
        return f"`{name}`"
    return f'"""{name}"""' if "`" in name else name


def _quoted_value(value: str) -> str:
    if "\n" in value or "`" in value:
        return f'"""{value}"""'
    if "#" in value or ";" in value:
        return f"`{value}`"
    if go_trim(value) != value:
        return f'"{value}"'
    return value


def _width(text: str) -> int:
    return len(text.encode("utf-8", "surrogateescape"))


def _write(sections: list[_Section]) -> str:
    """go-ini's ``WriteTo`` in pretty format."""
    out: list[str] = []
    for i, section in enumerate(sections):
        if section.comment:
            out.extend(line + "\n" for line in _comment_lines(section.comment, trim=False))
        if i > 0 or section.name.upper() != DEFAULT:
            out.append(f"[{section.name}]\n")
        elif not section.keys:
            continue
        names = {name: _quoted_key(name) for name in section.keys}
        align = max((_width(q) for q in names.values()), default=0)
        for name, key in section.keys.items():
            if key.comment:
                out.extend(line + "\n" for line in _comment_lines(key.comment, trim=True))
            quoted = names[name]
            pad = " " * (align - _width(quoted))
            out.append(f"{quoted}{pad} = {_quoted_value(key.value)}\n")
        if i < len(sections) - 1:
            out.append("\n")
    return "".join(out)
