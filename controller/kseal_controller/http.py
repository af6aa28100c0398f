"""The controller's HTTP API on port 8080, as the Bitnami controller serves it.

=================  ==========================================================================
``/healthz``       200 ``ok`` (liveness)
``/v1/cert.pem``   the newest key's certificate, ``application/x-pem-file``; 500 ``cannot get
                   certificate`` when there is no key
``/v1/verify``     body: one SealedSecret (JSON or YAML). 200 if it can be decrypted, 409 if
                   not, 500 if it cannot be parsed (a multi-document body gets the original's
                   ``Multistream YAML not supported yet`` message). Rate limited (GCRA, keyed
                   by path and ``X-Forwarded-For``), 429 ``limit exceeded`` beyond it
``/v1/rotate``     body: one SealedSecret; 200 with it re-sealed for the newest key (JSON),
                   500 on any error
=================  ==========================================================================

Any method is accepted, as by the original (kubeseal POSTs to verify and rotate and GETs the
certificate). Bodies over :data:`MAX_BODY` get 413. Error bodies are fixed texts: nothing of the
request is ever echoed, logged or put in a metric label. Every request is recorded through
:class:`RequestRecorder` (:class:`kseal_controller.metrics.Metrics` is one).

The work itself is the integrator's :class:`Handlers`; this module only speaks HTTP. The GCRA
limiter (:class:`Gcra`) is pure: it takes ``now``.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, HTTPServer, ThreadingHTTPServer
from typing import Any, Protocol
from urllib.parse import urlsplit

from kseal.errors import InputError, KsealError
from kseal.yamlio import safe_load_all
from kseal_controller.config import split_addr
from kseal_controller.logfields import fields

log = logging.getLogger(__name__)

MAX_BODY = 2 * 1024 * 1024
MULTISTREAM = (
    "Multistream YAML not supported yet "
    "(see https://github.com/bitnami-labs/sealed-secrets/issues/114)"
)
CERT_ERROR = "cannot get certificate"
ROUTES = ("/healthz", "/v1/cert.pem", "/v1/verify", "/v1/rotate")
OTHER = "other"  # the path label of requests to any other path
TEXT = "text/plain; charset=utf-8"


class Handlers(Protocol):
    """What the endpoints do (implemented by the controller)."""

    def cert_pem(self) -> bytes | None:
        """The newest key's certificate as PEM, or None when there is no key."""
        ...

    def verify(self, body: bytes) -> bool:
        """Whether the SealedSecret in ``body`` can be decrypted; ValueError if unparsable."""
        ...

    def rotate(self, body: bytes) -> bytes:
        """The SealedSecret in ``body`` re-sealed with the newest key, as JSON."""
        ...


class RequestRecorder(Protocol):
    def http_request(self, path: str, method: str, code: int, seconds: float) -> None: ...


class BadRequest(KsealError, ValueError):
    """The request body is not one SealedSecret document (the message quotes nothing of it)."""


def parse_sealed_secret(body: bytes) -> dict[str, Any]:
    """The single JSON or YAML document of a request body (JSON is YAML)."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise BadRequest("the request body is not UTF-8 text") from None
    try:
        docs = safe_load_all(text)
    except InputError as exc:
        raise BadRequest(f"the request body cannot be parsed: {exc.message}") from None
    if len(docs) > 1:
        raise BadRequest(MULTISTREAM)
    if not docs or not isinstance(docs[0], dict):
        raise BadRequest("the request body is not a SealedSecret object")
    return docs[0]


# --- GCRA rate limiting (pure maths, the original's throttled.GCRARateLimiter) ---------------


@dataclass(frozen=True)
class Decision:
    allowed: bool
    limit: int  # requests allowed at once (burst + 1)
    remaining: int
    reset_after: float  # seconds until the bucket is full again
    retry_after: float  # seconds until a request would be allowed; -1 when allowed


class Gcra:
    """Generic cell rate algorithm: ``rate`` requests per second sustained, ``burst`` more at
    once; one theoretical arrival time per key (LRU-bounded, as the original's memstore)."""

    def __init__(self, rate: float, burst: int, max_keys: int = 65536) -> None:
        if rate <= 0 or burst < 0:
            raise ValueError("rate must be positive and burst not negative")
        self.interval = 1.0 / rate
        self.tolerance = self.interval * (burst + 1)
        self.limit = burst + 1
        self._max_keys = max_keys
        self._tat: OrderedDict[str, float] = OrderedDict()
        self._lock = threading.Lock()

    def check(self, key: str, now: float) -> Decision:
        """Count one request for ``key`` at ``now`` (seconds, any monotonic origin)."""
        with self._lock:
            tat = self._tat.get(key, now)
            new_tat = max(now, tat) + self.interval
            allow_at = new_tat - self.tolerance
            if now < allow_at:
                ttl = tat - now
                retry = allow_at - now
                allowed = False
            else:
                self._tat[key] = new_tat
                self._tat.move_to_end(key)
                if len(self._tat) > self._max_keys:
                    self._tat.popitem(last=False)
                ttl = new_tat - now
                retry = -1.0
                allowed = True
        spare = self.tolerance - ttl
        remaining = int(spare / self.interval + 1e-9) if spare > -self.interval else 0
        return Decision(allowed, self.limit, max(0, remaining), ttl, retry)


def rate_key(path: str, forwarded_for: str | None) -> str:
    """The original's VaryBy{Path, Headers: X-Forwarded-For} key."""
    return f"{(forwarded_for or '').lower()}\n{path}\n"


def _ceil(seconds: float) -> int:
    whole = int(seconds)
    return whole + (1 if seconds > whole else 0)


def rate_headers(decision: Decision) -> list[tuple[str, str]]:
    headers = [
        ("X-RateLimit-Limit", str(decision.limit)),
        ("X-RateLimit-Remaining", str(decision.remaining)),
        ("X-RateLimit-Reset", str(_ceil(decision.reset_after))),
    ]
    if decision.retry_after >= 0:
        headers.append(("Retry-After", str(_ceil(decision.retry_after))))
    return headers


# --- the server -------------------------------------------------------------------------------


class _Reject(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class _App:
    handlers: Handlers
    recorder: RequestRecorder
    limiter: Gcra
    clock: Callable[[], float]
    max_body: int


class _Handler(BaseHTTPRequestHandler):
    app: _App
    server_version = "kseal-controller"
    sys_version = ""
    protocol_version = "HTTP/1.1"

    def __getattr__(self, name: str) -> Any:
        if name.startswith("do_"):  # any method, as the original's mux
            return self._dispatch
        raise AttributeError(name)

    def _dispatch(self) -> None:
        self._start = self.app.clock()
        path = urlsplit(self.path).path
        self._route_label = path if path in ROUTES else OTHER
        self._extra: list[tuple[str, str]] = []
        try:
            self._route(self._route_label)
        except _Reject as reject:
            self._reply(reject.code, reject.message + "\n", close=True)
        except Exception as exc:  # a handler's bug: a 500, never the request in the log
            log.error("HTTP handler failed", exc_info=exc, extra=fields(path=self._route_label))
            self._reply(500, "internal error\n")

    def _route(self, route: str) -> int:
        if route == "/healthz":
            return self._reply(200, "ok\n")
        if route == "/v1/cert.pem":
            return self._cert()
        if route == "/v1/verify":
            return self._verify()
        if route == "/v1/rotate":
            return self._rotate()
        return self._reply(404, "404 page not found\n", close=self._has_body())

    def _cert(self) -> int:
        try:
            pem = self.app.handlers.cert_pem()
        except Exception as exc:
            log.error("cannot get certificate", exc_info=exc)
            pem = None
        if not pem:
            return self._reply(500, CERT_ERROR + "\n")
        return self._reply(200, pem, content_type="application/x-pem-file")

    def _verify(self) -> int:
        forwarded = self.headers.get("X-Forwarded-For")
        decision = self.app.limiter.check(rate_key("/v1/verify", forwarded), self.app.clock())
        self._extra += rate_headers(decision)
        if not decision.allowed:
            return self._reply(429, "limit exceeded\n", close=self._has_body())
        body = self._body()
        try:
            parse_sealed_secret(body)
            valid = self.app.handlers.verify(body)
        except (ValueError, KsealError) as exc:
            return self._refuse("/v1/verify", exc)
        return self._reply(200 if valid else 409, b"")

    def _rotate(self) -> int:
        body = self._body()
        try:
            parse_sealed_secret(body)
            resealed = self.app.handlers.rotate(body)
        except (ValueError, KsealError) as exc:
            return self._refuse("/v1/rotate", exc)
        return self._reply(200, resealed, content_type="application/json")

    def _refuse(self, route: str, exc: Exception) -> int:
        message = exc.message if isinstance(exc, BadRequest) else "cannot process the SealedSecret"
        log.warning("refused a request", exc_info=exc, extra=fields(path=route))
        return self._reply(500, message + "\n")

    def _has_body(self) -> bool:
        return bool(
            self.headers.get("Content-Length") not in (None, "0")
            or self.headers.get("Transfer-Encoding")
        )

    def _body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            return self._chunked()
        text = self.headers.get("Content-Length") or "0"
        if not text.isdigit():
            raise _Reject(400, "bad Content-Length")
        length = int(text)
        if length > self.app.max_body:
            raise _Reject(413, "request body too large")
        return self.rfile.read(length)

    def _chunked(self) -> bytes:
        out = bytearray()
        while True:
            size_line = self.rfile.readline(66).split(b";", 1)[0].strip()
            try:
                size = int(size_line, 16)
            except ValueError:
                raise _Reject(400, "bad chunked encoding") from None
            if size == 0:
                while self.rfile.readline(66) not in (b"\r\n", b"\n", b""):
                    pass
                return bytes(out)
            if len(out) + size > self.app.max_body:
                raise _Reject(413, "request body too large")
            out += self.rfile.read(size)
            self.rfile.readline(3)

    def _reply(
        self, code: int, body: bytes | str, *, content_type: str = TEXT, close: bool = False
    ) -> int:
        data = body.encode() if isinstance(body, str) else body
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        if code >= 400:
            self.send_header("X-Content-Type-Options", "nosniff")
        for name, value in self._extra:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        if close:
            self.send_header("Connection", "close")
            self.close_connection = True
        # recorded before the response leaves, so a client that has it also sees it counted
        route = getattr(self, "_route_label", OTHER)
        elapsed = self.app.clock() - getattr(self, "_start", self.app.clock())
        self.app.recorder.http_request(route, self.command, code, elapsed)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
        return code

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        # the stdlib's version echoes the request line in its HTML body; this one names nothing
        self._extra = []
        self.command = getattr(self, "command", None) or "GET"
        if getattr(self, "request_version", "HTTP/0.9") == "HTTP/0.9":
            self.request_version = "HTTP/1.0"  # so that a status line is written
        self._reply(code, f"{code} {self.responses.get(code, ('error',))[0]}\n", close=True)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # requests are counted in the metrics; request lines are never logged


class Server:
    """A listening server running on its own thread."""

    def __init__(self, httpd: HTTPServer, name: str, poll_interval: float = 0.5) -> None:
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever,
            kwargs={"poll_interval": poll_interval},
            name=name,
            daemon=True,
        )
        self._thread.start()

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    def shutdown(self, timeout: float = 5.0) -> None:
        """Stop accepting; requests in progress finish on their own threads."""
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout)


class _Threading4(ThreadingHTTPServer):
    daemon_threads = True


class _Threading6(_Threading4):
    address_family = socket.AF_INET6


def listen(
    addr: str, handler: type[BaseHTTPRequestHandler], name: str, poll_interval: float = 0.5
) -> Server:
    """Serve ``handler`` on ``addr`` (Go syntax: ``:8080``, ``127.0.0.1:0``) in a thread;
    ``shutdown()`` takes up to ``poll_interval`` seconds."""
    host, port = split_addr(addr)
    cls = _Threading6 if ":" in host else _Threading4
    httpd = cls((host or "0.0.0.0", port), handler)  # noqa: S104 - Go's ":8080" is every address
    return Server(httpd, name, poll_interval)


def serve(
    addr: str,
    handlers: Handlers,
    metrics: RequestRecorder,
    rate: float,
    burst: int,
    *,
    read_timeout: float = 120.0,
    max_body: int = MAX_BODY,
    clock: Callable[[], float] = time.monotonic,
    poll_interval: float = 0.5,
) -> Server:
    """Start the 8080 API on ``addr``; ``.port`` is the bound port, ``.shutdown()`` stops it."""
    app = _App(handlers, metrics, Gcra(rate, burst), clock, max_body)
    handler = type("Handler", (_Handler,), {"app": app, "timeout": read_timeout})
    return listen(addr, handler, "kseal-http", poll_interval)
