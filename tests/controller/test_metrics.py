"""The controller's metrics: names, labels, condition series, /metrics (kseal_controller.metrics)."""

from __future__ import annotations

import re
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from kseal_controller import metrics as mod
from kseal_controller.metrics import CATALOG, Metrics

ROOT = Path(__file__).resolve().parents[2]
SENTINEL = "SENTINEL-5f3a9c"


def _types(m: Metrics) -> dict[str, str]:
    text = m.exposition().decode()
    return dict(re.findall(r"^# TYPE (\S+) (\S+)$", text, flags=re.M))


def _ss(ns: str = "prod", name: str = "db", status: str | None = "True", instance: str | None = "app1") -> dict[str, Any]:
    meta: dict[str, Any] = {"namespace": ns, "name": name}
    if instance is not None:
        meta["labels"] = {"app.kubernetes.io/instance": instance}
    ss: dict[str, Any] = {"metadata": meta, "spec": {"encryptedData": {"password": SENTINEL}}}
    if status is not None:
        ss["status"] = {"conditions": [{"type": "Synced", "status": status, "message": SENTINEL}]}
    return ss


def _condition(m: Metrics, ns: str = "prod", name: str = "db", instance: str = "app1") -> float | None:
    return m.value(
        "sealed_secrets_controller_condition_info",
        {"namespace": ns, "name": name, "condition": "Synced", "ss_app_kubernetes_io_instance": instance},
    )


def test_registry_exposes_exactly_the_catalog_plus_process_collectors() -> None:
    types = _types(Metrics())
    ours = {n: t for n, t in types.items() if n.startswith(("sealed_secrets_controller_", "kseal_controller_"))}
    assert ours == {spec.name: spec.kind for spec in CATALOG}
    assert any(n.startswith("process_") for n in types)
    assert any(n.startswith("python_") for n in types)
    assert not any(n.endswith("_created") for n in types)


def test_original_metric_names_and_labels() -> None:
    by_name = {spec.name: spec for spec in CATALOG}
    assert by_name["sealed_secrets_controller_unseal_errors_total"].labels == ("reason", "namespace")
    assert by_name["sealed_secrets_controller_condition_info"].labels == (
        "namespace", "name", "condition", "ss_app_kubernetes_io_instance")
    assert by_name["sealed_secrets_controller_http_requests_total"].labels == ("path", "code", "method")
    assert by_name["sealed_secrets_controller_http_request_duration_seconds"].labels == ("path", "method")
    assert by_name["sealed_secrets_controller_build_info"].labels == ("revision",)


def test_each_instance_has_its_own_registry() -> None:
    a, b = Metrics(), Metrics()
    a.unseal_request()
    assert a.value("sealed_secrets_controller_unseal_requests_total") == 1
    assert b.value("sealed_secrets_controller_unseal_requests_total") == 0


def test_build_info_carries_the_revision() -> None:
    assert Metrics("1.2.3").value("sealed_secrets_controller_build_info", {"revision": "1.2.3"}) == 1


def test_unseal_errors_by_reason_and_namespace() -> None:
    m = Metrics()
    m.unseal_error("unmanaged", "prod")
    m.unseal_error("unmanaged", "prod")
    m.unseal_error("fetch", "")
    assert m.value("sealed_secrets_controller_unseal_errors_total", {"reason": "unmanaged", "namespace": "prod"}) == 2
    assert m.value("sealed_secrets_controller_unseal_errors_total", {"reason": "fetch", "namespace": ""}) == 1


def test_unknown_error_reason_is_refused() -> None:
    with pytest.raises(ValueError):
        Metrics().unseal_error("oops", "prod")


@pytest.mark.parametrize(("status", "value"), [("True", 1), ("False", -1), ("Unknown", 0)])
def test_condition_info_values(status: str, value: float) -> None:
    m = Metrics()
    m.observe_condition(_ss(status=status))
    assert _condition(m) == value


def test_condition_info_without_instance_label_is_empty_string() -> None:
    m = Metrics()
    m.observe_condition(_ss(instance=None))
    assert _condition(m, instance="") == 1


def test_condition_info_follows_a_changed_instance_label() -> None:
    m = Metrics()
    m.observe_condition(_ss(instance="old"))
    m.observe_condition(_ss(instance="new"))
    assert _condition(m, instance="old") is None
    assert _condition(m, instance="new") == 1


def test_condition_info_is_removed_when_the_sealed_secret_is_deleted() -> None:
    m = Metrics()
    m.observe_condition(_ss())
    m.observe_condition(_ss(name="other"))
    m.forget_condition("prod", "db")
    assert _condition(m) is None
    assert _condition(m, name="other") == 1
    m.forget_condition("prod", "never-seen")


def test_sealed_secret_without_status_sets_nothing() -> None:
    m = Metrics()
    m.observe_condition(_ss(status=None))
    assert "condition_info{" not in m.exposition().decode()


def test_http_request_labels_fold_methods_like_promhttp() -> None:
    m = Metrics()
    m.http_request("/v1/verify", "POST", 409, 0.02)
    m.http_request("/v1/verify", "BREW", 200, 0.02)
    assert m.value("sealed_secrets_controller_http_requests_total",
                   {"path": "/v1/verify", "code": "409", "method": "post"}) == 1
    assert m.value("sealed_secrets_controller_http_requests_total",
                   {"path": "/v1/verify", "code": "200", "method": "unknown"}) == 1
    assert m.value("sealed_secrets_controller_http_request_duration_seconds_count",
                   {"path": "/v1/verify", "method": "post"}) == 1
    assert m.value("sealed_secrets_controller_http_request_duration_seconds_bucket",
                   {"path": "/v1/verify", "method": "post", "le": "0.025"}) == 1


def test_kseal_counters_and_gauges() -> None:
    m = Metrics()
    m.rsa_operation()
    m.rsa_operation(4)
    m.restart_skip()
    m.queue_depth(7)
    m.reconcile_duration(0.3)
    assert m.value("kseal_controller_rsa_operations_total") == 5
    assert m.value("kseal_controller_restart_skips_total") == 1
    assert m.value("kseal_controller_queue_depth") == 7
    assert m.value("kseal_controller_reconcile_duration_seconds_count") == 1
    depth = [3]
    m.track_queue_depth(lambda: depth[0])
    depth[0] = 11
    assert m.value("kseal_controller_queue_depth") == 11


def test_no_value_reaches_the_metrics() -> None:
    m = Metrics()
    m.observe_condition(_ss(status="False"))
    m.unseal_error("unseal", "prod")
    m.http_request("other", "GET", 404, 0.001)
    assert SENTINEL not in m.exposition().decode()


def test_metrics_served_on_their_own_port() -> None:
    m = Metrics()
    m.unseal_request()
    server = m.serve("127.0.0.1:0", poll_interval=0.01)
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{server.port}/metrics", timeout=5) as resp:
            body = resp.read().decode()
            assert resp.headers["Content-Type"].startswith("text/plain")
        assert "sealed_secrets_controller_unseal_requests_total 1.0" in body
        with pytest.raises(urllib.error.HTTPError) as info:
            urllib.request.urlopen(f"http://127.0.0.1:{server.port}/other", timeout=5)
        assert info.value.code == 404
    finally:
        server.shutdown()


def _documented() -> dict[str, tuple[str, tuple[str, ...]]]:
    text = (ROOT / "docs" / "controller" / "metrics.md").read_text()
    out = {}
    for row in re.findall(r"^\| `((?:sealed_secrets|kseal)_controller_\w+)` \|([^|]*)\|([^|]*)\|", text, flags=re.M):
        name, kind, labels = row
        out[name] = (kind.strip(), tuple(re.findall(r"`(\w+)`", labels)))
    return out


def test_metrics_reference_documents_every_metric_with_type_and_labels() -> None:
    assert _documented() == {spec.name: (spec.kind, spec.labels) for spec in CATALOG}


def test_reasons_are_the_originals() -> None:
    assert mod.REASONS == ("fetch", "unseal", "update", "unmanaged", "status")
