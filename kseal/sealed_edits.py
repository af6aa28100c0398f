"""Edits of existing SealedSecrets: kubeseal's ``--merge-into`` and re-sealing for a new key.
Pure: keys are parameters; the shape of every input is checked first.
"""

from __future__ import annotations

import base64
import copy
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from kseal import sealed
from kseal.secret import (
    KEY_ANNOTATION,
    check_kind,
    check_sealed_secret,
    order_keys,
    scope_of_sealed,
    sealed_key_hint,
    sealed_spec,
    unseal_with,
)
from kseal.shapes import child, mapping

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey


def merge_sealed(target: dict[str, Any], update: dict[str, Any]) -> dict[str, Any]:
    """kubeseal's ``--merge-into``: ``update``'s encryptedData items, and its template labels,
    annotations and data, replace or join those of ``target`` (a new object is returned).
    Everything else of ``target`` (its name, namespace, scope and type) stays."""
    check_sealed_secret(target)
    template, encrypted = sealed_spec(update)
    u_meta = mapping(template.get("metadata"), "spec.template.metadata")
    merged = copy.deepcopy(target)
    spec = child(merged, "spec", "spec")
    if encrypted or "encryptedData" not in spec:
        child(spec, "encryptedData", "spec.encryptedData").update(encrypted)
    additions = {
        ("metadata", "labels"): u_meta.get("labels"),
        ("metadata", "annotations"): u_meta.get("annotations"),
        ("data",): template.get("data"),
    }
    for path, values in additions.items():
        if not values:
            continue
        node = child(spec, "template", "spec.template")
        where = "spec.template"
        for field in path:
            where += f".{field}"
            node = child(node, field, where)
        node.update(values)
    return merged


def reseal_sealed_secret(
    sealed_secret: dict[str, Any],
    private_keys: Sequence[RSAPrivateKey],
    public_key: RSAPublicKey,
    fingerprint: str,
) -> None:
    """Re-encrypt every item in place for ``public_key``, each keeping its label."""
    check_kind(sealed_secret)
    namespace, name, scope = scope_of_sealed(sealed_secret)
    oaep_label = sealed.label(namespace, name, scope)
    candidates = order_keys(private_keys, sealed_key_hint(sealed_secret))
    _template, items = sealed_spec(sealed_secret)
    resealed: dict[str, str] = {}
    for key in sorted(items):
        plain, used = unseal_with(candidates, base64.b64decode(items[key]), oaep_label)
        candidates.remove(used)
        candidates.insert(0, used)
        resealed[key] = base64.b64encode(sealed.seal(public_key, plain, oaep_label)).decode()
    spec = child(sealed_secret, "spec", "spec")
    child(spec, "encryptedData", "spec.encryptedData").update(resealed)
    meta = child(sealed_secret, "metadata", "metadata")
    child(meta, "annotations", "metadata.annotations")[KEY_ANNOTATION] = fingerprint
