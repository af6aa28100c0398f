"""kseal.ci: CI detection, GitHub masking commands, and the value-free summary tables."""

from __future__ import annotations

import base64
import dataclasses

from kseal.ci import Ci, Row, detect, mask_lines, summary_markdown, summary_text

SENTINEL = "S3NT1NEL-value-must-not-leak"
GITHUB = Ci("github", "/tmp/summary.md")
GITLAB = Ci("gitlab", None)


def _b64(text: str | bytes) -> str:
    data = text.encode() if isinstance(text, str) else text
    return base64.b64encode(data).decode()


# --- detect -------------------------------------------------------------------------------------

def test_detect_github_actions_with_its_step_summary_file() -> None:
    env = {"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": "/runner/summary.md"}
    assert detect(env) == Ci("github", "/runner/summary.md")


def test_detect_github_actions_without_a_summary_file() -> None:
    assert detect({"GITHUB_ACTIONS": "true"}) == Ci("github", None)
    assert detect({"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": ""}) == Ci("github", None)


def test_detect_gitlab_ci() -> None:
    assert detect({"GITLAB_CI": "true", "CI": "true"}) == Ci("gitlab", None)


def test_detect_nothing_outside_ci_or_when_the_flag_is_not_true() -> None:
    assert detect({}) is None
    assert detect({"CI": "true"}) is None
    assert detect({"GITHUB_ACTIONS": "false", "GITLAB_CI": "1"}) is None


# --- mask_lines ---------------------------------------------------------------------------------

def test_mask_lines_are_exactly_the_value_and_its_base64_on_github() -> None:
    assert mask_lines(GITHUB, [SENTINEL.encode()]) == [
        f"::add-mask::{SENTINEL}",
        f"::add-mask::{_b64(SENTINEL)}",
    ]


def test_mask_lines_give_one_command_per_line_of_a_multi_line_value() -> None:
    value = "-----BEGIN KEY-----\r\nline2\n\n   \nline3\n"
    assert mask_lines(GITHUB, [value.encode()]) == [
        "::add-mask::-----BEGIN KEY-----",
        "::add-mask::line2",
        "::add-mask::line3",
        f"::add-mask::{_b64(value)}",
    ]


def test_mask_lines_skip_empty_values_and_repeat_no_line() -> None:
    assert mask_lines(GITHUB, [b"", b"same", b"same\nsame"]) == [
        "::add-mask::same",
        f"::add-mask::{_b64('same')}",
        "::add-mask::" + _b64("same\nsame"),
    ]


def test_mask_lines_of_binary_values_mask_the_base64_form_only() -> None:
    value = b"\xff\xfe" + SENTINEL.encode()
    assert mask_lines(GITHUB, [value]) == [f"::add-mask::{_b64(value)}"]


def test_mask_lines_escape_percent_so_the_runner_masks_the_literal_text() -> None:
    # the runner unescapes %25, %0D and %0A in a command's data
    assert mask_lines(GITHUB, [b"100%0A"])[0] == "::add-mask::100%250A"


def test_each_mask_line_is_one_line_and_a_value_cannot_inject_a_command() -> None:
    value = f"{SENTINEL}\n::set-env name=X::y\u2028tail".encode()
    lines = mask_lines(GITHUB, [value])
    assert all("\n" not in line and "\r" not in line for line in lines)
    assert all(line.startswith("::add-mask::") for line in lines)
    # every piece is masked (GitHub masks substrings, so the whole line is covered)
    assert "::add-mask::::set-env name=X::y" in lines and "::add-mask::tail" in lines


def test_mask_lines_are_empty_on_gitlab_and_outside_ci() -> None:
    assert mask_lines(GITLAB, [SENTINEL.encode()]) == []
    assert mask_lines(None, [SENTINEL.encode()]) == []


# --- summaries ----------------------------------------------------------------------------------

ROWS = [
    Row("Secret", "infra", "store-token", ("token",), "created"),
    Row("Secret", "kube-system", "sealed-secrets-key", ("tls.crt", "tls.key"), "unchanged"),
    Row("ConfigMap", "infra", "settings", (), "would update"),
]


def test_a_row_holds_key_names_and_no_value_field() -> None:
    fields = [f.name for f in dataclasses.fields(Row)]
    assert fields == ["kind", "namespace", "name", "keys", "result"]


def test_summary_markdown_is_a_table_with_one_row_per_object_and_totals() -> None:
    md = summary_markdown(ROWS, "kseal bootstrap")
    assert md.startswith("### kseal bootstrap\n\n| Kind | Namespace | Name | Keys | Result |\n")
    assert "| Secret | infra | store\\-token | token | created |" in md
    assert "| Secret | kube\\-system | sealed\\-secrets\\-key | tls\\.crt, tls\\.key | unchanged |" in md
    assert "| ConfigMap | infra | settings | (none) | would update |" in md
    assert md.endswith("3 objects: 1 created, 1 unchanged, 1 would update\n\n")


def test_summary_markdown_of_no_rows_says_so() -> None:
    assert "No objects." in summary_markdown([], "kseal bootstrap")


def test_summary_markdown_escapes_odd_key_names_so_they_cannot_forge_cells_or_html() -> None:
    odd = ("a|b", "x\n| Secret | evil | forged | k | created |", "<img src=x>", "`c`", "&lt;")
    md = summary_markdown([Row("Secret", "ns", "n", odd, "created")], "t")
    table = [line for line in md.splitlines() if line.startswith("|")]
    assert len(table) == 3  # header, rule, the one row: no forged row
    assert "forged" in table[2]
    assert table[2].count(" | ") == 4  # five cells
    assert "<" not in md and ">" not in md and "`c`" not in md
    assert "&lt;img src=x&gt;" in md and "&amp;lt;" in md
    assert "a\\|b" in md and "\\x0a" in md


def test_summary_text_is_an_aligned_table_with_totals() -> None:
    text = summary_text(ROWS)
    lines = text.splitlines()
    assert lines[0].split() == ["KIND", "NAMESPACE", "NAME", "KEYS", "RESULT"]
    assert lines[1].split() == ["Secret", "infra", "store-token", "token", "created"]
    assert lines[2].split() == [
        "Secret", "kube-system", "sealed-secrets-key", "tls.crt,tls.key", "unchanged"
    ]
    assert lines[3].split() == ["ConfigMap", "infra", "settings", "-", "would", "update"]
    assert len({line.index("NAME") for line in lines[:1]}) == 1
    assert lines[0].index("NAMESPACE") == lines[1].index("infra") == lines[2].index("kube-system")
    assert lines[4] == "3 objects: 1 created, 1 unchanged, 1 would update"


def test_summary_text_of_no_rows_says_so() -> None:
    assert summary_text([]) == "No objects.\n"


def test_summary_text_keeps_odd_names_on_one_line_and_never_starts_a_workflow_command() -> None:
    rows = [Row("::add-mask::x", "ns", "n", ("a\nb", "c\r::warning::d", "e\u2028f"), "created")]
    lines = summary_text(rows).splitlines()
    assert len(lines) == 3  # header, the row, totals
    # the runner reads a command after leading spaces too
    assert not any(line.lstrip().startswith("::") for line in lines)
    assert lines[1].startswith("\\x3a:add-mask::x")
    assert "a\\x0ab" in lines[1] and "\\x0d" in lines[1] and "\\u2028" in lines[1]


def test_summaries_never_contain_a_value_even_beside_masking() -> None:
    """The sentinel value only ever appears in the ::add-mask:: lines themselves."""
    value = SENTINEL.encode()
    rows = [Row("Secret", "ns", "app", ("password",), "created")]
    output = "\n".join(
        [*mask_lines(GITHUB, [value]), summary_text(rows), summary_markdown(rows, "t")]
    )
    leaking = [line for line in output.splitlines()
               if (SENTINEL in line or _b64(SENTINEL) in line)
               and not line.startswith("::add-mask::")]
    assert leaking == []
