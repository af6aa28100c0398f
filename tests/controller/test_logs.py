"""Logging setup, text and JSON formats, and no value leaking (kseal_controller.logs)."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from kseal_controller import logfields, logs

SENTINEL = "SENTINEL-5f3a9c"


@pytest.fixture
def streams() -> Iterator[tuple[io.StringIO, io.StringIO]]:
    root = logging.getLogger()
    saved = (root.level, list(root.handlers))
    out, err = io.StringIO(), io.StringIO()
    yield out, err
    for handler in list(root.handlers):
        if handler not in saved[1]:
            root.removeHandler(handler)
    root.setLevel(saved[0])


def _emit_everything(log: logging.Logger) -> None:
    log.debug("debug line", extra=logfields.fields(namespace="ns1", name="ss1"))
    log.info("info line", extra=logfields.fields(namespace="ns1", name="ss1"))
    log.warning("warn line")
    log.error("error line")


def test_text_format_is_time_level_message_fields(streams: tuple[io.StringIO, io.StringIO]) -> None:
    out, _ = streams
    logs.setup("INFO", "text", True, stdout=out, stderr=io.StringIO())
    logging.getLogger("kseal_controller.t").info(
        "unsealed", extra=logfields.fields(namespace="prod", name="db creds", count=2)
    )
    line = out.getvalue().rstrip("\n")
    stamp, level, rest = line.split(" ", 2)
    assert stamp.endswith("Z") and "T" in stamp
    assert level == "INFO"
    assert rest == 'unsealed namespace=prod name="db creds" count=2'


def test_json_format_is_one_object_per_line(streams: tuple[io.StringIO, io.StringIO]) -> None:
    out, _ = streams
    logs.setup("DEBUG", "json", True, stdout=out, stderr=io.StringIO())
    _emit_everything(logging.getLogger("kseal_controller.t"))
    lines = out.getvalue().splitlines()
    assert len(lines) == 2
    first = json.loads(lines[0])
    assert first["level"] == "DEBUG" and first["msg"] == "debug line"
    assert first["namespace"] == "ns1" and first["name"] == "ss1"
    assert first["ts"].endswith("Z")
    assert first["logger"] == "kseal_controller.t"


def test_info_to_stdout_warnings_to_stderr(streams: tuple[io.StringIO, io.StringIO]) -> None:
    out, err = streams
    logs.setup("INFO", "text", True, stdout=out, stderr=err)
    _emit_everything(logging.getLogger("kseal_controller.t"))
    assert "info line" in out.getvalue() and "debug line" not in out.getvalue()
    assert "warn" not in out.getvalue()
    assert " WARN warn line" in err.getvalue() and " ERROR error line" in err.getvalue()
    assert "info line" not in err.getvalue()


def test_everything_to_stderr_without_info_stdout(streams: tuple[io.StringIO, io.StringIO]) -> None:
    out, err = streams
    logs.setup("INFO", "text", False, stdout=out, stderr=err)
    _emit_everything(logging.getLogger("kseal_controller.t"))
    assert out.getvalue() == ""
    assert "info line" in err.getvalue() and "error line" in err.getvalue()


def test_level_filters(streams: tuple[io.StringIO, io.StringIO]) -> None:
    out, err = streams
    logs.setup("ERROR", "text", True, stdout=out, stderr=err)
    _emit_everything(logging.getLogger("kseal_controller.t"))
    assert out.getvalue() == ""
    assert "warn line" not in err.getvalue() and "error line" in err.getvalue()


def test_setup_twice_replaces_its_handlers(streams: tuple[io.StringIO, io.StringIO]) -> None:
    out, err = streams
    logs.setup("INFO", "text", True, stdout=out, stderr=err)
    logs.setup("INFO", "text", True, stdout=out, stderr=err)
    logging.getLogger("kseal_controller.t").info("once")
    assert out.getvalue().count("once") == 1


def test_kubernetes_client_debug_logs_are_held_back(streams: tuple[io.StringIO, io.StringIO]) -> None:
    out, err = streams
    logs.setup("DEBUG", "text", True, stdout=out, stderr=err)
    logging.getLogger("kubernetes.client.rest").debug("response body: %s", SENTINEL)
    logging.getLogger("urllib3.connectionpool").debug("body %s", SENTINEL)
    assert SENTINEL not in out.getvalue() + err.getvalue()


def test_multiline_message_stays_one_line(streams: tuple[io.StringIO, io.StringIO]) -> None:
    out, err = streams
    logs.setup("INFO", "text", True, stdout=out, stderr=err)
    logging.getLogger("kseal_controller.t").info("a\nb")
    assert out.getvalue().count("\n") == 1


def _fail_with_value_in_the_chain() -> None:
    value = SENTINEL  # a decrypted value held in a local variable
    try:
        raise ValueError(f"could not parse {value!r}")  # a library quoting its input
    except ValueError:
        raise RuntimeError("cannot unseal item 'password' of prod/db") from None


def _fail_with_implicit_context() -> None:
    value = SENTINEL
    try:
        int(value)
    except ValueError:
        raise RuntimeError("cannot unseal item 'password' of prod/db")  # noqa: B904


@pytest.mark.parametrize("fmt", ["text", "json"])
@pytest.mark.parametrize("fail", [_fail_with_value_in_the_chain, _fail_with_implicit_context])
def test_sentinel_never_appears_through_the_exception_path(
    streams: tuple[io.StringIO, io.StringIO], fmt: str, fail: object
) -> None:
    out, err = streams
    logs.setup("DEBUG", fmt, True, stdout=out, stderr=err)
    log = logging.getLogger("kseal_controller.reconcile")
    try:
        fail()  # type: ignore[operator]
    except RuntimeError:
        log.exception("unseal failed", extra=logfields.fields(namespace="prod", name="db"))
        log.warning("unseal failed", exc_info=True, extra=logfields.fields(namespace="prod"))
        log.debug("retrying", exc_info=True)
    text = out.getvalue() + err.getvalue()
    assert "cannot unseal item 'password' of prod/db" in text  # the message itself is kept
    assert "RuntimeError" in text
    assert "_fail_with" in text  # frames are kept (file:line in function)
    assert SENTINEL not in text


def test_exception_fields_in_json(streams: tuple[io.StringIO, io.StringIO]) -> None:
    out, err = streams
    logs.setup("INFO", "json", True, stdout=out, stderr=err)
    try:
        raise KeyError("x")
    except KeyError:
        logging.getLogger("kseal_controller.t").exception("boom")
    entry = json.loads(err.getvalue())
    assert entry["level"] == "ERROR"
    assert entry["error"].startswith("KeyError")
    assert isinstance(entry["stack"], list) and entry["stack"]


def test_fields_drops_none() -> None:
    assert logfields.fields(namespace="a", name=None) == {"fields": {"namespace": "a"}}


def test_unknown_format_and_level_are_refused(streams: tuple[io.StringIO, io.StringIO]) -> None:
    with pytest.raises(ValueError):
        logs.setup("INFO", "xml", True)
    with pytest.raises(ValueError):
        logs.setup("LOUD", "text", True, stdout=io.StringIO(), stderr=io.StringIO())
