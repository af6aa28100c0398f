"""The real pre-commit framework runs kseal's hooks from this repository (``pre-commit try-repo``).

pre-commit builds the hook's virtualenv with pip; the test points pip at a local wheel folder
(``PIP_NO_INDEX``/``PIP_FIND_LINKS``), so the hook installation itself is offline. ``.ci/run``
prepares that folder (``build/wheelhouse``); without it the test builds one first with
``pip wheel`` (which needs the package index once).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SECRET = (
    "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  password: SENTINEL-pc-1\n"
)

pytestmark = pytest.mark.skipif(
    shutil.which("git") is None or not (ROOT / ".git").exists(),
    reason="needs git and a git checkout of kseal",
)


@pytest.fixture(scope="module")
def wheelhouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    prepared = ROOT / "build" / "wheelhouse"
    if any(prepared.glob("typer-*.whl")) and any(prepared.glob("setuptools-*.whl")):
        return prepared
    folder = tmp_path_factory.mktemp("wheelhouse")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "-q",
            "-w",
            str(folder),
            str(ROOT),
            "setuptools",
            "wheel",
        ],
        check=True,
    )
    return folder


@pytest.fixture(scope="module")
def pre_commit_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("pre-commit-home")


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)


def _try_repo(
    repo: Path, hook: str, wheelhouse: Path, home: Path
) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PRE_COMMIT_HOME": str(home),
        "PIP_NO_INDEX": "1",
        "PIP_FIND_LINKS": str(wheelhouse),
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    }
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", "try-repo", str(ROOT), hook],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )


def _kseal(*args: str, stdin: bytes | None = None) -> bytes:
    out = subprocess.run(
        [sys.executable, "-m", "kseal", *args], input=stdin, capture_output=True, check=True
    )
    return out.stdout


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    path = tmp_path / "repo"
    path.mkdir()
    _git(path, "init", "-q")
    _git(path, "config", "user.email", "test@example.com")
    _git(path, "config", "user.name", "test")
    return path


def test_hook_rejects_plaintext_and_accepts_sealed_and_sops(
    repo: Path, tmp_path: Path, wheelhouse: Path, pre_commit_home: Path
) -> None:
    (repo / "secret.yaml").write_text(SECRET)
    _git(repo, "add", "secret.yaml")
    out = _try_repo(repo, "kseal-check", wheelhouse, pre_commit_home)
    assert out.returncode == 1, out.stdout + out.stderr
    assert "secret.yaml:5:1: KS101" in out.stdout and "Failed" in out.stdout
    assert "SENTINEL-pc-1" not in out.stdout + out.stderr

    # the sealed version
    key, cert = tmp_path / "k.pem", tmp_path / "c.pem"
    _kseal("keys", "generate", "--key", str(key), "--cert", str(cert), "--bits", "2048")
    (repo / "secret.yaml").write_bytes(
        _kseal("seal", "--cert", str(cert), "-o", "yaml", stdin=SECRET.encode())
    )
    _git(repo, "add", "secret.yaml")
    out = _try_repo(repo, "kseal-check", wheelhouse, pre_commit_home)
    assert out.returncode == 0, out.stdout + out.stderr

    # the SOPS-encrypted version, Flux layout, as .yml
    identity = tmp_path / "age.txt"
    _kseal("keygen", "-o", str(identity))
    public = _kseal("keygen", "-y", str(identity)).decode().strip()
    encrypted = _kseal(
        "encrypt",
        "--age",
        public,
        "--encrypted-regex",
        "^(data|stringData)$",
        "--input-type",
        "yaml",
        stdin=SECRET.encode(),
    )
    _git(repo, "rm", "-q", "--cached", "secret.yaml")
    (repo / "secret.yaml").unlink()
    (repo / "secret.yml").write_bytes(encrypted)
    _git(repo, "add", "secret.yml")
    out = _try_repo(repo, "kseal-check", wheelhouse, pre_commit_home)
    assert out.returncode == 0, out.stdout + out.stderr


def test_key_hook_rejects_private_keys(repo: Path, wheelhouse: Path, pre_commit_home: Path) -> None:
    (repo / "id_ed25519").write_text(
        # built at run time from random bytes: no key-shaped text in this file
        "-----BEGIN OPENSSH PRIVATE" + " KEY-----\n" + os.urandom(48).hex() + "\n"
        "-----END OPENSSH PRIVATE" + " KEY-----\n"
    )
    (repo / "notes.txt").write_text("nothing to see\n")
    _git(repo, "add", ".")
    out = _try_repo(repo, "kseal-check-keys", wheelhouse, pre_commit_home)
    assert out.returncode == 1, out.stdout + out.stderr
    assert "id_ed25519:1:1: KS301" in out.stdout and "notes.txt" not in out.stdout
