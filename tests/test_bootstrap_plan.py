"""The pure plan of ``kseal bootstrap`` (kseal/bootstrap.py): validation before any write,
stringData folded into data, comparisons by key name, values collected only for masking."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from kseal import bootstrap
from kseal.errors import InputError

SENTINEL = "plan-s3ntinel-77"


def _secret(name: str = "db", ns: str | None = "apps", **extra: Any) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, **({"namespace": ns} if ns else {})}
    return {"apiVersion": "v1", "kind": "Secret", "metadata": meta, **extra}


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def test_string_data_folds_into_data_and_keys_are_sorted() -> None:
    doc = _secret(data={"b": _b64("1")}, stringData={"a": SENTINEL})
    (item,) = bootstrap.build([("f.yaml", doc)])
    assert item.body["data"] == {"a": _b64(SENTINEL), "b": _b64("1")}
    assert "stringData" not in item.body
    assert item.keys == ("a", "b") and item.label == "Secret apps/db"


def test_server_set_metadata_is_dropped() -> None:
    doc = _secret(stringData={"a": "x"})
    doc["metadata"].update(resourceVersion="12", uid="u", labels={"team": "x"})
    (item,) = bootstrap.build([("f.yaml", doc)])
    assert item.body["metadata"] == {"name": "db", "namespace": "apps", "labels": {"team": "x"}}


def test_kind_list_items_are_expanded() -> None:
    doc = {"apiVersion": "v1", "kind": "List", "items": [_secret("a"), _secret("b")]}
    assert [i.name for i in bootstrap.build([("f.yaml", doc)])] == ["a", "b"]


@pytest.mark.parametrize(
    ("doc", "words"),
    [
        (_secret("Bad_Name"), "metadata.name"),
        (_secret(ns="Not_A_Label"), "DNS label"),
        (_secret(ns=None), "--namespace"),
        (_secret(data={"k": "%%%" + SENTINEL}), "not valid base64"),
        ({"kind": "Secret", "metadata": {"name": "x"}}, "apiVersion"),
        ({**_secret(), "kind": "ConfigMap"}, "--allow-kind ConfigMap"),
    ],
)
def test_invalid_documents_are_refused_without_values(doc: dict[str, Any], words: str) -> None:
    with pytest.raises(InputError) as caught:
        bootstrap.build([("f.yaml", doc)])
    assert words in caught.value.message + " ".join(caught.value.hints)
    assert SENTINEL not in caught.value.message and "f.yaml" in caught.value.message


def test_namespace_default_fills_documents_without_one() -> None:
    (item,) = bootstrap.build([("f.yaml", _secret(ns=None))], namespace="team")
    assert item.namespace == "team" and item.body["metadata"]["namespace"] == "team"


def test_duplicates_are_refused_naming_both_files() -> None:
    with pytest.raises(InputError, match=r"b.yaml: Secret apps/db appears twice \(first in a.yaml\)"):
        bootstrap.build([("a.yaml", _secret()), ("b.yaml", _secret())])


def test_allowed_kinds_are_case_insensitive_and_crd_kinds_keep_their_fields() -> None:
    store = {"apiVersion": "external-secrets.io/v1beta1", "kind": "SecretStore",
             "metadata": {"name": "vault", "namespace": "apps"}, "spec": {"provider": {"x": 1}}}
    (item,) = bootstrap.build([("s.yaml", store)], allowed_kinds=["secretstore"])
    assert item.keys == ("spec",) and item.body["spec"] == {"provider": {"x": 1}}


def test_compare_names_added_changed_and_removed_keys() -> None:
    (item,) = bootstrap.build([("f", _secret(stringData={"a": "1", "b": "2"}))])
    current = _secret(data={"a": _b64("1"), "b": _b64("old"), "c": _b64("3")})
    change = bootstrap.compare(item, current)
    assert (change.added, change.changed, change.removed) == ((), ("b",), ("c",))
    assert not change.unchanged
    assert bootstrap.compare(item, None) == bootstrap.Change(False, added=("a", "b"))


def test_compare_unchanged_ignores_server_fields_and_other_labels() -> None:
    doc = _secret(stringData={"a": "1"})
    doc["metadata"]["labels"] = {"mine": "x"}
    (item,) = bootstrap.build([("f", doc)])
    current = _secret(data={"a": _b64("1")}, type="Opaque")
    current["metadata"].update(labels={"mine": "x", "other": "y"}, resourceVersion="5")
    assert bootstrap.compare(item, current).unchanged


def test_compare_sees_type_and_label_changes() -> None:
    (item,) = bootstrap.build([("f", _secret(stringData={"a": "1"}, type="kubernetes.io/basic-auth"))])
    current = _secret(data={"a": _b64("1")})
    assert bootstrap.compare(item, current).metadata


def test_compare_of_other_kinds_allows_server_defaults() -> None:
    store = {"apiVersion": "example.io/v1", "kind": "Store",
             "metadata": {"name": "s", "namespace": "apps"}, "spec": {"a": 1}}
    (item,) = bootstrap.build([("f", store)], allowed_kinds=["Store"])
    assert bootstrap.compare(item, {**store, "spec": {"a": 1, "default": True}}).unchanged
    assert bootstrap.compare(item, {**store, "spec": {"a": 2}}).changed == ("spec",)


def test_values_lists_decoded_secret_values_and_other_strings_for_masking() -> None:
    store = {"apiVersion": "example.io/v1", "kind": "Store",
             "metadata": {"name": "s", "namespace": "apps"}, "spec": {"token": "t0k"}}
    items = bootstrap.build(
        [("f", _secret(stringData={"a": SENTINEL})), ("g", store)], allowed_kinds=["Store"]
    )
    assert bootstrap.values(items) == [SENTINEL.encode(), b"t0k"]
