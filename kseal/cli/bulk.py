"""Many files in one process: path expansion, a progress bar on a terminal, a summary, and
per-file failures that do not stop the others.

A command is in bulk mode when it gets more than one path, a directory, or a quoted glob. Each
file's action is the one-file worker, which knows nothing of bulk mode: it returns a short status
(``"encrypted"``) or raises. :func:`run` decides what an error means: a :class:`Skip`, or an
error of a type in its ``skip`` policy, is counted as a skip; any other :class:`KsealError` is a
failure (reported, then the next file). The exit status is 0 when every
file succeeded or was skipped, else the exit code of the first failure. On a terminal the summary
lists the failures and skips (every file with ``--verbose``), then the totals; elsewhere each file
gets a log line as it is done.
"""

from __future__ import annotations

import fnmatch
import os
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from kseal.cli import ui
from kseal.cli.common import SETTINGS
from kseal.errors import ConflictError, ExitCode, KsealError, NoFileError, NotEncryptedError
from kseal.filewalk import files_under

# File name endings a directory walk considers; explicitly named files are always taken.
KNOWN_SUFFIXES = (".yaml", ".yml", ".json", ".env", ".ini")


class Skip(Exception):
    """This file needs nothing (already up to date, declined...): the worker's own decision."""


class Status(Enum):
    """What became of one file; the summary lists failures, then skips, then successes."""

    FAILED = 0
    SKIPPED = 1
    DONE = 2


# Errors that, in bulk mode, mean "nothing to do for this file", with the reason shown.
SkipPolicy = Mapping[type[KsealError], str]
NOT_ENCRYPTED: SkipPolicy = {NotEncryptedError: "not encrypted"}


def mentions_sops(path: Path) -> bool:
    """A cheap test before a parse: a file that never says "sops" holds no sops metadata (a Helm
    template in a tree is skipped, not parsed)."""
    try:
        return b"sops" in path.read_bytes()
    except OSError:
        return True  # the worker reports the read error


@dataclass(frozen=True)
class Outcome:
    path: str
    status: Status
    text: str
    code: int = ExitCode.OK
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
    verb: str,
    files: list[Path],
    action: Callable[[Path], str],
    *,
    skip: SkipPolicy | None = None,
    only_encrypted: bool = False,
    interactive: bool = False,
) -> int:
    """Run ``action`` on each file: errors of a type in ``skip`` are skips (with its reason);
    ``only_encrypted`` skips, unparsed, the files that never mention sops; ``interactive``
    actions prompt, so no progress bar."""
    outcomes: list[Outcome] = []
    tty = sys.stderr.isatty()
    bar = tty and len(files) > 1 and not interactive
    progress = ui.FileProgress(verb, len(files)) if bar else None
    try:
        for path in files:
            if progress is not None:
                progress.show(str(path))
            if only_encrypted and not mentions_sops(path):
                outcomes.append(Outcome(str(path), Status.SKIPPED, "skipped: not encrypted"))
            else:
                outcomes.append(_one(path, action, skip or {}))
            if progress is not None:
                progress.advance()
            elif not tty:
                _line(outcomes[-1])
    finally:
        if progress is not None:
            progress.stop()
    _summary(verb, outcomes, tty, SETTINGS.verbose)
    failed = [o for o in outcomes if o.status is Status.FAILED]
    return failed[0].code if failed else ExitCode.OK


def _one(path: Path, action: Callable[[Path], str], skip: SkipPolicy) -> Outcome:
    try:
        return Outcome(str(path), Status.DONE, action(path))
    except Skip as decided:
        return Outcome(str(path), Status.SKIPPED, f"skipped: {decided}")
    except KsealError as err:
        why = next((text for kind, text in skip.items() if isinstance(err, kind)), None)
        if why is not None:
            return Outcome(str(path), Status.SKIPPED, f"skipped: {why}")
        return Outcome(str(path), Status.FAILED, err.message, err.exit_code, err.hints)


def _line(o: Outcome) -> None:
    failed = o.status is Status.FAILED
    sys.stderr.write(f"kseal: {o.path}: {'FAILED' if failed else 'ok'}: {o.text}\n")
    for hint in o.hints if failed else ():
        sys.stderr.write(f"kseal: hint: {hint}\n")


def _summary(verb: str, outcomes: list[Outcome], tty: bool, verbose: bool) -> None:
    """On a terminal: a table of the failures and skips (every file with ``--verbose``), sorted
    by status, then the totals, so a failure never scrolls away in a long run."""
    failed = sum(o.status is Status.FAILED for o in outcomes)
    skipped = sum(o.status is Status.SKIPPED for o in outcomes)
    done = len(outcomes) - failed - skipped
    totals = f"{verb}: {done} done, {skipped} skipped, {failed} failed"
    if not tty:
        sys.stderr.write(f"kseal: {totals}\n")
        return
    shown = sorted(
        (o for o in outcomes if verbose or o.status is not Status.DONE),
        key=lambda o: (o.status.value, o.text, o.path),
    )
    rows = (([o.path, o.text], ("red", "yellow", "green")[o.status.value]) for o in shown)
    ui.print_table(("file", "result"), rows, totals)
    for o in shown:
        for hint in o.hints if o.status is Status.FAILED else ():
            sys.stderr.write(f"kseal: hint: {o.path}: {hint}\n")
