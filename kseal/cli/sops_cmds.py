"""``kseal encrypt`` and ``kseal decrypt``: sops's flags and meanings, kseal's error messages."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC
from typing import TYPE_CHECKING, Annotated

import typer

from kseal.cli.common import stores_for, unwrap
from kseal.cli.creation import recipients_and_rules, rules_from_flags
from kseal.cli.options import Config, IgnoreMac, InputType
from kseal.errors import ConflictError

if TYPE_CHECKING:
    from pathlib import Path


@dataclass(frozen=True)
class EncryptRequest:
    """One ``kseal encrypt``: where from and to, and every option (bulk mode makes one per
    file with :meth:`on`)."""

    source: str | None
    destination: str | None
    input_type: str | None = None
    output_type: str | None = None
    age: str | None = None
    flags: Mapping[str, str | bool | None] = field(default_factory=dict)
    override: str | None = None
    config: str | None = None
    indent: int | None = None
    threshold: int | None = None

    def on(self, path: Path) -> EncryptRequest:
        """The same request for ``path``, in place."""
        return replace(self, source=str(path), destination=str(path))


@dataclass(frozen=True)
class DecryptRequest:
    """One ``kseal decrypt``: where from and to, and every option."""

    source: str | None
    destination: str | None
    input_type: str | None = None
    output_type: str | None = None
    extract: str | None = None
    ignore_mac: bool = False
    override: str | None = None
    indent: int | None = None

    def on(self, path: Path) -> DecryptRequest:
        """The same request for ``path``, in place."""
        return replace(self, source=str(path), destination=str(path))


InPlace = Annotated[bool, typer.Option("-i", "--in-place", help="Write the result over FILE.")]
Output = Annotated[str | None, typer.Option("--output", help="Write the result to this file.")]
OutputType = Annotated[
    str | None, typer.Option("--output-type", help="Format to write (default: the input format).")
]
Override = Annotated[
    str | None,
    typer.Option(
        "--filename-override",
        help="Use this path for format detection and .sops.yaml rules (e.g. with stdin).",
    ),
]
Indent = Annotated[
    int | None, typer.Option("--indent", help="Indentation for YAML/JSON output.", min=0)
]
Files = Annotated[
    list[str] | None,
    typer.Argument(
        metavar="FILE...",
        help="The file (stdin when absent or '-'); several files, directories or quoted globs "
        "are processed in place (-i) with a summary.",
        show_default=False,
    ),
]
Threshold = Annotated[
    int | None,
    typer.Option(
        "--shamir-secret-sharing-threshold",
        help="Key groups needed to decrypt (default: all, or the .sops.yaml rule's).",
        min=1,
    ),
]


def _destination(file: str | None, in_place: bool, output: str | None) -> str | None:
    if in_place and output:
        raise ConflictError("--in-place and --output cannot be used together")
    if in_place:
        if file in (None, "-"):
            raise ConflictError("--in-place needs a FILE, not stdin")
        return file
    return output


def encrypt(
    files: Files = None,
    in_place: InPlace = False,
    output: Output = None,
    input_type: InputType = None,
    output_type: OutputType = None,
    age: Annotated[
        str | None,
        typer.Option(
            "-a", "--age", help="Comma-separated age recipients (age1..., ssh-ed25519 ...)."
        ),
    ] = None,
    unencrypted_suffix: Annotated[
        str | None, typer.Option(help="Leave keys with this suffix in the clear.")
    ] = None,
    encrypted_suffix: Annotated[
        str | None, typer.Option(help="Encrypt only keys with this suffix.")
    ] = None,
    unencrypted_regex: Annotated[
        str | None, typer.Option(help="Leave keys matching this regex in the clear.")
    ] = None,
    encrypted_regex: Annotated[
        str | None, typer.Option(help="Encrypt only keys matching this regex.")
    ] = None,
    unencrypted_comment_regex: Annotated[
        str | None, typer.Option(help="Leave values after a comment matching this in the clear.")
    ] = None,
    encrypted_comment_regex: Annotated[
        str | None, typer.Option(help="Encrypt only values after a comment matching this.")
    ] = None,
    mac_only_encrypted: Annotated[
        bool, typer.Option("--mac-only-encrypted", help="Authenticate only the encrypted values.")
    ] = False,
    filename_override: Override = None,
    config: Config = None,
    indent: Indent = None,
    shamir_threshold: Threshold = None,
) -> None:
    """Encrypt FILE for age recipients, like 'sops encrypt'."""
    from kseal.cli import bulk
    from kseal.errors import AlreadyEncryptedError, NoMatchingRuleError

    flags = {
        "unencrypted_suffix": unencrypted_suffix,
        "encrypted_suffix": encrypted_suffix,
        "unencrypted_regex": unencrypted_regex,
        "encrypted_regex": encrypted_regex,
        "unencrypted_comment_regex": unencrypted_comment_regex,
        "encrypted_comment_regex": encrypted_comment_regex,
        "mac_only_encrypted": mac_only_encrypted,
    }
    paths = files or []
    file = paths[0] if paths else None
    request = EncryptRequest(
        file,
        None,
        input_type,
        output_type,
        age,
        flags,
        filename_override,
        config,
        indent,
        shamir_threshold,
    )
    if bulk.is_bulk(paths):
        _bulk_checks(paths, in_place, output, filename_override)
        skip = {
            AlreadyEncryptedError: "already encrypted",
            NoMatchingRuleError: "no .sops.yaml creation rule matches it",
        }
        code = bulk.run(
            "encrypt", bulk.expand(paths), lambda p: _encrypt_one(request.on(p)), skip=skip
        )
        raise typer.Exit(code)
    _encrypt_one(replace(request, destination=_destination(file, in_place, output)))


def _bulk_checks(
    paths: list[str], in_place: bool, output: str | None, override: str | None
) -> None:
    from kseal.cli.bulk import in_place_only

    if output or override:
        raise ConflictError("--output and --filename-override take a single FILE")
    in_place_only(paths, in_place, "changed")


def _encrypt_one(request: EncryptRequest) -> str:
    from datetime import datetime

    from kseal import agekey
    from kseal.fileio import read_input, write_output
    from kseal.sops import engine

    file, override, input_type = request.source, request.override, request.input_type
    if file in (None, "-") and not override and not input_type:
        raise ConflictError(
            "reading from stdin, kseal cannot tell the file's format or its .sops.yaml rule",
            hints=[
                "pass --filename-override NAME (e.g. secrets/db.yaml: format and rule), "
                "or --input-type yaml|json|dotenv|ini|binary",
            ],
        )
    in_store, out_store = stores_for(file, override, input_type, request.output_type)
    groups, rule_threshold, rule_rules = recipients_and_rules(
        request.age, file, override, request.config
    )
    rules = rules_from_flags(rule_rules, **request.flags)
    for group in groups:
        for r in group:
            agekey.parse_recipient(r)
    data = read_input(file)
    options = engine.EncryptOptions(
        groups=groups,
        rules=rules,
        indent=request.indent,
        shamir_threshold=rule_threshold if request.threshold is None else request.threshold,
    )
    result = engine.encrypt(
        data,
        in_store,
        out_store,
        options,
        wrap=agekey.wrap_key,
        random=os.urandom,
        now=datetime.now(UTC),
        verify=request.destination not in (None, "-"),
    )
    write_output(request.destination, result, plaintext=False)
    return "encrypted"


def decrypt(
    files: Files = None,
    in_place: InPlace = False,
    output: Output = None,
    input_type: InputType = None,
    output_type: OutputType = None,
    extract: Annotated[
        str | None,
        typer.Option("--extract", help='Print only this path, e.g. \'["data"]["password"]\'.'),
    ] = None,
    ignore_mac: IgnoreMac = False,
    filename_override: Override = None,
    indent: Indent = None,
) -> None:
    """Decrypt FILE with your age identities, like 'sops decrypt'."""
    from kseal.cli import bulk

    paths = files or []
    file = paths[0] if paths else None
    request = DecryptRequest(
        file, None, input_type, output_type, extract, ignore_mac, filename_override, indent
    )
    if bulk.is_bulk(paths):
        _bulk_checks(paths, in_place, output, filename_override)
        if extract:
            raise ConflictError("--extract takes a single FILE")
        code = bulk.run(
            "decrypt",
            bulk.expand(paths),
            lambda p: _decrypt_one(request.on(p)),
            skip=bulk.NOT_ENCRYPTED,
            only_encrypted=True,
        )
        raise typer.Exit(code)
    _decrypt_one(replace(request, destination=_destination(file, in_place, output)))
    if ignore_mac:
        sys.stderr.write("kseal: warning: the MAC was not checked (--ignore-mac)\n")


def _decrypt_one(request: DecryptRequest) -> str:
    from kseal.fileio import read_input, write_output
    from kseal.sops import engine

    file = request.source
    in_store, out_store = stores_for(
        file, request.override, request.input_type, request.output_type
    )
    data = read_input(file)
    in_clear: list[str] = []
    result = engine.decrypt(
        data,
        in_store,
        out_store,
        unwrap=unwrap,
        ignore_mac=request.ignore_mac,
        extract=request.extract,
        indent=request.indent,
        in_clear=in_clear,
    )
    write_output(request.destination, result, plaintext=True)
    if in_clear:
        name = file if file not in (None, "-") else "the input"
        sys.stderr.write(
            f"kseal: warning: {name}: {len(in_clear)} value(s) were not encrypted and are kept as "
            f"they are: {', '.join(in_clear)}\n"
        )
    return "decrypted"


def register(app: typer.Typer) -> None:
    app.command("encrypt")(encrypt)
    app.command("decrypt")(decrypt)


def encrypt_in_place(file: str) -> None:
    """Encrypt ``file`` in place with its ``.sops.yaml`` rule (``kseal check --fix``)."""
    _encrypt_one(EncryptRequest(file, file))
