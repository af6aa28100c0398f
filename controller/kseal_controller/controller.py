"""The running controller: the key ring, the informers, the work queue and its workers.

The decisions are pure (:mod:`reconcile`, :mod:`syncmark`, :mod:`keyring`); every API call goes
through :class:`kseal_controller.kube.Kube`; this module wires them together and owns the threads.
Log lines, Events and status messages name objects and keys, never values.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import TYPE_CHECKING, Any

from kseal.errors import KsealError
from kseal.secret import sealed_key_hint
from kseal_controller import keyring, reconcile, syncmark
from kseal_controller.apierrors import ApiError, Conflict, Invalid
from kseal_controller.informer import FunctionSource, Informer
from kseal_controller.workqueue import WorkQueue
from kseal_controller.writers import EventRecorder, StatusWriter

if TYPE_CHECKING:
    from kseal_controller.config import Config
    from kseal_controller.kube import Kube
    from kseal_controller.metrics import Metrics

log = logging.getLogger("kseal_controller")

MANAGED_ANNOTATION = "sealedsecrets.bitnami.com/managed"
PATCH_ANNOTATION = "sealedsecrets.bitnami.com/patch"


def _key(obj: dict[str, Any]) -> str:
    meta = obj.get("metadata") or {}
    return f"{meta.get('namespace', '')}/{meta.get('name', '')}"


@dataclass(frozen=True, slots=True)
class SecretSummary:
    """What the controller keeps of each Secret: enough to decide "in sync" without a GET or
    its data (memory: one of these per Secret in the watched namespaces)."""

    key: str  # namespace/name
    owners: tuple[str, ...]  # uids of the SealedSecrets that control it
    managed: bool  # annotated managed or patch: handed over to a SealedSecret
    digest: str | None  # the spec digest its sync marks prove (None: no valid marks)


_LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"


@dataclass(frozen=True, slots=True)
class StoredSealedSecret:
    """A watched SealedSecret as the cache keeps it: compact JSON (without managedFields and
    kubectl's last-applied copy), decoded when it is worked on (10,000 fit in ~45 MB)."""

    raw: bytes
    synced: str  # the Synced condition's status: "True", "False" or "" (none yet)

    def load(self) -> dict[str, Any]:
        loaded: dict[str, Any] = json.loads(self.raw)
        return loaded


def store_sealed_secret(obj: dict[str, Any]) -> StoredSealedSecret:
    meta = {k: v for k, v in (obj.get("metadata") or {}).items() if k != "managedFields"}
    if _LAST_APPLIED in (meta.get("annotations") or {}):
        meta["annotations"] = {k: v for k, v in meta["annotations"].items() if k != _LAST_APPLIED}
    synced = ""
    for condition in (obj.get("status") or {}).get("conditions") or []:
        if isinstance(condition, dict) and condition.get("type") == "Synced":
            synced = str(condition.get("status") or "")
    raw = json.dumps({**obj, "metadata": meta}, separators=(",", ":")).encode()
    return StoredSealedSecret(raw, synced)


def _where_it_broke(exc: BaseException) -> str:
    """An unexpected exception's type and the frames it passed, without its message: a library's
    message may quote the value it choked on, and a value must never reach a log."""
    import traceback

    frames = traceback.extract_tb(exc.__traceback__)
    where = " <- ".join(f"{f.filename.rsplit('/', 1)[-1]}:{f.lineno}" for f in reversed(frames))
    return f"{type(exc).__name__} at {where}"


def _ignore(_obj: object) -> None:
    return None


def _owners(meta: dict[str, Any]) -> tuple[str, ...]:
    return tuple(
        str(ref.get("uid", ""))
        for ref in meta.get("ownerReferences") or []
        if isinstance(ref, dict) and ref.get("kind") == "SealedSecret" and ref.get("controller")
    )


class Controller:
    """Keys, informers, queue and workers. ``start()`` returns once caches are synced."""

    def __init__(
        self,
        config: Config,
        kube: Kube,
        metrics: Metrics,
        *,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.config = config
        self.kube = kube
        self.metrics = metrics
        self.now = now
        self.keyring = keyring.KeyRing(order=config.key_order_priority, derive=syncmark.mac_key)
        self.queue = WorkQueue()
        self.events = EventRecorder(kube, now)
        self.statuses = StatusWriter(
            kube, self.sealed_secret, metrics, now, enabled=config.update_status
        )
        metrics.track_queue_depth(lambda: len(self.queue))
        self.stopping = threading.Event()
        self.new_key_now = threading.Event()
        self._threads: list[threading.Thread] = []
        self._sealed: list[Informer] = []
        self._secrets: list[Informer] = []

    # ----- keys -----

    def _key_source(self) -> FunctionSource:
        # every Secret carrying the key label, whatever its value: a key relabelled
        # "compromised" while running is seen and taken out of use
        ns, selector = self.config.namespace, keyring.KEY_LABEL
        return FunctionSource(
            partial(self.kube.stream_secrets, ns, selector),
            partial(self.kube.watch_secrets, ns, label_selector=selector),
        )

    def _key_changed(self, old: object, new: dict[str, Any]) -> None:
        if keyring.is_key_secret(new, self.config.key_prefix):
            self._take_key(new)
            return
        try:
            relabelled = keyring.read_key(new)
        except KsealError:
            return
        if self.keyring.remove(relabelled.fingerprint):
            log.warning("key taken out of use (relabelled): %s", relabelled.fingerprint)

    def _take_key(self, secret: dict[str, Any]) -> None:
        key = keyring.key_from_secret(secret, self.config.key_prefix)
        if key is not None and self.keyring.add(key):
            log.info("key registered: %s (%s)", key.fingerprint, key.secret_name)
            self._retry_failed()

    def load_legacy_key(self) -> None:
        legacy = self.kube.get_secret(self.config.namespace, self.config.key_prefix)
        if legacy is not None:
            self._take_key(legacy)

    def ensure_key(self) -> None:
        """A new key when none exists or the latest is past the renewal period or cut-off."""
        latest = self.keyring.latest()
        if keyring.needs_new_key(
            self.now(), latest, self.config.key_renew_period, self.config.key_cutoff_time
        ):
            self.make_key()

    def make_key(self) -> None:
        from kseal import keys

        private_pem, cert_pem = keys.generate(
            self.now(),
            bits=self.config.key_size,
            common_name=self.config.my_cn,
            ttl=self.config.key_ttl,
        )
        body = keyring.key_secret(
            private_pem,
            cert_pem,
            prefix=self.config.key_prefix,
            namespace=self.config.namespace,
            labels=self.config.privatekey_labels,
            annotations=self.config.privatekey_annotations,
        )
        created = self.kube.create_secret(self.config.namespace, body)
        self._take_key(created)
        log.info("new sealing key created: %s", (created.get("metadata") or {}).get("name"))

    def _renewal_loop(self) -> None:
        while not self.stopping.is_set():
            due = keyring.next_renewal(
                self.now(), self.keyring.latest(), self.config.key_renew_period
            )
            wait = None if due is None else max(0.0, (due - self.now()).total_seconds())
            self.new_key_now.wait(timeout=wait if wait is None else min(wait, 3600.0))
            if self.stopping.is_set():
                return
            try:
                if self.new_key_now.is_set():
                    self.new_key_now.clear()
                    self.make_key()
                else:
                    self.ensure_key()
            except (ApiError, KsealError) as exc:
                log.error("cannot create a new key: %s", exc)
                self.stopping.wait(10.0)

    # ----- informers -----

    def _namespaces(self) -> Sequence[str | None]:
        if self.config.all_namespaces:
            return [None]
        extra = [n for n in self.config.additional_namespaces if n != self.config.namespace]
        return [self.config.namespace, *extra]

    def _build_informers(self) -> Informer:
        """The SealedSecret and Secret informers per watched namespace; returns the key
        Secrets' informer."""
        selector = self.config.label_selector
        for ns in self._namespaces():
            self._sealed.append(
                Informer(
                    FunctionSource(
                        partial(self.kube.stream_sealed_secrets, ns, selector),
                        partial(self.kube.watch_sealed_secrets, ns, label_selector=selector),
                    ),
                    on_add=self._sealed_added,
                    on_update=self._sealed_updated,
                    on_delete=self._sealed_deleted,
                    summarize=store_sealed_secret,
                )
            )
            self._secrets.append(
                Informer(
                    FunctionSource(
                        partial(self.kube.stream_secrets, ns, selector),
                        partial(self.kube.watch_secrets, ns, label_selector=selector),
                    ),
                    on_add=_ignore,
                    on_update=self._secret_updated,
                    on_delete=self._secret_deleted,
                    summarize=self.summarize_secret,
                )
            )
        return Informer(
            self._key_source(),
            on_add=self._take_key,
            on_update=self._key_changed,
            on_delete=_ignore,  # keys are never forgotten while running
        )

    def sealed_secret(self, key: str) -> dict[str, Any] | None:
        for informer in self._sealed:
            found = informer.get(key)
            if isinstance(found, StoredSealedSecret):
                return found.load()
        return None

    def secret_summary(self, key: str) -> SecretSummary | None:
        for informer in self._secrets:
            found = informer.get(key)
            if found is not None:
                return found  # type: ignore[no-any-return]
        return None

    def _sealed_added(self, obj: dict[str, Any]) -> None:
        self.queue.add(_key(obj))

    def _sealed_updated(self, old: StoredSealedSecret, new: dict[str, Any]) -> None:
        # as the original: only a changed spec re-triggers (metadata-only edits do not)
        if old.load().get("spec") != new.get("spec"):
            self.queue.add(_key(new))

    def _sealed_deleted(self, stored: StoredSealedSecret) -> None:
        obj = stored.load()
        meta = obj.get("metadata") or {}
        self.metrics.forget_condition(meta.get("namespace", ""), meta.get("name", ""))
        self.queue.forget(_key(obj))

    def summarize_secret(self, secret: dict[str, Any]) -> SecretSummary:
        meta = secret.get("metadata") or {}
        annotations = meta.get("annotations") or {}
        return SecretSummary(
            key=_key(secret),
            owners=_owners(meta),
            managed="true"
            in (annotations.get(MANAGED_ANNOTATION), annotations.get(PATCH_ANNOTATION)),
            digest=syncmark.verified_digest(secret, self.keyring.mac_keys()),
        )

    def _owner_of(self, summary: SecretSummary) -> str | None:
        """The key of the SealedSecret that controls (or was handed) this Secret."""
        ss = self.sealed_secret(summary.key)
        uid = ((ss or {}).get("metadata") or {}).get("uid", "")
        if ss is not None and (summary.managed or (uid and uid in summary.owners)):
            return summary.key
        return None

    def _secret_deleted(self, summary: Any) -> None:
        # as the original: a deleted Secret that a SealedSecret owns is made again
        if self.config.skip_recreate or not isinstance(summary, SecretSummary):
            return
        owner = self._owner_of(summary)
        if owner is not None:
            self.queue.add(owner)

    def _secret_updated(self, _old: Any, new: dict[str, Any]) -> None:
        """Beyond the original: a Secret the controller wrote whose data no longer matches its
        marks (edited by hand) is put back at once, not only at the next restart."""
        summary = self.secret_summary(_key(new))  # stored (summarized) before handlers run
        if summary is not None and summary.digest is None and summary.owners and not summary.managed:
            owner = self._owner_of(summary)
            if owner is not None:
                self.queue.add(owner)

    def _retry_failed(self) -> None:
        """A new key may open SealedSecrets that failed before: queue those (the original
        needs a restart)."""
        for informer in self._sealed:
            for key, stored in informer.items():
                if isinstance(stored, StoredSealedSecret) and stored.synced == "False":
                    self.queue.add(key)

    # ----- lifecycle -----

    def _spawn(self, name: str, target: Callable[[], None]) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    def start(self, workers: int, sync_timeout: float = 60.0) -> None:
        keys = self._build_informers()
        self._spawn("keys", partial(keys.run, self.stopping))
        self._wait_synced([keys], sync_timeout)
        self.load_legacy_key()
        self.ensure_key()
        for n, informer in enumerate(self._secrets + self._sealed):
            self._spawn(f"informer-{n}", partial(informer.run, self.stopping))
        self._wait_synced(self._secrets + self._sealed, sync_timeout)
        for n in range(max(1, workers)):
            self._spawn(f"worker-{n}", self._work)
        self._spawn("renewal", self._renewal_loop)

    def _wait_synced(self, informers: Sequence[Informer], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not all(i.synced() for i in informers):
            if time.monotonic() > deadline or self.stopping.is_set():
                raise TimeoutError("the informers did not sync")
            time.sleep(0.01)

    def stop(self, drain_timeout: float = 30.0) -> None:
        """Stop intake, let in-flight work finish, then stop the threads."""
        self.queue.shut_down_with_drain(drain_timeout)
        self.stopping.set()
        self.new_key_now.set()
        for thread in self._threads:
            thread.join(timeout=5.0)
        self.statuses.stop()
        self.events.stop()

    # ----- work -----

    def _work(self) -> None:
        while True:
            key = self.queue.get()
            if key is None:
                return
            started = time.perf_counter()
            try:
                retry = self.handle(key)
            except Exception as exc:  # a bug must not kill the worker
                log.error("reconcile %s failed unexpectedly: %s", key, _where_it_broke(exc))
                retry = True
            finally:
                self.metrics.reconcile_duration(time.perf_counter() - started)
            if retry and self.queue.num_requeues(key) < self.config.max_unseal_retries:
                self.queue.add_rate_limited(key)
            else:
                self.queue.forget(key)
            self.queue.done(key)

    def handle(self, key: str) -> bool:
        """Bring one SealedSecret's Secret in line. True when the work should be retried."""
        ss = self.sealed_secret(key)
        if ss is None:
            return False
        self.metrics.unseal_request()
        if self._cached_in_sync(ss, key):
            self.metrics.restart_skip()
            self._report(ss, True, "")
            return False
        try:
            # the cache knows when there is no Secret yet: no GET before the first create
            existing = self._fetch(key) if self.secret_summary(key) is not None else None
        except ApiError as exc:
            self._failed(ss, "fetch", f"cannot read the Secret: {exc}", event=None)
            return True
        if existing is not None and self._in_sync(ss, existing):
            self.metrics.restart_skip()
            self._report(ss, True, "")
            return False
        mark = self._mark()
        wanted, error = reconcile.unsealed_secret(
            ss, self._keys_for(ss), on_attempt=self.metrics.rsa_operation, mark=mark
        )
        outcome = reconcile.decide(ss, existing, wanted, error, mark=mark)
        try:
            self._write(key, outcome)
        except Conflict:
            if outcome.write != "create":
                return self._write_failed(ss, key, "conflict: the Secret changed meanwhile", True)
            try:  # made meanwhile, or outside the cache (label selector): decide on what is there
                existing = self._fetch(key)
                outcome = reconcile.decide(ss, existing, wanted, error, mark=mark)
                self._write(key, outcome)
            except ApiError as exc:
                return self._write_failed(ss, key, str(exc), not isinstance(exc, Invalid))
        except ApiError as exc:
            # the original does not retry immutable (Invalid) errors
            return self._write_failed(ss, key, str(exc), not isinstance(exc, Invalid))
        self._finish(ss, outcome)
        return not outcome.ok and outcome.error_reason == "unseal"

    def _fetch(self, key: str) -> dict[str, Any] | None:
        namespace, name = key.split("/", 1)
        return self.kube.get_secret(namespace, name)

    def _mark(self) -> tuple[str, bytes] | None:
        latest = self.keyring.latest()
        if latest is None:
            return None
        return latest.fingerprint, self.keyring.mac_keys()[latest.fingerprint]

    def _cached_in_sync(self, ss: dict[str, Any], key: str) -> bool:
        """In sync by the Secret cache alone: no GET, no RSA (a restart with 10,000 in sync)."""
        summary = self.secret_summary(key)
        if summary is None or summary.digest is None:
            return False
        uid = (ss.get("metadata") or {}).get("uid", "")
        ours = (uid and uid in summary.owners) or reconcile.skips_owner_references(ss)
        return bool(ours) and summary.digest == syncmark.spec_digest(ss)

    def _in_sync(self, ss: dict[str, Any], existing: dict[str, Any]) -> bool:
        """The Secret carries marks that prove it holds what the SealedSecret unseals to, and
        it is still this SealedSecret's (or handed over to it): no RSA operation needed."""
        ours = reconcile.is_controlled_by(existing, ss) or reconcile.skips_owner_references(ss)
        return ours and syncmark.in_sync(ss, existing, self.keyring.mac_keys())

    def _keys_for(self, ss: dict[str, Any]) -> list[Any]:
        """Every private key, the one the ``kseal.dev/sealing-key`` annotation names first."""
        keys = self.keyring.private_keys()
        hinted = self.keyring.by_fingerprint(sealed_key_hint(ss))
        if hinted is None:
            return keys
        return [hinted.private_key, *(k for k in keys if k is not hinted.private_key)]

    def _write(self, key: str, outcome: reconcile.Outcome) -> None:
        namespace = key.split("/", 1)[0]
        if outcome.write == "create" and outcome.secret is not None:
            self.kube.create_secret(namespace, outcome.secret)
        elif outcome.write == "update" and outcome.secret is not None:
            self.kube.update_secret(namespace, outcome.secret["metadata"]["name"], outcome.secret)

    def _write_failed(self, ss: dict[str, Any], key: str, error: str, retry: bool) -> bool:
        self._finish(ss, reconcile.update_failed(key, error))
        return retry

    def _finish(self, ss: dict[str, Any], outcome: reconcile.Outcome) -> None:
        namespace = (ss.get("metadata") or {}).get("namespace", "")
        if not outcome.ok:
            self.metrics.unseal_error(outcome.error_reason or "unseal", namespace)
        if outcome.event is not None:
            self._event(ss, *outcome.event)
        self._report(ss, outcome.ok, outcome.message)

    def _failed(
        self, ss: dict[str, Any], reason: str, message: str, event: tuple[str, str, str] | None
    ) -> None:
        namespace = (ss.get("metadata") or {}).get("namespace", "")
        self.metrics.unseal_error(reason, namespace)
        if event is not None:
            self._event(ss, *event)
        self._report(ss, False, message)

    def _event(self, ss: dict[str, Any], kind: str, reason: str, message: str) -> None:
        self.events.record(ss, kind, reason, message)

    def _report(self, ss: dict[str, Any], ok: bool, message: str) -> None:
        self.statuses.report(_key(ss), ok, message)
