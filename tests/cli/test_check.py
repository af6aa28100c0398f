"""kseal check through the real CLI: exit codes, formats, suppression, MAC and seal checks, --fix,
and no false positives on kseal's own encrypted and sealed output."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.cli.conftest import Run

SENTINEL = "SENTINEL-c4e7-check"
SECRET = f"""\
apiVersion: v1
kind: Secret
metadata:
  name: db
  namespace: prod
stringData:
  password: {SENTINEL}
"""


def _repo(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    (repo / "k8s").mkdir(parents=True)
    (repo / ".git").mkdir()  # stops the allowlist search, like a real checkout
    return repo


def test_exit_codes_and_text(kseal: Run, tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    (repo / "k8s" / "ok.yaml").write_text("apiVersion: v1\nkind: ConfigMap\ndata: {a: b}\n")
    assert kseal("check", ".", cwd=repo).returncode == 0
    (repo / "k8s" / "secret.yaml").write_text(SECRET)
    out = kseal("check", cwd=repo)
    assert out.returncode == 1
    assert (
        out.stdout.decode()
        == "k8s/secret.yaml:6:1: KS101 Secret prod/db has plaintext stringData: password\n"
    )
    assert b"2 file(s) checked, 1 error(s)" in out.stderr
    assert SENTINEL.encode() not in out.stdout + out.stderr
    assert kseal("check", "--format", "xml", cwd=repo).returncode == 2
    assert kseal("check", "missing.yaml", cwd=repo).returncode == 2
    assert kseal("check", "--bogus", cwd=repo).returncode == 2


def test_json_and_sarif(kseal: Run, tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    (repo / "k8s" / "secret.yaml").write_text(SECRET)
    data = json.loads(kseal("check", "--format", "json", cwd=repo).stdout)
    assert data["files_checked"] == 1
    [finding] = data["findings"]
    assert (
        finding["rule"] == "KS101"
        and finding["line"] == 6
        and finding["name"] == "secret-plaintext"
    )
    sarif = json.loads(kseal("check", "--format", "sarif", cwd=repo).stdout)
    assert sarif["version"] == "2.1.0"
    [result] = sarif["runs"][0]["results"]
    assert result["ruleId"] == "KS101"
    region = result["locations"][0]["physicalLocation"]["region"]
    assert region == {"startLine": 6, "startColumn": 1}
    assert result["partialFingerprints"]["kseal/v1"] == finding["fingerprint"]
    assert SENTINEL not in json.dumps(sarif) + json.dumps(data)


def test_allowlists_and_baseline(kseal: Run, tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    (repo / "k8s" / "secret.yaml").write_text(SECRET)
    (repo / "fixtures").mkdir()
    (repo / "fixtures" / "s.yaml").write_text(SECRET)
    (repo / ".kseal.yaml").write_text(
        "check:\n  allow:\n    - path: fixtures/*\n      rules: [KS101]\n"
    )
    out = kseal("check", cwd=repo)
    assert out.returncode == 1 and b"fixtures" not in out.stdout
    (repo / ".kseal.yaml").unlink()
    (repo / "pyproject.toml").write_text('[tool.kseal.check]\nallow = [{path = "fixtures/"}]\n')
    out = kseal("check", cwd=repo)
    assert out.returncode == 1 and b"fixtures" not in out.stdout
    assert kseal("check", "--write-baseline", "base.json", cwd=repo).returncode == 0
    baseline = (repo / "base.json").read_text()
    assert SENTINEL not in baseline and "k8s/secret.yaml" in baseline
    assert kseal("check", "--baseline", "base.json", cwd=repo).returncode == 0
    # a new finding is still reported; moving the accepted one to another line is not
    (repo / "k8s" / "secret.yaml").write_text("# moved down\n" + SECRET)
    (repo / "k8s" / "new.yaml").write_text(SECRET.replace("name: db", "name: other"))
    out = kseal("check", "--baseline", "base.json", cwd=repo)
    assert out.returncode == 1 and out.stdout.decode().startswith("k8s/new.yaml:")
    assert out.stdout.count(b"\n") == 1
    (repo / ".kseal.yaml").write_text("check:\n  allow:\n    - path: x\n      rules: [NOPE]\n")
    assert kseal("check", cwd=repo).returncode == 2


def test_kseal_output_is_never_flagged(
    kseal: Run, tmp_path: Path, identity: tuple[Path, str]
) -> None:
    _, public = identity
    repo = _repo(tmp_path)
    plain = tmp_path / "secret.yaml"
    plain.write_text(SECRET)
    for name, args in (
        ("all.yaml", ()),
        ("flux.yaml", ("--encrypted-regex", "^(data|stringData)$")),
        ("flux.yml", ("--encrypted-regex", "^(data|stringData)$")),
    ):
        out = kseal(
            "encrypt", "--age", public, *args, "--filename-override", name, input=plain.read_bytes()
        )
        assert out.returncode == 0, out.stderr
        (repo / "k8s" / name).write_bytes(out.stdout)
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    assert (
        kseal(
            "keys", "generate", "--key", str(key), "--cert", str(cert), "--bits", "2048"
        ).returncode
        == 0
    )
    for scope in ("strict", "namespace-wide", "cluster-wide"):
        out = kseal(
            "seal", "--cert", str(cert), "--scope", scope, "-o", "yaml", input=plain.read_bytes()
        )
        assert out.returncode == 0, out.stderr
        (repo / "k8s" / f"sealed-{scope}.yaml").write_bytes(out.stdout)
    (repo / ".sops.yaml").write_text(
        f"creation_rules:\n  - path_regex: .*\\.ya?ml$\n    encrypted_regex: ^(data|stringData)$\n    age: {public}\n"
    )
    (repo / "k8s" / "cm.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {a: b}\n"
    )
    out = kseal("check", "--sealing-key", str(key), cwd=repo)
    assert out.returncode == 0, out.stdout + out.stderr


def test_sealed_secret_renamed_is_caught_with_the_key(kseal: Run, tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    kseal("keys", "generate", "--key", str(key), "--cert", str(cert), "--bits", "2048")
    sealed = kseal("seal", "--cert", str(cert), "-o", "yaml", input=SECRET.encode()).stdout.decode()
    renamed = re.sub(r"(?m)^  name: db$", "  name: db-copy", sealed, count=1)
    assert renamed != sealed
    (repo / "k8s" / "sealed.yaml").write_text(renamed)
    assert kseal("check", cwd=repo).returncode == 0  # not detectable without the key
    out = kseal("check", "--sealing-key", str(key), cwd=repo)
    assert out.returncode == 1 and b"KS401" in out.stdout
    assert SENTINEL.encode() not in out.stdout + out.stderr


def test_verify_mac(kseal: Run, tmp_path: Path, identity: tuple[Path, str]) -> None:
    key, public = identity
    repo = _repo(tmp_path)
    plain = tmp_path / "values.yaml"
    plain.write_text(f"password: {SENTINEL}\nreplicas: 3\n")
    enc = kseal(
        "encrypt", "--age", public, "--encrypted-regex", "^password$", str(plain)
    ).stdout.decode()
    (repo / "values.yaml").write_text(enc.replace("replicas: 3", "replicas: 4"))
    env = {"SOPS_AGE_KEY_FILE": str(key)}
    assert kseal("check", cwd=repo, env=env).returncode == 0  # no MAC check by default
    out = kseal("check", "--verify-mac", cwd=repo, env=env)
    assert out.returncode == 1 and b"KS203" in out.stdout
    assert kseal("check", "--verify-mac", cwd=repo).returncode == 0  # no key: nothing to say


def test_fix_encrypts_with_the_rule(kseal: Run, tmp_path: Path, identity: tuple[Path, str]) -> None:
    key, public = identity
    repo = _repo(tmp_path)
    (repo / ".sops.yaml").write_text(
        f"creation_rules:\n  - path_regex: \\.yaml$\n    encrypted_regex: ^(data|stringData)$\n    age: {public}\n"
    )
    target = repo / "k8s" / "secret.yaml"
    target.write_text(SECRET)
    assert kseal("check", "--fix", cwd=repo).returncode == 8  # stdin is not a terminal
    assert target.read_text() == SECRET
    out = kseal("check", "--fix", "-y", cwd=repo)
    assert out.returncode == 0, out.stdout + out.stderr
    assert SENTINEL not in target.read_text() and "ENC[" in target.read_text()
    out = kseal("decrypt", str(target), env={"SOPS_AGE_KEY_FILE": str(key)})
    assert out.stdout.decode() == SECRET


def test_this_repository_passes_its_own_check(kseal: Run) -> None:
    """Dogfood: kseal's repository, with its .kseal.yaml allowlist, has nothing to report."""
    root = Path(__file__).resolve().parents[2]
    out = kseal("check", ".", cwd=root)
    assert out.returncode == 0, out.stdout.decode() + out.stderr.decode()


def test_venv_directories_are_skipped_only_when_they_are_virtualenvs(
    kseal: Run, tmp_path: Path
) -> None:
    repo = _repo(tmp_path)
    for name in ("venv", ".venv"):
        (repo / name).mkdir()
        (repo / name / "secret.yaml").write_text(SECRET)
    out = kseal("check", cwd=repo)
    assert out.returncode == 1
    assert sorted(out.stdout.decode().splitlines()) == [
        ".venv/secret.yaml:6:1: KS101 Secret prod/db has plaintext stringData: password",
        "venv/secret.yaml:6:1: KS101 Secret prod/db has plaintext stringData: password",
    ]
    for name in ("venv", ".venv"):
        (repo / name / "pyvenv.cfg").write_text("home = /usr/bin\n")
    assert kseal("check", cwd=repo).returncode == 0


def test_large_files_are_streamed_not_skipped(kseal: Run, tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    filler = "---\n# " + "x" * 120 + "\n"
    count = (11 << 20) // len(filler)  # past the 10 MiB at which kseal stops reading whole files
    (repo / "k8s" / "bundle.yaml").write_text(filler * count + "---\n" + SECRET)
    out = kseal("check", cwd=repo)
    assert out.returncode == 1
    line = 2 * count + 1 + 6
    assert out.stdout.decode() == (
        f"k8s/bundle.yaml:{line}:1: KS101 Secret prod/db has plaintext stringData: password\n"
    )
    utf16 = repo / "k8s" / "wide.yaml"
    utf16.write_bytes(("\ufeff" + filler * (count // 2) + "---\n" + SECRET).encode("utf-16-le"))
    out = kseal("check", "k8s/wide.yaml", cwd=repo)
    assert out.returncode == 1 and b"KS101" in out.stdout


def _sops_partial(tmp_path: Path, with_rule: bool) -> tuple[Path, Path, dict[str, str]]:
    """A file encrypted by the real sops, then a plaintext value pasted into it."""
    import shutil
    import subprocess

    from tests.peers import sops_binary

    sops = sops_binary()
    if sops is None or shutil.which("age-keygen") is None:
        pytest.skip("needs the sops binary and age-keygen")
    repo = _repo(tmp_path)
    key = tmp_path / "key.txt"
    subprocess.run(["age-keygen", "-o", str(key)], check=True, capture_output=True)
    public = key.read_text().split("# public key: ")[1].split()[0]
    env = {"SOPS_AGE_KEY_FILE": str(key), "SOPS_DISABLE_VERSION_CHECK": "1"}
    target = repo / "values.yaml"
    target.write_text(f"password: {SENTINEL}\nreplicas: 3\n")
    subprocess.run(
        [
            sops,
            "encrypt",
            "-i",
            "--age",
            public,
            "--encrypted-regex",
            "^(password|token)$",
            str(target),
        ],
        check=True,
        capture_output=True,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), **env},
    )
    if with_rule:
        (repo / ".sops.yaml").write_text(
            f"creation_rules:\n  - path_regex: values\\.yaml$\n"
            f"    encrypted_regex: ^(password|token)$\n    age: {public}\n"
        )
    text = target.read_text()
    target.write_text(text.replace("replicas: 3\n", f"replicas: 3\ntoken: {SENTINEL}-pasted\n"))
    return repo, target, env


def test_ks202_names_the_rule_only_when_one_matches(kseal: Run, tmp_path: Path) -> None:
    for with_rule in (True, False):
        repo, _, env = _sops_partial(tmp_path / str(with_rule), with_rule)
        out = kseal("check", cwd=repo, env=env)
        assert out.returncode == 1
        [line] = out.stdout.decode().splitlines()
        assert line.startswith("values.yaml:3:1: KS202 token is not encrypted, but ")
        claims_rule = "but its .sops.yaml rule (path_regex 'values\\\\.yaml$') says" in line
        assert claims_rule is with_rule, line
        assert ("no .sops.yaml rule matches it" in line) is not with_rule, line
        assert SENTINEL.encode() not in out.stdout + out.stderr
    [finding] = json.loads(kseal("check", "--format", "json", cwd=repo, env=env).stdout)["findings"]
    assert finding["hint"] == "kseal decrypt -i --ignore-mac FILE && kseal encrypt -i FILE"


def test_ks202_fix_command_completes_the_file(kseal: Run, tmp_path: Path) -> None:
    import subprocess

    from kseal.check.model import RULES
    from tests.peers import sops_binary

    repo, target, env = _sops_partial(tmp_path, with_rule=True)
    fix = RULES["KS202"].hint
    assert fix == "kseal decrypt -i --ignore-mac FILE && kseal encrypt -i FILE"
    for command in fix.split(" && "):
        args = command.split()[1:]
        out = kseal(*[str(target) if a == "FILE" else a for a in args], cwd=repo, env=env)
        assert out.returncode == 0, out.stderr
    assert kseal("check", cwd=repo, env=env).returncode == 0
    plain = subprocess.run(
        [str(sops_binary()), "decrypt", str(target)],
        check=True,
        capture_output=True,
        env={"PATH": "/usr/bin:/bin", **env},
    ).stdout.decode()
    assert plain == f"password: {SENTINEL}\nreplicas: 3\ntoken: {SENTINEL}-pasted\n"


def test_precommit_hooks_hand_every_file_to_the_scanner(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """pre-commit's own file classifier gives each evasion file to one of the two hooks (a NUL
    byte makes identify call a key file binary; the key hook must still get it)."""
    from pre_commit.commands.run import Classifier

    from kseal.yamlio import safe_load_all

    root = Path(__file__).resolve().parents[2]
    [hooks] = safe_load_all((root / ".pre-commit-hooks.yaml").read_text())
    label = "RSA PRIVATE" + " KEY"
    files = {
        "id_rsa": b"\0" + f"-----BEGIN {label}-----\nAAAA\n-----END {label}-----\n".encode(),
        "key.pem": ("\ufeff" + f"-----BEGIN {label}-----\nAAAA\n").encode("utf-16-le"),
        "secret.yaml": SECRET.encode().replace(b"name: db", b"name: db\0"),
        "secret.yml.j2": SECRET.encode(),
        "secret.yaml.bak": SECRET.encode(),
        "logo.png": b"\x89PNG\r\n\x1a\n\0\0",
    }
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    monkeypatch.chdir(tmp_path)
    classifier = Classifier(list(files))
    given = {
        name
        for hook in hooks
        for name in classifier.by_types(
            classifier.filenames,
            hook.get("types", ["file"]),
            hook.get("types_or", []),
            hook.get("exclude_types", []),
        )
    }
    assert given == set(files)


def test_template_data_kseal_cannot_render_is_not_a_key_finding(
    kseal: Run, tmp_path: Path
) -> None:
    """KS401 is about the key and the label: values that open are fine even when a template uses
    a function outside kseal's subset (the controller reports that in the status instead)."""
    repo = _repo(tmp_path)
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    kseal("keys", "generate", "--key", str(key), "--cert", str(cert), "--bits", "2048")
    sealed = kseal("seal", "--cert", str(cert), "-o", "yaml", input=SECRET.encode()).stdout.decode()
    sealed = sealed.replace("  template:\n", "  template:\n    data:\n      t: '{{ sha256sum .x }}'\n", 1)
    (repo / "k8s" / "sealed.yaml").write_text(sealed)
    out = kseal("check", "--sealing-key", str(key), cwd=repo)
    assert out.returncode == 0, out.stdout + out.stderr
