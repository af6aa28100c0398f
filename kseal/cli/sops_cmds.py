"""``kseal encrypt`` and ``kseal decrypt``: sops's flags and meanings, kseal's error messages."""

from __future__ import annotations

import os
import sys
from datetime import UTC
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from kseal.cli.common import stores_for, unwrap
from kseal.errors import ConflictError

if TYPE_CHECKING:
    from kseal.sops.config import CreationRule
    from kseal.sops.rules import Rules

InPlace = Annotated[bool, typer.Option("-i", "--in-place", help="Write the result over FILE.")]
Output = Annotated[str | None, typer.Option("--output", help="Write the result to this file.")]
InputType = Annotated[
    str | None,
    typer.Option(
        "--input-type", help="yaml, json, dotenv, ini or binary (default: from the name)."
    ),
]
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
FileArg = Annotated[
    str | None, typer.Argument(metavar="FILE", help="The file (stdin when absent or '-').")
]


def _destination(file: str | None, in_place: bool, output: str | None) -> str | None:
    if in_place and output:
        raise ConflictError("--in-place and --output cannot be used together")
    if in_place:
        if file in (None, "-"):
            raise ConflictError("--in-place needs a FILE, not stdin")
        return file
    return output


def _rules_from_flags(base: Rules | None, **flags: str | bool | None) -> Rules:
    from kseal.sops.rules import RULE_NAMES, Rules

    chosen = {k: v for k, v in flags.items() if k in RULE_NAMES and v}
    if chosen:
        values: dict[str, str] = {k: str(v) for k, v in chosen.items()}
    else:
        values = {k: getattr(base, k) for k in RULE_NAMES} if base is not None else {}
    mac_only = bool(flags.get("mac_only_encrypted")) or bool(base and base.mac_only_encrypted)
    return Rules(**values, mac_only_encrypted=mac_only)


def encrypt(
    file: FileArg = None,
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
    config: Annotated[
        str | None, typer.Option("--config", help="Path to .sops.yaml (default: search upwards).")
    ] = None,
    indent: Indent = None,
) -> None:
    """Encrypt FILE for age recipients, like 'sops encrypt'."""
    from datetime import datetime

    from kseal import agekey
    from kseal.fileio import read_input, write_output
    from kseal.sops import engine

    destination = _destination(file, in_place, output)
    in_store, out_store = stores_for(file, filename_override, input_type, output_type)
    recipients, rule_rules = _recipients_and_rules(age, file, filename_override, config)
    rules = _rules_from_flags(
        rule_rules,
        unencrypted_suffix=unencrypted_suffix,
        encrypted_suffix=encrypted_suffix,
        unencrypted_regex=unencrypted_regex,
        encrypted_regex=encrypted_regex,
        unencrypted_comment_regex=unencrypted_comment_regex,
        encrypted_comment_regex=encrypted_comment_regex,
        mac_only_encrypted=mac_only_encrypted,
    )
    for r in recipients:
        agekey.parse_recipient(r)
    data = read_input(file)
    result = engine.encrypt(
        data,
        in_store,
        out_store,
        engine.EncryptOptions(recipients=recipients, rules=rules, indent=indent),
        wrap=agekey.wrap_key,
        random=os.urandom,
        now=datetime.now(UTC),
    )
    write_output(destination, result, plaintext=False)


def _recipients_and_rules(
    age: str | None, file: str | None, override: str | None, config: str | None
) -> tuple[list[str], Rules | None]:
    from kseal.identities import recipients_from_env

    if age:
        return [r.strip() for r in age.split(",") if r.strip()], None
    env_recipients = recipients_from_env(os.environ)
    if env_recipients:
        return env_recipients, None
    rule = _creation_rule(file, override, config)
    if rule is None:
        return [], None
    if rule.key_groups:
        from kseal.errors import ConfigError

        raise ConfigError(
            "this creation rule uses key_groups, which kseal cannot write yet",
            hints=["use a flat 'age:' list in the rule, or encrypt this file with sops"],
        )
    return list(rule.age), rule.rules


def _creation_rule(
    file: str | None, override: str | None, config: str | None
) -> CreationRule | None:
    from kseal.fileio import read_input
    from kseal.sops.config import find_config, load_config, misnamed_config

    path = config or os.environ.get("SOPS_CONFIG")
    config_path = Path(path) if path else find_config(Path.cwd())
    if config_path is None:
        stray = misnamed_config(Path.cwd())
        if stray is not None:
            sys.stderr.write(
                f"kseal: warning: {stray} is ignored: the file must be named .sops.yaml\n"
            )
        return None
    cfg = load_config(read_input(str(config_path)).decode("utf-8"), config_path)
    target = override or (file if file not in (None, "-") else None)
    if target is None:
        return None
    return cfg.rule_for(Path(target))


def decrypt(
    file: FileArg = None,
    in_place: InPlace = False,
    output: Output = None,
    input_type: InputType = None,
    output_type: OutputType = None,
    extract: Annotated[
        str | None,
        typer.Option("--extract", help='Print only this path, e.g. \'["data"]["password"]\'.'),
    ] = None,
    ignore_mac: Annotated[
        bool, typer.Option("--ignore-mac", help="Skip the integrity check (dangerous).")
    ] = False,
    filename_override: Override = None,
    indent: Indent = None,
) -> None:
    """Decrypt FILE with your age identities, like 'sops decrypt'."""
    from kseal.fileio import read_input, write_output
    from kseal.sops import engine

    destination = _destination(file, in_place, output)
    in_store, out_store = stores_for(file, filename_override, input_type, output_type)
    data = read_input(file)
    result = engine.decrypt(
        data,
        in_store,
        out_store,
        unwrap=unwrap,
        ignore_mac=ignore_mac,
        extract=extract,
        indent=indent,
    )
    write_output(destination, result, plaintext=True)
    if ignore_mac:
        sys.stderr.write("kseal: warning: the MAC was not checked (--ignore-mac)\n")


def register(app: typer.Typer) -> None:
    app.command("encrypt")(encrypt)
    app.command("decrypt")(decrypt)
