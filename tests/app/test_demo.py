"""`make demo` end to end, as a person runs it: the estate reconciled, the live loop, and the lookups."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_the_demo_runs_to_the_end_and_shows_each_step() -> None:
    done = subprocess.run([sys.executable, "-m", "localdev.demo"], cwd=REPO, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    out = done.stdout
    assert "role assignments (infra/roles.json), enforced" in out
    assert "locked again" in out and "a new endpoint serves it" in out
    assert out.count("nslookup aoai-prod.openai.azure.com") == 3
    assert "no: record-points-elsewhere" in out
    assert "after the app's repair" in out and "PRIVATE_DNS_RECORD_MISMATCH" in out
    assert "Run `make demo` again" in out
    # It ends with the report on the demo's audit table: the live loop's three exposures, each with its duration.
    report = out.split("python -m remediation report:", 1)[1]
    section = report.split("Exposures closed", 1)[1].split("Their durations by kind of fix", 1)[0]
    closed = [line.split() for line in section.splitlines() if line.startswith("20")]
    assert [(row[1], row[2]) for row in closed] == [("aoai-prod", "close-account-exposure"),
                                                    ("aoai-chat", "create-private-endpoint"),
                                                    ("aoai-prod", "put-private-dns-record")]
    assert all(0 <= float(row[-1]) < 30 for row in closed), "drift to first fix, in seconds"
    assert "aoai-lab" in report.split("need a person now", 1)[1]
