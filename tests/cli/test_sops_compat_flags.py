"""Command lines written for sops, run by kseal and by the real sops 3.11 binary side by side:
the mode flags (-e, -d, -r, -s, with -i), --verbose, --disable-version-check, --decryption-order
(and SOPS_DECRYPTION_ORDER), and the exit codes of unset, --extract and filestatus."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from kseal.cli.argv import normalize
from kseal.errors import ConflictError
from kseal.yamlio import safe_load_all
from tests.peers import sops_binary

SOPS = sops_binary()
needs_sops = pytest.mark.skipif(SOPS is None, reason="the sops binary is not installed")

SENTINEL = "SENTINEL-51c0-compat"
PLAIN = f"user: admin\npassword: {SENTINEL}\nport: 5432\n"
COMMANDS = ["encrypt", "decrypt", "edit", "rotate", "set", "unset", "filestatus", "keys"]


class Pair:
    """kseal and sops with the same environment, in the same directory."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.key = tmp / "key.txt"
        out = self.kseal("keygen", "-o", str(self.key), env={})
        assert out.returncode == 0, out.stderr
        self.public = out.stderr.decode().split("Public key: ")[1].strip()

    def env(self, extra: dict[str, str] | None) -> dict[str, str]:
        base = {
            "PATH": os.environ.get("PATH", ""),
            "HOME": str(self.tmp),
            "SOPS_DISABLE_VERSION_CHECK": "1",
        }
        if "PYTHONPATH" in os.environ:  # the kseal under test, not an installed one
            base["PYTHONPATH"] = os.environ["PYTHONPATH"]
        if self.key.exists():
            base["SOPS_AGE_KEY_FILE"] = str(self.key)
        return {**base, **(extra or {})}

    def kseal(
        self, *args: str, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(
            [sys.executable, "-m", "kseal", *args],
            cwd=self.tmp,
            env=self.env(env),
            capture_output=True,
            check=False,
        )

    def sops(
        self, *args: str, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[bytes]:
        assert SOPS is not None
        return subprocess.run(
            [SOPS, *args], cwd=self.tmp, env=self.env(env), capture_output=True, check=False
        )

    def encrypted(self, name: str = "enc.yaml") -> Path:
        path = self.tmp / name
        path.write_text(PLAIN)
        out = self.kseal("encrypt", "-i", "--age", self.public, str(path))
        assert out.returncode == 0, out.stderr
        return path


@pytest.fixture
def pair(tmp_path: Path) -> Pair:
    return Pair(tmp_path)


def _doc(data: bytes) -> object:
    return safe_load_all(data.decode())[0]


# ---- the command line, rewritten (pure) -------------------------------------------------------


def test_normalize_turns_mode_flags_into_commands() -> None:
    assert normalize(["-d", "f.yaml"], COMMANDS).args == ["decrypt", "f.yaml"]
    assert normalize(["-i", "--encrypt", "f"], COMMANDS).args == ["encrypt", "-i", "f"]
    assert normalize(["-r", "-s", "-i", "f"], COMMANDS).args == ["rotate", "-i", "f"]
    assert normalize(["-d", "decrypt"], COMMANDS).args == ["decrypt", "decrypt"]
    shown = normalize(["-s", "f.yaml"], COMMANDS)
    assert shown.args == ["edit", "f.yaml"] and "ignored" in shown.notes[0]
    with pytest.raises(ConflictError):
        normalize(["-e", "-d", "f"], COMMANDS)


def test_normalize_moves_global_options_and_leaves_commands_alone() -> None:
    assert normalize(["-d", "--verbose", "f"], COMMANDS).args == ["--verbose", "decrypt", "f"]
    assert normalize(["decrypt", "--decryption-order", "age", "f"], COMMANDS).args == [
        "--decryption-order",
        "age",
        "decrypt",
        "f",
    ]
    # after the command name, -d/-s/-e are the command's own business; after --, nothing moves
    assert normalize(["keys", "-s", "x"], COMMANDS).args == ["keys", "-s", "x"]
    assert normalize(["set", "f", "--", "--verbose"], COMMANDS).args == [
        "set",
        "f",
        "--",
        "--verbose",
    ]


# ---- against the real sops --------------------------------------------------------------------


@needs_sops
@pytest.mark.parametrize(
    "args",
    [
        ["-d"],
        ["--decrypt"],
        ["-d", "-s"],
        ["-s", "-d"],
        ["--verbose", "-d"],
        ["-d", "--verbose"],
        ["--disable-version-check", "-d"],
        ["-d", "--disable-version-check"],
        ["--decryption-order", "age,pgp", "-d"],
        ["-d", "--decryption-order", "age,pgp"],
        ["--verbose", "decrypt"],
        ["decrypt", "--decryption-order", "age"],
    ],
)
def test_decrypt_command_lines_match_sops(pair: Pair, args: list[str]) -> None:
    enc = pair.encrypted()
    ours = pair.kseal(*args, str(enc))
    theirs = pair.sops(*args, str(enc))
    assert ours.returncode == theirs.returncode == 0, (ours.stderr, theirs.stderr)
    assert _doc(ours.stdout) == _doc(theirs.stdout)


@needs_sops
def test_encrypt_in_place_with_mode_flags_both_ways(pair: Pair) -> None:
    mine = pair.tmp / "mine.yaml"
    mine.write_text(PLAIN)
    out = pair.kseal("-e", "-i", "--age", pair.public, str(mine))
    assert out.returncode == 0, out.stderr
    assert SENTINEL not in mine.read_text()
    theirs = pair.tmp / "theirs.yaml"
    theirs.write_text(PLAIN)
    assert pair.sops("--encrypt", "-i", "--age", pair.public, str(theirs)).returncode == 0
    for path in (mine, theirs):
        assert _doc(pair.sops("-d", str(path)).stdout) == _doc(pair.kseal("-d", str(path)).stdout)
    # encrypting an encrypted file: the same exit code as sops
    again = pair.kseal("-e", "-i", "--age", pair.public, str(mine))
    assert again.returncode == pair.sops("-e", "-i", "--age", pair.public, str(mine)).returncode
    assert again.returncode == 203


@needs_sops
def test_rotate_and_decrypt_in_place_with_mode_flags(pair: Pair) -> None:
    enc = pair.encrypted()
    before = enc.read_bytes()
    out = pair.kseal("-r", str(enc))  # no -i: to stdout, like sops -r
    assert out.returncode == 0, out.stderr
    assert enc.read_bytes() == before and b"sops:" in out.stdout
    out = pair.kseal("--rotate", "-i", str(enc))
    assert out.returncode == 0, out.stderr
    assert enc.read_bytes() != before
    assert _doc(pair.sops("-d", str(enc)).stdout) == _doc(PLAIN.encode())
    copy = pair.tmp / "copy.yaml"
    copy.write_bytes(enc.read_bytes())
    assert pair.kseal("-d", "-i", str(enc)).returncode == 0
    assert pair.sops("-d", "-i", str(copy)).returncode == 0
    assert _doc(enc.read_bytes()) == _doc(copy.read_bytes()) == _doc(PLAIN.encode())


@needs_sops
def test_show_master_keys_alone_edits_like_sops(pair: Pair) -> None:
    enc = pair.encrypted()
    env = {"EDITOR": "true"}
    ours = pair.kseal("-s", str(enc), env=env)
    theirs = pair.sops("-s", str(enc), env=env)
    assert ours.returncode == theirs.returncode == 200  # opened the editor; nothing changed
    assert b"kseal: note: -s (--show-master-keys) is ignored" in ours.stderr


def test_two_modes_are_a_conflict(pair: Pair) -> None:
    out = pair.kseal("-e", "-d", "x.yaml")
    assert out.returncode == 8
    assert out.stderr.decode().splitlines()[0].startswith("kseal: error: choose one of -e")


@needs_sops
@pytest.mark.parametrize(
    ("args", "env"),
    [
        (["decrypt", "--decryption-order", "age,age"], {}),
        (["decrypt", "--decryption-order", "age,,age"], {}),
        (["decrypt", "--decryption-order", ",,"], {}),
        (["decrypt", "--decryption-order", "AGE,age"], {}),
        (["decrypt", "--decryption-order", "age, age"], {}),
        (["-d", "--decryption-order", "age,age"], {}),
        (["decrypt"], {"SOPS_DECRYPTION_ORDER": "age,age"}),
        (["decrypt"], {"SOPS_DECRYPTION_ORDER": "age,pgp"}),
        (["decrypt", "--decryption-order", "age"], {"SOPS_DECRYPTION_ORDER": "age,age"}),
        (["-d"], {"SOPS_DECRYPTION_ORDER": "pgp,age,pgp"}),
        (["filestatus"], {"SOPS_DECRYPTION_ORDER": "age,age"}),
        (["rotate"], {"SOPS_DECRYPTION_ORDER": "age,age"}),
        (["exec-env"], {"SOPS_DECRYPTION_ORDER": "age,age"}),
    ],
)
def test_decryption_order_is_checked_like_sops(
    pair: Pair, args: list[str], env: dict[str, str]
) -> None:
    enc = pair.encrypted()
    tail = [str(enc), "true"] if args[0] == "exec-env" else [str(enc)]
    ours = pair.kseal(*args, *tail, env=env)
    theirs = pair.sops(*args, *tail, env=env)
    assert ours.returncode == theirs.returncode, (ours.stderr, theirs.stderr)
    if ours.returncode:
        assert ours.returncode == 112
        assert ours.stderr.decode().startswith("kseal: error: duplicate decryption key type")
        assert ours.stdout == b""


@needs_sops
def test_decryption_order_env_does_not_block_encrypt(pair: Pair) -> None:
    plain = pair.tmp / "p.yaml"
    plain.write_text(PLAIN)
    env = {"SOPS_DECRYPTION_ORDER": "age,age"}
    ours = pair.kseal("encrypt", "--age", pair.public, str(plain), env=env)
    theirs = pair.sops("encrypt", "--age", pair.public, str(plain), env=env)
    assert ours.returncode == theirs.returncode == 0


@needs_sops
@pytest.mark.parametrize(
    "args",
    [
        ["unset", "{enc}", '["nope"]'],
        ["unset", "{enc}", '["user"]["deeper"]'],
        ["decrypt", "--extract", '["nope"]', "{enc}"],
        ["decrypt", "--extract", '["user"]["x"]', "{enc}"],
        ["-d", "--extract", '["nope"]', "{enc}"],
        ["decrypt", "--extract", "nope", "{enc}"],
        ["filestatus", "{missing}"],
        ["set", "{enc}", "nope", '"x"'],
        ["unset", "{enc}", "nope"],
        ["decrypt", "{missing}"],
        ["filestatus", "{enc}"],
    ],
)
def test_exit_codes_match_sops(pair: Pair, args: list[str]) -> None:
    enc = pair.encrypted()
    before = enc.read_bytes()
    words = [a.format(enc=enc, missing=pair.tmp / "missing.yaml") for a in args]
    ours = pair.kseal(*words)
    theirs = pair.sops(*words)
    assert enc.read_bytes() == before
    if '["user"]["x"]' in args:
        # sops panics (exit 2) extracting below a scalar; kseal says it is not there (exit 1)
        assert theirs.returncode == 2 and ours.returncode == 1
    else:
        assert ours.returncode == theirs.returncode, (ours.stderr, theirs.stderr)
    if ours.returncode:
        assert len(ours.stderr.decode().splitlines()[0].split("kseal: error: ")) == 2
        assert ours.stdout == b"" and SENTINEL.encode() not in ours.stderr
