"""Offline access to infra/: every Bicep file parsed by pycep-parser, and checkov, both from .venv-infra
(`make deps` builds it from requirements-infra.txt; checkov pins its own pycep-parser)."""

from __future__ import annotations

import functools
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
INFRA = REPO / "infra"
INFRA_PYTHON = REPO / ".venv-infra" / "bin" / "python"
CHECKOV = REPO / ".venv-infra" / "bin" / "checkov"
BICEP_FILES = sorted(INFRA.rglob("*.bicep"))

_PARSE_ALL = """
import json, sys
from pathlib import Path
from pycep import BicepParser
parser = BicepParser()
out = {}
for name in sys.argv[1:]:
    try:
        out[name] = {"ok": True, "tree": parser.parse(file_path=Path(name))}
    except Exception as error:
        out[name] = {"ok": False, "error": f"{type(error).__name__}: {str(error)[:2000]}"}
print(json.dumps(out, default=str))
"""


def require_infra_venv() -> None:
    if not INFRA_PYTHON.exists():
        pytest.fail(f"{INFRA_PYTHON} is missing: run `make deps` (it installs requirements-infra.txt)")


@functools.lru_cache(maxsize=1)
def parsed() -> dict[str, dict[str, Any]]:
    """{relative path: {"ok": bool, "tree" | "error"}} for every Bicep file, in one interpreter start."""
    require_infra_venv()
    result = subprocess.run([str(INFRA_PYTHON), "-c", _PARSE_ALL, *map(str, BICEP_FILES)],
                            capture_output=True, text=True, timeout=300, check=True)
    return {str(Path(k).relative_to(REPO)): v for k, v in json.loads(result.stdout).items()}


def tree(relative: str) -> dict[str, Any]:
    entry = parsed()[relative]
    assert entry["ok"], f"{relative} does not parse: {entry['error']}"
    return entry["tree"]


def resource_config(resource: dict[str, Any]) -> dict[str, Any]:
    """A resource's body, through a condition (`= if (...) {...}`) when it has one."""
    config = resource["config"]
    return config["config"] if "condition" in config else config


@functools.lru_cache(maxsize=1)
def _checkov_reports() -> dict[Path, dict[str, Any]]:
    """checkov on every Bicep file, one file per run (scanned together, files with the same symbol names
    contaminate each other), the runs side by side."""
    require_infra_venv()
    runs = {path: subprocess.Popen([str(CHECKOV), "-f", str(path), "--framework", "bicep", "--compact",
                                    "--skip-download", "-o", "json"], stdout=subprocess.PIPE,
                                   stderr=subprocess.DEVNULL, text=True, cwd=REPO)
            for path in BICEP_FILES}
    reports = {}
    for path, run in runs.items():
        out, _ = run.communicate(timeout=300)
        report = json.loads(out)
        if isinstance(report, list):  # several frameworks: one report each
            report = next(r for r in report if r.get("check_type") == "bicep")
        reports[path] = report
    return reports


def checkov(path: Path) -> dict[str, Any]:
    return _checkov_reports()[path]
