"""Every option an error message or hint tells the user to pass exists on the command it names.

The static test reads every ``hints=`` list, ``hints.append/insert`` call and error message in
``kseal/`` (f-string placeholders dropped, module-level string constants resolved) and checks each
``--option`` against the real CLI: after ``kseal <command>`` it must be one of that command's
options; after another tool (``kubeseal --fetch-cert``) it is that tool's business; alone, some
kseal command must have it. The dynamic test triggers hints through the CLI and checks the options
they name against the command that printed them.
"""

from __future__ import annotations

import ast
import re
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from tests.cli.conftest import Run

ROOT = Path(__file__).resolve().parents[2]
FOREIGN = {
    "kubeseal",
    "sops",
    "kubectl",
    "git",
    "age",
    "age-keygen",
    "pip",
    "helm",
    "ssh-keygen",
    "gpg",
    "pre-commit",
    "openssl",
    "kustomize",
    "flux",
}
RESET = {",", ";", "(", ")", "'", '"', "`", "or", "and", "then"}
TOKEN = re.compile(r"(?<![\w%-])--?[A-Za-z][A-Za-z0-9-]*|[A-Za-z0-9][A-Za-z0-9._-]*|[,;()'\"`]")


@cache
def commands() -> dict[tuple[str, ...], set[str]]:
    """Every kseal command path and the option names it accepts."""
    from kseal.cli.app import full_tree

    root = full_tree()
    out: dict[tuple[str, ...], set[str]] = {}

    def walk(cmd: Any, path: tuple[str, ...]) -> None:  # click is Typer's, vendored
        names = {"--help", "-h"}
        for param in cmd.params:
            names.update(getattr(param, "opts", []))
            names.update(getattr(param, "secondary_opts", []))
        out[path] = names
        for sub, child in (getattr(cmd, "commands", None) or {}).items():
            walk(child, (*path, sub))

    walk(root, ())
    # sops's mode flags and global options, which kseal.cli.argv turns into commands
    from kseal.cli import argv

    out[()] |= {*argv.GLOBAL_FLAGS, *argv.GLOBAL_WITH_VALUE, *argv.MODES, *argv.SHOW_MASTER_KEYS}
    return out


def problems(text: str, command: tuple[str, ...] | None = None) -> list[str]:
    """The options ``text`` names that do not exist where it says (or, with ``command``, on it)."""
    table = commands()
    every = set().union(*table.values())
    found: list[str] = []
    context: tuple[str, ...] | None = command  # None: no command named; ("",): another tool
    building = False
    for token in TOKEN.findall(text):
        if token == "kseal":
            context, building = (), True
        elif building and (*context, token) in table:  # type: ignore[misc]
            context = (*context, token)  # type: ignore[misc]
        elif token.startswith("-") and len(token) > 1:
            building = False
            option = token.split("=")[0]
            if context == ("",):
                continue
            known = table[context] if context is not None else every
            if option not in known:
                where = "kseal " + " ".join(context) if context is not None else "any command"
                found.append(f"{option} (not an option of {where.strip()}): {text!r}")
        else:
            building = False
            if token in FOREIGN:
                context = ("",)
            elif token in RESET and command is None:
                context = None
    return found


def _strings(node: ast.AST, constants: dict[str, str]) -> list[str]:
    """The texts an expression builds: string literals, f-strings (placeholders as {}), names of
    module-level string constants."""
    out: list[str] = []
    for sub in ast.walk(node):
        if isinstance(sub, ast.JoinedStr):
            out.append(
                "".join(
                    v.value if isinstance(v, ast.Constant) and isinstance(v.value, str) else "{}"
                    for v in sub.values
                )
            )
        elif isinstance(sub, ast.Constant) and isinstance(sub.value, str):
            out.append(sub.value)
        elif isinstance(sub, ast.Name) and sub.id in constants:
            out.append(constants[sub.id])
    return out


def user_texts() -> list[tuple[str, str]]:
    """(where, text) for every hint and error message in kseal/."""
    found: list[tuple[str, str]] = []
    for path in sorted((ROOT / "kseal").rglob("*.py")):
        tree = ast.parse(path.read_text())
        constants = {
            target.id: node.value.value
            for node in tree.body
            if isinstance(node, ast.Assign)
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)
            for target in node.targets
            if isinstance(target, ast.Name)
        }
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign | ast.AnnAssign):  # hints = [...] built up front
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                if node.value and any(
                    isinstance(t, ast.Name) and "hint" in t.id.lower() for t in targets
                ):
                    where = f"{path.relative_to(ROOT)}:{node.lineno}"
                    found.extend((where, text) for text in _strings(node.value, constants))
                continue
            if not isinstance(node, ast.Call):
                continue
            exprs: list[ast.AST] = [k.value for k in node.keywords if k.arg == "hints"]
            func = node.func
            if (
                isinstance(func, ast.Attribute)
                and func.attr in ("append", "insert", "extend")
                and isinstance(func.value, ast.Name)
                and "hint" in func.value.id
            ):
                exprs.extend(node.args)
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
            if name.endswith("Error") and node.args:
                exprs.append(node.args[0])
            for expr in exprs:
                where = f"{path.relative_to(ROOT)}:{node.lineno}"
                found.extend((where, text) for text in _strings(expr, constants))
    return found


def test_the_checker_catches_what_the_tracker_reported() -> None:
    assert problems("get it with 'kseal cert --fetch' or 'kubeseal --fetch-cert'")
    assert not problems("get it with 'kseal cert > cert.pem' or 'kubeseal --fetch-cert'")
    assert problems("pass --recovery-private-key FILE", ("unseal",))
    assert not problems("pass --recovery-private-key FILE", ("seal",))
    assert problems("pass --no-such-option")
    assert not problems("pass --kubeconfig FILE / --context NAME, or use --cert FILE")


def test_every_option_named_in_a_hint_or_error_exists() -> None:
    texts = user_texts()
    assert len(texts) > 100  # the walk found the messages
    bad = [f"{where}: {p}" for where, text in texts for p in problems(text)]
    assert not bad, "\n".join(bad)


@pytest.fixture
def cert(tmp_path: Path, kseal: Run) -> Path:
    key, cert = tmp_path / "k.pem", tmp_path / "c.pem"
    assert kseal("keys", "generate", "--key", str(key), "--cert", str(cert), "--bits", "2048")
    return cert


def test_hints_printed_by_sealing_commands_name_their_own_options(
    kseal: Run, cert: Path, tmp_path: Path
) -> None:
    (tmp_path / "ss.yaml").write_text(
        "kind: SealedSecret\nmetadata: {name: a, namespace: b}\nspec: {encryptedData: {}}\n"
    )
    (tmp_path / "not-a-cert.pem").write_text("hello\n")
    runs = [
        (("unseal",), ["unseal", str(tmp_path / "ss.yaml")], None),
        (("seal",), ["seal", "--recovery-unseal", "-f", str(tmp_path / "ss.yaml")], None),
        (("reseal",), ["reseal", "-k", str(tmp_path / "ss.yaml"), "--cert", str(cert), "x"], None),
        (("seal",), ["seal", "--raw", "--cert", str(cert), "-n", "a", "--name", "b"], b""),
        (("seal",), ["seal", "--cert", str(tmp_path / "not-a-cert.pem")], b"{}"),
        (("seal",), ["seal", "--cert", str(cert)], b"kind: Secret\nstringData: {a: b}\n"),
    ]
    for command, args, stdin in runs:
        out = kseal(*args, input=stdin)
        assert out.returncode not in (0, 3), (args, out.stderr)
        lines = out.stderr.decode().splitlines()
        hints = [line.removeprefix("kseal: hint: ") for line in lines if "hint:" in line]
        for line in hints:
            assert not problems(line, command), line
    assert b"--allow-empty-data" in kseal(*runs[3][1], input=b"").stderr
    assert b"-k/--private-key" in kseal(*runs[0][1]).stderr
