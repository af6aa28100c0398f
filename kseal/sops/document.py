"""Encrypting and decrypting whole document trees, and the document MAC.

The MAC is SHA-512 over the Go text form of every non-null, non-comment leaf in walk order (only
the selected leaves when ``mac_only_encrypted``), as 128 uppercase hex digits. It is stored
encrypted under the data key with the ``lastmodified`` string as AAD. Trees are edited in place.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from kseal.errors import DecryptError, MacError
from kseal.sops.codec import Cipher, is_encrypted_value, sealed_bytes, to_bytes
from kseal.sops.rules import Rules, Selector
from kseal.sops.tree import Branch, Comment, FloatText, Scalar, leaves

# sha256(b"sops"): seeds the MAC when only encrypted values are authenticated.
MAC_ONLY_ENCRYPTED_INIT = hashlib.sha256(b"sops").digest()

IvSource = Callable[[], bytes]
# (path, value kind, plaintext) -> the ciphertexts that value had, used at most once each.
StashKey = tuple[tuple[str, ...], str, bytes]
Stash = dict[StashKey, list[str]]


def _new_hash(rules: Rules) -> hashlib._Hash:
    h = hashlib.sha512()
    if rules.mac_only_encrypted:
        h.update(MAC_ONLY_ENCRYPTED_INIT)
    return h


def encrypt_docs(
    docs: list[Branch],
    key: bytes,
    rules: Rules,
    new_iv: IvSource,
    *,
    stash: Stash | None = None,
) -> str:
    """Encrypt the selected leaves of ``docs`` in place and return the MAC (hex).

    ``stash`` (filled by :func:`decrypt_docs` under the same key) maps (path, kind, plaintext)
    to previous ciphertexts: a value that did not change keeps its old ciphertext, so diffs show
    only real changes. Each old ciphertext is used at most once, so two equal values never share
    a ciphertext unless they already did. Only pass a stash made under the same data key.
    """
    cipher = Cipher(key)
    selector = Selector(rules)
    comments = selector.uses_comments
    h = _new_hash(rules)
    aads = _Aads()
    for doc in docs:
        for leaf in leaves(doc):
            value = leaf.value
            if value is None:
                continue
            is_comment = isinstance(value, Comment)
            selected = selector.should_encrypt(
                leaf.path, leaf.comments if comments else (), is_comment
            )
            plain, kind = to_bytes(value)
            if not is_comment and (selected or not rules.mac_only_encrypted):
                h.update(plain)
            if not selected:
                continue
            if not plain and kind in ("str", "comment"):
                enc = ""
            else:
                olds = stash.get((leaf.path, kind, plain)) if stash else None
                previous = olds.pop(0) if olds else None
                if previous is None:
                    sealed = sealed_bytes(value)[0] if isinstance(value, FloatText) else plain
                    previous = cipher.encrypt_raw(sealed, kind, aads[leaf.path], new_iv())
                enc = previous
            leaf.replace(Comment(enc) if is_comment else enc)
    return h.hexdigest().upper()


class _Aads(dict[tuple[str, ...], str]):
    """The additional data of each path (``a:b:c:``), made once per path."""

    def __missing__(self, path: tuple[str, ...]) -> str:
        aad = self[path] = ":".join(path) + ":"
        return aad


def decrypt_docs(
    docs: list[Branch],
    key: bytes,
    rules: Rules,
    *,
    stash: Stash | None = None,
    in_clear: list[str] | None = None,
) -> str:
    """Decrypt the selected leaves of ``docs`` in place and return the MAC of the plaintext (hex).

    With ``stash`` given, records (path, kind, plaintext) -> ciphertexts for re-encryption. A
    selected value that is not an ``ENC[...]`` value (pasted in the clear into an encrypted file)
    is an error, unless ``in_clear`` is given: then it is kept as it is and its path is appended.
    """
    cipher = Cipher(key)
    selector = Selector(rules)
    comments = selector.uses_comments
    h = _new_hash(rules)
    aads = _Aads()
    for doc in docs:
        for leaf in leaves(doc):
            value: Scalar = leaf.value
            if value is None:
                continue
            is_comment = isinstance(value, Comment)
            selected = selector.should_encrypt(
                leaf.path, leaf.comments if comments else (), is_comment
            )
            if selected and _in_clear(value):
                if in_clear is None:
                    raise _in_clear_error(leaf.path, value)
                in_clear.append(_where(leaf.path))
            elif selected:
                aad = aads[leaf.path]
                if isinstance(value, Comment):
                    enc = value.text
                    value = _decrypt_comment(cipher, value, aad)
                    if stash is not None and enc != value.text:
                        _remember(stash, leaf.path, value, enc)
                elif isinstance(value, str):
                    enc = value
                    try:
                        value = cipher.decrypt(enc, aad)
                    except DecryptError as exc:
                        raise DecryptError(
                            f"{exc.message} at {_where(leaf.path)}", hints=exc.hints
                        ) from None
                    if isinstance(value, Comment) and not leaf.in_seq:
                        raise DecryptError(
                            f"unsupported value type 'comment' at {_where(leaf.path)}",
                            hints=[
                                "sops writes it only for comments: the file was altered; restore "
                                "it from version control"
                            ],
                        )
                    if stash is not None and enc:
                        _remember(stash, leaf.path, value, enc)
                leaf.replace(value)
            # sops writes a comment that follows sequence items as a list element holding an
            # ENC[...type:comment] string; once decrypted it is a comment, outside the MAC.
            is_comment = is_comment or isinstance(value, Comment)
            if not is_comment and (selected or not rules.mac_only_encrypted):
                h.update(to_bytes(value)[0])
    return h.hexdigest().upper()


def _in_clear(value: Scalar) -> bool:
    """A value that should be encrypted but is not (sops writes an empty string as ``""``)."""
    return not isinstance(value, Comment) and value != "" and not is_encrypted_value(value)


def _in_clear_error(path: tuple[str, ...], value: Scalar) -> DecryptError:
    kind = "a string" if isinstance(value, str) else f"a {type(value).__name__}"
    return DecryptError(
        f"value at {_where(path)} should be encrypted but is {kind} in the clear",
        hints=[
            "someone wrote a plaintext value into the encrypted file; to re-encrypt it: "
            "kseal decrypt -i --ignore-mac FILE && kseal encrypt -i FILE",
        ],
    )


def _remember(stash: Stash, path: tuple[str, ...], value: Scalar, enc: str) -> None:
    plain, kind = to_bytes(value)
    stash.setdefault((path, kind, plain), []).append(enc)


def _decrypt_comment(cipher: Cipher, comment: Comment, aad: str) -> Comment:
    if not is_encrypted_value(comment.text):
        return comment  # written in the clear (older sops, or a rule excluded it)
    try:
        value = cipher.decrypt(comment.text, aad)
    except DecryptError:
        return comment
    return value if isinstance(value, Comment) else Comment(str(value))


def _where(path: tuple[str, ...]) -> str:
    return "".join(f'["{p}"]' for p in path) or "the top level"


def encrypt_mac(mac_hex: str, key: bytes, lastmodified: str, iv: bytes) -> str:
    return Cipher(key).encrypt(mac_hex, lastmodified, iv)


def check_mac(stored: str, computed: str, key: bytes, lastmodified: str) -> None:
    """Raise :class:`MacError` unless the stored MAC decrypts and equals ``computed``."""
    if not stored:
        raise MacError(
            "the file has no MAC", hints=["decrypt with --ignore-mac to bypass the integrity check"]
        )
    try:
        value = Cipher(key).decrypt(stored, lastmodified)
    except DecryptError:
        raise MacError(
            "cannot decrypt the MAC: the file or its lastmodified was altered",
            hints=["decrypt with --ignore-mac only if you trust this file"],
        ) from None
    if value != computed:
        raise MacError(
            "MAC mismatch: the file was modified after it was encrypted",
            hints=[
                "a value, comment-controlled selection or the document structure changed without "
                "re-encryption (a Git merge can do this)",
                "decrypt with --ignore-mac only if you trust this file, then re-encrypt it",
            ],
        )
