"""Every row of the threat model names the tests that hold it, and each of them exists.

The table lives in docs/threat-model.md once the docs are split out of the README, in the README's "Threat model"
section until then; its last column, "held by", lists test functions in backticks.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def threat_model() -> str:
    """The threat model's text: docs/threat-model.md, else the README's section of that name."""
    docs = REPO / "docs" / "threat-model.md"
    if docs.exists():
        return docs.read_text()
    readme = (REPO / "README.md").read_text()
    match = re.search(r"^(#+) Threat model\n", readme, flags=re.M)
    assert match, "README has no section 'Threat model' and there is no docs/threat-model.md"
    rest = readme[match.end():]
    end = re.search(rf"^#{{1,{len(match.group(1))}}} ", rest, flags=re.M)
    return rest[: end.start() if end else len(rest)]


def rows(text: str) -> tuple[list[str], list[list[str]]]:
    """The table's header cells and its rows' cells (a `\\|` inside a cell is not a separator)."""
    lines = [line for line in text.splitlines() if line.startswith("|")]
    assert len(lines) > 2, "the threat model has no table"
    split = [[cell.strip() for cell in re.split(r"(?<!\\)\|", line.strip().strip("|"))] for line in lines]
    return split[0], split[2:]


def defined_tests() -> set[str]:
    names: set[str] = set()
    for path in (REPO / "tests").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith("test_"):
                names.add(node.name)
    return names


def test_every_threat_model_row_names_tests_that_exist() -> None:
    header, table = rows(threat_model())
    assert header[-1] == "held by", f"the last column is 'held by', not {header[-1]!r}"
    existing = defined_tests()
    assert len(table) >= 5
    for row in table:
        assert len(row) == len(header), f"row {row[0]!r} has {len(row)} cells, the header {len(header)}"
        named = re.findall(r"`(test_\w+)`", row[-1])
        assert named, f"row {row[0]!r} names no test"
        missing = [name for name in named if name not in existing]
        assert missing == [], f"row {row[0]!r} names tests that do not exist: {missing}"
