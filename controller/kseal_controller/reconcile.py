"""The reconcile decisions, as pure functions: SealedSecret + existing Secret + unseal result ->
what to write, which Event to emit, and the new status. The Bitnami controller's rules
(``pkg/controller/controller.go`` ``unseal`` and ``updateSealedSecretStatus``):

1. unseal failure: no write, Warning ``ErrUnsealFailed`` "Failed to unseal: <err>", status
   False with <err>, metrics reason ``unseal``;
2. no Secret yet: create it;
3. a Secret that the SealedSecret does not control (ownerReference with ``controller: true``
   and its uid) and that is not annotated ``managed: "true"`` or ``patch: "true"``: refused,
   Warning ``ErrUpdateFailed`` ``Resource "<name>" already exists and is not managed by
   SealedSecret``, status ``failed update: <that>``, reason ``unmanaged``;
4. ``patch: "true"``: data, labels and annotations merged into the Secret's; ownerReferences
   set only if it is (then) also ``managed``; otherwise data, labels, annotations and
   ownerReferences are replaced. The type is always the template's. Other fields (immutable,
   finalizers...) are left as they are;
5. the Secret is updated only when that changes it semantically (absent, null and empty maps
   and lists are equal; no type is ``Opaque``, as the API server defaults it);
6. success: Normal ``Unsealed`` "SealedSecret unsealed successfully".

Sync marks (:mod:`kseal_controller.syncmark`) are annotations like any other in the comparison,
deliberately: they must be written whenever the data is, and a Secret whose marks are stale
(another spec digest, a MAC over other data, or none) is rewritten even if its data is right;
otherwise the next start would find it out of sync and decrypt it again. Their values are
deterministic (a hash and an HMAC), so fresh marks never cause a write by themselves. With
``mark`` given, :func:`decide` computes them over the final body (after a patch merge), so the
MAC covers exactly the data written.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

from kseal import secret as secrets
from kseal.errors import KsealError
from kseal.gotemplate import go_quote
from kseal_controller import syncmark

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

MANAGED_ANNOTATION = "sealedsecrets.bitnami.com/managed"
PATCH_ANNOTATION = "sealedsecrets.bitnami.com/patch"
SKIP_OWNER_REFERENCES_ANNOTATION = "sealedsecrets.bitnami.com/skip-set-owner-references"
SYNCED = "Synced"
UNSEALED = ("Normal", "Unsealed", "SealedSecret unsealed successfully")
ERR_UNSEAL_FAILED = "ErrUnsealFailed"
ERR_UPDATE_FAILED = "ErrUpdateFailed"
_IMMUTABLE_SUFFIX = "field is immutable when `immutable` is set"


@dataclass(frozen=True)
class Options:
    update_status: bool = True


@dataclass(frozen=True)
class Outcome:
    write: Literal["create", "update", "none"]
    secret: dict[str, Any] | None  # the body to create or update
    event: tuple[str, str, str] | None  # (Normal|Warning, reason, message)
    ok: bool
    message: str  # for the Synced condition ("" when ok)
    error_reason: str | None  # metrics reason: fetch|unseal|update|unmanaged|status


def _meta(obj: Mapping[str, Any]) -> dict[str, Any]:
    meta = obj.get("metadata")
    return meta if isinstance(meta, dict) else {}


def _map(value: object) -> dict[str, Any]:
    return dict(value) if isinstance(value, dict) else {}


def owner_reference(sealed_secret: Mapping[str, Any]) -> dict[str, Any]:
    """The ownerReference the original sets (no blockOwnerDeletion)."""
    meta = _meta(sealed_secret)
    return {
        "apiVersion": secrets.API_VERSION,
        "kind": secrets.KIND,
        "name": meta.get("name", ""),
        "uid": meta.get("uid", ""),
        "controller": True,
    }


def skips_owner_references(sealed_secret: Mapping[str, Any]) -> bool:
    template = _map(_map(sealed_secret.get("spec")).get("template"))
    annotations = _map(_map(template.get("metadata")).get("annotations"))
    return annotations.get(SKIP_OWNER_REFERENCES_ANNOTATION) == "true"


def desired(
    sealed_secret: dict[str, Any],
    unsealed: Mapping[str, bytes],
    *,
    mark: tuple[str, bytes] | None = None,
) -> dict[str, Any]:
    """The Secret for ``sealed_secret`` and its decrypted items: the template rendered, an
    ownerReference to the SealedSecret (unless the template's metadata annotates
    skip-set-owner-references "true"), and the sync marks when ``mark`` (key id, MAC key) is
    given. Raises the template's KsealError (an unseal failure for the caller)."""
    body = secrets.secret_from_sealed(sealed_secret, unsealed)
    meta = body["metadata"]
    if skips_owner_references(sealed_secret):
        meta.pop("ownerReferences", None)
    else:
        meta["ownerReferences"] = [owner_reference(sealed_secret)]
    if mark is not None:
        _set_marks(sealed_secret, body, mark)
    return body


def unsealed_secret(
    sealed_secret: dict[str, Any],
    private_keys: Sequence[RSAPrivateKey],
    *,
    on_attempt: Callable[[], None] | None = None,
    mark: tuple[str, bytes] | None = None,
) -> tuple[dict[str, Any] | None, str | None]:
    """``(desired Secret, None)``, or ``(None, error)`` when the values do not open or a template
    fails: the original's ``attemptUnseal``, whose errors become "Failed to unseal: ...". The
    error text carries the CLI's hints (see :func:`error_text`), never a value."""
    try:
        items = secrets.unseal_items(sealed_secret, private_keys, on_attempt)
        return desired(sealed_secret, items, mark=mark), None
    except KsealError as err:
        return None, error_text(err)


def _set_marks(
    sealed_secret: Mapping[str, Any], body: dict[str, Any], mark: tuple[str, bytes]
) -> None:
    meta = body.setdefault("metadata", {})
    annotations = _map(meta.get("annotations"))
    annotations.update(syncmark.marks(sealed_secret, body, *mark))
    meta["annotations"] = annotations


def error_text(err: KsealError) -> str:
    """One line for a status message or Event: the error and its hints (the label used, the one
    the template suggests, the keys tried). Never values: KsealErrors hold none."""
    return "; ".join([err.message, *err.hints]).replace("\n", " ")


def is_controlled_by(secret: Mapping[str, Any], sealed_secret: Mapping[str, Any]) -> bool:
    """metav1.IsControlledBy: the first controller ownerReference has the SealedSecret's uid."""
    for ref in _meta(secret).get("ownerReferences") or []:
        if isinstance(ref, dict) and ref.get("controller") is True:
            return bool(ref.get("uid")) and ref.get("uid") == _meta(sealed_secret).get("uid")
    return False


def _annotated(secret: Mapping[str, Any], annotation: str) -> bool:
    return _map(_meta(secret).get("annotations")).get(annotation) == "true"


def unmanaged_message(name: str) -> str:
    return f"Resource {go_quote(name)} already exists and is not managed by SealedSecret"


def decide(
    sealed_secret: dict[str, Any],
    existing: dict[str, Any] | None,
    desired_secret: dict[str, Any] | None,
    unseal_error: str | None,
    *,
    mark: tuple[str, bytes] | None = None,
) -> Outcome:
    """What to do about ``existing`` (None: no such Secret) given the unseal result."""
    if unseal_error is not None or desired_secret is None:
        error = unseal_error or "no key could decrypt secret"
        event = ("Warning", ERR_UNSEAL_FAILED, f"Failed to unseal: {error}")
        return Outcome("none", None, event, False, error, "unseal")
    if existing is None:
        body = copy.deepcopy(desired_secret)
        if mark is not None:
            _set_marks(sealed_secret, body, mark)
        return Outcome("create", body, UNSEALED, True, "", None)
    if not (
        is_controlled_by(existing, sealed_secret)
        or _annotated(existing, MANAGED_ANNOTATION)
        or _annotated(existing, PATCH_ANNOTATION)
    ):
        message = unmanaged_message(str(_meta(existing).get("name", "")))
        event = ("Warning", ERR_UPDATE_FAILED, message)
        return Outcome("none", None, event, False, f"failed update: {message}", "unmanaged")
    body = _updated(existing, desired_secret)
    if mark is not None:
        _set_marks(sealed_secret, body, mark)
    if _semantic(body) == _semantic(existing):
        return Outcome("none", None, UNSEALED, True, "", None)
    return Outcome("update", body, UNSEALED, True, "", None)


def _updated(existing: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """``existing`` with the new Secret's data, labels, annotations, ownerReferences and type,
    merged (patch) or replaced, as the original does."""
    body = copy.deepcopy(existing)
    meta = body.setdefault("metadata", {})
    new_meta = _meta(new)
    if _annotated(existing, PATCH_ANNOTATION):
        body["data"] = {**_map(body.get("data")), **_map(new.get("data"))}
        meta["labels"] = {**_map(meta.get("labels")), **_map(new_meta.get("labels"))}
        meta["annotations"] = {**_map(meta.get("annotations")), **_map(new_meta.get("annotations"))}
        if _annotated(body, MANAGED_ANNOTATION):  # checked after the merge, as the original
            _replace(meta, new_meta, "ownerReferences")
    else:
        _replace(body, new, "data")
        for field in ("annotations", "labels", "ownerReferences"):
            _replace(meta, new_meta, field)
    _replace(body, new, "type")
    return body


def _replace(target: dict[str, Any], source: Mapping[str, Any], field: str) -> None:
    if source.get(field) is None:
        target.pop(field, None)
    else:
        target[field] = copy.deepcopy(source[field])


def _semantic(secret: Mapping[str, Any]) -> object:
    """A Secret for comparison: no type is Opaque; null, empty maps and empty lists dropped."""
    return _pruned({"type": syncmark.DEFAULT_TYPE, **{k: v for k, v in secret.items() if v}})


def _pruned(obj: object) -> object:
    if isinstance(obj, dict):
        out = {k: _pruned(v) for k, v in obj.items()}
        return {k: v for k, v in out.items() if v is not None and v != {} and v != []}
    if isinstance(obj, list):
        return [_pruned(v) for v in obj]
    return obj


def immutable_message(key: str) -> str:
    """The Event message when the update is refused because the Secret is immutable."""
    return (
        f"Error updating {key}: the target Secret is immutable. Once a Secret is marked as "
        "immutable, it is not possible to revert this change nor to mutate the contents of the "
        "data field. You can only delete and recreate the Secret."
    )


def is_immutable_error(message: str) -> bool:
    return message.endswith(_IMMUTABLE_SUFFIX)


def update_failed(key: str, error: str) -> Outcome:
    """The outcome when creating or updating the Secret failed with the API error ``error``
    (``key`` is namespace/name): Warning ErrUpdateFailed (the immutable explanation when that
    is why), the status carries the error, reason ``update``."""
    message = immutable_message(key) if is_immutable_error(error) else error
    return Outcome("none", None, ("Warning", ERR_UPDATE_FAILED, message), False, error, "update")


def _timestamp(now: datetime) -> str:
    return now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def status_update(
    sealed_secret: Mapping[str, Any], ok: bool, message: str, now: datetime
) -> dict[str, Any] | None:
    """The new ``.status``, or None when no write is needed.

    As the original: the ``Synced`` condition is found or appended; True with no message on
    success, False with the error otherwise; ``lastUpdateTime`` now; ``lastTransitionTime`` only
    when the status flips; ``observedGeneration`` follows ``metadata.generation``; a write only
    when the status flipped or the generation moved. Unlike it (bitnami-labs/sealed-secrets#739),
    a changed message is written too, so no stale error stays after a recovery."""
    status = copy.deepcopy(_map(sealed_secret.get("status")))
    conditions = [c for c in status.get("conditions") or [] if isinstance(c, dict)]
    condition = next((c for c in conditions if c.get("type") == SYNCED), None)
    if condition is None:
        condition = {"type": SYNCED}
        conditions.append(condition)
    new_status = "True" if ok else "False"
    new_message = "" if ok else message.replace("\n", " ")
    generation = _meta(sealed_secret).get("generation") or 0
    flipped = condition.get("status") != new_status
    if not (
        flipped
        or (condition.get("message") or "") != new_message
        or (status.get("observedGeneration") or 0) != generation
    ):
        return None
    stamp = _timestamp(now)
    condition["lastUpdateTime"] = stamp
    if flipped:
        condition["status"] = new_status
        condition["lastTransitionTime"] = stamp
    if new_message:
        condition["message"] = new_message
    else:
        condition.pop("message", None)
    status["conditions"] = conditions
    status["observedGeneration"] = generation
    return status
