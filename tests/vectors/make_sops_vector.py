"""Regenerate tests/vectors/sops/secret.kseal.yaml (deterministic except the age 'enc' block).

    python3 tests/vectors/make_sops_vector.py

The data key, every IV and the time are fixed (see ``deterministic``), so tests can reproduce the
file byte for byte, given the stored age-wrapped key.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
KEY_FILE = HERE / "keys" / "age-TESTONLY.txt"
PLAIN = HERE / "sops" / "secret.plain.yaml"
VECTOR = HERE / "sops" / "secret.kseal.yaml"
NOW = datetime(2026, 11, 22, 0, 0, 0, tzinfo=UTC)


def deterministic() -> Callable[[int], bytes]:
    """First call: the data key bytes 0..31; then IVs sha256(b"kseal-vector-iv-<n>")."""
    state = {"n": -1}

    def random(size: int) -> bytes:
        state["n"] += 1
        if state["n"] == 0:
            return bytes(range(size))
        return hashlib.sha256(f"kseal-vector-iv-{state['n']}".encode()).digest()[:size]

    return random


def build(wrap: Callable[[bytes, str], str]) -> bytes:
    from kseal import agekey
    from kseal.sops import engine
    from kseal.sops.rules import Rules
    from kseal.sops.stores import get_store

    public = agekey.public_of(
        next(ln for ln in KEY_FILE.read_text().splitlines() if ln.startswith("AGE-"))
    )
    store = get_store("yaml")
    return engine.encrypt(
        PLAIN.read_bytes(),
        store,
        store,
        engine.EncryptOptions(
            recipients=[public], rules=Rules(encrypted_regex="^(data|stringData)$")
        ),
        wrap=wrap,
        random=deterministic(),
        now=NOW,
    )


if __name__ == "__main__":
    from kseal import agekey

    VECTOR.write_bytes(build(agekey.wrap_key))
