"""Command-line paths a newcomer meets, against the real sops 3.11 (issue 9, A3, A4, A7, C16).

Recipients from the command line and ``.sops.yaml`` rules (issue 9,
A3, A4): ``--age`` and ``SOPS_AGE_RECIPIENTS`` replace only the rule's keys and keep its selection;
stdin needs a name or a type, never a silent binary blob."""

from __future__ import annotations

from pathlib import Path

import pytest

from kseal.yamlio import safe_load_all
from tests.interop.conftest import needs_sops
from tests.interop.test_workflows_sops import Keys, _kseal, _ok, _sops

pytestmark = needs_sops

SECRET = """\
apiVersion: v1
kind: Secret
metadata:
  name: db
stringData:
  password: hunter2
"""


@pytest.fixture
def repo(tmp_path: Path) -> tuple[Path, Keys]:
    keys = Keys(tmp_path, 2)
    (tmp_path / ".sops.yaml").write_text(
        "creation_rules:\n"
        "  - path_regex: secrets/.*\\.yaml$\n"
        "    encrypted_regex: ^(data|stringData)$\n"
        f"    age: {keys.publics[0]}\n"
    )
    (tmp_path / "secrets").mkdir()
    (tmp_path / "secrets" / "db.yaml").write_text(SECRET)
    return tmp_path, keys


def _clear_fields(encrypted: bytes) -> list[str]:
    doc = safe_load_all(encrypted.decode())[0]
    return [k for k, v in doc.items() if k != "sops" and "ENC[" not in str(v)]


@pytest.mark.parametrize("how", ["--age", "SOPS_AGE_RECIPIENTS"])
def test_recipients_from_the_command_line_keep_the_rules_selection(
    repo: tuple[Path, Keys], how: str
) -> None:
    tmp, keys = repo
    recipient = keys.publics[1]
    args = ["--age", recipient] if how == "--age" else []
    env = {"SOPS_AGE_RECIPIENTS": recipient} if how != "--age" else {}
    by_kseal = _ok(_kseal(tmp, env, "encrypt", *args, "secrets/db.yaml"))
    by_sops = _ok(_sops(tmp, env, "encrypt", *args, "secrets/db.yaml"))
    # apiVersion, kind and metadata stay readable for kubectl and Flux, as with sops
    assert _clear_fields(by_kseal) == _clear_fields(by_sops) == ["apiVersion", "kind", "metadata"]
    meta = safe_load_all(by_kseal.decode())[0]["sops"]
    assert meta["encrypted_regex"] == "^(data|stringData)$"
    assert [a["recipient"] for a in meta["age"]] == [recipient]
    (tmp / "enc.yaml").write_bytes(by_kseal)
    plain = _ok(_sops(tmp, {"SOPS_AGE_KEY_FILE": str(keys.files[1])}, "decrypt", "enc.yaml"))
    assert safe_load_all(plain.decode())[0]["stringData"]["password"] == "hunter2"


def test_age_flag_outside_every_rule_still_encrypts(repo: tuple[Path, Keys]) -> None:
    tmp, keys = repo
    (tmp / "other.yaml").write_text(SECRET)
    # sops refuses ("no matching creation rules found", #1790); kseal encrypts everything
    assert _sops(tmp, {}, "encrypt", "--age", keys.publics[1], "other.yaml").returncode == 1
    out = _ok(_kseal(tmp, {}, "encrypt", "--age", keys.publics[1], "other.yaml"))
    assert _clear_fields(out) == []


def test_yaml_on_stdin_needs_a_name_or_a_type(repo: tuple[Path, Keys]) -> None:
    tmp, keys = repo
    data = SECRET.encode()
    plain = _kseal(tmp, {}, "encrypt", "--age", keys.publics[0], input=data)
    assert plain.returncode == 8 == _sops(tmp, {}, "encrypt", "--age", keys.publics[0]).returncode
    err = plain.stderr.decode()
    assert err.startswith("kseal: error: reading from stdin") and err.count("\n") == 2, err
    assert "--filename-override" in err and "--input-type" in err
    assert plain.stdout == b""
    # with a name: the format and the rule come from it
    named = _ok(
        _kseal(tmp, {}, "encrypt", "--filename-override", "secrets/x.yaml", "-", input=data)
    )
    assert _clear_fields(named) == ["apiVersion", "kind", "metadata"]
    typed = _ok(
        _kseal(tmp, {}, "encrypt", "--input-type", "yaml", "--age", keys.publics[0], input=data)
    )
    assert "sops" in safe_load_all(typed.decode())[0]


def test_no_matching_rule_hint_shows_the_regex_as_written(repo: tuple[Path, Keys]) -> None:
    tmp, _ = repo
    (tmp / "other.yaml").write_text(SECRET)
    out = _kseal(tmp, {}, "encrypt", "other.yaml")
    err = out.stderr.decode()
    assert out.returncode == 1
    assert "path_regex: 'secrets/.*\\.yaml$'" in err, err


def test_a_partly_encrypted_file_has_a_way_back(repo: tuple[Path, Keys]) -> None:
    """Issue 9, A7: a value pasted in the clear into an encrypted file. Every command refuses it
    with a hint naming the way back, and that way works: ``decrypt -i --ignore-mac`` keeps the
    plaintext value (warning with its path), ``encrypt -i`` completes the file, sops reads it."""
    tmp, keys = repo
    env = {"SOPS_AGE_KEY_FILE": str(keys.files[0])}
    path = tmp / "secrets" / "db.yaml"
    _ok(_sops(tmp, {}, "encrypt", "-i", "secrets/db.yaml"))
    text = path.read_text()
    path.write_text(text.replace("stringData:\n", "stringData:\n    pasted: in-the-clear\n"))
    for args in (
        ["decrypt", "secrets/db.yaml"],
        ["set", "secrets/db.yaml", '["stringData"]["x"]', '"y"'],
        ["rotate", "secrets/db.yaml"],
        ["edit", "secrets/db.yaml"],
    ):
        out = _kseal(tmp, {**env, "EDITOR": "true"}, *args)
        err = out.stderr.decode()
        assert out.returncode != 0
        assert 'value at ["stringData"]["pasted"] should be encrypted' in err, (args, err)
        assert "kseal decrypt -i --ignore-mac FILE && kseal encrypt -i FILE" in err
        assert "in-the-clear" not in err
    out = _kseal(tmp, env, "decrypt", "-i", "--ignore-mac", "secrets/db.yaml")
    assert out.returncode == 0, out.stderr
    assert '["stringData"]["pasted"]' in out.stderr.decode()
    assert "in-the-clear" not in out.stderr.decode()
    _ok(_kseal(tmp, env, "encrypt", "-i", "secrets/db.yaml"))
    assert "in-the-clear" not in path.read_text()
    plain = safe_load_all(_ok(_sops(tmp, env, "decrypt", "secrets/db.yaml")).decode())[0]
    assert plain["stringData"] == {"pasted": "in-the-clear", "password": "hunter2"}


@pytest.mark.parametrize(
    "args",
    [
        ["edit", "plain.yaml"],
        ["set", "plain.yaml", '["a"]', '"b"'],
        ["unset", "plain.yaml", '["a"]'],
        ["rotate", "plain.yaml"],
    ],
)
def test_changing_a_plaintext_file_says_encrypt_it_first(tmp_path: Path, args: list[str]) -> None:
    (tmp_path / "plain.yaml").write_text("a: b\n")
    out = _kseal(tmp_path, {"EDITOR": "true"}, *args)
    err = out.stderr.decode()
    assert out.returncode == 1, err
    assert err.startswith("kseal: error: plain.yaml: sops metadata not found"), err
    assert "kseal: hint: encrypt it first: kseal encrypt -i plain.yaml" in err
    assert (tmp_path / "plain.yaml").read_text() == "a: b\n"


NESTED = (
    "l:\n  - a: 1\n    b:\n      c: 2\n    d:\n      - e\n  - x\nm:\n  n: |\n    two\n    lines\n"
)


def _layout(encrypted: bytes) -> list[str]:
    """The lines of an encrypted file with ciphertexts, base64 lines and per-run fields blanked."""
    import re

    out = []
    for line in encrypted.decode().splitlines():
        line = re.sub(r"ENC\[[^]]*\]", "ENC", line)
        if re.fullmatch(r" *[A-Za-z0-9+/=]+", line) or re.search(  # any base64 line (armor)
            r"lastmodified|mac:|recipient|version|unencrypted_suffix", line
        ):
            continue
        out.append(line)
    return out


@pytest.mark.parametrize("indent", [2, 3, 4, 8])
def test_encrypt_with_any_indent_writes_a_file_that_decrypts(tmp_path: Path, indent: int) -> None:
    """`--indent 2` used to nest a mapping inside a `- ` item at its keys' column (invalid YAML
    that no tool could decrypt, with exit 0). Every indent now decrypts in both tools, and
    indent 2 lays the file out as sops does with `stores: {yaml: {indent: 2}}`."""
    keys = Keys(tmp_path, 1)
    env = {"SOPS_AGE_KEY_FILE": str(keys.files[0])}
    (tmp_path / "plain.yaml").write_text(NESTED)
    out = _ok(
        _kseal(
            tmp_path,
            env,
            "encrypt",
            "--indent",
            str(indent),
            "--age",
            keys.publics[0],
            "plain.yaml",
        )
    )
    (tmp_path / "enc.yaml").write_bytes(out)
    expected = safe_load_all(NESTED)
    assert safe_load_all(_ok(_kseal(tmp_path, env, "decrypt", "enc.yaml")).decode()) == expected
    assert safe_load_all(_ok(_sops(tmp_path, env, "decrypt", "enc.yaml")).decode()) == expected
    if indent == 2:
        (tmp_path / ".sops.yaml").write_text(
            f"stores:\n  yaml:\n    indent: 2\ncreation_rules:\n  - age: {keys.publics[0]}\n"
        )
        by_sops = _ok(_sops(tmp_path, env, "encrypt", "plain.yaml"))
        assert _layout(out) == _layout(by_sops)
