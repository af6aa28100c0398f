"""The names kseal gives files and directories that may briefly hold plaintext.

Each carries the pid of the process that made it, so a later run can tell a dead run's leftovers
(removed, with a warning) from a live one's, and ``kseal check`` can flag one that got staged.
Pure: names in, names out.
"""

from __future__ import annotations

import re

# .NAME.kseal-tmp-PID-TOKEN: the fallback temporary file of an atomic write (kseal.fileio)
_FILE = re.compile(r"\.(?P<target>.+)\.kseal-tmp-(?P<pid>[0-9]+)-[A-Za-z0-9_]+\Z")
# kseal-PID-XXXXXXXX: a private directory for edit / exec-file (kseal.cli.private)
_DIR = re.compile(r"kseal-(?P<pid>[0-9]+)-[A-Za-z0-9_]+\Z")


def temp_file_prefix(target: str, pid: int) -> str:
    """The start of a temporary name for writing ``target`` (a random token follows)."""
    return f".{target}.kseal-tmp-{pid}-"


def temp_file_pid(name: str) -> int | None:
    """The pid in a kseal temporary file name; None when ``name`` is not one."""
    m = _FILE.match(name)
    return int(m.group("pid")) if m else None


def temp_file_target(name: str) -> str | None:
    """The file a kseal temporary file was going to replace; None when ``name`` is not one."""
    m = _FILE.match(name)
    return m.group("target") if m else None


def private_dir_prefix(pid: int) -> str:
    return f"kseal-{pid}-"


def private_dir_pid(name: str) -> int | None:
    """The pid in a kseal private directory name; None when ``name`` is not one."""
    m = _DIR.match(name)
    return int(m.group("pid")) if m else None
