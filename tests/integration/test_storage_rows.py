"""Rows in the app's own table that whoever can write to its storage may forge: breaker history and leases. Each is
written straight into Azurite, the way such a writer would; they may slow a fix down, never stop it, and no wait
the app asks for grows beyond its stated maximum."""

from __future__ import annotations

import json
import logging
import time
import uuid
from typing import Any

import azure.functions as func
import pytest
from azure.data.tables import TableClient

from localdev.estate import OPENAI_ZONE, Estate, account_id
from remediation.core.ids import parse_account_id
from remediation.core.retry import MAX_BACKOFF
from remediation.store.queue import WorkItem, WorkQueue
from remediation.store.storage import table_key
from tests.conftest import Stack

AOAI = account_id("aoai-prod")


def _table(stack: Stack) -> TableClient:
    client = TableClient.from_connection_string(stack.azurite.connection_string, stack.table)
    try:
        client.create_table()
    except Exception:  # noqa: BLE001 - the app created it already
        pass
    return client


def forge_fix(stack: Stack, when: str, row_moment_ms: int) -> None:
    """An audit row saying the account was remediated at `when`, filed under `row_moment_ms` (the row key's clock)."""
    record = {"id": str(uuid.uuid4()), "time": when, "resourceId": AOAI, "trigger": "event", "outcome": "remediated",
              "actions": [{"status": "succeeded"}]}
    _table(stack).upsert_entity({
        "PartitionKey": table_key(AOAI), "RowKey": f"{10**13 - row_moment_ms:013d}-{record['id']}",
        "resourceId": AOAI, "outcome": "remediated", "trigger": "event", "recordTime": when,
        "chunks": 1, "record0": json.dumps(record)})


def forge_lease(stack: Stack, expires: Any) -> None:
    _table(stack).upsert_entity({"PartitionKey": "lock", "RowKey": table_key(AOAI), "account": AOAI,
                                 "expires": expires})


class Spy(WorkQueue):
    """The app's work queue, noting the visibility timeout of every item it puts back."""

    def __init__(self, queue: WorkQueue) -> None:
        self.__dict__.update(queue.__dict__)
        self.delays: list[float] = []

    def put(self, item: WorkItem, delay_seconds: float = 0) -> None:
        self.delays.append(delay_seconds)
        super().put(item, delay_seconds)


def _drifted_worker(stack: Stack) -> tuple[Any, Spy]:
    stack.seed(Estate().network((OPENAI_ZONE,)).locked("aoai-prod", public_network_access="Enabled"))
    app = stack.app()
    assert app.stored is not None
    spy = Spy(app.stored.worker.queue)
    app.stored.worker.queue = spy
    return app, spy


def _item() -> str:
    return WorkItem("account", AOAI, "event").to_message()


_A_MINUTE_AGO = -60_000
_IN_2200 = 7_258_118_400_000  # the row key's clock (milliseconds since 1970) on 2200-01-01


@pytest.mark.parametrize("when, filed", [("2200-01-01T00:00:00Z", _A_MINUTE_AGO), ("2200-01-01T00:00:00Z", _IN_2200),
                                         ("9999-12-31T23:59:59.999Z", _A_MINUTE_AGO)],
                         ids=["2200-filed-now", "2200-filed-2200", "9999-filed-now"])
def test_breaker_rows_dated_far_ahead_neither_contest_nor_delay_the_fix(stack: Stack, when: str, filed: int,
                                                                      caplog: pytest.LogCaptureFixture) -> None:
    """Three rows 'fixed in 2200' once made every reconcile `contested`, and the worker asked Storage for a
    175-year visibility timeout. A row filed under a time out of range is not read; one filed now but dated out of
    range is read, ignored and logged."""
    app, spy = _drifted_worker(stack)
    for _ in range(3):
        forge_fix(stack, when, filed if filed > 0 else int(time.time() * 1000) + filed)

    with caplog.at_level(logging.WARNING, logger="remediation"):
        app.stored.worker.process_message(_item())

    assert stack.resource(AOAI)["properties"]["publicNetworkAccess"] == "Disabled"
    assert [r["outcome"] for r in app.history(parse_account_id(AOAI), 10) if r["time"] < "2100"] == ["remediated"]
    assert all(delay <= MAX_BACKOFF for delay in spy.delays)
    if filed < 0:
        assert any("ignored 3 audit rows" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("when", ["yesterday", "", "2026-13-45T99:99:99Z"])
def test_a_breaker_row_with_an_unparseable_time_is_ignored_not_an_internal_error(stack: Stack, when: str) -> None:
    app, _ = _drifted_worker(stack)
    for _ in range(3):
        forge_fix(stack, when, int(time.time() * 1000) + _A_MINUTE_AGO)

    app.stored.worker.process_message(_item())

    assert stack.resource(AOAI)["properties"]["publicNetworkAccess"] == "Disabled"
    outcomes = [r["outcome"] for r in app.history(parse_account_id(AOAI), 10) if r["time"] not in ("", when)]
    assert outcomes == ["remediated"]


NEVER = [1e18, "never", float("inf"), float("nan")]


@pytest.mark.parametrize("expires", NEVER, ids=["year-3e10", "text", "infinity", "nan"])
def test_a_lease_row_that_never_expires_does_not_block_the_worker(stack: Stack, expires: Any) -> None:
    app, spy = _drifted_worker(stack)
    forge_lease(stack, expires)

    app.stored.worker.process_message(_item())

    assert stack.resource(AOAI)["properties"]["publicNetworkAccess"] == "Disabled"
    assert spy.delays == []


@pytest.mark.parametrize("expires", NEVER, ids=["year-3e10", "text", "infinity", "nan"])
def test_a_lease_row_that_never_expires_does_not_block_http(stack: Stack, expires: Any) -> None:
    stack.seed(Estate().network((OPENAI_ZONE,)).locked("aoai-prod", public_network_access="Enabled"))
    app = stack.load_app(REMEDIATION_READY_TIMEOUT_SECONDS="2")
    forge_lease(stack, expires)

    response = app.remediate(func.HttpRequest(method="POST", url="/api/remediate",
                                              body=json.dumps({"resourceId": AOAI}).encode()))

    assert response.status_code == 200, response.get_body()
    assert json.loads(response.get_body())["outcome"] == "remediated"
