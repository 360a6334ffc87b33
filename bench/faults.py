"""The fault matrix: each injected failure on each step of a remediation, against the emulator and Azurite.

A cell seeds an account that needs work, arms one fault on one step, then reconciles the way Azure
Functions would retry a work item: again while the outcome is not compliant or remediated, at most
MAX_TRIES times, the fault persisting for its `times` occurrences. It then reports whether the account
ended locked, how many ARM requests that took (the emulator's request log), and whether anything was
duplicated, lost or written out of scope.

    .venv/bin/python -m bench.faults      (or `make faults`) prints the matrix as a table

tests/faults runs the same cells with the session emulator and Azurite, and asserts on them.
The "slow" cells lower the SDK clients' read timeout (remediation.arm.clients._TIMEOUTS) to SLOW_READ_TIMEOUT
so an answer delayed past it costs under a second.
"""

from __future__ import annotations

import base64
import os
import re
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.rights import forbidden
from localdev.arm_emulator import ArmEmulator, Fault
from localdev.azurite import Azurite, free_port
from localdev.estate import OPENAI_ZONE, Estate, account_id
from remediation.core.ids import parse_account_id
from remediation.core.model import Trigger
from remediation.core.retry import MAX_DEQUEUE

REPO = Path(__file__).resolve().parents[1]
AOAI = account_id("aoai-prod")
AOAI_ID = parse_account_id(AOAI)
MAX_TRIES = MAX_DEQUEUE  # the host's maxDequeueCount: a work item runs at most this many times
DONE = ("compliant", "remediated")
SLOW_READ_TIMEOUT = 0.5  # seconds; the "slow" fault answers after SLOW_DELAY
SLOW_DELAY = 0.9
LRO_MAX_AGE = 1.0  # seconds an operation nobody polls takes to finish on its own

# Where each step's requests go (method, path regex searched in the URL path, request kind).
STEPS: dict[str, dict[str, Any]] = {
    "read account": {"method": "GET", "path": r"/accounts/aoai-prod$", "kind": "read"},
    "patch": {"method": "PATCH", "path": r"/accounts/aoai-prod$"},
    "poll": {"method": "GET", "path": r"/Microsoft\.CognitiveServices/locations/[^/]+/operationResults/",
             "kind": "poll"},
    "create endpoint": {"method": "PUT", "path": r"/privateEndpoints/pe-aoai-prod-[0-9a-f]+$"},
    "create zone": {"method": "PUT", "path": r"/privateDnsZones/privatelink\.openai\.azure\.com$"},
    "link": {"method": "PUT", "path": r"/virtualNetworkLinks/[^/]+$"},
    "zone group": {"method": "PUT", "path": r"/privateDnsZoneGroups/[^/]+$"},
    "approve": {"method": "PUT", "path": r"/privateEndpointConnections/[^/]+$"},
}
# The resource whose long-running operation ends Failed, per step (the poll step fails the account's).
LRO_TARGETS = {"patch": r"/accounts/aoai-prod$", "poll": r"/accounts/aoai-prod$",
               "create endpoint": r"/privateEndpoints/pe-aoai-prod-[0-9a-f]+$",
               "create zone": r"/privateDnsZones/privatelink\.openai\.azure\.com$",
               "link": r"/virtualNetworkLinks/[^/]+$", "zone group": r"/privateDnsZoneGroups/[^/]+$",
               "approve": r"/privateEndpointConnections/[^/]+$"}
FAST = {"retry-after-ms": "10"}

# fault name -> Fault keyword arguments (times given per cell)
FAULTS: dict[str, dict[str, Any]] = {
    "429 Retry-After": {"status": 429, "code": "TooManyRequests", "headers": {"Retry-After": "1"}},
    "500": {"status": 500, "headers": FAST},
    "503": {"status": 503, "headers": FAST},
    "409 RequestConflict": {"status": 409, "code": "RequestConflict", "headers": FAST,
                            "message": "Cannot modify resource because the resource entity provisioning "
                                       "state is not terminal."},
    "400 AccountProvisioningStateInvalid": {"status": 400, "code": "AccountProvisioningStateInvalid",
                                            "headers": FAST, "message": f"Account {AOAI} in state Accepted"},
    "LRO ends Failed": {},
    "connection reset": {"status": None, "reset": True},
    "slow answer": {"status": None, "delay_s": SLOW_DELAY},
}
DEFAULT_TIMES = {"500": 2, "503": 2, "409 RequestConflict": 2}


@dataclass(frozen=True)
class Cell:
    fault: str
    step: str
    times: int | None = 1
    converges: bool = True  # False: cannot converge by design (the fault never ends)

    @property
    def id(self) -> str:
        times = "forever" if self.times is None else f"x{self.times}"
        return f"{self.fault}|{self.step}|{times}".replace(" ", "-")


def _cells() -> list[Cell]:
    cells = []
    for fault in FAULTS:
        for step in STEPS:
            if fault == "LRO ends Failed" and step == "read account":
                continue  # a read has no operation
            cells.append(Cell(fault, step, DEFAULT_TIMES.get(fault, 1)))
    cells += [Cell("Azurite stopped, restarted", "audit write"), Cell("Azurite stopped, restarted", "queue"),
              Cell("process killed", "between two writes")]
    cells += [Cell("500", "patch", None, converges=False), Cell("500", "create endpoint", None, converges=False),
              # the emulator applies a write before its operation fails, so even a Failed that never ends converges
              Cell("LRO ends Failed", "create endpoint", None)]
    return cells


CELLS = _cells()


@dataclass
class CellResult:
    cell: Cell
    outcomes: list[str] = field(default_factory=list)
    locked: bool = False
    arm_requests: int = 0
    duplicates: list[str] = field(default_factory=list)
    resent: list[str] = field(default_factory=list)  # re-sent after an outcome the app could not know
    out_of_scope: list[str] = field(default_factory=list)
    lost: int = 0  # reconciles that ran to the end without an audit record in the table
    forbidden: int = 0  # the app's requests answered 403 (it holds exactly the rights a deployment grants)
    reconciles: int = 0
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    @property
    def converged(self) -> bool:
        return self.locked and bool(self.outcomes) and self.outcomes[-1] in DONE

    def row(self) -> list[Any]:
        c = self.cell
        return [c.fault, c.step, "forever" if c.times is None else c.times, "yes" if self.converged else "no",
                " → ".join(self.outcomes), self.arm_requests, self.forbidden, len(self.duplicates), len(self.resent),
                len(self.out_of_scope),
                self.lost, f"{self.seconds:.1f}"]


HEADERS = ["fault", "step", "times", "converged", "outcomes", "ARM requests", "403s", "duplicates",
           "re-sent after an unknown outcome", "writes out of scope", "lost records", "s"]


# --- estates ---------------------------------------------------------------------------------------

def estate_for(step: str) -> Estate:
    if step == "approve":  # an endpoint in the allowed subnet whose connection waits for approval
        return (Estate().network((OPENAI_ZONE,)).account("aoai-prod", public_network_access="Enabled")
                .endpoint(AOAI, "pe-manual", manual=True, zone_group=(OPENAI_ZONE,)))
    if step == "link":  # the zone is there, not linked: the link is the only DNS write
        return (Estate().network((OPENAI_ZONE,), linked=False)
                .account("aoai-prod", public_network_access="Enabled", default_action="Allow"))
    if step == "queue":  # locked; a person opens it, the event goes through the queue
        return Estate().network((OPENAI_ZONE,)).locked("aoai-prod")
    # everything to build: network settings, zone, link, endpoint, zone group
    return Estate().network().account("aoai-prod", public_network_access="Enabled", default_action="Allow")


# --- helpers -----------------------------------------------------------------------------------------

def _target(path: str) -> str:
    return path.split("?")[0].rstrip("/").lower()


def _write_key(request: Any) -> str:
    """What one write changes: its target, and for an account PATCH the properties it sends (the close-first PATCH
    and the PATCH of the rest are two writes to one account, each needed once)."""
    target = _target(request.path)
    body = request.request_body if isinstance(request.request_body, dict) else {}
    properties = body.get("properties") if request.method == "PATCH" else None
    return f"{target} {sorted(properties)}" if isinstance(properties, dict) else target


def _app_requests(stack: Any) -> list[Any]:
    app = stack.emulator.app_identity.object_id
    return [r for r in stack.arm() if (r.caller or {}).get("oid") == app]


def endpoints_of(emulator: ArmEmulator, account: str = AOAI) -> list[str]:
    out = []
    for pe in emulator.resources("Microsoft.Network/privateEndpoints"):
        props = pe.get("properties") or {}
        links = [*(props.get("privateLinkServiceConnections") or []),
                 *(props.get("manualPrivateLinkServiceConnections") or [])]
        if any(((link.get("properties") or {}).get("privateLinkServiceId") or "").lower() == account.lower()
               for link in links):
            out.append(pe["id"])
    return out


def _fail_operations(emulator: ArmEmulator, path: str, times: int | None) -> Callable[[], None]:
    """Make the next `times` long-running operations on resources matching `path` end Failed.

    The emulator models a Failed operation (Operation.error) but no handler starts one, so this wraps
    the tracker's start(); the status URL then answers {"status": "Failed", "error": {...}}."""
    ops = emulator.world.ops
    original = ops.start
    regex = re.compile(path, re.IGNORECASE)
    left = [times]

    def start(resource_id: str, polls: int, **kw: Any) -> Any:
        if regex.search(resource_id) and (left[0] is None or left[0] > 0):
            if left[0] is not None:
                left[0] -= 1
            kw["fail"] = {"code": "InternalOperationError", "message": "Injected: the operation failed."}
        return original(resource_id, polls, **kw)

    ops.start = start  # type: ignore[method-assign]
    return lambda: ops.__dict__.pop("start", None)


def _fault(cell: Cell) -> Fault:
    where = STEPS[cell.step]
    return Fault(method=where["method"], path=where["path"], kind=where.get("kind"), times=cell.times,
                 **FAULTS[cell.fault])


def _judge(stack: Any, result: CellResult, tries: list[tuple[int, int, dict[str, Any]]]) -> None:
    """Duplicates, re-sends, out-of-scope writes and lost records, from the request log and audit table."""
    from tests.conftest import assert_writes_in_scope

    requests = stack.emulator.requests
    app = stack.emulator.app_identity.object_id
    done_before: set[str] = set()
    for start, end, record in tries:
        window = [r for r in requests[start:end] if (r.caller or {}).get("oid") == app]
        writes = [(i, r) for i, r in enumerate(window) if r.kind == "write"]
        seen: dict[str, int] = {}
        for i, w in writes:
            if not 200 <= w.status < 300:
                continue
            target = _write_key(w)
            if target in done_before:
                result.duplicates.append(f"{w.method} {target} again after an earlier reconcile succeeded")
            if target in seen and not w.fault:
                # a second accepted write of one target in one reconcile: a duplicate unless a fault (error,
                # reset, late answer, failed operation) hid the first one's outcome from the app
                between = window[seen[target]:i]
                if any(r.fault for r in between) or result.cell.fault == "LRO ends Failed":
                    result.resent.append(f"{w.method} {target}")
                else:
                    result.duplicates.append(f"{w.method} {target} twice in one reconcile")
            seen.setdefault(target, i)
        succeeded = {str(a["target"]).lower() for a in record.get("actions") or [] if a.get("status") == "succeeded"}
        done_before.update(_write_key(w) for _, w in writes if 200 <= w.status < 300 and _target(w.path) in succeeded)
    extra = endpoints_of(stack.emulator)
    if len(extra) > 1:
        result.duplicates.append(f"{len(extra)} private endpoints for one account: {extra}")
    try:
        assert_writes_in_scope(stack)
    except AssertionError as error:
        result.out_of_scope.append(str(error))


def _locked(stack: Any) -> bool:
    """An independent look: a dry run of a fresh remediator finds nothing to do."""
    check = stack.remediator()
    record = check.reconcile(AOAI_ID, Trigger.HTTP, dry_run=True).record
    return bool(record.outcome.value == "compliant")


def _history(stack: Any) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = stack.app().history(AOAI_ID, 50)
    return records


# --- running cells -------------------------------------------------------------------------------------

def run_cell(stack: Any, cell: Cell, own_azurite: Azurite | None = None) -> CellResult:
    """Run one cell on a fresh estate. `stack` is tests.conftest.Stack; the Azurite cells need their own
    Azurite (`own_azurite`, started on fixed ports), which they stop and restart."""
    result = CellResult(cell)
    started = time.monotonic()
    enforced = stack.emulator.config.enforce_rbac  # the reset turns it off; the stack seeds the app's grants
    stack.emulator.reset()
    stack.emulator.config.enforce_rbac = enforced
    # Azure finishes an operation whether or not its client still polls it; the emulator finishes an
    # unpolled one (a client that gave up after a failed poll, a killed process) after lro_max_age_s.
    stack.emulator.config.lro_max_age_s = LRO_MAX_AGE
    stack.seed(estate_for(cell.step))
    if cell.fault == "Azurite stopped, restarted":
        assert own_azurite is not None, "the Azurite cells stop and restart their own Azurite"
        if cell.step == "audit write":
            _run_audit_cell(stack, result, own_azurite)
        else:
            _run_queue_cell(stack, result, own_azurite)
    elif cell.fault == "process killed":
        _run_kill_cell(stack, result)
    else:
        _run_arm_cell(stack, result)
    result.seconds = time.monotonic() - started
    return result


def _retry_loop(stack: Any, result: CellResult, remediator: Any,
                before_try: Callable[[int], None] | None = None,
                after_try: Callable[[int], None] | None = None) -> list[tuple[int, int, dict[str, Any]]]:
    tries = []
    for attempt in range(MAX_TRIES):
        if before_try:
            before_try(attempt)
        start = len(stack.emulator.requests)
        outcome = remediator.reconcile(AOAI_ID, Trigger.EVENT)
        if after_try:
            after_try(attempt)
        record = outcome.record.to_json()
        tries.append((start, len(stack.emulator.requests), record))
        result.outcomes.append(record["outcome"])
        result.reconciles += 1
        if record["outcome"] in DONE and not outcome.audit_errors:  # the worker retries an unrecorded run
            break
    return tries


def _finish(stack: Any, result: CellResult, tries: list[tuple[int, int, dict[str, Any]]], killed: int = 0) -> None:
    result.arm_requests = len(_app_requests(stack))
    result.forbidden = forbidden(stack.emulator.requests, stack.emulator)
    _judge(stack, result, tries)
    records = [r for r in _history(stack) if r.get("mode") == "enforce"]
    result.lost = max(0, result.reconciles - len(records))
    result.locked = _locked(stack)


def _run_arm_cell(stack: Any, result: CellResult) -> None:
    cell = result.cell
    if cell.fault == "LRO ends Failed":
        # Zone, link and approval answer 202 + an operation in the cells about them, so their operation can fail.
        if cell.step in ("create zone", "link"):
            stack.emulator.config.dns_lro = "aao"
        if cell.step == "approve":
            stack.emulator.config.connection_lro = "aao"
        undo = _fail_operations(stack.emulator, LRO_TARGETS[cell.step], cell.times)
    else:
        stack.emulator.add_fault(_fault(cell))
        undo = stack.emulator.clear_faults
    if cell.fault == "slow answer":
        import remediation.arm.clients

        stack.monkeypatch.setitem(remediation.arm.clients._TIMEOUTS, "read_timeout", SLOW_READ_TIMEOUT)
    try:
        remediator = stack.remediator()
        tries = _retry_loop(stack, result, remediator)
        if cell.fault == "slow answer":
            time.sleep(SLOW_DELAY + 0.3)  # the late answer is still served: let it land before judging
    finally:
        undo()
    _finish(stack, result, tries)


def _run_audit_cell(stack: Any, result: CellResult, azurite: Azurite) -> None:
    """Azurite stops when the first ARM write is accepted and starts again (same ports, same location)
    after that reconcile has ended."""
    stack.azurite = azurite
    app = stack.app()
    remediator = app.remediator
    app.history(AOAI_ID, 1)  # the table exists before the run
    stopped: list[bool] = []

    def stop_on_first_write(event: Any) -> None:
        if not stopped and (event.caller_claims or {}).get("oid") == stack.emulator.app_identity.object_id:
            stopped.append(True)
            azurite.stop()

    stack.emulator.on_write(stop_on_first_write)
    try:
        def after(_: int) -> None:
            if stopped and azurite.process is None:
                azurite.start()
                result.notes.append("Azurite stopped at the first write, restarted after the reconcile")

        tries = _retry_loop(stack, result, remediator, after_try=after)
    finally:
        stack.emulator._callbacks.remove(stop_on_first_write)
        if azurite.process is None:
            azurite.start()
    _finish(stack, result, tries)


def _run_queue_cell(stack: Any, result: CellResult, azurite: Azurite) -> None:
    """A person opens the account; the event arrives while Azurite is stopped, so it cannot be queued;
    Event Grid delivers it again after Azurite is back; the queue worker runs the item (up to 5 tries)."""
    from azure.storage.queue import QueueClient

    # The queue SDK's own retry waits 15 s, 45 s... before it gives up on a stopped Azurite; one try
    # here, so a delivery fails at once (Event Grid's redelivery is the retry this cell is about).
    import remediation.store.storage
    from localdev.arm_events import EventRouter
    from remediation.core.operations import WATCHED_OPERATIONS
    from remediation.store.storage import WORK_QUEUE

    stack.monkeypatch.setattr(remediation.store.storage, "_RETRY", {"retry_total": 0})
    stack.azurite = azurite
    app = stack.app()
    assert app.stored is not None
    intake, worker = app.stored.intake, app.stored.worker
    queue = QueueClient.from_connection_string(azurite.connection_string, WORK_QUEUE)
    try:
        queue.create_queue()
    except Exception:  # noqa: BLE001 - exists already
        queue.clear_messages()
    router = EventRouter(stack.emulator, lambda event: None, operations=WATCHED_OPERATIONS).start()
    try:
        stack.as_user("PATCH", AOAI, {"properties": {"publicNetworkAccess": "Enabled"}})
        deadline = time.monotonic() + 10
        while not router.events and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        router.stop()
    [event] = router.events
    azurite.stop()
    deliveries = 0
    for _ in range(MAX_TRIES):  # Event Grid retries a failed delivery
        deliveries += 1
        try:
            intake.accept(event)
            break
        except Exception:  # noqa: BLE001 - the queue is unreachable: the delivery fails
            result.outcomes.append("delivery failed")
            if azurite.process is None:
                azurite.start()
    result.notes.append(f"event delivered {deliveries} times")
    tries: list[tuple[int, int, dict[str, Any]]] = []
    for _ in range(MAX_TRIES * 2):
        messages = list(queue.receive_messages(max_messages=1, visibility_timeout=1))
        if not messages:
            break
        message = messages[0]
        start = len(stack.emulator.requests)
        done = app.history(AOAI_ID, 50)
        try:
            worker.process_message(base64.b64decode(message.content).decode(), message.dequeue_count or 1)
        except Exception:  # noqa: BLE001 - the host leaves it on the queue
            pass
        else:
            queue.delete_message(message)
        after = app.history(AOAI_ID, 50)
        record = after[0] if len(after) > len(done) else {}
        tries.append((start, len(stack.emulator.requests), record))
        if record:
            result.outcomes.append(record["outcome"])
            result.reconciles += 1
            if record["outcome"] in DONE:
                break
    _finish(stack, result, tries)


KILL_SCRIPT = textwrap.dedent("""
    from remediation.core.ids import parse_account_id
    from remediation.core.model import Trigger
    from remediation.core.settings import Settings
    from remediation.runtime.wiring import build
    build(Settings.from_env()).remediator.reconcile(parse_account_id({account!r}), Trigger.EVENT)
""")


def _run_kill_cell(stack: Any, result: CellResult) -> None:
    """A reconcile in another process, killed (SIGKILL) once its first write is in the emulator's log;
    then the retried work item reconciles in this process."""
    env = {**os.environ, **stack.env(), "PYTHONPATH": str(REPO)}
    stack.grant_app_rights(stack.env())  # the other process runs as the app's identity too
    # Hold the next network write so the kill lands between the first write and the second.
    stack.emulator.add_fault(Fault(method="PUT", path=r"/Microsoft\.Network/", kind="write", status=None,
                                   delay_s=3.0, times=None))
    app = stack.emulator.app_identity.object_id
    process = subprocess.Popen([sys.executable, "-c", KILL_SCRIPT.format(account=AOAI)], env=env, cwd=REPO,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    deadline = time.monotonic() + 30
    try:
        while time.monotonic() < deadline and process.poll() is None:
            if any(r.kind == "write" and (r.caller or {}).get("oid") == app and 200 <= r.status < 300
                   for r in stack.emulator.requests):
                break
            time.sleep(0.01)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)
        stack.emulator.clear_faults()
    first = [r for r in stack.emulator.requests if r.kind == "write"]
    result.notes.append(f"killed after {len(first)} write(s): {[f'{w.method} {_target(w.path)}' for w in first]}")
    result.outcomes.append("killed")
    time.sleep(0.2)
    remediator = stack.remediator()
    tries: list[tuple[int, int, dict[str, Any]]] = [(0, len(stack.emulator.requests), {})]  # killed: writes, no record
    tries += _retry_loop(stack, result, remediator)
    _finish(stack, result, tries)


# --- the command --------------------------------------------------------------------------------------

class _Standalone:
    """The emulator and two Azurites of a run outside pytest."""

    def __init__(self, root: Path) -> None:
        self.emulator = ArmEmulator(cert_dir=root / "certs")
        self.azurite = Azurite(root / "azurite")
        self.own = fixed_azurite(root / "azurite-own")

    def __enter__(self) -> _Standalone:
        self.emulator.start()
        self.emulator.config.enforce_rbac = True  # each cell keeps it; stack.remediator() seeds the app's grants
        self.azurite.start()
        self.own.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.own.stop()
        self.azurite.stop()
        self.emulator.stop()


def fixed_azurite(location: Path) -> Azurite:
    """An Azurite on ports chosen now, so a restart comes back on the same ports."""
    return Azurite(location, blob_port=free_port(), queue_port=free_port(), table_port=free_port())


def run_matrix(cells: list[Cell] | None = None) -> Iterator[CellResult]:
    import logging

    import pytest

    from tests.conftest import Stack

    logging.disable(logging.CRITICAL)  # the cells log every failure they cause on purpose
    with tempfile.TemporaryDirectory() as tmp, _Standalone(Path(tmp)) as local:
        for cell in cells or CELLS:
            monkeypatch = pytest.MonkeyPatch()
            stack = Stack(local.emulator, local.azurite, monkeypatch)
            try:
                yield run_cell(stack, cell, local.own)
            finally:
                for app in stack.apps:
                    app.close()
                monkeypatch.undo()


def main() -> None:
    from tabulate import tabulate

    started = time.monotonic()
    rows = []
    for result in run_matrix():
        rows.append(result.row())
        print(f"  {result.cell.fault} / {result.cell.step}: {'converged' if result.converged else 'not converged'}",
              file=sys.stderr, flush=True)
    print(tabulate(rows, headers=HEADERS, tablefmt="github"))
    print(f"\n{len(rows)} cells in {time.monotonic() - started:.0f} s; a cell whose fault never ends "
          "(times forever) cannot converge by design.")


if __name__ == "__main__":
    main()
