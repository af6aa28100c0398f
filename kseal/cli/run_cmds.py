"""``kseal exec-env`` and ``kseal exec-file``: run a command with the decrypted values, without
writing them to disk (``exec-file --no-fifo`` writes a 0600 file that is always removed).

As sops, COMMAND runs with ``/bin/sh -c``; kseal exits with the command's status.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import os
import re
import shlex
import subprocess
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from kseal.cli.common import decrypt_file, stores_for
from kseal.cli.options import FileArg, IgnoreMac, InputType
from kseal.errors import InputError, KsealError, killed_by

if TYPE_CHECKING:
    from kseal.sops.tree import Branch

CommandArg = Annotated[str, typer.Argument(metavar="COMMAND", help="Run with /bin/sh -c.")]
NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def _status(code: int) -> int:
    return killed_by(-code) if code < 0 else code


def _shell(command: str, env: dict[str, str] | None) -> int:
    try:
        result = subprocess.run(["/bin/sh", "-c", command], env=env, check=False)
    except OSError as exc:
        raise KsealError(f"cannot run /bin/sh: {exc.strerror}") from None
    return _status(result.returncode)


def variables(doc: Branch) -> tuple[dict[str, str], list[str]]:
    """The environment variables a document gives, and the keys skipped (names only)."""
    from kseal.sops.stores import scalar_text
    from kseal.sops.tree import Branch, Value

    out: dict[str, str] = {}
    skipped: list[str] = []
    pairs: list[tuple[str, Value]] = []
    if doc.get("kind") == "Secret" and isinstance(doc.get("apiVersion"), str):
        data = doc.get("data")
        for key, value in data if isinstance(data, Branch) else []:
            if isinstance(key, str):
                pairs.append((key, _b64(key, value)))
        string_data = doc.get("stringData")
        for key, value in string_data if isinstance(string_data, Branch) else []:
            if isinstance(key, str):
                pairs.append((key, value))
    else:
        pairs = [(k, v) for k, v in doc if isinstance(k, str)]
    for key, value in pairs:
        if isinstance(value, Branch | list) or not NAME.match(key):
            skipped.append(key)
            continue
        text = scalar_text(value, key)
        if "\0" in text:
            raise InputError(f"the value of {key!r} contains a NUL byte; it cannot be a variable")
        out[key] = text
    return out, skipped


def _b64(key: str, value: object) -> str:
    if not isinstance(value, str):
        raise InputError(f"data[{key!r}] is not a base64 string")
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise InputError(f"data[{key!r}] is not valid base64") from None
    return raw.decode("utf-8", "surrogateescape")


def exec_env(
    file: FileArg,
    command: CommandArg,
    pristine: Annotated[
        bool, typer.Option("--pristine", help="Pass only the decrypted values (no other env).")
    ] = False,
    input_type: InputType = None,
    ignore_mac: IgnoreMac = False,
) -> None:
    """Run COMMAND with FILE's decrypted values as environment variables, like 'sops exec-env'."""
    dec = decrypt_file(file, input_type=input_type, ignore_mac=ignore_mac)
    from kseal.sops.tree import Branch

    values, skipped = variables(dec.docs[0] if dec.docs else Branch())
    if skipped:
        sys.stderr.write(
            f"kseal: warning: skipped values that cannot be variables: {', '.join(skipped)}\n"
        )
    env = dict(values) if pristine else {**os.environ, **values}
    raise typer.Exit(_shell(command, env))


def exec_file(
    file: FileArg,
    command: Annotated[
        str, typer.Argument(metavar="COMMAND", help="Run with /bin/sh -c; {} is the file's path.")
    ],
    no_fifo: Annotated[
        bool, typer.Option("--no-fifo", help="Use a 0600 temporary file instead of a FIFO.")
    ] = False,
    output_type: Annotated[
        str | None, typer.Option("--output-type", help="Format of the decrypted file.")
    ] = None,
    filename: Annotated[
        str | None, typer.Option("--filename", help="Name of the file (default: FILE's name).")
    ] = None,
    input_type: InputType = None,
    ignore_mac: IgnoreMac = False,
) -> None:
    """Run COMMAND with {} replaced by the path of FILE decrypted, like 'sops exec-file'."""
    from kseal.cli.private import private_dir, scrub, signals_unwind

    in_store, out_store = stores_for(file, None, input_type, output_type)
    dec = decrypt_file(file, input_type=input_type, ignore_mac=ignore_mac)
    source = dec.source if out_store.name == in_store.name else None
    data = out_store.emit(dec.docs, None, source=source)
    name = filename or Path(file).name
    if not name or "/" in name or name in (".", ".."):
        raise InputError(f"--filename must be a plain file name, not {name!r}")
    with signals_unwind():
        directory = private_dir()
        path = Path(directory) / name
        writer: threading.Thread | None = None
        try:
            if no_fifo:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "wb") as fh:
                    fh.write(data)
            else:
                os.mkfifo(path, 0o600)
                writer = threading.Thread(target=_feed, args=(path, data), daemon=True)
                writer.start()
            code = _shell(command.replace("{}", shlex.quote(str(path))), None)
        finally:
            if writer is not None:
                _unblock(path, writer)
            scrub(path)
            with contextlib.suppress(OSError):
                os.rmdir(directory)
    raise typer.Exit(code)


def _feed(path: Path, data: bytes) -> None:
    with contextlib.suppress(OSError):
        with open(path, "wb") as fifo:  # blocks until the command opens it
            fifo.write(data)


def _unblock(path: Path, writer: threading.Thread) -> None:
    """A command that never opened the FIFO leaves the writer blocked in open(): open the read
    end ourselves so it returns, then drain and drop what it writes."""
    writer.join(timeout=0.05)
    while writer.is_alive():
        with contextlib.suppress(OSError):
            fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
            try:
                writer.join(timeout=0.05)
                with contextlib.suppress(OSError):
                    while os.read(fd, 65536):
                        pass
            finally:
                os.close(fd)
        writer.join(timeout=0.05)


def register(app: typer.Typer) -> None:
    app.command("exec-env")(exec_env)
    app.command("exec-file")(exec_file)
