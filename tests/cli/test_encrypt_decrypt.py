"""The encrypt/decrypt commands end to end: outputs, exit codes, file safety, no leaks."""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

import pytest

from kseal.yamlio import safe_load_all
from tests.cli.conftest import Run

SENTINEL = "SENTINEL-7f3a-plaintext"
SECRET = f"""\
apiVersion: v1
kind: Secret
metadata:
  name: db   # keep me
stringData:
  password: {SENTINEL}
  port: 5432
"""


def _env(key: Path) -> dict[str, str]:
    return {"SOPS_AGE_KEY_FILE": str(key)}


def _encrypt(
    kseal: Run,
    tmp_path: Path,
    public: str,
    text: str = SECRET,
    name: str = "secret.yaml",
    *extra: str,
) -> Path:
    plain = tmp_path / name
    plain.write_text(text)
    out = kseal("encrypt", "--age", public, *extra, str(plain))
    assert out.returncode == 0, out.stderr
    enc = tmp_path / f"enc-{name}"
    enc.write_bytes(out.stdout)
    return enc


def test_round_trip_keeps_layout(kseal: Run, tmp_path: Path, identity: tuple[Path, str]) -> None:
    key, public = identity
    enc = _encrypt(kseal, tmp_path, public)
    text = enc.read_text()
    assert SENTINEL not in text
    assert "  name: ENC[" in text and "# ENC[" not in text
    out = kseal("decrypt", str(enc), env=_env(key))
    assert out.returncode == 0, out.stderr
    assert out.stdout.decode() == SECRET


def test_extract(kseal: Run, tmp_path: Path, identity: tuple[Path, str]) -> None:
    key, public = identity
    enc = _encrypt(kseal, tmp_path, public)
    out = kseal("decrypt", "--extract", '["stringData"]["password"]', str(enc), env=_env(key))
    assert out.stdout == SENTINEL.encode()
    out = kseal("decrypt", "--extract", '["stringData"]["nope"]', str(enc), env=_env(key))
    assert out.returncode == 1  # a missing component: 1, as sops; a malformed path: 91
    assert out.stdout == b""
    out = kseal("decrypt", "--extract", "stringData.password", str(enc), env=_env(key))
    assert out.returncode == 91


def test_in_place_keeps_mode_and_decrypts_to_private_file(
    kseal: Run, tmp_path: Path, identity: tuple[Path, str]
) -> None:
    key, public = identity
    path = tmp_path / "s.yaml"
    path.write_text(SECRET)
    path.chmod(0o640)
    assert kseal("encrypt", "-i", "--age", public, str(path)).returncode == 0
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert SENTINEL not in path.read_text()
    assert kseal("decrypt", "-i", str(path), env=_env(key)).returncode == 0
    assert stat.S_IMODE(path.stat().st_mode) == 0o600  # plaintext: never group-readable
    assert path.read_text() == SECRET
    out_file = tmp_path / "new-plain.yaml"
    enc = _encrypt(kseal, tmp_path, public)
    assert kseal("decrypt", "--output", str(out_file), str(enc), env=_env(key)).returncode == 0
    assert stat.S_IMODE(out_file.stat().st_mode) == 0o600


def test_refuses_to_encrypt_twice(kseal: Run, tmp_path: Path, identity: tuple[Path, str]) -> None:
    _key, public = identity
    enc = _encrypt(kseal, tmp_path, public)
    out = kseal("encrypt", "--age", public, str(enc))
    assert out.returncode == 203
    assert out.stderr.decode().startswith("kseal: error: the file is already encrypted")


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["decrypt", "missing.yaml"], 100),
        (["encrypt", "--age", "age1notakey", "x.yaml"], 1),
        (["encrypt", "-i", "--output", "o.yaml", "x.yaml"], 8),
        (["decrypt", "-i"], 8),
        (
            [
                "encrypt",
                "--encrypted-regex",
                "a",
                "--unencrypted-suffix",
                "b",
                "--age",
                "x",
                "x.yaml",
            ],
            8,
        ),
    ],
)
def test_usage_errors(kseal: Run, tmp_path: Path, args: list[str], code: int) -> None:
    (tmp_path / "x.yaml").write_text("a: 1\n")
    out = kseal(*args)
    assert out.returncode == code, out.stderr
    lines = out.stderr.decode().splitlines()
    assert lines[0].startswith("kseal: error: ")
    assert all(line.startswith("kseal: ") for line in lines)
    assert "Traceback" not in out.stderr.decode()


def _assert_clean_failure(out: object, code: int) -> None:
    assert out.returncode == code, out.stderr  # type: ignore[attr-defined]
    assert out.stdout == b""  # type: ignore[attr-defined]
    err = out.stderr.decode()  # type: ignore[attr-defined]
    assert err.startswith("kseal: error: ")
    assert SENTINEL not in err
    assert "Traceback" not in err


def test_failures_never_leak_plaintext(
    kseal: Run, tmp_path: Path, identity: tuple[Path, str]
) -> None:
    key, public = identity
    enc = _encrypt(kseal, tmp_path, public)
    text = enc.read_text()
    before = set(os.listdir(tmp_path))

    # A tampered value: authentication fails.
    lines = text.splitlines(keepends=True)
    i = next(n for n, line in enumerate(lines) if "password:" in line)
    lines[i] = lines[i].replace("data:", "data:AA", 1)
    bad = tmp_path / "bad.yaml"
    bad.write_text("".join(lines))
    _assert_clean_failure(kseal("decrypt", str(bad), env=_env(key)), 25)

    # A changed lastmodified: the MAC cannot be decrypted.
    bad.write_text(text.replace('lastmodified: "', 'lastmodified: "1'))
    _assert_clean_failure(kseal("decrypt", str(bad), env=_env(key)), 1)
    moved = re.sub(r'lastmodified: "[^"]+"', 'lastmodified: "2000-01-01T00:00:00Z"', text)
    bad.write_text(moved)
    _assert_clean_failure(kseal("decrypt", str(bad), env=_env(key)), 51)

    # A different identity: exit 128 with hints naming the recipients, never key material.
    other = tmp_path / "other.txt"
    assert kseal("keygen", "-o", str(other)).returncode == 0
    out = kseal("decrypt", str(enc), env=_env(other))
    _assert_clean_failure(out, 128)
    assert public in out.stderr.decode()
    assert "AGE-SECRET-KEY" not in out.stderr.decode()

    # A truncated file.
    bad.write_text(text[: len(text) // 2] + "\n  : [\n")
    out = kseal("decrypt", str(bad), env=_env(key))
    assert out.returncode != 0
    assert SENTINEL not in out.stderr.decode()

    # In-place decrypt that fails leaves the input untouched and no temporary file behind.
    bad.write_text(moved)
    snapshot = bad.read_bytes()
    _assert_clean_failure(kseal("decrypt", "-i", str(bad), env=_env(key)), 51)
    assert bad.read_bytes() == snapshot
    assert set(os.listdir(tmp_path)) - before == {"bad.yaml", "other.txt"}


def test_ignore_mac(kseal: Run, tmp_path: Path, identity: tuple[Path, str]) -> None:
    key, public = identity
    enc = _encrypt(kseal, tmp_path, public, SECRET + "note_unencrypted: hello\n")
    # A value left in the clear is still covered by the MAC.
    enc.write_text(enc.read_text().replace("note_unencrypted: hello", "note_unencrypted: bye"))
    out = kseal("decrypt", str(enc), env=_env(key))
    _assert_clean_failure(out, 51)
    out = kseal("decrypt", "--ignore-mac", str(enc), env=_env(key))
    assert out.returncode == 0
    assert safe_load_all(out.stdout.decode())[0]["stringData"]["password"] == SENTINEL
    assert b"MAC was not checked" in out.stderr


def test_stdin_and_format_conversion(
    kseal: Run, tmp_path: Path, identity: tuple[Path, str]
) -> None:
    key, public = identity
    out = kseal("encrypt", "--age", public, "--input-type", "yaml", input=SECRET.encode())
    assert out.returncode == 0, out.stderr
    dec = kseal(
        "decrypt", "--input-type", "yaml", "--output-type", "json", input=out.stdout, env=_env(key)
    )
    assert dec.returncode == 0, dec.stderr
    assert b'"password": "' + SENTINEL.encode() + b'"' in dec.stdout


def test_sops_yaml_creation_rules(kseal: Run, tmp_path: Path, identity: tuple[Path, str]) -> None:
    _key, public = identity
    (tmp_path / ".sops.yaml").write_text(
        f"creation_rules:\n  - path_regex: secrets/.*\\.yaml$\n    encrypted_regex: ^(data|stringData)$\n    age: {public}\n"
    )
    (tmp_path / "secrets").mkdir()
    plain = tmp_path / "secrets" / "s.yaml"
    plain.write_text(SECRET)
    out = kseal("encrypt", str(plain))
    assert out.returncode == 0, out.stderr
    text = out.stdout.decode()
    assert "  name: db   # keep me\n" in text  # outside stringData: left alone
    assert "encrypted_regex: ^(data|stringData)$" in text
    other = tmp_path / "other.yaml"
    other.write_text(SECRET)
    out = kseal("encrypt", str(other))
    assert out.returncode == 1
    assert b"no matching creation rule" in out.stderr
