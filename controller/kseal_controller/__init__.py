"""kseal's in-cluster controller: a drop-in for the Bitnami sealed-secrets controller.

It imports :mod:`kseal` (the sealed format, keys, unseal rules); :mod:`kseal` never imports it.
"""

from __future__ import annotations

from kseal import __version__

__all__ = ["__version__"]
