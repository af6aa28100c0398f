"""What the HTTP endpoints do: the certificate, ``/v1/verify`` and ``/v1/rotate``, over the
running controller's key ring (the server itself is :mod:`kseal_controller.http`)."""

from __future__ import annotations

import copy
import json
from typing import TYPE_CHECKING, Any

from kseal.errors import KsealError
from kseal.secret import check_sealed_secret, unseal_items

if TYPE_CHECKING:
    from kseal_controller.controller import Controller

def parse_one(body: bytes) -> dict[str, Any]:
    """The one SealedSecret of a request body (JSON or YAML): the server's own parse
    (:func:`kseal_controller.http.parse_sealed_secret`), then the SealedSecret's shape.
    A ValueError whose message quotes nothing of the body otherwise."""
    from kseal_controller.http import parse_sealed_secret

    document = parse_sealed_secret(body)
    try:
        check_sealed_secret(document)
    except KsealError as exc:
        raise ValueError(exc.message) from None
    return document


def with_top_metadata(sealed_secret: dict[str, Any]) -> dict[str, Any]:
    """A copy whose template metadata takes the name, namespace, labels and annotations of the
    top-level metadata, as the original's rotate does since 0.36 (a template cannot claim a
    wider scope than the one its values were sealed for)."""
    out = copy.deepcopy(sealed_secret)
    top = out.get("metadata") or {}
    template = out.setdefault("spec", {}).setdefault("template", {})
    meta = dict(template.get("metadata") or {})
    for field in ("name", "namespace", "labels", "annotations"):
        if field in top:
            meta[field] = copy.deepcopy(top[field])
        else:
            meta.pop(field, None)
    template["metadata"] = meta
    return out


class Handlers:
    """:class:`kseal_controller.http.Handlers` over a :class:`Controller`."""

    def __init__(self, controller: Controller) -> None:
        self.controller = controller

    def cert_pem(self) -> bytes | None:
        latest = self.controller.keyring.latest()
        return None if latest is None else latest.cert_pem

    def verify(self, body: bytes) -> bool:
        sealed_secret = parse_one(body)
        try:
            unseal_items(
                sealed_secret,
                self.controller.keyring.private_keys(),
                on_attempt=self.controller.metrics.rsa_operation,
            )
        except KsealError:
            return False
        return True

    def rotate(self, body: bytes) -> bytes:
        """The SealedSecret re-sealed for the newest key (KsealError when it cannot be opened)."""
        from kseal.sealed_edits import reseal_sealed_secret

        sealed_secret = with_top_metadata(parse_one(body))
        latest = self.controller.keyring.latest()
        if latest is None:
            raise KsealError("no sealing key")
        reseal_sealed_secret(
            sealed_secret,
            self.controller.keyring.private_keys(),
            latest.private_key.public_key(),
            latest.fingerprint,
        )
        return json.dumps(sealed_secret, sort_keys=False).encode()
