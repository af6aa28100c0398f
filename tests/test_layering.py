"""Architecture rules, enforced: one owner module per dependency, pure cores, light start-up."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "kseal"
# the in-cluster controller: its own package, installed from controller/ by the same distribution
CONTROLLER = ROOT / "controller" / "kseal_controller"
# (package directory, the directory module names are relative to)
SOURCES = ((PACKAGE, ROOT), (CONTROLLER, CONTROLLER.parent))

# dependency -> the only modules allowed to import it ("pkg.*": any module of that package)
OWNERS = {
    "ruamel": {"kseal.yamlio"},
    "yaml": set(),
    "pyrage": {"kseal.agekey"},
    "kubernetes": {"kseal.cluster", "kseal.cluster.*", "kseal_controller.kube"},
    "prometheus_client": {"kseal_controller.metrics"},
    "re2": {"kseal.goregex"},
    "rich": {"kseal.cli.ui"},  # the terminal: progress, tables, colours
}
CLI_ONLY = ("typer", "rich", "click")
# Pure cores: no terminal, no cluster, no environment or process access.
PURE = ("kseal.sops.codec", "kseal.sops.document", "kseal.sops.engine", "kseal.sops.gofmt",
        "kseal.sops.metadata", "kseal.sops.rules", "kseal.sops.tree", "kseal.agekey",
        "kseal.agefile", "kseal.agepq", "kseal.bech32",
        "kseal.sops.shamir", "kseal.sops.keygroups", "kseal.sops.workflows", "kseal.sops.redact",
        "kseal.sops.verify",
        "kseal.goregex", "kseal.tempnames", "kseal.shapes", "kseal.sealed_edits",
        "kseal.check.model", "kseal.check.nodes", "kseal.check.manifests", "kseal.check.keymaterial",
        "kseal.check.sopsrules", "kseal.check.suppress", "kseal.check.report", "kseal.check.scan",
        "kseal.check.source", "kseal.check.templates", "kseal.gotemplate")
IMPURE = ("os", "subprocess", "kseal.fileio", "kseal.identities", "kseal.cli", "sys")
# The controller's pure decisions (they take `now` and everything they decide on as parameters)
# and the modules that do its I/O (the API, HTTP, metrics, logs, cgroups, the loops).
CONTROLLER_PURE = ("kseal_controller.reconcile", "kseal_controller.syncmark",
                   "kseal_controller.keyring", "kseal_controller.logfields", "kseal.gotemplate")
CONTROLLER_IMPURE = ("kubernetes", "prometheus_client", "socket", "http.server", "signal",
                     "kseal_controller.writers",
                     "kseal_controller.kube", "kseal_controller.http", "kseal_controller.metrics",
                     "kseal_controller.logs", "kseal_controller.cpus", "kseal_controller.informer",
                     "kseal_controller.controller", "kseal_controller.main")


def _sources() -> dict[str, Path]:
    """Every module of kseal and of the controller package, by dotted name."""
    out = {}
    for package, base in SOURCES:
        for path in package.rglob("*.py"):
            rel = path.relative_to(base).with_suffix("")
            out[".".join(rel.parts).removesuffix(".__init__")] = path
    return out


def _modules() -> dict[str, set[str]]:
    out = {}
    for name, path in _sources().items():
        imports: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                imports.update(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                imports.add(node.module)
        out[name] = imports
    return out


MODULES = _modules()


def _top(name: str) -> str:
    return name.split(".")[0]


@pytest.mark.parametrize("module", sorted(MODULES))
def test_dependency_owners(module: str) -> None:
    for imported in MODULES[module]:
        owners = OWNERS.get(_top(imported))
        if owners is not None:
            allowed = module in owners or any(
                o.endswith(".*") and module.startswith(o[:-1]) for o in owners
            )
            assert allowed, f"{module} imports {imported}; only {owners} may"
        if _top(imported) in CLI_ONLY:
            assert module.startswith("kseal.cli"), f"{module} imports {imported} (CLI only)"
        if imported.startswith("kseal.cli"):
            assert module.startswith("kseal.cli") or module == "kseal.__main__", module


@pytest.mark.parametrize("module", PURE)
def test_pure_cores_do_no_io(module: str) -> None:
    if module not in MODULES:
        pytest.skip(f"{module} not present")
    bad = {i for i in MODULES[module] if i in IMPURE or i.startswith("kseal.cli")}
    assert not bad, f"{module} imports {bad}"


def test_the_controller_package_is_scanned() -> None:
    assert "kseal_controller" in MODULES and "kseal_controller.apierrors" in MODULES


@pytest.mark.parametrize("module", sorted(m for m in MODULES if m.split(".")[0] == "kseal"))
def test_kseal_never_imports_the_controller(module: str) -> None:
    """The controller builds on kseal; kseal (the CLI, the formats) stands without it."""
    bad = {i for i in MODULES[module] if _top(i) == "kseal_controller"}
    assert not bad, f"{module} imports {bad}"


def test_the_controllers_pure_modules_do_no_io() -> None:
    """Checks the pure modules present (the controller's are written in parallel branches, so a
    module not there yet is not a skip)."""
    bad = {
        module: {i for i in MODULES[module] if i in IMPURE or i in CONTROLLER_IMPURE
                 or _top(i) in CONTROLLER_IMPURE or i.startswith("kseal.cli")}
        for module in CONTROLLER_PURE if module in MODULES
    }
    assert not {m: i for m, i in bad.items() if i}, bad


@pytest.mark.parametrize("module", sorted(m for m in MODULES if _top(m) == "kseal_controller"))
def test_the_controller_never_touches_the_terminal(module: str) -> None:
    """No typer, rich or click in the controller: it logs, it has no terminal UI."""
    bad = {i for i in MODULES[module] if _top(i) in CLI_ONLY or i.startswith("kseal.cli")}
    assert not bad, f"{module} imports {bad}"


def test_startup_imports_stay_light() -> None:
    code = (
        "import sys, kseal.cli.main\n"
        "heavy = [m for m in ('cryptography', 'ruamel', 'kubernetes', 'pyrage', 'rich', 're2')"
        " if m in sys.modules]\n"
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"imported at start-up: {out.stdout.strip()}"



def _imported_by(args: list[str], tmp_path: Path, env: dict[str, str] | None = None) -> set[str]:
    """The modules a ``kseal ARGS`` process has imported when it exits."""
    code = (
        "import atexit, sys\n"
        "atexit.register(lambda: open(sys.argv[1], 'w').write('\\n'.join(sys.modules)))\n"
        "from kseal.cli.main import run\n"
        "run(sys.argv[2:])\n"
    )
    out = tmp_path / "modules.txt"
    full = {**os.environ, **(env or {}), "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", code, str(out), *args],
        capture_output=True, text=True, env=full, cwd=tmp_path, check=False,
    )
    assert "error" not in done.stderr, done.stderr
    return set(out.read_text().split("\n"))


def _tops(modules: set[str]) -> set[str]:
    return {m.split(".")[0] for m in modules}


HEAVY = {"typer", "click", "rich", "cryptography", "pyrage", "ruamel", "re2", "kubernetes"}


def test_version_imports_no_heavy_module(tmp_path: Path) -> None:
    loaded = _imported_by(["--version"], tmp_path)
    assert not _tops(loaded) & HEAVY, sorted(_tops(loaded) & HEAVY)
    assert not {m for m in loaded if m.startswith("kseal.cli.") and m not in {
        "kseal.cli.main", "kseal.cli.ui", "kseal.cli.commands"}}


def test_help_loads_no_command_module(tmp_path: Path) -> None:
    from kseal.cli.commands import COMMANDS

    loaded = _imported_by(["--help"], tmp_path)
    assert not _tops(loaded) & (HEAVY - {"typer"}), sorted(_tops(loaded) & HEAVY)
    modules = {module for module, _ in COMMANDS.values()}
    assert not loaded & modules, sorted(loaded & modules)


def test_decrypt_loads_only_its_command(tmp_path: Path) -> None:
    from kseal.cli.commands import COMMANDS

    vectors = ROOT / "tests" / "vectors"
    key = {"SOPS_AGE_KEY_FILE": str(vectors / "keys" / "age-TESTONLY.txt")}
    loaded = _imported_by(["decrypt", str(vectors / "sops" / "secret.kseal.yaml")], tmp_path, key)
    assert "cryptography" in _tops(loaded)  # it did decrypt
    assert "rich" not in _tops(loaded)
    others = {module for module, _ in COMMANDS.values()} - {COMMANDS["decrypt"][0]}
    assert not loaded & others, sorted(loaded & others)


def test_command_table_matches_the_commands() -> None:
    """The static table ``kseal --help`` lists is what the command modules declare."""
    from kseal.cli.app import load
    from kseal.cli.commands import COMMANDS

    declared: dict[str, tuple[str, str]] = {}
    for module in dict.fromkeys(m for m, _ in COMMANDS.values()):
        for name, command in load(module).items():
            text = command.short_help or (command.help or "").split("\n\n")[0]
            declared[name] = (module, " ".join(text.split()))
    assert declared == COMMANDS


def _import_graph() -> dict[str, set[str]]:
    """kseal's and the controller's modules and the modules of theirs each imports, at any level
    (function-level imports count: a cycle is a tangle whatever the timing), relative imports
    resolved."""
    paths = _sources()
    graph: dict[str, set[str]] = {m: set() for m in paths}
    for module, path in paths.items():
        for node in ast.walk(ast.parse(path.read_text())):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parts = module.split(".")
                    keep = len(parts) - node.level + (path.name == "__init__.py")
                    base = ".".join(parts[:keep] + ([node.module] if node.module else []))
                names = [base, *(f"{base}.{a.name}" for a in node.names)]
            for name in names:
                while name and name not in paths:
                    name = name.rpartition(".")[0]
                if name and name not in (module, "kseal", "kseal_controller"):
                    graph[module].add(name)
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


# Cycles in kseal/sops/, which the sops-core work of issue 10 owns and untangles: listed so that
# this test still catches every new one.

def test_import_graph_is_acyclic() -> None:
    cycles = _cycles(_import_graph())
    assert not cycles, "import cycles: " + "; ".join(" <-> ".join(c) for c in cycles)


def test_the_cycle_finder_finds_cycles() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _cycles(graph) == [["a", "b", "c"]]


def test_functions_stay_short() -> None:
    """No function in kseal/ or the controller is over 80 lines (ruff's C901 keeps each under
    complexity 15)."""
    long = []
    for path in _sources().values():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > 80:
                    long.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({length})")
    assert not long, "split these functions: " + ", ".join(long)
