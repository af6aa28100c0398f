"""The Kubernetes API adapter: the only module of the controller that imports ``kubernetes``.

Every request goes through the client's ``ApiClient`` (its configuration, TLS and bearer-token
auth) as a raw call, and every answer comes back as the plain JSON dict the API server sent: the
client's generated models are never used, because they drop fields they do not know and cost time
on 10,000-object lists. Client exceptions become :mod:`kseal_controller.apierrors`; their messages
name the verb, the kind, the namespace/name and the HTTP status or the network failure, never a
body (a Secret's body holds values, and a Status message can echo them).

Writes follow the real API: ``update_secret`` is a PUT carrying ``metadata.resourceVersion``
(409 Conflict when it is stale), ``update_sealed_secret_status`` a PUT on the ``status``
subresource. The test emulator (``tests/controller/conftest.py``) implements those verbs on top of
kmock, which lacks them; no code path here exists only for the emulator
(``docs/controller/testing.md``).
"""

from __future__ import annotations

import json
import os
import threading
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import urllib3
from kubernetes import client as k8s_client
from kubernetes import config as k8s_config

from kseal.errors import ClusterError
from kseal_controller.apierrors import (
    ApiError,
    Conflict,
    Forbidden,
    Gone,
    Invalid,
    NotFound,
    Transient,
    WatchEvent,
)

GROUP = "bitnami.com"
VERSION = "v1alpha1"
PLURAL = "sealedsecrets"
PAGE = 500  # items per list request, as client-go's reflector asks
SEALED_SECRET_API_VERSION = f"{GROUP}/{VERSION}"
EVENT_COMPONENT = "sealed-secrets"  # the original's event source component
EVENT_NAME_ATTEMPTS = 3
EVENT_CACHE_SIZE = 4096  # client-go's maxLruCacheEntries

# (connect, read) seconds for ordinary requests; watches read for their own timeout plus a margin.
REQUEST_TIMEOUT = (10.0, 60.0)
WATCH_READ_MARGIN = 30.0

_JSON = "application/json"
_MERGE_PATCH = "application/merge-patch+json"
_ERRORS: dict[int, type[ApiError]] = {
    401: Forbidden,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    410: Gone,
    400: Invalid,
    422: Invalid,
    429: Transient,
}


def error_for(status: int, what: str, reason: str = "", detail: str = "") -> ApiError:
    """The :mod:`apierrors` exception for an HTTP ``status`` of the request ``what``.

    ``reason`` is the Status object's machine-readable reason (``Conflict``, ``Expired``...);
    ``detail`` a fixed phrase the adapter chose, never text from the server."""
    cls = _ERRORS.get(status, Transient if status >= 500 else ApiError)
    suffix = f" ({reason})" if reason else ""
    message = f"{what}: HTTP {status}{suffix}" + (f"; {detail}" if detail else "")
    return cls(message, status=status, reason=reason)


def _status_fields(raw: bytes) -> tuple[int, str, str]:
    """``(code, reason, detail)`` from a Status body; detail only names known safe conditions."""
    try:
        return _status_of(json.loads(raw))
    except ValueError:
        return 0, "", ""


def _status_of(status: object) -> tuple[int, str, str]:
    if not isinstance(status, dict):
        return 0, "", ""
    reason = status.get("reason")
    reason = reason if isinstance(reason, str) and reason.isalnum() else ""
    code = status.get("code")
    message = str(status.get("message") or "")
    detail = "the object is immutable" if "immutable" in message else ""
    return (code if isinstance(code, int) else 0), reason, detail


def _network(what: str, exc: Exception) -> Transient:
    """A Transient for a failure below HTTP, named by exception types only (their text holds
    URLs and socket details, not worth a log line)."""
    cause = getattr(exc, "reason", None)
    name = type(exc).__name__
    if isinstance(cause, BaseException):
        name += f": {type(cause).__name__}"
    return Transient(f"{what}: {name}")


def _timestamp(now: datetime) -> str:
    return now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class Kube:
    """A thin, typed wrapper of one ``kubernetes.client.ApiClient``; safe to share across threads
    (urllib3's pool is thread-safe)."""

    def __init__(self, api_client: Any) -> None:
        self._api = api_client
        # Events written, for counting repeats: key -> (namespace, name, count)
        self._events: OrderedDict[tuple[str, ...], tuple[str, str, int]] = OrderedDict()
        self._events_lock = threading.Lock()

    @classmethod
    def connect(cls, kubeconfig: str | None = None, context: str | None = None) -> Kube:
        """In-cluster credentials when ``KUBERNETES_SERVICE_HOST`` is set and neither a kubeconfig
        nor a context was given; otherwise the kubeconfig (``kubeconfig``, ``$KUBECONFIG``,
        ``~/.kube/config``) and ``context``."""
        configuration = k8s_client.Configuration()
        try:
            if kubeconfig is None and context is None and os.environ.get("KUBERNETES_SERVICE_HOST"):
                k8s_config.load_incluster_config(client_configuration=configuration)  # type: ignore[no-untyped-call]
            else:  # the client reads $KUBECONFIG once at import: read it now
                path = kubeconfig or os.environ.get("KUBECONFIG") or "~/.kube/config"
                k8s_config.load_kube_config(  # type: ignore[no-untyped-call]
                    config_file=path, context=context, client_configuration=configuration
                )
        except (k8s_config.ConfigException, OSError, TypeError, ValueError) as exc:
            raise ClusterError(
                f"cannot load the Kubernetes credentials ({type(exc).__name__})",
                hints=[
                    "in a pod: check the ServiceAccount token mount; outside: pass "
                    "--kubeconfig FILE and --context NAME"
                ],
            ) from None
        return cls(k8s_client.ApiClient(configuration))

    @classmethod
    def at(cls, url: str, token: str | None = None) -> Kube:
        """A client for the API server at ``url`` (plain HTTP allowed): the tests' emulator, or a
        ``kubectl proxy``."""
        configuration = k8s_client.Configuration()
        configuration.host = url.rstrip("/")
        if token:
            configuration.api_key = {"BearerToken": token}
            configuration.api_key_prefix = {"BearerToken": "Bearer"}
        return cls(k8s_client.ApiClient(configuration))

    def close(self) -> None:
        self._api.close()

    # ---- SealedSecrets -------------------------------------------------------------------------

    def list_sealed_secrets(
        self, namespace: str | None, label_selector: str = ""
    ) -> tuple[list[dict[str, Any]], str]:
        """All SealedSecrets (in ``namespace``, or cluster-wide when None) and the list's
        resourceVersion to watch from."""
        items, version = self.stream_sealed_secrets(namespace, label_selector)
        return list(items), version

    def stream_sealed_secrets(
        self, namespace: str | None, label_selector: str = ""
    ) -> tuple[Iterator[dict[str, Any]], str]:
        """As :meth:`list_sealed_secrets`, the items fetched page by page while they are
        iterated, so a large list never sits in memory whole (the informers use this)."""
        return self._list(_ss_path(namespace), "SealedSecret", label_selector)

    def watch_sealed_secrets(
        self,
        namespace: str | None,
        resource_version: str,
        label_selector: str = "",
        timeout_seconds: int = 300,
    ) -> Iterator[WatchEvent]:
        """Changes after ``resource_version``; raises :class:`Gone` when it is too old."""
        return self._watch(
            _ss_path(namespace), "SealedSecret", resource_version, label_selector, timeout_seconds
        )

    def update_sealed_secret_status(
        self, namespace: str, name: str, body: dict[str, Any]
    ) -> dict[str, Any]:
        """PUT the ``status`` subresource; ``body`` is the whole SealedSecret with its
        resourceVersion (409 Conflict when stale). Only ``.status`` is written."""
        what = f"update status of SealedSecret {namespace}/{name}"
        return self._json("PUT", _ss_path(namespace, name, "status"), what, body=body)

    # ---- Secrets -------------------------------------------------------------------------------

    def get_secret(self, namespace: str, name: str) -> dict[str, Any] | None:
        """The Secret, or None when it does not exist."""
        try:
            return self._json(
                "GET", _secret_path(namespace, name), f"get Secret {namespace}/{name}"
            )
        except NotFound:
            return None

    def list_secrets(
        self, namespace: str | None, label_selector: str = ""
    ) -> tuple[list[dict[str, Any]], str]:
        items, version = self.stream_secrets(namespace, label_selector)
        return list(items), version

    def stream_secrets(
        self, namespace: str | None, label_selector: str = ""
    ) -> tuple[Iterator[dict[str, Any]], str]:
        return self._list(_secret_path(namespace), "Secret", label_selector)

    def watch_secrets(
        self,
        namespace: str | None,
        resource_version: str,
        label_selector: str = "",
        timeout_seconds: int = 300,
    ) -> Iterator[WatchEvent]:
        return self._watch(
            _secret_path(namespace), "Secret", resource_version, label_selector, timeout_seconds
        )

    def create_secret(self, namespace: str, body: dict[str, Any]) -> dict[str, Any]:
        """POST; ``metadata.generateName`` works (the server picks the name). 409 when it exists."""
        meta = body.get("metadata") or {}
        name = meta.get("name") or f"{meta.get('generateName', '')}*"
        what = f"create Secret {namespace}/{name}"
        return self._json("POST", _secret_path(namespace), what, body=body)

    def update_secret(self, namespace: str, name: str, body: dict[str, Any]) -> dict[str, Any]:
        """PUT the whole Secret; with ``metadata.resourceVersion`` set, 409 Conflict when stale."""
        what = f"update Secret {namespace}/{name}"
        return self._json("PUT", _secret_path(namespace, name), what, body=body)

    # ---- Events --------------------------------------------------------------------------------

    def create_event(
        self, involved: dict[str, Any], event_type: str, reason: str, message: str, now: datetime
    ) -> None:
        """A core/v1 Event about ``involved``, as client-go's recorder writes one: named
        ``<object>.<unix nanoseconds hex>``, source component ``sealed-secrets``. A repeat of an
        Event this client wrote (same object, type, reason and message; the last 4096 remembered)
        is not written again: its ``count`` goes up and ``lastTimestamp`` moves, as client-go's
        EventCorrelator does, so retries do not flood the namespace with Events."""
        key = _event_key(involved, event_type, reason, message)
        with self._events_lock:
            seen = self._events.get(key)
        if seen is not None and self._bump_event(seen, now):
            with self._events_lock:
                self._events[key] = (seen[0], seen[1], seen[2] + 1)
                self._events.move_to_end(key)
            return
        body = event_body(involved, event_type, reason, message, now)
        name = self._post_event(body)
        with self._events_lock:
            self._events[key] = (body["metadata"]["namespace"], name, 1)
            self._events.move_to_end(key)
            while len(self._events) > EVENT_CACHE_SIZE:
                self._events.popitem(last=False)

    def _bump_event(self, seen: tuple[str, str, int], now: datetime) -> bool:
        """PATCH a remembered Event's count; False when it is gone (Events expire after an hour)."""
        namespace, name, count = seen
        path = f"/api/v1/namespaces/{_q(namespace)}/events/{_q(name)}"
        patch = {"count": count + 1, "lastTimestamp": _timestamp(now)}
        try:
            self._json("PATCH", path, f"update Event {namespace}/{name}", body=patch)
        except NotFound:
            return False
        return True

    def _post_event(self, body: dict[str, Any]) -> str:
        """POST ``body``; two Events about one object in one nanosecond take the next name."""
        namespace = body["metadata"]["namespace"]
        for attempt in range(EVENT_NAME_ATTEMPTS):
            if attempt:
                base, _, nanos = body["metadata"]["name"].rpartition(".")
                body["metadata"]["name"] = f"{base}.{int(nanos, 16) + 1:x}"
            what = f"create Event {namespace}/{body['metadata']['name']}"
            try:
                self._json("POST", f"/api/v1/namespaces/{_q(namespace)}/events", what, body=body)
                break
            except Conflict:
                if attempt == EVENT_NAME_ATTEMPTS - 1:
                    raise
        return str(body["metadata"]["name"])

    # ---- plumbing ------------------------------------------------------------------------------

    def _list(
        self, path: str, kind: str, label_selector: str
    ) -> tuple[Iterator[dict[str, Any]], str]:
        """The items in pages of :data:`PAGE`: the first page now (its resourceVersion, from
        which a watch misses nothing), the others as the iterator reaches them."""
        query = {"labelSelector": label_selector} if label_selector else {}
        query["limit"] = str(PAGE)
        what = f"list {kind} {_where(path)}"
        first = self._json("GET", path, what, query=query)
        version = str((first.get("metadata") or {}).get("resourceVersion") or "")
        return self._pages(path, kind, what, query, first), version

    def _pages(
        self, path: str, kind: str, what: str, query: dict[str, str], page: dict[str, Any]
    ) -> Iterator[dict[str, Any]]:
        api_version = SEALED_SECRET_API_VERSION if kind == "SealedSecret" else "v1"
        while True:
            for item in page.get("items") or []:
                item.setdefault("apiVersion", api_version)  # omitted for built-in list items
                item.setdefault("kind", kind)
                yield item
            token = (page.get("metadata") or {}).get("continue")
            if not token:
                return
            page = self._json("GET", path, what, query={**query, "continue": str(token)})

    def _watch(
        self,
        path: str,
        kind: str,
        resource_version: str,
        label_selector: str,
        timeout_seconds: int,
    ) -> Iterator[WatchEvent]:
        query: dict[str, str] = {
            "watch": "true",
            "allowWatchBookmarks": "true",
            "timeoutSeconds": str(timeout_seconds),
        }
        if resource_version:
            query["resourceVersion"] = resource_version
        if label_selector:
            query["labelSelector"] = label_selector
        what = f"watch {kind} {_where(path)}"
        timeout = (REQUEST_TIMEOUT[0], timeout_seconds + WATCH_READ_MARGIN)
        response = self._send("GET", path, what, query=query, timeout=timeout)
        return _events(response, what)

    def _json(
        self,
        verb: str,
        path: str,
        what: str,
        *,
        query: Mapping[str, str] | None = None,
        body: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        response = self._send(verb, path, what, query=query, body=body)
        try:
            data = response.read()
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise _network(what, exc) from None
        finally:
            response.release_conn()
        try:
            result = json.loads(data)
        except ValueError:
            raise Transient(f"{what}: the answer is not JSON") from None
        if not isinstance(result, dict):
            raise Transient(f"{what}: the answer is not a JSON object")
        return result

    def _send(
        self,
        verb: str,
        path: str,
        what: str,
        *,
        query: Mapping[str, str] | None = None,
        body: dict[str, Any] | None = None,
        timeout: tuple[float, float] | None = None,
    ) -> Any:
        """One request; returns the urllib3 response (not yet read) of a 2xx answer."""
        headers = {"Accept": _JSON}
        if body is not None:
            headers["Content-Type"] = _MERGE_PATCH if verb == "PATCH" else _JSON
        try:
            method, url, hdrs, payload, _ = self._api.param_serialize(
                method=verb,
                resource_path=path,
                query_params=list((query or {}).items()),
                header_params=headers,
                body=body,
                auth_settings=["BearerToken"],
            )
            response = self._api.call_api(
                method,
                url,
                header_params=hdrs,
                body=payload,
                _request_timeout=timeout or REQUEST_TIMEOUT,
            )
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise _network(what, exc) from None
        except k8s_client.ApiException as exc:  # TLS failures: status 0
            raise error_for(int(exc.status or 0), what) from None
        raw = response.response
        if 200 <= response.status < 300:
            return raw
        try:
            data = raw.read()
        except (urllib3.exceptions.HTTPError, OSError):
            data = b""
        finally:
            raw.release_conn()
        _, reason, detail = _status_fields(data)
        raise error_for(int(response.status), what, reason, detail)


def _events(raw: Any, what: str) -> Iterator[WatchEvent]:
    """Decode a watch stream (one JSON object per line) until the server ends it. A consumer that
    stops early (or an error) closes the connection: a half-read stream cannot be reused."""
    finished = False
    try:
        for line in _lines(raw, what):
            event = json.loads(line)
            kind, obj = event.get("type"), event.get("object") or {}
            if kind == "ERROR":
                code, reason, detail = _status_of(obj)
                raise error_for(code or 500, what, reason, detail)
            yield WatchEvent(str(kind), obj)
        finished = True
    except ValueError:
        raise Transient(f"{what}: a watch event is not JSON") from None
    finally:
        if not finished:
            raw.close()
        raw.release_conn()


def _lines(raw: Any, what: str) -> Iterator[bytes]:
    pending = b""
    try:
        for chunk in raw.stream(65536, decode_content=True):
            pending += chunk
            *lines, pending = pending.split(b"\n")
            yield from (line for line in lines if line.strip())
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        raise _network(what, exc) from None
    if pending.strip():
        yield pending


def event_body(
    involved: dict[str, Any], event_type: str, reason: str, message: str, now: datetime
) -> dict[str, Any]:
    """The core/v1 Event client-go's recorder would post about ``involved`` at ``now``."""
    meta = involved.get("metadata") or {}
    namespace = meta.get("namespace") or "default"
    stamp = _timestamp(now)
    nanos = int(now.timestamp()) * 1_000_000_000 + now.microsecond * 1000
    return {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": f"{meta.get('name', '')}.{nanos:x}", "namespace": namespace},
        "involvedObject": {
            "apiVersion": involved.get("apiVersion", SEALED_SECRET_API_VERSION),
            "kind": involved.get("kind", "SealedSecret"),
            "name": meta.get("name", ""),
            "namespace": namespace,
            "uid": meta.get("uid", ""),
            "resourceVersion": meta.get("resourceVersion", ""),
        },
        "reason": reason,
        "message": message,
        "type": event_type,
        "source": {"component": EVENT_COMPONENT},
        "firstTimestamp": stamp,
        "lastTimestamp": stamp,
        "count": 1,
        "reportingComponent": EVENT_COMPONENT,
        "reportingInstance": "",
    }


def _event_key(
    involved: dict[str, Any], event_type: str, reason: str, message: str
) -> tuple[str, ...]:
    meta = involved.get("metadata") or {}
    ident = (str(meta.get(k, "")) for k in ("namespace", "name", "uid"))
    return (str(involved.get("kind", "")), *ident, event_type, reason, message)


def _q(segment: str) -> str:
    return quote(segment, safe="")


def _ss_path(namespace: str | None, name: str | None = None, sub: str | None = None) -> str:
    base = f"/apis/{GROUP}/{VERSION}"
    return _path(base, PLURAL, namespace, name, sub)


def _secret_path(namespace: str | None, name: str | None = None) -> str:
    return _path("/api/v1", "secrets", namespace, name, None)


def _path(base: str, plural: str, namespace: str | None, name: str | None, sub: str | None) -> str:
    path = f"{base}/namespaces/{_q(namespace)}/{plural}" if namespace else f"{base}/{plural}"
    if name:
        path += f"/{_q(name)}"
    return f"{path}/{sub}" if sub else path


def _where(path: str) -> str:
    """``in NS`` or ``in all namespaces``, read back from a collection path (for messages)."""
    parts = path.split("/")
    if "namespaces" in parts:
        return f"in {parts[parts.index('namespaces') + 1]}"
    return "in all namespaces"
