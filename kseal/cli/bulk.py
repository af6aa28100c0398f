"""Many files in one process: path expansion, a progress bar on a terminal, a summary, and
per-file failures that do not stop the others.

A command is in bulk mode when it gets more than one path, a directory, or a quoted glob. Each
file's action returns a short status (``"encrypted"``) or raises :class:`Skip` (counted, not a
failure) or a :class:`KsealError` (reported, then the next file). The exit status is 0 when every
file succeeded or was skipped, else the exit code of the first failure.
"""

from __future__ import annotations

import glob
import os
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kseal.errors import KsealError, NoFileError

# File name endings a directory walk considers; explicitly named files are always taken.
KNOWN_SUFFIXES = (".yaml", ".yml", ".json", ".env", ".ini")
SKIP_DIRS = {".git", ".hg", ".svn", "node_modules", "__pycache__", ".tox"}
# skipped only when they really are virtual environments (a venv/ of manifests is read)
VENV_DIRS = {".venv", "venv"}


class Skip(Exception):
    """This file needs nothing (already encrypted, not encrypted, no rule...)."""


def skip_if_plain(data: bytes) -> None:
    """Skip a file that cannot hold sops metadata, before spending a parse on it (a Helm
    template in a tree is not a failure)."""
    if b"sops" not in data:
        raise Skip("not encrypted")


@dataclass
class Outcome:
    path: str
    status: str
    ok: bool
    code: int = 0
    hints: tuple[str, ...] = ()


def has_glob(text: str) -> bool:
    return any(c in text for c in "*?[")


def is_bulk(paths: list[str]) -> bool:
    if len(paths) > 1:
        return True
    if not paths:
        return False
    only = paths[0]
    return Path(only).is_dir() or (has_glob(only) and not Path(only).exists())


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


def expand(paths: Iterable[str]) -> list[Path]:
    """Files named, found under directories (known formats only, sorted), or matched by globs."""
    out: list[Path] = []
    seen: set[str] = set()

    def add(p: Path) -> None:
        key = os.path.normpath(str(p))
        if key not in seen:
            seen.add(key)
            out.append(p)

    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            for found in files_under(path):
                if found.name.lower().endswith(KNOWN_SUFFIXES) and found.name != ".sops.yaml":
                    add(found)
        elif has_glob(raw) and not path.exists():
            matches = sorted(glob.glob(raw, recursive=True))
            if not matches:
                raise NoFileError(f"{raw}: no file matches this pattern")
            for m in matches:
                if Path(m).is_file():
                    add(Path(m))
        else:
            add(path)
    return out


def run(
    verb: str, files: list[Path], action: Callable[[Path], str], *, interactive: bool = False
) -> int:
    """Run ``action`` on each file; ``interactive`` actions prompt, so no progress bar."""
    outcomes: list[Outcome] = []
    tty = sys.stderr.isatty()
    progress = _progress(verb, len(files)) if tty and len(files) > 1 and not interactive else None
    try:
        for path in files:
            outcomes.append(_one(path, action))
            if progress is not None:
                progress[0].advance(progress[1])
            elif not tty:
                _line(outcomes[-1])
    finally:
        if progress is not None:
            progress[0].stop()
    _summary(verb, outcomes, tty)
    failed = [o for o in outcomes if not o.ok]
    return failed[0].code if failed else 0


def _one(path: Path, action: Callable[[Path], str]) -> Outcome:
    try:
        return Outcome(str(path), action(path), True)
    except Skip as skip:
        return Outcome(str(path), f"skipped: {skip}", True)
    except KsealError as err:
        return Outcome(str(path), err.message, False, err.exit_code, err.hints)


def _line(o: Outcome) -> None:
    tag = "ok" if o.ok else "FAILED"
    sys.stderr.write(f"kseal: {o.path}: {tag}: {o.status}\n")
    for hint in o.hints if not o.ok else ():
        sys.stderr.write(f"kseal: hint: {hint}\n")


def _progress(verb: str, total: int) -> tuple[Any, Any]:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    progress = Progress(TextColumn(f"{verb}"), BarColumn(), MofNCompleteColumn(), transient=True)
    progress.start()
    task = progress.add_task(verb, total=total)
    return progress, task


def _summary(verb: str, outcomes: list[Outcome], tty: bool) -> None:
    failed = sum(not o.ok for o in outcomes)
    skipped = sum(o.ok and o.status.startswith("skipped") for o in outcomes)
    done = len(outcomes) - failed - skipped
    totals = f"{verb}: {done} done, {skipped} skipped, {failed} failed"
    if not tty:
        sys.stderr.write(f"kseal: {totals}\n")
        return
    from rich.console import Console
    from rich.table import Table

    table = Table()
    table.add_column("file")
    table.add_column("result")
    for o in outcomes:
        style = "green" if o.ok and not o.status.startswith("skipped") else "yellow"
        table.add_row(o.path, o.status, style=style if o.ok else "red")
    console = Console(stderr=True, highlight=False)
    console.print(table)
    console.print(totals)
    for o in outcomes:
        if not o.ok:
            for hint in o.hints:
                sys.stderr.write(f"kseal: hint: {o.path}: {hint}\n")
