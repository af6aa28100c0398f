"""Sealing keys and certificates: ``kseal cert`` and ``kseal keys generate``."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from kseal.cli.sealing import ENV, read_cert


def cert(
    cert_path: Annotated[
        str | None,
        typer.Option(
            "--cert",
            envvar=ENV + "CERT",
            help="Certificate file or URL (default: fetch from the controller).",
        ),
    ] = None,
    controller_name: Annotated[
        str, typer.Option("--controller-name", envvar=ENV + "CONTROLLER_NAME")
    ] = "sealed-secrets-controller",
    controller_namespace: Annotated[
        str, typer.Option("--controller-namespace", envvar=ENV + "CONTROLLER_NAMESPACE")
    ] = "kube-system",
    kubeconfig: Annotated[
        str | None, typer.Option("--kubeconfig", envvar=ENV + "KUBECONFIG")
    ] = None,
    context: Annotated[str | None, typer.Option("--context")] = None,
) -> None:
    """Print the sealing certificate (from a file, a URL or the controller) with its fingerprint and expiry."""
    from kseal.cluster.proxy import Controller

    certificate = read_cert(
        cert_path, Controller(controller_name, controller_namespace, kubeconfig, context)
    )
    sys.stderr.write(f"fingerprint: {certificate.fingerprint}\n")
    sys.stderr.write(
        f"valid: {certificate.not_before:%Y-%m-%d} to {certificate.not_after:%Y-%m-%d}\n"
    )
    sys.stdout.write(certificate.pem.decode())


keys_app = typer.Typer(
    help="Sealing keys you own (bring your own key, offline recovery).", no_args_is_help=True
)


@keys_app.command("generate")
def keys_generate(
    key_out: Annotated[str, typer.Option("--key", help="Write the private key here (mode 0600).")],
    cert_out: Annotated[str, typer.Option("--cert", help="Write the certificate here.")],
    bits: Annotated[int, typer.Option("--bits", min=2048, help="RSA key size.")] = 4096,
    common_name: Annotated[
        str, typer.Option("--cn", help="Certificate subject CN (the controller uses none).")
    ] = "",
    days: Annotated[int, typer.Option("--days", min=1, help="Certificate validity.")] = 3650,
) -> None:
    """Generate an RSA key pair with a controller-style self-signed certificate."""
    from datetime import timedelta

    from kseal import keys
    from kseal.errors import OutputError
    from kseal.fileio import write_output

    for path in (key_out, cert_out):
        if Path(path).exists():
            raise OutputError(f"{path}: file exists; refusing to overwrite key material")
    private_pem, cert_pem = keys.generate(
        datetime.now(UTC), bits=bits, common_name=common_name, ttl=timedelta(days=days)
    )
    write_output(key_out, private_pem, plaintext=True)
    write_output(cert_out, cert_pem, plaintext=False)
    sys.stderr.write(f"fingerprint: {keys.load_certificate(cert_pem).fingerprint}\n")


def register(app: typer.Typer) -> None:
    app.command("cert")(cert)
    app.add_typer(keys_app, name="keys")
