"""The event-driven loop end to end: a person's write on the emulator becomes an ARM event, the app
triages it, queues the work in Azurite, the queue worker reconciles, and the account is locked again."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from azure.storage.queue import QueueClient

from localdev.estate import OPENAI_ZONE, SUBNET_ID, Estate, account_id
from localdev.eventgrid_topic import LocalTopic
from remediation.core.ids import parse_account_id
from remediation.core.naming import private_endpoint_name
from remediation.core.retry import MAX_DEQUEUE
from remediation.runtime.worker import RetryLater
from remediation.store.storage import POISON_QUEUE, WORK_QUEUE
from tests.conftest import Stack
from tests.helpers.live import Live, queue_exists

AOAI = account_id("aoai-prod")
NETWORK_RG = SUBNET_ID.split("/providers/")[0]


@pytest.fixture
def live(stack: Stack) -> Iterator[Live]:
    QueueClient.from_connection_string(stack.azurite.connection_string, WORK_QUEUE).clear_messages() \
        if queue_exists(stack, WORK_QUEUE) else None
    instance = Live(stack)
    yield instance
    instance.close()


def _drift(stack: Stack) -> None:
    stack.as_user("PATCH", AOAI, {"properties": {"publicNetworkAccess": "Enabled"}})


def test_a_persons_drift_is_locked_again_with_their_identity_recorded(stack: Stack, live: Live) -> None:
    stack.seed(Estate().network((OPENAI_ZONE,)).locked("aoai-prod"))

    _drift(stack)
    live.settle()

    assert stack.resource(AOAI)["properties"]["publicNetworkAccess"] == "Disabled"
    [record] = live.history()
    assert record["outcome"] == "remediated" and record["trigger"] == "event"
    assert record["actor"]["name"] == "Dana Admin" and record["actor"]["upn"] == "dana@contoso.example"
    assert record["event"]["operationName"] == "Microsoft.CognitiveServices/accounts/write"
    assert record["event"]["type"] == "Microsoft.Resources.ResourceWriteSuccess"
    assert record["eventToFixMs"] is not None and record["eventToFixMs"] >= 0
    assert "claims" not in json.dumps(record)


def test_the_apps_own_writes_come_back_as_events_and_cost_no_arm_calls(stack: Stack, live: Live,
                                                                        caplog: pytest.LogCaptureFixture) -> None:
    stack.seed(Estate().network((OPENAI_ZONE,)).locked("aoai-prod"))
    _drift(stack)
    live.settle()
    own_events = [e for e in live.captured if e["data"]["claims"].get("appid") == stack.emulator.app_identity.client_id]
    assert own_events, "the fix itself produced an ARM event"
    stack.emulator.clear_requests()
    caplog.set_level(logging.INFO, logger="remediation.events")

    for event in own_events:
        live.host.deliver(event)
    live.settle()

    assert stack.arm() == []
    assert any("own-write" in r.getMessage() for r in caplog.records)
    assert len(live.history()) == 1


def test_deleted_endpoint_is_recreated(stack: Stack, live: Live) -> None:
    stack.seed(Estate().network((OPENAI_ZONE,)).locked("aoai-prod"))
    pe_existing = f"{NETWORK_RG}/providers/Microsoft.Network/privateEndpoints/pe-aoai-prod-existing"
    assert json.loads(live.app.remediate(_post(AOAI)).get_body())["outcome"] == "compliant"  # the app has seen it

    stack.as_user("DELETE", pe_existing, api_version="2024-05-01")
    live.settle()

    ours = f"{NETWORK_RG}/providers/Microsoft.Network/privateEndpoints/{private_endpoint_name(parse_account_id(AOAI))}"
    assert stack.resource(pe_existing) is None and stack.resource(ours) is not None
    [connection] = stack.resource(AOAI)["properties"]["privateEndpointConnections"]
    assert connection["properties"]["privateLinkServiceConnectionState"]["status"] == "Approved"
    assert stack.resource(f"{ours}/privateDnsZoneGroups/default") is not None
    assert live.history()[0]["outcome"] == "remediated"


def test_deleted_zone_group_is_recreated(stack: Stack, live: Live) -> None:
    stack.seed(Estate().network((OPENAI_ZONE,)).locked("aoai-prod"))
    group = (f"{NETWORK_RG}/providers/Microsoft.Network/privateEndpoints/pe-aoai-prod-existing"
             "/privateDnsZoneGroups/default")

    stack.as_user("DELETE", group, api_version="2024-05-01")
    live.settle()

    assert stack.resource(group) is not None
    [record] = live.history()
    assert [f["code"] for f in record["findings"]] == ["PRIVATE_DNS_ZONE_GROUP_MISSING"]
    assert record["actor"]["upn"] == "dana@contoso.example"


def test_cloudevents_delivery_gives_the_same_result(stack: Stack) -> None:
    stack.seed(Estate().network((OPENAI_ZONE,)).locked("aoai-prod"))
    live = Live(stack, schema="cloudevents")
    try:
        _drift(stack)
        live.settle()
        assert "specversion" in live.captured[0]
        assert stack.resource(AOAI)["properties"]["publicNetworkAccess"] == "Disabled"
        [record] = live.history()
        assert record["outcome"] == "remediated" and record["actor"]["upn"] == "dana@contoso.example"
    finally:
        live.close()


def test_twenty_duplicate_events_delivered_concurrently_cost_one_set_of_writes(stack: Stack, live: Live) -> None:
    stack.seed(Estate().network((OPENAI_ZONE,)).account("aoai-prod", public_network_access="Enabled"))
    live.capture_only = True
    stack.as_user("PATCH", AOAI, {"tags": {"touched": "yes"}})
    assert live.router.drain(10)
    [event] = live.captured
    live.capture_only = False
    stack.emulator.clear_requests()

    threads = [threading.Thread(target=live.host.deliver, args=(event,)) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    workers = [threading.Thread(target=live.host.drain, args=(60,)) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    live.settle()

    endpoints = [r for r in stack.emulator.resources("Microsoft.Network/privateEndpoints")
                 if r["id"].lower().endswith(private_endpoint_name(parse_account_id(AOAI)))]
    assert len(endpoints) == 1
    writes = [(w.method, w.path.split("?")[0].lower()) for w in stack.writes()]
    assert len(writes) == len(set(writes)), f"a write was repeated: {writes}"
    assert [r["outcome"] for r in live.history()].count("remediated") == 1


def test_busy_account_is_deferred_then_fixed(stack: Stack) -> None:
    stack.seed(Estate().network((OPENAI_ZONE,)).locked("aoai-prod", public_network_access="Enabled",
                                                        provisioning_state="Accepted"))
    live = Live(stack, REMEDIATION_READY_TIMEOUT_SECONDS="0.2")
    try:
        live.host.deliver(_user_event())
        assert live.host.run_once() == 1
        assert [r["outcome"] for r in live.history()] == ["deferred"]
        account = stack.emulator.store.get(AOAI)
        account["properties"]["provisioningState"] = "Succeeded"  # the operation that held it finished
        stack.emulator.store.put(account)

        live.settle()

        assert [r["outcome"] for r in live.history()] == ["remediated", "deferred"]
        assert stack.resource(AOAI)["properties"]["publicNetworkAccess"] == "Disabled"
    finally:
        live.close()


def test_a_message_that_keeps_failing_ends_in_the_poison_queue_with_its_record(stack: Stack, live: Live) -> None:
    from localdev.arm_emulator import Fault

    stack.seed(Estate().network((OPENAI_ZONE,)).locked("aoai-prod", public_network_access="Enabled"))
    stack.emulator.add_fault(Fault(method="PATCH", path=r"/accounts/aoai-prod$", status=500, code="InternalServerError",
                                   message="the service failed the change", times=None,
                                   headers={"retry-after-ms": "10"}))
    item = json.dumps({"kind": "account", "resource_id": AOAI, "trigger": "event"}).encode()

    from azure.functions.queue import QueueMessage

    for count in range(1, MAX_DEQUEUE + 1):
        message = QueueMessage(id="m1", body=item, dequeue_count=count)
        if count < MAX_DEQUEUE:
            with pytest.raises(RetryLater, match="the service failed the change"):
                live.app.process_work_item(message)
        else:
            live.app.process_work_item(message)  # the last try gives it up itself

    ours = _poisoned_for(stack, AOAI)
    assert ours and ours[-1]["record"]["outcome"] == "failed" and "the service failed" in ours[-1]["reason"]


def test_a_change_azure_refuses_for_good_is_recorded_once_and_not_retried(stack: Stack, live: Live) -> None:
    from azure.functions.queue import QueueMessage

    from localdev.arm_emulator import Fault

    stack.seed(Estate().network((OPENAI_ZONE,)).locked("aoai-prod", public_network_access="Enabled"))
    stack.emulator.add_fault(Fault(method="PATCH", path=r"/accounts/aoai-prod$", status=400, code="BadRequest",
                                   message="the service refused the change", times=None))
    item = json.dumps({"kind": "account", "resource_id": AOAI, "trigger": "event"}).encode()
    poisoned = len(_poisoned_for(stack, AOAI))

    live.app.process_work_item(QueueMessage(id="m1", body=item, dequeue_count=1))  # does not raise: not retried

    (record,) = live.history()
    assert record["outcome"] == "failed"
    (action,) = record["actions"]
    assert action["status"] == "failed" and "400 BadRequest: the service refused the change" in action["error"]
    assert "refused for good, not retried" in action["error"] and "by hand" in action["error"]
    assert len(_poisoned_for(stack, AOAI)) == poisoned
    assert len([w for w in stack.writes() if w.method == "PATCH"]) == 1


def _poisoned_for(stack: Stack, account: str) -> list[dict[str, Any]]:
    import base64

    poison = QueueClient.from_connection_string(stack.azurite.connection_string, POISON_QUEUE)
    if not queue_exists(stack, POISON_QUEUE):
        return []
    bodies = [json.loads(base64.b64decode(m.content)) for m in poison.peek_messages(max_messages=32)]
    return [b for b in bodies if b["item"] and b["item"]["resource_id"] == account]


def test_repeated_drift_trips_the_circuit_breaker(stack: Stack, caplog: pytest.LogCaptureFixture) -> None:
    stack.seed(Estate().network((OPENAI_ZONE,)).locked("aoai-prod"))
    live = Live(stack, REMEDIATION_MAX_FIXES_PER_HOUR="2")
    caplog.set_level(logging.ERROR, logger="remediation")
    try:
        for _ in range(4):
            _drift(stack)
            live.settle()
            assert stack.resource(AOAI)["properties"]["publicNetworkAccess"] == "Disabled"  # slowed, never stopped
        outcomes = [r["outcome"] for r in reversed(live.history())]
        assert outcomes[:2] == ["remediated", "remediated"] and set(outcomes[2:]) == {"contested"}
        contested_logs = [r for r in caplog.records if "contested" in r.getMessage() and r.levelno == logging.ERROR]
        assert len(contested_logs) == 1
    finally:
        live.close()


def test_each_remediation_is_published_to_the_topic(stack: Stack, tmp_path: Any) -> None:
    stack.seed(Estate().network((OPENAI_ZONE,)).locked("aoai-prod"))
    with LocalTopic(cert_dir=stack.emulator.cert_dir) as topic:
        live = Live(stack, REMEDIATION_EVENTGRID_TOPIC_ENDPOINT=topic.endpoint)
        try:
            _drift(stack)
            live.settle()
        finally:
            live.close()
        [published] = topic.events
    assert published["eventType"] == "OpenAIPrivateNetwork.Remediation.AccountRemediated"
    assert published["subject"] == AOAI and published["data"]["outcome"] == "remediated"
    assert published["data"]["actor"]["upn"] == "dana@contoso.example"


def _post(account: str) -> Any:
    import azure.functions as func

    return func.HttpRequest(method="POST", url="/api/remediate", body=json.dumps({"resourceId": account}).encode())


def _user_event() -> dict[str, Any]:
    """The event of a person's write to the account (built directly: the emulator refuses writes while busy)."""
    import datetime as dt

    from localdev.arm_emulator.model import WriteEvent
    from localdev.arm_events import to_event_grid

    claims = {"name": "Dana Admin", "upn": "dana@contoso.example", "oid": "11111111-1111-1111-1111-111111111111",
              "appid": "c44b4083-3bb0-49c1-b47d-974e53cbdf3c"}
    return to_event_grid(WriteEvent(operation_name="Microsoft.CognitiveServices/accounts/write", resource_id=AOAI,
                                    method="PATCH", status=200, caller_claims=claims, correlation_id="c1",
                                    time=dt.datetime.now(dt.UTC)))


def _notification(stack: Stack, properties_change: dict[str, Any]) -> dict[str, Any]:
    """A Resource Notifications event for the account, carrying its properties (as that schema does)."""
    account = stack.resource(AOAI)
    return {
        "id": "6c1b2a77-0d7e-4c1e-9d55-3e2f5f3f1a01", "topic": "/subscriptions/00000000-0000-0000-0000-000000000001",
        "subject": AOAI, "eventType": "Microsoft.ResourceNotifications.Resources.CreatedOrUpdated",
        "eventTime": "2026-11-26T10:00:00.0000000Z", "dataVersion": "1", "metadataVersion": "1",
        "data": {"resourceInfo": {"id": AOAI, "name": "aoai-prod", "type": "Microsoft.CognitiveServices/accounts",
                                  "location": account["location"], "tags": account["tags"],
                                  "properties": {**account["properties"], **properties_change}},
                 "apiVersion": "2025-09-01", "operationalInfo": {"resourceEventTime": "2026-11-26T10:00:00Z"}},
    }


def test_a_notification_showing_a_compliant_account_costs_no_read(stack: Stack, live: Live) -> None:
    stack.seed(Estate().network((OPENAI_ZONE,)).locked("aoai-prod"))
    live.host.deliver(_notification(stack, {}))  # its endpoint is not known yet: a reconcile reads and learns it
    live.settle()
    assert [r["outcome"] for r in live.history()] == ["compliant"]
    stack.emulator.clear_requests()

    live.host.deliver(_notification(stack, {}))
    live.settle()

    assert stack.arm() == [] and len(live.history()) == 1


def test_a_notification_showing_drift_is_reconciled(stack: Stack, live: Live) -> None:
    stack.seed(Estate().network((OPENAI_ZONE,)).locked("aoai-prod", public_network_access="Enabled"))

    live.host.deliver(_notification(stack, {}))
    live.settle()

    [record] = live.history()
    assert record["outcome"] == "remediated" and record["actor"] is None
    assert record["event"]["type"] == "Microsoft.ResourceNotifications.Resources.CreatedOrUpdated"
