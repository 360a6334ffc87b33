"""Every Bicep file parses, and the security scan passes with each skipped check's reason in the file."""

from __future__ import annotations

import re

import pytest

from tests.infra.bicep import BICEP_FILES, INFRA, REPO, checkov, parsed

SKIP = re.compile(r"#checkov:skip=(CKV2?_[A-Z]+_\d+):(.*)")


def test_infra_has_the_azd_layout() -> None:
    assert (REPO / "azure.yaml").is_file()
    assert (INFRA / "main.bicep").is_file() and (INFRA / "main.parameters.json").is_file()
    assert len(BICEP_FILES) > 1


@pytest.mark.parametrize("path", BICEP_FILES, ids=lambda p: str(p.relative_to(INFRA)))
def test_bicep_parses(path) -> None:
    entry = parsed()[str(path.relative_to(REPO))]
    assert entry["ok"], entry.get("error")


def test_modules_referenced_exist() -> None:
    for path in BICEP_FILES:
        for module in re.findall(r"^module \w+ '([^']+)'", path.read_text(), flags=re.M):
            assert (path.parent / module).is_file(), f"{path.name} uses a missing module {module}"


@pytest.mark.parametrize("path", BICEP_FILES, ids=lambda p: str(p.relative_to(INFRA)))
def test_checkov_passes(path) -> None:
    report = checkov(path)
    summary = report.get("summary", report)  # a file with no applicable check gets a bare summary
    assert summary["parsing_errors"] == 0, f"checkov could not parse {path.name}"
    failed = report.get("results", {}).get("failed_checks", [])
    assert not failed, "\n".join(f"{c['check_id']} {c['resource']}: {c['check_name']}" for c in failed)
    for match in SKIP.finditer(path.read_text()):
        assert len(match.group(2).strip()) > 20, f"{match.group(1)} in {path.name} is skipped without a reason"
    skipped = {c["check_id"] for c in report.get("results", {}).get("skipped_checks", [])}
    written = {m.group(1) for m in SKIP.finditer(path.read_text())}
    assert skipped <= written
    assert written <= skipped, f"skips for checks that no longer fail: {sorted(written - skipped)}"
