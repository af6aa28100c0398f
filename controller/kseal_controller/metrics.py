"""Prometheus metrics: the original's names and labels, plus kseal's own.

The only module that imports ``prometheus_client``. Each :class:`Metrics` has its own registry
(tests build many); :meth:`Metrics.serve` exposes it at ``/metrics`` on its own port (8081).
:data:`CATALOG` is the one list of metrics: the registry is built from it, and
docs/controller/metrics.md is checked against it by a test.

Labels never carry a value: per-object labels are only the original's ``namespace``/``name``/
``condition``/``ss_app_kubernetes_io_instance`` of ``condition_info``; HTTP paths are the fixed
routes (anything else is ``other``), methods are folded as promhttp does.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.gc_collector import GCCollector

from kseal import __version__
from kseal_controller.http import Server, listen

REASONS = ("fetch", "unseal", "update", "unmanaged", "status")
CONDITION_VALUES = {"True": 1.0, "Unknown": 0.0, "False": -1.0}
INSTANCE_LABEL = "app.kubernetes.io/instance"
# promhttp's sanitizeMethod: the standard methods in lower case, anything else "unknown"
METHODS = ("get", "put", "head", "post", "delete", "connect", "options", "notify", "trace", "patch")
# Go's prometheus.DefBuckets, so histograms line up with the original's
DEF_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

# no *_created series: the original has none, and they double the series count
disable_created_metrics()  # type: ignore[no-untyped-call]

_SS = "sealed_secrets_controller_"
_KS = "kseal_controller_"


@dataclass(frozen=True)
class Spec:
    """One metric as exposed: full name, type, label names and meaning."""

    name: str
    kind: str  # counter | gauge | histogram
    labels: tuple[str, ...]
    help: str
    origin: str  # "original" (same name and labels as Bitnami's) or "kseal"


CATALOG: tuple[Spec, ...] = (
    Spec(
        _SS + "build_info",
        "gauge",
        ("revision",),
        "Build information: always 1, the version in the revision label.",
        "original",
    ),
    Spec(
        _SS + "unseal_requests_total",
        "counter",
        (),
        "Total number of sealed secret unseal requests.",
        "original",
    ),
    Spec(
        _SS + "unseal_errors_total",
        "counter",
        ("reason", "namespace"),
        "Total number of sealed secret unseal errors by reason "
        "(fetch, unseal, update, unmanaged, status).",
        "original",
    ),
    Spec(
        _SS + "condition_info",
        "gauge",
        ("namespace", "name", "condition", "ss_app_kubernetes_io_instance"),
        "Current SealedSecret condition status. Values are -1 (false), 0 (unknown or absent), "
        "1 (true).",
        "original",
    ),
    Spec(
        _SS + "http_requests_total",
        "counter",
        ("path", "code", "method"),
        "A counter for requests to the wrapped handler.",
        "original",
    ),
    Spec(
        _SS + "http_request_duration_seconds",
        "histogram",
        ("path", "method"),
        "A histogram of latencies for requests.",
        "original",
    ),
    Spec(
        _KS + "rsa_operations_total",
        "counter",
        (),
        "RSA private-key operations performed (one per attempt to open a value's session key).",
        "kseal",
    ),
    Spec(
        _KS + "restart_skips_total",
        "counter",
        (),
        "SealedSecrets found in sync with their Secret (spec digest and data MAC) without any "
        "RSA operation.",
        "kseal",
    ),
    Spec(_KS + "queue_depth", "gauge", (), "SealedSecrets waiting in the work queue.", "kseal"),
    Spec(
        _KS + "reconcile_duration_seconds",
        "histogram",
        (),
        "Time to reconcile one SealedSecret, from taking it off the queue to done.",
        "kseal",
    ),
)

_KINDS: dict[str, Callable[..., Any]] = {"counter": Counter, "gauge": Gauge, "histogram": Histogram}


def _build(spec: Spec, registry: CollectorRegistry) -> Any:
    kwargs: dict[str, Any] = {"registry": registry}
    if spec.kind == "histogram":
        kwargs["buckets"] = DEF_BUCKETS
    return _KINDS[spec.kind](spec.name, spec.help, spec.labels, **kwargs)


def method_label(method: str) -> str:
    folded = method.lower()
    return folded if folded in METHODS else "unknown"


class Metrics:
    """The controller's metrics, on a registry of their own."""

    def __init__(self, revision: str = __version__) -> None:
        self.registry = CollectorRegistry()
        ProcessCollector(registry=self.registry)
        PlatformCollector(registry=self.registry)
        GCCollector(registry=self.registry)
        self._m = {spec.name: _build(spec, self.registry) for spec in CATALOG}
        self._m[_SS + "build_info"].labels(revision).set(1)
        self._conditions: dict[tuple[str, str], set[tuple[str, str, str, str]]] = {}
        self._lock = threading.Lock()

    # --- the original's -------------------------------------------------------------------

    def unseal_request(self) -> None:
        self._m[_SS + "unseal_requests_total"].inc()

    def unseal_error(self, reason: str, namespace: str) -> None:
        if reason not in REASONS:
            raise ValueError(f"unknown unseal error reason {reason!r}")
        self._m[_SS + "unseal_errors_total"].labels(reason, namespace).inc()

    def observe_condition(self, sealed_secret: Mapping[str, Any]) -> None:
        """Set ``condition_info`` from the SealedSecret's ``status.conditions`` (series of this
        object that no longer apply, e.g. after its instance label changed, are removed)."""
        meta = sealed_secret.get("metadata") or {}
        namespace, name = str(meta.get("namespace") or ""), str(meta.get("name") or "")
        instance = str((meta.get("labels") or {}).get(INSTANCE_LABEL) or "")
        status = sealed_secret.get("status") or {}
        wanted: dict[tuple[str, str, str, str], float] = {}
        for condition in status.get("conditions") or []:
            if isinstance(condition, Mapping) and condition.get("type"):
                labels = (namespace, name, str(condition["type"]), instance)
                wanted[labels] = CONDITION_VALUES.get(str(condition.get("status")), 0.0)
        gauge = self._m[_SS + "condition_info"]
        with self._lock:
            for labels in self._conditions.get((namespace, name), set()) - set(wanted):
                gauge.remove(*labels)
            for labels, value in wanted.items():
                gauge.labels(*labels).set(value)
            if wanted:
                self._conditions[(namespace, name)] = set(wanted)
            else:
                self._conditions.pop((namespace, name), None)

    def forget_condition(self, namespace: str, name: str) -> None:
        """Remove the ``condition_info`` series of a deleted SealedSecret."""
        gauge = self._m[_SS + "condition_info"]
        with self._lock:
            for labels in self._conditions.pop((namespace, name), set()):
                gauge.remove(*labels)

    def http_request(self, path: str, method: str, code: int, seconds: float) -> None:
        folded = method_label(method)
        self._m[_SS + "http_requests_total"].labels(path, str(code), folded).inc()
        self._m[_SS + "http_request_duration_seconds"].labels(path, folded).observe(seconds)

    # --- kseal's ----------------------------------------------------------------------------

    def rsa_operation(self, count: int = 1) -> None:
        self._m[_KS + "rsa_operations_total"].inc(count)

    def restart_skip(self) -> None:
        self._m[_KS + "restart_skips_total"].inc()

    def queue_depth(self, depth: int) -> None:
        self._m[_KS + "queue_depth"].set(depth)

    def track_queue_depth(self, depth: Callable[[], int]) -> None:
        """Read the queue depth from ``depth()`` at every scrape instead."""
        self._m[_KS + "queue_depth"].set_function(lambda: float(depth()))

    def reconcile_duration(self, seconds: float) -> None:
        self._m[_KS + "reconcile_duration_seconds"].observe(seconds)

    # --- exposition -------------------------------------------------------------------------

    def value(self, name: str, labels: Mapping[str, str] | None = None) -> float | None:
        """One sample's current value (tests and the benchmark read the RSA count this way)."""
        return self.registry.get_sample_value(name, dict(labels or {}))

    def exposition(self) -> bytes:
        return generate_latest(self.registry)

    def serve(self, addr: str, poll_interval: float = 0.5) -> Server:
        """Serve ``/metrics`` on ``addr`` (Go syntax, ``:8081``) in a thread."""
        metrics = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            server_version = "kseal-controller"
            sys_version = ""
            timeout = 120

            def do_GET(self) -> None:
                if self.path.split("?", 1)[0] == "/metrics":
                    self._send(200, metrics.exposition(), CONTENT_TYPE_LATEST)
                else:
                    self._send(404, b"404 page not found\n", "text/plain; charset=utf-8")

            def _send(self, code: int, body: bytes, content_type: str) -> None:
                self.send_response(code)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return listen(addr, Handler, "kseal-metrics", poll_interval)
