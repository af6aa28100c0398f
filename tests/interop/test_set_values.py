"""``kseal set`` with every JSON value type, against the real sops 3.11 ``set`` (issue 9, A1).

Replacing an existing scalar with a map or list used to write a file nobody could decrypt: the
in-place YAML writer only compared leaf counts, so ``{"user":"bob"}`` (one leaf) was written as a
scalar with the wrong AAD, and ``["a"]`` became the string ``a``. Each value is set by both tools on
copies of the same file; both results must decrypt, with sops, to the same data. sops 3.11
refuses a list value (exit 7, "Invalid --set value format"); kseal sets it, and sops must read the
result.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.interop.conftest import needs_sops
from tests.interop.test_workflows_sops import Keys, _kseal, _ok, _sops

pytestmark = needs_sops

SECRET = """\
apiVersion: v1
kind: Secret
metadata:
  name: db  # the database
stringData:
  password: hunter2
  user: admin
"""

VALUES = [
    '{"user":"bob"}',
    '["a"]',
    '{"a":{"b":"c"}}',
    '[1,[2,{"x":null}],"s"]',
    "[]",
    "{}",
    "5432",
    "1.5",
    "true",
    "false",
    "null",
    '"text"',
    '"5432"',
]
PATHS = ['["stringData"]["password"]', '["stringData"]["new"]', '["extra"]["deep"]["key"]']


@pytest.fixture
def setup(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    keys = Keys(tmp_path, 1)
    env = {"SOPS_AGE_KEY_FILE": str(keys.files[0])}
    (tmp_path / "plain.yaml").write_text(SECRET)
    encrypted = _ok(_kseal(tmp_path, env, "encrypt", "--age", keys.publics[0], "plain.yaml"))
    (tmp_path / "orig.yaml").write_bytes(encrypted)
    return tmp_path, env


def _as_json(tmp: Path, env: dict[str, str], name: str) -> object:
    return json.loads(_ok(_sops(tmp, env, "decrypt", "--output-type", "json", name)))


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("value", VALUES)
def test_set_matches_sops(setup: tuple[Path, dict[str, str]], value: str, path: str) -> None:
    tmp, env = setup
    original = (tmp / "orig.yaml").read_bytes()
    (tmp / "k.yaml").write_bytes(original)
    (tmp / "s.yaml").write_bytes(original)
    _ok(_kseal(tmp, env, "set", "k.yaml", path, value))
    by_sops = _sops(tmp, env, "set", "s.yaml", path, value)
    if value.startswith("["):
        assert by_sops.returncode == 7, "sops 3.11 refuses list values; revisit if it changes"
        expected = _as_json(tmp, env, "orig.yaml")
        _put(expected, json.loads(path.replace("][", ",")), json.loads(value))
    else:
        _ok(by_sops)
        expected = _as_json(tmp, env, "s.yaml")
    assert _as_json(tmp, env, "k.yaml") == expected
    # and kseal reads its own result (MAC included)
    _ok(_kseal(tmp, env, "decrypt", "k.yaml"))


def _put(node: object, steps: list[str], value: object) -> None:
    for step in steps[:-1]:
        assert isinstance(node, dict)
        node = node.setdefault(step, {})
    assert isinstance(node, dict)
    node[steps[-1]] = value
