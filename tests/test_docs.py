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
