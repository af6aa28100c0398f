"""Regexes from a file's metadata or .sops.yaml through the real CLI: a planted catastrophic
pattern cannot hang decrypt or check, and Go-only syntax selects the same values as real sops."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import pytest

from kseal.yamlio import safe_load_all
from tests.cli.conftest import Run
from tests.peers import sops_binary

EVIL = "^(a+)+$"
LONG = "a" * 64 + "!"  # 2**64 steps for a backtracking engine


def _enc_keys(text: bytes) -> set[str]:
    doc = safe_load_all(text.decode())[0]
    return {k for k, v in doc.items() if k != "sops" and str(v).startswith("ENC[")}


def test_planted_regex_does_not_hang_decrypt_or_check(
    kseal: Run, tmp_path: Path, identity: tuple[Path, str]
) -> None:
    key, public = identity
    plain = tmp_path / "plain.yaml"
    plain.write_text(f"{LONG}: one\naaaa: two\n")
    out = kseal("encrypt", "--age", public, "--encrypted-regex", EVIL, str(plain))
    assert out.returncode == 0, out.stderr
    assert _enc_keys(out.stdout) == {"aaaa"}
    enc = tmp_path / "planted.yaml"
    enc.write_bytes(out.stdout)
    env = {"SOPS_AGE_KEY_FILE": str(key)}
    start = time.monotonic()
    out = kseal("decrypt", str(enc), env=env)
    assert out.returncode == 0, out.stderr
    assert safe_load_all(out.stdout.decode())[0] == {LONG: "one", "aaaa": "two"}
    out = kseal("check", str(enc))  # no key needed: KS202 reads the metadata's own rule
    assert out.returncode == 0, out.stdout + out.stderr
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / ".sops.yaml").write_text(
        f"creation_rules:\n  - path_regex: '(a+)+$'\n    encrypted_regex: '{EVIL}'\n"
        f"    age: {public}\n"
    )
    (repo / ("a" * 40 + "!")).write_text(f"{LONG}: x\n")
    out = kseal("check", ".", cwd=repo)
    assert out.returncode == 0, out.stdout + out.stderr
    assert time.monotonic() - start < 20  # a backtracking engine needs years here


def test_a_regex_re2_rejects_is_a_clear_error(kseal: Run, tmp_path: Path) -> None:
    (tmp_path / ".sops.yaml").write_text(
        "creation_rules:\n  - path_regex: '(?<!x)\\.yaml$'\n    age: age1abc\n"
    )
    (tmp_path / "a.yaml").write_text("a: b\n")
    out = kseal("encrypt", "a.yaml", cwd=tmp_path)
    err = out.stderr.decode()
    assert out.returncode == 1
    assert (
        err.startswith("kseal: error: ")
        and ".sops.yaml: creation rule 1: invalid path_regex" in err
    )
    assert "kseal: hint: sops reads regexes with Go's RE2 syntax" in err
    assert "Traceback" not in err and "internal error" not in err


@pytest.mark.interop
def test_go_syntax_selects_what_real_sops_selects(
    kseal: Run, tmp_path: Path, identity: tuple[Path, str]
) -> None:
    binary = sops_binary()
    if binary is None or shutil.which("age-keygen") is None:
        pytest.skip("needs the sops binary")
    key, public = identity
    doc = "password: 1\nPASSWORT: 2\npass1: 3\npassé: 4\nuser: 5\nstringData: 6\n"
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "SOPS_DISABLE_VERSION_CHECK": "1",
        "SOPS_AGE_KEY_FILE": str(key),
    }
    work = tmp_path / "w"
    work.mkdir()
    # flag form, and a .sops.yaml whose path_regex and rule use Go-only syntax
    cases = [
        ("flag.yaml", ["--encrypted-regex", r"(?i)^pass\pL*\z"]),
        ("search.yaml", ["--encrypted-regex", "ord|ri"]),  # unanchored search, as Go's Match
        ("db.Secret.yaml", []),
    ]
    (work / ".sops.yaml").write_text(
        "creation_rules:\n"
        "  - path_regex: '(?i)\\.secret\\.yaml\\z'\n"
        "    unencrypted_regex: '^(?i:pass)\\pL+\\z|^\\p{Lu}'\n"
        f"    age: {public}\n"
        f"  - age: {public}\n"
    )
    for name, flags in cases:
        (work / name).write_text(doc)
        theirs = subprocess.run(
            [binary, "encrypt", *(["--age", public] if flags else []), *flags, name],
            cwd=work,
            env=env,
            capture_output=True,
            check=False,
        )
        assert theirs.returncode == 0, theirs.stderr
        ours = kseal("encrypt", *(["--age", public] if flags else []), *flags, name, cwd=work)
        assert ours.returncode == 0, ours.stderr
        assert _enc_keys(ours.stdout) == _enc_keys(theirs.stdout), name
        # sops's file, whose metadata holds the Go-syntax rule, opens in kseal
        (work / f"sops-{name}").write_bytes(theirs.stdout)
        back = kseal("decrypt", f"sops-{name}", cwd=work, env={"SOPS_AGE_KEY_FILE": str(key)})
        assert back.returncode == 0, back.stderr
        assert safe_load_all(back.stdout.decode()) == safe_load_all(doc)
    assert _enc_keys(ours.stdout) == {"pass1", "user", "stringData"}
