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
