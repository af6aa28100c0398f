"""Redaction for diffs: swap each value the rules encrypt for a keyed fingerprint of it.

A marker is ``<redacted:XXXXXXXX>``: the first 8 hex digits of HMAC-SHA256 under a per-user diff
key, over the value's path (``a:b:c``), a NUL byte and its plaintext. The same value at the same
path gives the same marker on both sides of a diff (whatever IV or data key encrypted it), a
changed value gives a different one, and without the diff key a marker reveals nothing.

Pure: the diff key is a parameter; the CLI owns where it is stored.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable

from kseal.sops.codec import to_bytes
from kseal.sops.rules import Rules, Selector
from kseal.sops.tree import Branch, Comment, Leaf, leaves

# (path, plaintext bytes) -> the text shown instead of the value.
Marker = Callable[[tuple[str, ...], bytes], str]

DIFF_KEY_SIZE = 32
FINGERPRINT_HEX = 8


def hmac_marker(diff_key: bytes) -> Marker:
    """The ``<redacted:XXXXXXXX>`` marker function keyed with ``diff_key``."""
    if len(diff_key) != DIFF_KEY_SIZE:
        raise ValueError(f"a diff key is {DIFF_KEY_SIZE} bytes, not {len(diff_key)}")

    def marker(path: tuple[str, ...], plaintext: bytes) -> str:
        message = ":".join(path).encode("utf-8", "surrogateescape") + b"\0" + plaintext
        digest = hmac.new(diff_key, message, hashlib.sha256).hexdigest()
        return f"<redacted:{digest[:FINGERPRINT_HEX]}>"

    return marker


def redact(docs: list[Branch], rules: Rules, marker: Marker) -> int:
    """Replace, in place, every leaf ``rules`` select with ``marker(path, plaintext)``.

    Values and comments the rules leave in the clear are kept, as are nulls and empty strings or
    comments (sops never encrypts those). Returns how many leaves were redacted.
    """
    selector = Selector(rules)
    count = 0
    for doc in docs:
        # Collect first, then edit: a replaced comment must not change what later leaves see.
        snapshot: list[Leaf] = list(leaves(doc))
        for leaf in snapshot:
            value = leaf.value
            if value is None:
                continue
            is_comment = isinstance(value, Comment)
            if not selector.should_encrypt(leaf.path, leaf.comments, is_comment):
                continue
            plain, kind = to_bytes(value)
            if not plain and kind in ("str", "comment"):
                continue
            text = marker(leaf.path, plain)
            leaf.replace(Comment(f" {text}") if is_comment else text)
            count += 1
    return count
