"""Plaintext that must touch a file system for a moment (``edit``, ``exec-file --no-fifo``):
a fresh 0700 directory, on a RAM-backed file system when there is one, and files that are
overwritten before they are removed, whatever happens.

SIGKILL cannot be caught, so the directory's name carries the owner's pid
(``kseal-PID-XXXXXXXX``) and the owner holds a lock on it (``flock``, released by the kernel
however the process ends): every kseal command first removes the directories of dead runs (pid
gone and lock free) and says so (:func:`remove_dead_runs`).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

from kseal.errors import killed_by
from kseal.fileio import dead_leftovers, hold_lock, scrub, warn
from kseal.tempnames import private_dir_pid, private_dir_prefix

__all__ = ["plaintext_file", "private_dir", "remove_dead_runs", "scrub", "signals_unwind"]

_owned: list[int] = []  # the locked directories of this process


def _bases() -> list[str]:
    return [b for b in (os.environ.get("XDG_RUNTIME_DIR"), "/dev/shm") if b]  # noqa: S108


def private_dir() -> str:
    """A new 0700 directory, on a RAM-backed file system when one is available."""
    prefix = private_dir_prefix(os.getpid())
    directory = None
    for base in _bases():
        if os.path.isdir(base) and os.access(base, os.W_OK | os.X_OK):
            with contextlib.suppress(OSError):
                directory = tempfile.mkdtemp(prefix=prefix, dir=base)
                break
    if directory is None:
        directory = tempfile.mkdtemp(prefix=prefix)
    # the directory itself stays open and locked until this process ends, however it ends
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    hold_lock(fd)
    _owned.append(fd)
    return directory


def remove_dead_runs() -> None:
    """Remove the private directories of kseal runs that were killed (SIGKILL, power loss of a
    RAM disk aside), overwriting their files first; a warning names each one."""
    for base in dict.fromkeys([*_bases(), tempfile.gettempdir()]):
        for entry, pid in dead_leftovers(base, private_dir_pid, stat.S_ISDIR):
            for root, _dirs, files in os.walk(entry.path):
                for name in files:
                    scrub(Path(root) / name)
            shutil.rmtree(entry.path, ignore_errors=True)
            warn(f"removed {entry.path}: plaintext left by a killed kseal run (pid {pid})")


@contextlib.contextmanager
def signals_unwind() -> Iterator[None]:
    """Turn SIGTERM and SIGHUP into SystemExit(128 + N) so ``finally`` blocks still run."""
    previous = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGHUP)}

    def stop(signum: int, _frame: object) -> None:
        raise SystemExit(killed_by(signum))

    try:
        for s in previous:
            signal.signal(s, stop)
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


@contextlib.contextmanager
def plaintext_file(name: str, data: bytes) -> Iterator[Path]:
    """A 0600 file holding ``data``; overwritten and removed on exit, even on signals."""
    with signals_unwind():
        directory = private_dir()
        path = Path(directory) / name
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            yield path
        finally:
            scrub(path)
            shutil.rmtree(directory, ignore_errors=True)
