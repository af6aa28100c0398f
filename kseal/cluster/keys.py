"""The controller's key Secrets in the cluster: read them all, read one, create one.

Errors name the namespace, the Secret and the HTTP status, never a body (a Secret's body holds
key material).
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from kseal.cluster import refused, request
from kseal.controllerkeys import KEY_LABEL, LEGACY_NAME, is_key_secret
from kseal.errors import ClusterError


def _secrets_path(namespace: str, name: str | None = None) -> str:
    path = f"/api/v1/namespaces/{quote(namespace, safe='')}/secrets"
    return f"{path}/{quote(name, safe='')}" if name else path


def _fail(status: int, action: str, namespace: str, verb: str) -> ClusterError:
    if status == 404:
        return ClusterError(
            f"{action}: namespace {namespace} not found",
            hints=[
                "pass --controller-namespace NS (the controller's namespace)",
                f"or create it first: kubectl create namespace {namespace}",
            ],
        )
    return refused(status, b"", verb, "secrets", namespace)


def _json(body: bytes, action: str) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        raise ClusterError(f"{action}: the API server's answer is not JSON") from None


def get_secret(api: Any, namespace: str, name: str) -> dict[str, Any] | None:
    """The Secret, or None when there is none of that name."""
    action = f"get Secret {namespace}/{name}"
    status, body = request(api, "GET", _secrets_path(namespace, name))
    if status == 404:
        return None
    if status != 200:
        raise _fail(status, action, namespace, "get")
    found: dict[str, Any] = _json(body, action)
    return found


def read_key_secrets(
    api: Any, namespace: str, legacy_name: str = LEGACY_NAME
) -> list[dict[str, Any]]:
    """Every key Secret of the controller: those carrying the key label (any value), and the
    legacy unlabelled one named ``legacy_name``."""
    action = f"list the key Secrets in namespace {namespace}"
    status, body = request(api, "GET", _secrets_path(namespace), query={"labelSelector": KEY_LABEL})
    if status != 200:
        raise _fail(status, action, namespace, "list")
    items = _json(body, action).get("items") or []
    found = [s for s in items if isinstance(s, dict)]
    names = {(s.get("metadata") or {}).get("name") for s in found}
    if legacy_name not in names:
        legacy = get_secret(api, namespace, legacy_name)
        if legacy is not None and is_key_secret(legacy, legacy_name):
            found.append(legacy)
    return found


def create_secret(api: Any, namespace: str, body: dict[str, Any]) -> bool:
    """Create the Secret; False when one of that name appeared meanwhile (409)."""
    name = (body.get("metadata") or {}).get("name") or "?"
    status, _ = request(api, "POST", _secrets_path(namespace), body=body)
    if status == 409:
        return False
    if status not in (200, 201):
        raise _fail(status, f"create Secret {namespace}/{name}", namespace, "create")
    return True
