"""Events are recorded off the work path, as client-go's event broadcaster does: a worker queues
an Event and goes on unsealing; one thread posts them. A full queue drops (and counts in the log)
rather than slowing unsealing down; ``stop`` sends what is queued first."""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from kseal_controller.apierrors import ApiError

if TYPE_CHECKING:
    from kseal_controller.kube import Kube

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
