"""Each alert rule against the app's own telemetry: the local stack (ARM emulator, Azurite) produces the situation,
the app writes its lines, and the rule's query, as Microsoft's Kusto language service reads it (its `where`
conditions, from the syntax tree), counts them against the rule's threshold. The healthy stack fires none."""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from azure.core.exceptions import ResourceNotFoundError
from azure.storage.queue import QueueClient

from localdev.arm_emulator import Fault
from localdev.estate import OPENAI_ZONE, Estate, account_id, rg_id
from remediation.core.ids import parse_account_id
from remediation.core.model import Outcome, Trigger
from remediation.core.telemetry import HEARTBEAT_PREFIX, RECONCILE_PREFIX, parse_line
from remediation.runtime.sweep import Pulse, run_sweep
from remediation.runtime.wiring import App
from remediation.store.storage import POISON_QUEUE, WORK_QUEUE
from tests.conftest import Stack
from tests.helpers.live import Live
from tests.ops.kql import Row, alert, alert_queries, analysed, fires

AOAI = account_id("aoai-prod")
LOG_ALERTS = ["reconcile-failed", "contested", "exempt-drift", "poison", "no-heartbeat"]  # on telemetry lines


class Lines(logging.Handler):
    """The telemetry lines the app logged, as AppTraces would hold them (message and time), with their thread."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.rows: list[Row] = []
        self.threads: list[tuple[str, str]] = []  # (logger, thread name) of every product log record

    def emit(self, record: logging.LogRecord) -> None:
        self.threads.append((record.name, record.threadName or ""))
        message = record.getMessage()
        if message.startswith((RECONCILE_PREFIX, HEARTBEAT_PREFIX)):
            self.rows.append(Row(message, datetime.fromtimestamp(record.created, UTC)))

    def fields(self, prefix: str = RECONCILE_PREFIX) -> list[dict[str, Any]]:
        return [f for f in (parse_line(r.message, prefix) for r in self.rows) if f is not None]


@pytest.fixture
def lines(stack: Stack) -> Iterator[Lines]:
    for name in (WORK_QUEUE, POISON_QUEUE):  # Azurite's queues outlive a test: start from empty ones
        try:
            QueueClient.from_connection_string(stack.azurite.connection_string, name).clear_messages()
        except ResourceNotFoundError:
            pass
    handler = Lines()
    logger = logging.getLogger("remediation")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def _sweep(app: App) -> None:
    assert app.stored is not None
    run_sweep(app.remediator, app.stored.queue)


def _fired(rows: list[Row]) -> set[str]:
    return {name for name in LOG_ALERTS if fires(alert(name), rows)}


def _drift(stack: Stack) -> None:
    stack.as_user("PATCH", AOAI, {"properties": {"publicNetworkAccess": "Enabled"}})


def test_a_lock_that_refuses_the_fix_fires_the_failed_reconcile_alert(stack: Stack, lines: Lines) -> None:
    stack.seed(Estate().network((OPENAI_ZONE,)).locked("aoai-prod", public_network_access="Enabled"))
    stack.as_user("PUT", f"{AOAI}/providers/Microsoft.Authorization/locks/change-freeze",
                  {"properties": {"level": "ReadOnly", "notes": "change freeze"}}, api_version="2020-05-01")

    app = stack.app()
    app.remediator.reconcile(parse_account_id(AOAI), Trigger.EVENT)
    _sweep(app)  # the sweep runs, as on a healthy stack

    [line] = [f for f in lines.fields() if f["account"]]
    assert line["outcome"] == "failed" and "lock" in line["error"].lower()
    assert _fired(lines.rows) == {"reconcile-failed"}


def test_an_actor_reopening_an_account_past_the_breaker_fires_the_contested_alert(stack: Stack, lines: Lines) -> None:
    stack.seed(Estate().network((OPENAI_ZONE,)).locked("aoai-prod"))
    live = Live(stack, REMEDIATION_MAX_FIXES_PER_HOUR="2")
    try:
        for _ in range(3):
            _drift(stack)
            live.settle()
        _sweep(live.app.parts())  # the sweep runs, as on a healthy stack
    finally:
        live.close()

    outcomes = [f["outcome"] for f in lines.fields() if f["account"]]
    assert outcomes[:2] == ["remediated", "remediated"] and outcomes[2] == "contested"
    contested = lines.fields()[2]
    assert contested["actor"]["upn"] == "dana@contoso.example" and contested["fixesLastHour"] == 2
    assert _fired(lines.rows) == {"contested"}
    fixes = [r for r in lines.rows if '"outcome":"remediated"' in r.message]
    assert len(fixes) == 2 and not fires(alert("contested"), fixes)  # the two fixes before it alert nobody


def test_an_exempt_account_that_drifts_fires_the_exempt_drift_alert(stack: Stack, lines: Lines) -> None:
    until = (dt.date.today() + dt.timedelta(days=30)).isoformat()
    stack.seed(Estate().network((OPENAI_ZONE,)).locked("aoai-prod", tags={"remediation-exempt": until}))
    live = Live(stack)
    try:
        _drift(stack)
        live.settle()
        _sweep(live.app.parts())  # the sweep runs (and never queues an exempt account)
    finally:
        live.close()

    [line] = [f for f in lines.fields() if f["account"]]
    assert line["outcome"] == "exempt" and line["findings"] == ["PUBLIC_NETWORK_ACCESS_ENABLED"]
    assert lines.fields(HEARTBEAT_PREFIX)[0]["accountsExempt"] == 1
    assert line["exemptUntil"] == until and stack.writes() == []
    assert _fired(lines.rows) == {"exempt-drift"}


def test_a_poisoned_message_fires_the_poison_alert_at_the_next_sweep(stack: Stack, lines: Lines) -> None:
    stack.seed(Estate().network((OPENAI_ZONE,)).locked("aoai-prod"))
    app = stack.app()
    assert app.stored is not None
    _sweep(app)
    assert "poison" not in _fired(lines.rows)

    app.stored.worker.process_message("{not a work item")  # given up at once: to the poison queue
    _sweep(app)

    first, second = lines.fields(HEARTBEAT_PREFIX)
    assert first["poisonQueueLength"] == 0 and second["poisonQueueLength"] == 1
    assert _fired(lines.rows) == {"poison"}


def test_no_sweep_fires_the_no_heartbeat_alert_and_a_sweep_clears_it(stack: Stack, lines: Lines) -> None:
    stack.seed(Estate().network((OPENAI_ZONE,)).locked("aoai-prod"))
    app = stack.app()
    app.remediator.reconcile(parse_account_id(AOAI), Trigger.EVENT)  # the app works, but no sweep ran

    assert _fired(lines.rows) == {"no-heartbeat"}
    _sweep(app)
    assert _fired(lines.rows) == set()


def test_the_healthy_stack_fires_no_alert(stack: Stack, lines: Lines) -> None:
    stack.seed(Estate().network((OPENAI_ZONE,)).locked("aoai-prod")
               .account("aoai-lab", public_network_access="Enabled"))
    live = Live(stack)
    try:
        _drift(stack)
        live.settle()
        _sweep(live.app.parts())  # finds aoai-lab open and queues it
        live.settle()
        _sweep(live.app.parts())
    finally:
        live.close()

    by_account = {(f["account"], f["outcome"]) for f in lines.fields()}
    assert {("aoai-prod", "remediated"), ("aoai-lab", "remediated")} <= by_account
    heartbeats = lines.fields(HEARTBEAT_PREFIX)
    assert [h["accountsOpen"] for h in heartbeats] == [1, 0] and heartbeats[-1]["poisonQueueLength"] == 0
    assert _fired(lines.rows) == set()


# --- every field a query reads is in the lines the app writes, whatever the outcome ---------------------------

def _every_outcome(stack: Stack) -> None:
    until = (dt.date.today() + dt.timedelta(days=30)).isoformat()
    stack.seed(Estate().network((OPENAI_ZONE,))
               .locked("aoai-ok").locked("aoai-open", public_network_access="Enabled")
               .locked("aoai-dry", public_network_access="Enabled")
               .locked("aoai-refused", public_network_access="Enabled")
               .locked("aoai-busy", provisioning_state="Accepted")
               .locked("aoai-exempt", public_network_access="Enabled", tags={"remediation-exempt": until})
               .locked("aoai-contested", public_network_access="Enabled"))
    stack.emulator.add_fault(Fault(method="PATCH", path=r"/accounts/aoai-refused$", status=400, code="BadRequest",
                                   message="refused", times=None))
    app = stack.app(REMEDIATION_MAX_FIXES_PER_HOUR="1", REMEDIATION_READY_TIMEOUT_SECONDS="0.3")
    actor = {"name": "Dana Admin", "upn": "dana@contoso.example", "objectId": "oid", "appId": "app"}

    def run(name: str, **options: Any) -> None:
        app.remediator.reconcile(parse_account_id(account_id(name)), Trigger.EVENT, actor=actor,
                                 event_time=datetime.now(UTC), **options)

    for name in ("aoai-ok", "aoai-open", "aoai-refused", "aoai-busy", "aoai-exempt", "aoai-contested", "aoai-gone"):
        run(name)
    run("aoai-dry", dry_run=True)
    stack.as_user("PATCH", account_id("aoai-contested"), {"properties": {"publicNetworkAccess": "Enabled"}})
    run("aoai-contested")
    _sweep(app)
    app.remediator.reconcile(parse_account_id(account_id("aoai-ok", "rg-other")), Trigger.HTTP)  # out of scope


def _compared(result: dict[str, Any], field: str) -> set[str]:
    """String literals a query compares the telemetry field `field` with (==, in)."""
    found: set[str] = set()

    def walk(expr: Any) -> None:
        if not isinstance(expr, dict):
            return
        left = expr.get("left", {})
        target = left.get("args", [left])[0] if "call" in left else left
        if target.get("path", [None])[-1] == field:
            found.update(str(e["literal"]) for e in [expr.get("right", {}), *expr.get("list", [])] if "literal" in e)
        for child in (expr.get("left"), expr.get("right"), *expr.get("list", []), *expr.get("args", [])):
            walk(child)

    for condition in result["filters"]:
        walk(condition)
    return found


def test_every_outcome_writes_every_field_the_queries_read(stack: Stack, lines: Lines) -> None:
    _every_outcome(stack)

    reconciles = lines.fields()
    assert {f["outcome"] for f in reconciles} == {o.value for o in Outcome}
    assert len(lines.fields(HEARTBEAT_PREFIX)) == 1
    for name, result in analysed().items():
        for var, *path in result["reads"]:
            written = lines.fields(result["bindings"][var])
            holding = [f for f in written if path[0] in f and (len(path) == 1 or isinstance(f[path[0]], dict))]
            assert holding, f"{name}: no line the app wrote has {'.'.join(path)}"
            if len(path) == 1:
                assert len(holding) == len(written), f"{name}: {path[0]} is missing from some lines"
            else:
                assert all(path[1] in f[path[0]] for f in holding), f"{name}: {'.'.join(path)}"
    outcomes = {f["outcome"] for f in reconciles}
    triggers = {f["trigger"] for f in reconciles}
    for name, result in analysed().items():
        assert _compared(result, "outcome") <= outcomes, name
        assert _compared(result, "trigger") <= triggers, name
    assert {"failed", "contested", "exempt"} <= set().union(*(_compared(analysed()[q.name], "outcome")
                                                              for q in alert_queries()))


def test_product_logs_are_written_from_the_invocations_thread_only(stack: Stack, lines: Lines,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """The host keeps a log line only when it carries the invocation's ID, which the worker sets on the invocation's
    thread: the sweep's pool threads do their work there, and log nothing."""
    from remediation.arm.clients import ArmClients

    sending: set[str] = set()
    count = ArmClients._count

    def counted(self: ArmClients) -> None:
        sending.add(threading.current_thread().name.split("_")[0])
        count(self)

    monkeypatch.setattr(ArmClients, "_count", counted)
    tally = Pulse.count

    def counting(self: Pulse, screened: Any) -> None:
        sending.add(threading.current_thread().name.split("_")[0])
        tally(self, screened)

    monkeypatch.setattr(Pulse, "count", counting)
    stack.seed(Estate().network((OPENAI_ZONE,)).locked("aoai-prod", public_network_access="Enabled")
               .account("aoai-sandbox", resource_group="rg-sandbox", public_network_access="Enabled"))
    app = stack.app(REMEDIATION_SCOPES=f"{rg_id('rg-ai')},{rg_id('rg-sandbox')}", REMEDIATION_SWEEP_CONCURRENCY="4")

    _sweep(app)
    app.remediator.reconcile(parse_account_id(AOAI), Trigger.SWEEP)

    assert "sweep" in sending  # requests and screening ran on the sweep's pool threads
    product = {thread for logger, thread in lines.threads if logger.startswith("remediation")}
    assert product == {threading.current_thread().name}
    assert len(lines.fields(HEARTBEAT_PREFIX)) == 1 and lines.fields()
