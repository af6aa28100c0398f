"""Large files are scanned in segments (scan_stream): same findings, right lines, nothing lost at
a cut."""

from __future__ import annotations

import base64
import io
import os

from kseal.check.scan import scan_bytes, scan_stream
from kseal.check.source import decode, manifest_format, segments

SECRET = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  password: hunter2\n"
CONFIGMAP = "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  a: b\n"


def _lines(text: str) -> io.StringIO:
    return io.StringIO(text, newline="")


def test_yaml_segments_cut_at_documents_and_keep_line_numbers() -> None:
    text = CONFIGMAP * 200 + "---\n" + SECRET + CONFIGMAP * 200
    pieces = list(segments(_lines(text), yaml=True, size=1000))
    assert len(pieces) > 5
    assert all(p.startswith("---") for _, p in pieces[1:])
    assert "".join(p for _, p in pieces) == text
    whole = [(f.rule, f.line, f.col) for f in scan_bytes("big.yaml", text.encode())]
    streamed = [(f.rule, f.line, f.col) for f in scan_stream("big.yaml", _lines(text), size=1000)]
    assert whole == streamed == [("KS101", 1406, 1)]


def test_a_key_across_a_cut_is_found_once() -> None:
    label = "RSA PRIVATE" + " KEY"
    body = "\n".join(base64.b64encode(os.urandom(48)).decode() for _ in range(3))
    pem = f"-----BEGIN {label}-----\n{body}\n-----END {label}-----\n"
    filler = "x" * 99 + "\n"
    for before in range(8, 13):  # the header falls on every side of the cut
        text = filler * before + pem + filler * 20
        found = scan_stream("dump.log", _lines(text), size=1000)
        assert [(f.rule, f.line) for f in found] == [("KS301", before + 1)]


def test_boms_and_wrapper_suffixes() -> None:
    assert decode(b"\xff\xfe" + "kind: Secret".encode("utf-16-le")) == "kind: Secret"
    assert decode(b"\xff\xfe\x00\x00" + "k".encode("utf-32-le")) == "k"
    assert decode(b"\xef\xbb\xbfk: v") == "k: v"
    assert manifest_format("a/secret.yml.j2") == "yaml"
    assert manifest_format("a/secret.yaml.bak~") == "yaml"
    assert manifest_format("a/s.json.orig") == "json"
    assert manifest_format("a/_helpers.tpl") == "binary"
    assert manifest_format("a/.env.bak") == "dotenv"
