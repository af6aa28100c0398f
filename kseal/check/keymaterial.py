"""Private key material in any file: PEM and OpenSSH private keys (also base64-encoded, as in a
values file or a ConfigMap), age identities."""

from __future__ import annotations

import base64
import binascii
import hashlib
import re

from kseal.check.model import Finding

_PEM = re.compile(
    r"-----BEGIN ((?:RSA |EC |DSA |OPENSSH |ENCRYPTED |PGP )?PRIVATE KEY(?: BLOCK)?)-----"
    r"(?:[^-]{0,64})"
)
# base64 of "-----BEGIN" (a PEM file encoded whole), with enough after it to read the label
_B64_PEM = re.compile(r"LS0tLS1CRUdJTi(?:[A-Za-z0-9+/=]|\s){40,400}")
# bech32 upper-case payload of an X25519 or post-quantum (AGE-SECRET-KEY-PQ-1...) identity, and
# plugin identities AGE-PLUGIN-...-1...
_AGE = re.compile(r"AGE-(?:SECRET-KEY(?:-PQ)?|PLUGIN-[A-Z0-9]+)-1[0-9A-Z]{20,}")


def _line_col(text: str, pos: int) -> tuple[int, int]:
    line = text.count("\n", 0, pos) + 1
    return line, pos - (text.rfind("\n", 0, pos) + 1) + 1


def _tag(match: str) -> str:
    # key material is high-entropy: a short hash names it without revealing it
    return hashlib.sha256(match.encode()).hexdigest()[:16]


def _real_pem(m: re.Match[str]) -> bool:
    """Not a documentation placeholder or a templated key: a body follows the header."""
    body = m.group(0)[len(m.group(1)) + 16 :].strip()
    return bool(body) and not body.startswith(("...", "<", "{{", "${"))


def _decoded_pem(blob: str) -> re.Match[str] | None:
    chars = "".join(blob.split()).partition("=")[0][:160]
    chars = chars[: len(chars) // 4 * 4]
    try:
        raw = base64.b64decode(chars)
    except (binascii.Error, ValueError):
        return None
    m = _PEM.match(raw.decode("latin-1"))
    return m if m and _real_pem(m) else None


def scan(path: str, text: str) -> list[Finding]:
    findings = []
    if "PRIVATE KEY" in text:
        for m in _PEM.finditer(text):
            if not _real_pem(m):
                continue  # documentation placeholders and templated keys
            line, col = _line_col(text, m.start())
            findings.append(
                Finding(
                    "KS301",
                    path,
                    line,
                    col,
                    f"{m.group(1).lower()} in the file",
                    f"pem {_tag(m.group(0))}",
                )
            )
    if "LS0tLS1CRUdJTi" in text:
        for m in _B64_PEM.finditer(text):
            pem = _decoded_pem(m.group(0))
            if pem is None:
                continue
            line, col = _line_col(text, m.start())
            findings.append(
                Finding(
                    "KS301",
                    path,
                    line,
                    col,
                    f"base64-encoded {pem.group(1).lower()} in the file",
                    f"pem {_tag(m.group(0))}",
                )
            )
    if "AGE-" in text:
        for m in _AGE.finditer(text):
            line, col = _line_col(text, m.start())
            findings.append(
                Finding(
                    "KS302", path, line, col, "age identity in the file", f"age {_tag(m.group(0))}"
                )
            )
    return findings
