"""``kseal encrypt`` and ``kseal decrypt``: sops's flags and meanings, kseal's error messages."""

from __future__ import annotations

import os
import sys
from datetime import UTC
from typing import TYPE_CHECKING, Annotated

import typer

from kseal.cli.common import stores_for, unwrap
from kseal.cli.creation import recipients_and_rules, rules_from_flags
from kseal.cli.options import Config, IgnoreMac, InputType
from kseal.errors import ConflictError

if TYPE_CHECKING:
    pass

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

    flags = {
        "unencrypted_suffix": unencrypted_suffix,
        "encrypted_suffix": encrypted_suffix,
        "unencrypted_regex": unencrypted_regex,
        "encrypted_regex": encrypted_regex,
        "unencrypted_comment_regex": unencrypted_comment_regex,
        "encrypted_comment_regex": encrypted_comment_regex,
        "mac_only_encrypted": mac_only_encrypted,
    }

    def one(file: str | None, destination: str | None, many: bool) -> str:
        return _encrypt_one(
            file,
            destination,
            input_type,
            output_type,
            age,
            flags,
            filename_override,
            config,
            indent,
            shamir_threshold,
            many,
        )

    paths = files or []
    if bulk.is_bulk(paths):
        _bulk_checks(paths, in_place, output, filename_override)
        targets = bulk.expand(paths)
        raise typer.Exit(bulk.run("encrypt", targets, lambda p: one(str(p), str(p), True)))
    file = paths[0] if paths else None
    one(file, _destination(file, in_place, output), False)


def _bulk_checks(
    paths: list[str], in_place: bool, output: str | None, override: str | None
) -> None:
    from kseal.cli.bulk import in_place_only

    if output or override:
        raise ConflictError("--output and --filename-override take a single FILE")
    in_place_only(paths, in_place, "changed")


def _encrypt_one(
    file: str | None,
    destination: str | None,
    input_type: str | None,
    output_type: str | None,
    age: str | None,
    flags: dict[str, str | bool | None],
    override: str | None,
    config: str | None,
    indent: int | None,
    threshold: int | None,
    many: bool,
) -> str:
    from datetime import datetime

    from kseal import agekey
    from kseal.cli.bulk import Skip
    from kseal.errors import AlreadyEncryptedError, NoMatchingRuleError
    from kseal.fileio import read_input, write_output
    from kseal.sops import engine

    if file in (None, "-") and not override and not input_type:
        raise ConflictError(
            "reading from stdin, kseal cannot tell the file's format or its .sops.yaml rule",
            hints=[
                "pass --filename-override NAME (e.g. secrets/db.yaml: format and rule), "
                "or --input-type yaml|json|dotenv|ini|binary",
            ],
        )
    in_store, out_store = stores_for(file, override, input_type, output_type)
    try:
        groups, rule_threshold, rule_rules = recipients_and_rules(age, file, override, config)
    except NoMatchingRuleError:
        if many:
            raise Skip("no .sops.yaml creation rule matches it") from None
        raise
    rules = rules_from_flags(rule_rules, **flags)
    for group in groups:
        for r in group:
            agekey.parse_recipient(r)
    data = read_input(file)
    options = engine.EncryptOptions(
        groups=groups,
        rules=rules,
        indent=indent,
        shamir_threshold=threshold if threshold is not None else rule_threshold,
    )
    try:
        result = engine.encrypt(
            data,
            in_store,
            out_store,
            options,
            wrap=agekey.wrap_key,
            random=os.urandom,
            now=datetime.now(UTC),
            verify=destination not in (None, "-"),
        )
    except AlreadyEncryptedError:
        if many:
            raise Skip("already encrypted") from None
        raise
    write_output(destination, result, plaintext=False)
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
    if bulk.is_bulk(paths):
        _bulk_checks(paths, in_place, output, filename_override)
        if extract:
            raise ConflictError("--extract takes a single FILE")
        targets = bulk.expand(paths)
        code = bulk.run(
            "decrypt",
            targets,
            lambda p: _decrypt_one(
                str(p), str(p), input_type, output_type, None, ignore_mac, None, indent, True
            ),
        )
        raise typer.Exit(code)
    file = paths[0] if paths else None
    _decrypt_one(
        file,
        _destination(file, in_place, output),
        input_type,
        output_type,
        extract,
        ignore_mac,
        filename_override,
        indent,
        False,
    )
    if ignore_mac:
        sys.stderr.write("kseal: warning: the MAC was not checked (--ignore-mac)\n")


def _decrypt_one(
    file: str | None,
    destination: str | None,
    input_type: str | None,
    output_type: str | None,
    extract: str | None,
    ignore_mac: bool,
    override: str | None,
    indent: int | None,
    many: bool,
) -> str:
    from kseal.cli.bulk import Skip, skip_if_plain
    from kseal.errors import NotEncryptedError
    from kseal.fileio import read_input, write_output
    from kseal.sops import engine

    in_store, out_store = stores_for(file, override, input_type, output_type)
    data = read_input(file)
    if many:
        skip_if_plain(data)
    in_clear: list[str] = []
    try:
        result = engine.decrypt(
            data,
            in_store,
            out_store,
            unwrap=unwrap,
            ignore_mac=ignore_mac,
            extract=extract,
            indent=indent,
            in_clear=in_clear,
        )
    except NotEncryptedError:
        if many:
            raise Skip("not encrypted") from None
        raise
    write_output(destination, result, plaintext=True)
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
    _encrypt_one(file, file, None, None, None, {}, None, None, None, None, False)
