"""Fixtures for the CLI's cluster commands: the API emulator, a kubeconfig pointing at it, an
age identity, SOPS-encrypted manifests written in memory-built form, and the CLI in-process."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from kseal import agekey
from kseal.sops import engine
from kseal.sops.rules import Rules
from kseal.sops.stores import get_store
from tests.controller.running import kubeconfig
from tests.emulator import EmulatorHandle, _kmock_session, kmock_server, objects, seed  # noqa: F401

FLUX = Rules(encrypted_regex="^(data|stringData)$")


@dataclass
class Env:
    """A test's world: the emulator, a kubeconfig, an identity, an isolated HOME and TMPDIR."""

    root: Path
    api: EmulatorHandle
    kubeconfig: Path
    identity: Path
    recipient: str
    home: Path
    tmp: Path

    def encrypt(self, name: str, text: str, rules: Rules | None = None) -> Path:
        """Write ``text`` (YAML/JSON by the name) encrypted for the identity, as sops would."""
        store = get_store("json" if name.endswith(".json") else "yaml")
        out = engine.encrypt(
            text.encode(), store, store,
            engine.EncryptOptions(recipients=[self.recipient], rules=rules or FLUX),
            wrap=agekey.wrap_key, random=os.urandom, now=datetime.now(UTC),
        )
        path = self.root / "repo" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(out)
        return path

    def environ(self, **extra: str) -> dict[str, str]:
        base = {k: v for k, v in os.environ.items()
                if not k.startswith(("SOPS_", "KSEAL_", "XDG_", "KUBE", "GITHUB_", "GITLAB_"))}
        return {**base, "HOME": str(self.home), "TMPDIR": str(self.tmp),
                "KUBECONFIG": str(self.kubeconfig), "KSEAL_AGE_KEY_FILE": str(self.identity),
                **extra}

    def run(self, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        """``kseal ARGS`` in a subprocess, in the repository directory."""
        return subprocess.run(
            [sys.executable, "-m", "kseal", *args], capture_output=True, text=True,
            env=env or self.environ(), cwd=self.root / "repo", check=False, timeout=60,
        )

    def writes(self) -> list[tuple[str, str]]:
        return [r for r in self.api.requests if r[0] in ("POST", "PUT", "PATCH", "DELETE")]


@pytest.fixture
def world(tmp_path: Path, kmock_server: EmulatorHandle) -> Env:  # noqa: F811
    secret, public = agekey.generate_identity()
    identity = tmp_path / "age.txt"
    identity.write_text(secret + "\n")
    identity.chmod(0o600)
    for ns in ("apps", "team"):  # the namespaces the tests write into (others: see the tests)
        kmock_server.seed({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
    (tmp_path / "repo").mkdir()
    (tmp_path / "home").mkdir()
    (tmp_path / "tmp").mkdir()
    return Env(tmp_path, kmock_server, kubeconfig(tmp_path, kmock_server.url), identity, public,
               tmp_path / "home", tmp_path / "tmp")


def secret_yaml(name: str, namespace: str | None = "apps", **string_data: str) -> str:
    ns = f"\n  namespace: {namespace}" if namespace else ""
    lines = "".join(f"\n  {k}: {v}" for k, v in string_data.items())
    return f"apiVersion: v1\nkind: Secret\nmetadata:\n  name: {name}{ns}\ntype: Opaque\nstringData:{lines}\n"


def plaintext_files(roots: list[Path], sentinel: str) -> list[Path]:
    """Files under ``roots`` whose bytes hold ``sentinel`` (or its base64 form)."""
    import base64

    needles = [sentinel.encode(), base64.b64encode(sentinel.encode())]
    found = []
    for root in roots:
        for dirpath, _, names in os.walk(root):
            for name in names:
                path = Path(dirpath) / name
                try:
                    data = path.read_bytes()
                except OSError:
                    continue
                if any(n in data for n in needles):
                    found.append(path)
    return found
