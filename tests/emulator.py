"""The Kubernetes API emulator the controller's tests run against: kmock, made more faithful.

kmock (PyPI ``kmock``) serves a Kubernetes-shaped API over real HTTP from an aiohttp server: request
parsing, Status errors, discovery, a reaction DSL. Its stateful part (``KubernetesEmulator``) is
too loose for a controller (no PUT, no resourceVersion, no label selectors, watches that ignore
``resourceVersion``, no ``generateName``...: ``docs/controller/testing.md`` lists every gap with the
probe that shows it, ``test_kube.py::test_plain_kmock_*``). :class:`Emulator` keeps kmock's server,
parsing and error rendering and replaces the object handling with the real API server's rules for
the resources the controller uses: Secrets, Events, Namespaces and SealedSecrets (with the
``status`` subresource).

It runs on its own event loop in a daemon thread, so plain synchronous tests (and the controller's
threads) use it through the real ``kubernetes`` client. Fixtures:

- ``kmock_server``: an :class:`EmulatorHandle` (``.url``, ``.seed()``, ``.seed_many()``,
  ``.objects()``, ``.get()``, ``.update()``, ``.delete()``, ``.fail()``, ``.answer()``,
  ``.expire_watches()``, ``.close_watches()``, ``.delay()`` (slow answers), ``.switch()``
  (server-side apply on/off, namespace existence checked or not), ``.requests``); one server per
  session, emptied before each test;
- ``kube``: a :class:`kseal_controller.kube.Kube` pointed at it;
- ``seed`` / ``objects``: the handle's ``seed``/``objects`` as plain functions.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import copy
import json
import re
import secrets
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import aiohttp.web
import attrs
import kmock
import pytest

from kseal_controller.kube import Kube


@dataclass(frozen=True)
class Kind:
    group: str
    version: str
    plural: str
    kind: str
    namespaced: bool
    status: bool  # has the status subresource (and metadata.generation)

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version


KINDS = [
    Kind("", "v1", "secrets", "Secret", True, False),
    Kind("", "v1", "events", "Event", True, False),
    Kind("", "v1", "namespaces", "Namespace", False, False),
    Kind("", "v1", "configmaps", "ConfigMap", True, False),
    # a CRD kind (External Secrets' SecretStore), for `kseal bootstrap --allow-kind`
    Kind("external-secrets.io", "v1beta1", "secretstores", "SecretStore", True, False),
    Kind("bitnami.com", "v1alpha1", "sealedsecrets", "SealedSecret", True, True),
]
_BY_NAME = {name.lower(): k for k in KINDS for name in (k.plural, k.kind)}
_NAME = re.compile(r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$")
_SUFFIX = "bcdfghjklmnpqrstvwxz2456789"  # apimachinery's generateName alphabet
_NAMESPACES = re.compile(r"^/api/v1/namespaces(?:/([^/]+))?/?$")


def kind_of(name: str) -> Kind:
    """``Secret``/``secrets``/``SealedSecret``/... -> its :class:`Kind`."""
    return _BY_NAME[name.lower()]


class ApiStatus(kmock.KubernetesError):
    """A Status answer; kmock renders it (``details`` non-empty keeps its traceback out)."""


def _status(code: int, reason: str, message: str, **details: Any) -> ApiStatus:
    return ApiStatus(status=code, reason=reason, message=message, details=details or {"x": 1})


@dataclass
class Fault:
    method: str | None  # None: any
    path: re.Pattern[str]
    answer: int | str  # an HTTP status, or "reset" to drop the connection
    times: int | None  # None: forever
    message: str = ""  # the Status message (tests put sentinels here)
    delay: float = 0.0  # seconds to wait, then answer normally (``answer`` unused)


@dataclass
class _Watch:
    """One open watch stream; ``stop`` ends it (as a server restart or a timeout would)."""

    stop: asyncio.Event


# --- selectors --------------------------------------------------------------------------------

_SET_RE = re.compile(r"^\s*(!?)([\w./-]+)\s*(?:(in|notin)\s*\(([^)]*)\))?\s*$")
_EQ_RE = re.compile(r"^\s*([\w./-]+)\s*(==|=|!=)\s*([\w./-]*)\s*$")


def _split_selector(selector: str) -> list[str]:
    parts, depth, cur = [], 0, ""
    for ch in selector:
        depth += ch == "("
        depth -= ch == ")"
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    return [*parts, cur] if cur.strip() else parts


def label_match(selector: str, labels: dict[str, str]) -> bool:
    """Kubernetes label selector semantics (equality- and set-based)."""
    for term in _split_selector(selector):
        if m := _EQ_RE.match(term):
            key, op, value = m.groups()
            if (labels.get(key) == value) != (op != "!="):
                return False
        elif m := _SET_RE.match(term):
            neg, key, op, values = m.groups()
            wanted = {v.strip() for v in (values or "").split(",")}
            if op == "in" and labels.get(key) not in wanted:
                return False
            if op == "notin" and key in labels and labels[key] in wanted:
                return False
            if not op and (key in labels) == bool(neg):
                return False
        else:
            raise _status(400, "BadRequest", f"unable to parse requirement: {term!r}")
    return True


def field_match(selector: str, obj: dict[str, Any]) -> bool:
    meta = obj.get("metadata") or {}
    for term in filter(None, selector.split(",")):
        key, _, value = term.partition("=")
        negate = key.endswith("!")
        key = key.rstrip("!=")
        actual = {"metadata.name": meta.get("name"), "metadata.namespace": meta.get("namespace")}
        if key not in actual:
            raise _status(400, "BadRequest", f"field label not supported: {key}")
        if (actual[key] == value.lstrip("=")) == negate:
            return False
    return True


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


# --- the emulator -----------------------------------------------------------------------------


@attrs.define(kw_only=True)
class Emulator(kmock.KubernetesEmulator):
    """kmock's server with the real API server's object rules (see the module docstring)."""

    store: dict[tuple[str, str, str], dict[str, Any]] = attrs.field(factory=dict)
    log: list[tuple[int, str, dict[str, Any]]] = attrs.field(factory=list)  # (rv, plural, event)
    log_limit: int = 200_000  # watch history kept; older resourceVersions answer 410
    keep_requests: bool = True  # kmock records every request: turn off for benchmarks
    rv: int = 1000
    oldest_rv: int = 0  # watches from an older resourceVersion get 410 Gone
    faults: list[Fault] = attrs.field(factory=list)
    watches: list[_Watch] = attrs.field(factory=list)
    changed: asyncio.Condition | None = None
    # Switches (reset() restores them): server-side apply (PATCH application/apply-patch+yaml;
    # off answers 415 as a server without it), and writes into a namespace that does not exist
    # answering 404 as a real server (off by default: most tests never create Namespaces).
    server_side_apply: bool = True
    namespaces_exist: bool = False

    builtin_payloads: list[Any] = attrs.field(factory=list)  # kmock's fallbacks, kept on reset

    def __attrs_post_init__(self) -> None:
        super().__attrs_post_init__()
        self.builtin_payloads[:] = self._payloads
        for k in KINDS:
            self.resources[f"{k.api_version}/{k.plural}"] = kmock.ResourceInfo(
                namespaced=k.namespaced,
                kind=k.kind,
                singular=k.kind.lower(),
                verbs={"get", "list", "watch", "create", "update", "patch", "delete"},
                subresources={"status"} if k.status else set(),
            )

    def stop_watches(self) -> None:
        for watch in self.watches:
            watch.stop.set()
        asyncio.get_running_loop().create_task(self._notify())

    def reset(self) -> None:
        self.stop_watches()
        self._payloads[:] = [p for p in self._payloads if p in self.builtin_payloads]
        self.store.clear()
        self.log.clear()
        self.faults.clear()
        self._requests.clear()
        self.oldest_rv = self.rv
        self.server_side_apply = True
        self.namespaces_exist = False

    # ---- dispatch --------------------------------------------------------------------------

    async def __call__(self, raw_request: aiohttp.web.BaseRequest) -> aiohttp.web.StreamResponse:
        """kmock's URL parser takes ``/api/v1/namespaces[/NAME]`` for a namespace prefix (and
        fails on the bare collection): parse the Namespace resource's own paths here."""
        match = _NAMESPACES.match(raw_request.path)
        if match is None:
            return await super().__call__(raw_request)
        body = await raw_request.read()
        try:
            data = json.loads(body) if body else None
        except ValueError:
            data = None
        request = kmock.Request(
            id=len(self._requests), raw_request=raw_request, url=raw_request.url,
            method=raw_request.method, params=dict(raw_request.query),
            headers=dict(raw_request.headers), body=body, data=data,
            resource=kmock.resource(group="", version="v1", plural="namespaces"),
            name=match.group(1),
        )
        self._requests.append(request)
        try:
            return await self._handle(request)
        except Exception as exc:
            return await self._render_error(exc)

    async def _handle(self, request: kmock.Request) -> aiohttp.web.StreamResponse:
        if (fault := self._fault(request)) is not None:
            if not fault.delay:
                return self._inject(request, fault)
            await asyncio.sleep(fault.delay)
        res = request.resource
        kind = _BY_NAME.get(res.plural or "") if res is not None else None
        if res is None or kind is None or (kind.group, kind.version) != (res.group, res.version):
            return await super()._handle(request)  # discovery, other resources, reactions
        if self.changed is None:
            self.changed = asyncio.Condition()
        try:
            return await self._serve(request, kind)
        finally:
            if not self.keep_requests:
                self._requests.clear()

    async def _serve(self, request: kmock.Request, kind: Kind) -> aiohttp.web.StreamResponse:
        method, name, sub = request.method.value, request.name, request.subresource
        if sub not in (None, "status") or (sub == "status" and not kind.status):
            raise _status(404, "NotFound", "the server could not find the requested resource")
        if method == "GET" and request.params.get("watch") in ("true", "1"):
            return await self._watch(request, kind)
        if method == "GET" and name is None:
            return aiohttp.web.json_response(self._list(request, kind))
        if method == "GET" and name is not None:
            return aiohttp.web.json_response(self._current(kind, request.namespace, name))
        if method == "POST" and name is None:
            body = self._create(kind, request.namespace, _body(request))
            return aiohttp.web.json_response(body, status=201)
        if name is not None and method == "PATCH" and _is_apply(request):
            return self._server_apply(request, kind, name)
        if name is not None and method in ("PUT", "PATCH"):
            body = self._update(kind, request.namespace, name, _body(request), method, sub)
            return aiohttp.web.json_response(body)
        if name is not None and method == "DELETE":
            return aiohttp.web.json_response(self._delete(kind, request.namespace, name))
        raise _status(405, "MethodNotAllowed", f"{method} is not supported here")

    def _server_apply(self, request: kmock.Request, kind: Kind, name: str) -> aiohttp.web.StreamResponse:
        """Server-side apply, simplified: create when absent, else merge, the applier owning
        every data key it sends (keys it no longer sends are removed); no managedFields."""
        if not self.server_side_apply:
            raise _status(415, "UnsupportedMediaType", "the body of the request was in an unknown format")
        if request.params.get("fieldManager") in (None, ""):
            raise _status(400, "BadRequest", "fieldManager is required for apply requests")
        try:
            body = json.loads(request.body)
        except ValueError:
            raise _status(400, "BadRequest", "the apply patch is not JSON/YAML") from None
        key = (kind.plural, request.namespace or "", name)
        if key not in self.store:
            return aiohttp.web.json_response(self._create(kind, request.namespace, body), status=201)
        patch = copy.deepcopy(body)
        old_data = self.store[key].get("data") or {}
        if isinstance(body.get("data"), dict):
            patch["data"] = {**{k: None for k in old_data if k not in body["data"]}, **body["data"]}
        return aiohttp.web.json_response(self._update(kind, request.namespace, name, patch, "PATCH", None))

    # ---- faults ----------------------------------------------------------------------------

    def _fault(self, request: kmock.Request) -> Fault | None:
        path = request.url.path_qs
        for fault in self.faults:
            if fault.method not in (None, request.method.value) or not fault.path.search(path):
                continue
            if fault.times is not None:
                fault.times -= 1
                if fault.times <= 0:
                    self.faults.remove(fault)
            return fault
        return None

    def _inject(self, request: kmock.Request, fault: Fault) -> aiohttp.web.StreamResponse:
        if fault.answer == "reset":
            raw = request._raw_request
            assert raw is not None and raw.transport is not None
            raw.transport.abort()
            return aiohttp.web.Response(status=500)
        code = int(fault.answer)
        reasons = {409: "Conflict", 410: "Expired", 403: "Forbidden", 404: "NotFound", 422: "Invalid"}
        reason = reasons.get(code, "InternalError" if code >= 500 else "BadRequest")
        raise _status(code, reason, fault.message or f"injected {code}")

    # ---- reads -----------------------------------------------------------------------------

    def _current(self, kind: Kind, namespace: str | None, name: str) -> dict[str, Any]:
        obj = self.store.get((kind.plural, namespace or "", name))
        if obj is None:
            raise _status(404, "NotFound", f'{kind.plural} "{name}" not found', name=name)
        return obj

    def _matches(self, request: kmock.Request, obj: dict[str, Any]) -> bool:
        meta = obj.get("metadata") or {}
        if request.namespace and meta.get("namespace") != request.namespace:
            return False
        labels = meta.get("labels") or {}
        if not label_match(request.params.get("labelSelector", ""), labels):
            return False
        return field_match(request.params.get("fieldSelector", ""), obj)

    def _list(self, request: kmock.Request, kind: Kind) -> dict[str, Any]:
        """A list, paginated as the API server does with ``limit`` and ``continue`` (the token
        carries the first page's resourceVersion; unlike a real server, later pages show the
        current state rather than a snapshot: see docs/controller/testing.md)."""
        limit = int(request.params.get("limit") or 0)
        token = request.params.get("continue") or ""
        rv, after = str(self.rv), ("", "", "")
        if token:
            rv, *rest = json.loads(base64.b64decode(token))
            after = tuple(rest)
        items, more, last = [], None, after
        for key, obj in sorted(self.store.items()):
            if key[0] != kind.plural or key <= after or not self._matches(request, obj):
                continue
            if limit and len(items) == limit:
                more = base64.b64encode(json.dumps([rv, *last]).encode()).decode()
                break
            item = copy.deepcopy(obj)
            if not kind.group:  # the API server omits built-in items' type
                item.pop("apiVersion", None)
                item.pop("kind", None)
            items.append(item)
            last = key
        metadata: dict[str, Any] = {"resourceVersion": rv}
        if more:
            metadata["continue"] = more
        return {
            "apiVersion": kind.api_version,
            "kind": f"{kind.kind}List",
            "metadata": metadata,
            "items": items,
        }

    async def _watch(self, request: kmock.Request, kind: Kind) -> aiohttp.web.StreamResponse:
        assert request._raw_request is not None and self.changed is not None
        response = aiohttp.web.StreamResponse()
        response.content_type = "application/json"
        await response.prepare(request._raw_request)
        since = request.params.get("resourceVersion", "")
        timeout = float(request.params.get("timeoutSeconds") or 3600)
        if not since.isdigit() and since != "":
            raise _status(400, "BadRequest", f"invalid resource version: {since}")
        if since not in ("", "0") and int(since) < self.oldest_rv:
            await _send(response, _expired(since, self.oldest_rv))
            return response
        watch = _Watch(asyncio.Event())
        self.watches.append(watch)
        try:
            await self._stream(request, kind, response, since, watch, timeout)
        except (ConnectionError, RuntimeError):
            pass  # the client went away
        finally:
            self.watches.remove(watch)
        return response

    async def _stream(self, request: kmock.Request, kind: Kind, response: Any, since: str,
                      watch: _Watch, timeout: float) -> None:
        assert self.changed is not None
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        if since in ("", "0"):  # synthetic ADDED for the current state, then live
            for (plural, _, _), obj in sorted(self.store.items()):
                if plural == kind.plural and self._matches(request, obj):
                    await _send(response, {"type": "ADDED", "object": obj})
            position = len(self.log)
        else:
            position = next((i for i, e in enumerate(self.log) if e[0] > int(since)), len(self.log))
        while not watch.stop.is_set() and loop.time() < deadline:
            for _, plural, event in self.log[position:]:
                if plural == kind.plural and self._matches(request, event["object"]):
                    await _send(response, event)
            position = len(self.log)
            async with self.changed:
                try:
                    await asyncio.wait_for(self.changed.wait(), min(0.2, deadline - loop.time()))
                except TimeoutError:
                    pass
        if request.params.get("allowWatchBookmarks") == "true" and not watch.stop.is_set():
            mark = {"kind": kind.kind, "apiVersion": kind.api_version,
                    "metadata": {"resourceVersion": str(self.rv)}}
            await _send(response, {"type": "BOOKMARK", "object": mark})

    # ---- writes ----------------------------------------------------------------------------

    async def _notify(self) -> None:
        if self.changed is not None:
            async with self.changed:
                self.changed.notify_all()

    def _record(self, kind: Kind, event_type: str, obj: dict[str, Any]) -> None:
        self.log.append((self.rv, kind.plural, {"type": event_type, "object": obj}))
        if len(self.log) > self.log_limit:
            del self.log[: len(self.log) - self.log_limit]
            self.oldest_rv = self.log[0][0]
        asyncio.get_running_loop().create_task(self._notify())

    def _next_rv(self) -> str:
        self.rv += 1
        return str(self.rv)

    def _create(self, kind: Kind, namespace: str | None, body: dict[str, Any]) -> dict[str, Any]:
        obj = copy.deepcopy(body)
        meta = obj.setdefault("metadata", {})
        wanted_ns = namespace or meta.get("namespace") or "default"
        if self.namespaces_exist and kind.namespaced and ("namespaces", "", wanted_ns) not in self.store:
            raise _status(404, "NotFound", f'namespaces "{wanted_ns}" not found', name=wanted_ns)
        if kind.namespaced:
            if meta.get("namespace") not in (None, "", namespace):
                raise _status(400, "BadRequest", "the namespace of the object does not match")
            meta["namespace"] = namespace or meta.get("namespace") or "default"
        if not meta.get("name") and meta.get("generateName"):
            meta["name"] = meta["generateName"] + "".join(secrets.choice(_SUFFIX) for _ in range(5))
        name = meta.get("name") or ""
        if not _NAME.match(name):
            raise _status(422, "Invalid", f"{kind.kind} is invalid: metadata.name")
        key = (kind.plural, meta.get("namespace", ""), name)
        if key in self.store:
            raise _status(409, "AlreadyExists", f'{kind.plural} "{name}" already exists', name=name)
        _prepare(kind, obj)
        obj.setdefault("apiVersion", kind.api_version)
        obj.setdefault("kind", kind.kind)
        meta.update(
            uid=str(uuid.uuid4()),
            resourceVersion=self._next_rv(),
            creationTimestamp=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        )
        if kind.status:
            meta["generation"] = 1
            obj.pop("status", None)
        self.store[key] = obj
        self._record(kind, "ADDED", obj)
        return obj

    def _update(self, kind: Kind, namespace: str | None, name: str, body: dict[str, Any],
                method: str, sub: str | None) -> dict[str, Any]:
        old = self._current(kind, namespace, name)
        meta_in = body.get("metadata") or {}
        wanted_rv = meta_in.get("resourceVersion")
        if wanted_rv and wanted_rv != old["metadata"]["resourceVersion"]:
            raise _status(409, "Conflict", f'Operation cannot be fulfilled on {kind.plural} "{name}": '
                          "the object has been modified; please apply your changes to the latest "
                          "version and try again", name=name)
        if method == "PUT":
            if meta_in.get("name") not in (None, name):
                raise _status(400, "BadRequest", "the name of the object does not match the name on the URL")
            if kind.group and not wanted_rv:
                raise _status(422, "Invalid", "metadata.resourceVersion: must be specified for an update")
            new = copy.deepcopy(body)
        else:
            new = merge_patch(old, body)
        new = self._merge_rules(kind, old, new, sub)
        _prepare(kind, new)
        _check_immutable(kind, old, new)
        new["metadata"]["resourceVersion"] = self._next_rv()
        self.store[(kind.plural, old["metadata"].get("namespace", ""), name)] = new
        self._record(kind, "MODIFIED", new)
        return new

    def _merge_rules(self, kind: Kind, old: dict[str, Any], new: dict[str, Any],
                     sub: str | None) -> dict[str, Any]:
        """What the server keeps from ``old``: identity and, per subresource, status or the rest."""
        if sub == "status":  # only .status changes through /status
            result = copy.deepcopy(old)
            if "status" in new:
                result["status"] = new["status"]
            else:
                result.pop("status", None)
            return result
        meta = new.setdefault("metadata", {})
        for field in ("uid", "creationTimestamp", "namespace", "name", "generation"):
            if field in old["metadata"]:
                meta[field] = old["metadata"][field]
        new.setdefault("apiVersion", kind.api_version)
        new.setdefault("kind", kind.kind)
        if kind.status:
            if "status" in old:
                new["status"] = old["status"]
            else:
                new.pop("status", None)
            spec_old = {k: v for k, v in old.items() if k not in ("metadata", "status")}
            spec_new = {k: v for k, v in new.items() if k not in ("metadata", "status")}
            if spec_old != spec_new:
                meta["generation"] = int(old["metadata"].get("generation", 1)) + 1
        return new

    def _delete(self, kind: Kind, namespace: str | None, name: str) -> dict[str, Any]:
        obj = self._current(kind, namespace, name)
        del self.store[(kind.plural, obj["metadata"].get("namespace", ""), name)]
        gone = copy.deepcopy(obj)
        gone["metadata"]["resourceVersion"] = self._next_rv()
        self._record(kind, "DELETED", gone)
        self._collect_garbage(obj["metadata"]["uid"])
        return {"kind": "Status", "apiVersion": "v1", "status": "Success",
                "details": {"name": name, "kind": kind.plural, "uid": obj["metadata"]["uid"]}}

    def _collect_garbage(self, owner_uid: str) -> None:
        """Background cascading deletion of dependents whose ownerReferences name ``owner_uid``."""
        for (plural, ns, name), obj in list(self.store.items()):
            refs = (obj.get("metadata") or {}).get("ownerReferences") or []
            if any(ref.get("uid") == owner_uid for ref in refs):
                if (plural, ns, name) in self.store:
                    self._delete(kind_of(plural), ns or None, name)


def _is_apply(request: kmock.Request) -> bool:
    raw = request._raw_request
    return raw is not None and raw.content_type == "application/apply-patch+yaml"


def _body(request: kmock.Request) -> dict[str, Any]:
    if not isinstance(request.data, dict):
        raise _status(400, "BadRequest", "the body is not a JSON object")
    return request.data


def _prepare(kind: Kind, obj: dict[str, Any]) -> None:
    """Secret write rules: stringData folds into data; data must be base64."""
    if kind.plural != "secrets":
        return
    string_data = obj.pop("stringData", None) or {}
    data = obj.setdefault("data", {}) if string_data or "data" in obj else None
    for key, value in string_data.items():
        data[key] = base64.b64encode(value.encode()).decode()  # type: ignore[index]
    for key, value in (obj.get("data") or {}).items():
        try:
            base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError, TypeError):
            raise _status(400, "BadRequest", f"illegal base64 data in data[{key}]") from None


def _check_immutable(kind: Kind, old: dict[str, Any], new: dict[str, Any]) -> None:
    if kind.plural != "secrets" or not old.get("immutable"):
        return
    if new.get("data") != old.get("data") or not new.get("immutable"):
        raise _status(422, "Invalid", f'Secret "{old["metadata"]["name"]}" is invalid: data: '
                      "Forbidden: field is immutable when `immutable` is set")


def _expired(since: str, oldest: int) -> dict[str, Any]:
    return {"type": "ERROR", "object": {
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": f"too old resource version: {since} ({oldest})", "reason": "Expired", "code": 410}}


async def _send(response: Any, event: dict[str, Any]) -> None:
    await response.write(json.dumps(event).encode() + b"\n")


# --- the synchronous handle -------------------------------------------------------------------


class EmulatorHandle:
    """Drives the emulator from synchronous code (any thread)."""

    def __init__(self, emulator: Emulator, loop: asyncio.AbstractEventLoop, url: str) -> None:
        self.emulator = emulator
        self.loop = loop
        self.url = url

    def _call(self, fn: Callable[[], Any]) -> Any:
        async def run() -> Any:
            if self.emulator.changed is None:
                self.emulator.changed = asyncio.Condition()
            return fn()

        return asyncio.run_coroutine_threadsafe(run(), self.loop).result(60)

    def seed(self, obj: dict[str, Any]) -> dict[str, Any]:
        """Create ``obj`` (Secret, SealedSecret, Event, Namespace) as a client's POST would, with
        uid, resourceVersion and an ADDED watch event; returns the stored copy."""
        kind = kind_of(obj["kind"])
        namespace = (obj.get("metadata") or {}).get("namespace") or (
            "default" if kind.namespaced else None)
        return copy.deepcopy(self._call(lambda: self.emulator._create(kind, namespace, obj)))

    def seed_many(self, objs: list[dict[str, Any]]) -> None:
        """``seed`` for many objects in one hop to the emulator's loop (benchmarks)."""

        def create_all() -> None:
            for obj in objs:
                kind = kind_of(obj["kind"])
                namespace = (obj.get("metadata") or {}).get("namespace") or (
                    "default" if kind.namespaced else None)
                self.emulator._create(kind, namespace, obj)

        self._call(create_all)

    def objects(self, kind: str, namespace: str | None = None) -> list[dict[str, Any]]:
        """Copies of the stored objects of ``kind`` (in ``namespace``, or all), sorted by name."""
        plural = kind_of(kind).plural

        def pick() -> list[dict[str, Any]]:
            return [copy.deepcopy(o) for (p, ns, _), o in sorted(self.emulator.store.items())
                    if p == plural and namespace in (None, ns)]

        return list(self._call(pick))

    def get(self, kind: str, namespace: str | None, name: str) -> dict[str, Any] | None:
        key = (kind_of(kind).plural, namespace or "", name)
        found: dict[str, Any] | None = self._call(lambda: self.emulator.store.get(key))
        return copy.deepcopy(found)

    def delete(self, kind: str, namespace: str | None, name: str) -> None:
        self._call(lambda: self.emulator._delete(kind_of(kind), namespace, name))

    def update(self, obj: dict[str, Any]) -> dict[str, Any]:
        """PUT ``obj`` as a client would (resourceVersion optional for core kinds)."""
        kind, meta = kind_of(obj["kind"]), obj["metadata"]
        return copy.deepcopy(self._call(lambda: self.emulator._update(
            kind, meta.get("namespace"), meta["name"], obj, "PUT", None)))

    def fail(self, path: str, answer: int | str = 500, *, method: str | None = None,
             times: int | None = 1, message: str = "") -> None:
        """Answer the next ``times`` (None: all) requests whose path?query matches the regex
        ``path`` (and ``method``) with the HTTP status ``answer`` (a Status body carrying
        ``message``), or drop the connection when ``answer`` is ``"reset"``."""
        fault = Fault(method and method.upper(), re.compile(path), answer, times, message)
        self._call(lambda: self.emulator.faults.append(fault))

    def delay(self, path: str, seconds: float, *, method: str | None = None,
              times: int | None = 1) -> None:
        """Answer the next ``times`` requests matching ``path`` (and ``method``) normally, but
        only after ``seconds`` (a slow API server)."""
        fault = Fault(method and method.upper(), re.compile(path), 0, times, delay=seconds)
        self._call(lambda: self.emulator.faults.append(fault))

    def switch(self, *, server_side_apply: bool | None = None,
               namespaces_exist: bool | None = None) -> None:
        """Turn server-side apply or the namespace-existence check on or off (until reset)."""
        def flip() -> None:
            if server_side_apply is not None:
                self.emulator.server_side_apply = server_side_apply
            if namespaces_exist is not None:
                self.emulator.namespaces_exist = namespaces_exist

        self._call(flip)

    def answer(self, request: str, payload: Any) -> None:
        """A kmock reaction for anything but the four emulated resources, e.g. the service proxy
        kubeseal fetches the certificate through: ``answer("get /api/v1/namespaces/kube-system/
        services/http:sealed-secrets-controller:http/proxy/v1/cert.pem", pem_bytes)``."""

        def react() -> None:
            self.emulator[request] << payload

        self._call(react)

    def expire_watches(self) -> None:
        """Compact history: every resourceVersion up to now is too old (410 on the next watch
        from it), and every open watch ends, as after an API server restart."""
        def expire() -> None:
            self.emulator.oldest_rv = self.emulator.rv + 1
            self.emulator.stop_watches()

        self._call(expire)

    def close_watches(self) -> None:
        """End every open watch normally (as the server's timeout would)."""
        self._call(self.emulator.stop_watches)

    @property
    def resource_version(self) -> str:
        return str(self._call(lambda: self.emulator.rv))

    @property
    def requests(self) -> list[tuple[str, str]]:
        """``(method, path?query)`` of every request served since the test began."""
        return list(self._call(lambda: [(r.method.value, r.url.path_qs)
                                        for r in self.emulator._requests]))

    def reset(self) -> None:
        self._call(self.emulator.reset)


def start_emulator() -> tuple[EmulatorHandle, Callable[[], None]]:
    """Start an emulator on 127.0.0.1:<free port> in a daemon thread; returns it and a stopper."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="kmock", daemon=True)
    thread.start()

    async def up() -> tuple[Emulator, kmock.Server]:
        emulator = Emulator()
        await emulator.__aenter__()
        server = kmock.Server(emulator)
        await server.__aenter__()
        emulator.changed = asyncio.Condition()
        return emulator, server

    emulator, server = asyncio.run_coroutine_threadsafe(up(), loop).result(10)

    def stop() -> None:
        async def down() -> None:
            emulator.reset()
            await server.__aexit__(None, None, None)
            await emulator.__aexit__(None, None, None)

        asyncio.run_coroutine_threadsafe(down(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)

    return EmulatorHandle(emulator, loop, f"http://127.0.0.1:{server.port}"), stop


@pytest.fixture(scope="session")
def _kmock_session() -> Iterator[EmulatorHandle]:
    handle, stop = start_emulator()
    yield handle
    stop()


@pytest.fixture
def kmock_server(_kmock_session: EmulatorHandle) -> Iterator[EmulatorHandle]:
    """The emulator, empty at the start of the test."""
    _kmock_session.reset()
    yield _kmock_session
    _kmock_session.reset()


@pytest.fixture
def kube(kmock_server: EmulatorHandle) -> Iterator[Kube]:
    """A :class:`Kube` talking to the emulator over HTTP with the real kubernetes client."""
    client = Kube.at(kmock_server.url)
    yield client
    client.close()


@pytest.fixture
def seed(kmock_server: EmulatorHandle) -> Callable[[dict[str, Any]], dict[str, Any]]:
    return kmock_server.seed


@pytest.fixture
def objects(kmock_server: EmulatorHandle) -> Callable[..., list[dict[str, Any]]]:
    return kmock_server.objects


if __name__ == "__main__":  # a standalone emulator for benchmarks: python -m tests.emulator
    handle, _stop = start_emulator()
    handle.emulator.keep_requests = False
    print(handle.url, flush=True)
    threading.Event().wait()
