"""File-system safety through the real CLI: -i writes through symbolic links (as sops), quoted
globs stay inside the tree, and a SIGKILL at the worst moment leaves no plaintext behind (or, where
a named temporary file is unavoidable, the next run removes it and ``kseal check`` flags it)."""

from __future__ import annotations

import os
import shutil
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.cli.conftest import Run
from tests.peers import sops_binary

SENTINEL = "SENTINEL-9d1e-fileio"
PLAIN = f"password: {SENTINEL}\nuser: admin\n"


def _env(key: Path) -> dict[str, str]:
    return {"SOPS_AGE_KEY_FILE": str(key)}


def _encrypted(kseal: Run, tmp_path: Path, public: str, where: Path) -> bytes:
    src = tmp_path / "src.yaml"
    src.write_text(PLAIN)
    out = kseal("encrypt", "--age", public, str(src))
    assert out.returncode == 0, out.stderr
    src.unlink()
    where.parent.mkdir(parents=True, exist_ok=True)
    where.write_bytes(out.stdout)
    return out.stdout


def _holding_sentinel(root: Path) -> list[Path]:
    found = []
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            p = Path(dirpath) / name
            if not p.is_symlink() and SENTINEL.encode() in p.read_bytes():
                found.append(p)
    return found


def test_in_place_writes_through_a_symlink(
    kseal: Run, tmp_path: Path, identity: tuple[Path, str]
) -> None:
    key, public = identity
    target = tmp_path / "real" / "secret.yaml"
    _encrypted(kseal, tmp_path, public, target)
    target.chmod(0o640)
    link = tmp_path / "link.yaml"
    link.symlink_to("real/secret.yaml")
    out = kseal("decrypt", "-i", "link.yaml", env=_env(key))
    assert out.returncode == 0, out.stderr
    assert link.is_symlink() and os.readlink(link) == "real/secret.yaml"
    assert target.read_text() == PLAIN
    assert stat.S_IMODE(target.stat().st_mode) == 0o600  # plaintext: never group-readable
    target.chmod(0o640)
    out = kseal("encrypt", "-i", "--age", public, "link.yaml")
    assert out.returncode == 0, out.stderr
    assert link.is_symlink() and SENTINEL not in target.read_text()
    assert stat.S_IMODE(target.stat().st_mode) == 0o640  # a rewrite keeps the mode
    assert _holding_sentinel(tmp_path) == []


@pytest.mark.skipif(os.geteuid() != 0, reason="changing a file's owner needs root")
def test_in_place_keeps_the_owner(kseal: Run, tmp_path: Path, identity: tuple[Path, str]) -> None:
    key, public = identity
    target = tmp_path / "secret.yaml"
    _encrypted(kseal, tmp_path, public, target)
    os.chown(target, 4321, 4322)
    out = kseal("decrypt", "-i", str(target), env=_env(key))
    assert out.returncode == 0, out.stderr
    assert (target.stat().st_uid, target.stat().st_gid) == (4321, 4322)


@pytest.mark.interop
def test_sops_also_writes_through_the_link(tmp_path: Path) -> None:
    binary = sops_binary()
    if binary is None or shutil.which("age-keygen") is None:
        pytest.skip("needs the sops binary and age-keygen")
    key = tmp_path / "key.txt"
    subprocess.run(["age-keygen", "-o", str(key)], capture_output=True, check=True)
    public = key.read_text().split("# public key: ")[1].split()[0]
    (tmp_path / "real.yaml").write_text(PLAIN)
    (tmp_path / "link.yaml").symlink_to("real.yaml")
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "SOPS_DISABLE_VERSION_CHECK": "1"}
    out = subprocess.run(
        [binary, "encrypt", "-i", "--age", public, "link.yaml"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "link.yaml").is_symlink()  # the behaviour kseal now matches
    assert SENTINEL not in (tmp_path / "real.yaml").read_text()


def test_glob_does_not_follow_directory_links_out_of_the_tree(
    kseal: Run, tmp_path: Path, identity: tuple[Path, str]
) -> None:
    _key, public = identity
    tree = tmp_path / "tree"
    (tree / "app").mkdir(parents=True)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "other.yaml").write_text(PLAIN)
    (tree / "app" / "mine.yaml").write_text(PLAIN)
    (tree / "app" / "escape").symlink_to(outside)
    out = kseal("encrypt", "-i", "--age", public, "**/*.yaml", cwd=tree)
    assert out.returncode == 0, out.stderr
    assert SENTINEL not in (tree / "app" / "mine.yaml").read_text()
    assert (outside / "other.yaml").read_text() == PLAIN
    assert "escape" not in out.stderr.decode()


def _killed_at_rename(
    tmp_path: Path, args: list[str], env: dict[str, str], *, no_tmpfile: bool = False
) -> None:
    """Run kseal ``args``, SIGKILL it once its output is written but not yet renamed."""
    marker = tmp_path / "paused"
    code = "import kseal.fileio as f\n"
    if no_tmpfile:
        code += "f.USE_TMPFILE = False\n"
    code += "from kseal.cli.main import run\nimport sys\nrun(sys.argv[1:])\n"
    base = {k: v for k, v in os.environ.items() if not k.startswith(("SOPS_", "KSEAL_", "XDG_"))}
    proc = subprocess.Popen(
        [sys.executable, "-c", code, *args],
        env={**base, **env, "KSEAL_TEST_PAUSE_BEFORE_RENAME": str(marker)},
        cwd=tmp_path / "work",
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while not marker.exists():
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else b""
            assert time.monotonic() < deadline, "kseal never reached the rename"
            time.sleep(0.02)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert proc.returncode == -signal.SIGKILL


@pytest.mark.parametrize("how", [["-i", "secret.yaml"], ["--output", "plain.yaml", "secret.yaml"]])
def test_sigkill_before_the_rename_leaves_no_plaintext(
    kseal: Run, tmp_path: Path, identity: tuple[Path, str], how: list[str]
) -> None:
    key, public = identity
    work = tmp_path / "work"
    encrypted = _encrypted(kseal, tmp_path, public, work / "secret.yaml")
    _killed_at_rename(tmp_path, ["decrypt", *how], _env(key))
    assert _holding_sentinel(work) == []
    assert sorted(os.listdir(work)) == ["secret.yaml"]  # no temporary name, no output
    assert (work / "secret.yaml").read_bytes() == encrypted


def test_named_fallback_is_flagged_then_removed(
    kseal: Run, tmp_path: Path, identity: tuple[Path, str]
) -> None:
    key, public = identity
    work = tmp_path / "work"
    _encrypted(kseal, tmp_path, public, work / "secret.yaml")
    _killed_at_rename(tmp_path, ["decrypt", "-i", "secret.yaml"], _env(key), no_tmpfile=True)
    [left] = _holding_sentinel(work)  # a file system without O_TMPFILE: a named file remains
    assert left.name.startswith(".secret.yaml.kseal-tmp-")
    assert stat.S_IMODE(left.stat().st_mode) == 0o600
    out = kseal("check", ".", cwd=work)
    assert out.returncode == 1
    assert f"{left.name}:1:1: KS305 temporary file of a killed kseal run writing secret.yaml" in (
        out.stdout.decode()
    )
    assert SENTINEL not in out.stdout.decode() + out.stderr.decode()
    out = kseal("decrypt", "--output", "plain.yaml", "secret.yaml", cwd=work, env=_env(key))
    assert out.returncode == 0, out.stderr
    assert f"kseal: warning: removed {left}: a temporary file left by a killed kseal run" in (
        out.stderr.decode()
    )
    assert not left.exists()
    assert _holding_sentinel(work) == [work / "plain.yaml"]


def test_the_next_command_removes_a_killed_edit(
    kseal: Run, tmp_path: Path, identity: tuple[Path, str]
) -> None:
    key, public = identity
    work = tmp_path / "work"
    _encrypted(kseal, tmp_path, public, work / "secret.yaml")
    runtime = tmp_path / "run"
    runtime.mkdir(mode=0o700)
    marker = tmp_path / "editing"
    editor = tmp_path / "editor.sh"
    editor.write_text(f'#!/bin/sh\ntouch "{marker}"\nexec sleep 60\n')
    editor.chmod(0o755)
    base = {k: v for k, v in os.environ.items() if not k.startswith(("SOPS_", "KSEAL_", "XDG_"))}
    env = {**base, **_env(key), "XDG_RUNTIME_DIR": str(runtime), "EDITOR": str(editor)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "kseal", "edit", "secret.yaml"],
        env=env,
        cwd=work,
        start_new_session=True,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while not marker.exists():
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.02)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # kseal and its editor: nothing can clean up
        proc.wait()
    [left] = _holding_sentinel(runtime)
    run_dir = left.parent
    assert run_dir.name.startswith(f"kseal-{proc.pid}-")
    out = kseal(
        "decrypt", "secret.yaml", cwd=work, env={**_env(key), "XDG_RUNTIME_DIR": str(runtime)}
    )
    assert out.returncode == 0, out.stderr
    err = out.stderr.decode()
    assert (
        f"kseal: warning: removed {run_dir}: plaintext left by a killed kseal run (pid {proc.pid})"
        in err
    )
    assert not run_dir.exists() and _holding_sentinel(runtime) == []


def test_a_live_runs_directory_is_left_alone(kseal: Run, tmp_path: Path) -> None:
    runtime = tmp_path / "run"
    live = runtime / f"kseal-{os.getpid()}-abcd1234"
    live.mkdir(parents=True)
    (live / "x.yaml").write_text(PLAIN)
    out = kseal("--version", env={"XDG_RUNTIME_DIR": str(runtime)})
    assert out.returncode == 0 and out.stderr == b""
    assert (live / "x.yaml").read_text() == PLAIN


def test_private_key_files_open_to_others_get_a_warning(
    kseal: Run, tmp_path: Path, identity: tuple[Path, str]
) -> None:
    key, public = identity
    work = tmp_path / "work"
    _encrypted(kseal, tmp_path, public, work / "secret.yaml")
    out = kseal("decrypt", "secret.yaml", cwd=work, env=_env(key))
    assert out.returncode == 0 and out.stderr == b""  # 0600, as keygen writes it: silent
    key.chmod(0o644)
    out = kseal("decrypt", "secret.yaml", cwd=work, env=_env(key))
    assert out.returncode == 0, out.stderr  # a warning, not an error
    assert out.stderr.decode() == (
        f"kseal: warning: {key}: this age identity file is accessible to group or others "
        f"(mode 0644), which ssh would refuse for a key; run: chmod 600 {key}\n"
    )
    pem, cert = tmp_path / "sealing.pem", tmp_path / "cert.pem"
    out = kseal("keys", "generate", "--key", str(pem), "--cert", str(cert), "--bits", "2048")
    assert out.returncode == 0, out.stderr
    pem.chmod(0o640)
    sealed = kseal(
        "seal",
        "--cert",
        str(cert),
        "--scope",
        "cluster-wide",
        input=(
            b"apiVersion: v1\nkind: Secret\nmetadata: {name: db, namespace: prod}\n"
            b"stringData: {password: x}\n"
        ),
    )
    assert sealed.returncode == 0, sealed.stderr
    (tmp_path / "sealed.json").write_bytes(sealed.stdout)
    for args in (["unseal", "-k", str(pem)], ["check", "--sealing-key", str(pem), "sealed.json"]):
        out = kseal(*args, input=sealed.stdout)
        assert out.returncode == 0, out.stderr
        assert (
            f"kseal: warning: {pem}: this sealing private key is accessible to group or others "
            "(mode 0640)"
        ) in out.stderr.decode(), args
        assert "kseal: error" not in out.stderr.decode()


def test_a_run_whose_pid_looks_dead_but_holds_its_lock_is_left_alone(
    kseal: Run, tmp_path: Path
) -> None:
    """Another pid namespace sharing the directory: its pid means nothing here, its lock does."""
    import fcntl

    gone = subprocess.Popen(["true"])
    gone.wait()  # a pid that no longer runs here
    runtime, work = tmp_path / "run", tmp_path / "work"
    other = runtime / f"kseal-{gone.pid}-abcd1234"
    other.mkdir(parents=True)
    (other / "x.yaml").write_text(PLAIN)
    work.mkdir()
    temp = work / f".x.yaml.kseal-tmp-{gone.pid}-0123abcd"
    temp.write_text(PLAIN)
    env = {"XDG_RUNTIME_DIR": str(runtime)}
    locks = [os.open(other, os.O_RDONLY), os.open(temp, os.O_RDONLY)]
    try:
        for fd in locks:
            fcntl.flock(fd, fcntl.LOCK_EX)
        out = kseal("keygen", "-o", "k.txt", cwd=work, env=env)  # a write in work/
        assert out.returncode == 0, out.stderr
        assert "removed" not in out.stderr.decode()
        assert (other / "x.yaml").exists() and temp.exists()
    finally:
        for fd in locks:
            os.close(fd)
    out = kseal("keygen", "-o", "k2.txt", cwd=work, env=env)
    assert out.returncode == 0, out.stderr
    err = out.stderr.decode()
    assert f"removed {other}" in err and f"removed {temp}" in err
    assert not other.exists() and not temp.exists()
