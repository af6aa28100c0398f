"""The two ``kseal edit`` flows: an existing encrypted file, and a new one from a template."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from kseal.cli.editor import ask_to_retry, run_editor
from kseal.cli.private import plaintext_file
from kseal.errors import InputError, KsealError

if TYPE_CHECKING:
    from kseal.sops.stores import Loaded, Store


def _edit_loop(name: str, store: Store, original: bytes) -> tuple[bytes, Loaded] | None:
    """Edit until the result parses; None when it is byte-for-byte unchanged."""
    with plaintext_file(name, original) as path:
        while True:
            run_editor(path)
            edited = path.read_bytes()
            if edited == original:
                return None
            try:
                loaded = store.load(edited)
                if loaded.metadata is not None:
                    raise InputError(
                        "the edited file contains a 'sops' metadata block",
                        hints=["remove the 'sops' key; kseal writes the metadata itself"],
                    )
                if not loaded.docs and store.structured:
                    raise InputError("the edited file holds no document")
            except KsealError as err:
                if not ask_to_retry(err):
                    raise KsealError("the edited file is invalid; nothing was written") from None
                continue
            return edited, loaded


def edit_existing(file: str, store: Store, *, ignore_mac: bool) -> bool:
    from kseal.cli.common import decrypt_to_change, save_reencrypted
    from kseal.fileio import read_input
    from kseal.sops import engine

    dec = decrypt_to_change(file, read_input(file), store, ignore_mac=ignore_mac, keep_stash=True)
    plaintext = store.emit(dec.docs, None, source=dec.source)
    result = _edit_loop(Path(file).name, store, plaintext)
    if result is None:
        return False
    _, loaded = result
    edited = engine.Decrypted(loaded.docs, dec.metadata, loaded.source, dec.key, dec.stash)
    save_reencrypted(file, edited, store, loaded.source)
    return True


def edit_new(
    file: str, store: Store, *, age: str | None, config: str | None, template: str
) -> bool:
    from kseal import agekey
    from kseal.cli.creation import recipients_and_rules
    from kseal.fileio import write_atomic
    from kseal.sops import engine
    from kseal.sops.rules import Rules

    groups, threshold, rules = recipients_and_rules(age, file, None, config)
    for group in groups:
        for r in group:
            agekey.parse_recipient(r)
    options = engine.EncryptOptions(
        groups=groups, rules=rules or Rules(), shamir_threshold=threshold
    )
    if not all(groups):
        raise KsealError(
            "a new file needs recipients",
            hints=["pass --age age1..., set SOPS_AGE_RECIPIENTS, or add a .sops.yaml rule"],
        )
    result = _edit_loop(Path(file).name, store, template.encode())
    if result is None:
        return False
    edited, _ = result
    out = engine.encrypt(
        edited,
        store,
        store,
        options,
        wrap=agekey.wrap_key,
        random=os.urandom,
        now=datetime.now(UTC),
        verify=True,
    )
    write_atomic(Path(file), out, plaintext=False)
    return True
