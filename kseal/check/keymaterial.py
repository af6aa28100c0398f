"""Private key material in any text file: PEM and OpenSSH private keys, age identities."""

from __future__ import annotations

import hashlib
import re

from kseal.check.model import Finding

_PEM = re.compile(
    r"-----BEGIN ((?:RSA |EC |DSA |OPENSSH |ENCRYPTED |PGP )?PRIVATE KEY(?: BLOCK)?)-----"
    r"(?:[^-]{0,64})"
)
# bech32 upper-case payload of an X25519 or post-quantum (AGE-SECRET-KEY-PQ-1...) identity, and
# plugin identities AGE-PLUGIN-...-1...
_AGE = re.compile(r"AGE-(?:SECRET-KEY(?:-PQ)?|PLUGIN-[A-Z0-9]+)-1[0-9A-Z]{20,}")


def _line_col(text: str, pos: int) -> tuple[int, int]:
    line = text.count("\n", 0, pos) + 1
    return line, pos - (text.rfind("\n", 0, pos) + 1) + 1


def _tag(match: str) -> str:
    # key material is high-entropy: a short hash names it without revealing it
    return hashlib.sha256(match.encode()).hexdigest()[:16]


def scan(path: str, text: str) -> list[Finding]:
    findings = []
    if "PRIVATE KEY" in text:
        for m in _PEM.finditer(text):
            body = m.group(0)[len(m.group(1)) + 16 :]
            if body.strip().startswith(("...", "<", "{{", "${")) or not body.strip():
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
    if "AGE-" in text:
        for m in _AGE.finditer(text):
            line, col = _line_col(text, m.start())
            findings.append(
                Finding(
                    "KS302", path, line, col, "age identity in the file", f"age {_tag(m.group(0))}"
                )
            )
    return findings
