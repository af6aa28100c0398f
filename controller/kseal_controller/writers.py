"""The writes that need not hold up unsealing: Events and the ``Synced`` status.

A worker hands them over and goes on with the next SealedSecret (its RSA work is the bottleneck);
one thread each sends them. Events as client-go's event broadcaster does (a full queue drops, and
says so in the log); statuses keyed by SealedSecret, the latest outcome winning, recomputed on
the newest cached copy when the API answers 409. ``stop`` sends what is queued first."""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from kseal_controller import reconcile
from kseal_controller.apierrors import ApiError, Conflict

if TYPE_CHECKING:
    from kseal_controller.kube import Kube
    from kseal_controller.metrics import Metrics

log = logging.getLogger(__name__)

_STOP = object()


class EventRecorder:
    def __init__(self, kube: Kube, now: Callable[[], datetime], capacity: int = 1000) -> None:
        self._kube = kube
        self._now = now
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=capacity)
        self._thread = threading.Thread(target=self._send_all, name="events", daemon=True)
        self._thread.start()

    def record(self, involved: dict[str, Any], kind: str, reason: str, message: str) -> None:
        try:
            self._queue.put_nowait((involved, kind, reason, message, self._now()))
        except queue.Full:
            log.warning("event queue full: dropped %s", reason)

    def _send_all(self) -> None:
        while True:
            item = self._queue.get()
            if item is _STOP:
                return
            involved, kind, reason, message, when = item
            try:
                self._kube.create_event(involved, kind, reason, message, when)
            except ApiError as exc:
                meta = involved.get("metadata") or {}
                log.warning(
                    "cannot record event %s for %s/%s: %s",
                    reason,
                    meta.get("namespace"),
                    meta.get("name"),
                    exc,
                )

    def stop(self, timeout: float = 10.0) -> None:
        """Send what is queued (up to ``timeout`` seconds), then stop."""
        self._queue.put(_STOP)
        self._thread.join(timeout)


class StatusWriter:
    """Writes each SealedSecret's ``Synced`` condition (and the ``condition_info`` metric)."""

    def __init__(
        self,
        kube: Kube,
        load: Callable[[str], dict[str, Any] | None],
        metrics: Metrics,
        now: Callable[[], datetime],
        *,
        enabled: bool = True,
    ) -> None:
        self._kube, self._load, self._metrics, self._now = kube, load, metrics, now
        self._enabled = enabled
        self._lock = threading.Lock()
        self._pending: dict[str, tuple[bool, str]] = {}
        self._queue: queue.Queue[Any] = queue.Queue()
        self._thread = threading.Thread(target=self._write_all, name="status", daemon=True)
        self._thread.start()

    def report(self, key: str, ok: bool, message: str) -> None:
        with self._lock:
            queued = key in self._pending
            self._pending[key] = (ok, message)
        if not queued:
            self._queue.put(key)

    def _write_all(self) -> None:
        while True:
            key = self._queue.get()
            if key is _STOP:
                return
            with self._lock:
                ok, message = self._pending.pop(key)
            self._write(key, ok, message)

    def _write(self, key: str, ok: bool, message: str) -> None:
        for attempt in range(3):
            sealed_secret = self._load(key)
            if sealed_secret is None:
                return
            status = reconcile.status_update(sealed_secret, ok, message, self._now())
            current = sealed_secret if status is None else {**sealed_secret, "status": status}
            self._metrics.observe_condition(current)
            if status is None or not self._enabled:
                return
            namespace, name = key.split("/", 1)
            try:
                self._kube.update_sealed_secret_status(namespace, name, current)
                return
            except Conflict:  # changed meanwhile: once the cache has the new copy, again
                time.sleep(0.05 * (attempt + 1))
            except ApiError as exc:
                self._metrics.unseal_error("status", namespace)
                log.warning("cannot update the status of %s: %s", key, exc)
                return
        self._metrics.unseal_error("status", key.split("/", 1)[0])
        log.warning("cannot update the status of %s: it kept changing", key)

    def stop(self, timeout: float = 10.0) -> None:
        """Write what is queued (up to ``timeout`` seconds), then stop."""
        self._queue.put(_STOP)
        self._thread.join(timeout)
