"""edit, rotate, updatekeys, set, unset, filestatus and bulk mode through the real CLI."""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

from kseal.yamlio import safe_load_all
from tests.cli.conftest import Run, on_a_terminal

SENTINEL = "SENTINEL-51c2-plain"
PLAIN = f"""\
# database settings
db:
  user: admin   # who
  password: {SENTINEL}
  port: 5432
list:
  - one
  - two
"""


def _env(key: Path, **extra: str) -> dict[str, str]:
    return {"SOPS_AGE_KEY_FILE": str(key), **extra}


def _encrypted(kseal: Run, tmp_path: Path, public: str, text: str = PLAIN) -> Path:
    plain = tmp_path / "plain.yaml"
    plain.write_text(text)
    out = kseal("encrypt", "--age", public, str(plain))
    assert out.returncode == 0, out.stderr
    enc = tmp_path / "secret.yaml"
    enc.write_bytes(out.stdout)
    plain.unlink()
    return enc


def _decrypt(kseal: Run, path: Path, key: Path) -> str:
    out = kseal("decrypt", str(path), env=_env(key))
    assert out.returncode == 0, out.stderr
    return out.stdout.decode()


def _script(tmp_path: Path, name: str, body: str) -> Path:
    path = tmp_path / name
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(0o755)
    return path


def _no_plaintext_left(*roots: Path) -> None:
    for root in roots:
        for path in root.rglob("*"):
            if path.is_file():
                assert SENTINEL.encode() not in path.read_bytes(), path


def _changed_lines(before: str, after: str) -> list[int]:
    a, b = before.splitlines(), after.splitlines()
    assert len(a) == len(b)
    return [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]


# ---- edit ---------------------------------------------------------------------------------------


def test_edit_changes_only_the_edited_line(
    kseal: Run, tmp_path: Path, identity: tuple[Path, str]
) -> None:
    key, public = identity
    enc = _encrypted(kseal, tmp_path, public)
    before = enc.read_text()
    runtime = tmp_path / "run"
    runtime.mkdir(mode=0o700)
    log = tmp_path / "editor.log"
    editor = _script(
        tmp_path,
        "ed.sh",
        f'stat -c "%a %n" "$1" "$(dirname "$1")" > {log}\nsed -i "s/5432/6543/" "$1"\n',
    )
    out = kseal("edit", str(enc), env=_env(key, EDITOR=str(editor), XDG_RUNTIME_DIR=str(runtime)))
    assert out.returncode == 0, out.stderr
    after = enc.read_text()
    changed = _changed_lines(before, after)
    names = [after.splitlines()[i].split(":")[0].strip() for i in changed]
    assert [n for n in names if n != "lastmodified"] == ["port", "mac"]
    assert "port: 6543" in _decrypt(kseal, enc, key)
    modes = log.read_text().split()
    assert modes[0] == "600" and modes[2] == "700" and modes[1].startswith(str(runtime))
    assert list(runtime.iterdir()) == []
    _no_plaintext_left(tmp_path)


def test_edit_without_change_exits_200(
    kseal: Run, tmp_path: Path, identity: tuple[Path, str]
) -> None:
    key, public = identity
    enc = _encrypted(kseal, tmp_path, public)
    before = enc.read_bytes()
    runtime = tmp_path / "run"
    runtime.mkdir()
    out = kseal("edit", str(enc), env=_env(key, EDITOR="true", XDG_RUNTIME_DIR=str(runtime)))
    assert out.returncode == 200
    assert enc.read_bytes() == before
    assert list(runtime.iterdir()) == []


def test_edit_invalid_then_fixed(kseal: Run, tmp_path: Path, identity: tuple[Path, str]) -> None:
    key, public = identity
    enc = _encrypted(kseal, tmp_path, public)
    count = tmp_path / "count"
    editor = _script(
        tmp_path,
        "ed.sh",
        f'if [ -e {count} ]; then sed -i "s/^bad: \\[$/fixed: done/" "$1"; '
        f'else touch {count}; echo "bad: [" >> "$1"; fi\n',
    )
    runtime = tmp_path / "run"
    runtime.mkdir()
    out = kseal(
        "edit",
        str(enc),
        input=b"\n",
        env=_env(key, EDITOR=str(editor), XDG_RUNTIME_DIR=str(runtime)),
    )
    assert out.returncode == 0, out.stderr
    assert b"invalid YAML" in out.stderr and SENTINEL.encode() not in out.stderr
    assert "fixed: done" in _decrypt(kseal, enc, key)
    assert list(runtime.iterdir()) == []


def test_edit_invalid_and_given_up_writes_nothing(
    kseal: Run, tmp_path: Path, identity: tuple[Path, str]
) -> None:
    key, public = identity
    enc = _encrypted(kseal, tmp_path, public)
    before = enc.read_bytes()
    editor = _script(tmp_path, "ed.sh", 'echo "bad: [" >> "$1"\n')
    runtime = tmp_path / "run"
    runtime.mkdir()
    out = kseal(
        "edit", str(enc), input=b"", env=_env(key, EDITOR=str(editor), XDG_RUNTIME_DIR=str(runtime))
    )
    assert out.returncode == 1
    assert enc.read_bytes() == before
    assert list(runtime.iterdir()) == []


def test_edit_killed_editor_and_killed_kseal(
    kseal: Run, tmp_path: Path, identity: tuple[Path, str]
) -> None:
    key, public = identity
    enc = _encrypted(kseal, tmp_path, public)
    before = enc.read_bytes()
    runtime = tmp_path / "run"
    runtime.mkdir()
    editor = _script(tmp_path, "ed.sh", 'echo "x: 1" >> "$1"\nkill -9 $$\n')
    out = kseal("edit", str(enc), env=_env(key, EDITOR=str(editor), XDG_RUNTIME_DIR=str(runtime)))
    assert out.returncode == 1 and b"killed by signal 9" in out.stderr
    assert enc.read_bytes() == before
    assert list(runtime.iterdir()) == []
    # kseal itself interrupted (Ctrl-C) or terminated while the editor runs: the plaintext is
    # still removed.
    for sig, code in (("INT", 130), ("TERM", 143), ("HUP", 129)):
        editor = _script(tmp_path, f"ed-{sig}.sh", f"kill -{sig} $PPID\nexec sleep 5\n")
        out = kseal(
            "edit", str(enc), env=_env(key, EDITOR=str(editor), XDG_RUNTIME_DIR=str(runtime))
        )
        assert out.returncode == code, (sig, out.stderr)
        if sig == "INT":
            assert out.stderr.decode().splitlines()[-1] == "kseal: error: interrupted"
        assert enc.read_bytes() == before
        assert list(runtime.iterdir()) == []


def test_edit_new_file_from_template(
    kseal: Run, tmp_path: Path, identity: tuple[Path, str]
) -> None:
    key, public = identity
    target = tmp_path / "new.yaml"
    editor = _script(tmp_path, "ed.sh", f'printf "token: {SENTINEL}\\n" > "$1"\n')
    runtime = tmp_path / "run"
    runtime.mkdir()
    env = _env(key, EDITOR=str(editor), XDG_RUNTIME_DIR=str(runtime))
    out = kseal("edit", "--age", public, str(target), env=env)
    assert out.returncode == 0, out.stderr
    assert SENTINEL not in target.read_text()
    assert _decrypt(kseal, target, key) == f"token: {SENTINEL}\n"
    # an untouched template writes nothing
    out = kseal("edit", "--age", public, str(tmp_path / "other.yaml"), env=_env(key, EDITOR="true"))
    assert out.returncode == 200 and not (tmp_path / "other.yaml").exists()
    out = kseal("edit", str(tmp_path / "third.yaml"), env=_env(key, EDITOR="true"))
    assert out.returncode == 1 and b"needs recipients" in out.stderr


# ---- set / unset / filestatus -------------------------------------------------------------------


def test_set_keeps_other_ciphertexts(
    kseal: Run, tmp_path: Path, identity: tuple[Path, str]
) -> None:
    key, public = identity
    enc = _encrypted(kseal, tmp_path, public)
    before = enc.read_text()
    out = kseal("set", str(enc), '["db"]["user"]', '"root"', env=_env(key))
    assert out.returncode == 0, out.stderr
    after = enc.read_text()
    names = [after.splitlines()[i].split(":")[0].strip() for i in _changed_lines(before, after)]
    assert [n for n in names if n != "lastmodified"] == ["user", "mac"]  # same second: equal
    assert "user: root   # who" in _decrypt(kseal, enc, key)


def test_set_value_sources_and_idempotent(
    kseal: Run, tmp_path: Path, identity: tuple[Path, str]
) -> None:
    key, public = identity
    enc = _encrypted(kseal, tmp_path, public)
    value = tmp_path / "v.json"
    value.write_text('{"a": [1, 2]}')
    assert (
        kseal("set", "--value-file", str(enc), '["x"]', str(value), env=_env(key)).returncode == 0
    )
    out = kseal("set", "--value-stdin", str(enc), '["y"]', input=b'"from stdin"', env=_env(key))
    assert out.returncode == 0, out.stderr
    out = kseal("set", "--string", str(enc), '["z"]', "raw text", env=_env(key))
    assert out.returncode == 0, out.stderr
    doc = safe_load_all(_decrypt(kseal, enc, key))[0]
    assert doc["x"] == {"a": [1, 2]} and doc["y"] == "from stdin" and doc["z"] == "raw text"
    before = enc.read_bytes()
    out = kseal("set", "--idempotent", str(enc), '["y"]', '"from stdin"', env=_env(key))
    assert out.returncode == 0 and enc.read_bytes() == before
    out = kseal("set", str(enc), '["y"]', "not json", env=_env(key))
    assert out.returncode == 2 and b"--string" in out.stderr
    assert enc.read_bytes() == before


def test_unset(kseal: Run, tmp_path: Path, identity: tuple[Path, str]) -> None:
    key, public = identity
    enc = _encrypted(kseal, tmp_path, public)
    assert kseal("unset", str(enc), '["list"][0]', env=_env(key)).returncode == 0
    assert kseal("unset", str(enc), '["db"]["port"]', env=_env(key)).returncode == 0
    doc = safe_load_all(_decrypt(kseal, enc, key))[0]
    assert doc["list"] == ["two"] and "port" not in doc["db"]
    out = kseal("unset", str(enc), '["nope"]', env=_env(key))
    assert out.returncode == 1  # as sops
    assert kseal("unset", "--idempotent", str(enc), '["nope"]', env=_env(key)).returncode == 0


def test_filestatus(kseal: Run, tmp_path: Path, identity: tuple[Path, str]) -> None:
    _, public = identity
    enc = _encrypted(kseal, tmp_path, public)
    assert kseal("filestatus", str(enc)).stdout == b'{"encrypted":true}\n'
    plain = tmp_path / "p.yaml"
    plain.write_text("a: 1\n")
    assert kseal("filestatus", str(plain)).stdout == b'{"encrypted":false}\n'


# ---- rotate / updatekeys -------------------------------------------------------------------------


def test_rotate_new_key_and_recipients(
    kseal: Run, tmp_path: Path, identity: tuple[Path, str]
) -> None:
    key, public = identity
    enc = _encrypted(kseal, tmp_path, public)
    other = tmp_path / "other.txt"
    other_public = (
        kseal("keygen", "-o", str(other)).stderr.decode().split("Public key: ")[1].strip()
    )
    old_values = set(re.findall(r"data:([^,]+)", enc.read_text()))
    out = kseal(
        "rotate", "-i", "--add-age", other_public, "--rm-age", public, str(enc), env=_env(key)
    )
    assert out.returncode == 0, out.stderr
    text = enc.read_text()
    assert not old_values & set(re.findall(r"data:([^,]+)", text))
    assert public not in text and other_public in text
    assert SENTINEL in _decrypt(kseal, enc, other)
    assert kseal("decrypt", str(enc), env=_env(key)).returncode == 128


def test_updatekeys_follows_sops_yaml(
    kseal: Run, tmp_path: Path, identity: tuple[Path, str]
) -> None:
    key, public = identity
    enc = _encrypted(kseal, tmp_path, public)
    before = enc.read_text()
    other = tmp_path / "other.txt"
    other_public = (
        kseal("keygen", "-o", str(other)).stderr.decode().split("Public key: ")[1].strip()
    )
    (tmp_path / ".sops.yaml").write_text(f"creation_rules:\n  - age: {public},{other_public}\n")
    out = kseal("updatekeys", str(enc), env=_env(key))
    assert out.returncode == 8 and b"-y" in out.stderr  # stdin is not a terminal
    out = kseal("updatekeys", str(enc), input=b"n\n", env=_env(key))
    assert out.returncode == 8
    out = kseal("updatekeys", "-y", str(enc), env=_env(key))
    assert out.returncode == 0, out.stderr
    assert f"+++ {other_public}".encode() in out.stderr
    after = enc.read_text()
    # values, MAC and lastmodified are untouched: only the recipients block grew
    for line in before.splitlines():
        if "ENC[" in line or "lastmodified" in line:
            assert line in after
    assert SENTINEL in _decrypt(kseal, enc, other)
    out = kseal("updatekeys", "-y", str(enc), env=_env(key))
    assert out.returncode == 0 and b"already up to date" in out.stderr


# ---- bulk mode ----------------------------------------------------------------------------------


def test_bulk_encrypt_decrypt_directory(
    kseal: Run, tmp_path: Path, identity: tuple[Path, str]
) -> None:
    key, public = identity
    tree = tmp_path / "tree"
    (tree / "sub").mkdir(parents=True)
    for i in range(3):
        (tree / f"s{i}.yaml").write_text(f"k: {SENTINEL}{i}\n")
    (tree / "sub" / "x.json").write_text(f'{{"k": "{SENTINEL}"}}\n')
    (tree / "sub" / "bad.yaml").write_text("k: [\n")
    (tree / "notes.txt").write_text("ignored by directory walks\n")
    out = kseal("encrypt", "--age", public, str(tree))
    assert out.returncode == 8 and b"-i" in out.stderr
    out = kseal("encrypt", "-i", "--age", public, str(tree))
    assert out.returncode == 2, out.stderr  # bad.yaml: invalid YAML (the others still done)
    err = out.stderr.decode()
    assert "4 done, 0 skipped, 1 failed" in err and "bad.yaml: FAILED" in err
    assert SENTINEL not in (tree / "s0.yaml").read_text()
    assert SENTINEL not in (tree / "sub" / "x.json").read_text()
    (tree / "sub" / "bad.yaml").unlink()
    out = kseal("encrypt", "-i", "--age", public, str(tree / "*.yaml"))
    assert out.returncode == 0 and b"3 skipped" in out.stderr  # already encrypted
    out = kseal("decrypt", "-i", str(tree), env=_env(key))
    assert out.returncode == 0, out.stderr
    assert (tree / "s1.yaml").read_text() == f"k: {SENTINEL}1\n"
    assert stat.S_IMODE((tree / "s1.yaml").stat().st_mode) & 0o077 == 0


def test_bulk_rotate_reports_failures(
    kseal: Run, tmp_path: Path, identity: tuple[Path, str]
) -> None:
    key, public = identity
    a = _encrypted(kseal, tmp_path, public)
    b = tmp_path / "b.yaml"
    b.write_bytes(a.read_bytes())
    c = tmp_path / "c.yaml"
    c.write_text("plain: true\n")
    out = kseal("rotate", "-i", str(a), str(b), str(c), env=_env(key))
    assert out.returncode == 0, out.stderr
    assert b"2 done, 1 skipped, 0 failed" in out.stderr
    out = kseal("rotate", "-i", str(a), str(b), env={"SOPS_AGE_KEY_FILE": os.devnull})
    assert out.returncode == 128 and b"0 done, 0 skipped, 2 failed" in out.stderr
    assert SENTINEL.encode() not in out.stderr


def test_bulk_progress_on_a_terminal(
    kseal: Run, tmp_path: Path, identity: tuple[Path, str]
) -> None:
    """On a terminal, bulk mode draws a progress bar and a summary table."""
    _, public = identity
    for i in range(3):
        (tmp_path / f"t{i}.yaml").write_text(f"k: v{i}\n")
    status, text = on_a_terminal(
        tmp_path, "encrypt", "-i", "--age", public, "t0.yaml", "t1.yaml", "t2.yaml"
    )
    assert status == 0, text
    assert "3 done, 0 skipped, 0 failed" in text and "t2.yaml" in text


def test_failure_paths_never_show_values(
    kseal: Run, tmp_path: Path, identity: tuple[Path, str]
) -> None:
    """Every workflow command, failing for each reason we can provoke: stderr and stdout carry
    no plaintext, and the file is untouched."""
    key, public = identity
    enc = _encrypted(kseal, tmp_path, public)
    before = enc.read_bytes()
    wrong = tmp_path / "wrong.txt"
    kseal("keygen", "-o", str(wrong))
    tampered = tmp_path / "tampered.yaml"
    tampered.write_text(
        re.sub(r"(mac: ENC\[AES256_GCM,data:)(.)", r"\1A\2", before.decode(), count=1)
    )
    nokey = {"SOPS_AGE_KEY_FILE": str(wrong)}
    runs = [
        (nokey, ("set", str(enc), '["db"]["user"]', '"x"')),
        (_env(key), ("set", str(enc), '["db"]["user"]', f"{SENTINEL}-not-json")),
        (_env(key), ("set", str(enc), "not a path", '"x"')),
        (nokey, ("unset", str(enc), '["db"]')),
        (nokey, ("rotate", "-i", str(enc))),
        (nokey, ("edit", str(enc))),
        (nokey, ("exec-env", str(enc), "true")),
        (nokey, ("exec-file", str(enc), "true")),
        (nokey, ("diff", str(enc), str(enc))),
        (_env(key), ("decrypt", str(tampered))),
        (_env(key), ("edit", str(tampered))),
        (_env(key), ("rotate", "-i", str(tampered))),
        (_env(key), ("exec-env", str(tampered), "true")),
    ]
    for env, args in runs:
        for debug in ((), ("--debug",)):
            out = kseal(*debug, *args, env={**env, "EDITOR": "true"})
            assert out.returncode != 0, args
            assert SENTINEL.encode() not in out.stderr + out.stdout, (args, out.stderr)
            assert enc.read_bytes() == before, args
    _no_plaintext_left(tmp_path)
