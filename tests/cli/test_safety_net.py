"""The safety net of every command that rewrites an encrypted file (issue 9, A1): the new bytes are
decrypted and MAC-checked in memory before they replace the file. A rewrite that would not decrypt
is refused with an internal error (exit 3) and the original stays byte for byte as it was.

The fault is injected in-process: the YAML store's emitter is wrapped to damage one ciphertext, as
a bug in a writer would.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from kseal import agekey
from kseal.cli.main import run
from kseal.sops.stores.yaml_store import YamlStore

SENTINEL = "SENTINEL-safety-7f3e"
PLAIN = f"api:\n  token: {SENTINEL}\n  retries: 3\n"


def _kseal(*args: str) -> int:
    try:
        run(list(args))
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, str, str]:
    secret, recipient = agekey.generate_identity()
    key = tmp_path / "key.txt"
    key.write_text(secret + "\n")
    key.chmod(0o600)
    _, other = agekey.generate_identity()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", str(key))
    for name in ("SOPS_AGE_KEY", "SOPS_AGE_RECIPIENTS", "KSEAL_AGE_KEY", "SOPS_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    (tmp_path / "app.yaml").write_text(PLAIN)
    assert _kseal("encrypt", "-i", "--age", recipient, "app.yaml") == 0
    return tmp_path, recipient, other


def _break_emit(monkeypatch: pytest.MonkeyPatch) -> None:
    original = YamlStore.emit

    def damaged(self: YamlStore, *args: object, **kwargs: object) -> bytes:
        out: bytes = original(self, *args, **kwargs)  # type: ignore[arg-type]
        # flip one base64 character of the first ciphertext: the GCM tag no longer matches
        return re.sub(
            rb"data:(.)", lambda m: b"data:" + (b"B" if m.group(1) != b"B" else b"C"), out, count=1
        )

    monkeypatch.setattr(YamlStore, "emit", damaged)


COMMANDS = {
    "set": ["set", "app.yaml", '["api"]["retries"]', "4"],
    "unset": ["unset", "app.yaml", '["api"]["retries"]'],
    "rotate -i": ["rotate", "-i", "app.yaml"],
    "encrypt -i": ["encrypt", "-i", "--age", "RECIPIENT", "plain.yaml"],
    "updatekeys": ["updatekeys", "-y", "app.yaml"],
    "edit": ["edit", "app.yaml"],
}


@pytest.mark.parametrize("command", COMMANDS)
def test_a_rewrite_that_would_not_decrypt_is_refused(
    workdir: tuple[Path, str, str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    command: str,
) -> None:
    tmp, recipient, other = workdir
    args = [a.replace("RECIPIENT", recipient) for a in COMMANDS[command]]
    if command == "encrypt -i":
        (tmp / "plain.yaml").write_text(PLAIN)
    if command == "updatekeys":
        (tmp / ".sops.yaml").write_text(f"creation_rules:\n  - age: {recipient},{other}\n")
    if command == "edit":
        editor = tmp / "editor.sh"
        editor.write_text("#!/bin/sh\nsed -i 's/retries: 3/retries: 5/' \"$1\"\n")
        editor.chmod(0o755)
        monkeypatch.setenv("EDITOR", str(editor))
        monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp))
    target = tmp / ("plain.yaml" if command == "encrypt -i" else "app.yaml")
    before = target.read_bytes()
    capsys.readouterr()
    _break_emit(monkeypatch)
    code = _kseal(*args)
    err = capsys.readouterr().err
    assert code == 3, err
    assert "internal error: refusing to write" in err, err
    assert "the original is untouched" in err
    assert SENTINEL not in err
    assert target.read_bytes() == before
    leftovers = [p.name for p in tmp.iterdir() if p.name.endswith(".tmp")]
    assert leftovers == []


def test_without_a_fault_every_command_still_writes(workdir: tuple[Path, str, str]) -> None:
    tmp = workdir[0]
    assert _kseal("set", "app.yaml", '["api"]["retries"]', "4") == 0
    assert _kseal("rotate", "-i", "app.yaml") == 0
    assert _kseal("unset", "app.yaml", '["api"]["retries"]') == 0
    assert "retries" not in (tmp / "app.yaml").read_text()
    assert sys.modules["kseal.sops.verify"]  # the net was on the path
