"""The documentation cannot drift from the CLI."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_cli_reference_is_current() -> None:
    out = subprocess.run(
        [sys.executable, "tools/gen_cli_docs.py", "--check"], cwd=ROOT, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr


def test_readme_starts_with_the_two_commands() -> None:
    readme = (ROOT / "README.md").read_text()
    blocks = readme.split("```sh\n")[1:3]
    assert blocks[0].startswith("python3 -m venv ~/.kseal && ~/.kseal/bin/pip install -q . &&")
    assert blocks[1].split("```")[0] == "./test\n"
    ci = (ROOT / ".ci" / "run").read_text()
    assert "\n./test\n" in ci


def test_docs_pin_no_tag_that_does_not_exist() -> None:
    """kseal has no release tags: every pinned revision in the docs is a full commit SHA or an
    explicit placeholder (issue 9, C20)."""
    import re

    for page in [ROOT / "README.md", *ROOT.joinpath("docs").rglob("*.md")]:
        text = page.read_text()
        for rev in re.findall(r"\brev: (\S+)", text):
            assert re.fullmatch(r"[0-9a-f]{40}", rev), (page, rev)
        assert not re.search(r"kseal@v\d", text), page


def test_every_exit_code_has_a_meaning() -> None:
    from kseal.errors import MEANINGS, ExitCode

    assert set(MEANINGS) == set(ExitCode)


def test_no_exit_code_is_a_bare_number() -> None:
    """Exit codes come from kseal.errors.ExitCode: no ``SystemExit(3)``, ``typer.Exit(1)`` or
    ``exit_code=2`` anywhere in kseal/."""
    import ast

    found = []
    for path in sorted((ROOT / "kseal").rglob("*.py")):
        rel = str(path.relative_to(ROOT))
        for node in ast.walk(ast.parse(path.read_text())):
            numbers: list[ast.expr] = []
            if isinstance(node, ast.Call):
                name = ast.unparse(node.func)
                if name.endswith(("SystemExit", "Exit")):
                    numbers += node.args
                numbers += [k.value for k in node.keywords if k.arg == "exit_code"]
            elif isinstance(node, (ast.Assign, ast.AnnAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                if any(ast.unparse(t).endswith("exit_code") for t in targets) and node.value:
                    numbers.append(node.value)
            found += [
                f"{rel}:{n.lineno}" for n in numbers
                if isinstance(n, ast.Constant) and isinstance(n.value, int)
            ]
    assert not found, found
