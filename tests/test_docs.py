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
    assert blocks[0].startswith("python3 -m pip install . &&")
    assert blocks[1].startswith("python3 -m pytest\n")
    ci = (ROOT / ".ci" / "run").read_text()
    assert "\npython3 -m pytest\n" in ci
