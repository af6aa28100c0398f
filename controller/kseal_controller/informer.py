"""List, then watch, one kind of object; keep a store of what exists; call handlers on changes.

The informer is generic over a :class:`Source` (``list()`` and ``watch(resource_version)``;
:class:`FunctionSource` binds two ``kube.Kube`` methods into one), so it runs against the real
API through :mod:`kseal_controller.kube` and against a scripted fake in the tests. It matches
client-go's reflector and informer where it matters to the controller:

* ``run(stop)`` lists, calls ``on_add`` for every object, records the list's resourceVersion,
  then watches from it. ``synced()`` is true once that first list has been delivered.
* Watch events: ADDED / MODIFIED store the object and call ``on_add`` (new key) or
  ``on_update`` (known key whose resourceVersion changed); DELETED drops it and calls
  ``on_delete``; BOOKMARK only moves the resourceVersion on. Every event moves it on.
* The watch ending normally (the server's timeout) starts a new watch from the last
  resourceVersion. ``apierrors.Gone`` (410: that resourceVersion is too old) lists again and
  diffs the store against the new list: ``on_delete`` for objects that vanished meanwhile,
  ``on_update`` for those whose resourceVersion changed, ``on_add`` for new ones.
* Any other failure (``apierrors.Transient``, any other ``ApiError``, an unexpected exception)
  is logged and retried after a capped exponential pause that ``stop`` interrupts: a failed
  list lists again, a failed watch watches again from the last resourceVersion.
* ``stop`` is honoured within ``poll`` (0.2 s) even while a watch is blocked waiting for the server: the
  watch stream is read by a helper thread, which ends at the stream's next event or its end.

The store is keyed ``namespace/name`` (``name`` for cluster-scoped objects) and holds the full
object, or ``summarize(obj)`` when given (a compact record: 10,000 objects must fit in memory).
Handlers receive the *new* object in full and the *old* one as stored: ``on_add(obj)``,
``on_update(old_record, new_obj)``, ``on_delete(old_record)`` (for a DELETED event, the
record of the object's final state). Handlers run on the ``run`` thread after the store was
updated; an exception in one is logged (its type and the object's key) and does not stop the
informer. Reads (``get``, ``keys``, ``items``) are thread-safe.

Logs name objects (``namespace/name``), resourceVersions and error classes, never an
object's content.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from kseal_controller.apierrors import ApiError, Gone, WatchEvent

log = logging.getLogger(__name__)

Object = dict[str, Any]
Objects = Iterable[Object]  # a list, or pages fetched while iterated

POLL = 0.2  # how often the run loop looks at ``stop`` while the watch is silent
SHORT_WATCH = 1.0  # a watch that ends this soon without one event counts as a failure
_PUMP_QUEUE = 1024


class Source(Protocol):
    """What an informer lists and watches."""

    def list(self) -> tuple[Objects, str]:
        """Every object, and the list's resourceVersion."""
        ...

    def watch(self, resource_version: str) -> Iterator[WatchEvent]:
        """The changes after ``resource_version``; raises ``apierrors.Gone`` when it is too old."""
        ...


@dataclass(frozen=True)
class FunctionSource:
    """A :class:`Source` from two callables, e.g. bound ``kube.Kube`` methods::

    FunctionSource(lambda: kube.list_sealed_secrets(ns, sel),
                   lambda rv: kube.watch_sealed_secrets(ns, rv, sel))
    """

    list_fn: Callable[[], tuple[Objects, str]]
    watch_fn: Callable[[str], Iterator[WatchEvent]]

    def list(self) -> tuple[Objects, str]:
        return self.list_fn()

    def watch(self, resource_version: str) -> Iterator[WatchEvent]:
        return self.watch_fn(resource_version)


def object_key(obj: Object) -> str:
    """``namespace/name``, or ``name`` for a cluster-scoped object (client-go's key function)."""
    meta = obj.get("metadata") or {}
    name = str(meta.get("name", ""))
    namespace = meta.get("namespace")
    return f"{namespace}/{name}" if namespace else name


def resource_version(obj: Object) -> str:
    """``metadata.resourceVersion``, or "" when absent."""
    return str((obj.get("metadata") or {}).get("resourceVersion") or "")


def backoff_delay(failures: int, initial: float, cap: float) -> float:
    """The pause after ``failures`` consecutive failures: ``initial * 2**(failures-1)``, capped."""
    if failures <= 0:
        return 0.0
    return min(initial * 2.0 ** min(failures - 1, 64), cap)


def _watch_error(status: Object) -> ApiError:
    """An ERROR watch event (a Status object) as an ApiError; 410 becomes Gone."""
    code = status.get("code")
    reason = str(status.get("reason") or "")
    if code == 410:
        return Gone("watch: resourceVersion too old (410)", 410, reason)
    return ApiError(f"watch: error event {code} {reason}".rstrip(), int(code or 0), reason)


class _Pump:
    """Reads a watch stream on its own thread into a bounded queue the run loop polls."""

    _END = object()

    def __init__(self, events: Iterator[WatchEvent], name: str) -> None:
        self._events = events
        self.queue: queue.Queue[object] = queue.Queue(maxsize=_PUMP_QUEUE)
        self._cancelled = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"{name}-watch", daemon=True)
        self._thread.start()

    def _put(self, item: object) -> bool:
        while not self._cancelled.is_set():
            try:
                self.queue.put(item, timeout=POLL)
                return True
            except queue.Full:
                continue
        return False

    def _run(self) -> None:
        try:
            for event in self._events:
                if not self._put(event):
                    break
            else:
                self._put(self._END)
        except BaseException as exc:  # handed to the run loop, which decides
            self._put(exc)
        finally:
            close = getattr(self._events, "close", None)
            if callable(close):
                try:
                    close()
                except Exception:  # noqa: S110 - closing a dead stream; nothing to do
                    pass

    def cancel(self) -> None:
        self._cancelled.set()

    def is_end(self, item: object) -> bool:
        return item is self._END


class Informer:
    """Keeps a store of one kind of object in step with the API; see the module docstring."""

    def __init__(
        self,
        source: Source,
        on_add: Callable[[Object], None],
        on_update: Callable[[Any, Object], None],
        on_delete: Callable[[Any], None],
        *,
        summarize: Callable[[Object], Any] | None = None,
        name: str = "informer",
        backoff_initial: float = 0.8,
        backoff_cap: float = 30.0,
        poll: float = POLL,
    ) -> None:
        self._source = source
        self._on_add = on_add
        self._on_update = on_update
        self._on_delete = on_delete
        self._summarize = summarize
        self.name = name
        self._backoff = (backoff_initial, backoff_cap)
        self._poll = poll
        self._lock = threading.Lock()
        self._store: dict[str, tuple[str, Any]] = {}  # key -> (resourceVersion, record)
        self._rv = ""
        self._synced = threading.Event()
        self._failures = 0
        self._stop_lock = threading.Lock()
        self._stop_requested = False
        self._running_stop: threading.Event | None = None

    # --- reads (any thread) -------------------------------------------------------------------

    def synced(self) -> bool:
        """True once the first list has been delivered to the handlers."""
        return self._synced.is_set()

    def wait_for_sync(self, timeout: float | None = None) -> bool:
        """Block until :meth:`synced` (or ``timeout``); its value."""
        return self._synced.wait(timeout)

    def get(self, key: str) -> Any:
        """The stored record (full object or summary) for ``namespace/name``, or None."""
        with self._lock:
            entry = self._store.get(key)
        return None if entry is None else entry[1]

    def keys(self) -> list[str]:
        """The keys of every stored object."""
        with self._lock:
            return list(self._store)

    def items(self) -> list[tuple[str, Any]]:
        """(key, record) for every stored object."""
        with self._lock:
            return [(key, entry[1]) for key, entry in self._store.items()]

    def __len__(self) -> int:
        with self._lock:
            return len(self._store)

    @property
    def last_resource_version(self) -> str:
        """The resourceVersion the next watch starts from."""
        return self._rv

    # --- the loop -----------------------------------------------------------------------------

    def stop(self) -> None:
        """Make :meth:`run` return (sets the event it was given), now or as soon as it starts."""
        with self._stop_lock:
            self._stop_requested = True
            if self._running_stop is not None:
                self._running_stop.set()

    def run(self, stop: threading.Event) -> None:
        """List and watch until ``stop`` is set (or :meth:`stop`); never raises for API failures."""
        with self._stop_lock:
            self._running_stop = stop
            if self._stop_requested:
                stop.set()
        need_list = True
        while not stop.is_set():
            try:
                if need_list:
                    self._relist()
                    need_list = False
                    self._failures = 0
                self._watch(stop)
            except Gone as exc:
                if need_list:  # a list cannot expire; treat it as any failure, with a pause
                    self._fail(stop, f"Gone: {exc}", listing=True)
                else:
                    log.info("%s: resourceVersion %s expired; listing again", self.name, self._rv)
                    need_list = True
            except ApiError as exc:
                self._fail(stop, f"{type(exc).__name__}: {exc}", listing=need_list)
            except Exception as exc:
                self._fail(stop, type(exc).__name__, listing=need_list)
        log.debug("%s: stopped", self.name)

    def _fail(self, stop: threading.Event, what: str, *, listing: bool) -> None:
        self._failures += 1
        delay = backoff_delay(self._failures, *self._backoff)
        action = "list" if listing else "watch"
        log.warning("%s: %s failed (%s); retrying in %.2fs", self.name, action, what, delay)
        stop.wait(delay)

    def _relist(self) -> None:
        objects, rv = self._source.list()
        listed: set[str] = set()
        for obj in objects:
            key = object_key(obj)
            listed.add(key)
            self._upsert(key, obj)
        with self._lock:
            vanished = [key for key in self._store if key not in listed]
        for key in vanished:
            self._remove(key, None)
        self._rv = rv
        if not self._synced.is_set():
            log.info("%s: synced %d objects at resourceVersion %s", self.name, len(listed), rv)
        self._synced.set()

    def _watch(self, stop: threading.Event) -> None:
        started = time.monotonic()
        pump = _Pump(self._source.watch(self._rv), self.name)
        delivered = 0
        try:
            while not stop.is_set():
                try:
                    item = pump.queue.get(timeout=self._poll)
                except queue.Empty:
                    continue
                if pump.is_end(item):
                    break
                if isinstance(item, BaseException):
                    raise item
                if isinstance(item, WatchEvent):
                    self._apply(item)
                delivered += 1
                self._failures = 0  # the watch works: the next failure starts a fresh backoff
        finally:
            pump.cancel()
        self._watch_ended(stop, delivered, time.monotonic() - started)

    def _watch_ended(self, stop: threading.Event, delivered: int, lasted: float) -> None:
        if stop.is_set():
            return
        if delivered == 0 and lasted < SHORT_WATCH:
            self._fail(stop, "the watch ended at once", listing=False)
            return
        self._failures = 0
        log.debug("%s: watch ended; watching again from %s", self.name, self._rv)

    def _apply(self, event: WatchEvent) -> None:
        obj = event.object
        if event.type == "ERROR":
            raise _watch_error(obj)
        rv = resource_version(obj)
        if event.type in ("ADDED", "MODIFIED"):
            self._upsert(object_key(obj), obj)
        elif event.type == "DELETED":
            self._remove(object_key(obj), obj)
        elif event.type != "BOOKMARK":
            log.warning("%s: ignoring a watch event of type %r", self.name, event.type)
        if rv:
            self._rv = rv

    # --- store and handlers -------------------------------------------------------------------

    def _record(self, obj: Object) -> Any:
        return obj if self._summarize is None else self._summarize(obj)

    def _upsert(self, key: str, obj: Object) -> None:
        rv = resource_version(obj)
        with self._lock:
            old = self._store.get(key)
            if old is not None and rv and old[0] == rv:
                return  # the same version again (a relist of an unchanged object)
            self._store[key] = (rv, self._record(obj))
        if old is None:
            self._call("on_add", key, self._on_add, obj)
        else:
            self._call("on_update", key, self._on_update, old[1], obj)

    def _remove(self, key: str, final: Object | None) -> None:
        with self._lock:
            old = self._store.pop(key, None)
        if final is not None:
            self._call("on_delete", key, self._on_delete, self._record(final))
        elif old is not None:
            self._call("on_delete", key, self._on_delete, old[1])

    def _call(self, what: str, key: str, handler: Callable[..., None], *args: Any) -> None:
        try:
            handler(*args)
        except Exception as exc:
            log.error("%s: %s handler failed for %s: %s", self.name, what, key, type(exc).__name__)
