"""Many files in one process: path expansion, a progress bar on a terminal, a summary, and
per-file failures that do not stop the others.

A command is in bulk mode when it gets more than one path, a directory, or a quoted glob. Each
file's action returns a short status (``"encrypted"``) or raises :class:`Skip` (counted, not a
failure) or a :class:`KsealError` (reported, then the next file). The exit status is 0 when every
file succeeded or was skipped, else the exit code of the first failure. On a terminal the summary
lists the failures and skips (every file with ``--verbose``), then the totals; elsewhere each file
gets a log line as it is done.
"""

from __future__ import annotations

import fnmatch
import os
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from kseal.cli import ui
from kseal.cli.common import SETTINGS
from kseal.errors import ConflictError, KsealError, NoFileError
from kseal.filewalk import files_under

# File name endings a directory walk considers; explicitly named files are always taken.
KNOWN_SUFFIXES = (".yaml", ".yml", ".json", ".env", ".ini")


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


def in_place_only(paths: list[str], in_place: bool, verb: str) -> None:
    """Bulk mode changes files in place: without ``-i``, say why, naming what was given."""
    if in_place:
        return
    only = paths[0] if len(paths) == 1 else None
    if only is not None and Path(only).is_dir():
        what = f"{only} is a directory: the files in it"
    elif only is not None:
        what = f"{only} is a pattern: the files it matches"
    else:
        what = "several files"
    raise ConflictError(
        f"{what} are {verb} in place only",
        hints=["add -i (--in-place) to process several files, a directory or a glob"],
    )


def glob_files(pattern: str) -> Iterator[str]:
    """What ``glob.glob(pattern, recursive=True)`` finds, without entering symbolic links to
    directories on the way (a link in the tree must not lead the walk out of it): ``**`` is
    any number of directories, ``*``/``?``/``[...]`` match within one name and not a leading dot.
    Directories named literally in the pattern may be links."""
    parts = [p for p in pattern.split("/") if p not in ("", ".")]
    base = "/" if pattern.startswith("/") else ""
    return _glob(base, parts)


def _children(directory: str) -> list[os.DirEntry[str]]:
    try:
        return sorted(os.scandir(directory or "."), key=lambda e: e.name)
    except OSError:
        return []


def _real_dir(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_dir(follow_symlinks=False)
    except OSError:
        return False


def _glob(base: str, parts: list[str]) -> Iterator[str]:
    if not parts:
        yield base
        return
    head, rest = parts[0], parts[1:]
    if head == "**":
        if rest:
            yield from _glob(base, rest)
        for entry in _children(base):
            if entry.name.startswith("."):
                continue
            child = os.path.join(base, entry.name)
            if _real_dir(entry):
                yield from _glob(child, parts)
            elif not rest:
                yield child
        return
    if not has_glob(head):
        child = os.path.join(base, head)
        if os.path.isdir(child) if rest else os.path.lexists(child):
            yield from _glob(child, rest)
        return
    for entry in _children(base):
        if entry.name.startswith(".") and not head.startswith("."):
            continue
        if not fnmatch.fnmatchcase(entry.name, head):
            continue
        if rest and not _real_dir(entry):
            continue
        yield from _glob(os.path.join(base, entry.name), rest)


def expand(paths: Iterable[str]) -> list[Path]:
    """Files named, found under directories (known formats only, sorted), or matched by globs.
    A directory with no such file gets a warning (it is not an error)."""
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
            found_any = False
            for found in files_under(path):
                if found.name.lower().endswith(KNOWN_SUFFIXES) and found.name != ".sops.yaml":
                    found_any = True
                    add(found)
            if not found_any:
                sys.stderr.write(
                    f"kseal: warning: {raw}: no {', '.join(KNOWN_SUFFIXES[:-1])} or "
                    f"{KNOWN_SUFFIXES[-1]} file in this directory; nothing to do\n"
                )
        elif has_glob(raw) and not path.exists():
            matches = sorted(glob_files(raw))
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
    progress = ui.FileProgress(verb, len(files)) if tty and len(files) > 1 and not interactive else None
    try:
        for path in files:
            if progress is not None:
                progress.show(str(path))
            outcomes.append(_one(path, action))
            if progress is not None:
                progress.advance()
            elif not tty:
                _line(outcomes[-1])
    finally:
        if progress is not None:
            progress.stop()
    _summary(verb, outcomes, tty, SETTINGS.verbose)
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


def _kind(o: Outcome) -> int:
    """Sort order of the summary: failures, then skips, then successes."""
    if not o.ok:
        return 0
    return 1 if o.status.startswith("skipped") else 2


def _summary(verb: str, outcomes: list[Outcome], tty: bool, verbose: bool) -> None:
    """On a terminal: a table of the failures and skips (every file with ``--verbose``), sorted
    by status, then the totals, so a failure never scrolls away in a long run."""
    failed = sum(not o.ok for o in outcomes)
    skipped = sum(_kind(o) == 1 for o in outcomes)
    done = len(outcomes) - failed - skipped
    totals = f"{verb}: {done} done, {skipped} skipped, {failed} failed"
    if not tty:
        sys.stderr.write(f"kseal: {totals}\n")
        return
    shown = sorted(
        (o for o in outcomes if verbose or _kind(o) < 2),
        key=lambda o: (_kind(o), o.status, o.path),
    )
    rows = (([o.path, o.status], ("red", "yellow", "green")[_kind(o)]) for o in shown)
    ui.print_table(("file", "result"), rows, totals)
    for o in shown:
        for hint in o.hints if not o.ok else ():
            sys.stderr.write(f"kseal: hint: {o.path}: {hint}\n")
