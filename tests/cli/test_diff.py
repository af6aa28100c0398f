"""``kseal diff`` and ``kseal git-setup``: redacted views, exit codes, the diff key, real git."""

from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from kseal.sops.redact import hmac_marker, redact
from kseal.sops.rules import Rules
from kseal.sops.tree import Branch, Comment
from tests.cli.conftest import Run

SENTINEL = "SENTINEL-7f3a-plaintext"
CHANGED = "SENTINEL-changed-b9e1"
SECRET = f"""\
apiVersion: v1
kind: Secret
metadata:
  name: db
stringData:
  password: {SENTINEL}
  user: admin
  port: "5432"
"""
MARKER = re.compile(r"<redacted:[0-9a-f]{8}>")
K8S = ("--encrypted-regex", "^(data|stringData)$")


def _env(key: Path, tmp_path: Path, user: str = "me") -> dict[str, str]:
    return {"SOPS_AGE_KEY_FILE": str(key), "XDG_CONFIG_HOME": str(tmp_path / f"xdg-{user}")}


def _encrypt(kseal: Run, tmp_path: Path, public: str, text: str, name: str) -> Path:
    plain = tmp_path / f"plain-{name}"
    plain.write_text(text)
    out = kseal("encrypt", "--age", public, *K8S, str(plain))
    assert out.returncode == 0, out.stderr
    plain.unlink()
    enc = tmp_path / name
    enc.write_bytes(out.stdout)
    return enc


def _lines(out: subprocess.CompletedProcess[bytes]) -> dict[str, str]:
    assert out.returncode == 0, out.stderr
    assert SENTINEL.encode() not in out.stdout + out.stderr
    return dict(line.split(":", 1) for line in out.stdout.decode().splitlines() if ":" in line)


def test_textconv_redacts(kseal: Run, tmp_path: Path, identity: tuple[Path, str]) -> None:
    key, public = identity
    enc = _encrypt(kseal, tmp_path, public, SECRET, "secret.yaml")
    out = kseal("diff", "--textconv", str(enc), env=_env(key, tmp_path))
    assert out.returncode == 0, out.stderr
    text = out.stdout.decode()
    assert SENTINEL not in text and "ENC[" not in text and "sops:" not in text
    assert "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n" in text
    assert MARKER.fullmatch(text.split("password: ")[1].splitlines()[0])
    assert len(MARKER.findall(text)) == 3
    assert out.stderr == b""


def test_textconv_show_values(kseal: Run, tmp_path: Path, identity: tuple[Path, str]) -> None:
    key, public = identity
    enc = _encrypt(kseal, tmp_path, public, SECRET, "secret.yaml")
    out = kseal("diff", "--textconv", "--show-values", str(enc), env=_env(key, tmp_path))
    assert out.returncode == 0, out.stderr
    assert out.stdout.decode() == SECRET
    assert not (tmp_path / "xdg-me").exists()  # no diff key needed to show values


def test_markers_follow_values_not_ciphertexts(
    kseal: Run, tmp_path: Path, identity: tuple[Path, str]
) -> None:
    key, public = identity
    one = _encrypt(kseal, tmp_path, public, SECRET, "one.yaml")
    again = _encrypt(kseal, tmp_path, public, SECRET, "again.yaml")
    two = _encrypt(kseal, tmp_path, public, SECRET.replace(SENTINEL, CHANGED), "two.yaml")
    assert one.read_bytes() != again.read_bytes()  # new data key and IVs every time
    env = _env(key, tmp_path)
    views = [_lines(kseal("diff", "--textconv", str(f), env=env)) for f in (one, again, two)]
    assert views[0] == views[1]
    assert views[0]["  password"] != views[2]["  password"]
    assert {k: v for k, v in views[0].items() if k != "  password"} == {
        k: v for k, v in views[2].items() if k != "  password"
    }
    other = _lines(kseal("diff", "--textconv", str(one), env=_env(key, tmp_path, "other")))
    assert other["  password"] != views[0]["  password"]  # markers are keyed per user


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("plain.yaml", SECRET.encode()),
        ("broken.yaml", b"a: [unclosed\n\xff\xfe"),
        ("blob.bin", bytes(range(256))),
        ("notes.json", b'{"sops": "just a key"}'),
    ],
)
def test_textconv_passes_unencrypted_files_through(
    kseal: Run, tmp_path: Path, identity: tuple[Path, str], name: str, data: bytes
) -> None:
    key, _ = identity
    path = tmp_path / name
    path.write_bytes(data)
    out = kseal("diff", "--textconv", str(path), env=_env(key, tmp_path))
    assert (out.returncode, out.stdout, out.stderr) == (0, data, b"")


def test_textconv_without_identity_shows_ciphertext(
    kseal: Run, tmp_path: Path, identity: tuple[Path, str]
) -> None:
    _, public = identity
    enc = _encrypt(kseal, tmp_path, public, SECRET, "secret.yaml")
    out = kseal("diff", "--textconv", str(enc))
    assert out.returncode == 0
    assert out.stdout == enc.read_bytes()
    assert out.stderr.decode() == (
        f"kseal: warning: {enc}: no identity can decrypt it; showing the ciphertext\n"
    )


def test_textconv_missing_file_is_an_error(kseal: Run, tmp_path: Path) -> None:
    out = kseal("diff", "--textconv", str(tmp_path / "absent.yaml"))
    assert out.returncode != 0
    assert out.stderr.decode().startswith("kseal: error: ")


def test_two_file_diff_exit_codes(kseal: Run, tmp_path: Path, identity: tuple[Path, str]) -> None:
    key, public = identity
    one = _encrypt(kseal, tmp_path, public, SECRET, "one.yaml")
    again = _encrypt(kseal, tmp_path, public, SECRET, "again.yaml")
    two = _encrypt(kseal, tmp_path, public, SECRET.replace(SENTINEL, CHANGED), "two.yaml")
    env = _env(key, tmp_path)
    same = kseal("diff", str(one), str(again), env=env)
    assert (same.returncode, same.stdout, same.stderr) == (0, b"", b"")
    changed = kseal("diff", str(one), str(two), env=env)
    assert changed.returncode == 1, changed.stderr
    text = changed.stdout.decode()
    assert text.startswith(f"--- a/{one}\n+++ b/{two}\n@@ ")
    assert [line[0] for line in text.splitlines()[2:] if line[0] in "+-"] == ["-", "+"]
    assert SENTINEL not in text and CHANGED not in text
    shown = kseal("diff", "--show-values", str(one), str(two), env=env)
    assert shown.returncode == 1
    assert f"-  password: {SENTINEL}\n+  password: {CHANGED}\n" in shown.stdout.decode()
    nokey = kseal("diff", str(one), str(two))
    assert nokey.returncode == 128 and nokey.stdout == b""


def test_two_file_diff_colours_only_on_a_terminal(
    kseal: Run, tmp_path: Path, identity: tuple[Path, str]
) -> None:
    import pty

    key, public = identity
    one = _encrypt(kseal, tmp_path, public, SECRET, "one.yaml")
    two = _encrypt(kseal, tmp_path, public, SECRET.replace(SENTINEL, CHANGED), "two.yaml")
    assert b"\x1b[" not in kseal("diff", str(one), str(two), env=_env(key, tmp_path)).stdout
    leader, follower = pty.openpty()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SOPS_", "XDG_", "NO_COLOR"))}
    env.update(_env(key, tmp_path), HOME=str(tmp_path), TERM="xterm-256color")
    with subprocess.Popen(
        [sys.executable, "-m", "kseal", "diff", str(one), str(two)], stdout=follower, env=env
    ) as proc:
        os.close(follower)
        chunks = []
        while True:
            try:
                chunk = os.read(leader, 4096)
            except OSError:
                break
            if not chunk:
                break
            chunks.append(chunk)
        assert proc.wait() == 1
    os.close(leader)
    output = b"".join(chunks)
    assert b"\x1b[" in output and b"<redacted:" in output and SENTINEL.encode() not in output


def test_diff_key_is_private_and_stable(
    kseal: Run, tmp_path: Path, identity: tuple[Path, str]
) -> None:
    key, public = identity
    enc = _encrypt(kseal, tmp_path, public, SECRET, "secret.yaml")
    env = _env(key, tmp_path)
    first = kseal("diff", "--textconv", str(enc), env=env)
    keyfile = tmp_path / "xdg-me" / "kseal" / "diff.key"
    assert stat.S_IMODE(keyfile.stat().st_mode) == 0o600
    assert stat.S_IMODE(keyfile.parent.stat().st_mode) == 0o700
    assert len(keyfile.read_bytes()) == 32
    before = keyfile.read_bytes()
    assert kseal("diff", "--textconv", str(enc), env=env).stdout == first.stdout
    assert keyfile.read_bytes() == before
    assert [p.name for p in keyfile.parent.iterdir()] == ["diff.key"]
    home = kseal("diff", "--textconv", str(enc), env={"SOPS_AGE_KEY_FILE": str(key)})
    assert home.returncode == 0
    assert (tmp_path / "home" / ".config" / "kseal" / "diff.key").is_file()
    keyfile.write_bytes(b"short")
    bad = kseal("diff", "--textconv", str(enc), env=env)
    assert bad.returncode == 1 and bad.stdout == b"" and b"not a kseal diff key" in bad.stderr


def test_redact_selects_like_encryption() -> None:
    doc = Branch(
        [
            (Comment(" note"), None),
            ("token", "s3cret"),
            ("empty", ""),
            ("nothing", None),
            ("name_unencrypted", "visible"),
            ("nested", Branch([("n", 5), ("items", ["a", Comment(""), True])])),
        ]
    )
    marker = hmac_marker(b"k" * 32)
    assert redact([doc], Rules().with_default(), marker) == 5
    assert doc.get("token") == marker(("token",), b"s3cret")
    assert doc[0] == (Comment(f" {marker((), b' note')}"), None)
    assert (doc.get("empty"), doc.get("nothing"), doc.get("name_unencrypted")) == (
        "",
        None,
        "visible",
    )
    nested = doc.get("nested")
    assert isinstance(nested, Branch)
    assert nested.get("n") == marker(("nested", "n"), b"5")
    assert nested.get("items") == [
        marker(("nested", "items"), b"a"),
        Comment(""),
        marker(("nested", "items"), b"True"),  # sops writes booleans as True/False
    ]
    assert marker(("a", "b"), b"c") != marker(("a",), b"b\0c")
    with pytest.raises(ValueError, match="32 bytes"):
        hmac_marker(b"short")


def _kseal_on_path() -> str:
    beside = Path(sys.executable).with_name("kseal")
    found = str(beside) if beside.exists() else shutil.which("kseal")
    if found is None or shutil.which("git") is None:
        pytest.skip("needs git and the installed kseal console script")
    return str(Path(found).parent)


def test_git_diff_end_to_end(kseal: Run, tmp_path: Path, identity: tuple[Path, str]) -> None:
    bindir = _kseal_on_path()
    key, public = identity
    repo = tmp_path / "repo"
    repo.mkdir()
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("SOPS_", "KSEAL_", "XDG_", "GIT_"))
    }
    env.update(
        _env(key, tmp_path),
        PATH=bindir + os.pathsep + env.get("PATH", ""),
        HOME=str(tmp_path / "home"),
        GIT_CONFIG_NOSYSTEM="1",
        GIT_AUTHOR_NAME="t",
        GIT_AUTHOR_EMAIL="t@example.com",
        GIT_COMMITTER_NAME="t",
        GIT_COMMITTER_EMAIL="t@example.com",
    )

    def git(*args: str) -> str:
        out = subprocess.run(["git", *args], cwd=repo, env=env, capture_output=True, check=True)
        return out.stdout.decode()

    git("init", "-q")
    odd = "my secret [prod].yaml"
    for name in ("app.yaml", odd):
        (repo / name).write_bytes(_encrypt(kseal, tmp_path, public, SECRET, name).read_bytes())
    (repo / "plain.yaml").write_text("a: 1\n")
    git("add", ".")
    git("commit", "-qm", "init")

    setup = kseal("git-setup", "--pattern", "*.enc.yaml", cwd=repo, env=env)
    assert setup.returncode == 0, setup.stderr
    attributes = (repo / ".gitattributes").read_text()
    assert attributes.splitlines() == [
        "*.enc.yaml diff=kseal",
        "/app.yaml diff=kseal",
        '"/my secret \\\\[prod].yaml" diff=kseal',
    ]
    again = kseal("git-setup", "--pattern", "*.enc.yaml", cwd=repo, env=env)
    assert again.returncode == 0, again.stderr
    assert (repo / ".gitattributes").read_text() == attributes
    assert b"already up to date" in again.stderr
    assert git("config", "diff.kseal.cachetextconv") == "false\n"
    assert git("config", "diff.kseal.textconv") == "kseal diff --textconv --\n"
    attrs = git("check-attr", "diff", "--", "app.yaml", odd, "plain.yaml")
    assert attrs.splitlines() == [
        "app.yaml: diff: kseal",
        f"{odd}: diff: kseal",
        "plain.yaml: diff: unspecified",
    ]

    changed = SECRET.replace(SENTINEL, CHANGED)
    for name in ("app.yaml", odd):
        (repo / name).write_bytes(_encrypt(kseal, tmp_path, public, changed, name).read_bytes())
    patch = git("diff", "--", "app.yaml")
    assert SENTINEL not in patch and CHANGED not in patch and "ENC[" not in patch
    changes = [line for line in patch.splitlines() if line[:1] in "+-" and line[:3] not in "+++---"]
    assert len(changes) == 2
    assert MARKER.fullmatch(changes[0].removeprefix("-  password: "))
    assert MARKER.fullmatch(changes[1].removeprefix("+  password: "))
    assert changes[0] != changes[1]
    assert "  password: <redacted:" in git("diff", "--", odd)
    assert not (repo / ".git" / "refs" / "notes").exists() or not any(
        (repo / ".git" / "refs" / "notes").iterdir()
    )


def test_git_setup_outside_a_repository(kseal: Run, tmp_path: Path) -> None:
    if shutil.which("git") is None:
        pytest.skip("needs git")
    out = kseal("git-setup", cwd=tmp_path, env={"GIT_CEILING_DIRECTORIES": str(tmp_path.parent)})
    assert out.returncode == 1
    assert out.stderr.decode().startswith("kseal: error: not inside a Git work tree\nkseal: hint: ")


@pytest.mark.parametrize("order", ["enc-plain", "plain-enc"])
def test_encrypted_against_its_plaintext_is_redacted_alike(
    kseal: Run, tmp_path: Path, identity: tuple[Path, str], order: str
) -> None:
    """Issue 9, C19: the plaintext side is redacted with the encrypted side's rules, so only the
    changed value's line differs and no value of either file is printed."""
    key, public = identity
    enc = _encrypt(kseal, tmp_path, public, SECRET, "secret.yaml")
    plain = tmp_path / "edited.yaml"
    plain.write_text(SECRET.replace(SENTINEL, CHANGED))
    files = [str(enc), str(plain)] if order == "enc-plain" else [str(plain), str(enc)]
    out = kseal("diff", *files, env=_env(key, tmp_path))
    assert out.returncode == 1, out.stderr
    text = out.stdout.decode()
    assert SENTINEL not in text and CHANGED not in text
    changed = [ln for ln in text.splitlines() if ln[:1] in "+-" and ln[:3] not in ("---", "+++")]
    assert len(changed) == 2 and all("password: <redacted:" in ln for ln in changed), text
    same = plain.read_text().replace(CHANGED, SENTINEL)
    plain.write_text(same)
    assert kseal("diff", *files, env=_env(key, tmp_path)).returncode == 0
