"""The GitHub Action (action.yml) and the GitLab CI template: their structure, and their steps'
own shell commands run with bash under a fake GitHub/GitLab environment.

Only ``pip install`` is redirected (to a ``kseal`` that runs this checkout): each template keeps
it on one line of its own, so everything else runs exactly as written. The end-to-end runs use
the real ``kseal bootstrap --dry-run``.
"""

from __future__ import annotations

import base64
import os
import re
import shlex
import subprocess
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from kseal.yamlio import safe_load_all

ROOT = Path(__file__).resolve().parents[1]
ACTION = ROOT / "action.yml"
GITLAB = ROOT / "ci" / "gitlab" / "kseal-bootstrap.gitlab-ci.yml"
EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
PIP_INSTALL = re.compile(r"^.*-m pip install .*$", re.MULTILINE)

SENTINEL = "S3NT1NEL-bootstrap-value"
PEM = f"-----BEGIN TEST-----\n{SENTINEL}-line-two\n-----END TEST-----\n"


def _load(path: Path) -> dict[str, Any]:
    docs = safe_load_all(path.read_text())
    assert len(docs) == 1 and isinstance(docs[0], dict)
    return docs[0]


def _steps() -> list[dict[str, Any]]:
    steps = _load(ACTION)["runs"]["steps"]
    assert isinstance(steps, list)
    return steps


def _step(step_id: str) -> dict[str, Any]:
    return next(s for s in _steps() if s.get("id") == step_id)


def _job() -> dict[str, Any]:
    job = _load(GITLAB)[".kseal-bootstrap"]
    assert isinstance(job, dict)
    return job


def _strings(node: Any) -> Iterator[str]:
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for value in node.values():
            yield from _strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from _strings(value)


def _clean_env(tmp_path: Path) -> dict[str, str]:
    """The test's environment without any CI, SOPS or kseal variable, with this Python first."""
    drop = ("SOPS_", "KSEAL_", "GITHUB_", "GITLAB_", "RUNNER_", "CI")
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    path = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return {**env, "HOME": str(home), "PATH": path}


def _fake_pip(script: str) -> str:
    """``script`` with its one ``pip install`` line replaced by a ``kseal`` in ``$KSEAL_VENV``
    that runs this checkout (the venv itself was made by the template's own command)."""
    assert len(PIP_INSTALL.findall(script)) == 1, script
    pythonpath = shlex.quote(f"{ROOT}{os.pathsep}{ROOT / 'controller'}")
    shim = (
        f"#!/bin/sh\nPYTHONPATH={pythonpath} exec {shlex.quote(sys.executable)} -m kseal \"$@\"\n"
    )
    fake = f'printf %s {shlex.quote(shim)} > "$KSEAL_VENV/bin/kseal"; chmod +x "$KSEAL_VENV/bin/kseal"'
    return PIP_INSTALL.sub(lambda _m: fake, script)


def _recording_kseal(venv: Path) -> Path:
    """A stand-in ``kseal`` that records its arguments (one per line) and whether it got a key."""
    (venv / "bin").mkdir(parents=True)
    record = venv / "argv"
    kseal = venv / "bin" / "kseal"
    kseal.write_text(
        "#!/bin/sh\n"
        f'for a in "$@"; do printf "%s\\n" "$a"; done > {shlex.quote(str(record))}\n'
        'if [ -n "${KSEAL_AGE_KEY+set}" ]; then echo "key in environment"; fi\n'
    )
    kseal.chmod(0o755)
    return record


# --- the GitHub Action: a fake runner -----------------------------------------------------------

@dataclass
class Run:
    returncode: int
    output: str
    summary: str
    github_path: str


def _render(text: str, context: Mapping[str, str]) -> str:
    def value(match: re.Match[str]) -> str:
        assert match.group(1) in context, f"unknown expression {match.group(0)}"
        return context[match.group(1)]

    return EXPRESSION.sub(value, text)


def _run_action(
    tmp_path: Path, inputs: Mapping[str, str], *, only: str | None = None
) -> Run:
    """Run the action's ``run:`` steps (or only the step ``only``) as the runner would: bash with
    ``-eo pipefail``, each step's ``env:`` rendered, ``$GITHUB_PATH`` honoured between steps."""
    action = _load(ACTION)
    context = {f"inputs.{name}": inputs.get(name, str(spec.get("default", "")))
               for name, spec in action["inputs"].items()}
    runner_temp = tmp_path / "runner-temp"
    runner_temp.mkdir(exist_ok=True)
    context |= {"github.action_path": str(ROOT), "runner.temp": str(runner_temp),
                "steps.python.outputs.python-path": sys.executable}
    files = {name: tmp_path / f"gh-{name}" for name in ("summary", "path", "env", "output")}
    for file in files.values():
        file.touch()
    env = _clean_env(tmp_path) | {
        "CI": "true", "GITHUB_ACTIONS": "true", "RUNNER_TEMP": str(runner_temp),
        "GITHUB_STEP_SUMMARY": str(files["summary"]), "GITHUB_PATH": str(files["path"]),
        "GITHUB_ENV": str(files["env"]), "GITHUB_OUTPUT": str(files["output"]),
    }
    output, returncode = "", 0
    for step in _steps():
        if "run" not in step or (only and step.get("id") != only):
            continue
        script = _fake_pip(step["run"]) if step.get("id") == "install" else step["run"]
        extra = files["path"].read_text().split()
        step_env = env | {k: _render(str(v), context) for k, v in step.get("env", {}).items()}
        step_env["PATH"] = os.pathsep.join([*reversed(extra), env["PATH"]])
        proc = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
            env=step_env, cwd=tmp_path, capture_output=True, text=True, check=False,
        )
        output += proc.stdout + proc.stderr
        returncode = proc.returncode
        if returncode:
            break
    return Run(returncode, output, files["summary"].read_text(), files["path"].read_text())


def test_action_is_a_composite_action_whose_actions_are_pinned_to_full_commits() -> None:
    action = _load(ACTION)
    assert action["runs"]["using"] == "composite"
    lines = ACTION.read_text().splitlines()
    uses = [step["uses"] for step in _steps() if "uses" in step]
    assert uses
    for ref in uses:
        assert re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}", ref), ref
        at = next(i for i, line in enumerate(lines) if ref in line)
        assert re.search(r"# v\d+\.\d+\.\d+", lines[at - 1] + lines[at]), ref  # a version comment


def test_action_inputs_used_are_exactly_the_declared_ones() -> None:
    action = _load(ACTION)
    used = {expr.removeprefix("inputs.")
            for text in _strings(action["runs"]) for expr in EXPRESSION.findall(text)
            if expr.startswith("inputs.")}
    assert used == set(action["inputs"])


def test_action_run_scripts_interpolate_no_expression_inputs_go_through_env() -> None:
    for step in _steps():
        if "run" in step:
            assert "${{" not in step["run"], step["name"]
            assert step["shell"] == "bash"
            assert step["run"].startswith("set -euo pipefail\n")


def test_action_age_key_reaches_kseal_only_as_KSEAL_AGE_KEY_in_the_environment() -> None:
    refs = [(step.get("id"), name) for step in _steps()
            for name, value in step.get("env", {}).items() if "inputs.age-key" in str(value)]
    assert refs == [("bootstrap", "KSEAL_AGE_KEY")]
    assert "inputs.age-key" not in str(_step("python"))


def test_action_installs_kseal_from_its_own_checkout_in_a_step_of_its_own() -> None:
    install = _step("install")
    assert install["env"]["KSEAL_SOURCE"] == "${{ github.action_path }}"
    assert PIP_INSTALL.findall(install["run"]) == [
        '"$KSEAL_VENV/bin/python" -m pip install --quiet --disable-pip-version-check '
        '"$KSEAL_SOURCE[cluster]"'
    ]


def test_action_turns_inputs_into_kseal_arguments_without_the_key(tmp_path: Path) -> None:
    record = _recording_kseal(tmp_path / "runner-temp" / "kseal-venv")
    key = "AGE-SECRET-KEY-1TESTONLYNOTAREALKEY"
    run = _run_action(tmp_path, {
        "paths": "secrets/a.yaml  secrets/b\n*.yaml\n", "age-key": f"# comment\r\n{key}\r\n",
        "kubeconfig": "/k/config", "context": "prod", "create-namespace": "true",
        "allow-kind": "ConfigMap, SecretStore\nExternalSecret",
    }, only="bootstrap")
    assert run.returncode == 0, run.output
    assert record.read_text().splitlines() == [
        "bootstrap", "--create-namespace", "--kubeconfig", "/k/config", "--context", "prod",
        "--allow-kind", "ConfigMap", "--allow-kind", "SecretStore", "--allow-kind",
        "ExternalSecret", "--", "secrets/a.yaml", "secrets/b", "*.yaml",
    ]
    assert run.output.splitlines() == [f"::add-mask::{key}", "key in environment"]


def test_action_without_an_age_key_leaves_KSEAL_AGE_KEY_unset(tmp_path: Path) -> None:
    record = _recording_kseal(tmp_path / "runner-temp" / "kseal-venv")
    run = _run_action(tmp_path, {"paths": "s", "dry-run": "true"}, only="bootstrap")
    assert run.returncode == 0, run.output
    assert run.output == ""
    assert record.read_text().splitlines() == ["bootstrap", "--dry-run", "--", "s"]


@pytest.mark.parametrize(
    ("inputs", "error"),
    [
        ({"paths": " \n "}, "::error::kseal bootstrap: the paths input is empty"),
        ({"paths": "s", "dry-run": "yes"}, "::error::kseal bootstrap: the dry-run input must be"),
        ({"paths": "s", "create-namespace": "1"}, "::error::kseal bootstrap: the create-namespace"),
    ],
)
def test_action_rejects_bad_inputs_with_an_error_annotation_and_exit_2(
    tmp_path: Path, inputs: dict[str, str], error: str
) -> None:
    record = _recording_kseal(tmp_path / "runner-temp" / "kseal-venv")
    run = _run_action(tmp_path, inputs, only="bootstrap")
    assert run.returncode == 2
    assert run.output.startswith(error)
    assert not record.exists()


# --- the GitLab template: a fake job ------------------------------------------------------------

def _run_job(
    tmp_path: Path, variables: Mapping[str, str], *, install: bool = True,
    skip_venv: bool = False,
) -> subprocess.CompletedProcess[str]:
    """Run ``before_script`` then ``script`` in one bash, as GitLab Runner does, with the
    template's variables (overridden by ``variables``, as CI/CD settings override them)."""
    job = _job()
    lines = list(job["before_script"])
    if skip_venv:
        lines = [line for line in lines if "-m venv" not in line]
    script = "\n".join([*lines, *job["script"]])
    script = _fake_pip(script) if install else PIP_INSTALL.sub(
        'printf "%s\\n" "$KSEAL_INSTALL" > "$KSEAL_VENV/requirement"', script)
    env = _clean_env(tmp_path) | {
        "CI": "true", "GITLAB_CI": "true", "CI_PROJECT_DIR": str(tmp_path),
        "KSEAL_VENV": str(tmp_path / "kseal-venv"),
    }
    env |= {k: str(v) for k, v in job["variables"].items() if k != "KSEAL_VENV"}
    env |= variables
    return subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
        env=env, cwd=tmp_path, capture_output=True, text=True, check=False,
    )


def test_gitlab_template_is_a_hidden_job_on_python_slim_without_the_key_defined() -> None:
    assert list(_load(GITLAB)) == [".kseal-bootstrap"]
    job = _job()
    assert job["image"] == "python:3.11-slim"
    assert {"KSEAL_PATHS", "KSEAL_REF", "KSEAL_INSTALL"} <= set(job["variables"])
    assert "KSEAL_AGE_KEY" not in job["variables"]  # a masked, protected CI/CD variable
    text = "\n".join([*job["before_script"], *job["script"]])
    assert len(PIP_INSTALL.findall("\n".join(job["before_script"]))) == 1
    assert "set -x" not in text and "CI_DEBUG_TRACE" not in text
    assert [line for line in text.splitlines() if "KSEAL_AGE_KEY" in line] == [
        '  if [ -z "${KSEAL_AGE_KEY:-}" ]; then unset KSEAL_AGE_KEY; fi'.strip()
    ]


@pytest.mark.parametrize("ref", ["", "main", "v1.0.0", "A" * 40, "0" * 39])
def test_gitlab_template_refuses_to_install_without_a_pinned_commit(
    tmp_path: Path, ref: str
) -> None:
    proc = _run_job(tmp_path, {"KSEAL_REF": ref}, install=False, skip_venv=True)
    assert proc.returncode == 2
    assert "set KSEAL_REF to a kseal commit (40 hex digits)" in proc.stderr


def test_gitlab_template_installs_kseal_of_the_pinned_commit_with_the_cluster_extra(
    tmp_path: Path,
) -> None:
    (tmp_path / "kseal-venv").mkdir()
    sha = "0123456789abcdef0123456789abcdef01234567"
    proc = _run_job(tmp_path, {"KSEAL_REF": sha, "KSEAL_PATHS": "s"}, install=False,
                    skip_venv=True)
    requirement = (tmp_path / "kseal-venv" / "requirement").read_text()
    assert requirement == f"kseal[cluster] @ https://github.com/kseal/kseal/archive/{sha}.tar.gz\n"
    assert proc.returncode == 127  # no kseal was installed: the fake pip only recorded


def test_gitlab_template_turns_variables_into_kseal_arguments(tmp_path: Path) -> None:
    record = _recording_kseal(tmp_path / "kseal-venv")
    proc = _run_job(tmp_path, {
        "KSEAL_INSTALL": "kseal", "KSEAL_PATHS": "a.yaml\nb dir/*", "KSEAL_CONTEXT": "agent:prod",
        "KSEAL_ALLOW_KIND": "ConfigMap,SecretStore", "KSEAL_CREATE_NAMESPACE": "true",
        "KSEAL_DRY_RUN": "true", "KSEAL_AGE_KEY": "AGE-SECRET-KEY-1TESTONLY",
    }, install=False, skip_venv=True)
    assert proc.returncode == 0, proc.stderr
    assert record.read_text().splitlines() == [
        "bootstrap", "--create-namespace", "--dry-run", "--context", "agent:prod",
        "--allow-kind", "ConfigMap", "--allow-kind", "SecretStore", "--", "a.yaml", "b", "dir/*",
    ]
    assert proc.stdout == "key in environment\n"  # no ::add-mask:: on GitLab


@pytest.mark.parametrize(
    ("variables", "error"),
    [
        ({"KSEAL_PATHS": ""}, "KSEAL_PATHS is empty"),
        ({"KSEAL_PATHS": "s", "KSEAL_DRY_RUN": "yes"}, "KSEAL_DRY_RUN must be true or false"),
        ({"KSEAL_PATHS": "s", "KSEAL_CREATE_NAMESPACE": "on"}, "KSEAL_CREATE_NAMESPACE must be"),
    ],
)
def test_gitlab_template_rejects_bad_variables_with_exit_2(
    tmp_path: Path, variables: dict[str, str], error: str
) -> None:
    record = _recording_kseal(tmp_path / "kseal-venv")
    proc = _run_job(tmp_path, {"KSEAL_INSTALL": "kseal", **variables}, install=False,
                    skip_venv=True)
    assert proc.returncode == 2
    assert error in proc.stderr
    assert not record.exists()


# --- end to end: the real steps and the real kseal bootstrap --dry-run --------------------------

@pytest.fixture
def bootstrap_command(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "kseal", "bootstrap", "--help"], env=_clean_env(tmp_path),
        capture_output=True, text=True, check=False,
    )
    assert proc.returncode == 0, proc.stderr


@pytest.fixture
def sample(tmp_path: Path) -> tuple[Path, str]:
    """A directory with one SOPS-encrypted Secret holding the sentinel values, and the age key
    that opens it; the plaintext is removed."""
    env = _clean_env(tmp_path) | {"PYTHONPATH": str(ROOT)}

    def kseal(*args: str) -> str:
        proc = subprocess.run([sys.executable, "-m", "kseal", *args], env=env, cwd=tmp_path,
                              capture_output=True, text=True, check=False)
        assert proc.returncode == 0, proc.stderr
        return proc.stdout

    kseal("keygen", "-o", "key.txt")
    key = (tmp_path / "key.txt").read_text()
    public = re.findall(r"age1[0-9a-z]+", key)[0]
    (tmp_path / "key.txt").unlink()
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    plain = secrets / "app.plain.yaml"
    plain.write_text(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: app\n  namespace: infra\n"
        f"stringData:\n  password: {SENTINEL}\n"
        f"data:\n  tls.key: {base64.b64encode(PEM.encode()).decode()}\n"
    )
    encrypted = kseal("encrypt", "--age", public, "--encrypted-regex", "^(data|stringData)$",
                      str(plain))
    plain.unlink()
    (secrets / "app.yaml").write_text(encrypted)
    return secrets, key


def _secret_lines(text: str) -> list[str]:
    secrets = [SENTINEL, *PEM.splitlines()[1:2], base64.b64encode(PEM.encode()).decode()]
    return [line for line in text.splitlines() if any(s in line for s in secrets)]


def _files_holding_the_sentinel(root: Path) -> list[Path]:
    return [p for p in root.rglob("*")
            if p.is_file() and not p.is_symlink() and SENTINEL.encode() in p.read_bytes()]


@pytest.mark.usefixtures("bootstrap_command")
def test_action_end_to_end_dry_run_masks_values_and_writes_the_summary(
    tmp_path: Path, sample: tuple[Path, str]
) -> None:
    secrets, key = sample
    run = _run_action(tmp_path, {"paths": str(secrets), "age-key": key, "dry-run": "true"})
    assert run.returncode == 0, run.output
    assert str(tmp_path / "runner-temp" / "kseal-venv" / "bin") in run.github_path
    masks = [line for line in run.output.splitlines() if line.startswith("::add-mask::")]
    for value in [SENTINEL, f"{SENTINEL}-line-two", base64.b64encode(PEM.encode()).decode()]:
        assert f"::add-mask::{value}" in masks
    assert all(line.startswith("::add-mask::") for line in _secret_lines(run.output))
    assert "| Secret | infra | app |" in run.summary and "password" in run.summary
    assert _secret_lines(run.summary) == []
    assert _files_holding_the_sentinel(tmp_path) == []


@pytest.mark.usefixtures("bootstrap_command")
def test_gitlab_template_end_to_end_dry_run_prints_the_table_and_no_value(
    tmp_path: Path, sample: tuple[Path, str]
) -> None:
    secrets, key = sample
    proc = _run_job(tmp_path, {"KSEAL_INSTALL": "kseal", "KSEAL_PATHS": str(secrets),
                               "KSEAL_AGE_KEY": key, "KSEAL_DRY_RUN": "true"})
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output
    assert "::add-mask::" not in output
    assert _secret_lines(output) == []
    assert re.search(r"Secret\s+infra\s+app\s", output)
    assert _files_holding_the_sentinel(tmp_path) == []


def test_ci_docs_list_every_action_input_and_every_template_variable() -> None:
    page = (ROOT / "docs" / "workflows" / "ci.md").read_text()
    documented = set(re.findall(r"^\| `([a-z-]+)` \|", page, re.MULTILINE))
    assert documented == set(_load(ACTION)["inputs"])
    for name in _job()["variables"]:
        if name.startswith("KSEAL_") and name != "KSEAL_VENV":
            assert f"`{name}`" in page, name
