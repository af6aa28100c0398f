"""The INI store, modelled on sops's use of go-ini.

The tree is ``section -> key -> string``; keys before the first header belong to ``DEFAULT``,
written without a header. Comments are kept and encrypted like sops: consecutive comment lines
(and an inline ``; comment``) form one comment. A comment above a section header is the section's
comment, the first item of the section; a comment above a key follows that key in the tree. Output
is go-ini's pretty format: ``=`` aligned per section, a blank line between sections, and metadata
flattened into a last ``[sops]`` section.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from kseal.errors import EmitError, InputError
from kseal.sops.stores import Loaded, scalar_text
from kseal.sops.stores.flatten import flatten, unflatten
from kseal.sops.stores.json_store import decode_text
from kseal.sops.tree import Branch, Comment, Value

DEFAULT = "DEFAULT"


def _strip_comment(comment: str) -> str:
    """sops's stripCommentChar: drop the leading ``;``/``#`` run (and spaces) of the first line."""
    if comment.startswith(";"):
        return comment.lstrip("; ")
    if comment.startswith("#"):
        return comment.lstrip("# ")
    return comment


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'`":
        return value[1:-1]
    return value


def _split_inline(value: str) -> tuple[str, str | None]:
    """go-ini: in an unquoted value, everything from the first ``#`` or ``;`` is a comment."""
    if value[:1] in "\"'`":
        return value, None
    cut = min((i for i in (value.find("#"), value.find(";")) if i >= 0), default=-1)
    if cut < 0:
        return value, None
    return value[:cut].rstrip(), value[cut:]


class IniStore:
    name = "ini"

    def load(self, data: bytes) -> Loaded:
        lines = decode_text(data, "INI").replace("\r\n", "\n").split("\n")
        doc = Branch([(DEFAULT, Branch())])
        section: Branch = Branch()
        doc[0] = (DEFAULT, section)
        meta: list[tuple[str, str]] = []
        pending: list[str] = []
        in_meta = False
        i = 0
        while i < len(lines):
            number = i + 1
            line = lines[i].strip()
            i += 1
            if not line:
                continue
            if line[0] in ";#":
                pending.append(line)
                continue
            if line.startswith("["):
                if not line.endswith("]"):
                    raise InputError(
                        f"invalid INI input: line {number} has an unclosed section header"
                    )
                name = line[1:-1].strip()
                in_meta = name == "sops"
                section = Branch()
                if pending and not in_meta:
                    section.append((Comment(_strip_comment("\n".join(pending))), None))
                pending = []
                if not in_meta:
                    doc.append((name, section))
                continue
            key, sep, value = _partition(line)
            if not sep:
                raise InputError(f"invalid INI input: line {number} is not 'key = value'")
            value = value.strip()
            if value.startswith('"""'):
                parts = [value[3:]]
                while not parts[-1].endswith('"""'):
                    if i >= len(lines):
                        raise InputError(
                            f"invalid INI input: unterminated triple quote from line {number}"
                        )
                    parts.append(lines[i])
                    i += 1
                value = "\n".join(parts)[:-3]
            else:
                value, inline = _split_inline(value)
                if inline is not None:
                    pending.append(inline)
                value = _unquote(value)
            if in_meta:
                meta.append((key.strip(), value.replace("\\n", "\n")))
                pending = []
                continue
            section.append((_unquote(key.strip()), value))
            if pending:
                section.append((Comment(_strip_comment("\n".join(pending))), None))
            pending = []
        self._trailing(section, pending)
        return Loaded([doc], unflatten(meta) if meta else None)

    @staticmethod
    def _trailing(section: Branch, pending: list[str]) -> None:
        """Comments after a section's last key: go-ini drops them; kseal keeps them with that key."""
        if pending and section and not isinstance(section[-1][0], Comment):
            section.append((Comment(_strip_comment("\n".join(pending))), None))
            pending.clear()

    def emit(
        self,
        docs: list[Branch],
        metadata: dict[str, Any] | None,
        *,
        source: object | None = None,
        indent: int | None = None,
    ) -> bytes:
        blocks: list[list[str]] = []
        doc = docs[0] if docs else Branch()
        for name, body in doc:
            if isinstance(name, Comment):
                continue  # top-level comments have no place in INI (as in sops)
            if not isinstance(body, Branch):
                raise EmitError(f"INI needs sections of key = value; {name!r} is not a section")
            items = list(body)
            head: list[str] = []
            first = items[0][0] if items else None
            if isinstance(first, Comment):
                items.pop(0)
                head.append(_comment(first.text))
            if name != DEFAULT:
                head.append(f"[{name}]")
            keys: list[tuple[str, str, str | None]] = []
            for key, value in items:
                if isinstance(key, Comment):
                    if keys:
                        k, v, c = keys[-1]
                        keys[-1] = (k, v, key.text if c is None else c + "\n" + key.text)
                    continue
                keys.append((key, _value(value, key), None))
            if name == DEFAULT and not keys:
                continue
            blocks.append(head + _keys(keys))
        if metadata is not None:
            flat = [(k, v.replace("\n", "\\n"), None) for k, v in flatten(metadata)]
            blocks.append(["[sops]", *_keys(flat)])
        return ("\n\n".join("\n".join(b) for b in blocks if b) + "\n").encode("utf-8")

    def emit_value(self, value: Value) -> bytes:
        if isinstance(value, Branch):
            return self.emit([Branch([("section", value)])], None)
        return _value(value, "value").encode("utf-8")


def _partition(line: str) -> tuple[str, str, str]:
    eq, colon = line.find("="), line.find(":")
    cut = min(p for p in (eq, colon) if p >= 0) if max(eq, colon) >= 0 else -1
    if cut <= 0:
        return line, "", ""
    return line[:cut], line[cut], line[cut + 1 :]


def _comment(text: str) -> str:
    """go-ini's comment lines: ``; `` before each line unless it already starts with ``;``/``#``."""
    out = []
    for line in text.split("\n"):
        if line[:1] in (";", "#"):
            out.append(line[:1] + " " + line[1:].strip())
        else:
            out.append("; " + line)
    return "\n".join(out)


def _keys(keys: Sequence[tuple[str, str, str | None]]) -> list[str]:
    width = max((len(k) for k, _, _ in keys), default=0)
    out: list[str] = []
    for key, value, comment in keys:
        if comment is not None:
            out.append(_comment(comment))
        out.append(f"{key.ljust(width)} = {value}")
    return out


def _value(value: Value, key: object) -> str:
    text = "" if isinstance(value, Comment) else scalar_text(value, key)
    # go-ini's quoting when writing a value.
    if "\n" in text or "`" in text:
        return f'"""{text}"""'
    if "#" in text or ";" in text:
        return f"`{text}`"
    if text.strip() != text:
        return f'"{text}"'
    return text
