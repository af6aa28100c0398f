"""Structured fields for log lines: ``log.info("...", extra=fields(namespace=..., name=...))``.

Only names, counts and reasons go in fields, never a value or key material. The formatters of
:mod:`kseal_controller.logs` print them (``key=value`` in text, members of the JSON object).
"""

from __future__ import annotations

from typing import Any

FIELDS_ATTR = "fields"


def fields(**values: Any) -> dict[str, Any]:
    """``extra=`` for a log call: structured metadata fields (None values are dropped)."""
    return {FIELDS_ATTR: {k: v for k, v in values.items() if v is not None}}
