"""The pure model of the controller's key Secrets: backup document, facts, active key, restore
plan, SealedSecret counts. No cluster here (tests/cluster/test_keys.py has those)."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

import pytest

from kseal import controllerkeys as ck
from kseal import keys
from kseal.errors import ConflictError, InputError, KeyMaterialError

T0 = datetime(2026, 1, 1, tzinfo=UTC)


@cache
def pair(days: int) -> tuple[bytes, bytes]:
    return keys.generate(T0 + timedelta(days=days), bits=2048, ttl=timedelta(days=3650))


def key_secret(name: str, days: int = 0, state: str | None = ck.ACTIVE) -> dict[str, Any]:
    private, cert = pair(days)
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": name,
            "namespace": "kube-system",
            "uid": "u-1",
            "resourceVersion": "42",
            "creationTimestamp": "2026-01-01T00:00:00Z",
            "managedFields": [{"manager": "kubectl"}],
            "labels": {ck.KEY_LABEL: state} if state else {},
            "annotations": {
                "kubectl.kubernetes.io/last-applied-configuration": base64.b64encode(
                    private
                ).decode(),
                "team": "platform",
            },
        },
        "type": "kubernetes.io/tls",
        "data": {
            "tls.key": base64.b64encode(private).decode(),
            "tls.crt": base64.b64encode(cert).decode(),
        },
    }


def test_backup_document_is_a_list_of_the_secrets_without_server_fields() -> None:
    doc = ck.backup_document([key_secret("b", 1), key_secret("a", 0)])
    assert doc["kind"] == "List" and doc["apiVersion"] == "v1"
    assert [ck.name_of(s) for s in doc["items"]] == ["a", "b"]
    meta = doc["items"][0]["metadata"]
    assert set(meta) == {"name", "namespace", "labels", "annotations"}
    assert meta["annotations"] == {"team": "platform"}  # the last-applied copy of the key is gone
    assert doc["items"][0]["data"] == key_secret("a", 0)["data"]


def test_backup_document_round_trips_through_secrets_of_backup() -> None:
    doc = ck.backup_document([key_secret("a")])
    assert ck.secrets_of_backup(doc) == doc["items"]


@pytest.mark.parametrize("doc", [{}, {"kind": "List"}, {"kind": "List", "items": [{"kind": "X"}]}])
def test_a_document_that_is_not_a_backup_is_an_input_error(doc: object) -> None:
    with pytest.raises(InputError):
        ck.secrets_of_backup(doc)


def test_key_info_gives_fingerprint_state_and_validity() -> None:
    info = ck.key_info(key_secret("a", 3))
    _private, cert = pair(3)
    assert info.fingerprint == keys.load_certificate(cert).fingerprint
    assert info.state == ck.ACTIVE and info.in_use
    assert info.not_before == T0 + timedelta(days=3)
    assert info.not_after == T0 + timedelta(days=3653)


def test_legacy_unlabelled_secret_is_a_key_in_use_and_compromised_is_not() -> None:
    legacy = key_secret(ck.LEGACY_NAME, state=None)
    assert ck.is_key_secret(legacy)
    assert ck.key_info(legacy).state == ck.LEGACY and ck.key_info(legacy).in_use
    assert not ck.key_info(key_secret("c", state="compromised")).in_use
    assert not ck.is_key_secret(key_secret("other", state=None))


def test_a_broken_key_secret_is_named_without_its_content() -> None:
    bad = key_secret("a")
    bad["data"]["tls.crt"] = key_secret("b", 1)["data"]["tls.crt"]  # another key's certificate
    with pytest.raises(KeyMaterialError) as err:
        ck.key_info(bad)
    assert "kube-system/a" in err.value.message
    assert "BEGIN" not in str(err.value) and bad["data"]["tls.key"][:40] not in str(err.value)
    bad["data"]["tls.key"] = "%%%"
    with pytest.raises(KeyMaterialError, match="not valid base64"):
        ck.key_info(bad)


def test_active_key_is_the_newest_in_use_by_certificate_not_before() -> None:
    infos = ck.infos(
        [key_secret("old", 0), key_secret("new", 5), key_secret("x", 9, "compromised")]
    )
    active = ck.active_key(infos)
    assert active is not None and active.secret_name == "new"
    assert ck.active_key([]) is None


def test_rows_show_age_expiry_state_and_counts_newest_first() -> None:
    infos = ck.infos([key_secret("old", 0), key_secret("new", 5)])
    now = T0 + timedelta(days=10)
    table = ck.rows(infos, now, {infos[0].fingerprint: 3})
    assert [(r.secret_name, r.state, r.age, r.sealed) for r in table] == [
        ("new", "active", "5d", 0),
        ("old", "in use", "10d", 3),
    ]
    assert table[0].expires == f"{T0 + timedelta(days=5 + 3650):%Y-%m-%d}"
    late = ck.rows(infos, T0 + timedelta(days=4000), None)
    assert late[0].expires.endswith("(expired)") and late[0].sealed is None


@pytest.mark.parametrize(
    ("delta", "text"),
    [
        (timedelta(days=2), "2d"),
        (timedelta(hours=5), "5h"),
        (timedelta(minutes=7), "7m"),
        (timedelta(seconds=-5), "0m"),
    ],
)
def test_age_text_is_kubectl_like(delta: timedelta, text: str) -> None:
    assert ck.age_text(delta) == text


def test_missing_from_backup_lists_the_cluster_keys_the_backup_lacks() -> None:
    cluster = ck.infos([key_secret("a", 0), key_secret("b", 1)])
    assert ck.missing_from_backup(cluster, cluster[:1]) == cluster[1:]
    assert ck.missing_from_backup(cluster, cluster) == []


def test_sealed_counts_per_key_unknown_and_orphaned() -> None:
    infos = ck.infos([key_secret("a", 0)])
    counts = ck.count_sealed([infos[0].fingerprint, infos[0].fingerprint, "", "SHA256:gone"])
    assert counts == {infos[0].fingerprint: 2, ck.UNKNOWN: 1, "SHA256:gone": 1}
    assert ck.orphaned(counts, infos) == {"SHA256:gone": 1}


def test_restore_plan_creates_missing_and_leaves_identical_unchanged() -> None:
    a, b = key_secret("a", 0), key_secret("b", 1)
    backup = ck.secrets_of_backup(ck.backup_document([a, b]))
    plan = ck.restore_plan(backup, {"a": a, "b": None}, "sealed")
    assert [(ck.name_of(s), s["metadata"]["namespace"], act) for s, act in plan] == [
        ("a", "sealed", "unchanged"),
        ("b", "sealed", "create"),
    ]
    assert "uid" not in plan[1][0]["metadata"]


def test_restore_plan_refuses_a_different_secret_under_the_same_name() -> None:
    backup = ck.secrets_of_backup(ck.backup_document([key_secret("a", 0)]))
    other = key_secret("a", 1)
    with pytest.raises(ConflictError) as err:
        ck.restore_plan(backup, {"a": other}, "kube-system")
    assert "never overwrites" in err.value.message
    assert other["data"]["tls.key"][:40] not in str(err.value)
