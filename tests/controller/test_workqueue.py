"""WorkQueue: client-go work-queue semantics, backoff maths without sleeping, shutdown and drain."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator

import pytest

from kseal_controller.workqueue import (
    RateLimiter,
    TokenBucket,
    WorkQueue,
    exponential_delay,
)


class FakeClock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def _due(queue: WorkQueue) -> int:
    """Keys queued once due ones are promoted. The queue's own delay thread reads the same fake
    clock and may promote them first, so count what is queued rather than who promoted it."""
    queue.promote_due()
    return len(queue)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def queue(clock: FakeClock) -> Iterator[WorkQueue]:
    q = WorkQueue(clock=clock)
    yield q
    q.shut_down()


# --- basic queue semantics -------------------------------------------------------------------


def test_keys_come_out_in_the_order_they_were_added(queue: WorkQueue) -> None:
    for key in ("a/1", "a/2", "b/1"):
        queue.add(key)
    assert [queue.get(0), queue.get(0), queue.get(0)] == ["a/1", "a/2", "b/1"]


def test_duplicate_adds_collapse_into_one_queued_key(queue: WorkQueue) -> None:
    queue.add("ns/x")
    queue.add("ns/y")
    queue.add("ns/x")
    assert len(queue) == 2
    assert queue.get(0) == "ns/x"
    assert queue.get(0) == "ns/y"
    assert queue.get(0) is None


def test_a_key_added_while_processing_is_requeued_once_after_done(queue: WorkQueue) -> None:
    queue.add("ns/x")
    key = queue.get(0)
    assert key == "ns/x"
    queue.add("ns/x")
    queue.add("ns/x")
    assert len(queue) == 0, "a held key is not handed to a second worker"
    assert queue.get(0) is None
    queue.done("ns/x")
    assert len(queue) == 1
    assert queue.get(0) == "ns/x"
    queue.done("ns/x")
    assert queue.get(0) is None


def test_a_key_not_added_again_is_gone_after_done(queue: WorkQueue) -> None:
    queue.add("ns/x")
    assert queue.get(0) == "ns/x"
    queue.done("ns/x")
    assert len(queue) == 0
    assert queue.processing() == 0


def test_get_times_out_with_none_when_nothing_is_queued(queue: WorkQueue) -> None:
    started = time.monotonic()
    assert queue.get(timeout=0.05) is None
    assert time.monotonic() - started < 1.0
    assert not queue.shutting_down()


def test_get_wakes_up_when_a_key_is_added_from_another_thread(queue: WorkQueue) -> None:
    got: list[str | None] = []
    worker = threading.Thread(target=lambda: got.append(queue.get(timeout=5)))
    worker.start()
    queue.add("ns/x")
    worker.join(5)
    assert got == ["ns/x"]


def test_one_worker_per_key_under_concurrency_and_no_add_lost(queue: WorkQueue) -> None:
    keys = [f"ns/k{i}" for i in range(8)]
    lock = threading.Lock()
    active: Counter[str] = Counter()
    overlaps: list[str] = []
    last_add: dict[str, int] = {}
    last_seen: dict[str, int] = {}
    seq = iter(range(10**9))

    def worker() -> None:
        while (key := queue.get()) is not None:
            with lock:
                active[key] += 1
                if active[key] > 1:
                    overlaps.append(key)
                last_seen[key] = next(seq)
            time.sleep(0.0005)
            with lock:
                active[key] -= 1
            queue.done(key)

    def producer(offset: int) -> None:
        for i in range(300):
            key = keys[(i + offset) % len(keys)]
            with lock:
                last_add[key] = next(seq)
            queue.add(key)

    workers = [threading.Thread(target=worker) for _ in range(4)]
    producers = [threading.Thread(target=producer, args=(n,)) for n in range(3)]
    for t in workers + producers:
        t.start()
    for t in producers:
        t.join(10)
    deadline = time.monotonic() + 10
    while (len(queue) or queue.processing()) and time.monotonic() < deadline:
        time.sleep(0.005)
    queue.shut_down()
    for t in workers:
        t.join(10)
    assert overlaps == []
    for key in keys:
        assert last_seen[key] > last_add[key], f"{key}: an add was not followed by processing"


# --- delayed adds ----------------------------------------------------------------------------


def test_add_after_queues_the_key_only_when_its_time_comes(
    queue: WorkQueue, clock: FakeClock
) -> None:
    queue.add_after("ns/x", 2.0)
    assert len(queue) == 0 and queue.delayed() == 1
    clock.now += 1.9
    assert queue.promote_due() == 0
    clock.now += 0.2
    assert _due(queue) == 1
    assert queue.get(0) == "ns/x"


def test_add_after_keeps_the_earlier_of_two_times(queue: WorkQueue, clock: FakeClock) -> None:
    queue.add_after("ns/x", 10.0)
    queue.add_after("ns/x", 1.0)
    queue.add_after("ns/x", 5.0)
    assert queue.delayed() == 1
    clock.now += 1.5
    assert _due(queue) == 1
    clock.now += 20
    assert _due(queue) == 1, "the superseded later times do not queue it again"


def test_add_after_zero_delay_queues_at_once(queue: WorkQueue) -> None:
    queue.add_after("ns/x", 0)
    assert len(queue) == 1


def test_delayed_keys_come_out_in_time_order(queue: WorkQueue, clock: FakeClock) -> None:
    queue.add_after("ns/late", 3.0)
    queue.add_after("ns/early", 1.0)
    queue.add_after("ns/middle", 2.0)
    clock.now += 5
    queue.promote_due()
    assert [queue.get(0), queue.get(0), queue.get(0)] == ["ns/early", "ns/middle", "ns/late"]


def test_the_delay_thread_queues_a_delayed_key_in_real_time() -> None:
    q = WorkQueue()
    try:
        started = time.monotonic()
        q.add_after("ns/x", 0.03)
        assert q.get(timeout=5) == "ns/x"
        assert time.monotonic() - started >= 0.029
    finally:
        q.shut_down()


# --- backoff maths ---------------------------------------------------------------------------


def test_exponential_backoff_doubles_from_5ms_and_caps_at_1000s() -> None:
    assert [exponential_delay(n) for n in range(5)] == [0.005, 0.01, 0.02, 0.04, 0.08]
    assert exponential_delay(17) == pytest.approx(655.36)
    assert exponential_delay(18) == 1000.0
    assert exponential_delay(10_000) == 1000.0


def test_rate_limiter_counts_failures_per_key_and_forget_resets(clock: FakeClock) -> None:
    limiter = RateLimiter()
    delays = [limiter.when("ns/x", clock.now) for _ in range(4)]
    assert delays == [0.005, 0.01, 0.02, 0.04]
    assert limiter.when("ns/y", clock.now) == 0.005, "another key has its own count"
    assert limiter.num_requeues("ns/x") == 4
    limiter.forget("ns/x")
    assert limiter.num_requeues("ns/x") == 0
    assert limiter.when("ns/x", clock.now) == 0.005


def test_token_bucket_allows_a_burst_of_100_then_10_per_second() -> None:
    bucket = TokenBucket()
    now = 50.0
    assert all(bucket.reserve(now) == 0.0 for _ in range(100))
    assert bucket.reserve(now) == pytest.approx(0.1)
    assert bucket.reserve(now) == pytest.approx(0.2)
    now += 0.2  # the two debts are paid
    assert bucket.reserve(now) == pytest.approx(0.1)


def test_token_bucket_refills_up_to_its_burst_only() -> None:
    bucket = TokenBucket(rate=10, burst=3)
    for _ in range(3):
        bucket.reserve(0.0)
    later = 3600.0
    assert [bucket.reserve(later) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert bucket.reserve(later) == pytest.approx(0.1)


def test_rate_limited_delay_is_the_larger_of_backoff_and_bucket(clock: FakeClock) -> None:
    limiter = RateLimiter()
    for i in range(100):
        assert limiter.when(f"ns/k{i}", clock.now) == 0.005
    assert limiter.when("ns/late", clock.now) == pytest.approx(0.1), "the bucket is empty"
    for _ in range(14):
        limiter.when("ns/late", clock.now + 10_000)
    assert limiter.when("ns/late", clock.now + 10_000) == pytest.approx(163.84)


def test_add_rate_limited_delays_by_the_backoff_and_counts_requeues(
    queue: WorkQueue, clock: FakeClock
) -> None:
    queue.add_rate_limited("ns/x")
    assert queue.num_requeues("ns/x") == 1
    assert queue.promote_due() == 0 and len(queue) == 0
    clock.now += 0.0051  # margins of 0.1 ms: sums of decimal fractions are not exact in binary
    assert _due(queue) == 1
    key = queue.get(0)
    assert key == "ns/x"
    queue.add_rate_limited("ns/x")
    queue.done("ns/x")
    clock.now += 0.009
    assert queue.promote_due() == 0, "second failure waits 10 ms"
    clock.now += 0.0011
    assert _due(queue) == 1
    assert queue.num_requeues("ns/x") == 2
    queue.forget("ns/x")
    assert queue.num_requeues("ns/x") == 0


def test_a_retry_scheduled_while_processing_still_happens(
    queue: WorkQueue, clock: FakeClock
) -> None:
    queue.add("ns/x")
    key = queue.get(0)
    assert key == "ns/x"
    queue.add_rate_limited(key)  # the worker failed; it retries, then calls done
    queue.done(key)
    clock.now += 1
    queue.promote_due()
    assert queue.get(0) == "ns/x"


# --- shutdown --------------------------------------------------------------------------------


def test_shut_down_stops_intake_and_get_returns_none_once_empty(queue: WorkQueue) -> None:
    queue.add("ns/a")
    queue.shut_down()
    queue.add("ns/b")
    queue.add_after("ns/c", 0)
    queue.add_rate_limited("ns/d")
    assert queue.shutting_down()
    assert queue.get(0) == "ns/a", "what was queued is still handed out"
    assert queue.get() is None, "then None at once, without a timeout"
    assert queue.num_requeues("ns/d") == 0


def test_shut_down_drops_delayed_keys(queue: WorkQueue, clock: FakeClock) -> None:
    queue.add_after("ns/x", 1.0)
    queue.shut_down()
    clock.now += 5
    assert queue.promote_due() == 0
    assert queue.get() is None


def test_shut_down_wakes_every_waiting_worker(queue: WorkQueue) -> None:
    results: list[str | None] = []
    workers = [threading.Thread(target=lambda: results.append(queue.get())) for _ in range(3)]
    for t in workers:
        t.start()
    time.sleep(0.02)
    queue.shut_down()
    for t in workers:
        t.join(2)
    assert results == [None, None, None]


def test_drain_waits_for_in_flight_work_and_starts_nothing_new(queue: WorkQueue) -> None:
    queue.add("ns/busy")
    queue.add("ns/queued")
    key = queue.get(0)
    assert key == "ns/busy"
    release = threading.Event()
    finished: list[str] = []

    def worker() -> None:
        release.wait(5)
        finished.append(key)
        queue.done(key)

    t = threading.Thread(target=worker)
    t.start()
    drained: list[bool] = []
    drainer = threading.Thread(target=lambda: drained.append(queue.shut_down_with_drain(5)))
    drainer.start()
    drainer.join(0.05)
    assert drainer.is_alive(), "it waits while a key is in flight"
    assert queue.get(0) is None, "no new work starts while draining"
    queue.add("ns/new")
    release.set()
    drainer.join(5)
    t.join(5)
    assert drained == [True]
    assert finished == ["ns/busy"]
    assert queue.get(0) is None


def test_drain_with_nothing_in_flight_returns_at_once(queue: WorkQueue) -> None:
    started = time.monotonic()
    assert queue.shut_down_with_drain(5) is True
    assert time.monotonic() - started < 0.5


def test_drain_times_out_when_a_worker_never_finishes(queue: WorkQueue) -> None:
    queue.add("ns/stuck")
    assert queue.get(0) == "ns/stuck"
    started = time.monotonic()
    assert queue.shut_down_with_drain(0.05) is False
    assert time.monotonic() - started < 1.0
