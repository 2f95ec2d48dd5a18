"""The house rules that import-linter does not check: no private name crosses a module,
and the package's folders are packages (so an installed copy has every stage)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SIM = Path(__file__).resolve().parents[1] / "sim"
MODULES = sorted(SIM.rglob("*.py"))


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _module_name(path: Path) -> str:
    parts = path.relative_to(SIM.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_module(name: str) -> bool:
    """Whether a dotted name is a module of the package (not a function or class in one)."""
    parts = name.split(".")
    return (SIM.parent.joinpath(*parts).with_suffix(".py").exists()
            or (SIM.parent.joinpath(*parts) / "__init__.py").exists())


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(SIM)))
def test_no_private_name_is_used_outside_its_module(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    modules: set[str] = set()  # local names bound to sim modules
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("sim"):
            for alias in node.names:
                if _private(alias.name):
                    found.append(f"line {node.lineno}: imports {node.module}.{alias.name}")
                elif _is_module(f"{node.module}.{alias.name}"):
                    modules.add(alias.asname or alias.name)
        elif isinstance(node, ast.Import):
            modules.update(a.asname for a in node.names if a.name.startswith("sim") and a.asname)
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                and node.value.id in modules and _private(node.attr)):
            found.append(f"line {node.lineno}: uses {node.value.id}.{node.attr}")
    assert not found, found


def test_every_folder_of_the_package_is_a_package() -> None:
    folders = {p.parent for p in MODULES if p.parent.name != "__pycache__"}
    assert not [f for f in folders if not (f / "__init__.py").exists()]


def test_the_folders_are_the_stages_of_the_flow() -> None:
    stages = {p.name for p in SIM.iterdir() if p.is_dir() and p.name != "__pycache__"}
    assert stages == {"scenario", "model", "running", "analysis", "outputs", "commands"}
    assert {_module_name(p) for p in MODULES} >= {
        "sim.scenario.loading", "sim.model.replication", "sim.running.montecarlo",
        "sim.analysis.summary", "sim.outputs.figures.run", "sim.api", "sim.__main__"}
