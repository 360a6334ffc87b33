"""`python -m remediation report` against the audit table in Azurite: the numbers the workbook shows."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta

from localdev.arm_emulator import Fault
from localdev.azurite import connection_string, free_port
from localdev.estate import OPENAI_ZONE, Estate, account_id
from remediation.core.ids import parse_account_id
from remediation.core.model import Trigger
from remediation.runtime.cli import AZURE_FAILED, main
from tests.conftest import Stack

DANA = {"name": "Dana Admin", "upn": "dana@contoso.example", "objectId": "oid-dana", "appId": None}
OPS = {"name": "Deploy Pipeline", "upn": None, "objectId": "oid-pipeline", "appId": "app-pipeline"}


def _estate(stack: Stack) -> None:
    stack.seed(Estate().network((OPENAI_ZONE,)).locked("aoai-prod", public_network_access="Enabled")
               .locked("aoai-chat", public_network_access="Enabled")
               .locked("aoai-refused", public_network_access="Enabled").locked("aoai-ok"))
    stack.emulator.add_fault(Fault(method="PATCH", path=r"/accounts/aoai-refused$", status=400, code="BadRequest",
                                   message="the service refused the change", times=None))
    remediator = stack.remediator()
    drift = datetime.now(UTC) - timedelta(seconds=3)
    for name, actor in (("aoai-prod", DANA), ("aoai-chat", OPS), ("aoai-refused", DANA), ("aoai-ok", None)):
        remediator.reconcile(parse_account_id(account_id(name)), Trigger.EVENT, actor=actor, event_time=drift)
    remediator.reconcile(parse_account_id(account_id("aoai-ok")), Trigger.HTTP)  # no drift event: no duration


def _report(*options: str) -> tuple[int, str]:
    out = io.StringIO()
    return main(["report", *options], out), out.getvalue()


def test_the_report_shows_each_exposure_closed_its_duration_who_and_what_needs_a_person(stack: Stack) -> None:
    _estate(stack)
    stack.apply_env()
    history = {name: stack.app().history(parse_account_id(account_id(name)), 5)[0]
               for name in ("aoai-prod", "aoai-chat")}

    status, out = _report("--format", "json")
    report = json.loads(out)

    assert status == 0 and report["reconciles"] == 5
    closed = {row["account"]: row for row in report["exposuresClosed"]}
    assert set(closed) == {"aoai-prod", "aoai-chat"}
    for name, record in history.items():
        assert closed[name]["firstFixSeconds"] == round(record["eventToFixMs"] / 1000, 1) >= 3.0
        assert closed[name]["fixKind"] == "close-account-exposure"
    [kind] = report["byFixKind"]
    assert kind["fixKind"] == "close-account-exposure" and kind["fixes"] == 2 and kind["accounts"] == 2
    assert kind["maxSeconds"] == max(row["firstFixSeconds"] for row in closed.values())
    actors = {row["actor"]: row["drifts"] for row in report["topActors"]}
    assert actors == {"dana@contoso.example": 2, "Deploy Pipeline": 1}  # a UPN, else the name, else the app ID
    [person] = report["needsAPerson"]
    assert person["account"] == "aoai-refused" and person["outcome"] == "failed"
    assert "the service refused the change" in person["manualFix"]


def test_the_report_as_a_table_and_as_csv(stack: Stack) -> None:
    _estate(stack)
    stack.apply_env()

    status, table = _report()
    assert status == 0
    assert "Exposures closed" in table and "aoai-prod" in table and "close-account-exposure" in table
    assert "Accounts that need a person now" in table and "aoai-refused" in table

    status, text = _report("--format", "csv", "--days", "1")
    rows = [row for row in csv.reader(io.StringIO(text)) if row]
    assert status == 0
    assert {row[0] for row in rows} == {"section", "exposuresClosed", "byFixKind", "topActors", "needsAPerson"}
    assert sum(row[0] == "exposuresClosed" for row in rows) == 2


def test_an_unreachable_audit_table_is_one_line_and_exit_status_3(stack: Stack, capsys) -> None:
    dead = free_port()
    stack.apply_env(AzureWebJobsStorage=connection_string("127.0.0.1", dead, dead, dead))
    status, out = _report()
    assert status == AZURE_FAILED and out == ""
    assert capsys.readouterr().err.startswith("report failed: the audit table cannot be read")
