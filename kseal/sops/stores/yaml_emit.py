"""Writing YAML: a full sops-style emit, and the scalar text of in-place edits
(:mod:`kseal.sops.stores.yaml_inplace` edits the original text when it can).

Full emit (new trees, aliases, conversions from other formats): block style, ``indent`` spaces per
level (sops's default 4), sequences indented under their key, comments as ``#`` lines.
"""

from __future__ import annotations

import re
from typing import Any, cast

from kseal.sops.stores.yaml_parse import Span
from kseal.sops.stores.yaml_scalar import (
    chomping,
    double_quoted,
    folded,
    folded_ok,
    format_scalar,
    literal,
    literal_ok,
    plain_ok,
)
from kseal.sops.tree import Branch, Comment, Scalar, Value

_BLOCK_HEADER = re.compile(r"(?:[&!]\S*[ \t]+)*([|>])[1-9]?([+]?)")
_BLANK_LINES = re.compile(r"(?:[ \t]*\n)*")


def _source_block(span: Span, text: str) -> tuple[str, int]:
    """For a block scalar in the source: its style (``|`` or ``>``) and its content's column
    (-1 when it has no content line)."""
    seg = text[span.start : span.end]
    m = _BLOCK_HEADER.match(seg)
    style = m.group(1) if m else "|"
    for line in seg.split("\n")[1:]:
        if line.strip():
            return style, len(line) - len(line.lstrip(" "))
    return style, -1


def _kept_tail(span: Span, text: str) -> str:
    """What stays of a source block scalar's end when its value is rewritten: the line break
    after its last line and the empty lines after it, unless those belong to its value (``|+``)."""
    seg = text[span.start : span.end]
    tail = seg[len(seg.rstrip()) :]
    if "\n" not in tail:
        return ""
    m = _BLOCK_HEADER.match(seg)
    return "\n" if m and m.group(2) else tail[tail.find("\n") :]


def _new_block_col(span: Span, step: int) -> int:
    """Where yaml.v3 puts a block scalar's content: a sequence item's 2 past the dash; a mapping
    value's one step past its mapping's indentation (the dash, for a mapping in a sequence item),
    always deeper than the key."""
    if span.item:
        return span.parent_col + 2
    col = (span.seq_col if span.seq_col >= 0 else span.parent_col) + step
    return col if col > span.parent_col else span.parent_col + step


def _block_text(span: Span, value: str, text: str, step: int) -> str | None:
    """``value`` as a block scalar for ``span``, or None when it is better written on one line.

    A source block keeps its style and indentation: a ``>`` block stays folded (a one-line
    value, such as the ``ENC[...]`` that replaces it, too, so that decrypting gives ``>`` back).
    Otherwise a value of several lines becomes a ``|`` block with the file's indentation step.
    """
    style, col = _source_block(span, text) if span.block else ("", -1)
    if col <= span.parent_col:
        col = _new_block_col(span, step)
    # what follows the value, as the block's kept tail and a position in ``text`` (slicing the
    # rest of the text for every value would make a rewrite quadratic)
    tail = _kept_tail(span, text) if span.block else ""
    if not span.block:
        nl = text.find("\n", span.end)
        if text[span.end : nl if nl >= 0 else len(text)].strip():
            return None  # something (a comment) follows on the line: stay on one line
    write = folded if style == ">" and folded_ok(value) else literal if literal_ok(value) else None
    if write is None:
        return None
    chomp = chomping(value)
    if chomp == "+":
        # Keep chomping also takes the empty lines that follow the block: they must be some of
        # the value's extra line breaks, and the block then writes only the rest.
        following = tail + text[span.end :]
        blank = _BLANK_LINES.match(following, 1)[0]  # type: ignore[index]
        absorbed = blank.count("\n")
        if (
            absorbed > len(value) - len(value.rstrip("\n")) - 1
            or max(map(len, blank.split("\n"))) > col
        ):
            return None
        value = value[: len(value) - absorbed]
    out = write(value, " " * col, chomp)
    if not tail and span.end >= len(text) and value.endswith("\n"):
        out += "\n"  # the block's last line break is part of the value
    return out


def _value_text(span: Span, value: Scalar, text: str, step: int) -> str:
    if isinstance(value, Comment):
        return value.text
    out = None
    if isinstance(value, str) and not span.flow and (span.block or "\n" in value):
        out = _block_text(span, value, text, step)  # (a one-line value only stays a block)
    if out is None:
        out = format_scalar(value, flow=span.flow)
    if span.anchor:
        out = f"&{span.anchor} {out}"
    if span.block:
        out += _kept_tail(span, text)
    return out


# ---- full emit --------------------------------------------------------------------------------


def emit_metadata(metadata: dict[str, Any] | None, indent: int = 4) -> str:
    if metadata is None:
        return ""
    lines: list[str] = ["sops:"]
    _emit_map(Branch(_to_branch(metadata)), indent, indent, lines, meta=True)
    return "\n".join(lines) + "\n"


def _to_branch(value: Any) -> Any:
    if isinstance(value, dict):
        return Branch((k, _to_branch(v)) for k, v in value.items())
    if isinstance(value, list):
        return [_to_branch(v) for v in value]
    return value


def _has_keys(branch: Branch) -> bool:
    return any(isinstance(k, str) for k, _ in branch)


def emit_docs(docs: list[Branch], metadata: dict[str, Any] | None, indent: int = 4) -> str:
    parts = []
    for doc in docs:
        lines: list[str] = []
        _emit_map(doc, 0, indent, lines)
        if metadata is None and not _has_keys(doc):
            lines.append("{}")  # sops writes an empty document as an empty flow mapping
        body = "\n".join(lines) + "\n" if lines else ""
        parts.append(body + emit_metadata(metadata, indent))
    return "---\n".join(parts)


def _key(k: str) -> str:
    return k if plain_ok(k) else double_quoted(k)


def _scalar_after(value: Scalar, col: int, meta: bool) -> str:
    """`` value`` to follow ``key:`` or ``-`` (with its leading space), literal blocks included."""
    if isinstance(value, str) and literal_ok(value):
        return " " + literal(value, " " * col)
    return " " + format_scalar(value)


def _emit_map(
    branch: Branch,
    col: int,
    indent: int,
    lines: list[str],
    meta: bool = False,
    child_col: int | None = None,
) -> None:
    """Keys at ``col``; nested content at ``child_col`` (yaml.v3 indents the content of a
    mapping inside a ``- `` item from the dash, not from the keys)."""
    pad = " " * col
    inner = col + indent if child_col is None else child_col
    for k, v in branch:
        if isinstance(k, Comment):
            lines.append(f"{pad}#{k.text}")
            continue
        _emit_child(f"{pad}{_key(k)}:", v, inner, indent, lines, meta)


def _emit_child(head: str, v: Value, inner: int, indent: int, lines: list[str], meta: bool) -> None:
    if isinstance(v, Branch):
        if not v:
            lines.append(head + " {}")
            return
        lines.append(head)
        _emit_map(v, inner, indent, lines, meta)
    elif isinstance(v, list):
        if not v:
            lines.append(head + " []")
            return
        lines.append(head)
        _emit_seq(cast("list[Value]", v), inner, indent, lines, meta)
    else:
        lines.append(head + _scalar_after(v, inner, meta))


def _emit_seq(seq: list[Value], col: int, indent: int, lines: list[str], meta: bool) -> None:
    pad = " " * col
    for item in seq:
        if isinstance(item, Comment):
            lines.append(f"{pad}#{item.text}")
        elif isinstance(item, Branch):
            if not item:
                lines.append(f"{pad}- {{}}")
                continue
            sub: list[str] = []
            # yaml.v3 nests a ``- `` item's mapping content at the dash plus the indent, but
            # never at the keys' own column (with indent 2 that is the dash plus 4)
            _emit_map(item, col + 2, indent, sub, meta, child_col=col + max(indent, 4))
            if isinstance(item[0][0], Comment):
                lines.append(f"{pad}-")
                lines.extend(sub)
            else:
                lines.append(f"{pad}- " + sub[0][col + 2 :])
                lines.extend(sub[1:])
        elif isinstance(item, list):
            if not item:
                lines.append(f"{pad}- []")
                continue
            lines.append(f"{pad}-")
            _emit_seq(cast("list[Value]", item), col + indent, indent, lines, meta)
        else:
            lines.append(f"{pad}-" + _scalar_after(item, col + 2, meta))


def emit_value(value: Value, indent: int = 4) -> str:
    """``--extract`` output: a subtree as YAML (scalars as their YAML spelling)."""
    if isinstance(value, Branch):
        lines: list[str] = []
        _emit_map(value, 0, indent, lines)
        if not _has_keys(value):
            lines.append("{}")
        return "\n".join(lines) + "\n"
    if isinstance(value, list):
        lines = []
        _emit_seq(cast("list[Value]", value), 0, indent, lines, False)
        if all(isinstance(v, Comment) for v in value):
            lines.append("[]")
        return "\n".join(lines) + "\n"
    return format_scalar(value) + "\n"
