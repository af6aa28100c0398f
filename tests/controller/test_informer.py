"""Informer: list, watch, bookmark, relist on 410 with a diff, backoff, prompt stop, summaries.

Driven by a scripted in-memory :class:`FakeSource` (the integrator runs it against kmock).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import pytest

from kseal_controller.apierrors import Forbidden, Gone, Transient, WatchEvent
from kseal_controller.informer import (
    FunctionSource,
    Informer,
    backoff_delay,
    object_key,
)

SENTINEL = "SENTINEL-5f3a9c"
Step = WatchEvent | BaseException | str  # "end" closes the stream; "block" waits for release


def obj(name: str, rv: str, ns: str = "ns", value: str = SENTINEL) -> dict[str, Any]:
    return {
        "apiVersion": "bitnami.com/v1alpha1",
        "kind": "SealedSecret",
        "metadata": {"name": name, "namespace": ns, "resourceVersion": rv},
        "spec": {"encryptedData": {"password": value}},
    }


def ev(kind: str, name: str, rv: str) -> WatchEvent:
    return WatchEvent(kind, obj(name, rv))


class FakeSource:
    """Scripted lists and watches. Unscripted watches block until released (or 5 s)."""

    def __init__(self, *lists: tuple[list[dict[str, Any]], str] | BaseException) -> None:
        self.lists: deque[tuple[list[dict[str, Any]], str] | BaseException] = deque(lists)
        self.watches: deque[list[Step]] = deque()
        self.list_calls = 0
        self.watch_calls: list[str] = []
        self.watch_times: list[float] = []
        self.release = threading.Event()
        self.closed = 0

    def list(self) -> tuple[list[dict[str, Any]], str]:
        self.list_calls += 1
        step = self.lists.popleft() if len(self.lists) > 1 else self.lists[0]
        if isinstance(step, BaseException):
            raise step
        return step

    def watch(self, resource_version: str) -> Iterator[WatchEvent]:
        self.watch_calls.append(resource_version)
        self.watch_times.append(time.monotonic())
        script = self.watches.popleft() if self.watches else ["block"]
        return self._stream(script)

    def _stream(self, script: Sequence[Step]) -> Iterator[WatchEvent]:
        try:
            for step in script:
                if isinstance(step, WatchEvent):
                    yield step
                elif isinstance(step, BaseException):
                    raise step
                elif step == "block":
                    self.release.wait(5)
                    return
                else:
                    return
            self.release.wait(5)  # a script without "end" stays open like a quiet watch
        finally:
            self.closed += 1


class Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple[str, Any, Any]] = []
        self.lock = threading.Lock()

    def add(self, new: dict[str, Any]) -> None:
        with self.lock:
            self.calls.append(("add", None, new))

    def update(self, old: Any, new: dict[str, Any]) -> None:
        with self.lock:
            self.calls.append(("update", old, new))

    def delete(self, old: Any) -> None:
        with self.lock:
            self.calls.append(("delete", old, None))

    def names(self) -> list[tuple[str, str]]:
        with self.lock:
            out = []
            for kind, old, new in self.calls:
                record = new if new is not None else old
                name = record["metadata"]["name"] if isinstance(record, dict) else record[0]
                out.append((kind, name))
            return out


def _ignore(*_: Any) -> None:
    pass


def wait_until(predicate: Callable[[], bool], timeout: float = 3.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.002)


class Running:
    """An informer running on its own thread; stopped (and the fake released) at teardown."""

    def __init__(self, source: FakeSource, **kwargs: Any) -> None:
        self.source = source
        self.rec = Recorder()
        kwargs.setdefault("backoff_initial", 0.001)
        kwargs.setdefault("backoff_cap", 0.01)
        kwargs.setdefault("poll", 0.01)
        self.informer = Informer(
            source, self.rec.add, self.rec.update, self.rec.delete, name="test", **kwargs
        )
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.informer.run, args=(self.stop,), daemon=True)
        self.thread.start()

    def close(self) -> float:
        started = time.monotonic()
        self.stop.set()
        self.thread.join(5)
        took = time.monotonic() - started
        self.source.release.set()
        return took


@pytest.fixture
def running() -> Iterator[Callable[..., Running]]:
    started: list[Running] = []

    def start(source: FakeSource, **kwargs: Any) -> Running:
        r = Running(source, **kwargs)
        started.append(r)
        return r

    yield start
    for r in started:
        r.close()


# --- list and watch --------------------------------------------------------------------------


def test_first_list_calls_on_add_for_each_object_then_synced_then_watches_from_its_rv(
    running: Callable[..., Running],
) -> None:
    source = FakeSource(([obj("a", "1"), obj("b", "2"), obj("c", "3", ns="other")], "10"))
    r = running(source)
    assert r.informer.wait_for_sync(3)
    assert r.rec.names() == [("add", "a"), ("add", "b"), ("add", "c")]
    wait_until(lambda: source.watch_calls == ["10"])
    assert sorted(r.informer.keys()) == ["ns/a", "ns/b", "other/c"]
    assert r.informer.get("ns/a")["metadata"]["resourceVersion"] == "1"
    assert r.informer.get("ns/missing") is None


def test_synced_is_false_until_the_first_list_is_delivered() -> None:
    informer = Informer(FakeSource(([], "1")), _ignore, _ignore, _ignore)
    assert not informer.synced()
    assert not informer.wait_for_sync(0.01)


def test_watch_events_add_update_and_delete(running: Callable[..., Running]) -> None:
    source = FakeSource(([obj("a", "1"), obj("b", "2")], "10"))
    source.watches.append(
        [ev("ADDED", "c", "11"), ev("MODIFIED", "a", "12"), ev("DELETED", "b", "13")]
    )
    r = running(source)
    wait_until(lambda: len(r.rec.calls) == 5)
    assert r.rec.names()[2:] == [("add", "c"), ("update", "a"), ("delete", "b")]
    _, old, new = r.rec.calls[3]
    assert old["metadata"]["resourceVersion"] == "1"
    assert new["metadata"]["resourceVersion"] == "12"
    assert sorted(r.informer.keys()) == ["ns/a", "ns/c"]
    assert r.informer.last_resource_version == "13"


def test_added_for_a_known_key_is_an_update_and_modified_for_an_unknown_key_an_add(
    running: Callable[..., Running],
) -> None:
    source = FakeSource(([obj("a", "1")], "10"))
    source.watches.append([ev("ADDED", "a", "11"), ev("MODIFIED", "z", "12")])
    r = running(source)
    wait_until(lambda: len(r.rec.calls) == 3)
    assert r.rec.names() == [("add", "a"), ("update", "a"), ("add", "z")]


def test_bookmark_moves_the_resource_version_and_calls_no_handler(
    running: Callable[..., Running],
) -> None:
    source = FakeSource(([obj("a", "1")], "10"))
    bookmark = WatchEvent("BOOKMARK", {"metadata": {"resourceVersion": "20"}})
    source.watches.append([bookmark, "end"])
    r = running(source)
    wait_until(lambda: len(source.watch_calls) == 2)
    assert source.watch_calls == ["10", "20"]
    assert r.rec.names() == [("add", "a")]
    assert r.informer.keys() == ["ns/a"]


def test_a_watch_ending_normally_rewatches_from_the_last_resource_version(
    running: Callable[..., Running],
) -> None:
    source = FakeSource(([], "10"))
    source.watches.append([ev("ADDED", "a", "11"), "end"])
    source.watches.append([ev("MODIFIED", "a", "15"), "end"])
    r = running(source)
    wait_until(lambda: len(source.watch_calls) == 3)
    assert source.watch_calls == ["10", "11", "15"]
    assert source.list_calls == 1, "a server-side watch timeout does not relist"
    assert r.rec.names() == [("add", "a"), ("update", "a")]


def test_a_watch_that_ends_at_once_without_events_backs_off(
    running: Callable[..., Running],
) -> None:
    source = FakeSource(([], "10"))
    source.watches.extend([["end"], ["end"]])
    running(source, backoff_initial=0.05, backoff_cap=0.05)
    wait_until(lambda: len(source.watch_calls) == 3)
    gaps = [b - a for a, b in zip(source.watch_times, source.watch_times[1:], strict=False)]
    assert all(gap >= 0.045 for gap in gaps), gaps


# --- 410 Gone --------------------------------------------------------------------------------


def test_gone_relists_and_diffs_the_store(running: Callable[..., Running]) -> None:
    first = ([obj("keep", "1"), obj("change", "1"), obj("vanish", "1")], "10")
    second = ([obj("keep", "1"), obj("change", "7"), obj("new", "8")], "50")
    source = FakeSource(first, second)
    source.watches.append([Gone("watch: too old", 410)])
    r = running(source)
    wait_until(lambda: source.watch_calls == ["10", "50"])
    assert r.rec.names()[3:] == [("update", "change"), ("add", "new"), ("delete", "vanish")]
    _, old, new = r.rec.calls[3]
    assert (old["metadata"]["resourceVersion"], new["metadata"]["resourceVersion"]) == ("1", "7")
    _, deleted, _ = r.rec.calls[5]
    assert deleted["metadata"]["name"] == "vanish"
    assert sorted(r.informer.keys()) == ["ns/change", "ns/keep", "ns/new"]
    assert source.list_calls == 2


def test_an_error_event_with_code_410_also_relists(running: Callable[..., Running]) -> None:
    source = FakeSource(([obj("a", "1")], "10"), ([], "60"))
    status = {"kind": "Status", "code": 410, "reason": "Expired", "message": "too old"}
    source.watches.append([WatchEvent("ERROR", status)])
    r = running(source)
    wait_until(lambda: source.watch_calls == ["10", "60"])
    assert r.rec.names() == [("add", "a"), ("delete", "a")]


def test_gone_raised_when_the_watch_starts_relists(running: Callable[..., Running]) -> None:
    source = FakeSource(([obj("a", "1")], "10"), ([obj("a", "1")], "70"))

    calls: list[str] = []

    def watch(rv: str) -> Iterator[WatchEvent]:
        calls.append(rv)
        if rv == "10":
            raise Gone("watch: too old", 410)
        return source.watch(rv)

    rec = Recorder()
    informer = Informer(FunctionSource(source.list, watch), rec.add, rec.update, rec.delete)
    stop = threading.Event()
    t = threading.Thread(target=informer.run, args=(stop,), daemon=True)
    t.start()
    try:
        wait_until(lambda: calls == ["10", "70"])
        assert rec.names() == [("add", "a")], "an unchanged object is not reported again"
    finally:
        stop.set()
        source.release.set()
        t.join(2)


# --- failures and backoff --------------------------------------------------------------------


def test_backoff_delay_doubles_and_caps() -> None:
    assert [backoff_delay(n, 0.8, 30) for n in range(8)] == [
        0.0, 0.8, 1.6, 3.2, 6.4, 12.8, 25.6, 30,
    ]  # fmt: skip
    assert backoff_delay(10_000, 0.8, 30) == 30


def test_a_transient_list_failure_is_retried_after_a_pause(
    running: Callable[..., Running], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="kseal_controller.informer")
    source = FakeSource(
        Transient("list sealedsecrets: 503", 503), Transient("reset", 0), ([obj("a", "1")], "10")
    )
    r = running(source)
    assert r.informer.wait_for_sync(3)
    assert source.list_calls == 3
    assert r.rec.names() == [("add", "a")]
    assert sum("list failed (Transient" in m for m in caplog.messages) == 2


def test_gone_from_a_list_is_retried_after_a_pause_not_in_a_hot_loop(
    running: Callable[..., Running],
) -> None:
    source = FakeSource(Gone("list: 410", 410), ([obj("a", "1")], "10"))
    r = running(source, backoff_initial=0.05, backoff_cap=0.05)
    started = time.monotonic()
    assert r.informer.wait_for_sync(3)
    assert time.monotonic() - started >= 0.045
    assert source.list_calls == 2


def test_consecutive_failures_double_the_pause_and_a_working_watch_resets_it(
    running: Callable[..., Running], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="kseal_controller.informer")
    source = FakeSource(([], "10"))
    for _ in range(3):
        source.watches.append([Transient("watch: 503", 503)])
    source.watches.append([ev("ADDED", "a", "11"), Transient("watch: 503", 503)])
    running(source, backoff_initial=0.01, backoff_cap=1.0)
    wait_until(lambda: len(source.watch_calls) == 5)
    pauses = [m.rsplit(" ", 1)[1] for m in caplog.messages if "retrying in" in m]
    assert pauses == ["0.01s", "0.02s", "0.04s", "0.01s"]


def test_a_transient_watch_failure_rewatches_from_the_same_rv_without_relisting(
    running: Callable[..., Running],
) -> None:
    source = FakeSource(([obj("a", "1")], "10"))
    source.watches.append([ev("MODIFIED", "a", "11"), Transient("connection reset", 0)])
    running(source)
    wait_until(lambda: len(source.watch_calls) == 2)
    assert source.watch_calls == ["10", "11"]
    assert source.list_calls == 1


def test_other_api_errors_and_error_events_are_logged_and_retried(
    running: Callable[..., Running], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="kseal_controller.informer")
    source = FakeSource(([], "10"))
    status = {"kind": "Status", "code": 500, "reason": "InternalError", "message": SENTINEL}
    source.watches.append([Forbidden("watch sealedsecrets: 403", 403)])
    source.watches.append([WatchEvent("ERROR", status)])
    running(source)
    wait_until(lambda: len(source.watch_calls) == 3)
    assert source.list_calls == 1
    assert any("watch failed (Forbidden: watch sealedsecrets: 403)" in m for m in caplog.messages)
    assert any("error event 500 InternalError" in m for m in caplog.messages)
    assert SENTINEL not in caplog.text, "a Status message is not echoed"


def test_an_unexpected_exception_is_retried_and_logged_by_type_only(
    running: Callable[..., Running], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="kseal_controller.informer")
    source = FakeSource(RuntimeError(f"body {SENTINEL}"), ([obj("a", "1")], "10"))
    r = running(source)
    assert r.informer.wait_for_sync(3)
    assert any("list failed (RuntimeError)" in m for m in caplog.messages)
    assert SENTINEL not in caplog.text


def test_a_failing_handler_is_logged_and_the_informer_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.ERROR, logger="kseal_controller.informer")
    seen: list[str] = []

    def on_add(o: dict[str, Any]) -> None:
        seen.append(o["metadata"]["name"])
        if o["metadata"]["name"] == "bad":
            raise ValueError(SENTINEL)

    source = FakeSource(([obj("bad", "1"), obj("good", "2")], "10"))
    informer = Informer(source, on_add, _ignore, _ignore)
    stop = threading.Event()
    t = threading.Thread(target=informer.run, args=(stop,), daemon=True)
    t.start()
    try:
        assert informer.wait_for_sync(3)
        assert seen == ["bad", "good"]
        assert sorted(informer.keys()) == ["ns/bad", "ns/good"]
        assert "on_add handler failed for ns/bad: ValueError" in caplog.text
        assert SENTINEL not in caplog.text
    finally:
        stop.set()
        source.release.set()
        t.join(2)


# --- stop ------------------------------------------------------------------------------------


def test_stop_returns_within_a_second_while_the_watch_is_blocked(
    running: Callable[..., Running],
) -> None:
    source = FakeSource(([obj("a", "1")], "10"))
    r = running(source)
    wait_until(lambda: source.watch_calls == ["10"])
    assert r.close() < 1.0
    assert not r.thread.is_alive()


def test_stop_interrupts_a_long_backoff(running: Callable[..., Running]) -> None:
    source = FakeSource(Transient("list: 503", 503))
    r = running(source, backoff_initial=60, backoff_cap=60)
    wait_until(lambda: source.list_calls == 1)
    time.sleep(0.01)
    assert r.close() < 1.0


def test_the_stop_method_ends_run_like_the_event(running: Callable[..., Running]) -> None:
    source = FakeSource(([obj("a", "1")], "10"))
    r = running(source)
    wait_until(lambda: source.watch_calls == ["10"])
    r.informer.stop()
    r.thread.join(1)
    assert not r.thread.is_alive()
    assert r.stop.is_set()


def test_stop_before_run_makes_run_return_at_once() -> None:
    source = FakeSource(([obj("a", "1")], "10"))
    informer = Informer(source, _ignore, _ignore, _ignore)
    informer.stop()
    informer.run(threading.Event())
    assert source.list_calls == 0


def test_the_watch_stream_is_closed_after_stop(running: Callable[..., Running]) -> None:
    source = FakeSource(([], "10"))
    r = running(source)
    wait_until(lambda: source.watch_calls == ["10"])
    r.close()
    wait_until(lambda: source.closed == 1)


# --- store -----------------------------------------------------------------------------------


def test_summarize_keeps_a_compact_record_and_handlers_get_it_as_old(
    running: Callable[..., Running],
) -> None:
    def summarize(o: dict[str, Any]) -> tuple[str, str]:
        return (o["metadata"]["name"], o["metadata"]["resourceVersion"])

    source = FakeSource(([obj("a", "1"), obj("b", "1")], "10"))
    source.watches.append([ev("MODIFIED", "a", "11"), ev("DELETED", "b", "12")])
    r = running(source, summarize=summarize)
    wait_until(lambda: len(r.rec.calls) == 4)
    assert r.informer.get("ns/a") == ("a", "11")
    assert r.informer.items() == [("ns/a", ("a", "11"))]
    kind, old, new = r.rec.calls[2]
    assert (kind, old) == ("update", ("a", "1"))
    assert new["spec"]["encryptedData"]["password"] == SENTINEL, "new objects arrive in full"
    assert r.rec.calls[3] == ("delete", ("b", "12"), None)


def test_ten_thousand_objects_list_quickly_into_summaries(running: Callable[..., Running]) -> None:
    objects = [obj(f"s{i}", str(i)) for i in range(10_000)]
    source = FakeSource((objects, "10001"))
    r = running(source, summarize=lambda o: o["metadata"]["resourceVersion"])
    started = time.monotonic()
    assert r.informer.wait_for_sync(5)
    assert time.monotonic() - started < 2.0
    assert len(r.informer) == 10_000
    assert r.informer.get("ns/s42") == "42"


def test_reads_are_safe_while_events_are_applied() -> None:
    source = FakeSource(([], "1"))
    source.watches.append([ev("ADDED", f"o{i}", str(i + 2)) for i in range(3000)])
    informer = Informer(source, _ignore, _ignore, _ignore, poll=0.01)
    stop = threading.Event()
    errors: list[BaseException] = []
    sizes: list[int] = []

    def reader() -> None:
        try:
            while not stop.is_set():
                items, keys = informer.items(), informer.keys()
                assert all(key == f"ns/{o['metadata']['name']}" for key, o in items)
                sizes.append(len(keys))
        except BaseException as exc:
            errors.append(exc)

    readers = [threading.Thread(target=reader) for _ in range(2)]
    for t in readers:
        t.start()
    runner = threading.Thread(target=informer.run, args=(stop,), daemon=True)
    runner.start()
    try:
        wait_until(lambda: len(informer) == 3000, timeout=5)
    finally:
        stop.set()
        source.release.set()
        for t in [*readers, runner]:
            t.join(2)
    assert errors == []
    assert sizes, "reads happened"
    assert len(informer.keys()) == 3000


def test_object_key_is_namespace_slash_name_or_name_when_cluster_scoped() -> None:
    assert object_key(obj("x", "1", ns="team")) == "team/x"
    assert object_key({"metadata": {"name": "node-1"}}) == "node-1"


def test_no_object_content_is_logged(
    running: Callable[..., Running], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="kseal_controller.informer")
    source = FakeSource(Transient("list: 503", 503), ([obj("a", "1")], "10"), ([], "30"))
    source.watches.append([ev("MODIFIED", "a", "11"), WatchEvent("WEIRD", obj("a", "12")), "end"])
    source.watches.append([ev("DELETED", "a", "13"), Gone("watch: too old", 410)])
    running(source)
    wait_until(lambda: len(source.watch_calls) == 3)
    assert "ignoring a watch event of type 'WEIRD'" in caplog.text
    assert SENTINEL not in caplog.text
    assert "password" not in caplog.text
