"""Close first: an open account is closed by the reconcile's first write, right after the account read, on a
PATCH of its own; nothing read, requested or refused later delays or undoes it. At Azure's pace (scaled 1:50).

Each case is one way the close was held back before: (a) connection requests a stranger files, (b) a dependent
read that fails, (c) a management lock, which is told apart from a busy account and ends the item, (d) a part
of the ACL repair that Azure refuses.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from azure.storage.queue import QueueClient

from localdev.arm_emulator import EmulatorConfig, Fault
from localdev.arm_emulator.model import WriteEvent
from localdev.arm_events import to_event_grid
from localdev.estate import OPENAI_ZONE, SUBSCRIPTION, Estate, account_id, rg_id
from localdev.eventgrid_topic import LocalTopic
from localdev.functions_host import LocalHost
from remediation.core.ids import parse_account_id
from remediation.core.model import Trigger
from remediation.store.storage import POISON_QUEUE, WORK_QUEUE
from tests.conftest import Stack
from tests.helpers.live import queue_exists

AOAI = account_id("aoai-prod")
SCALE = 0.02  # 1:50
PACE = {"REMEDIATION_POLL_INTERVAL_SECONDS": str(5 * SCALE), "REMEDIATION_READY_TIMEOUT_SECONDS": str(60 * SCALE)}
ENDPOINT = f"{rg_id('rg-network')}/providers/Microsoft.Network/privateEndpoints/pe-aoai-prod-existing"
CLOSE = {"properties": {"publicNetworkAccess": "Disabled"}}


def at_azure_pace(stack: Stack) -> None:
    stack.emulator.config.update(EmulatorConfig.azure_pace(SCALE))


def open_account() -> Estate:
    """Locked down in every way but one: public access is on."""
    return Estate().network((OPENAI_ZONE,)).locked("aoai-prod", public_network_access="Enabled")


def app_requests(stack: Stack) -> list[Any]:
    app = stack.emulator.app_identity.object_id
    return [r for r in stack.arm() if (r.caller or {}).get("oid") == app]


def assert_closed_first(stack: Stack) -> None:
    """The app's first write is the close, alone, and only the account was read before it."""
    requests = app_requests(stack)
    first = next(i for i, r in enumerate(requests) if r.kind == "write")
    assert (requests[first].method, requests[first].request_body) == ("PATCH", CLOSE)
    assert requests[first].path.split("?")[0].lower() == AOAI.lower()
    assert {r.path.split("?")[0].lower() for r in requests[:first]} == {AOAI.lower()}, "no other read before it"
    assert stack.resource(AOAI)["properties"]["publicNetworkAccess"] == "Disabled"


def reconcile(stack: Stack, **settings: str) -> dict[str, Any]:
    event_time = dt.datetime.now(dt.UTC)
    result = stack.remediator(**PACE, **settings).reconcile(parse_account_id(AOAI), Trigger.EVENT,
                                                            event_time=event_time)
    assert result.audit_errors == []
    return result.record.to_json()


def with_pending_requests(estate: Estate, count: int) -> Estate:
    """`count` Pending connections: half from endpoints in the allowed subnet's subscription in a resource group
    the app may not read, half from another tenant's subscription."""
    account = next(r for r in estate.resources if r["id"] == AOAI)
    for n in range(count):
        subscription = SUBSCRIPTION if n % 2 else "99999999-9999-9999-9999-999999999999"
        endpoint = f"/subscriptions/{subscription}/resourceGroups/rg-theirs/providers/Microsoft.Network/" \
                   f"privateEndpoints/pe-request-{n}"
        account["properties"].setdefault("privateEndpointConnections", []).append({
            "id": f"{AOAI}/privateEndpointConnections/pe-request-{n}.{n:04x}", "name": f"pe-request-{n}.{n:04x}",
            "properties": {"privateEndpoint": {"id": endpoint},
                           "privateLinkServiceConnectionState": {"status": "Pending", "description": "let me in"}}})
    return estate


def test_a_flood_of_connection_requests_does_not_delay_the_close(stack: Stack) -> None:
    stack.seed(with_pending_requests(open_account(), 300))
    at_azure_pace(stack)

    record = reconcile(stack)

    assert_closed_first(stack)
    assert record["eventToClosedMs"] is not None and record["eventToClosedMs"] < 5000
    # Another subscription's endpoint cannot sit in an allowed subnet: those 150 are never read.
    assert not any("99999999-9999" in r.path for r in app_requests(stack))
    assert record["outcome"] == "remediated" and "and 145 more" in record["error"]  # 150 unreadable, named
    assert not any("pe-request" in w.path for w in stack.writes()), "no stranger's request is approved"


def test_a_serving_endpoint_that_answers_503_does_not_stop_the_close(stack: Stack) -> None:
    stack.seed(open_account())
    at_azure_pace(stack)
    stack.emulator.add_fault(Fault(method="GET", path=f"{ENDPOINT}$", status=503, times=None))

    record = reconcile(stack)

    assert_closed_first(stack)
    # The endpoint is unverified, so the account is not compliant: failed, and delivered again (Resource
    # Manager's failure, a retry may pass); no second endpoint is created in its place meanwhile.
    assert record["outcome"] == "failed" and "unverified" in record["error"] and "503" in record["error"]
    assert [(a["name"], a["status"]) for a in record["actions"]] == [
        ("close-account-exposure", "succeeded"), ("create-private-endpoint", "skipped")]
    assert "could not be read" in record["actions"][1]["error"]
    assert [w.method for w in stack.writes()] == ["PATCH"]


def test_a_refused_acl_repair_does_not_undo_the_close(stack: Stack) -> None:
    """The rest of the ACL repair (here the default action) is refused, as Azure refuses a rule naming a subnet
    that is gone: public access was already off, on its own PATCH."""
    stack.seed(Estate().network((OPENAI_ZONE,)).locked(
        "aoai-prod", public_network_access="Enabled", default_action="Allow"))
    at_azure_pace(stack)
    stack.emulator.add_fault(Fault(method="PATCH", path=f"{AOAI}$", status=400, code="BadRequest",
                                   message="Subnet in virtualNetworkRules was not found.", body='"networkAcls"',
                                   times=None))

    record = reconcile(stack)

    assert_closed_first(stack)
    actions = {a["name"]: a for a in record["actions"]}
    assert actions["close-account-exposure"]["status"] == "succeeded"
    assert actions["patch-account-network"]["status"] == "failed"
    assert "refused for good" in actions["patch-account-network"]["error"]
    assert record["outcome"] == "failed" and record["after"]["publicNetworkAccess"] == "Disabled"


def _event() -> dict[str, Any]:
    claims = {"name": "Dana Admin", "upn": "dana@contoso.example", "oid": "11111111-1111-1111-1111-111111111111"}
    return to_event_grid(WriteEvent(operation_name="Microsoft.CognitiveServices/accounts/write", resource_id=AOAI,
                                    method="PATCH", status=200, caller_claims=claims, correlation_id="c1",
                                    time=dt.datetime.now(dt.UTC)))


@pytest.mark.parametrize("scope", ["account", "resource group", "subscription"])
def test_a_readonly_lock_ends_the_item_failed_naming_the_lock(stack: Stack, scope: str) -> None:
    stack.seed(open_account())
    at_azure_pace(stack)
    locked = {"account": AOAI, "resource group": rg_id("rg-ai"), "subscription": f"/subscriptions/{SUBSCRIPTION}"}
    lock = f"{locked[scope]}/providers/Microsoft.Authorization/locks/freeze"
    assert stack.as_user("PUT", lock, {"properties": {"level": "ReadOnly"}}, api_version="2020-05-01") == 201
    for name in (WORK_QUEUE, POISON_QUEUE):
        if queue_exists(stack, name):
            QueueClient.from_connection_string(stack.azurite.connection_string, name).clear_messages()

    with LocalTopic(cert_dir=stack.emulator.cert_dir) as topic:
        app = stack.load_app(**PACE, REMEDIATION_EVENTGRID_TOPIC_ENDPOINT=topic.endpoint)
        host = LocalHost(app, stack.azurite.connection_string)
        host.deliver(_event())
        assert host.drain(30)
        published = topic.events

    [record] = app.parts().history(parse_account_id(AOAI), 10)
    assert record["outcome"] == "failed"
    assert locked[scope] in record["error"] and "az lock list" in record["error"] and "ScopeLocked" in record["error"]
    assert len([w for w in stack.writes() if w.method == "PATCH"]) == 1, "not retried as busy"
    assert [e["eventType"] for e in published] == ["OpenAIPrivateNetwork.Remediation.RemediationFailed"]
    assert _count(stack, POISON_QUEUE) == 0 and _count(stack, WORK_QUEUE) == 0
    assert stack.resource(AOAI)["properties"]["publicNetworkAccess"] == "Enabled"  # only a person can open the lock


def _count(stack: Stack, name: str) -> int:
    if not queue_exists(stack, name):
        return 0
    queue = QueueClient.from_connection_string(stack.azurite.connection_string, name)
    return len(queue.peek_messages(max_messages=32))
