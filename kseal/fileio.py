"""Reading inputs and writing outputs safely.

Writes are atomic and go through symbolic links, as sops's do: the link's target is replaced,
keeping its mode and (when allowed) its owner, and the link stays a link. The new content is
written to a nameless file in the target's directory (Linux ``O_TMPFILE``), fsynced, and only
then given a name, so a process killed mid-write (even by SIGKILL) leaves nothing behind. Where
the file system has no nameless files, the temporary file is ``.NAME.kseal-tmp-PID-XXXX`` (0600,
locked while written): the next kseal write in that directory removes a dead run's one and says
so, and ``kseal check`` flags one that got staged. A file that will hold plaintext is never
readable by group or others (0600 when new).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import stat
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from kseal.errors import InputError, NoFileError, OutputError
from kseal.tempnames import temp_file_pid, temp_file_prefix

# Cleared by tests to exercise the named fallback used where O_TMPFILE is missing.
USE_TMPFILE = hasattr(os, "O_TMPFILE")
# Errors meaning "no nameless files here": fall back to a named temporary file.
_NO_TMPFILE = {errno.EOPNOTSUPP, errno.EISDIR, errno.EINVAL, errno.ENOENT, errno.EXDEV}
_NO_LINK = {*_NO_TMPFILE, errno.EPERM, errno.EACCES}
_cleaned: set[str] = set()
_warned: set[str] = set()


def warn(message: str) -> None:
    sys.stderr.write(f"kseal: warning: {message}\n")
    sys.stderr.flush()


def warn_if_exposed(path: str | Path, what: str) -> None:
    """Warn (once per file) when a file holding private key material is open to group or others:
    ssh refuses such a key file outright; kseal says so and goes on."""
    key = os.path.abspath(path)
    if key in _warned:
        return
    try:
        st = os.stat(path)
    except OSError:
        return
    if not stat.S_ISREG(st.st_mode) or not st.st_mode & 0o077:
        return
    _warned.add(key)
    mode = stat.S_IMODE(st.st_mode)
    warn(
        f"{path}: this {what} is accessible to group or others (mode {mode:04o}), "
        f"which ssh would refuse for a key; run: chmod 600 {path}"
    )


def read_input(path: str | None) -> bytes:
    """The bytes of ``path``, or of stdin when ``path`` is None or ``-``."""
    if path is None or path == "-":
        return sys.stdin.buffer.read()
    try:
        return Path(path).read_bytes()
    except FileNotFoundError:
        raise NoFileError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a directory") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror}") from None


def write_output(path: str | None, data: bytes, *, plaintext: bool) -> None:
    """Write ``data`` to ``path`` atomically, or to stdout when ``path`` is None or ``-``."""
    if path is None or path == "-":
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return
    write_atomic(Path(path), data, plaintext=plaintext)


def write_atomic(path: Path, data: bytes, *, plaintext: bool) -> None:
    """Replace the file ``path`` names (through symbolic links) with ``data``, atomically."""
    target = Path(os.path.realpath(path))
    directory = target.parent
    owner: tuple[int, int] | None = None
    try:
        st = target.stat()
        mode = stat.S_IMODE(st.st_mode)
        owner = (st.st_uid, st.st_gid)
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    except OSError as exc:
        raise OutputError(f"{path}: cannot write: {exc.strerror}") from None
    if plaintext:
        mode &= 0o700
        mode |= 0o600
    remove_dead_temps(directory)
    fd, named = _create(directory, target.name, path)
    try:
        _fill(fd, data, mode, owner)
        if named is None:
            try:
                _link_into_place(fd, target)
            except OSError as exc:
                if exc.errno not in _NO_LINK:
                    raise
                os.close(fd)  # no linking nameless files here: write a named one instead
                fd = -1
                fd, named = _create_named(directory, target.name)
                _fill(fd, data, mode, owner)
        if named is not None:
            os.replace(named, target)
            named = None
    except BaseException as exc:
        if named is not None:
            scrub(named)
        if isinstance(exc, OSError):
            raise OutputError(f"{path}: cannot write: {exc.strerror}") from None
        raise
    finally:
        if fd >= 0:
            os.close(fd)
    _fsync_dir(directory)


def _fill(fd: int, data: bytes, mode: int, owner: tuple[int, int] | None) -> None:
    _write_all(fd, data)
    os.fchmod(fd, mode)
    if owner is not None:
        _keep_owner(fd, owner)
    os.fsync(fd)
    _test_pause()


def _create(directory: Path, name: str, shown: Path) -> tuple[int, Path | None]:
    """An open file in ``directory``: nameless when possible (then the path is None)."""
    try:
        if USE_TMPFILE and os.path.isdir("/proc/self/fd"):
            try:
                return os.open(directory, os.O_TMPFILE | os.O_WRONLY, 0o600), None
            except OSError as exc:
                if exc.errno not in _NO_TMPFILE:
                    raise
        return _create_named(directory, name)
    except OSError as exc:
        raise OutputError(f"{shown}: cannot create a file in {directory}: {exc.strerror}") from None


def _create_named(directory: Path, name: str) -> tuple[int, Path]:
    prefix = temp_file_prefix(name, os.getpid())
    for _ in range(100):
        candidate = directory / (prefix + os.urandom(4).hex())
        try:
            fd = os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            continue
        hold_lock(fd)  # "still being written", even where the pid says nothing (namespaces)
        return fd, candidate
    raise FileExistsError(errno.EEXIST, "cannot find a free temporary name")


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _keep_owner(fd: int, owner: tuple[int, int]) -> None:
    """The replaced file's owner and group, as far as this user may set them."""
    if owner == (os.geteuid(), os.getegid()):
        return
    try:
        os.fchown(fd, *owner)
    except OSError:
        with contextlib.suppress(OSError):
            os.fchown(fd, -1, owner[1])


def _link_into_place(fd: int, target: Path) -> None:
    """Give the nameless file ``fd`` the name ``target``, replacing what is there."""
    dir_fd = os.open(target.parent, os.O_RDONLY | os.O_DIRECTORY)
    try:
        _link_at(fd, dir_fd, target)
    finally:
        os.close(dir_fd)


def _link_at(fd: int, dir_fd: int, target: Path) -> None:
    # Passing a directory fd makes os.link call linkat(..., AT_SYMLINK_FOLLOW), which follows the
    # /proc magic link to the open file; without one, CPython calls link(), which does not.
    source = f"/proc/self/fd/{fd}"

    def link(name: str) -> None:
        os.link(source, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd, follow_symlinks=True)

    if not os.path.lexists(target):
        try:
            link(target.name)
            return
        except FileExistsError:
            pass  # created meanwhile: replace it below
    # link() cannot replace a file: name it for an instant, then rename over the target
    prefix = temp_file_prefix(target.name, os.getpid())
    while True:
        named = prefix + os.urandom(4).hex()
        try:
            link(named)
            break
        except FileExistsError:
            continue
    try:
        os.replace(named, target.name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(named, dir_fd=dir_fd)
        raise


def _fsync_dir(directory: Path) -> None:
    with contextlib.suppress(OSError):
        dir_fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def _test_pause() -> None:
    """Test hook: the data is written and synced, the target not yet replaced. Tests SIGKILL the
    process here; the hook touches the file the variable names, then waits."""
    marker = os.environ.get("KSEAL_TEST_PAUSE_BEFORE_RENAME")
    if marker:
        Path(marker).touch()
        time.sleep(60)


def hold_lock(fd: int) -> None:
    """Mark the open file as in use until this process ends (see :func:`in_use`)."""
    with contextlib.suppress(OSError):
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)


def in_use(path: str) -> bool:
    """Whether a live process holds the :func:`hold_lock` lock on ``path``. The lock dies with
    its process, even on SIGKILL, and holds across pid namespaces sharing the file system."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    except OSError:
        return False
    finally:
        os.close(fd)
    return False


def pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # someone else's process: alive
    return True


def dead_leftovers(
    directory: str | Path, pid_of: Callable[[str], int | None], is_kind: Callable[[int], bool]
) -> Iterator[tuple[os.DirEntry[str], int]]:
    """The entries of ``directory`` that killed kseal runs left behind: named for a pid (by
    ``pid_of``) that is gone, of the right kind (``is_kind`` on the mode), owned by this user and
    not locked (a live run in another pid namespace keeps its files), with that pid."""
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return
    for entry in entries:
        pid = pid_of(entry.name)
        if pid is None or pid_alive(pid):
            continue
        try:
            st = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        if is_kind(st.st_mode) and st.st_uid == os.geteuid() and not in_use(entry.path):
            yield entry, pid


def remove_dead_temps(directory: Path) -> None:
    """Remove the temporary files of killed kseal runs in ``directory`` (once per process)."""
    key = str(directory)
    if key in _cleaned:
        return
    _cleaned.add(key)
    for entry, pid in dead_leftovers(directory, temp_file_pid, stat.S_ISREG):
        scrub(Path(entry.path))
        if not os.path.lexists(entry.path):
            warn(f"removed {entry.path}: a temporary file left by a killed kseal run (pid {pid})")


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
