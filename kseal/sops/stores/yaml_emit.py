"""Writing YAML: a full sops-style emit, and the scalar text of in-place edits
(:mod:`kseal.sops.stores.yaml_inplace` edits the original text when it can).

Full emit (new trees, aliases, conversions from other formats): block style, ``indent`` spaces per
level (sops's default 4), sequences indented under their key, comments as ``#`` lines.
"""

from __future__ import annotations

from typing import Any, cast

from kseal.sops.stores.yaml_parse import Span
from kseal.sops.stores.yaml_scalar import (
    double_quoted,
    format_scalar,
    literal,
    literal_ok,
    plain_ok,
)
from kseal.sops.tree import Branch, Comment, Scalar, Value


def _value_text(span: Span, value: Scalar, text: str) -> str:
    if isinstance(value, Comment):
        return value.text
    if isinstance(value, str) and not span.flow and literal_ok(value):
        eol = text.find("\n", span.end)
        rest = text[span.end : eol if eol >= 0 else len(text)]
        if not rest.strip() or span.block:
            out = literal(value, " " * (span.parent_col + 2))
        else:
            out = double_quoted(value)
    else:
        out = format_scalar(value, flow=span.flow)
    if span.anchor:
        out = f"&{span.anchor} {out}"
    if span.block:
        seg = text[span.start : span.end]
        tail = seg[len(seg.rstrip()) :]
        nl = tail.find("\n")
        out += tail[nl:] if nl >= 0 else ""
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


def emit_docs(docs: list[Branch], metadata: dict[str, Any] | None, indent: int = 4) -> str:
    parts = []
    for doc in docs:
        lines: list[str] = []
        _emit_map(doc, 0, indent, lines)
        body = "\n".join(lines) + "\n" if lines else ""
        if not lines and metadata is None:
            body = "{}\n"
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
            _emit_map(item, col + 2, indent, sub, meta, child_col=col + indent)
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
        return "\n".join(lines) + "\n"
    if isinstance(value, list):
        lines = []
        _emit_seq(cast("list[Value]", value), 0, indent, lines, False)
        return "\n".join(lines) + "\n"
    return format_scalar(value) + "\n"
