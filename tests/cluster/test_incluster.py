"""``kseal bootstrap`` with in-cluster service-account credentials, as in a CI job that runs as a
pod: ``KUBERNETES_SERVICE_HOST``/``PORT``, the token and the CA at the service-account mount.

The emulator speaks plain HTTP, so a TLS front (a certificate for 127.0.0.1 signed by a CA made
here) stands where the API server's HTTPS endpoint would; it also records the bearer token the
client sends. The subprocess points the kubernetes client's two mount paths at files written
here (``/var/run/secrets/...`` cannot be written by a test); everything else is the real client's
in-cluster path."""

from __future__ import annotations

import asyncio
import base64
import datetime
import ipaddress
import ssl
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cluster.conftest import Env, secret_yaml

SENTINEL = "SENTINEL-incluster-4c1d"
TOKEN = "test-only-service-account-token"

LAUNCHER = """
import sys
import kubernetes.config.incluster_config as incluster
incluster.SERVICE_TOKEN_FILENAME, incluster.SERVICE_CERT_FILENAME = sys.argv[1], sys.argv[2]
sys.argv = ["kseal", *sys.argv[3:]]
from kseal.cli.main import run
run()
"""


def _tls_files(where: Path) -> tuple[Path, Path, Path]:
    """A CA certificate, and a server certificate for 127.0.0.1 with its key, signed by it."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.datetime.now(datetime.UTC)
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test-only cluster CA")])
    ca = (
        x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
        .public_key(ca_key.public_key()).serial_number(1)
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False),
                       critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    server = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kubernetes")]))
        .issuer_name(ca_name).public_key(key.public_key()).serial_number(2)
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName(
            [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                       False)
        .sign(ca_key, hashes.SHA256())
    )
    paths = where / "ca.crt", where / "server.crt", where / "server.key"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(server.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return paths


class TlsFront:
    """HTTPS on 127.0.0.1:<port>, forwarded to the emulator's plain HTTP; remembers the
    Authorization headers it saw."""

    def __init__(self, upstream: str, cert: Path, key: Path) -> None:
        host, port = upstream.removeprefix("http://").split(":")
        self.upstream = (host, int(port))
        self.context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.context.load_cert_chain(cert, key)
        self.authorizations: list[str] = []
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.server = asyncio.run_coroutine_threadsafe(self._start(), self.loop).result(10)
        self.port = self.server.sockets[0].getsockname()[1]

    async def _start(self) -> asyncio.Server:
        return await asyncio.start_server(self._handle, "127.0.0.1", 0, ssl=self.context)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(*self.upstream)

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter, sniff: bool) -> None:
            try:
                while data := await src.read(65536):
                    if sniff:
                        self.authorizations += [
                            line.split(b":", 1)[1].strip().decode()
                            for line in data.split(b"\r\n")
                            if line.lower().startswith(b"authorization:")
                        ]
                    dst.write(data)
                    await dst.drain()
            except (ConnectionError, ssl.SSLError):
                pass
            finally:
                dst.close()

        await asyncio.gather(pipe(reader, up_writer, True), pipe(up_reader, writer, False))

    def close(self) -> None:
        self.server.close()
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


def _bootstrap_in_a_pod(
    world: Env, front: TlsFront, ca: Path, tmp_path: Path
) -> subprocess.CompletedProcess[str]:
    """``kseal bootstrap db.yaml`` (a Secret holding the sentinel) as a pod runs it: no
    kubeconfig, the service host and port, the token and ``ca`` at the mount paths."""
    token = tmp_path / "token"
    token.write_text(TOKEN)
    world.encrypt("db.yaml", secret_yaml("db", password=SENTINEL))
    env = world.environ(KUBERNETES_SERVICE_HOST="127.0.0.1",
                        KUBERNETES_SERVICE_PORT=str(front.port))
    del env["KUBECONFIG"]
    return subprocess.run(
        [sys.executable, "-c", LAUNCHER, str(token), str(ca), "bootstrap", "db.yaml"],
        capture_output=True, text=True, env=env, cwd=world.root / "repo", check=False, timeout=60,
    )


@pytest.fixture
def tls_front(world: Env, tmp_path: Path) -> Iterator[tuple[TlsFront, Path]]:
    ca, cert, key = _tls_files(tmp_path)
    front = TlsFront(world.api.url, cert, key)
    yield front, ca
    front.close()


def test_bootstrap_runs_with_the_pods_service_account(
    world: Env, tls_front: tuple[TlsFront, Path], tmp_path: Path
) -> None:
    front, ca = tls_front
    out = _bootstrap_in_a_pod(world, front, ca, tmp_path)
    assert out.returncode == 0, out.stderr
    secret = world.api.get("Secret", "apps", "db")
    assert secret is not None
    assert base64.b64decode(secret["data"]["password"]).decode() == SENTINEL
    schemes_and_tokens = {tuple(a.split(" ", 1)) for a in front.authorizations}
    assert {(scheme.lower(), sent) for scheme, sent in schemes_and_tokens} == {("bearer", TOKEN)}
    assert SENTINEL not in out.stdout + out.stderr and TOKEN not in out.stdout + out.stderr


def test_an_untrusted_api_server_certificate_is_refused(
    world: Env, tls_front: tuple[TlsFront, Path], tmp_path: Path
) -> None:
    front, _ca = tls_front
    (tmp_path / "other").mkdir()
    other_ca, _cert, _key = _tls_files(tmp_path / "other")
    out = _bootstrap_in_a_pod(world, front, other_ca, tmp_path)
    assert out.returncode == 1, out.stderr
    assert out.stderr.startswith("kseal: error: ") and "Traceback" not in out.stderr
    assert "TLS certificate is not trusted" in out.stderr
    assert world.api.get("Secret", "apps", "db") is None
    assert front.authorizations == []  # the token never left over an untrusted connection
