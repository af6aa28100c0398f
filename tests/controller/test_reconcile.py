"""The reconcile decisions as pure functions, one row per rule of the original controller
(pkg/controller/controller.go ``unseal`` and ``updateSealedSecretStatus``)."""

from __future__ import annotations

import base64
import copy
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from kseal import sealed
from kseal_controller import reconcile, syncmark

SENTINEL = "SENTINEL-5f3a9c"
UID = "5d0c-uid"
NOW = datetime(2026, 11, 29, 1, 2, 3, tzinfo=UTC)
MARK = ("SHA256:testkey", b"k" * 32)


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def _ss(**template: Any) -> dict[str, Any]:
    return {
        "apiVersion": "bitnami.com/v1alpha1",
        "kind": "SealedSecret",
        "metadata": {"name": "db", "namespace": "prod", "uid": UID, "generation": 2},
        "spec": {
            "encryptedData": {"password": "AgAAAA=="},
            "template": {
                "metadata": {
                    "name": "db",
                    "namespace": "prod",
                    "labels": {"app": "db"},
                    "annotations": {"team": "a"},
                },
                **template,
            },
        },
    }


SS = _ss()
DESIRED = reconcile.desired(SS, {"password": SENTINEL.encode()})
OWNER = reconcile.owner_reference(SS)


def _existing(**changes: Any) -> dict[str, Any]:
    """The Secret as the API server returns it after creating DESIRED."""
    out = copy.deepcopy(DESIRED)
    out["metadata"].update(
        resourceVersion="7", uid="secret-uid", creationTimestamp="2026-01-01T00:00:00Z"
    )
    out["type"] = "Opaque"
    for key, value in changes.items():
        if key in ("labels", "annotations", "ownerReferences"):
            if value is None:
                out["metadata"].pop(key, None)
            else:
                out["metadata"][key] = value
        else:
            out[key] = value
    return out


def _foreign() -> dict[str, Any]:
    return _existing(
        ownerReferences=None,
        annotations={"x": "1"},
        labels={"other": "y"},
        data={"theirs": _b64("t")},
    )


OK = ("Normal", "Unsealed", "SealedSecret unsealed successfully")
UNMANAGED = 'Resource "db" already exists and is not managed by SealedSecret'
Check = Callable[[dict[str, Any] | None], None]


def _has(**fields: Any) -> Check:
    def check(body: dict[str, Any] | None) -> None:
        assert body is not None
        for key, value in fields.items():
            where = (
                body["metadata"] if key in ("labels", "annotations", "ownerReferences") else body
            )
            assert where.get(key) == value, key

    return check


def _none(body: dict[str, Any] | None) -> None:
    assert body is None


ROWS: list[
    tuple[str, dict[str, Any] | None, str | None, str, tuple[str, str, str], str, str | None, Check]
] = [
    # (rule, existing, unseal error, write, event, status message, metrics reason, body check)
    (
        "unseal failure: nothing written",
        _existing(),
        "no key could decrypt secret (password)",
        "none",
        ("Warning", "ErrUnsealFailed", "Failed to unseal: no key could decrypt secret (password)"),
        "no key could decrypt secret (password)",
        "unseal",
        _none,
    ),
    (
        "no Secret: create it, owned",
        None,
        None,
        "create",
        OK,
        "",
        None,
        _has(
            ownerReferences=[OWNER],
            labels={"app": "db"},
            annotations={"team": "a"},
            data={"password": _b64(SENTINEL)},
        ),
    ),
    (
        "not owned, not annotated: refused",
        _foreign(),
        None,
        "none",
        ("Warning", "ErrUpdateFailed", UNMANAGED),
        f"failed update: {UNMANAGED}",
        "unmanaged",
        _none,
    ),
    (
        "owned by another uid: refused",
        _existing(ownerReferences=[{**OWNER, "uid": "other"}]),
        None,
        "none",
        ("Warning", "ErrUpdateFailed", UNMANAGED),
        f"failed update: {UNMANAGED}",
        "unmanaged",
        _none,
    ),
    (
        "an ownerReference without controller: refused",
        _existing(ownerReferences=[{**OWNER, "controller": False}]),
        None,
        "none",
        ("Warning", "ErrUpdateFailed", UNMANAGED),
        f"failed update: {UNMANAGED}",
        "unmanaged",
        _none,
    ),
    (
        "managed: taken over and replaced",
        _existing(
            ownerReferences=None,
            annotations={reconcile.MANAGED_ANNOTATION: "true"},
            labels={"old": "l"},
            data={"theirs": _b64("t")},
        ),
        None,
        "update",
        OK,
        "",
        None,
        _has(
            ownerReferences=[OWNER],
            labels={"app": "db"},
            annotations={"team": "a"},
            data={"password": _b64(SENTINEL)},
        ),
    ),
    (
        "patch: merged, no ownership",
        _existing(
            ownerReferences=None,
            annotations={reconcile.PATCH_ANNOTATION: "true"},
            labels={"old": "l"},
            data={"theirs": _b64("t"), "password": _b64("old")},
        ),
        None,
        "update",
        OK,
        "",
        None,
        _has(
            labels={"old": "l", "app": "db"},
            annotations={reconcile.PATCH_ANNOTATION: "true", "team": "a"},
            data={"theirs": _b64("t"), "password": _b64(SENTINEL)},
            ownerReferences=None,
        ),
    ),
    (
        "patch and managed: merged and owned",
        _existing(
            ownerReferences=None,
            annotations={reconcile.PATCH_ANNOTATION: "true", reconcile.MANAGED_ANNOTATION: "true"},
            data={"theirs": _b64("t")},
        ),
        None,
        "update",
        OK,
        "",
        None,
        _has(ownerReferences=[OWNER], data={"theirs": _b64("t"), "password": _b64(SENTINEL)}),
    ),
    (
        "owned: data, labels, annotations replaced",
        _existing(
            labels={"x": "y"},
            annotations={"stale": "1"},
            data={"password": _b64("old"), "gone": _b64("g")},
        ),
        None,
        "update",
        OK,
        "",
        None,
        _has(labels={"app": "db"}, annotations={"team": "a"}, data={"password": _b64(SENTINEL)}),
    ),
    (
        "owned, type changed: the template's type wins (none: the server's Opaque)",
        _existing(type="kubernetes.io/tls"),
        None,
        "update",
        OK,
        "",
        None,
        _has(type=None),
    ),
    ("owned and equal: no write", _existing(), None, "none", OK, "", None, _none),
    (
        "equal but for null and empty fields: no write",
        _existing(immutable=None, finalizers=[], stringData={}),
        None,
        "none",
        OK,
        "",
        None,
        _none,
    ),
]


@pytest.mark.parametrize(
    ("rule", "existing", "error", "write", "event", "message", "reason", "check"),
    ROWS,
    ids=[row[0] for row in ROWS],
)
def test_decide_follows_every_rule_of_the_original(
    rule: str,
    existing: dict[str, Any] | None,
    error: str | None,
    write: str,
    event: tuple[str, str, str],
    message: str,
    reason: str | None,
    check: Check,
) -> None:
    before = copy.deepcopy(existing)
    outcome = reconcile.decide(SS, existing, None if error else DESIRED, error)
    assert outcome.write == write
    assert outcome.event == event
    assert outcome.ok is (error is None and reason is None)
    assert outcome.message == message
    assert outcome.error_reason == reason
    check(outcome.secret)
    assert existing == before  # the input is never modified
    text = f"{outcome.event} {outcome.message}"
    assert SENTINEL not in text and _b64(SENTINEL) not in text


def test_the_type_is_always_the_templates() -> None:
    ss = _ss(type="kubernetes.io/basic-auth")
    desired = reconcile.desired(ss, {"password": SENTINEL.encode()})
    for existing in (
        _existing(),
        _existing(annotations={reconcile.PATCH_ANNOTATION: "true"}, ownerReferences=None),
    ):
        outcome = reconcile.decide(ss, existing, desired, None)
        assert outcome.write == "update" and outcome.secret is not None
        assert outcome.secret["type"] == "kubernetes.io/basic-auth"


def test_an_update_keeps_the_servers_fields_for_the_put() -> None:
    existing = _existing(labels={"x": "y"}, immutable=True, finalizers=["f"])
    outcome = reconcile.decide(SS, existing, DESIRED, None)
    assert outcome.secret is not None
    meta = outcome.secret["metadata"]
    assert (meta["resourceVersion"], meta["uid"]) == ("7", "secret-uid")
    assert outcome.secret["immutable"] is True and outcome.secret["finalizers"] == ["f"]


def test_a_template_managed_annotation_makes_a_patched_secret_owned() -> None:
    ss = _ss()
    ss["spec"]["template"]["metadata"]["annotations"][reconcile.MANAGED_ANNOTATION] = "true"
    desired = reconcile.desired(ss, {"password": b"v"})
    existing = _existing(ownerReferences=None, annotations={reconcile.PATCH_ANNOTATION: "true"})
    outcome = reconcile.decide(ss, existing, desired, None)
    assert outcome.secret is not None
    assert outcome.secret["metadata"]["ownerReferences"] == [OWNER]


def test_skip_set_owner_references_leaves_them_out() -> None:
    ss = _ss()
    ss["spec"]["template"]["metadata"]["annotations"].update(
        {reconcile.SKIP_OWNER_REFERENCES_ANNOTATION: "true", reconcile.MANAGED_ANNOTATION: "true"}
    )
    desired = reconcile.desired(ss, {"password": b"v"})
    assert "ownerReferences" not in desired["metadata"]
    created = reconcile.decide(ss, None, desired, None)
    assert created.write == "create" and created.secret is not None
    assert "ownerReferences" not in created.secret["metadata"]
    owned_before = _existing(annotations={reconcile.MANAGED_ANNOTATION: "true"})
    outcome = reconcile.decide(ss, owned_before, desired, None)
    assert outcome.secret is not None and "ownerReferences" not in outcome.secret["metadata"]
    ss["spec"]["template"]["metadata"]["annotations"][
        reconcile.SKIP_OWNER_REFERENCES_ANNOTATION
    ] = "True"
    assert reconcile.desired(ss, {"password": b"v"})["metadata"]["ownerReferences"] == [OWNER]


def test_desired_renders_the_template_and_forces_name_and_namespace() -> None:
    ss = _ss(type="kubernetes.io/basic-auth", data={"url": "db://{{ .password }}@h"})
    ss["spec"]["template"]["metadata"]["name"] = "elsewhere"
    body = reconcile.desired(ss, {"password": b"pw"})
    assert body["metadata"]["name"] == "db" and body["metadata"]["namespace"] == "prod"
    assert body["type"] == "kubernetes.io/basic-auth"
    assert base64.b64decode(body["data"]["url"]) == b"db://pw@h"


def test_marks_are_written_with_the_data_and_prove_sync() -> None:
    mac_keys = {MARK[0]: MARK[1]}
    created = reconcile.decide(
        SS, None, reconcile.desired(SS, {"password": b"v"}, mark=MARK), None, mark=MARK
    )
    assert created.secret is not None
    assert syncmark.in_sync(SS, created.secret, mac_keys)
    stored = copy.deepcopy(created.secret)
    stored["metadata"]["resourceVersion"] = "1"
    again = reconcile.decide(
        SS, stored, reconcile.desired(SS, {"password": b"v"}, mark=MARK), None, mark=MARK
    )
    assert again.write == "none"  # deterministic marks never cause a write by themselves


def test_stale_marks_are_rewritten_even_when_the_data_is_right() -> None:
    old_spec = _ss()
    old_spec["spec"]["encryptedData"]["password"] = "AgBBBB=="
    stale = reconcile.decide(
        old_spec, None, reconcile.desired(old_spec, {"password": b"v"}), None, mark=MARK
    )
    assert stale.secret is not None
    outcome = reconcile.decide(
        SS, stale.secret, reconcile.desired(SS, {"password": b"v"}), None, mark=MARK
    )
    assert outcome.write == "update" and outcome.secret is not None
    assert syncmark.in_sync(SS, outcome.secret, {MARK[0]: MARK[1]})
    unmarked = _existing()
    assert reconcile.decide(SS, unmarked, DESIRED, None, mark=MARK).write == "update"


def test_a_patched_secrets_marks_cover_the_merged_data() -> None:
    existing = _existing(
        ownerReferences=None,
        annotations={reconcile.PATCH_ANNOTATION: "true"},
        data={"theirs": "dA=="},
    )
    outcome = reconcile.decide(
        SS, existing, reconcile.desired(SS, {"password": b"v"}, mark=MARK), None, mark=MARK
    )
    assert outcome.secret is not None and set(outcome.secret["data"]) == {"theirs", "password"}
    assert syncmark.in_sync(SS, outcome.secret, {MARK[0]: MARK[1]})


def test_error_text_carries_the_clis_hints_on_one_line() -> None:
    err = sealed.UnsealError(
        "no key could decrypt secret (a)", hints=["the label 'ns/n'", "2 private key(s) tried"]
    )
    assert (
        reconcile.error_text(err)
        == "no key could decrypt secret (a); the label 'ns/n'; 2 private key(s) tried"
    )


def test_an_immutable_secret_gets_the_originals_explanation() -> None:
    error = 'Secret "db" is invalid: data: Forbidden: field is immutable when `immutable` is set'
    outcome = reconcile.update_failed("prod/db", error)
    assert outcome.event == ("Warning", "ErrUpdateFailed", reconcile.immutable_message("prod/db"))
    assert outcome.event[2].startswith("Error updating prod/db: the target Secret is immutable.")
    assert (outcome.ok, outcome.message, outcome.error_reason, outcome.write) == (
        False,
        error,
        "update",
        "none",
    )
    other = reconcile.update_failed("prod/db", "connection reset")
    assert other.event == ("Warning", "ErrUpdateFailed", "connection reset")


# --- status -------------------------------------------------------------------------------------


def _with_status(generation: int = 2, **condition: Any) -> dict[str, Any]:
    ss = copy.deepcopy(SS)
    ss["metadata"]["generation"] = generation
    ss["status"] = {
        "observedGeneration": 2,
        "conditions": [
            {"type": "Other", "status": "True"},
            {"type": "Synced", "lastUpdateTime": "t0", "lastTransitionTime": "t0", **condition},
        ],
    }
    return ss


STAMP = "2026-11-29T01:02:03Z"


def test_first_status_sets_the_condition_and_observed_generation() -> None:
    status = reconcile.status_update(SS, True, "", NOW)
    assert status == {
        "conditions": [
            {
                "type": "Synced",
                "status": "True",
                "lastUpdateTime": STAMP,
                "lastTransitionTime": STAMP,
            }
        ],
        "observedGeneration": 2,
    }
    failed = reconcile.status_update(SS, False, "boom", NOW)
    assert failed is not None and failed["conditions"][0]["message"] == "boom"


def test_no_write_when_nothing_changed() -> None:
    assert reconcile.status_update(_with_status(status="True"), True, "", NOW) is None
    assert (
        reconcile.status_update(_with_status(status="False", message="m"), False, "m", NOW) is None
    )


def test_a_new_generation_is_written_without_a_transition() -> None:
    status = reconcile.status_update(_with_status(generation=3, status="True"), True, "", NOW)
    assert status is not None and status["observedGeneration"] == 3
    synced = status["conditions"][1]
    assert (synced["lastUpdateTime"], synced["lastTransitionTime"]) == (STAMP, "t0")
    assert status["conditions"][0] == {"type": "Other", "status": "True"}


def test_a_flip_moves_the_transition_time() -> None:
    status = reconcile.status_update(
        _with_status(status="True"), False, "no key could decrypt secret (a)", NOW
    )
    assert status is not None
    assert status["conditions"][1] == {
        "type": "Synced",
        "status": "False",
        "message": "no key could decrypt secret (a)",
        "lastUpdateTime": STAMP,
        "lastTransitionTime": STAMP,
    }


def test_recovery_clears_the_message() -> None:
    status = reconcile.status_update(_with_status(status="False", message="boom"), True, "", NOW)
    assert status is not None and "message" not in status["conditions"][1]
    assert status["conditions"][1]["status"] == "True"


def test_a_changed_message_without_a_flip_is_written_fix_for_739() -> None:
    later = NOW + timedelta(minutes=1)
    status = reconcile.status_update(
        _with_status(status="False", message="old error"), False, "new error", later
    )
    assert status is not None
    synced = status["conditions"][1]
    assert synced["message"] == "new error" and synced["lastTransitionTime"] == "t0"
    stale = reconcile.status_update(_with_status(status="True", message="stale"), True, "", NOW)
    assert stale is not None and "message" not in stale["conditions"][1]


def test_status_messages_are_one_line_and_the_input_is_untouched() -> None:
    ss = _with_status(status="True")
    before = copy.deepcopy(ss)
    status = reconcile.status_update(ss, False, "line one\nline two", NOW)
    assert status is not None and status["conditions"][1]["message"] == "line one line two"
    assert ss == before
    assert reconcile.Options().update_status is True


# --- unsealing into the desired Secret -----------------------------------------------------------


def _real_ss(**template: Any) -> tuple[dict[str, Any], Any, Any]:
    from datetime import UTC, datetime

    from kseal import keys, secret

    now = datetime.now(UTC)
    (k1, c1), (k2, _c2) = keys.generate(now, bits=2048), keys.generate(now, bits=2048)
    doc = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "db", "namespace": "prod"},
        "stringData": {"password": SENTINEL},
    }
    ss = secret.seal_secret(doc, keys.load_certificate(c1).public_key)
    ss["metadata"]["uid"] = UID
    ss["spec"]["template"].update(template)
    return ss, keys.load_private_key_pem(k1, "right"), keys.load_private_key_pem(k2, "wrong")


def test_unsealed_secret_gives_the_desired_secret_or_a_one_line_error() -> None:
    ss, right, wrong = _real_ss(data={"url": "db://{{ .password }}"})
    attempts: list[int] = []
    body, error = reconcile.unsealed_secret(
        ss, [wrong, right], on_attempt=lambda: attempts.append(1), mark=MARK
    )
    assert error is None and body is not None
    assert base64.b64decode(body["data"]["url"]).decode() == f"db://{SENTINEL}"
    assert body["metadata"]["ownerReferences"] == [{**OWNER, "uid": UID}]
    assert syncmark.DATA_MAC_ANNOTATION in body["metadata"]["annotations"]
    assert len(attempts) == 2
    body, error = reconcile.unsealed_secret(ss, [wrong])
    assert body is None and error is not None
    assert error.startswith("no key could decrypt secret (password); ")
    assert "label 'prod/db'" in error and "1 private key(s) tried" in error
    outcome = reconcile.decide(ss, None, body, error)
    assert outcome.event is not None and outcome.event[2].startswith(
        "Failed to unseal: no key could decrypt"
    )
    ss["spec"]["template"]["data"] = {"url": "{{ .password | sha256sum }}"}
    body, error = reconcile.unsealed_secret(ss, [right])
    assert body is None and error is not None
    assert error.startswith(
        'spec.template.data.url: function "sha256sum" is not supported by kseal'
    )
    assert SENTINEL not in error and "\n" not in error
