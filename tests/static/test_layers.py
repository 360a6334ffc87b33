"""The import contract, read from the source: the pure core imports no SDK, client or storage module, and
the product never imports the local stack, the tests, the benchmarks or azure.functions.

Imports under `if TYPE_CHECKING:` are for type checkers only and are not counted.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PRODUCT = REPO / "remediation"

# Pure: no I/O, no SDK. They may import the standard library and each other, nothing else.
PURE = {"ids", "model", "desired", "plan", "events", "arm_json", "findings", "verdict", "writescope", "settings", "clouds", "bounds", "actors"}
# Never imported by anything in remediation/ (the app reaches the emulator only through settings).
FORBIDDEN = ("localdev", "bench", "tests", "azure.functions", "function_app")
# Edges that would point the wrong way.
NOT_FROM = {"observe": {"plan"}}


def imports(source: str, module: str) -> list[str]:
    """Absolute names of every module `source` imports at run time (relative imports resolved)."""
    tree = ast.parse(source)
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skipped.update(id(child) for stmt in node.body for child in ast.walk(stmt))
    names = []
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = ".".join(module.split(".")[: -node.level])
                names.append(f"{base}.{node.module}" if node.module else base)
                if not node.module:
                    names += [f"{base}.{alias.name}" for alias in node.names]
            elif node.module:
                names.append(node.module)
    return names


def violations(source: str, module: str) -> list[str]:
    """What breaks the contract in one module's source."""
    name = module.rsplit(".", 1)[-1]
    found = []
    for imported in imports(source, module):
        if imported.startswith(FORBIDDEN):
            found.append(f"{module} imports {imported}")
        if name in PURE:
            top = imported.split(".")[0]
            local = imported.startswith("remediation.")
            if local and imported.split(".")[1] not in PURE:
                found.append(f"{module} (pure) imports {imported}")
            if not local and top not in sys.stdlib_module_names and top != "__future__":
                found.append(f"{module} (pure) imports {imported}")
        for wrong in NOT_FROM.get(name, ()):
            if imported == f"remediation.{wrong}":
                found.append(f"{module} imports {imported}")
    return found


MODULES = sorted(PRODUCT.glob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_module_keeps_the_import_contract(path: Path) -> None:
    assert violations(path.read_text(), f"remediation.{path.stem}") == []


def test_every_pure_module_exists() -> None:
    assert PURE <= {p.stem for p in MODULES}


@pytest.mark.parametrize("source, module, expected", [
    ("from .clients import ArmClients", "remediation.plan", "remediation.plan (pure) imports remediation.clients"),
    ("import azure.core.exceptions", "remediation.events", "remediation.events (pure) imports azure.core.exceptions"),
    ("def f():\n    from azure.mgmt.network import X", "remediation.ids", "remediation.ids (pure) imports azure.mgmt.network"),
    ("from localdev.estate import Estate", "remediation.service", "remediation.service imports localdev.estate"),
    ("import azure.functions as func", "remediation.worker", "remediation.worker imports azure.functions"),
    ("from .plan import plan", "remediation.observe", "remediation.observe imports remediation.plan"),
    ("from . import writescope", "remediation.apply", None),
    ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .apply import ActionResult", "remediation.verdict", None),
])
def test_the_contract_catches_a_violation(source: str, module: str, expected: str | None) -> None:
    assert violations(source, module) == ([expected] if expected else [])


def test_no_function_in_the_product_runs_over_fifty_lines() -> None:
    long = [f"{path.name}:{node.lineno} {node.name} ({node.end_lineno - node.lineno + 1} lines)"
            for path in MODULES for node in ast.walk(ast.parse(path.read_text()))
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
            and (node.end_lineno or node.lineno) - node.lineno + 1 > 50]
    assert long == []
