"""Protecting the data key with key groups: wrapping it for recipients, and getting it back.

With one group, every key in it wraps the data key itself. With several, the data key is split
with Shamir's scheme into one share per group (threshold: ``shamir_threshold``, all groups when 0,
as sops), and every key in a group wraps that group's share. Pure: wrapping, unwrapping and
randomness are parameters.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from kseal.errors import KeyRetrievalError
from kseal.sops import shamir
from kseal.sops.metadata import AgeKey, KeyGroup, Metadata

Wrap = Callable[[bytes, str], str]
Random = Callable[[int], bytes]
# Try the age keys of one group; the share or key they protect, or None with a reason.
OpenGroup = Callable[[KeyGroup], "bytes | str"]


def effective_threshold(groups: int, threshold: int) -> int:
    if groups <= 1:
        return threshold
    return threshold or groups


def seal(
    data_key: bytes,
    groups: Sequence[Sequence[str]],
    threshold: int,
    *,
    wrap: Wrap,
    random: Random,
) -> tuple[list[KeyGroup], int]:
    """Key groups protecting ``data_key`` for the age recipients of each group, and the
    threshold to record (0 when there is a single group and none was asked for)."""
    if not groups or not any(groups):
        raise KeyRetrievalError("no recipients to protect the data key with")
    threshold = effective_threshold(len(groups), threshold)
    if len(groups) == 1:
        shares = [data_key]
    else:
        if threshold < 2 or threshold > len(groups):
            raise KeyRetrievalError(
                f"shamir_threshold {threshold} is impossible with {len(groups)} key groups",
                hints=["the threshold must be between 2 and the number of key groups"],
            )
        shares = shamir.split(data_key, len(groups), threshold, random)
    out = [
        KeyGroup(age=[AgeKey(r, wrap(share, r)) for r in recipients])
        for share, recipients in zip(shares, groups, strict=True)
    ]
    return out, threshold


def open_key(metadata: Metadata, open_group: OpenGroup) -> bytes:
    """The data key, from enough groups; the error lists why each group failed."""
    groups = metadata.groups
    results = [open_group(g) for g in groups]
    shares = [r for r in results if isinstance(r, bytes)]
    if len(groups) <= 1:
        if shares:
            return shares[0]
        reason = results[0] if results and isinstance(results[0], str) else "no keys"
        raise KeyRetrievalError("no identity could decrypt the data key", hints=[reason])
    need = effective_threshold(len(groups), metadata.shamir_threshold)
    if len(shares) >= need:
        return shamir.combine(shares)
    hints = [
        f"key group {i + 1}: " + (r if isinstance(r, str) else "opened")
        for i, r in enumerate(results)
    ]
    raise KeyRetrievalError(
        f"only {len(shares)} of the {need} key groups needed could be opened "
        f"({len(groups)} groups, Shamir threshold {need})",
        hints=hints,
    )
