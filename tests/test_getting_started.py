"""docs/getting-started.md, run as written (issue 9, C20): its shell blocks, in order, in a fresh
home directory, with a scripted editor. The rule it proposes must match ``secrets/db.yaml`` at
the repository root, and following it must leave nothing that ``kseal check`` refuses."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
GUIDE = ROOT / "docs" / "getting-started.md"

EDITOR = """#!/bin/sh
# stands in for a person: replace the new file's template with a Secret
cat > "$1" <<'YAML'
apiVersion: v1
kind: Secret
metadata:
  name: db
stringData:
  password: SENTINEL-getting-started
YAML
"""


def _blocks() -> list[str]:
    return re.findall(r"```sh\n(.*?)```", GUIDE.read_text(), flags=re.S)


@pytest.mark.skipif(
    shutil.which("git") is None or shutil.which("kubectl") is None, reason="needs git and kubectl"
)
def test_the_guide_runs_as_written(tmp_path: Path) -> None:
    blocks = _blocks()
    assert blocks[0].startswith("python3 -m pip install .")  # the install step: already done
    editor = tmp_path / "editor.sh"
    editor.write_text(EDITOR)
    editor.chmod(0o755)
    bindir = tmp_path / "bin"
    bindir.mkdir()
    (bindir / "kseal").write_text(f'#!/bin/sh\nexec "{sys.executable}" -m kseal "$@"\n')
    (bindir / "kseal").chmod(0o755)
    env = {
        "PATH": f"{bindir}:{os.environ['PATH']}",
        "HOME": str(tmp_path),
        "EDITOR": str(editor),
        "API_TOKEN": "SENTINEL-api-token",
        "GIT_CONFIG_GLOBAL": str(tmp_path / "gitconfig"),
        "XDG_RUNTIME_DIR": str(tmp_path),
    }
    script = 'set -euo pipefail\ncd "$HOME"\n' + "\n".join(
        blocks[1:]
    )
    out = subprocess.run(
        ["bash", "-c", script], env=env, capture_output=True, text=True, check=False
    )
    assert out.returncode == 0, out.stdout + out.stderr
    demo = tmp_path / "demo"
    for name in ("db.yaml", "api.yaml"):
        text = (demo / "secrets" / name).read_text()
        assert "SENTINEL" not in text and "sops:" in text
        assert "kind: Secret" in text  # the rule's selection left the manifest readable
    check = subprocess.run(
        [sys.executable, "-m", "kseal", "check", "."],
        cwd=demo,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert check.returncode == 0, check.stdout + check.stderr


def test_the_rule_matches_at_the_root_and_below() -> None:
    rule = re.search(r"path_regex: (\S+)", GUIDE.read_text())
    assert rule is not None
    pattern = re.compile(rule.group(1))
    for path in ("secrets/db.yaml", "apps/web/secrets/db.yml"):
        assert pattern.search(path), path
    for path in ("mysecrets/db.yaml", "secrets.yaml", "secrets/db.json"):
        assert not pattern.search(path), path
