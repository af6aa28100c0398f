"""Regenerate docs/cli.md from the CLI itself (the command tree, each command's --help, the
ExitCode enum) and the rule table of docs/check.md from kseal.check.model (``--check`` fails if
either is stale)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
TARGET = ROOT / "docs" / "cli.md"
CHECK_DOC = ROOT / "docs" / "check.md"
RULES_START = "| id | name | what it finds |\n|---|---|---|\n"
RULES_END = "\n\n`kseal check --list-rules`"

sys.path.insert(0, str(ROOT))

from kseal.check.model import RULES  # noqa: E402
from kseal.cli.app import full_tree  # noqa: E402
from kseal.errors import MEANINGS, ExitCode  # noqa: E402

HEADER = """# kseal CLI reference

Generated from `kseal --help` by `python3 tools/gen_cli_docs.py`; a test fails when it is stale.

"""

EXIT_CODES_INTRO = """## Exit codes

kseal uses sops's exit codes for the situations sops defines, so scripts keep working.

| code | meaning |
|---|---|
"""

EXIT_CODES_OUTRO = """
In bulk mode (several files, a directory or a glob), the exit status is 0 when no file failed,
else the exit code of the first file that failed. On a terminal, the summary lists the files that
failed or were skipped, sorted by status, then the totals (`--verbose`: every file); elsewhere
each file gets one line as it is done. `exec-env` and `exec-file` exit with the
command's status (128 + N when it was killed by signal N). `diff A B` exits 0 when the decrypted
files are the same and 1 when they differ, like `diff`.
"""


def command_paths() -> list[str]:
    """Every command path, walking the command tree (``""`` is ``kseal`` itself)."""
    paths: list[str] = []

    def walk(command: Any, path: str) -> None:
        paths.append(path)
        for name in command.list_commands(None) if hasattr(command, "list_commands") else []:
            walk(command.get_command(None, name), f"{path} {name}".strip())

    walk(full_tree(), "")
    return paths


def exit_codes() -> str:
    """The exit-code table, from :class:`kseal.errors.ExitCode` (an alias shares its row)."""
    rows = "".join(f"| {int(code)} | {MEANINGS[code]} |\n" for code in ExitCode)
    return EXIT_CODES_INTRO + rows + EXIT_CODES_OUTRO


def rule_table() -> str:
    return "\n".join(f"| {r.id} | {r.name} | {r.finds} |" for r in RULES.values())


def render_check(text: str) -> str:
    """docs/check.md with its rule table rebuilt from :data:`kseal.check.model.RULES`."""
    head, _, rest = text.partition(RULES_START)
    _, _, tail = rest.partition(RULES_END)
    return head + RULES_START + rule_table() + RULES_END + tail


SOPS_COMMAND_LINES = """## sops command lines

Scripts written for sops keep working. sops's mode flags become kseal commands, with the options
that follow them: `kseal -d FILE` is `kseal decrypt FILE`, `-e`/`--encrypt` is `encrypt`,
`-r`/`--rotate` is `rotate`, and `-i` works with each, as in `kseal -e -i secret.yaml`. Two modes
at once are an error (exit 8). `-s`/`--show-master-keys` is ignored with a mode, as in sops; alone
it opens `kseal edit` (which keeps the metadata out of the editor, with a note saying so).

The global options `--verbose`, `--disable-version-check` (a no-op: kseal never checks for
updates), `--decryption-order` and `--debug` may come before or after the command.
`--decryption-order` and `SOPS_DECRYPTION_ORDER` are checked as sops checks them (a key type named
twice: exit 112); kseal has only age keys, so the order changes nothing else. Usage errors (an
unknown command or option, a missing argument, a bad value) are one `kseal: error:` line with
`kseal: hint:` lines, such as "did you mean", and exit 2.

"""


def render() -> str:
    env = {**os.environ, "COLUMNS": "100", "TERM": "dumb", "NO_COLOR": "1"}
    parts = [HEADER]
    for command in command_paths():
        args = [sys.executable, "-m", "kseal", *command.split(), "--help"]
        out = subprocess.run(args, capture_output=True, text=True, env=env, check=True, cwd=ROOT)
        title = f"kseal {command}".strip()
        parts.append(f"## `{title}`\n\n```text\n{out.stdout.rstrip()}\n```\n\n")
    parts.append(SOPS_COMMAND_LINES)
    parts.append(exit_codes())
    return "".join(parts)


def main() -> int:
    pages = {TARGET: render(), CHECK_DOC: render_check(CHECK_DOC.read_text())}
    if "--check" in sys.argv:
        stale = [p for p, text in pages.items() if not p.exists() or p.read_text() != text]
        for page in stale:
            rel = page.relative_to(ROOT)
            print(f"{rel} is stale: run python3 tools/gen_cli_docs.py", file=sys.stderr)
        return 1 if stale else 0
    for page, text in pages.items():
        page.write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
