"""The sealing certificate: ``kseal cert`` (``kseal keys`` is in :mod:`kseal.cli.keys`)."""

from __future__ import annotations

import sys
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


def register(app: typer.Typer) -> None:
    app.command("cert")(cert)
