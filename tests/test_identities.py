"""Identity discovery: every source sops knows (plus kseal's), and failures that explain themselves."""

from __future__ import annotations

import re
import sys
from datetime import UTC
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from kseal import agekey, identities
from kseal.errors import KeyMaterialError, KeyRetrievalError
from kseal.sops.metadata import AgeKey, KeyGroup, Metadata

# The age test identity published in sops's own tests (age/keysource_test.go), kept with the
# other test-only keys.
MOCK_KEY_FILE = Path(__file__).parent / "vectors" / "keys" / "sops-mock-age-TESTONLY.txt"
MOCK_IDENTITY = MOCK_KEY_FILE.read_text().splitlines()[-1]
MOCK_RECIPIENT = "age1lzd99uklcjnc0e7d860axevet2cz99ce9pq6tzuzd05l5nr28ams36nvun"
DATA_KEY = bytes(range(32))


def _meta(*recipients: str) -> Metadata:
    return Metadata([KeyGroup(age=[AgeKey(r, agekey.wrap_key(DATA_KEY, r)) for r in recipients])])


def test_sops_mock_identity_maps_to_its_recipient() -> None:
    assert agekey.public_of(MOCK_IDENTITY) == MOCK_RECIPIENT


@pytest.mark.parametrize("var", ["SOPS_AGE_KEY", "KSEAL_AGE_KEY"])
def test_key_in_environment(tmp_path: Path, var: str) -> None:
    env = {var: f"# a comment\n\n{MOCK_IDENTITY}\n"}
    assert identities.unwrap_data_key(_meta(MOCK_RECIPIENT), env, tmp_path) == DATA_KEY


@pytest.mark.parametrize("var", ["SOPS_AGE_KEY_FILE", "KSEAL_AGE_KEY_FILE"])
def test_key_file(tmp_path: Path, var: str) -> None:
    key = tmp_path / "keys.txt"
    key.write_text(f"# created: today\n{MOCK_IDENTITY}\n")
    assert identities.unwrap_data_key(_meta(MOCK_RECIPIENT), {var: str(key)}, tmp_path) == DATA_KEY


def test_default_location_and_xdg(tmp_path: Path) -> None:
    default = tmp_path / ".config" / "sops" / "age" / "keys.txt"
    default.parent.mkdir(parents=True)
    default.write_text(MOCK_IDENTITY + "\n")
    assert identities.unwrap_data_key(_meta(MOCK_RECIPIENT), {}, tmp_path) == DATA_KEY
    xdg = tmp_path / "xdg"
    (xdg / "sops" / "age").mkdir(parents=True)
    (xdg / "sops" / "age" / "keys.txt").write_text(MOCK_IDENTITY + "\n")
    default.unlink()
    env = {"XDG_CONFIG_HOME": str(xdg)}
    assert identities.unwrap_data_key(_meta(MOCK_RECIPIENT), env, tmp_path) == DATA_KEY


def test_key_command(tmp_path: Path) -> None:
    script = tmp_path / "cmd.py"
    script.write_text(
        f"import os\nassert os.environ['SOPS_AGE_RECIPIENT']\nprint({MOCK_IDENTITY!r})\n"
    )
    env = {"SOPS_AGE_KEY_CMD": f"{sys.executable} {script}"}
    assert identities.unwrap_data_key(_meta(MOCK_RECIPIENT), env, tmp_path) == DATA_KEY


def _ssh_pair() -> tuple[str, str]:
    key = ed25519.Ed25519PrivateKey.generate()
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.OpenSSH,
        serialization.NoEncryption(),
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
        .decode()
    )
    return private, public + " me@host"


def test_ssh_recipients_and_identities(tmp_path: Path) -> None:
    private, public = _ssh_pair()
    meta = _meta(public)
    path = tmp_path / "id"
    path.write_text(private)
    env = {"SOPS_AGE_SSH_PRIVATE_KEY_FILE": str(path)}
    assert identities.unwrap_data_key(meta, env, tmp_path) == DATA_KEY
    (tmp_path / ".ssh").mkdir()
    (tmp_path / ".ssh" / "id_ed25519").write_text(private)
    assert identities.unwrap_data_key(meta, {}, tmp_path) == DATA_KEY


def test_failure_lists_recipients_and_every_source_without_key_material(tmp_path: Path) -> None:
    other, other_public = agekey.generate_identity()
    missing = tmp_path / "nope.txt"
    env = {
        "SOPS_AGE_KEY": other,
        "SOPS_AGE_KEY_FILE": str(missing),
        "KSEAL_AGE_KEY": "garbage-line",
    }
    with pytest.raises(KeyRetrievalError) as info:
        identities.unwrap_data_key(_meta(MOCK_RECIPIENT), env, tmp_path)
    err = info.value
    assert err.exit_code == 128
    text = "\n".join([err.message, *err.hints])
    assert MOCK_RECIPIENT in text
    assert other_public in text  # "your identities are for ..."
    assert f"SOPS_AGE_KEY_FILE={missing}: file not found" in text
    assert "KSEAL_AGE_KEY: line 1 is not an age identity" in text
    assert "~/.config/sops/age/keys.txt: not present" in text
    assert other not in text
    assert not re.search(r"AGE-SECRET-KEY-1[0-9A-Z]{20,}", text)
    assert "garbage-line" not in text


def test_no_identity_at_all(tmp_path: Path) -> None:
    with pytest.raises(KeyRetrievalError) as info:
        identities.unwrap_data_key(_meta(MOCK_RECIPIENT), {}, tmp_path)
    assert any("SOPS_AGE_KEY_FILE" in h for h in info.value.hints)


@pytest.mark.parametrize(
    "bad", ["age1notvalid", "ssh-ed25519 AAAAbroken", "AGE-SECRET-KEY-1XYZ", ""]
)
def test_bad_recipients(bad: str) -> None:
    with pytest.raises(KeyMaterialError) as info:
        agekey.parse_recipient(bad)
    assert "AGE-SECRET" not in "\n".join(info.value.hints)


def test_recipients_from_env() -> None:
    assert identities.recipients_from_env({"SOPS_AGE_RECIPIENTS": " age1a , age1b,"}) == [
        "age1a",
        "age1b",
    ]


def test_key_file_format_matches_age_keygen() -> None:
    from datetime import datetime

    secret, public = agekey.generate_identity()
    text = agekey.format_key_file(
        secret, public, datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    )
    assert text == f"# created: 2026-01-02T03:04:05Z\n# public key: {public}\n{secret}\n"


def _locked(tmp_path: Path, passphrase: str) -> Path:
    import pyrage  # noqa: TID251 - test setup: a passphrase file as age -p writes it

    path = tmp_path / "keys.age"
    path.write_bytes(pyrage.passphrase.encrypt(f"{MOCK_IDENTITY}\n".encode(), passphrase))
    return path


def test_passphrase_protected_file_is_unlocked_only_when_needed(tmp_path: Path) -> None:
    locked = _locked(tmp_path, "s3cret")
    asked: list[str] = []

    def ask(label: str) -> str:
        asked.append(label)
        return "s3cret"

    env = {"SOPS_AGE_KEY_FILE": str(locked)}
    assert identities.unwrap_data_key(_meta(MOCK_RECIPIENT), env, tmp_path, ask) == DATA_KEY
    assert asked == [f"SOPS_AGE_KEY_FILE={locked}"]
    # a plain identity that works means no prompt at all
    asked.clear()
    env["SOPS_AGE_KEY"] = MOCK_IDENTITY
    assert identities.unwrap_data_key(_meta(MOCK_RECIPIENT), env, tmp_path, ask) == DATA_KEY
    assert asked == []


def test_passphrase_wrong_or_unavailable(tmp_path: Path) -> None:
    locked = _locked(tmp_path, "s3cret")
    env = {"SOPS_AGE_KEY_FILE": str(locked)}
    with pytest.raises(KeyRetrievalError) as exc:
        identities.unwrap_data_key(_meta(MOCK_RECIPIENT), env, tmp_path, lambda _: "wrong")
    assert any("incorrect passphrase" in h for h in exc.value.hints)
    with pytest.raises(KeyRetrievalError) as exc:
        identities.unwrap_data_key(_meta(MOCK_RECIPIENT), env, tmp_path, lambda _: None)
    assert any("no terminal to ask on" in h for h in exc.value.hints)
    assert not any(MOCK_IDENTITY in h for h in exc.value.hints)


def test_identity_file_open_to_others_warns_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key = tmp_path / "open-keys.txt"
    key.write_text(f"{MOCK_IDENTITY}\n")
    key.chmod(0o604)
    env = {"SOPS_AGE_KEY_FILE": str(key)}
    for _ in range(2):
        assert identities.unwrap_data_key(_meta(MOCK_RECIPIENT), env, tmp_path) == DATA_KEY
    err = capsys.readouterr().err
    assert err == (
        f"kseal: warning: {key}: this age identity file is accessible to group or others "
        f"(mode 0604), which ssh would refuse for a key; run: chmod 600 {key}\n"
    )
    assert MOCK_IDENTITY not in err
    closed = tmp_path / "closed-keys.txt"
    closed.write_text(f"{MOCK_IDENTITY}\n")
    closed.chmod(0o600)
    env = {"SOPS_AGE_KEY_FILE": str(closed)}
    assert identities.unwrap_data_key(_meta(MOCK_RECIPIENT), env, tmp_path) == DATA_KEY
    assert capsys.readouterr().err == ""
