"""The fault matrix (bench/faults.py): every fault on every step of a remediation, the work item retried
as the Functions host would (at most five runs). Each cell must end with the account locked, nothing
duplicated, nothing written outside the scopes, and an audit record for every reconcile that ran to the
end; a cell whose fault never ends must end `failed`, with nothing duplicated either.

The `stack` fixture checks again, on teardown, that every write stayed inside the allowed scopes."""

from __future__ import annotations

import pytest

from bench.faults import CELLS, Cell, CellResult, run_cell
from localdev.azurite import Azurite
from remediation.core.retry import MAX_DEQUEUE
from tests.conftest import Stack


def _run(stack: Stack, cell: Cell, own_azurite: Azurite, results: dict[str, CellResult]) -> CellResult:
    if cell.id not in results:
        results[cell.id] = run_cell(stack, cell, own_azurite)
    return results[cell.id]


def _explain(result: CellResult) -> str:
    return (f"outcomes {result.outcomes}, duplicates {result.duplicates}, out of scope {result.out_of_scope}, "
            f"re-sent {result.resent}, notes {result.notes}")


@pytest.mark.parametrize("cell", CELLS, ids=[c.id for c in CELLS])
def test_cell_converges_without_duplicates_or_writes_out_of_scope(
        stack: Stack, own_azurite: Azurite, cell_results: dict[str, CellResult], cell: Cell) -> None:
    result = _run(stack, cell, own_azurite, cell_results)

    assert result.duplicates == [], _explain(result)
    assert result.out_of_scope == [], _explain(result)
    if cell.converges:
        assert result.converged, _explain(result)
        assert len(result.outcomes) <= 1 + MAX_DEQUEUE + (1 if cell.fault == "process killed" else 0)
    else:  # the fault never ends: every run says so, and the host gives the item up after its last delivery
        assert result.outcomes == ["failed"] * MAX_DEQUEUE, _explain(result)
        assert not result.converged


@pytest.mark.parametrize("cell", [
    pytest.param(c, id=c.id)
    for c in CELLS if c.fault in ("Azurite stopped, restarted", "process killed") or c.step == "patch"])
def test_no_audit_record_is_lost(stack: Stack, own_azurite: Azurite, cell_results: dict[str, CellResult],
                                 cell: Cell) -> None:
    result = _run(stack, cell, own_azurite, cell_results)

    assert result.reconciles >= 1
    assert result.lost == 0, _explain(result)


def test_the_matrix_covers_every_fault_on_every_step() -> None:
    arm_cells = {(c.fault, c.step) for c in CELLS if c.times is not None}
    faults = {c.fault for c in CELLS}
    steps = {c.step for c in CELLS}
    assert {"read account", "patch", "poll", "create endpoint", "create zone", "link", "zone group", "approve",
            "audit write", "queue", "between two writes"} <= steps
    assert len(faults) == 10
    for fault in ("429 Retry-After", "500", "503", "409 RequestConflict", "400 AccountProvisioningStateInvalid",
                  "connection reset", "slow answer"):
        for step in ("read account", "patch", "poll", "create endpoint", "create zone", "link", "zone group",
                     "approve"):
            assert (fault, step) in arm_cells
