"""Offline recovery: ``kseal unseal`` and kubeseal's ``--recovery-unseal``, from PEM private keys or
the controller's key Secrets (``kubectl get secret -l sealedsecrets.bitnami.com/sealed-secrets-key
-o yaml``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from kseal.errors import InputError, KsealError

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey


def private_keys(paths: list[str], option: str | None = None) -> list[RSAPrivateKey]:
    """The keys of PEM files and key Secret backups; ``option`` is the flag that named them."""
    import base64
    import binascii

    from kseal import keys, manifests, secret, shapes
    from kseal.fileio import read_input, warn_if_exposed

    found: list[RSAPrivateKey] = []
    for spec in paths:
        for path in [p for p in spec.split(",") if p]:
            data = read_input(path)
            if path != "-":
                warn_if_exposed(path, "sealing private key")
            if b"PRIVATE KEY-----" in data and not data.lstrip().startswith(
                (b"{", b"apiVersion", b"kind")
            ):
                found.append(keys.load_private_key_pem(data, path))
                continue
            try:
                for doc in secret.expand(manifests.load(data)):
                    key = shapes.string_map(doc.get("data"), "data").get("tls.key")
                    if not key:
                        raise InputError("secret must contain a 'tls.key' key")
                    try:
                        pem = base64.b64decode(key, validate=True)
                    except (binascii.Error, ValueError):
                        raise InputError("data.tls.key is not valid base64") from None
                    found.append(keys.load_private_key_pem(pem, path))
            except InputError as err:
                raise InputError(f"{path}: {err.message}", hints=err.hints) from None
    if not found:
        raise KsealError(
            "no private keys given",
            hints=[
                f"pass {option} FILE (PEM or key Secret backup)"
                if option
                else "give a PEM private key or a key Secret backup"
            ],
        )
    return found


def unseal_all(
    inputs: list[str | None], key_paths: list[str], option: str, fmt: str, output: str | None
) -> None:
    """Unseal every SealedSecret of every input, then write them all at once: one YAML stream
    (or concatenated JSON objects), so ``--output`` holds all of them and a failure writes none."""
    from kseal import manifests, secret
    from kseal.cli.seal import _format_for
    from kseal.fileio import read_input, write_output

    private = private_keys(key_paths, option)
    fmt = _format_for(output, fmt)
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
