"""Logging for the controller: the stdlib ``logging`` module, as text or JSON lines.

``--log-format text`` writes ``<time> <LEVEL> <message> key=value ...``; ``--log-format json``
writes one object per line with ``ts``, ``level``, ``msg``, ``logger`` and the structured fields.
With ``--log-info-stdout`` (the default) DEBUG and INFO go to stdout and WARN/ERROR to stderr, as
the original; otherwise everything goes to stderr.

Structured fields are passed as ``extra=fields(namespace=..., name=...)`` (``name`` cannot be a
plain ``extra`` key: ``logging`` reserves it).

**Never pass a value.** A log message, a field and the message of an exception attached with
``exc_info`` may hold metadata only: namespaces, names, keys of data items, fingerprints, counts,
HTTP statuses. Never a plaintext value, a data key, a private key or a request body. The
formatters help: an attached exception is written as its type, its own message and its frames
(file, line, function: no source lines, no locals), and never its chained ``__cause__`` or
``__context__``, where a library's message quoting its input would otherwise surface. The
``kubernetes`` client and ``urllib3`` loggers are held at WARN whatever ``--log-level`` says,
because at DEBUG the client logs response bodies, Secrets included.
"""

from __future__ import annotations

import json
import logging
import sys
import traceback
from datetime import UTC, datetime
from typing import IO, Any

from kseal_controller.logfields import FIELDS_ATTR

LEVELS = {
    "DEBUG": logging.DEBUG,
    "INFO": logging.INFO,
    "WARN": logging.WARNING,
    "WARNING": logging.WARNING,
    "ERROR": logging.ERROR,
}
# loggers that may write request or response bodies at DEBUG
QUIET = ("kubernetes", "urllib3")
_MARK = "_kseal_controller_handler"


def level_name(levelno: int) -> str:
    if levelno >= logging.ERROR:
        return "ERROR"
    if levelno >= logging.WARNING:
        return "WARN"
    if levelno >= logging.INFO:
        return "INFO"
    return "DEBUG"


def _timestamp(created: float) -> str:
    moment = datetime.fromtimestamp(created, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _record_fields(record: logging.LogRecord) -> dict[str, Any]:
    out = dict(getattr(record, FIELDS_ATTR, None) or {})
    if record.exc_info and record.exc_info[1] is not None:
        exc = record.exc_info[1]
        out["error"] = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        frames = traceback.extract_tb(exc.__traceback__)  # this exception only, not its chain
        out["stack"] = [f"{f.filename}:{f.lineno} in {f.name}" for f in frames]
    return out


def _one_line(text: str) -> str:
    return text.replace("\r", "\\r").replace("\n", "\\n")


def _quote(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    if not text or any(c in text for c in ' "=\\') or not text.isprintable():
        return json.dumps(text)
    return text


class TextFormatter(logging.Formatter):
    """``2026-11-29T00:11:27.123Z INFO message key=value key2="two words"``."""

    def format(self, record: logging.LogRecord) -> str:
        parts = [
            _timestamp(record.created),
            level_name(record.levelno),
            _one_line(record.getMessage()),
        ]
        parts += [f"{key}={_quote(value)}" for key, value in _record_fields(record).items()]
        return " ".join(parts)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ``ts``, ``level``, ``msg``, ``logger``, then the fields."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": _timestamp(record.created),
            "level": level_name(record.levelno),
            "msg": record.getMessage(),
            "logger": record.name,
        }
        for key, value in _record_fields(record).items():
            out.setdefault(key, value)
        return json.dumps(out, default=str, ensure_ascii=False)


class _AtMost(logging.Filter):
    def __init__(self, maximum: int) -> None:
        super().__init__()
        self.maximum = maximum

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno <= self.maximum


def formatter(fmt: str) -> logging.Formatter:
    if fmt == "json":
        return JsonFormatter()
    if fmt == "text":
        return TextFormatter()
    raise ValueError(f"unknown log format {fmt!r} (text|json)")


def setup(
    level: str,
    fmt: str,
    info_stdout: bool,
    *,
    stdout: IO[str] | None = None,
    stderr: IO[str] | None = None,
) -> None:
    """Configure the root logger (replacing what an earlier call installed)."""
    chosen = formatter(fmt)
    if level.upper() not in LEVELS:
        raise ValueError(f"unknown log level {level!r}")
    root = logging.getLogger()
    for handler in [h for h in root.handlers if getattr(h, _MARK, False)]:
        root.removeHandler(handler)
    out = stdout if stdout is not None else sys.stdout
    err = stderr if stderr is not None else sys.stderr
    handlers: list[logging.Handler] = []
    if info_stdout:
        low: logging.Handler = logging.StreamHandler(out)
        low.addFilter(_AtMost(logging.INFO))
        high: logging.Handler = logging.StreamHandler(err)
        high.setLevel(logging.WARNING)
        handlers += [low, high]
    else:
        handlers.append(logging.StreamHandler(err))
    for handler in handlers:
        handler.setFormatter(chosen)
        setattr(handler, _MARK, True)
        root.addHandler(handler)
    root.setLevel(LEVELS[level.upper()])
    for name in QUIET:
        logging.getLogger(name).setLevel(logging.WARNING)
