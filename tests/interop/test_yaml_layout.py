"""``kseal set``/``unset`` that add or remove keys keep the file's layout: the line diff is exactly
the new (or removed) lines plus ``lastmodified`` and ``mac``, in the file's own indentation; the
result decrypts with the real sops (MAC verified, every comment decrypted)."""

from __future__ import annotations

import difflib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from kseal.yamlio import safe_load_all
from tests.interop.conftest import SOPS, Peer

PLAIN_2 = """\
# app secrets
api:
  token: s3cr3t   # rotate monthly
  retries: 3
  # pool settings
  pool:
    size: 4
hosts:
  - a.example
  - b.example
services:
  - name: web
    port: 80
"""

_ENC = re.compile(r"ENC\[[^\]]*\]")


def _run(peer: Peer, *args: str) -> bytes:
    env = {**peer.env, "PYTHONPATH": os.environ.get("PYTHONPATH", "")}
    out = subprocess.run(
        [sys.executable, "-m", "kseal", *args], capture_output=True, env=env, check=False
    )
    assert out.returncode == 0, out.stderr.decode()
    return out.stdout


def _changes(before: str, after: str) -> list[str]:
    """The changed lines (``-``/``+``), values masked, without lastmodified and mac."""
    out = []
    for line in difflib.ndiff(before.splitlines(), after.splitlines()):
        if line[:2] in ("- ", "+ ") and not re.match(r". +(lastmodified|mac):", line):
            out.append(_ENC.sub("ENC", line))
    return out


def _sops_decrypt(peer: Peer, path: Path) -> object:
    assert SOPS is not None
    out = subprocess.run(
        [SOPS, "decrypt", str(path)], capture_output=True, env=peer.env, check=False
    )
    assert out.returncode == 0, out.stderr.decode()
    assert b"possibly unencrypted comment" not in out.stderr
    return safe_load_all(out.stdout.decode())[0]


# (path, JSON value or None for unset, expected changed lines in the 2-space file, and in the
# 4-space file sops writes)
EDITS = [
    ('["user"]', '"admin"', ["+ user: ENC"], ["+ user: ENC"]),
    ('["api"]["user"]', '"admin"', ["+   user: ENC"], ["+     user: ENC"]),
    (
        '["api"]["db"]["host"]',
        '"h"',
        ["+   db:", "+     host: ENC"],
        ["+     db:", "+         host: ENC"],
    ),
    ('["api"]["pool"]["max"]', "9", ["+     max: ENC"], ["+         max: ENC"]),
    ('["hosts"][7]', '"c.example"', ["+   - ENC"], ["+     - ENC"]),
    ('["services"][0]["tls"]', "true", ["+     tls: ENC"], ["+       tls: ENC"]),
    (
        '["tags"]',
        '["x", "y"]',
        ["+ tags:", "+   - ENC", "+   - ENC"],
        ["+ tags:", "+     - ENC", "+     - ENC"],
    ),
    ('["api"]["retries"]', None, ["-   retries: ENC"], ["-     retries: ENC"]),
    ('["hosts"][0]', None, ["-   - ENC"], ["-     - ENC"]),
    (
        '["api"]["pool"]',
        None,
        ["-   pool:", "-     size: ENC"],
        ["-     pool:", "-         size: ENC"],
    ),
]


def _expected(doc: dict[str, object], path: str, value: str | None) -> None:
    steps = [json.loads(s) for s in re.findall(r"\[([^\]]*)\]", path)]
    node: object = doc
    for step in steps[:-1]:
        if isinstance(node, dict) and step not in node:
            node[step] = {}
        node = node[step]  # type: ignore[index]
    last = steps[-1]
    if value is None:
        del node[last]  # type: ignore[attr-defined]
    elif isinstance(node, list) and last >= len(node):
        node.append(json.loads(value))
    else:
        node[last] = json.loads(value)  # type: ignore[index]


@pytest.mark.parametrize("writer", ["kseal", "sops"])
@pytest.mark.parametrize(
    ("path", "value", "two", "four"), EDITS, ids=[e[0] + str(e[1] is None) for e in EDITS]
)
def test_set_and_unset_keep_the_layout(
    peer: Peer,
    tmp_path: Path,
    writer: str,
    path: str,
    value: str | None,
    two: list[str],
    four: list[str],
) -> None:
    plain = tmp_path / "plain.yaml"
    plain.write_text(PLAIN_2)
    if writer == "kseal":
        encrypted = _run(peer, "encrypt", "--age", peer.public, str(plain))
    else:
        encrypted = peer.sops("encrypt", "--age", peer.public, str(plain))
    enc = tmp_path / "enc.yaml"
    enc.write_bytes(encrypted)
    if value is None:
        _run(peer, "unset", str(enc), path)
    else:
        _run(peer, "set", str(enc), path, value)
    after = enc.read_text()
    assert _changes(encrypted.decode(), after) == (two if writer == "kseal" else four)
    expected = safe_load_all(PLAIN_2)[0]
    _expected(expected, path, value)
    assert _sops_decrypt(peer, enc) == expected
    assert safe_load_all(_run(peer, "decrypt", str(enc)).decode())[0] == expected
