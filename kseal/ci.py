"""CI ergonomics for ``kseal bootstrap``: which CI runs us, what to mask, the summary tables.

Pure: the environment comes in as a mapping, the results go out as strings; the caller prints
them. GitHub Actions hides a value from its logs after an ``::add-mask::`` workflow command
(one per line of a multi-line value); GitLab CI has no runtime masking, so nothing is emitted
there and the values must stay out of the logs (kseal never prints them) while the age key
lives in a masked, protected CI/CD variable.

The summaries are built from :class:`Row`, which holds key *names* only: no value can reach a
summary by construction. Names are still escaped, so an odd one cannot forge table rows,
Markdown, HTML or a workflow command.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

__all__ = ["Ci", "Row", "detect", "mask_lines", "summary_markdown", "summary_text"]

GITHUB = "github"
GITLAB = "gitlab"

# characters a Markdown (GFM) table cell shows literally only when backslash-escaped
_MARKDOWN_SPECIAL = frozenset("\\`*_{}[]()#+-.!|~")
_HTML = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
_HEADERS = ("KIND", "NAMESPACE", "NAME", "KEYS", "RESULT")


@dataclass(frozen=True)
class Ci:
    """The CI system kseal runs under."""

    name: str  # GITHUB | GITLAB
    summary_path: str | None  # $GITHUB_STEP_SUMMARY, where the Markdown summary is appended


@dataclass(frozen=True)
class Row:
    """One applied (or planned) object: its identity, its key names, what happened to it."""

    kind: str
    namespace: str
    name: str
    keys: tuple[str, ...]
    result: str  # created, updated, unchanged, would create, would update, would leave unchanged


def detect(env: Mapping[str, str]) -> Ci | None:
    """GitHub Actions (``GITHUB_ACTIONS=true``), GitLab CI (``GITLAB_CI=true``), or neither."""
    if env.get("GITHUB_ACTIONS") == "true":
        return Ci(GITHUB, env.get("GITHUB_STEP_SUMMARY") or None)
    if env.get("GITLAB_CI") == "true":
        return Ci(GITLAB, None)
    return None


def mask_lines(ci: Ci | None, values: Iterable[bytes]) -> list[str]:
    """The ``::add-mask::`` commands to print, before any other output, for ``values``.

    On GitHub: one per non-blank line of each value that is text, and one for each value's
    base64 form (what a Secret's ``data`` shows); each line once, in order. Elsewhere: none.
    """
    if ci is None or ci.name != GITHUB:
        return []
    seen: dict[str, None] = {}
    for value in values:
        for line in _maskable(value):
            seen.setdefault(line, None)
    return [f"::add-mask::{_command_data(line)}" for line in seen]


def _maskable(value: bytes) -> list[str]:
    lines: list[str] = []
    try:
        lines += value.decode("utf-8").splitlines()
    except UnicodeDecodeError:
        pass  # not text: it can only appear in base64
    lines.append(base64.b64encode(value).decode("ascii"))
    return [line for line in lines if line.strip()]


def _command_data(text: str) -> str:
    """A workflow command's data, escaped as the runner unescapes it (``%``, CR, LF)."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def summary_markdown(rows: Sequence[Row], title: str) -> str:
    """A Markdown section for ``$GITHUB_STEP_SUMMARY``: a heading, a table, the totals."""
    lines = [f"### {_md(title)}", ""]
    if not rows:
        return "\n".join([*lines, "No objects.", ""]) + "\n"
    lines += [
        "| Kind | Namespace | Name | Keys | Result |",
        "| --- | --- | --- | --- | --- |",
    ]
    for row in rows:
        cells = [
            _md(row.kind),
            _md(row.namespace),
            _md(row.name),
            ", ".join(_md(k) for k in row.keys) or "(none)",
            _md(row.result),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join([*lines, "", _md(_totals(rows)), ""]) + "\n"


def summary_text(rows: Sequence[Row]) -> str:
    """A plain, aligned table for logs and terminals (GitLab CI, or no CI), with the totals."""
    if not rows:
        return "No objects.\n"
    table = [_HEADERS] + [
        (
            _plain(r.kind),
            _plain(r.namespace),
            _plain(r.name),
            ",".join(_plain(k) for k in r.keys) or "-",
            _plain(r.result),
        )
        for r in rows
    ]
    widths = [max(len(line[i]) for line in table) for i in range(len(_HEADERS))]
    out = [
        "  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip() for line in table
    ]
    return "\n".join([*out, _totals(rows)]) + "\n"


def _totals(rows: Sequence[Row]) -> str:
    counts: dict[str, int] = {}
    for row in rows:
        counts[row.result] = counts.get(row.result, 0) + 1
    parts = ", ".join(f"{n} {_plain(result)}" for result, n in counts.items())
    noun = "object" if len(rows) == 1 else "objects"
    return f"{len(rows)} {noun}: {parts}"


def _visible(ch: str) -> str:
    """A control or line-separating character as a visible ``\\xNN``/``\\uNNNN`` escape."""
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def _is_control(ch: str) -> bool:
    return ch != " " and (ch.isspace() or not ch.isprintable())


def _plain(text: str) -> str:
    """One log-table cell: control characters and other line breaks shown as escapes, and a
    leading ``:`` too, so that no line of the table starts a GitHub workflow command."""
    cell = "".join(_visible(ch) if _is_control(ch) else ch for ch in text)
    return _visible(cell[0]) + cell[1:] if cell.startswith(":") else cell


def _md(text: str) -> str:
    """One Markdown cell or heading: punctuation escaped, HTML defused, no line breaks."""
    out = []
    for ch in text:
        if _is_control(ch):
            out.append(_visible(ch).replace("\\", "\\\\"))
        elif ch in _HTML:
            out.append(_HTML[ch])
        elif ch in _MARKDOWN_SPECIAL:
            out.append("\\" + ch)
        else:
            out.append(ch)
    return "".join(out)
