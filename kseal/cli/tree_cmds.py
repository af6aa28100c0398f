"""``kseal set``, ``kseal unset`` and ``kseal filestatus``: one value at a time, in place."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated

import typer

from kseal.cli.common import save_reencrypted, stores_for
from kseal.cli.options import FileArg, InputType
from kseal.errors import ConflictError, InputError

if TYPE_CHECKING:
    from kseal.sops.engine import Decrypted
    from kseal.sops.stores import Store
    from kseal.sops.tree import Value

PathArg = Annotated[
    str, typer.Argument(metavar="PATH", help='Where, e.g. \'["data"]["password"]\'.')
]
Idempotent = Annotated[
    bool, typer.Option("--idempotent", help="Do not rewrite the file when nothing changes.")
]


def set_(
    file: FileArg,
    path: PathArg,
    value: Annotated[
        str | None,
        typer.Argument(metavar="VALUE", help="The new value as JSON (a string is '\"text\"')."),
    ] = None,
    value_file: Annotated[
        bool,
        typer.Option("--value-file", help="VALUE is a file to read the value from (as sops)."),
    ] = False,
    value_stdin: Annotated[
        bool, typer.Option("--value-stdin", help="Read the value from stdin.")
    ] = False,
    string: Annotated[
        bool, typer.Option("--string", help="Take the value as a plain string, not JSON.")
    ] = False,
    idempotent: Idempotent = False,
    input_type: InputType = None,
) -> None:
    """Set one value of FILE in place, like 'sops set'; unchanged values keep their ciphertext."""
    from kseal.sops.tree import Branch
    from kseal.sops.workflows import set_path

    steps = _set_path(path)
    new = _parse_value(_read_value(value, value_file, value_stdin), string)
    dec, store = _open(file, input_type)
    doc: Value = dec.docs[0] if dec.docs else Branch()
    if idempotent and _current(doc, steps) == _plain(new):
        sys.stderr.write("kseal: the value is already set; the file is unchanged\n")
        return
    result = set_path(doc, steps, new)
    if not isinstance(result, Branch):
        raise InputError("the top level of a document must stay a mapping")
    save_reencrypted(file, dec, store, dec.source)


def _set_path(path: str) -> list[str | int]:
    """``path`` parsed for ``set``/``unset``; malformed, it exits 7 as sops does (91 is
    ``--extract``'s code)."""
    from kseal.errors import ExitCode, TreePathError
    from kseal.sops.engine import parse_path

    try:
        return parse_path(path)
    except TreePathError as exc:
        raise TreePathError(exc.message, hints=exc.hints, exit_code=ExitCode.SET_PATH) from None


def _read_value(value: str | None, value_file: bool, value_stdin: bool) -> bytes:
    from kseal.fileio import read_input

    if value_file and value_stdin:
        raise ConflictError("--value-file and --value-stdin cannot be used together")
    if value_stdin:
        if value is not None:
            raise ConflictError("with --value-stdin, give no VALUE argument")
        return sys.stdin.buffer.read()
    if value is None:
        raise ConflictError(
            "no value given", hints=["pass VALUE, --value-file FILE-as-VALUE or --value-stdin"]
        )
    if value_file:
        return read_input(value)
    return value.encode("utf-8", "surrogateescape")


def _parse_value(data: bytes, string: bool) -> Value:
    from kseal.sops.stores.json_store import loads

    if string:
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            raise InputError("the value is not UTF-8 text") from None
    try:
        value: Value = loads(data)
    except InputError as exc:
        raise InputError(
            f"the value must be JSON ({exc.message})",
            hints=["a string needs JSON quotes: '\"text\"', or pass --string"],
        ) from None
    return value


def _current(doc: Value, steps: list[str | int]) -> object:
    from kseal.errors import TreePathError
    from kseal.sops.engine import lookup
    from kseal.sops.tree import Branch

    if not isinstance(doc, Branch):
        return None
    try:
        return _plain(lookup(doc, steps))
    except TreePathError:
        return _MISSING


_MISSING = object()


def _plain(value: Value) -> object:
    from kseal.sops.tree import to_plain

    return to_plain(value)


def _open(file: str, input_type: str | None) -> tuple[Decrypted, Store]:
    from kseal.cli.common import decrypt_to_change
    from kseal.fileio import read_input

    store, _ = stores_for(file, None, input_type, None)
    if not store.structured:
        raise InputError(f"{file}: set and unset need a structured file (yaml, json, dotenv, ini)")
    return decrypt_to_change(file, read_input(file), store, keep_stash=True), store


def unset(
    file: FileArg,
    path: PathArg,
    idempotent: Annotated[
        bool, typer.Option("--idempotent", help="Succeed without change when PATH is absent.")
    ] = False,
    input_type: InputType = None,
) -> None:
    """Remove one key or list item from FILE in place, like 'sops unset'."""
    from kseal.errors import PathNotFoundError, TreePathError
    from kseal.sops.workflows import unset_path

    steps = _set_path(path)
    dec, store = _open(file, input_type)
    try:
        if not dec.docs:
            raise TreePathError(f"component [{steps[0]!r}] not found")
        unset_path(dec.docs[0], steps)
    except TreePathError as err:
        if idempotent:
            sys.stderr.write("kseal: the path is absent; the file is unchanged\n")
            return
        raise PathNotFoundError(err.message, hints=err.hints) from None  # exit 1, as sops
    save_reencrypted(file, dec, store, dec.source)


def filestatus(file: FileArg, input_type: InputType = None) -> None:
    """Print {"encrypted":true} or {"encrypted":false} for FILE, like 'sops filestatus'."""
    from kseal.errors import KsealError, NoFileError
    from kseal.fileio import read_input

    store, _ = stores_for(file, None, input_type, None)
    try:
        data = read_input(file)
    except NoFileError as err:
        raise KsealError(err.message, hints=err.hints) from None  # exit 1, as sops
    from kseal.sopsfile import has_sops_metadata

    encrypted = has_sops_metadata(data, store.name)
    sys.stdout.write('{"encrypted":%s}\n' % ("true" if encrypted else "false"))


def register(app: typer.Typer) -> None:
    app.command("set")(set_)
    app.command("unset")(unset)
    app.command("filestatus")(filestatus)
