"""Offline recovery: ``kseal unseal`` and kubeseal's ``--recovery-unseal``, from PEM private keys or
the controller's key Secrets (``kubectl get secret -l sealedsecrets.bitnami.com/sealed-secrets-key
-o yaml``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from kseal.errors import InputError, KsealError

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey


def private_keys(paths: list[str]) -> list[RSAPrivateKey]:
    from kseal import keys, manifests, secret
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
            import base64

            for doc in secret.expand(manifests.load(data)):
                key = (doc.get("data") or {}).get("tls.key")
                if not key:
                    raise InputError(f"{path}: secret must contain a 'tls.key' key")
                found.append(keys.load_private_key_pem(base64.b64decode(key), path))
    if not found:
        raise KsealError(
            "no private keys given",
            hints=["pass --recovery-private-key FILE (PEM or key Secret backup)"],
        )
    return found


def unseal_to(input_file: str | None, key_paths: list[str], fmt: str, output: str | None) -> None:
    from kseal import manifests, secret
    from kseal.fileio import read_input, write_output

    private = private_keys(key_paths)
    docs = secret.expand(manifests.load(read_input(input_file)))
    from kseal.cli.seal import _format_for

    fmt = _format_for(output, fmt)
    out = []
    for doc in docs:
        plain = secret.unseal_sealed_secret(doc, private)
        out.append(manifests.dump_yaml(plain) if fmt == "yaml" else manifests.dump_json(plain))
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
    for path in files or [None]:  # type: ignore[list-item]
        unseal_to(path, private_key or [], fmt, output)
