"""Is this a SOPS file? One answer for ``kseal check``, ``diff``'s Git setup and ``filestatus``."""

from __future__ import annotations

from kseal.errors import KsealError


def has_sops_metadata(data: bytes, fmt: str) -> bool:
    """Whether ``data``, read as format ``fmt``, carries a ``sops`` metadata block. Input that
    does not mention "sops" is not parsed; input that does not parse has none."""
    if b"sops" not in data:
        return False
    from kseal.sops.stores import get_store

    try:
        return get_store(fmt).load(data).metadata is not None
    except (KsealError, ValueError):
        return False
