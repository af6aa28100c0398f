"""``kseal edit``: decrypt into a private temporary file, open an editor, re-encrypt on save.

The plaintext lives only in a 0600 file inside a fresh 0700 directory on a RAM-backed file system
when there is one (``$XDG_RUNTIME_DIR``, ``/dev/shm``); it is overwritten and removed whatever
happens (success, no change, invalid input, editor failure, Ctrl-C, SIGTERM/SIGHUP). Values that
did not change keep their ciphertext, so the Git diff shows only the edit.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from kseal.cli.common import stores_for
from kseal.cli.options import Config, IgnoreMac, InputType
from kseal.errors import ExitCode

TEMPLATES = {
    "yaml": "# A new file: kseal encrypts every value when you save and quit.\n"
    "hello: Welcome to kseal! Replace these lines with your secrets.\n"
    "example_key: example_value\n",
    "json": '{\n\t"hello": "Welcome to kseal! Replace these lines with your secrets.",\n'
    '\t"example_key": "example_value"\n}\n',
    "dotenv": "hello=Welcome to kseal! Replace these lines with your secrets.\n"
    "example_key=example_value\n",
    "ini": "[section]\nhello = Welcome to kseal! Replace these lines with your secrets.\n"
    "example_key = example_value\n",
    "binary": "Welcome to kseal! Replace this text with your secret.\n",
}


def edit(
    file: Annotated[str, typer.Argument(metavar="FILE", help="The file (created if absent).")],
    input_type: InputType = None,
    age: Annotated[
        str | None, typer.Option("-a", "--age", help="Recipients for a new file (comma-separated).")
    ] = None,
    ignore_mac: IgnoreMac = False,
    config: Config = None,
) -> None:
    """Edit an encrypted FILE in $SOPS_EDITOR/$EDITOR, like 'sops edit'."""
    from kseal.cli.edit_flow import edit_existing, edit_new

    store, _ = stores_for(file, None, input_type, None)
    if Path(file).exists():
        changed = edit_existing(file, store, ignore_mac=ignore_mac)
    else:
        changed = edit_new(file, store, age=age, config=config, template=TEMPLATES[store.name])
    if not changed:
        sys.stderr.write("kseal: the file has not changed; nothing written\n")
        raise typer.Exit(ExitCode.NOT_MODIFIED)


def register(app: typer.Typer) -> None:
    app.command("edit")(edit)
