"""Walking a directory tree the way a repository is read: sorted, without VCS, virtual-environment
and node_modules directories (``kseal check`` and the CLI's bulk mode share it)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

SKIP_DIRS = {".git", ".hg", ".svn", "node_modules", "__pycache__", ".tox"}
# skipped only when they really are virtual environments (a venv/ of manifests is read)
VENV_DIRS = {".venv", "venv"}


def files_under(directory: Path) -> Iterator[Path]:
    """Every file below ``directory``, sorted, skipping VCS, virtualenv and node_modules dirs."""
    for root, dirs, files in os.walk(directory):
        dirs[:] = sorted(d for d in dirs if not _skipped(Path(root), d))
        for name in sorted(files):
            yield Path(root) / name


def _skipped(root: Path, name: str) -> bool:
    if name in SKIP_DIRS:
        return True
    return name in VENV_DIRS and (root / name / "pyvenv.cfg").is_file()
