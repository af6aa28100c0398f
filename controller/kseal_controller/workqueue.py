"""A rate-limited work queue of object keys, with the semantics of client-go's ``util/workqueue``.

* A key is handed to at most one worker at a time. ``add`` of a key that a worker holds marks
  it dirty; ``done`` then queues it again, once, however many times it was added meanwhile.
* Duplicates collapse: a key already waiting in the queue is not queued twice.
* ``add_after(key, delay)`` queues the key later (a heap served by one timer thread); a key
  already waiting keeps the earlier of its two times.
* ``add_rate_limited(key)`` = ``add_after(key, max(per-key backoff, overall bucket))``, the
  controller default of client-go: per key ``5 ms * 2**failures`` capped at 1000 s, and one token
  bucket of 10 keys/s with a burst of 100. ``forget`` resets the key's failures,
  ``num_requeues`` counts them.
* ``shut_down()`` stops intake; workers still get the keys already queued, then ``None``.
  ``shut_down_with_drain(timeout)`` (SIGTERM) stops intake, starts no new work and waits for the
  keys in flight to be ``done``.

The backoff maths (:func:`exponential_delay`, :class:`TokenBucket`, :class:`RateLimiter`) is
pure: it takes the time as a number from the injected ``clock``, so it is tested without sleeping.
"""

from __future__ import annotations

import heapq
import threading
import time
from collections import deque
from collections.abc import Callable

BASE_DELAY = 0.005
MAX_DELAY = 1000.0
BUCKET_RATE = 10.0
BUCKET_BURST = 100
_MAX_TIMER_WAIT = 10.0  # insurance, as client-go's heartbeat: re-check the heap at least this often


def exponential_delay(failures: int, base: float = BASE_DELAY, cap: float = MAX_DELAY) -> float:
    """The delay before retry number ``failures + 1``: ``base * 2**failures``, at most ``cap``."""
    if failures >= 128:  # 2**128 * any sane base is far past any cap; avoids float overflow
        return cap
    return min(base * 2.0**failures, cap)


class TokenBucket:
    """A token bucket (golang.org/x/time/rate semantics): full at first, ``rate`` tokens/s.

    :meth:`reserve` always takes a token, going into debt if there is none, and returns how long
    the caller must wait for it.
    """

    def __init__(self, rate: float = BUCKET_RATE, burst: int = BUCKET_BURST) -> None:
        self.rate = rate
        self.burst = burst
        self._tokens = float(burst)
        self._last: float | None = None

    def reserve(self, now: float) -> float:
        """Take one token at time ``now``; the delay (seconds, >= 0) until it is really there."""
        if self._last is not None and now > self._last:
            self._tokens = min(float(self.burst), self._tokens + (now - self._last) * self.rate)
        if self._last is None or now > self._last:
            self._last = now
        self._tokens -= 1.0
        return 0.0 if self._tokens >= 0 else -self._tokens / self.rate


class RateLimiter:
    """client-go's ``DefaultControllerRateLimiter``: the larger of per-key backoff and the bucket.

    Not thread-safe on its own: the :class:`WorkQueue` calls it under its lock.
    """

    def __init__(
        self,
        base_delay: float = BASE_DELAY,
        max_delay: float = MAX_DELAY,
        rate: float = BUCKET_RATE,
        burst: int = BUCKET_BURST,
    ) -> None:
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.bucket = TokenBucket(rate, burst)
        self._failures: dict[str, int] = {}

    def when(self, key: str, now: float) -> float:
        """Count one more failure of ``key`` and return how long to wait before retrying it."""
        failures = self._failures.get(key, 0)
        self._failures[key] = failures + 1
        backoff = exponential_delay(failures, self.base_delay, self.max_delay)
        return max(backoff, self.bucket.reserve(now))

    def forget(self, key: str) -> None:
        """``key`` succeeded (or was given up): its next failure starts from ``base_delay``."""
        self._failures.pop(key, None)

    def num_requeues(self, key: str) -> int:
        """How many times ``key`` failed since it was last forgotten."""
        return self._failures.get(key, 0)


class WorkQueue:
    """Keys to reconcile, each processed by one worker at a time; see the module docstring.

    Workers loop ``key = q.get(); try: ... finally: q.done(key)`` until ``get`` returns None
    with ``q.shutting_down()`` true (``get`` also returns None when its ``timeout`` runs out).
    """

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.monotonic,
        limiter: RateLimiter | None = None,
    ) -> None:
        self._clock = clock
        self._limiter = limiter if limiter is not None else RateLimiter()
        self._lock = threading.Lock()
        self._ready = threading.Condition(self._lock)  # get() waiters and the drain waiter
        self._timer_wake = threading.Condition(self._lock)  # the delay thread
        self._queue: deque[str] = deque()
        self._dirty: set[str] = set()
        self._processing: set[str] = set()
        self._waiting: dict[str, float] = {}  # key -> when it becomes ready (the earliest asked)
        self._heap: list[tuple[float, int, str]] = []  # (ready_at, seq, key); stale rows skipped
        self._seq = 0
        self._timer: threading.Thread | None = None
        self._shutting_down = False
        self._draining = False

    # --- intake -------------------------------------------------------------------------------

    def add(self, key: str) -> None:
        """Queue ``key`` (once); if a worker holds it, queue it again when that worker is done."""
        with self._lock:
            self._add_locked(key)

    def _add_locked(self, key: str) -> None:
        if self._shutting_down or key in self._dirty:
            return
        self._dirty.add(key)
        if key in self._processing:
            return
        self._queue.append(key)
        self._ready.notify()

    def add_after(self, key: str, delay: float) -> None:
        """Queue ``key`` after ``delay`` seconds (now if ``delay <= 0``)."""
        with self._lock:
            self._add_after_locked(key, delay)

    def _add_after_locked(self, key: str, delay: float) -> None:
        if self._shutting_down:
            return
        if delay <= 0:
            self._add_locked(key)
            return
        ready_at = self._clock() + delay
        known = self._waiting.get(key)
        if known is not None and known <= ready_at:
            return
        self._waiting[key] = ready_at
        self._seq += 1
        heapq.heappush(self._heap, (ready_at, self._seq, key))
        self._ensure_timer()
        self._timer_wake.notify()

    def add_rate_limited(self, key: str) -> None:
        """Queue ``key`` after its backoff: max(5 ms * 2**failures capped at 1000 s, bucket)."""
        with self._lock:
            if self._shutting_down:
                return
            delay = self._limiter.when(key, self._clock())
            self._add_after_locked(key, delay)

    def forget(self, key: str) -> None:
        """Reset ``key``'s failure count (call it when the key was processed successfully)."""
        with self._lock:
            self._limiter.forget(key)

    def num_requeues(self, key: str) -> int:
        """How many rate-limited retries ``key`` has had since it was last forgotten."""
        with self._lock:
            return self._limiter.num_requeues(key)

    # --- workers ------------------------------------------------------------------------------

    def get(self, timeout: float | None = None) -> str | None:
        """The next key, now held by the caller until :meth:`done`.

        None when the queue is shut down and empty (or draining), or when ``timeout`` ran out.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._lock:
            while not self._queue and not self._shutting_down:
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return None
                self._ready.wait(remaining)
            if not self._queue or self._draining:
                return None
            key = self._queue.popleft()
            self._processing.add(key)
            self._dirty.discard(key)
            return key

    def done(self, key: str) -> None:
        """The worker finished ``key``; queue it again if it was added meanwhile."""
        with self._lock:
            self._processing.discard(key)
            if key in self._dirty:
                self._queue.append(key)
                self._ready.notify()
            if not self._processing:
                self._ready.notify_all()  # a shut_down_with_drain() may be waiting for this

    def __len__(self) -> int:
        """Keys queued and not yet handed out (the queue-depth metric); not delayed, not held."""
        with self._lock:
            return len(self._queue)

    def processing(self) -> int:
        """Keys held by workers right now."""
        with self._lock:
            return len(self._processing)

    def delayed(self) -> int:
        """Keys waiting for their ``add_after`` / backoff time."""
        with self._lock:
            return len(self._waiting)

    # --- shutdown -----------------------------------------------------------------------------

    def shutting_down(self) -> bool:
        """True once :meth:`shut_down` or :meth:`shut_down_with_drain` was called."""
        with self._lock:
            return self._shutting_down

    def shut_down(self) -> None:
        """Stop intake and drop delayed keys; ``get`` hands out what is queued, then None."""
        with self._lock:
            self._shut_down_locked()

    def _shut_down_locked(self) -> None:
        self._shutting_down = True
        self._waiting.clear()
        self._heap.clear()
        self._ready.notify_all()
        self._timer_wake.notify_all()

    def shut_down_with_drain(self, timeout: float) -> bool:
        """SIGTERM: stop intake, start no new work, wait up to ``timeout`` s for the work in flight.

        True when every key handed out was ``done`` in time.
        """
        deadline = time.monotonic() + timeout
        with self._lock:
            self._draining = True
            self._shut_down_locked()
            while self._processing:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._ready.wait(remaining)
            return True

    # --- the delay thread ---------------------------------------------------------------------

    def _ensure_timer(self) -> None:
        if self._timer is None:
            self._timer = threading.Thread(
                target=self._timer_loop, name="kseal-workqueue-delay", daemon=True
            )
            self._timer.start()

    def promote_due(self) -> int:
        """Queue the delayed keys whose time has come (by ``clock``); how many were queued.

        The delay thread calls it; a test with a fake clock may call it after moving the clock.
        """
        with self._lock:
            return self._promote_due_locked(self._clock())

    def _promote_due_locked(self, now: float) -> int:
        promoted = 0
        while self._heap and self._heap[0][0] <= now:
            ready_at, _, key = heapq.heappop(self._heap)
            if self._waiting.get(key) != ready_at:
                continue  # superseded by an earlier time for the same key
            del self._waiting[key]
            self._add_locked(key)
            promoted += 1
        return promoted

    def _timer_loop(self) -> None:
        with self._lock:
            while not self._shutting_down:
                now = self._clock()
                self._promote_due_locked(now)
                wait = _MAX_TIMER_WAIT
                if self._heap:
                    wait = min(wait, max(self._heap[0][0] - now, 0.0005))
                self._timer_wake.wait(wait)
