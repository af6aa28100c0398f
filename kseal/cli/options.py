"""Options several commands share, declared once (Typer ``Annotated`` aliases)."""

from __future__ import annotations

from typing import Annotated

import typer

FileArg = Annotated[str, typer.Argument(metavar="FILE", help="An encrypted file.")]
InputType = Annotated[
    str | None,
    typer.Option(
        "--input-type", help="yaml, json, dotenv, ini or binary (default: from the name)."
    ),
]
IgnoreMac = Annotated[
    bool, typer.Option("--ignore-mac", help="Skip the integrity check (dangerous).")
]
Config = Annotated[
    str | None, typer.Option("--config", help="Path to .sops.yaml (default: search upwards).")
]
