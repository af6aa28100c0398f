"""Helpers shared by the sops-style commands: choosing stores and unwrapping data keys.

This is the stable surface other command modules build on (``exec-env``, ``diff``, ``edit``...):
keep these signatures.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from kseal.errors import DecryptionOrderError

if TYPE_CHECKING:
    from kseal.sops.engine import Decrypted
    from kseal.sops.metadata import Metadata
    from kseal.sops.stores import Store


@dataclass
class Settings:
    """What the global options asked for (set once per process by the root command)."""

    verbose: bool = False


SETTINGS = Settings()


def decryption_order(text: str) -> list[str]:
    """Parse sops's ``--decryption-order``/``SOPS_DECRYPTION_ORDER``: comma-separated key types,
    each at most once (checked as sops does, not trimmed or case-folded; unknown types are
    allowed). kseal has only age keys, so the order changes nothing else."""
    if text == "":
        return []
    seen: list[str] = []
    for kind in text.split(","):
        if kind in seen:
            raise DecryptionOrderError(
                f"duplicate decryption key type: {kind!r}",
                hints=["name each key type once in --decryption-order / SOPS_DECRYPTION_ORDER"],
            )
        seen.append(kind)
    return seen


def stores_for(
    file: str | None,
    override: str | None = None,
    in_type: str | None = None,
    out_type: str | None = None,
) -> tuple[Store, Store]:
    """(input store, output store) for ``file``: from the flags, else from the file name."""
    from kseal.sops.stores import format_for_path, get_store

    name = override or (file if file not in (None, "-") else None)
    detected = format_for_path(name) if name else "binary"
    in_store = get_store(in_type or detected)
    out_store = get_store(out_type) if out_type else in_store
    return in_store, out_store


def unwrap(metadata: Metadata) -> bytes:
    """The data key of a file, from the identities this user has (raises KeyRetrievalError).
    Passphrase-protected identity files are unlocked by asking on the terminal, when needed."""
    from kseal.identities import unwrap_data_key

    return unwrap_data_key(metadata, os.environ, Path.home(), ask_passphrase)


def ask_passphrase(label: str) -> str | None:
    """Read a passphrase from the controlling terminal (never from stdin, which may be data)."""
    import getpass

    try:
        fd = os.open("/dev/tty", os.O_RDWR | os.O_NOCTTY)
    except OSError:
        return None
    with open(fd, "w", encoding="utf-8", closefd=True) as tty:
        try:
            return getpass.getpass(f"Passphrase for the age identity file {label}: ", stream=tty)
        except (EOFError, OSError):
            return None


def save_reencrypted(file: str, dec: Decrypted, store: Store, source: object | None) -> None:
    """Re-encrypt ``dec`` under its own data key (unchanged values keep their ciphertext) and
    write it atomically over ``file``; ``source`` is the text layout to keep."""
    from datetime import UTC, datetime

    from kseal.fileio import write_atomic
    from kseal.sops.workflows import reencrypt

    out = reencrypt(
        dec,
        store,
        dec.key,
        random=os.urandom,
        now=datetime.now(UTC),
        stash=dec.stash,
        source=source,
    )
    write_atomic(Path(file), out, plaintext=False)


def decrypt_file(
    path: str,
    *,
    input_type: str | None = None,
    ignore_mac: bool = False,
    keep_stash: bool = False,
) -> Decrypted:
    """Read and decrypt ``path``: the plaintext trees, the metadata and the store's source
    (``keep_stash``: and the old ciphertexts, to re-encrypt unchanged values identically)."""
    from kseal.fileio import read_input
    from kseal.sops import engine

    store, _ = stores_for(path, None, input_type, None)
    return engine.decrypt_tree(
        read_input(path), store, unwrap=unwrap, ignore_mac=ignore_mac, keep_stash=keep_stash
    )


def decrypt_to_change(
    file: str, data: bytes, store: Store, *, ignore_mac: bool = False, keep_stash: bool = False
) -> Decrypted:
    """Decrypt ``data`` (the bytes of ``file``) for a command that will change it (edit, set,
    unset, rotate); a file that is not encrypted yet gets the hint to encrypt it first."""
    from kseal.errors import NotEncryptedError
    from kseal.sops import engine

    try:
        return engine.decrypt_tree(
            data, store, unwrap=unwrap, ignore_mac=ignore_mac, keep_stash=keep_stash
        )
    except NotEncryptedError as exc:
        raise NotEncryptedError(
            f"{file}: {exc.message}",
            hints=[f"encrypt it first: kseal encrypt -i {file}", *exc.hints],
        ) from None
