"""CI ergonomics (minimal stand-in written by HA with the design's signatures; HC's module
replaces it): detect GitHub Actions / GitLab CI, mask values, summary tables. Pure: no I/O."""

from __future__ import annotations

import base64
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Ci:
    name: str  # "github" | "gitlab"
    summary_path: str | None  # $GITHUB_STEP_SUMMARY


@dataclass(frozen=True)
class Row:
    kind: str
    namespace: str
    name: str
    keys: tuple[str, ...]
    result: str


def detect(env: Mapping[str, str]) -> Ci | None:
    """The CI this process runs in, from its environment."""
    if env.get("GITHUB_ACTIONS") == "true":
        return Ci("github", env.get("GITHUB_STEP_SUMMARY") or None)
    if env.get("GITLAB_CI") == "true":
        return Ci("gitlab", None)
    return None


def mask_lines(ci: Ci | None, values: Iterable[bytes]) -> list[str]:
    """GitHub: one ``::add-mask::`` line per non-empty line of each value and of its base64
    form; other CIs: none."""
    if ci is None or ci.name != "github":
        return []
    out: list[str] = []
    for value in values:
        for form in (value, base64.b64encode(value)):
            for line in form.decode("utf-8", "replace").splitlines():
                if line.strip() and f"::add-mask::{line}" not in out:
                    out.append(f"::add-mask::{line}")
    return out


def _cells(row: Row) -> list[str]:
    where = f"{row.namespace}/{row.name}" if row.namespace else row.name
    return [row.kind, where, ", ".join(row.keys) or "-", row.result]


def summary_markdown(rows: Sequence[Row], title: str) -> str:
    lines = [f"### {title}", "", "| Kind | Object | Keys | Result |", "|---|---|---|---|"]
    lines += ["| " + " | ".join(_cells(r)) + " |" for r in rows]
    return "\n".join(lines) + "\n"


def summary_text(rows: Sequence[Row]) -> str:
    table = [["KIND", "OBJECT", "KEYS", "RESULT"], *(_cells(r) for r in rows)]
    widths = [max(len(r[i]) for r in table) for i in range(4)]
    return (
        "\n".join(
            "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in table
        )
        + "\n"
    )
