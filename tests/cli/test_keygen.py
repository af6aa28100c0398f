"""``kseal keygen``: the age-keygen file format, where it may be written, and its recipient."""

from __future__ import annotations

import stat
from pathlib import Path

from tests.cli.conftest import Run


def test_output_into_missing_directories_creates_them_0700(tmp_path: Path, kseal: Run) -> None:
    # getting-started's first command, on a machine where ~/.config/sops/age does not exist yet
    home = tmp_path / "home"
    home.chmod(0o751)
    key = home / ".config" / "sops" / "age" / "keys.txt"
    out = kseal("keygen", "-o", str(key))
    assert out.returncode == 0, out.stderr
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    for directory in (key.parent, key.parent.parent, key.parent.parent.parent):
        assert stat.S_IMODE(directory.stat().st_mode) == 0o700, directory
    assert stat.S_IMODE(home.stat().st_mode) == 0o751  # an existing parent is left alone
    public = out.stderr.decode().split("Public key: ")[1].strip()
    assert kseal("keygen", "-y", str(key)).stdout.decode().strip() == public


def test_output_under_a_file_fails_cleanly(tmp_path: Path, kseal: Run) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x\n")
    out = kseal("keygen", "-o", str(blocker / "sub" / "keys.txt"))
    assert out.returncode == 3
    err = out.stderr.decode()
    assert err.startswith("kseal: error: ") and "Traceback" not in err
    assert blocker.read_text() == "x\n"
