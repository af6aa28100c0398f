"""The ``kseal check`` command: options, suppression, output and ``--fix``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from kseal.errors import ConflictError, ExitCode, KsealError

if TYPE_CHECKING:
    from collections.abc import Callable

    from kseal.check.model import Finding
    from kseal.check.sopsrules import VerifyMac
    from kseal.check.suppress import Allow

FORMATS = ("text", "json", "sarif")


def check(
    paths: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="PATH...", help="Files or directories (default: .).", show_default=False
        ),
    ] = None,
    output_format: Annotated[str, typer.Option("--format", help="text, json or sarif.")] = "text",
    baseline: Annotated[
        str | None, typer.Option("--baseline", help="Ignore the findings recorded in this file.")
    ] = None,
    write_baseline: Annotated[
        str | None, typer.Option("--write-baseline", help="Record the current findings here.")
    ] = None,
    verify_mac: Annotated[
        bool,
        typer.Option("--verify-mac", help="Decrypt SOPS files you hold a key for; check MACs."),
    ] = False,
    sealing_key: Annotated[
        list[str] | None,
        typer.Option(
            "--sealing-key",
            help="Controller private key (PEM or backup): check that "
            "SealedSecrets still open under their metadata (repeatable).",
        ),
    ] = None,
    fix: Annotated[
        bool,
        typer.Option("--fix", help="Offer to encrypt offending files with their .sops.yaml rule."),
    ] = False,
    yes: Annotated[bool, typer.Option("-y", "--yes", help="With --fix: do not ask.")] = False,
    list_rules: Annotated[
        bool, typer.Option("--list-rules", help="Print the rules and exit.")
    ] = False,
) -> None:
    """Find plaintext secrets and private keys before they reach Git (exit 1 on findings)."""
    from kseal.check import report
    from kseal.check.files import allowlist
    from kseal.check.model import RULES

    if list_rules:
        for r in RULES.values():
            sys.stdout.write(f"{r.id}  {r.name:<28} {r.level:<8} {r.summary}\n")
        return
    if output_format not in FORMATS:
        raise ConflictError(
            f"unknown --format {output_format!r}",
            hints=["use text, json or sarif"],
            exit_code=ExitCode.USAGE,
        )
    try:
        keys = _sealing_keys(sealing_key or [])
        allow = allowlist(Path.cwd().resolve())
        accepted = _baseline(baseline)
        found, files = _scan(paths or ["."], verify_mac, keys)
    except KsealError as exc:
        exc.exit_code = ExitCode.INPUT
        raise
    findings = [f for f in found if not any(a.covers(f) for a in allow) and not accepted(f)]
    if write_baseline:
        from kseal.check.suppress import dump_baseline
        from kseal.fileio import write_atomic

        write_atomic(Path(write_baseline), dump_baseline(findings).encode(), plaintext=False)
        sys.stderr.write(f"kseal: wrote {len(findings)} finding(s) to {write_baseline}\n")
        return
    if fix and findings:
        findings = _fix(findings, yes, paths or ["."], verify_mac, keys, allow, accepted)
    if output_format == "json":
        sys.stdout.write(report.as_json(findings, files))
    elif output_format == "sarif":
        sys.stdout.write(report.sarif(findings))
    else:
        sys.stdout.write(report.text(findings))
        _summary(findings, files)
    if any(f.level == "error" for f in findings):
        raise typer.Exit(ExitCode.GENERIC)  # findings at error level


def _sealing_keys(paths: list[str]) -> list[object]:
    if not paths:
        return []
    from kseal.cli.sealing import private_keys

    return list(private_keys(paths, "--sealing-key"))


def _baseline(path: str | None) -> Callable[[Finding], bool]:
    if path is None:
        return lambda _f: False
    from kseal.check.suppress import load_baseline
    from kseal.fileio import read_input

    base = load_baseline(read_input(path).decode("utf-8", "replace"), path)
    return base.covers


def _summary(findings: list[Finding], files: int) -> None:
    from kseal.check.model import RULES

    errors = sum(f.level == "error" for f in findings)
    warnings = len(findings) - errors
    totals = f"kseal check: {files} file(s) checked, {errors} error(s), {warnings} warning(s)"
    if not sys.stderr.isatty() or not findings:
        sys.stderr.write(totals + "\n")
        return
    from kseal.cli import ui

    rows = (
        (
            [rid, RULES[rid].name, str(sum(f.rule == rid for f in findings)), RULES[rid].hint],
            "yellow" if RULES[rid].level == "warning" else "red",
        )
        for rid in sorted({f.rule for f in findings})
    )
    ui.print_table(("rule", "name", "found", "fix"), rows, totals)


def _fix(
    findings: list[Finding],
    yes: bool,
    paths: list[str],
    verify_mac: bool,
    keys: list[object],
    allow: list[Allow],
    accepted: Callable[[Finding], bool],
) -> list[Finding]:
    from kseal.check.files import Rules
    from kseal.cli.sops_cmds import encrypt_in_place

    if not yes and not sys.stdin.isatty():
        raise ConflictError(
            "--fix asks before encrypting, and stdin is not a terminal",
            hints=["pass -y to encrypt without asking"],
        )
    rules = Rules()
    targets = sorted({f.path for f in findings if f.rule in ("KS101", "KS201")})
    for path in targets:
        if rules(path) is None:
            sys.stderr.write(f"kseal: {path}: no .sops.yaml rule matches; not fixed\n")
            continue
        if not yes:
            sys.stderr.write(f"Encrypt {path} in place with its .sops.yaml rule? (y/n): ")
            sys.stderr.flush()
            if sys.stdin.readline().strip().lower() not in ("y", "yes"):
                continue
        encrypt_in_place(path)
        sys.stderr.write(f"kseal: {path}: encrypted\n")
    found, _ = _scan(paths, verify_mac, keys)
    return [f for f in found if not any(a.covers(f) for a in allow) and not accepted(f)]


def _scan(paths: list[str], verify_mac: bool, keys: list[object]) -> tuple[list[Finding], int]:
    from kseal.check.files import scan_paths

    return scan_paths(paths, verifier=_verifier if verify_mac else None, sealing_keys=keys)


def _verifier(path: str) -> VerifyMac:
    from kseal.cli.common import stores_for, unwrap
    from kseal.sops import engine

    store, _ = stores_for(path)

    def verify(data: bytes) -> None:
        engine.decrypt_tree(data, store, unwrap=unwrap, ignore_mac=False)

    return verify


def register(app: typer.Typer) -> None:
    app.command("check")(check)
