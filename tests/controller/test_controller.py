"""The runtime's own pieces that need no API server: the compact caches."""

from __future__ import annotations

import json

from kseal_controller.controller import StoredSealedSecret, store_sealed_secret


def test_the_cache_keeps_a_sealed_secret_without_managed_fields_or_last_applied() -> None:
    obj = {
        "apiVersion": "bitnami.com/v1alpha1",
        "kind": "SealedSecret",
        "metadata": {
            "name": "db", "namespace": "app", "uid": "u1",
            "managedFields": [{"manager": "kubectl", "fieldsV1": {"f:spec": {}}}],
            "annotations": {
                "kubectl.kubernetes.io/last-applied-configuration": json.dumps({"big": "x" * 5000}),
                "sealedsecrets.bitnami.com/namespace-wide": "true",
            },
        },
        "spec": {"encryptedData": {"k": "AgB"}},
        "status": {"conditions": [{"type": "Synced", "status": "False"}]},
    }
    stored = store_sealed_secret(obj)
    assert isinstance(stored, StoredSealedSecret) and stored.synced == "False"
    loaded = stored.load()
    assert "managedFields" not in loaded["metadata"]
    assert loaded["metadata"]["annotations"] == {"sealedsecrets.bitnami.com/namespace-wide": "true"}
    assert loaded["spec"] == obj["spec"] and loaded["status"] == obj["status"]
    assert len(stored.raw) < 400


def test_an_unexpected_error_is_logged_without_its_message() -> None:
    from kseal_controller.controller import _where_it_broke

    try:
        int("SENTINEL-5f3a9c-value")
    except ValueError as exc:
        text = _where_it_broke(exc)
    assert text.startswith("ValueError at test_controller.py:")
    assert "SENTINEL" not in text
