"""Offline recovery: ``kseal unseal`` and kubeseal's ``--recovery-unseal``, from PEM private keys or
the controller's key Secrets (``kubectl get secret -l sealedsecrets.bitnami.com/sealed-secrets-key
-o yaml``)."""

from __future__ import annotations

from typing import Annotated

import typer

from kseal.cli.sealing import format_for, private_keys
from kseal.errors import InputError


def unseal_all(
    inputs: list[str | None], key_paths: list[str], option: str, fmt: str, output: str | None
) -> None:
    """Unseal every SealedSecret of every input, then write them all at once: one YAML stream
    (or concatenated JSON objects), so ``--output`` holds all of them and a failure writes none."""
    from kseal import manifests, secret
    from kseal.fileio import read_input, write_output

    private = private_keys(key_paths, option)
    fmt = format_for(output, fmt)
    out = []
    for path in inputs:
        try:
            docs = secret.expand(manifests.load(read_input(path)))
            if not docs:
                raise InputError("no SealedSecret found in the input")
            for doc in docs:
                plain = secret.unseal_sealed_secret(doc, private)
                out.append(
                    manifests.dump_yaml(plain) if fmt == "yaml" else manifests.dump_json(plain)
                )
        except InputError as err:
            if path is None or path == "-":
                raise
            raise InputError(f"{path}: {err.message}", hints=err.hints) from None
    write_output(output, "".join(out).encode(), plaintext=True)


def unseal(
    files: Annotated[
        list[str] | None,
        typer.Argument(metavar="[FILE]...", help="SealedSecret files (stdin if none)."),
    ] = None,
    private_key: Annotated[
        list[str] | None,
        typer.Option(
            "-k", "--private-key", help="Private key PEM or key Secret backup (repeatable)."
        ),
    ] = None,
    fmt: Annotated[str, typer.Option("-o", "--format", help="json or yaml.")] = "yaml",
    output: Annotated[str | None, typer.Option("--output", help="Write here (mode 0600).")] = None,
) -> None:
    """Decrypt SealedSecrets offline with the controller's private keys (recovery)."""
    inputs: list[str | None] = list(files) if files else [None]
    unseal_all(inputs, private_key or [], "-k/--private-key", fmt, output)


def register(app: typer.Typer) -> None:
    app.command("unseal")(unseal)
