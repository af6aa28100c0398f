"""What ``seal``, ``unseal``, ``reseal``, ``cert`` and ``check --sealing-key`` share: the
certificate (a file, a URL or the controller), the controller's private keys, the output format."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kseal.errors import ExitCode, InputError, KsealError

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

    from kseal.cluster.proxy import Controller
    from kseal.keys import Certificate

ENV = "SEALED_SECRETS_"


def read_cert(cert: str | None, target: Controller | None = None) -> Certificate:
    from kseal import keys
    from kseal.fileio import read_input

    if not cert:
        if target is None:
            raise KsealError("no certificate: pass --cert FILE (or set SEALED_SECRETS_CERT)")
        from kseal.cluster import proxy as cluster

        return keys.load_certificate(cluster.fetch_certificate(target))
    if cert.startswith(("http://", "https://")):
        import urllib.request

        try:
            with urllib.request.urlopen(cert, timeout=30) as response:  # noqa: S310 - http(s) only
                data = response.read()
        except OSError as exc:
            raise KsealError(f"cannot fetch the certificate from {cert}: {exc}") from None
    else:
        data = read_input(cert.removeprefix("file://"))
    return keys.load_certificate(data)


def write_text(obj_text: str, path: str | None) -> None:
    from kseal.fileio import write_output

    write_output(path, obj_text.encode(), plaintext=False)


def format_for(path: str | None, fmt: str) -> str:
    if path and path.lower().endswith((".yaml", ".yml")):
        return "yaml"
    if fmt not in ("json", "yaml"):
        raise KsealError(f"unsupported output format: {fmt}", exit_code=ExitCode.USAGE)
    return fmt


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
