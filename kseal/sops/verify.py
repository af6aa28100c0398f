"""The safety net for rewrites: new encrypted bytes are decrypted in memory and checked before
they may replace a file.

A command that rewrites an encrypted file (``set``, ``unset``, ``edit``, ``rotate``,
``updatekeys``, ``encrypt -i``) takes an :func:`outline` of the plaintext it means to write
*before* encrypting, then calls :func:`verify` on the bytes it produced: they must load, decrypt
under the data key, pass the MAC check and decrypt to the same outline. Otherwise the write is
refused with an :class:`~kseal.errors.InternalError` and the original stays untouched. Pure: no
I/O; messages name paths and reasons only, never values.
"""

from __future__ import annotations

from kseal.errors import InternalError, KsealError
from kseal.sops.codec import to_bytes
from kseal.sops.document import check_mac, decrypt_docs
from kseal.sops.metadata import from_plain
from kseal.sops.stores import Store
from kseal.sops.tree import Branch, Comment, leaves, shape

Outline = list[tuple[tuple[object, ...], list[tuple[str, bytes]]]]

# int and float share a text form in some stores (sops itself hashes the text): only the text and
# the broad kind must survive a rewrite.
_KIND = {"int": "number", "float": "number"}


def outline(docs: list[Branch]) -> Outline:
    """What a rewrite must preserve: each document's structure (comments aside) and the text and
    kind of every non-null value, in walk order."""
    out: Outline = []
    for doc in docs:
        values: list[tuple[str, bytes]] = []
        for leaf in leaves(doc):
            if leaf.value is None or isinstance(leaf.value, Comment):
                continue
            plain, kind = to_bytes(leaf.value)
            values.append((_KIND.get(kind, kind), plain))
        out.append((shape(doc), values))
    return out


def verify(data: bytes, store: Store, key: bytes, expected: Outline) -> None:
    """Raise :class:`InternalError` unless ``data`` decrypts under ``key``, passes its MAC check
    and decrypts to ``expected``."""
    try:
        loaded = store.load(data)
        if loaded.metadata is None:
            raise KsealError("it has no sops metadata")
        metadata = from_plain(loaded.metadata)
        mac = decrypt_docs(loaded.docs, key, metadata.rules)
        check_mac(metadata.mac, mac, key, metadata.lastmodified)
    except KsealError as exc:
        raise _refused(f"it would not decrypt: {exc.message}") from None
    if outline(loaded.docs) != expected:
        raise _refused("it would not decrypt to the intended content")


def _refused(why: str) -> InternalError:
    return InternalError(
        f"internal error: refusing to write the re-encrypted file, {why}; the original is "
        "untouched",
        hints=["this is a kseal bug: please report it, with the command (not the file's values)"],
    )
