"""The sops workflows against the real sops 3.11 binary: files changed by kseal decrypt with sops
and the other way round, key groups with Shamir 2-of-3 both ways, and passphrase-protected identity
files made by the real ``age -p``."""

from __future__ import annotations

import itertools
import os
import pty
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from kseal.yamlio import safe_load_all
from tests.interop.conftest import SOPS, needs_sops

pytestmark = needs_sops

SENTINEL = "SENTINEL-0d9e-shared"
PLAIN = f"""\
# app secrets
api:
  token: {SENTINEL}   # rotate monthly
  retries: 3
hosts:
  - a.example
  - b.example
"""


class Keys:
    def __init__(self, tmp: Path, n: int) -> None:
        self.tmp = tmp
        self.files: list[Path] = []
        self.publics: list[str] = []
        for i in range(n):
            path = tmp / f"key{i}.txt"
            out = _kseal(tmp, {}, "keygen", "-o", str(path))
            self.files.append(path)
            self.publics.append(out.stderr.decode().split("Public key: ")[1].strip())

    def file_for(self, *indexes: int) -> Path:
        path = self.tmp / ("keys-" + "-".join(map(str, indexes)) + ".txt")
        path.write_text("".join(self.files[i].read_text() for i in indexes))
        return path


def _base_env(tmp: Path) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp),
        "SOPS_DISABLE_VERSION_CHECK": "1",
    }


def _kseal(
    cwd: Path, env: dict[str, str], *args: str, input: bytes | None = None
) -> subprocess.CompletedProcess[bytes]:
    out = subprocess.run(
        [sys.executable, "-m", "kseal", *args],
        cwd=cwd,
        env={**_base_env(cwd), **env},
        input=input,
        capture_output=True,
        check=False,
    )
    return out


def _sops(cwd: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[bytes]:
    assert SOPS is not None
    return subprocess.run(
        [SOPS, *args], cwd=cwd, env={**_base_env(cwd), **env}, capture_output=True, check=False
    )


def _ok(out: subprocess.CompletedProcess[bytes]) -> bytes:
    assert out.returncode == 0, out.stderr.decode()
    return out.stdout


def _parsed(text: bytes | str) -> object:
    return safe_load_all(text.decode() if isinstance(text, bytes) else text)


@pytest.fixture
def keys(tmp_path: Path) -> Keys:
    return Keys(tmp_path, 3)


def _shamir_config(tmp: Path, keys: Keys) -> None:
    groups = "".join(f"      - age: [{p}]\n" for p in keys.publics)
    (tmp / ".sops.yaml").write_text(
        f"creation_rules:\n  - shamir_threshold: 2\n    key_groups:\n{groups}"
    )


@pytest.mark.parametrize("writer", ["kseal", "sops"])
def test_shamir_two_of_three(tmp_path: Path, keys: Keys, writer: str) -> None:
    _shamir_config(tmp_path, keys)
    (tmp_path / "app.yaml").write_text(PLAIN)
    run = _kseal if writer == "kseal" else _sops
    encrypted = _ok(run(tmp_path, {}, "encrypt", "app.yaml"))
    assert SENTINEL.encode() not in encrypted
    meta = safe_load_all(encrypted.decode())[0]["sops"]
    assert meta["shamir_threshold"] == 2 and len(meta["key_groups"]) == 3
    (tmp_path / "enc.yaml").write_bytes(encrypted)
    for pair in itertools.combinations(range(3), 2):
        env = {"SOPS_AGE_KEY_FILE": str(keys.file_for(*pair))}
        assert _parsed(_ok(_kseal(tmp_path, env, "decrypt", "enc.yaml"))) == _parsed(PLAIN)
        assert SENTINEL.encode() in _ok(_sops(tmp_path, env, "decrypt", "enc.yaml"))
    for single in range(3):
        env = {"SOPS_AGE_KEY_FILE": str(keys.file_for(single))}
        out = _kseal(tmp_path, env, "decrypt", "enc.yaml")
        assert out.returncode == 128
        assert b"only 1 of the 2 key groups" in out.stderr and SENTINEL.encode() not in out.stderr
        assert _sops(tmp_path, env, "decrypt", "enc.yaml").returncode == 128


def _sops_file(tmp: Path, keys: Keys, name: str = "s.yaml") -> Path:
    (tmp / "plain.yaml").write_text(PLAIN)
    out = _ok(_sops(tmp, {}, "encrypt", "--age", keys.publics[0], "plain.yaml"))
    path = tmp / name
    path.write_bytes(out)
    return path


def test_kseal_changes_sops_files(tmp_path: Path, keys: Keys) -> None:
    """set, unset, edit, rotate and updatekeys by kseal on a sops-written file; sops reads it."""
    enc = _sops_file(tmp_path, keys)
    env0 = {"SOPS_AGE_KEY_FILE": str(keys.files[0])}
    _ok(_kseal(tmp_path, env0, "set", str(enc), '["api"]["retries"]', "5"))
    _ok(_kseal(tmp_path, env0, "unset", str(enc), '["hosts"][0]'))
    editor = tmp_path / "ed.sh"
    editor.write_text('#!/bin/sh\nsed -i "s/b.example/c.example/" "$1"\n')
    editor.chmod(0o755)
    _ok(_kseal(tmp_path, {**env0, "EDITOR": str(editor)}, "edit", str(enc)))
    doc = safe_load_all(_ok(_sops(tmp_path, env0, "decrypt", str(enc))).decode())[0]
    assert doc == {"api": {"token": SENTINEL, "retries": 5}, "hosts": ["c.example"]}
    _ok(_kseal(tmp_path, env0, "rotate", "-i", "--add-age", keys.publics[1], str(enc)))
    env1 = {"SOPS_AGE_KEY_FILE": str(keys.files[1])}
    assert SENTINEL.encode() in _ok(_sops(tmp_path, env1, "decrypt", str(enc)))
    (tmp_path / ".sops.yaml").write_text(f"creation_rules:\n  - age: {keys.publics[2]}\n")
    _ok(_kseal(tmp_path, env0, "updatekeys", "-y", str(enc)))
    env2 = {"SOPS_AGE_KEY_FILE": str(keys.files[2])}
    assert SENTINEL.encode() in _ok(_sops(tmp_path, env2, "decrypt", str(enc)))
    assert _sops(tmp_path, env0, "decrypt", str(enc)).returncode == 128
    # and sops's own updatekeys agrees with the result: nothing left to change
    out = _sops(tmp_path, env2, "updatekeys", "-y", str(enc))
    assert out.returncode == 0 and b"already up to date" in out.stderr.lower()


def test_sops_changes_kseal_files(tmp_path: Path, keys: Keys) -> None:
    (tmp_path / "plain.yaml").write_text(PLAIN)
    enc = tmp_path / "k.yaml"
    enc.write_bytes(_ok(_kseal(tmp_path, {}, "encrypt", "--age", keys.publics[0], "plain.yaml")))
    env0 = {"SOPS_AGE_KEY_FILE": str(keys.files[0])}
    _ok(_sops(tmp_path, env0, "set", str(enc), '["api"]["retries"]', "7"))
    _ok(_sops(tmp_path, env0, "unset", str(enc), '["hosts"]'))
    _ok(_sops(tmp_path, env0, "rotate", "-i", "--add-age", keys.publics[1], str(enc)))
    env1 = {"SOPS_AGE_KEY_FILE": str(keys.files[1])}
    doc = safe_load_all(_ok(_kseal(tmp_path, env1, "decrypt", str(enc))).decode())[0]
    assert doc == {"api": {"token": SENTINEL, "retries": 7}}
    # kseal set --idempotent on a sops-rotated file changes nothing
    before = enc.read_bytes()
    _ok(_kseal(tmp_path, env1, "set", "--idempotent", str(enc), '["api"]["retries"]', "7"))
    assert enc.read_bytes() == before
    assert _ok(_kseal(tmp_path, {}, "filestatus", str(enc))) == _ok(
        _sops(tmp_path, {}, "filestatus", str(enc))
    )


def test_kseal_updatekeys_to_key_groups_then_sops(tmp_path: Path, keys: Keys) -> None:
    enc = _sops_file(tmp_path, keys)
    _shamir_config(tmp_path, keys)
    env0 = {"SOPS_AGE_KEY_FILE": str(keys.files[0])}
    out = _ok(_kseal(tmp_path, env0, "updatekeys", "-y", str(enc)))
    assert out == b""
    env12 = {"SOPS_AGE_KEY_FILE": str(keys.file_for(1, 2))}
    assert SENTINEL.encode() in _ok(_sops(tmp_path, env12, "decrypt", str(enc)))
    assert _parsed(_ok(_kseal(tmp_path, env12, "decrypt", str(enc)))) == _parsed(PLAIN)


def test_exec_env_matches_sops(tmp_path: Path, keys: Keys) -> None:
    (tmp_path / "app.env").write_text(f"TOKEN={SENTINEL}\nRETRIES=3\n")
    enc = tmp_path / "enc.env"
    enc.write_bytes(_ok(_sops(tmp_path, {}, "encrypt", "--age", keys.publics[0], "app.env")))
    env0 = {"SOPS_AGE_KEY_FILE": str(keys.files[0])}
    command = 'printf "%s|%s" "$TOKEN" "$RETRIES"'
    ours = _kseal(tmp_path, env0, "exec-env", str(enc), command)
    theirs = _sops(tmp_path, env0, "exec-env", str(enc), command)
    assert ours.returncode == theirs.returncode == 0, ours.stderr
    assert ours.stdout == theirs.stdout == f"{SENTINEL}|3".encode()
    ours = _kseal(tmp_path, env0, "exec-file", str(enc), "cat {}")
    theirs = _sops(tmp_path, env0, "exec-file", str(enc), "cat {}")
    assert ours.stdout == theirs.stdout


# ---- passphrase-protected identities (real age -p) ----------------------------------------------


def _pty_run(
    argv: list[str], env: dict[str, str], answers: list[bytes], cwd: Path
) -> tuple[int, bytes]:
    """Run ``argv`` on a new pseudo-terminal, typing ``answers`` at each passphrase prompt."""
    pid, fd = pty.fork()
    if pid == 0:  # pragma: no cover - child
        os.chdir(cwd)
        os.execvpe(argv[0], argv, env)  # noqa: S606
    output = b""
    pending = list(answers)
    while True:
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break
        if not chunk:
            break
        output += chunk
        if pending and output.rstrip().lower().endswith((b":", b"passphrase:")):
            os.write(fd, pending.pop(0) + b"\n")
            output += b"\n"
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), output


@pytest.mark.skipif(
    not shutil.which("age"), reason="the age CLI is not installed (apt-get install age)"
)
@pytest.mark.parametrize("armor", [False, True])
def test_passphrase_identity_file_from_age(tmp_path: Path, keys: Keys, armor: bool) -> None:
    locked = tmp_path / "keys.age"
    argv = ["age", "-p", *(["-a"] if armor else []), "-o", str(locked), str(keys.files[0])]
    code, out = _pty_run(
        argv, {**_base_env(tmp_path)}, [b"correct horse", b"correct horse"], tmp_path
    )
    assert code == 0, out
    assert b"AGE-SECRET-KEY" not in locked.read_bytes()
    enc = _sops_file(tmp_path, keys)
    env = {**_base_env(tmp_path), "SOPS_AGE_KEY_FILE": str(locked)}
    code, out = _pty_run(
        [sys.executable, "-m", "kseal", "decrypt", str(enc)], env, [b"correct horse"], tmp_path
    )
    assert code == 0, out
    assert SENTINEL.encode() in out and b"Passphrase for the age identity file" in out
    code, out = _pty_run(
        [sys.executable, "-m", "kseal", "decrypt", str(enc)], env, [b"wrong"], tmp_path
    )
    assert code == 128 and b"incorrect passphrase" in out and SENTINEL.encode() not in out
    # without a terminal the file is reported, not prompted for
    result = _kseal(tmp_path, {"SOPS_AGE_KEY_FILE": str(locked)}, "decrypt", str(enc))
    assert result.returncode == 128
    assert b"passphrase-protected, and no terminal" in result.stderr


FLAT = {
    ".json": f'{{\n\t"token": "{SENTINEL}",\n\t"n": 3,\n\t"nested": {{"a": "b"}}\n}}\n',
    ".env": f"TOKEN={SENTINEL}\n# a comment\nN=3\n",
    ".ini": f"[main]\ntoken = {SENTINEL}\nn = 3\n",
}


@pytest.mark.parametrize("suffix", sorted(FLAT))
def test_other_formats_set_rotate_edit(tmp_path: Path, keys: Keys, suffix: str) -> None:
    plain = tmp_path / f"plain{suffix}"
    plain.write_text(FLAT[suffix])
    enc = tmp_path / f"enc{suffix}"
    enc.write_bytes(_ok(_sops(tmp_path, {}, "encrypt", "--age", keys.publics[0], str(plain))))
    env0 = {"SOPS_AGE_KEY_FILE": str(keys.files[0])}
    path = '["main"]["extra"]' if suffix == ".ini" else '["EXTRA"]'
    _ok(_kseal(tmp_path, env0, "set", str(enc), path, '"added"'))
    _ok(_kseal(tmp_path, env0, "rotate", "-i", str(enc)))
    editor = tmp_path / "ed.sh"
    editor.write_text('#!/bin/sh\nsed -i "s/3/4/" "$1"\n')
    editor.chmod(0o755)
    _ok(_kseal(tmp_path, {**env0, "EDITOR": str(editor)}, "edit", str(enc)))
    ours = _ok(_kseal(tmp_path, env0, "decrypt", str(enc)))
    theirs = _ok(_sops(tmp_path, env0, "decrypt", str(enc)))
    assert ours == theirs
    assert SENTINEL.encode() in ours and b"added" in ours and b"4" in ours


def test_sops_edit_on_kseal_file_and_bulk(tmp_path: Path, keys: Keys) -> None:
    tree = tmp_path / "tree"
    tree.mkdir()
    for i in range(3):
        (tree / f"f{i}.yaml").write_text(f"k: {SENTINEL}{i}\n")
    _ok(_kseal(tmp_path, {}, "encrypt", "-i", "--age", keys.publics[0], str(tree)))
    env0 = {"SOPS_AGE_KEY_FILE": str(keys.files[0])}
    editor = tmp_path / "ed.sh"
    editor.write_text('#!/bin/sh\necho "added: by-sops" >> "$1"\n')
    editor.chmod(0o755)
    _ok(_sops(tmp_path, {**env0, "EDITOR": str(editor)}, "edit", str(tree / "f0.yaml")))
    for i in range(3):
        assert SENTINEL.encode() in _ok(_sops(tmp_path, env0, "decrypt", str(tree / f"f{i}.yaml")))
    _ok(_kseal(tmp_path, env0, "decrypt", "-i", str(tree)))
    assert (tree / "f0.yaml").read_text() == f"k: {SENTINEL}0\nadded: by-sops\n"
