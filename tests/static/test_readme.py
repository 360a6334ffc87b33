"""The README's tables say what the code says: findings from `FINDINGS`, settings from `SETTINGS` (names and
defaults), and the layout names every module of remediation/.

A failing test prints the table as it should read, ready to paste.
"""

from __future__ import annotations

import re
from pathlib import Path

from remediation.core.findings import FINDINGS
from remediation.core.settings import SETTINGS, Settings

REPO = Path(__file__).resolve().parents[2]
README = (REPO / "README.md").read_text()


def section(title: str) -> str:
    """The README text from a heading to the next heading of the same or a higher level."""
    match = re.search(rf"^(#+) {re.escape(title)}\n", README, flags=re.M)
    assert match, f"README has no section {title!r}"
    level = len(match.group(1))
    rest = README[match.end():]
    end = re.search(rf"^#{{1,{level}}} ", rest, flags=re.M)
    return rest[: end.start() if end else len(rest)]


def findings_table() -> str:
    rows = ["| finding | severity | when | action |", "|---|---|---|---|"]
    rows += [f"| `{code.value}` | {info.severity.value} | {info.when} | {info.fix} |" for code, info in FINDINGS.items()]
    return "\n".join(rows) + "\n"


def test_findings_table_is_the_finding_metadata() -> None:
    expected = findings_table()
    assert expected in section("Findings and what is done about them"), f"the table should read:\n{expected}"


def table_rows(text: str) -> list[list[str]]:
    rows = [line for line in text.splitlines() if line.startswith("|")]
    return [[cell.strip() for cell in row.strip("|").split("|")] for row in rows[2:]]


def test_configuration_table_names_every_setting_with_its_default() -> None:
    rows = {row[0].strip("`"): row for row in table_rows(section("Configuration"))}
    text = section("Configuration")
    defaults = Settings.__dataclass_fields__
    for setting in SETTINGS:
        if setting.name == "AzureWebJobsStorage__accountName":
            assert setting.name in rows["AzureWebJobsStorage"][1], "the storage row names the identity-based form"
            continue
        assert setting.name in rows, f"{setting.name} is not in the README's Configuration table"
        default = defaults[setting.field].default
        if isinstance(default, (str, int, float)) and not isinstance(default, bool) and default != "":
            shown = f"{default:g}" if isinstance(default, float) else str(getattr(default, "value", default))
            assert f"`{shown}`" in rows[setting.name][2], f"{setting.name}: the README's default is not `{shown}`"
    assert set(rows) <= {s.name for s in SETTINGS}, "the README names a setting the code does not read"
    assert text


def test_layout_names_every_module() -> None:
    layout = section("Layout")
    for path in sorted((REPO / "remediation").glob("*.py")):
        if path.name != "__init__.py":
            assert path.name in layout, f"README Layout does not name remediation/{path.name}"
