"""The 8080 API on a real socket with fake handlers (kseal_controller.http)."""

from __future__ import annotations

import http.client
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from kseal_controller import http as api
from kseal_controller.http import Gcra
from kseal_controller.metrics import Metrics

SENTINEL = "SENTINEL-5f3a9c"
CERT = b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
SS = json.dumps({"apiVersion": "bitnami.com/v1alpha1", "kind": "SealedSecret",
                 "metadata": {"name": "db", "namespace": "prod"},
                 "spec": {"encryptedData": {"password": "AgB" + SENTINEL}}}).encode()


@dataclass
class FakeHandlers:
    cert: bytes | None = CERT
    valid: bool = True
    fail: Exception | None = None
    bodies: list[bytes] = field(default_factory=list)

    def cert_pem(self) -> bytes | None:
        if self.fail:
            raise self.fail
        return self.cert

    def verify(self, body: bytes) -> bool:
        self.bodies.append(body)
        if self.fail:
            raise self.fail
        return self.valid

    def rotate(self, body: bytes) -> bytes:
        self.bodies.append(body)
        if self.fail:
            raise self.fail
        return b'{"kind":"SealedSecret"}'


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Env:
    handlers: FakeHandlers
    metrics: Metrics
    port: int
    clock: Clock

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            resp = conn.getresponse()
            return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
        finally:
            conn.close()

    def count(self, path: str, code: int, method: str) -> float:
        value = self.metrics.value("sealed_secrets_controller_http_requests_total",
                                   {"path": path, "code": str(code), "method": method})
        return value or 0.0


@pytest.fixture
def env() -> Iterator[Env]:
    handlers, metrics, clock = FakeHandlers(), Metrics(), Clock()
    server = api.serve("127.0.0.1:0", handlers, metrics, rate=2, burst=2, clock=clock,
                       max_body=64 * 1024, poll_interval=0.01)
    try:
        yield Env(handlers, metrics, server.port, clock)
    finally:
        server.shutdown()


def test_healthz(env: Env) -> None:
    status, headers, body = env.request("GET", "/healthz")
    assert (status, body) == (200, b"ok\n")
    assert headers["content-type"] == "text/plain; charset=utf-8"
    assert env.count("/healthz", 200, "get") == 1


def test_cert_pem(env: Env) -> None:
    status, headers, body = env.request("GET", "/v1/cert.pem")
    assert (status, body) == (200, CERT)
    assert headers["content-type"] == "application/x-pem-file"


def test_cert_pem_without_a_key_is_500(env: Env) -> None:
    env.handlers.cert = None
    status, _, body = env.request("GET", "/v1/cert.pem")
    assert (status, body) == (500, b"cannot get certificate\n")
    assert env.count("/v1/cert.pem", 500, "get") == 1


def test_cert_pem_handler_error_is_500(env: Env) -> None:
    env.handlers.fail = RuntimeError("registry broken")
    status, _, body = env.request("GET", "/v1/cert.pem")
    assert (status, body) == (500, b"cannot get certificate\n")


def test_verify_decryptable_is_200(env: Env) -> None:
    status, headers, body = env.request("POST", "/v1/verify", SS)
    assert (status, body) == (200, b"")
    assert env.handlers.bodies == [SS]
    assert headers["x-ratelimit-limit"] == "3"
    assert env.count("/v1/verify", 200, "post") == 1


def test_verify_not_decryptable_is_409(env: Env) -> None:
    env.handlers.valid = False
    status, _, _ = env.request("POST", "/v1/verify", SS)
    assert status == 409
    assert env.count("/v1/verify", 409, "post") == 1


def test_verify_accepts_yaml(env: Env) -> None:
    status, _, _ = env.request("POST", "/v1/verify", b"kind: SealedSecret\nmetadata: {name: a}\n")
    assert status == 200


def test_verify_parse_error_is_500_and_handler_not_called(env: Env) -> None:
    status, _, body = env.request("POST", "/v1/verify", b"{" + SENTINEL.encode() + b": [")
    assert status == 500
    assert SENTINEL.encode() not in body
    assert env.handlers.bodies == []


def test_verify_refuses_multi_document_yaml_with_the_originals_message(env: Env) -> None:
    status, _, body = env.request("POST", "/v1/verify", b"kind: SealedSecret\n---\nkind: SealedSecret\n")
    assert status == 500
    assert body.decode().strip() == api.MULTISTREAM
    assert env.handlers.bodies == []


def test_verify_handler_value_error_is_500_without_echo(env: Env) -> None:
    env.handlers.fail = ValueError("unexpected resource type")
    status, _, body = env.request("POST", "/v1/verify", SS)
    assert status == 500
    assert SENTINEL.encode() not in body


def test_verify_is_rate_limited_per_forwarded_for(env: Env) -> None:
    headers = {"X-Forwarded-For": "10.0.0.1"}
    codes = [env.request("POST", "/v1/verify", SS, headers)[0] for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    status, hdrs, body = env.request("POST", "/v1/verify", SS, headers)
    assert (status, body) == (429, b"limit exceeded\n")
    assert hdrs["retry-after"] == "1" and hdrs["x-ratelimit-remaining"] == "0"
    # another client has its own bucket
    assert env.request("POST", "/v1/verify", SS, {"X-Forwarded-For": "10.0.0.2"})[0] == 200
    # time refills the bucket
    env.clock.now += 0.5
    assert env.request("POST", "/v1/verify", SS, headers)[0] == 200
    assert env.count("/v1/verify", 429, "post") == 2


def test_rotate_returns_json(env: Env) -> None:
    status, headers, body = env.request("POST", "/v1/rotate", SS)
    assert (status, body) == (200, b'{"kind":"SealedSecret"}')
    assert headers["content-type"] == "application/json"
    assert env.count("/v1/rotate", 200, "post") == 1


def test_rotate_error_is_500_without_echo(env: Env) -> None:
    env.handlers.fail = ValueError("no key could decrypt secret (password)")
    status, _, body = env.request("POST", "/v1/rotate", SS)
    assert status == 500
    assert SENTINEL.encode() not in body


def test_rotate_is_not_rate_limited(env: Env) -> None:
    assert [env.request("POST", "/v1/rotate", SS)[0] for _ in range(5)] == [200] * 5


def test_any_method_is_accepted(env: Env) -> None:
    for method in ("GET", "PUT", "PATCH", "DELETE", "BREW"):
        assert env.request(method, "/healthz")[0] == 200
    assert env.count("/healthz", 200, "unknown") == 1
    assert env.request("GET", "/v1/verify", SS)[0] == 200


def test_head_has_no_body(env: Env) -> None:
    status, headers, body = env.request("HEAD", "/healthz")
    assert (status, body) == (200, b"")
    assert headers["content-length"] == "3"


def test_unknown_path_is_404_and_counted_as_other(env: Env) -> None:
    status, _, body = env.request("GET", "/v1/" + SENTINEL)
    assert status == 404
    assert SENTINEL.encode() not in body
    assert env.count("other", 404, "get") == 1
    assert SENTINEL not in env.metrics.exposition().decode()


def test_query_string_is_ignored_for_routing(env: Env) -> None:
    assert env.request("GET", "/healthz?x=1")[0] == 200


def test_too_large_body_is_413(env: Env) -> None:
    import socket

    with socket.create_connection(("127.0.0.1", env.port), timeout=5) as sock:
        sock.sendall(b"POST /v1/rotate HTTP/1.1\r\nHost: x\r\nContent-Length: 65537\r\n\r\n")
        data = sock.makefile("rb").read()
    assert data.startswith(b"HTTP/1.1 413 ")
    assert data.endswith(b"\r\n\r\nrequest body too large\n")
    assert env.handlers.bodies == []
    assert env.count("/v1/rotate", 413, "post") == 1


def test_chunked_body_is_read(env: Env) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", env.port, timeout=5)
    try:
        conn.request("POST", "/v1/rotate", body=iter([SS[:10], SS[10:]]),
                     headers={"Transfer-Encoding": "chunked"}, encode_chunked=True)
        resp = conn.getresponse()
        assert resp.status == 200
        resp.read()
    finally:
        conn.close()
    assert env.handlers.bodies == [SS]


def test_keep_alive_connection_serves_several_requests(env: Env) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", env.port, timeout=5)
    try:
        for _ in range(3):
            conn.request("GET", "/healthz")
            resp = conn.getresponse()
            assert resp.read() == b"ok\n"
    finally:
        conn.close()


def test_malformed_request_line_is_not_echoed(env: Env) -> None:
    import socket

    with socket.create_connection(("127.0.0.1", env.port), timeout=5) as sock:
        sock.sendall(b"GET /" + SENTINEL.encode() + b" HTTP/9.9 extra\r\n\r\n")
        data = sock.recv(65536)
    assert data.startswith(b"HTTP/1.")
    assert SENTINEL.encode() not in data


def test_concurrent_requests(env: Env) -> None:
    results: list[int] = []

    def hit() -> None:
        results.append(env.request("GET", "/v1/cert.pem")[0])

    threads = [threading.Thread(target=hit) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [200] * 8


def test_handler_crash_is_500_and_logged_without_the_body(
    env: Env, caplog: pytest.LogCaptureFixture
) -> None:
    env.handlers.fail = RuntimeError("bug")
    status, _, body = env.request("POST", "/v1/verify", SS)
    assert (status, body) == (500, b"internal error\n")
    assert SENTINEL not in caplog.text


# --- GCRA maths ---------------------------------------------------------------------------


def test_gcra_allows_burst_plus_one_then_the_rate() -> None:
    gcra = Gcra(rate=2, burst=2)
    decisions = [gcra.check("k", 0.0) for _ in range(4)]
    assert [d.allowed for d in decisions] == [True, True, True, False]
    assert [d.remaining for d in decisions[:3]] == [2, 1, 0]
    assert decisions[3].retry_after == pytest.approx(0.5)
    assert not gcra.check("k", 0.4).allowed
    assert gcra.check("k", 0.5).allowed
    assert not gcra.check("k", 0.5).allowed
    assert gcra.check("k", 1.0).allowed


def test_gcra_refills_fully_after_idle_time() -> None:
    gcra = Gcra(rate=1, burst=0)
    assert gcra.check("k", 0.0).allowed
    assert not gcra.check("k", 0.5).allowed
    assert gcra.check("k", 10.0).allowed
    assert gcra.check("k", 10.0).reset_after == pytest.approx(1.0)


def test_gcra_keys_are_independent_and_bounded() -> None:
    gcra = Gcra(rate=1, burst=0, max_keys=2)
    assert gcra.check("a", 0).allowed and gcra.check("b", 0).allowed
    assert not gcra.check("a", 0).allowed
    assert gcra.check("c", 0).allowed  # evicts the least recently stored key, "a"
    assert not gcra.check("b", 0).allowed
    assert gcra.check("a", 0).allowed


def test_gcra_refuses_bad_parameters() -> None:
    with pytest.raises(ValueError):
        Gcra(rate=0, burst=1)
    with pytest.raises(ValueError):
        Gcra(rate=1, burst=-1)


def test_rate_key_is_path_and_forwarded_for() -> None:
    assert api.rate_key("/v1/verify", "10.0.0.1") != api.rate_key("/v1/verify", "10.0.0.2")
    assert api.rate_key("/v1/verify", None) == api.rate_key("/v1/verify", "")


def test_parse_sealed_secret() -> None:
    assert api.parse_sealed_secret(SS)["kind"] == "SealedSecret"
    for bad in (b"", b"- a\n", b"\xff", b"a: 1\n---\nb: 2\n"):
        with pytest.raises(api.BadRequest):
            api.parse_sealed_secret(bad)
