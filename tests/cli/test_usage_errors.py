"""Command-line mistakes get kseal's one-line error with hints (no click usage block), exit 2;
``kseal --help`` says what kseal is and never cuts a command summary."""

from __future__ import annotations

import pytest

from tests.cli.conftest import Run


def _lines(err: bytes) -> list[str]:
    return err.decode().splitlines()


@pytest.mark.parametrize(
    ("args", "error", "hints"),
    [
        (["encrpyt", "f.yaml"], "no such command 'encrpyt'", ["did you mean 'encrypt'"]),
        (["encrypt", "--agee", "x"], "encrypt: no such option: --agee", ["did you mean --age?"]),
        (["--verbos", "decrypt"], "no such option: --verbos", ["did you mean --verbose"]),
        (["decrypt", "-x"], "decrypt: no such option: -x", []),
        (["set"], "set: missing argument 'FILE'", []),
        (["encrypt", "--indent", "x"], "encrypt: invalid value for '--indent'", []),
        (["encrypt", "--indent", "-1"], "encrypt: invalid value for '--indent'", []),
        (["keys", "genrate"], "keys: no such command 'genrate'", ["did you mean 'generate'?"]),
        (["decrypt", "--output"], "decrypt: option '--output' requires an argument", []),
    ],
)
def test_usage_errors_are_one_line_with_hints(
    kseal: Run, args: list[str], error: str, hints: list[str]
) -> None:
    out = kseal(*args)
    assert out.returncode == 2, out.stderr
    assert out.stdout == b""
    lines = _lines(out.stderr)
    assert lines[0].startswith(f"kseal: error: {error}"), lines
    assert all(line.startswith("kseal: hint: ") for line in lines[1:]), lines
    assert "Usage:" not in out.stderr.decode() and "Traceback" not in out.stderr.decode()
    for hint in hints:
        assert any(hint in line for line in lines[1:]), lines
    assert lines[-1].startswith("kseal: hint: run 'kseal")  # where the usage is


def test_help_says_both_halves_and_cuts_no_summary(kseal: Run) -> None:
    out = kseal("--help", env={"COLUMNS": "100"})
    assert out.returncode == 0
    text = out.stdout.decode()
    intro = " ".join(text.split("Options:")[0].split())
    assert "SOPS format" in intro and "age" in intro
    assert "SealedSecrets" in intro and "kubeseal" in intro
    commands = text.split("Commands:")[1]
    assert "…" not in commands and "..." not in commands
    assert max(len(line) for line in text.splitlines()) <= 100
    # every command is listed with its whole first sentence
    for line in commands.strip("\n").splitlines():
        assert line.startswith("  ")
    assert "like 'sops exec-env'." in " ".join(commands.split())


def test_no_arguments_prints_the_help(kseal: Run) -> None:
    out = kseal()
    assert out.returncode == 2
    assert "Commands:" in (out.stdout + out.stderr).decode()
