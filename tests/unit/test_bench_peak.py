"""bench/peak.py runs a program as `python -m` / `python script.py` would and notes its own peak memory."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PEAK = REPO / "bench" / "peak.py"


def test_module_runs_as_main_with_its_arguments_and_exit_status(tmp_path: Path) -> None:
    report = tmp_path / "peak"
    done = subprocess.run([sys.executable, str(PEAK), str(report), "-m", "remediation", "scan", "--scope", "nonsense"],
                          cwd=REPO, capture_output=True, text=True, env={"PATH": "/usr/bin:/bin"})
    assert done.returncode == 2 and "REMEDIATION_SCOPES" in done.stderr  # the operator command's own settings error
    assert 10 < float(report.read_text()) < 500


def test_script_peak_grows_with_what_it_holds(tmp_path: Path) -> None:
    script = tmp_path / "hold.py"
    script.write_text("import sys\nblock = bytearray(int(sys.argv[1]) * 2**20)\n"
                      "block[::4096] = b'x' * len(block[::4096])\n")
    small, large = tmp_path / "small", tmp_path / "large"
    for report, mib in ((small, "1"), (large, "64")):
        subprocess.run([sys.executable, str(PEAK), str(report), str(script), mib], check=True, cwd=tmp_path)
    assert float(large.read_text()) - float(small.read_text()) > 50
