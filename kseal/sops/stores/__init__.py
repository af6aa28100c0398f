"""Stores: turn file bytes into document trees and back, one module per format.

The protocol and the helpers every store shares live in :mod:`kseal.sops.stores.base`; this
package picks the store for a format, importing only the module that format needs.
"""

from __future__ import annotations

from kseal.errors import ExitCode, InputError
from kseal.sops.stores.base import (
    FORMATS,
    Loaded,
    Store,
    format_for_path,
    scalar_text,
)

__all__ = ["FORMATS", "Loaded", "Store", "format_for_path", "get_store", "scalar_text"]


def get_store(name: str) -> Store:
    """The store for a format name (imports only the module that format needs)."""
    if name == "yaml":
        from kseal.sops.stores.yaml_store import YamlStore

        return YamlStore()
    if name == "json":
        from kseal.sops.stores.json_store import JsonStore

        return JsonStore()
    if name == "dotenv":
        from kseal.sops.stores.dotenv import DotenvStore

        return DotenvStore()
    if name == "ini":
        from kseal.sops.stores.ini import IniStore

        return IniStore()
    if name == "binary":
        from kseal.sops.stores.binary import BinaryStore

        return BinaryStore()
    raise InputError(
        f"unknown format {name!r}",
        hints=[f"use one of: {', '.join(FORMATS)}"],
        exit_code=ExitCode.INPUT,
    )
