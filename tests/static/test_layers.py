"""The shape of the product, read from the source.

The layer contract itself (runtime > engine > arm | store > core, arm and store independent, a pure core, no
import of the local stack, benchmarks or tests) is import-linter's, in pyproject.toml; `make lint` runs it. What
import-linter cannot say is held here: `azure.functions` is a subpackage of the external package `azure`,
which the edges use, so its ban is checked on the syntax tree; the folder layout and the 50-line cap too.
"""

from __future__ import annotations

import ast
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PRODUCT = REPO / "remediation"
LAYERS = ("core", "arm", "store", "engine", "runtime")
MODULES = sorted(PRODUCT.rglob("*.py"))


def imported_modules(source: str) -> list[str]:
    """Every absolute module name `source` imports, at any depth (lazy imports inside functions included)."""
    names = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.append(node.module)
            names += [f"{node.module}.{alias.name}" for alias in node.names]
    return names


def test_nothing_in_the_product_imports_azure_functions() -> None:
    found = [f"{path.relative_to(REPO)} imports {name}" for path in MODULES
             for name in imported_modules(path.read_text()) if name == "azure.functions"
             or name.startswith("azure.functions.")]
    assert found == []


@pytest.mark.parametrize("source, banned", [
    ("import azure.functions as func", True),
    ("def f():\n    from azure import functions", True),
    ("from azure.functions import HttpRequest", True),
    ("from azure.core import exceptions", False),
])
def test_the_azure_functions_ban_sees_every_spelling(source: str, banned: bool) -> None:
    names = imported_modules(source)
    assert any(n == "azure.functions" or n.startswith("azure.functions.") for n in names) is banned


def test_the_product_folder_holds_only_the_layer_packages() -> None:
    files = sorted(p.name for p in PRODUCT.iterdir() if p.is_file() and p.suffix == ".py")
    folders = sorted(p.name for p in PRODUCT.iterdir() if p.is_dir() and not p.name.startswith(("__", ".")))
    assert files == ["__init__.py", "__main__.py"]
    assert folders == sorted(LAYERS)
    assert all((PRODUCT / layer / "__init__.py").exists() for layer in LAYERS)


def test_the_import_contract_names_every_layer_in_order() -> None:
    config = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["importlinter"]
    layers = next(c for c in config["contracts"] if c["type"] == "layers")["layers"]
    assert layers == ["remediation.runtime", "remediation.engine", "remediation.arm | remediation.store",
                      "remediation.core"]


def test_import_linter_breaks_on_an_upward_import(tmp_path: Path) -> None:
    """The contract is live: a copy of the product with one core module importing the store fails it."""
    copy = tmp_path / "remediation"
    subprocess.run(["cp", "-r", str(PRODUCT), str(copy)], check=True)
    (copy / "core" / "bounds.py").write_text((copy / "core" / "bounds.py").read_text()
                                             + "\nfrom remediation.store.storage import table_key\n")
    (tmp_path / "pyproject.toml").write_text((REPO / "pyproject.toml").read_text())
    lint = Path(sys.executable).with_name("lint-imports")
    run = subprocess.run([str(lint), "--no-cache"], cwd=tmp_path, capture_output=True, text=True,
                         env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(tmp_path)})
    assert run.returncode != 0, run.stdout
    assert "remediation.core.bounds -> remediation.store.storage" in run.stdout


def test_no_function_in_the_product_runs_over_fifty_lines() -> None:
    long = [f"{path.relative_to(PRODUCT)}:{node.lineno} {node.name} ({node.end_lineno - node.lineno + 1} lines)"
            for path in MODULES for node in ast.walk(ast.parse(path.read_text()))
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
            and (node.end_lineno or node.lineno) - node.lineno + 1 > 50]
    assert long == []
