"""The cluster side of ``kseal bootstrap``: resolve each kind's resource, check namespaces, read
what is there and write what changed, as field manager ``kseal``.

Writes use server-side apply (``PATCH`` with ``application/apply-patch+yaml``,
``fieldManager=kseal``, ``force=true``: the encrypted file is the source of truth for the fields
it sets, so kseal takes them over from any other manager) when the server accepts it, and
otherwise create-or-update (``POST``, or ``PUT`` with the ``resourceVersion`` read, a 409 read
again and retried). Errors name the verb, resource and namespace, never a body or a value.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from kseal.bootstrap import Item, compare
from kseal.cluster import refused, request
from kseal.errors import ClusterError

MANAGER = "kseal"
APPLY = "application/apply-patch+yaml"
RETRIES = 4
_CORE = {"Secret": "secrets", "ConfigMap": "configmaps"}


@dataclass(frozen=True)
class Resource:
    """Where a kind lives in the API."""

    prefix: str  # /api/v1 or /apis/GROUP/VERSION
    plural: str
    namespaced: bool

    def collection(self, namespace: str) -> str:
        if self.namespaced:
            return f"{self.prefix}/namespaces/{namespace}/{self.plural}"
        return f"{self.prefix}/{self.plural}"


def _prefix(api_version: str) -> str:
    return f"/api/{api_version}" if "/" not in api_version else f"/apis/{api_version}"


class Cluster:
    """One bootstrap's conversation with the API server (``api`` from :func:`connect`)."""

    def __init__(self, api: Any, *, server_side: bool = True) -> None:
        self.api = api
        self.server_side = server_side
        self.resources: dict[tuple[str, str], Resource] = {}

    # ---- before any write ----------------------------------------------------------------

    def resolve(self, items: Sequence[Item]) -> None:
        """Find every kind's resource (API discovery for kinds other than Secret/ConfigMap) and
        check that namespaced objects have a namespace."""
        for item in items:
            key = (item.api_version, item.kind)
            if key not in self.resources:
                self.resources[key] = self._discover(item)
            if self.resources[key].namespaced and not item.namespace:
                raise ClusterError(
                    f"{item.source}: {item.label} has no namespace",
                    hints=["set metadata.namespace or pass --namespace NS"],
                )

    def _discover(self, item: Item) -> Resource:
        if item.api_version == "v1" and item.kind in _CORE:
            return Resource("/api/v1", _CORE[item.kind], True)
        prefix = _prefix(item.api_version)
        status, body = request(self.api, "GET", prefix)
        if status == 404:
            raise ClusterError(
                f"the API server does not serve {item.api_version} (for {item.kind})",
                hints=["install the CRD (or its operator) first"],
            )
        if status != 200:
            raise refused(status, body, "get", prefix, "")
        for res in json.loads(body).get("resources") or []:
            if res.get("kind") == item.kind and "/" not in str(res.get("name")):
                return Resource(prefix, str(res["name"]), bool(res.get("namespaced")))
        raise ClusterError(f"{item.api_version} has no kind {item.kind}")

    def resource(self, item: Item) -> Resource:
        return self.resources[(item.api_version, item.kind)]

    def namespace(self, item: Item) -> str:
        return item.namespace if self.resource(item).namespaced else ""

    def missing_namespaces(self, items: Sequence[Item]) -> list[str]:
        """The namespaces the plan needs that do not exist (unknown ones, when namespaces may
        not be read, count as present: the write will tell)."""
        missing: list[str] = []
        for ns in sorted({self.namespace(i) for i in items} - {""}):
            status, body = request(self.api, "GET", f"/api/v1/namespaces/{ns}")
            if status == 404:
                missing.append(ns)
            elif status not in (200, 403):
                raise refused(status, body, "get", "namespaces", "")
        return missing

    def create_namespace(self, name: str) -> None:
        body = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}
        status, answer = request(
            self.api, "POST", "/api/v1/namespaces", body=body, query={"fieldManager": MANAGER}
        )
        if status not in (200, 201, 409):
            raise refused(status, answer, "create", "namespaces", "")

    def current(self, item: Item) -> dict[str, Any] | None:
        """The object as the cluster has it, or None."""
        res = self.resource(item)
        ns = self.namespace(item)
        status, body = request(self.api, "GET", f"{res.collection(ns)}/{item.name}")
        if status == 404:
            return None
        if status != 200:
            raise refused(status, body, "get", res.plural, ns)
        found: dict[str, Any] = json.loads(body)
        return found

    # ---- writes --------------------------------------------------------------------------

    def write(self, item: Item, current: dict[str, Any] | None) -> str:
        """Apply ``item`` (``current`` as just read): ``created``, ``updated`` or ``unchanged``."""
        if compare(item, current).unchanged:
            return "unchanged"
        if self.server_side:
            result = self._apply(item, current)
            if result:
                return result
            self.server_side = False  # the server does not take apply patches
        return self._create_or_update(item, current)

    def _apply(self, item: Item, current: dict[str, Any] | None) -> str | None:
        res, ns = self.resource(item), self.namespace(item)
        status, body = request(
            self.api,
            "PATCH",
            f"{res.collection(ns)}/{item.name}",
            body=json.dumps(self._body(item)).encode(),
            query={"fieldManager": MANAGER, "force": "true"},
            content_type=APPLY,
        )
        if status in (200, 201):
            return "created" if current is None else "updated"
        if status in (405, 415):
            return None
        raise self._missing_namespace(status, ns) or refused(status, body, "patch", res.plural, ns)

    def _body(self, item: Item) -> dict[str, Any]:
        body = copy.deepcopy(item.body)
        if not self.resource(item).namespaced:
            body["metadata"].pop("namespace", None)
        return body

    def _create_or_update(self, item: Item, current: dict[str, Any] | None) -> str:
        res, ns = self.resource(item), self.namespace(item)
        path = res.collection(ns)
        for _ in range(RETRIES):
            if current is None:
                status, body = request(
                    self.api, "POST", path, body=self._body(item), query={"fieldManager": MANAGER}
                )
                if status in (200, 201):
                    return "created"
                verb = "create"
            else:
                status, body = request(
                    self.api,
                    "PUT",
                    f"{path}/{item.name}",
                    body=self._replacement(item, current),
                    query={"fieldManager": MANAGER},
                )
                if status == 200:
                    return "updated"
                verb = "update"
            if status != 409:
                raise self._missing_namespace(status, ns) or refused(
                    status, body, verb, res.plural, ns
                )
            current = self.current(item)
            if compare(item, current).unchanged:
                return "unchanged"
        raise refused(409, b"", "update", res.plural, ns, attempts=RETRIES)

    def _replacement(self, item: Item, current: dict[str, Any]) -> dict[str, Any]:
        """The PUT body: the plan, keeping the labels and annotations others set, at the
        ``resourceVersion`` read."""
        body = self._body(item)
        meta, have = body["metadata"], current.get("metadata") or {}
        for field in ("labels", "annotations"):
            merged = {**(have.get(field) or {}), **(meta.get(field) or {})}
            if merged:
                meta[field] = merged
        meta["resourceVersion"] = have.get("resourceVersion")
        if item.kind not in _CORE:  # other kinds: keep the fields the file does not set
            body = {**{k: v for k, v in current.items() if k != "metadata"}, **body}
        return body

    def _missing_namespace(self, status: int, namespace: str) -> ClusterError | None:
        if status != 404 or not namespace:
            return None
        return missing_namespace(namespace)


def missing_namespace(namespace: str) -> ClusterError:
    return ClusterError(
        f"namespace {namespace} does not exist",
        hints=["pass --create-namespace to create it, or create it first"],
    )
