"""``kseal keygen``: make an age identity (the age-keygen file format), or print its recipient."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from kseal.errors import InputError, OutputError


def keygen(
    output: Annotated[
        str | None,
        typer.Option("-o", "--output", help="Write the identity to this file (mode 0600)."),
    ] = None,
    pq: Annotated[
        bool,
        typer.Option(
            "--pq",
            help="Make a post-quantum (ML-KEM-768 + X25519) identity, like age-keygen -pq.",
        ),
    ] = False,
    convert: Annotated[
        bool,
        typer.Option("-y", help="Print the public recipient of each identity in INPUT."),
    ] = False,
    input_file: Annotated[
        str | None,
        typer.Argument(metavar="INPUT", help="Identity file for -y (stdin if absent)."),
    ] = None,
) -> None:
    """Generate an age identity, like age-keygen; the public key goes to stderr.

    Missing parent directories of the output file are created with mode 0700.
    """
    from kseal import agekey
    from kseal.fileio import read_input, write_output

    if convert:
        text = read_input(input_file).decode("utf-8", "replace")
        publics = [i.to_public() for i in agekey.parse_identities(text, input_file or "stdin")]
        if not publics:
            raise InputError("no identity found in the input")
        write_output(output, "".join(p + "\n" for p in publics).encode(), plaintext=False)
        return
    if input_file is not None:
        raise InputError("an INPUT file is only used with -y")
    secret, public = agekey.generate_identity(pq=pq)
    data = agekey.format_key_file(secret, public, datetime.now().astimezone()).encode()
    if output is not None and output != "-":
        if Path(output).exists():
            raise OutputError(f"{output}: file exists; refusing to overwrite an identity")
        _make_parents(Path(output))
        write_output(output, data, plaintext=True)
        sys.stderr.write(f"Public key: {public}\n")
    else:
        write_output(None, data, plaintext=True)


def _make_parents(path: Path) -> None:
    """Create the missing directories above ``path``, each with mode 0700 (keys live there)."""
    missing = []
    parent = path.absolute().parent
    while not parent.exists() and parent != parent.parent:
        missing.append(parent)
        parent = parent.parent
    for directory in reversed(missing):
        try:
            directory.mkdir(mode=0o700)
            directory.chmod(0o700)
        except FileExistsError:
            continue
        except OSError as exc:
            raise OutputError(
                f"{path}: cannot create the directory {directory}: {exc.strerror}"
            ) from None


def register(app: typer.Typer) -> None:
    app.command("keygen")(keygen)
