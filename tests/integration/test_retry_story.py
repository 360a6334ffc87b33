"""One retry story for every call (remediation/arm/clients.py): azure-core's RetryPolicy, with status retries for
failures, Retry-After and a timeout for throttling, on generic reads and SDK writes alike."""

from __future__ import annotations

import time
from typing import Any

import pytest
from azure.core.exceptions import HttpResponseError, ServiceResponseError

from localdev.arm_emulator import Fault
from localdev.estate import OPENAI_ZONE, Estate, account_id
from remediation.arm.clients import COGNITIVE_API_VERSION
from remediation.core.ids import parse_account_id
from remediation.core.model import Trigger
from tests.conftest import Stack

AOAI = account_id("aoai")


def _gets(stack: Stack) -> list[int]:
    return [r.status for r in stack.arm("read") if r.path.endswith("/accounts/aoai")]


def test_throttling_is_waited_out_past_the_status_retries(stack: Stack) -> None:
    """Six 429s in a row, more than the three status retries: each Retry-After is waited out and the read succeeds."""
    stack.seed(Estate().network((OPENAI_ZONE,)).locked("aoai"))
    stack.emulator.add_fault(Fault(method="GET", path=r"/accounts/aoai$", status=429, code="TooManyRequests",
                                   headers={"Retry-After": "0.05"}, times=6))
    clients = stack.app().clients

    assert clients.get_json(AOAI, COGNITIVE_API_VERSION)["name"] == "aoai"
    assert _gets(stack) == [429] * 6 + [200]


def test_a_failure_is_tried_three_more_times_then_reported(stack: Stack) -> None:
    stack.seed(Estate().network((OPENAI_ZONE,)).locked("aoai"))
    stack.emulator.add_fault(Fault(method="GET", path=r"/accounts/aoai$", status=503, code="ServiceUnavailable",
                                   headers={"retry-after-ms": "10"}, times=None))
    clients = stack.app().clients

    with pytest.raises(HttpResponseError) as failed:
        clients.get_json(AOAI, COGNITIVE_API_VERSION)
    assert failed.value.status_code == 503 and _gets(stack) == [503] * 4


def test_throttling_that_lasts_ends_at_the_timeout(stack: Stack, monkeypatch: Any) -> None:
    """A read throttled for good gives up once the retry policy's timeout has passed (five minutes; here one second)."""
    import remediation.arm.clients as clients_module

    monkeypatch.setitem(clients_module._RETRY, "timeout", 1.0)
    stack.seed(Estate().network((OPENAI_ZONE,)).locked("aoai"))
    stack.emulator.add_fault(Fault(method="GET", path=r"/accounts/aoai$", status=429, code="TooManyRequests",
                                   headers={"Retry-After": "0.3"}, times=None))
    clients = stack.app().clients
    started = time.monotonic()

    with pytest.raises(ServiceResponseError):
        clients.get_json(AOAI, COGNITIVE_API_VERSION)
    assert 1.0 <= time.monotonic() - started < 3 and 3 <= len(_gets(stack)) <= 6


def test_an_sdk_write_is_retried_by_the_same_policy(stack: Stack) -> None:
    """The account PATCH (through the Cognitive Services SDK) meets 429 twice and a 503 once, and lands."""
    stack.seed(Estate().network((OPENAI_ZONE,)).locked("aoai", public_network_access="Enabled"))
    for status in (429, 429, 503):
        stack.emulator.add_fault(Fault(method="PATCH", path=r"/accounts/aoai$", status=status,
                                       headers={"Retry-After": "0.05"}, times=1))

    record = stack.remediator().reconcile(parse_account_id(AOAI), Trigger.HTTP).record.to_json()

    assert record["outcome"] == "remediated", record["error"]
    assert [w.status for w in stack.writes() if w.method == "PATCH"] == [429, 429, 503, 202]
