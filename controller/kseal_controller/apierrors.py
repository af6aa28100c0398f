"""The API failures and watch events the controller reasons about, independent of any client.

:mod:`kseal_controller.kube` (the only module that uses the ``kubernetes`` client) turns the
client's exceptions into these; everything else (the informer, the reconciler) handles only these.
Messages name the request and the HTTP status, never an object's body.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class ApiError(Exception):
    """An API request failed. ``status`` is the HTTP status (0 when no answer came)."""

    def __init__(self, message: str, status: int = 0, reason: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason


class NotFound(ApiError):
    """404: the object (or its namespace) does not exist."""


class Conflict(ApiError):
    """409: the resourceVersion changed under us, or the object already exists."""


class Gone(ApiError):
    """410: a watch's resourceVersion is too old; list again."""


class Forbidden(ApiError):
    """403: RBAC does not allow the request."""


class Invalid(ApiError):
    """422: the server refused the object (for instance a change to an immutable Secret)."""


class Transient(ApiError):
    """5xx, 429, a reset connection or a timeout: worth retrying after a pause."""


@dataclass(frozen=True)
class WatchEvent:
    """One watch notification: ``type`` is ADDED, MODIFIED, DELETED or BOOKMARK."""

    type: str
    object: dict[str, Any]
