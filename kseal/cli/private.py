"""Plaintext that must touch a file system for a moment (``edit``, ``exec-file --no-fifo``):
a fresh 0700 directory, on a RAM-backed file system when there is one, and files that are
overwritten before they are removed, whatever happens.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import tempfile
from collections.abc import Iterator
from pathlib import Path


def private_dir() -> str:
    """A new 0700 directory, on a RAM-backed file system when one is available."""
    for base in (os.environ.get("XDG_RUNTIME_DIR"), "/dev/shm"):  # noqa: S108 - mkdtemp inside
        if base and os.path.isdir(base) and os.access(base, os.W_OK | os.X_OK):
            with contextlib.suppress(OSError):
                return tempfile.mkdtemp(prefix="kseal-", dir=base)
    return tempfile.mkdtemp(prefix="kseal-")


@contextlib.contextmanager
def signals_unwind() -> Iterator[None]:
    """Turn SIGTERM and SIGHUP into SystemExit(128 + N) so ``finally`` blocks still run."""
    previous = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGHUP)}

    def stop(signum: int, _frame: object) -> None:
        raise SystemExit(128 + signum)

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


def scrub(path: Path) -> None:
    """Overwrite the file in place before unlinking it (best effort; editors may have renamed)."""
    with contextlib.suppress(OSError):
        if not path.is_file() or path.is_symlink():
            raise OSError("not a regular file")  # a FIFO or a link: nothing to overwrite
        size = path.stat().st_size
        with open(path, "r+b") as fh:
            fh.write(b"\0" * size)
            fh.flush()
            os.fsync(fh.fileno())
    with contextlib.suppress(OSError):
        path.unlink()
