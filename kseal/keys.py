"""RSA key material for sealed resources: certificates, fingerprints, expiry, key generation.

Parses bytes; opens no files. Controller certificates carry a KeyUsage extension (EncipherOnly
without KeyAgreement) that ``cryptography`` refuses to parse, so nothing here touches
``cert.extensions``: the public key and validity are read directly.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from kseal.errors import KeyMaterialError

if TYPE_CHECKING:
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey


@dataclass(frozen=True)
class Certificate:
    public_key: RSAPublicKey
    not_before: datetime
    not_after: datetime
    fingerprint: str
    pem: bytes

    def check_valid(self, now: datetime) -> None:
        if now > self.not_after:
            raise KeyMaterialError(
                f"failed to encrypt using an expired certificate on {self.not_after:%B %-d, %Y}",
                hints=[
                    "fetch the controller's current certificate (kseal cert > cert.pem) and re-seal"
                ],
            )


def fingerprint(public_key: RSAPublicKey) -> str:
    """``SHA256:<unpadded base64>`` of the SSH wire form: the key id the controller uses."""
    from cryptography.hazmat.primitives import serialization

    openssh = public_key.public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
    )
    blob = base64.b64decode(openssh.split()[1])
    return "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")


def load_certificate(data: bytes) -> Certificate:
    """The first certificate of a PEM bundle (as kubeseal), which must hold an RSA key."""
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

    start = data.find(b"-----BEGIN CERTIFICATE-----")
    if start < 0:
        raise KeyMaterialError(
            "no certificate found (expected a PEM 'BEGIN CERTIFICATE' block)",
            hints=["get it with 'kseal cert > cert.pem' or 'kubeseal --fetch-cert'"],
        )
    end = data.find(b"-----END CERTIFICATE-----", start)
    try:
        cert: x509.Certificate = x509.load_pem_x509_certificate(data[start : end + 25])
    except ValueError:
        raise KeyMaterialError("the certificate is not valid PEM/X.509") from None
    key = cert.public_key()
    if not isinstance(key, RSAPublicKey):
        raise KeyMaterialError("the certificate does not hold an RSA public key")
    return Certificate(
        public_key=key,
        not_before=cert.not_valid_before_utc,
        not_after=cert.not_valid_after_utc,
        fingerprint=fingerprint(key),
        pem=data[start : end + 25] + b"\n",
    )


def load_private_key_pem(data: bytes, source: str) -> RSAPrivateKey:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError):
        raise KeyMaterialError(f"{source}: not a readable PEM private key") from None
    if not isinstance(key, RSAPrivateKey):
        raise KeyMaterialError(f"{source}: private key is not an RSA key")
    return key


def generate(
    now: datetime, *, bits: int = 4096, common_name: str = "", ttl: timedelta = timedelta(days=3650)
) -> tuple[bytes, bytes]:
    """A controller-style key pair: (PKCS#1 PEM private key, self-signed PEM certificate)."""
    import secrets

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import ExtensionOID, NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)] if common_name else [])
    start = now.astimezone(UTC).replace(microsecond=0)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(secrets.randbits(127) | 1)
        .not_valid_before(start)
        .not_valid_after(start + ttl)
        # KeyUsage EncipherOnly, exactly as the Go controller writes it (DER BIT STRING 03 02 00 01).
        .add_extension(
            x509.UnrecognizedExtension(ExtensionOID.KEY_USAGE, b"\x03\x02\x00\x01"), critical=True
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
    )
    cert = builder.sign(key, hashes.SHA256())
    private_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    return private_pem, cert.public_bytes(serialization.Encoding.PEM)
