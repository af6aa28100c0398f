"""Regenerate docs/cli.md from the CLI's own --help output (``--check`` fails if it is stale)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET = ROOT / "docs" / "cli.md"
COMMANDS = [
    "", "encrypt", "decrypt", "edit", "set", "unset", "filestatus", "rotate", "updatekeys",
    "exec-env", "exec-file", "diff", "git-setup", "check", "keygen",
    "seal", "unseal", "reseal", "cert", "keys", "keys generate",
]

HEADER = """# kseal CLI reference

Generated from `kseal --help` by `python3 tools/gen_cli_docs.py`; a test fails when it is stale.

"""

EXIT_CODES = """## Exit codes

kseal uses sops's exit codes for the situations sops defines, so scripts keep working.

| code | meaning |
|---|---|
| 0 | success |
| 1 | generic error: no matching `.sops.yaml` rule, sops metadata missing or malformed, bad recipient; an `--extract`/`unset` path that names nothing; `filestatus` of a missing file |
| 2 | the input cannot be read or parsed; also a command-line usage error (unknown command or option, missing argument, bad value) |
| 3 | the output cannot be written; an unexpected internal error (rerun with `--debug`) |
| 4 | the tree cannot be written in the requested format |
| 8 | conflicting options (`-i` with `--output`, `-i` with stdin, two selection rules) |
| 23 | a value could not be encrypted |
| 25 | a value is malformed or failed authentication (tampered, or moved to another path) |
| 51 | the MAC is missing, cannot be decrypted, or does not match |
| 91 | malformed `--extract`/`set`/`unset` path |
| 92 | the input holds no document |
| 100 | the named file does not exist |
| 112 | `--decryption-order` or `SOPS_DECRYPTION_ORDER` names a key type twice |
| 128 | no identity could decrypt the data key (the hints list what was tried) |
| 130 | interrupted (143 for SIGTERM, 129 for SIGHUP during `edit`) |
| 200 | `edit`: the file was not changed, nothing written |
| 203 | the file is already encrypted |

In bulk mode (several files, a directory or a glob), the exit status is 0 when no file failed,
else the exit code of the first file that failed. On a terminal, the summary lists the files that
failed or were skipped, sorted by status, then the totals (`--verbose`: every file); elsewhere
each file gets one line as it is done. `exec-env` and `exec-file` exit with the
command's status (128 + N when it was killed by signal N). `diff A B` exits 0 when the decrypted
files are the same and 1 when they differ, like `diff`.
"""


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
    for command in COMMANDS:
        args = [sys.executable, "-m", "kseal", *command.split(), "--help"]
        out = subprocess.run(args, capture_output=True, text=True, env=env, check=True, cwd=ROOT)
        title = f"kseal {command}".strip()
        parts.append(f"## `{title}`\n\n```text\n{out.stdout.rstrip()}\n```\n\n")
    parts.append(SOPS_COMMAND_LINES)
    parts.append(EXIT_CODES)
    return "".join(parts)


def main() -> int:
    text = render()
    if "--check" in sys.argv:
        if not TARGET.exists() or TARGET.read_text() != text:
            print("docs/cli.md is stale: run python3 tools/gen_cli_docs.py", file=sys.stderr)
            return 1
        return 0
    TARGET.write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
