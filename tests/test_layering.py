"""Architecture rules, enforced: one owner module per dependency, pure cores, light start-up."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "kseal"

# dependency -> the only modules allowed to import it
OWNERS = {
    "ruamel": {"kseal.yamlio"},
    "yaml": set(),
    "pyrage": {"kseal.agekey"},
    "kubernetes": {"kseal.cluster"},
    "re2": {"kseal.goregex"},
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
        "kseal.check.source", "kseal.check.templates")
IMPURE = ("os", "subprocess", "kseal.fileio", "kseal.identities", "kseal.cli", "sys")


def _modules() -> dict[str, set[str]]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        rel = path.relative_to(ROOT).with_suffix("")
        name = ".".join(rel.parts).removesuffix(".__init__")
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
            assert module in owners, f"{module} imports {imported}; only {owners} may"
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


def test_startup_imports_stay_light() -> None:
    code = (
        "import sys, kseal.cli.main\n"
        "heavy = [m for m in ('cryptography', 'ruamel', 'kubernetes', 'pyrage', 'rich', 're2')"
        " if m in sys.modules]\n"
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"imported at start-up: {out.stdout.strip()}"


