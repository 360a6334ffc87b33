"""bench/storm.py end to end on a small storm: two worker processes on one Azurite queue fix every
drifted account once, duplicates included, and the harness counts what it says it counts."""
from __future__ import annotations

from pathlib import Path

from bench.storm import AZURE_SCALE, FIXABLE, run_storm
from localdev.arm_emulator import ArmEmulator


def test_two_workers_fix_every_account_once(arm_emulator: ArmEmulator, tmp_path: Path) -> None:
    result = run_storm(arm_emulator, accounts=25, workers=2, scratch=tmp_path)

    assert result.accounts == 25 and result.items == 30  # one in five queued twice
    assert result.fixed == 25 and result.still_open == 0 and result.poisoned == 0
    assert result.duplicate_endpoints == 0 and result.duplicate_patches == 0
    assert len(result.latencies_ms) == 25 and all(ms >= 0 for ms in result.latencies_ms)
    assert result.workers_cpu_s > 0 and result.throttled == 0 and result.forbidden == 0
    writes = [r for r in arm_emulator.requests if r.kind == "write"]
    assert result.writes == len(writes) and {r.caller["oid"] for r in writes} == {arm_emulator.app_identity.object_id}
    endpoint_puts = [r for r in writes if r.method == "PUT" and r.path.lower().count("/") == 8
                     and "/privateendpoints/" in r.path.lower()]
    assert len(endpoint_puts) == 25 // len(FIXABLE)  # one new endpoint per account drifted "no-endpoint"
    assert all("/rg-hub-new/" in r.path for r in endpoint_puts)


def test_at_azures_pace_under_enforced_rights_every_account_is_fixed_once(arm_emulator: ArmEmulator,
                                                                          tmp_path: Path) -> None:
    result = run_storm(arm_emulator, accounts=10, workers=2, scratch=tmp_path, scale=AZURE_SCALE)

    assert arm_emulator.config.pace == "time" and arm_emulator.config.clock_scale == AZURE_SCALE
    assert arm_emulator.config.enforce_rbac and arm_emulator.config.throttling
    assert result.fixed == 10 and result.still_open == 0 and result.poisoned == 0 and result.forbidden == 0
    assert result.duplicate_endpoints == 0 and result.duplicate_patches == 0
    # At Azure's pace an account update alone takes 30 s (pace.py), 0.6 s at 1:50: even with every fix running at
    # once (each worker runs up to batchSize + newBatchThreshold messages), the storm takes at least that long.
    assert result.seconds > 0.6
