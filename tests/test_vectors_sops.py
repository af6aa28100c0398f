"""tests/vectors/sops: a byte-exact kseal vector, reproduced here and decrypted by the real sops."""

from __future__ import annotations

import re
import subprocess

import pytest

from kseal import agekey
from kseal.sops import engine
from kseal.sops.stores import get_store
from tests.interop.conftest import SOPS
from tests.vectors.make_sops_vector import KEY_FILE, PLAIN, VECTOR, build


def _stored_enc() -> str:
    text = VECTOR.read_text()
    m = re.search(r"          enc: \|\n((?:            .*\n)+)", text)
    assert m is not None
    return "".join(line[12:] + "\n" for line in m.group(1).splitlines())


def test_vector_is_reproduced_byte_for_byte() -> None:
    stored = _stored_enc()
    assert build(lambda key, recipient: stored) == VECTOR.read_bytes()


def test_vector_decrypts_to_the_plain_file() -> None:
    ids = agekey.parse_identities(KEY_FILE.read_text(), "age-TESTONLY.txt")
    store = get_store("yaml")
    out = engine.decrypt(
        VECTOR.read_bytes(),
        store,
        store,
        unwrap=lambda md: agekey.unwrap_key(md.age_keys[0].enc, ids),
    ).decode()
    plain = PLAIN.read_text()
    # Values come back in kseal's spelling; every other byte of the file is untouched.
    expected = (
        plain.replace("'svc_payments'", "svc_payments")
        .replace('"c0rrect horse battery staple"', "c0rrect horse battery staple")
        .replace("2027-01-01", "2027-01-01T00:00:00Z")
    )
    assert out == expected


@pytest.mark.skipif(SOPS is None, reason="the sops binary is not installed")
def test_real_sops_decrypts_the_vector(tmp_path: object) -> None:
    out = subprocess.run(
        [str(SOPS), "decrypt", str(VECTOR)],
        capture_output=True,
        check=False,
        env={
            "SOPS_AGE_KEY_FILE": str(KEY_FILE),
            "SOPS_DISABLE_VERSION_CHECK": "1",
            "HOME": "/nonexistent",
        },
    )
    assert out.returncode == 0, out.stderr
    assert b"password: c0rrect horse battery staple" in out.stdout
    assert b"expires: 2027-01-01T00:00:00Z" in out.stdout
