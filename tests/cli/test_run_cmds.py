"""exec-env and exec-file through the real CLI: values reach the command, never the disk."""

from __future__ import annotations

import base64
import os
from pathlib import Path

from tests.cli.conftest import Run

SENTINEL = "SENTINEL-a11e-exec"


def _env(key: Path, tmp_path: Path, **extra: str) -> dict[str, str]:
    runtime = tmp_path / "run"
    runtime.mkdir(exist_ok=True)
    return {"SOPS_AGE_KEY_FILE": str(key), "XDG_RUNTIME_DIR": str(runtime), **extra}


def _encrypt(kseal: Run, tmp_path: Path, public: str, name: str, text: str) -> Path:
    plain = tmp_path / f"plain-{name}"
    plain.write_text(text)
    out = kseal("encrypt", "--age", public, str(plain))
    assert out.returncode == 0, out.stderr
    plain.unlink()
    enc = tmp_path / name
    enc.write_bytes(out.stdout)
    return enc


def _clean(tmp_path: Path) -> None:
    runtime = tmp_path / "run"
    assert not runtime.exists() or list(runtime.iterdir()) == []
    for path in tmp_path.rglob("*"):
        if path.is_file() and not path.name.startswith("out"):
            assert SENTINEL.encode() not in path.read_bytes(), path


def test_exec_env_values_and_pristine(
    kseal: Run, tmp_path: Path, identity: tuple[Path, str]
) -> None:
    key, public = identity
    enc = _encrypt(
        kseal,
        tmp_path,
        public,
        "app.yaml",
        f"password: {SENTINEL}\nport: 5432\nflag: true\nnested:\n  a: b\nbad-name: x\n",
    )
    env = _env(key, tmp_path, INHERITED="yes")
    out = kseal(
        "exec-env",
        str(enc),
        'printf "%s|%s|%s|%s" "$password" "$port" "$flag" "$INHERITED"',
        env=env,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout == f"{SENTINEL}|5432|true|yes".encode()
    assert b"skipped values that cannot be variables: nested, bad-name" in out.stderr
    assert SENTINEL.encode() not in out.stderr
    out = kseal(
        "exec-env", "--pristine", str(enc), 'printf "%s|%s" "$password" "$INHERITED"', env=env
    )
    assert out.stdout == f"{SENTINEL}|".encode()
    _clean(tmp_path)


def test_exec_env_kubernetes_secret(kseal: Run, tmp_path: Path, identity: tuple[Path, str]) -> None:
    key, public = identity
    b64 = base64.b64encode(SENTINEL.encode()).decode()
    enc = _encrypt(
        kseal,
        tmp_path,
        public,
        "secret.yaml",
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n"
        f"data:\n  PASSWORD: {b64}\nstringData:\n  USER: admin\n",
    )
    out = kseal(
        "exec-env",
        str(enc),
        'printf "%s/%s/%s" "$PASSWORD" "$USER" "$kind"',
        env=_env(key, tmp_path),
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout == f"{SENTINEL}/admin/".encode()
    bad = _encrypt(
        kseal,
        tmp_path,
        public,
        "bad.yaml",
        f"apiVersion: v1\nkind: Secret\ndata:\n  PASSWORD: {SENTINEL}!\n",
    )
    marker = tmp_path / "ran"
    out = kseal("exec-env", str(bad), f"touch {marker}", env=_env(key, tmp_path))
    assert out.returncode == 2 and b"not valid base64" in out.stderr
    assert SENTINEL.encode() not in out.stderr and not marker.exists()


def test_exec_env_status_dotenv_and_no_key(
    kseal: Run, tmp_path: Path, identity: tuple[Path, str]
) -> None:
    key, public = identity
    enc = _encrypt(kseal, tmp_path, public, "app.env", f"TOKEN={SENTINEL}\n")
    env = _env(key, tmp_path)
    assert kseal("exec-env", str(enc), "exit 7", env=env).returncode == 7
    assert kseal("exec-env", str(enc), "kill -TERM $$", env=env).returncode == 143
    out = kseal("exec-env", str(enc), 'test "$TOKEN" = ' + SENTINEL, env=env)
    assert out.returncode == 0
    marker = tmp_path / "ran"
    out = kseal("exec-env", str(enc), f"touch {marker}", env={"SOPS_AGE_KEY_FILE": os.devnull})
    assert out.returncode == 128 and not marker.exists()


def test_exec_file_fifo(kseal: Run, tmp_path: Path, identity: tuple[Path, str]) -> None:
    key, public = identity
    text = f"# keep\npassword: {SENTINEL}   # note\n"
    enc = _encrypt(kseal, tmp_path, public, "app.yaml", text)
    seen = tmp_path / "out-path"
    env = _env(key, tmp_path)
    out = kseal("exec-file", str(enc), f"cat {{}}; echo {{}} > {seen}; test -p {{}}", env=env)
    assert out.returncode == 0, out.stderr
    assert out.stdout == text.encode()  # layout and comments kept
    path = Path(seen.read_text().strip())
    assert path.name == "app.yaml" and path.is_relative_to(tmp_path / "run")
    assert not path.exists() and not path.parent.exists()
    # a command that never opens the FIFO does not hang
    out = kseal("exec-file", str(enc), "true", env=env)
    assert out.returncode == 0
    out = kseal("exec-file", "--output-type", "json", str(enc), "cat {}", env=env)
    assert out.stdout == f'{{\n\t"password": "{SENTINEL}"\n}}\n'.encode()
    assert kseal("exec-file", str(enc), "exit 3", env=env).returncode == 3
    _clean(tmp_path)


def test_exec_file_no_fifo(kseal: Run, tmp_path: Path, identity: tuple[Path, str]) -> None:
    key, public = identity
    enc = _encrypt(kseal, tmp_path, public, "app.env", f"TOKEN={SENTINEL}\n")
    seen = tmp_path / "out-path"
    env = _env(key, tmp_path)
    command = f"stat -c %a {{}}; cat {{}} {{}}; echo {{}} > {seen}"
    out = kseal("exec-file", "--no-fifo", "--filename", "x.env", str(enc), command, env=env)
    assert out.returncode == 0, out.stderr
    assert out.stdout == f"600\nTOKEN={SENTINEL}\nTOKEN={SENTINEL}\n".encode()
    assert not Path(seen.read_text().strip()).exists()
    out = kseal("exec-file", "--filename", "../x", str(enc), "true", env=env)
    assert out.returncode == 2
    _clean(tmp_path)


def test_exec_file_removed_when_kseal_is_terminated(
    kseal: Run, tmp_path: Path, identity: tuple[Path, str]
) -> None:
    key, public = identity
    enc = _encrypt(kseal, tmp_path, public, "app.env", f"TOKEN={SENTINEL}\n")
    env = _env(key, tmp_path)
    out = kseal("exec-file", "--no-fifo", str(enc), "kill -TERM $PPID; exec sleep 5", env=env)
    assert out.returncode == 143
    _clean(tmp_path)
