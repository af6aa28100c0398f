"""kseal_controller.kube against the kmock-based emulator, over HTTP, with the real kubernetes client.

Also: the emulator's own real-API rules (test_emulator_*), and the probes that show what plain kmock
lacks (test_plain_kmock_*), which docs/controller/testing.md lists.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import kmock
import pytest

from kseal.errors import ClusterError
from kseal_controller import kube as kube_module
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
from kseal_controller.kube import Kube
from tests.emulator import EmulatorHandle

SENTINEL = "SENTINEL-5f3a9c"
SENTINEL_B64 = "U0VOVElORUwtNWYzYTlj"
NOW = datetime(2026, 11, 29, 1, 2, 3, 456789, tzinfo=UTC)


def secret(name: str, ns: str = "ns", labels: dict[str, str] | None = None, **extra: Any) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "namespace": ns}
    if labels:
        meta["labels"] = labels
    return {"apiVersion": "v1", "kind": "Secret", "metadata": meta, "type": "Opaque",
            "data": {"v": "dg=="}, **extra}


def sealed(name: str, ns: str = "ns", labels: dict[str, str] | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "namespace": ns}
    if labels:
        meta["labels"] = labels
    return {"apiVersion": "bitnami.com/v1alpha1", "kind": "SealedSecret", "metadata": meta,
            "spec": {"encryptedData": {"v": "AgB="}, "template": {"metadata": {"name": name}}}}


class Collector:
    """Consumes a watch in a thread; ``wait_for(n)`` until n events arrived."""

    def __init__(self, events: Iterator[WatchEvent]) -> None:
        self.events: list[WatchEvent] = []
        self.error: BaseException | None = None
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(events,), daemon=True)
        self._thread.start()

    def _run(self, events: Iterator[WatchEvent]) -> None:
        try:
            for event in events:
                self.events.append(event)
        except BaseException as exc:
            self.error = exc
        finally:
            self._done.set()

    def wait_for(self, count: int, timeout: float = 5) -> list[WatchEvent]:
        deadline = time.monotonic() + timeout
        while len(self.events) < count and time.monotonic() < deadline and not self._done.is_set():
            time.sleep(0.01)
        return self.events

    def join(self, timeout: float = 5) -> None:
        assert self._done.wait(timeout), "the watch did not end"


def summary(events: list[WatchEvent]) -> list[tuple[str, str]]:
    return [(e.type, e.object["metadata"].get("name", "")) for e in events if e.type != "BOOKMARK"]


# ---- lists ------------------------------------------------------------------------------------


def test_list_sealed_secrets_cluster_wide_and_per_namespace(kube: Kube, seed: Any) -> None:
    seed(sealed("a", "one"))
    seed(sealed("b", "two"))
    everywhere, rv = kube.list_sealed_secrets(None)
    assert [s["metadata"]["name"] for s in everywhere] == ["a", "b"]
    assert rv.isdigit() and int(rv) >= int(everywhere[-1]["metadata"]["resourceVersion"])
    in_two, _ = kube.list_sealed_secrets("two")
    assert [s["metadata"]["name"] for s in in_two] == ["b"]


def test_seed_many_creates_objects_each_with_its_own_uid(kube: Kube, kmock_server: EmulatorHandle) -> None:
    kmock_server.seed_many([sealed(f"s{i:04}", f"ns{i % 7}") for i in range(1000)])
    items, _ = kube.list_sealed_secrets(None)
    assert len(items) == 1000 and len({s["metadata"]["uid"] for s in items}) == 1000
    assert len(kube.list_sealed_secrets("ns3")[0]) == len(range(3, 1000, 7))


def test_list_secrets_filters_by_label_selector(kube: Kube, seed: Any) -> None:
    key = "sealedsecrets.bitnami.com/sealed-secrets-key"
    seed(secret("active-key", "kube-system", {key: "active"}))
    seed(secret("compromised", "kube-system", {key: "compromised"}))
    seed(secret("plain", "kube-system"))

    def names(selector: str) -> list[str]:
        return [s["metadata"]["name"] for s in kube.list_secrets("kube-system", selector)[0]]

    assert names(f"{key}=active") == ["active-key"]
    assert names(key) == ["active-key", "compromised"]
    assert names(f"!{key}") == ["plain"]
    assert names(f"{key} in (active,compromised),{key}!=compromised") == ["active-key"]


def test_list_items_carry_kind_and_api_version_the_server_leaves_out(kube: Kube, seed: Any) -> None:
    seed(secret("s"))
    seed(sealed("ss"))
    (item,), _ = kube.list_secrets("ns")
    assert (item["apiVersion"], item["kind"]) == ("v1", "Secret")
    (ss,), _ = kube.list_sealed_secrets("ns")
    assert (ss["apiVersion"], ss["kind"]) == ("bitnami.com/v1alpha1", "SealedSecret")


def test_objects_come_back_byte_faithful_with_unknown_fields(kube: Kube, seed: Any) -> None:
    seed(secret("s", futureField={"nested": [1, "two"]}))
    got = kube.get_secret("ns", "s")
    assert got is not None and got["futureField"] == {"nested": [1, "two"]}
    assert got["data"] == {"v": "dg=="}


# ---- watches ----------------------------------------------------------------------------------


def test_watch_streams_added_modified_deleted_after_resource_version(
    kube: Kube, kmock_server: EmulatorHandle, seed: Any
) -> None:
    seed(secret("before"))
    _, rv = kube.list_secrets("ns")
    watch = Collector(kube.watch_secrets("ns", rv, timeout_seconds=5))
    created = kube.create_secret("ns", secret("s"))
    kube.update_secret("ns", "s", {**created, "data": {"v": "eA=="}})
    kmock_server.delete("Secret", "ns", "s")
    events = watch.wait_for(3)
    assert summary(events) == [("ADDED", "s"), ("MODIFIED", "s"), ("DELETED", "s")]
    assert events[1].object["data"] == {"v": "eA=="}
    rvs = [int(e.object["metadata"]["resourceVersion"]) for e in events]
    assert rvs == sorted(rvs) and rvs[0] > int(rv)
    kmock_server.close_watches()
    watch.join()
    assert watch.error is None


def test_watch_replays_changes_missed_since_resource_version(
    kube: Kube, kmock_server: EmulatorHandle, seed: Any
) -> None:
    _, rv = kube.list_sealed_secrets(None)
    seed(sealed("a", "one"))
    seed(sealed("b", "two"))
    seed(sealed("c", "two"))
    watch = Collector(kube.watch_sealed_secrets("two", rv))
    assert summary(watch.wait_for(2)) == [("ADDED", "b"), ("ADDED", "c")]
    kmock_server.close_watches()
    watch.join()
    assert watch.error is None


def test_watch_ends_at_its_timeout_with_a_bookmark(kube: Kube) -> None:
    _, rv = kube.list_secrets(None)
    started = time.monotonic()
    (bookmark,) = list(kube.watch_secrets(None, rv, timeout_seconds=1))
    assert 0.9 < time.monotonic() - started < 3
    assert bookmark.type == "BOOKMARK" and bookmark.object["metadata"]["resourceVersion"] == rv


def test_watch_filters_by_label_selector(kube: Kube, kmock_server: EmulatorHandle, seed: Any) -> None:
    _, rv = kube.list_secrets(None)
    seed(secret("mine", labels={"app": "x"}))
    seed(secret("other", labels={"app": "y"}))
    seed(secret("last", labels={"app": "x"}))
    watch = Collector(kube.watch_secrets(None, rv, label_selector="app=x"))
    assert summary(watch.wait_for(2)) == [("ADDED", "mine"), ("ADDED", "last")]
    kmock_server.close_watches()
    watch.join()


def test_watch_raises_gone_on_an_expired_resource_version(
    kube: Kube, kmock_server: EmulatorHandle
) -> None:
    _, rv = kube.list_sealed_secrets(None)
    kmock_server.expire_watches()
    with pytest.raises(Gone) as caught:
        list(kube.watch_sealed_secrets(None, rv))
    assert caught.value.status == 410 and caught.value.reason == "Expired"
    assert "watch SealedSecret in all namespaces" in str(caught.value)


def test_watch_raises_gone_on_an_http_410_answer(kube: Kube, kmock_server: EmulatorHandle) -> None:
    kmock_server.fail(r"watch=true", 410)
    with pytest.raises(Gone):
        list(kube.watch_secrets("ns", "1"))


def test_open_watch_ends_when_the_server_restarts_and_the_next_one_is_gone(
    kube: Kube, kmock_server: EmulatorHandle, seed: Any
) -> None:
    _, rv = kube.list_secrets("ns")
    watch = Collector(kube.watch_secrets("ns", rv, timeout_seconds=30))
    seed(secret("s"))
    assert summary(watch.wait_for(1)) == [("ADDED", "s")]
    kmock_server.expire_watches()
    watch.join()
    assert watch.error is None
    with pytest.raises(Gone):
        list(kube.watch_secrets("ns", watch.events[-1].object["metadata"]["resourceVersion"]))


def test_watch_on_a_reset_connection_is_transient(kube: Kube, kmock_server: EmulatorHandle) -> None:
    kmock_server.fail(r"watch=true", "reset", times=None)
    with pytest.raises(Transient):
        list(kube.watch_secrets("ns", "1"))


def test_watch_stopped_early_releases_its_connection(kube: Kube, seed: Any) -> None:
    seed(secret("a"))
    events = kube.watch_secrets("ns", "", timeout_seconds=30)
    assert next(events).type == "ADDED"
    events.close()  # type: ignore[attr-defined]
    assert kube.get_secret("ns", "a") is not None  # the pool still works


# ---- Secrets ----------------------------------------------------------------------------------


def test_get_secret_returns_none_when_missing(kube: Kube) -> None:
    assert kube.get_secret("ns", "nope") is None


def test_create_secret_with_generate_name_gets_a_server_chosen_name(kube: Kube, objects: Any) -> None:
    body = secret("x", "kube-system")
    del body["metadata"]["name"]
    body["metadata"]["generateName"] = "sealed-secrets-key"
    created = kube.create_secret("kube-system", body)
    name = created["metadata"]["name"]
    assert name.startswith("sealed-secrets-key") and len(name) == len("sealed-secrets-key") + 5
    assert [s["metadata"]["name"] for s in objects("Secret", "kube-system")] == [name]
    assert created["metadata"]["uid"] and created["metadata"]["resourceVersion"]


def test_create_existing_secret_is_conflict(kube: Kube, seed: Any) -> None:
    seed(secret("s"))
    with pytest.raises(Conflict) as caught:
        kube.create_secret("ns", secret("s"))
    assert caught.value.reason == "AlreadyExists"
    assert str(caught.value) == "create Secret ns/s: HTTP 409 (AlreadyExists)"


def test_update_secret_with_a_stale_resource_version_is_conflict(kube: Kube, seed: Any) -> None:
    first = seed(secret("s"))
    kube.update_secret("ns", "s", {**first, "data": {"v": "eA=="}})
    with pytest.raises(Conflict) as caught:
        kube.update_secret("ns", "s", {**first, "data": {"v": "eQ=="}})
    assert caught.value.status == 409 and caught.value.reason == "Conflict"


def test_update_secret_replaces_the_whole_object(kube: Kube, seed: Any) -> None:
    stored = seed(secret("s", labels={"old": "1"}))
    stored["metadata"]["labels"] = {"new": "1"}
    stored["data"] = {"w": "dw=="}
    updated = kube.update_secret("ns", "s", stored)
    assert updated["metadata"]["labels"] == {"new": "1"} and updated["data"] == {"w": "dw=="}
    assert updated["metadata"]["uid"] == stored["metadata"]["uid"]
    assert int(updated["metadata"]["resourceVersion"]) > int(stored["metadata"]["resourceVersion"])


def test_update_of_an_immutable_secret_is_invalid_and_says_so_without_values(
    kube: Kube, seed: Any
) -> None:
    stored = seed(secret("s", immutable=True))
    with pytest.raises(Invalid) as caught:
        kube.update_secret("ns", "s", {**stored, "data": {"v": SENTINEL_B64}})
    assert "the object is immutable" in str(caught.value) and SENTINEL_B64 not in str(caught.value)


def test_update_of_a_missing_secret_is_not_found(kube: Kube) -> None:
    with pytest.raises(NotFound):
        kube.update_secret("ns", "gone", secret("gone"))


# ---- SealedSecret status ----------------------------------------------------------------------


def test_update_sealed_secret_status_writes_only_the_status(kube: Kube, kmock_server: EmulatorHandle, seed: Any) -> None:
    stored = seed(sealed("ss"))
    body = {**stored, "spec": {"encryptedData": {}}, "status": {
        "observedGeneration": 1, "conditions": [{"type": "Synced", "status": "True"}]}}
    result = kube.update_sealed_secret_status("ns", "ss", body)
    assert result["status"]["conditions"][0]["status"] == "True"
    now = kmock_server.get("SealedSecret", "ns", "ss")
    assert now is not None and now["spec"] == stored["spec"] and now["status"] == body["status"]
    assert now["metadata"]["generation"] == 1


def test_update_sealed_secret_status_with_a_stale_resource_version_is_conflict(
    kube: Kube, seed: Any
) -> None:
    stored = seed(sealed("ss"))
    kube.update_sealed_secret_status("ns", "ss", {**stored, "status": {"observedGeneration": 1}})
    with pytest.raises(Conflict):
        kube.update_sealed_secret_status("ns", "ss", {**stored, "status": {}})


def test_update_status_of_a_missing_sealed_secret_is_not_found(kube: Kube) -> None:
    with pytest.raises(NotFound) as caught:
        kube.update_sealed_secret_status("ns", "gone", sealed("gone"))
    assert str(caught.value) == "update status of SealedSecret ns/gone: HTTP 404 (NotFound)"


# ---- Events -----------------------------------------------------------------------------------


def test_events_are_created_with_source_component_sealed_secrets(
    kube: Kube, seed: Any, objects: Any
) -> None:
    ss = seed(sealed("ss"))
    kube.create_event(ss, "Warning", "ErrUnsealFailed", "Failed to unseal: no key could decrypt secret (v)", NOW)
    (event,) = objects("Event", "ns")
    assert event["source"] == {"component": "sealed-secrets"}
    assert (event["type"], event["reason"]) == ("Warning", "ErrUnsealFailed")
    assert event["message"] == "Failed to unseal: no key could decrypt secret (v)"
    assert event["involvedObject"] == {
        "apiVersion": "bitnami.com/v1alpha1", "kind": "SealedSecret", "name": "ss", "namespace": "ns",
        "uid": ss["metadata"]["uid"], "resourceVersion": ss["metadata"]["resourceVersion"]}
    assert event["firstTimestamp"] == event["lastTimestamp"] == "2026-11-29T01:02:03Z"
    assert event["metadata"]["name"] == f"ss.{int(NOW.timestamp()) * 10**9 + 456789000:x}"


def test_two_different_events_in_the_same_instant_both_land(kube: Kube, seed: Any, objects: Any) -> None:
    ss = seed(sealed("ss"))
    kube.create_event(ss, "Warning", "ErrUnsealFailed", "Failed to unseal: a", NOW)
    kube.create_event(ss, "Warning", "ErrUnsealFailed", "Failed to unseal: b", NOW)
    assert len({e["metadata"]["name"] for e in objects("Event", "ns")}) == 2


def test_a_repeated_event_counts_up_instead_of_piling_up(
    kube: Kube, kmock_server: EmulatorHandle, seed: Any, objects: Any
) -> None:
    ss = seed(sealed("ss"))
    later = NOW.replace(minute=30)
    for when in (NOW, NOW.replace(minute=20), later):
        kube.create_event(ss, "Warning", "ErrUnsealFailed", "Failed to unseal: x", when)
    (event,) = objects("Event", "ns")
    assert event["count"] == 3
    assert (event["firstTimestamp"], event["lastTimestamp"]) == ("2026-11-29T01:02:03Z", "2026-11-29T01:30:03Z")
    kmock_server.delete("Event", "ns", event["metadata"]["name"])  # expired on the server
    kube.create_event(ss, "Warning", "ErrUnsealFailed", "Failed to unseal: x", later)
    (fresh,) = objects("Event", "ns")
    assert fresh["count"] == 1 and fresh["metadata"]["name"] != event["metadata"]["name"]


# ---- error mapping ----------------------------------------------------------------------------


@pytest.mark.parametrize("status", [500, 502, 503, 504, 429])
def test_server_errors_and_throttling_are_transient(kube: Kube, kmock_server: EmulatorHandle, status: int) -> None:
    kmock_server.fail(r"/secrets/s$", status)
    with pytest.raises(Transient) as caught:
        kube.get_secret("ns", "s")
    assert caught.value.status == status and f"get Secret ns/s: HTTP {status}" in str(caught.value)


@pytest.mark.parametrize(("status", "error"), [(403, Forbidden), (401, Forbidden), (404, NotFound), (422, Invalid), (409, Conflict)])
def test_client_errors_map_onto_their_classes(
    kube: Kube, kmock_server: EmulatorHandle, status: int, error: type[ApiError]
) -> None:
    kmock_server.fail(r"/sealedsecrets(\?limit=500)?$", status)
    with pytest.raises(error) as caught:
        kube.list_sealed_secrets("ns")
    assert caught.value.status == status and "list SealedSecret in ns" in str(caught.value)


def test_a_reset_connection_is_transient(kube: Kube, kmock_server: EmulatorHandle) -> None:
    kmock_server.fail(r"/secrets", "reset", times=None)
    with pytest.raises(Transient) as caught:
        kube.create_secret("ns", secret("s"))
    assert caught.value.status == 0 and "create Secret ns/s" in str(caught.value)


def test_a_single_dropped_read_is_retried_by_the_client(kube: Kube, kmock_server: EmulatorHandle) -> None:
    # urllib3's default Retry(3) repeats idempotent requests after a reset: a test wanting an
    # outage injects the failure with times=None (or more than 3)
    kmock_server.fail(r"/secrets/s$", "reset", times=1)
    assert kube.get_secret("ns", "s") is None


def test_a_server_that_does_not_answer_is_transient(monkeypatch: pytest.MonkeyPatch) -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)  # accepts (in the backlog) but never answers
    monkeypatch.setattr(kube_module, "REQUEST_TIMEOUT", (0.5, 0.2))
    slow = Kube.at(f"http://127.0.0.1:{listener.getsockname()[1]}")
    try:
        with pytest.raises(Transient) as caught:
            slow.get_secret("ns", "s")
        assert "Timeout" in str(caught.value) or "MaxRetryError" in str(caught.value)
    finally:
        slow.close()
        listener.close()


def test_nothing_listening_is_transient() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    closed = Kube.at(f"http://127.0.0.1:{port}")
    with pytest.raises(Transient):
        closed.list_secrets(None)
    closed.close()


def test_error_messages_never_carry_the_server_message_or_a_value(
    kube: Kube, kmock_server: EmulatorHandle
) -> None:
    kmock_server.fail(r"/secrets", 500, message=f"boom {SENTINEL}", times=None)
    calls: list[Callable[[], object]] = [
        lambda: kube.get_secret("ns", "s"),
        lambda: kube.create_secret("ns", secret("s", data={"v": SENTINEL_B64})),
        lambda: kube.update_secret("ns", "s", secret("s", data={"v": SENTINEL_B64})),
    ]
    for call in calls:
        with pytest.raises(Transient) as caught:
            call()
        assert SENTINEL not in str(caught.value) and SENTINEL_B64 not in str(caught.value)
        assert "\n" not in str(caught.value)


# ---- connect ----------------------------------------------------------------------------------


def _kubeconfig(tmp_path: Any, url: str) -> str:
    config = {
        "apiVersion": "v1", "kind": "Config", "current-context": "broken",
        "clusters": [{"name": "emu", "cluster": {"server": url}},
                     {"name": "nowhere", "cluster": {"server": "http://127.0.0.1:1"}}],
        "users": [{"name": "u", "user": {"token": "t"}}],
        "contexts": [{"name": "emu", "context": {"cluster": "emu", "user": "u"}},
                     {"name": "broken", "context": {"cluster": "nowhere", "user": "u"}}],
    }
    path = tmp_path / "kubeconfig"
    path.write_text(json.dumps(config))
    return str(path)


def test_connect_uses_the_kubeconfig_and_context(
    tmp_path: Any, kmock_server: EmulatorHandle, seed: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "10.0.0.1")  # an explicit kubeconfig wins
    seed(secret("s"))
    client = Kube.connect(_kubeconfig(tmp_path, kmock_server.url), "emu")
    assert [s["metadata"]["name"] for s in client.list_secrets("ns")[0]] == ["s"]
    client.close()
    requests = kmock_server.requests
    assert requests[-1] == ("GET", "/api/v1/namespaces/ns/secrets?limit=500")


def test_connect_reads_kubeconfig_from_the_environment(
    tmp_path: Any, kmock_server: EmulatorHandle, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    monkeypatch.setenv("KUBECONFIG", _kubeconfig(tmp_path, kmock_server.url))
    client = Kube.connect(context="emu")
    assert client.get_secret("ns", "none") is None
    client.close()


def test_connect_prefers_in_cluster_credentials_when_running_in_a_pod(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "10.0.0.1")
    config = "kseal_controller.kube.k8s_config"
    monkeypatch.setattr(f"{config}.load_incluster_config",
                        lambda client_configuration: calls.append("in-cluster"))
    monkeypatch.setattr(f"{config}.load_kube_config", lambda **kwargs: calls.append("kubeconfig"))
    Kube.connect().close()
    assert calls == ["in-cluster"]


def test_connect_without_credentials_is_a_one_line_cluster_error(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    with pytest.raises(ClusterError) as caught:
        Kube.connect(str(tmp_path / "missing"))
    assert "\n" not in caught.value.message and caught.value.hints


# ---- the emulator's own rules (what the harness adds to kmock) --------------------------------


def test_emulator_deletes_owned_objects_when_their_owner_goes(kmock_server: EmulatorHandle, seed: Any) -> None:
    owner = seed(sealed("ss"))
    ref = {"apiVersion": "bitnami.com/v1alpha1", "kind": "SealedSecret", "name": "ss",
           "uid": owner["metadata"]["uid"], "controller": True}
    seed({**secret("ss"), "metadata": {"name": "ss", "namespace": "ns", "ownerReferences": [ref]}})
    seed(secret("unrelated"))
    kmock_server.delete("SealedSecret", "ns", "ss")
    assert [s["metadata"]["name"] for s in kmock_server.objects("Secret")] == ["unrelated"]


def test_emulator_bumps_generation_on_spec_changes_only(kube: Kube, kmock_server: EmulatorHandle, seed: Any) -> None:
    stored = seed(sealed("ss"))
    kube.update_sealed_secret_status("ns", "ss", {**stored, "status": {"observedGeneration": 1}})
    current = kmock_server.get("SealedSecret", "ns", "ss")
    assert current is not None and current["metadata"]["generation"] == 1
    current["spec"]["encryptedData"] = {"w": "AgC="}
    changed = kmock_server.update(current)
    assert changed["metadata"]["generation"] == 2 and changed["status"] == {"observedGeneration": 1}


def test_emulator_serves_namespaces(kmock_server: EmulatorHandle) -> None:
    url = kmock_server.url
    namespace = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team"}}
    assert _raw(url, "POST", "/api/v1/namespaces", namespace)[0] == 201
    status, listed = _raw(url, "GET", "/api/v1/namespaces")
    assert status == 200 and [n["metadata"]["name"] for n in listed["items"]] == ["team"]
    status, got = _raw(url, "GET", "/api/v1/namespaces/team")
    assert status == 200 and got["metadata"]["uid"]
    assert _raw(url, "DELETE", "/api/v1/namespaces/team")[0] == 200
    assert _raw(url, "GET", "/api/v1/namespaces/team")[0] == 404


def test_emulator_answers_other_paths_with_kmock_reactions_until_reset(kmock_server: EmulatorHandle) -> None:
    proxy = "/api/v1/namespaces/kube-system/services/http:sealed-secrets-controller:http/proxy/v1/cert.pem"
    kmock_server.answer(f"get {proxy}", b"-----BEGIN CERTIFICATE-----\n")
    assert _raw(kmock_server.url, "GET", proxy) == (200, b"-----BEGIN CERTIFICATE-----\n")
    kmock_server.reset()
    assert _raw(kmock_server.url, "GET", proxy)[0] == 404


def test_emulator_folds_string_data_and_rejects_bad_base64(kube: Kube) -> None:
    created = kube.create_secret("ns", {"apiVersion": "v1", "kind": "Secret",
                                       "metadata": {"name": "s"}, "stringData": {"k": "v"}})
    assert created["data"] == {"k": "dg=="} and "stringData" not in created
    with pytest.raises(Invalid):
        kube.create_secret("ns", secret("bad", data={"k": "not base64!"}))


# ---- what plain kmock lacks (docs/controller/testing.md) --------------------------------------


@pytest.fixture(scope="module")
def plain_kmock() -> Iterator[str]:
    """An unmodified kmock.KubernetesEmulator, to show each gap the harness fills."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()

    async def up() -> tuple[kmock.KubernetesEmulator, kmock.Server]:
        emulator = kmock.KubernetesEmulator()
        await emulator.__aenter__()
        server = kmock.Server(emulator)
        await server.__aenter__()
        emulator.resources["v1/secrets"] = kmock.ResourceInfo()
        emulator.resources["bitnami.com/v1alpha1/sealedsecrets"] = kmock.ResourceInfo()
        return emulator, server

    emulator, server = asyncio.run_coroutine_threadsafe(up(), loop).result(10)
    yield f"http://127.0.0.1:{server.port}"

    async def down() -> None:
        await server.__aexit__(None, None, None)
        await emulator.__aexit__(None, None, None)

    asyncio.run_coroutine_threadsafe(down(), loop).result(10)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(5)


def _raw(url: str, method: str, path: str, body: Any = None, timeout: float = 5) -> tuple[int, Any]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(  # noqa: S310 (a local http URL)
        url + path, data=data, method=method, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:  # noqa: S310 (local)
            text = answer.read()
            status = answer.status
    except urllib.error.HTTPError as exc:
        text, status = exc.read(), exc.code
    try:
        return status, json.loads(text)
    except ValueError:
        return status, text


def test_plain_kmock_lacks_put_resource_versions_selectors_and_generate_name(plain_kmock: str) -> None:
    base = "/api/v1/namespaces/ns/secrets"
    status, created = _raw(plain_kmock, "POST", base, secret("a", labels={"x": "1"}))
    assert status == 200 and "resourceVersion" not in created["metadata"]  # no rv, no uid
    assert "uid" not in created["metadata"] and "creationTimestamp" not in created["metadata"]
    assert _raw(plain_kmock, "PUT", base + "/a", secret("a"))[0] == 404  # no PUT
    _, listed = _raw(plain_kmock, "GET", base + "?labelSelector=x%3D2")
    assert listed["metadata"]["resourceVersion"] == "..."  # a placeholder list resourceVersion
    assert len(listed["items"]) == 1  # the label selector is ignored
    assert len(_raw(plain_kmock, "GET", base + "?fieldSelector=metadata.name%3Dz")[1]["items"]) == 1
    stale = {"metadata": {"resourceVersion": "999"}, "data": {"v": "eA=="}}
    assert _raw(plain_kmock, "PATCH", base + "/a", stale)[0] == 200  # no optimistic concurrency
    _raw(plain_kmock, "POST", base, secret("b"))
    _, page = _raw(plain_kmock, "GET", base + "?limit=1")
    assert len(page["items"]) == 2 and "continue" not in page["metadata"]  # no pagination
    generated = {**secret("x"), "metadata": {"generateName": "key-", "namespace": "ns"}}
    assert _raw(plain_kmock, "POST", base, generated)[0] == 500  # no generateName


def test_plain_kmock_lacks_status_subresource_validation_and_immutability(plain_kmock: str) -> None:
    base = "/apis/bitnami.com/v1alpha1/namespaces/ns/sealedsecrets"
    _raw(plain_kmock, "POST", base, {**sealed("s"), "status": {"x": 1}})
    assert _raw(plain_kmock, "PUT", base + "/s/status", sealed("s"))[0] == 404  # no PUT /status
    _, patched = _raw(plain_kmock, "PATCH", base + "/s/status", {"spec": {"changed": True}})
    assert patched["spec"]["changed"] is True  # PATCH /status also rewrites the spec
    assert patched["status"] == {"x": 1}  # status kept from create; no generation either
    assert "generation" not in patched["metadata"]
    secrets_path = "/api/v1/namespaces/ns/secrets"
    assert _raw(plain_kmock, "POST", secrets_path, secret("i", immutable=True))[0] == 200
    assert _raw(plain_kmock, "PATCH", secrets_path + "/i", {"data": {"v": "eA=="}})[0] == 200
    assert _raw(plain_kmock, "POST", secrets_path, secret("BAD", data={"k": "!!"}))[0] == 200


def test_plain_kmock_watch_ignores_resource_version_and_never_expires(plain_kmock: str) -> None:
    base = "/api/v1/namespaces/w/secrets"
    _raw(plain_kmock, "POST", base, secret("old", "w"))
    query = "?watch=true&resourceVersion=1&timeoutSeconds=1"
    request = urllib.request.Request(plain_kmock + base + query)  # noqa: S310 (local)
    lines: list[dict[str, Any]] = []
    try:
        with urllib.request.urlopen(request, timeout=0.5) as stream:  # noqa: S310 (local)
            while line := stream.readline():
                if line.strip():
                    lines.append(json.loads(line))
    except (TimeoutError, OSError):
        pass  # kmock ignores timeoutSeconds: the stream only ends when the client gives up
    # an ancient resourceVersion neither answers 410 nor replays history: it lists everything
    assert [(e["type"], e["object"]["metadata"]["name"]) for e in lines] == [("ADDED", "old")]


def test_plain_kmock_has_no_garbage_collection_auth_or_namespace_checks(plain_kmock: str) -> None:
    base = "/apis/bitnami.com/v1alpha1/namespaces/gc/sealedsecrets"
    assert _raw(plain_kmock, "POST", base, {**sealed("o", "gc"), "metadata": {
        "name": "o", "namespace": "gc", "uid": "u-1"}})[0] == 200
    ref = {"apiVersion": "bitnami.com/v1alpha1", "kind": "SealedSecret", "name": "o", "uid": "u-1"}
    dependent = {**secret("o", "gc"), "metadata": {"name": "o", "namespace": "gc",
                                                  "ownerReferences": [ref]}}
    assert _raw(plain_kmock, "POST", "/api/v1/namespaces/gc/secrets", dependent)[0] == 200
    assert _raw(plain_kmock, "DELETE", base + "/o")[0] == 200
    assert _raw(plain_kmock, "GET", "/api/v1/namespaces/gc/secrets/o")[0] == 200  # no GC
    # the Namespace resource itself: its paths are parsed as a namespace prefix
    namespace = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "gc"}}
    assert _raw(plain_kmock, "POST", "/api/v1/namespaces", namespace)[0] == 500
    assert _raw(plain_kmock, "GET", "/api/v1/namespaces/gc")[0] == 404
    # no authentication or RBAC: any (or no) token is accepted; the namespace "gc" never existed
    request = urllib.request.Request(plain_kmock + "/api/v1/secrets",  # noqa: S310 (local)
                                     headers={"Authorization": "Bearer not-a-token"})
    with urllib.request.urlopen(request, timeout=5) as answer:  # noqa: S310 (local)
        assert answer.status == 200


def test_plain_kmock_reactions_do_not_stop_the_write_they_answer() -> None:
    async def probe() -> tuple[int, bool]:
        async with kmock.KubernetesEmulator() as emulator, kmock.Server(emulator):
            emulator["post /api/v1/namespaces/ns/secrets"] << 500
            async with emulator.post("/api/v1/namespaces/ns/secrets", json=secret("s")) as answer:
                status = answer.status
            stored = (kmock.resource("v1/secrets"), "ns", "s") in emulator.objects
            return status, stored

    assert asyncio.run(probe()) == (500, True)  # the client saw 500, yet the Secret was created


def test_lists_come_in_pages_and_keep_the_first_pages_version(
    kube: Kube, kmock_server: Any
) -> None:
    from kseal_controller import kube as kube_module

    kmock_server.seed_many([secret(f"s{i:04}") for i in range(kube_module.PAGE * 2 + 7)])
    version = kmock_server.resource_version
    items, listed_at = kube.list_secrets("ns")
    assert [i["metadata"]["name"] for i in items] == [f"s{i:04}" for i in range(1007)]
    assert listed_at == version
    pages = [path for _verb, path in kmock_server.requests if path.startswith("/api/v1/namespaces/ns/secrets")]
    assert len(pages) == 3 and "continue=" in pages[-1]
