"""Every function of function_app.py invoked through the worker library the Functions host loads
(azure-functions-runtime on Python 3.13): its indexing, its conversion of what the host sends for each trigger, its
thread pool, its conversion of the return value; against the emulator and Azurite, the app holding exactly the
rights the deployment grants. The host's side is tests/helpers/worker_host.py."""
from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from azure.storage.queue import QueueClient

from localdev.arm_emulator import Fault
from localdev.arm_events import EventRouter
from localdev.estate import OPENAI_ZONE, Estate, account_id
from remediation import __version__
from remediation.core.model import Trigger
from remediation.core.operations import WATCHED_OPERATIONS, TargetKind
from remediation.core.telemetry import HEARTBEAT_PREFIX, RECONCILE_PREFIX, parse_line
from remediation.store.queue import WorkItem
from remediation.store.storage import POISON_QUEUE, WORK_QUEUE
from tests.conftest import Stack
from tests.helpers.worker_host import QueueListener, WorkerHost, event_grid, http_request, timer_tick
from tests.worker.conftest import StartWorker

AOAI = account_id("aoai-prod")


def public_access(stack: Stack, resource_id: str = AOAI) -> str:
    resource = stack.resource(resource_id)
    assert resource is not None
    return str(resource["properties"]["publicNetworkAccess"])


def drift_event(stack: Stack, schema: str) -> dict[str, Any]:
    """A person opens the account in the emulator; the event Resource Manager publishes for it."""
    captured: list[dict[str, Any]] = []
    router = EventRouter(stack.emulator, captured.append, schema=schema, operations=WATCHED_OPERATIONS).start()
    try:
        assert stack.as_user("PATCH", AOAI, {"properties": {"publicNetworkAccess": "Enabled"}}) in (200, 202)
        assert router.drain(10)
    finally:
        router.stop()
    [event] = captured
    return event


def work_listener(stack: Stack, host: WorkerHost, release_after: int | None = None) -> QueueListener:
    return QueueListener(host, stack.azurite.connection_string, WORK_QUEUE, "process_work_item", release_after)


def audit_lines(invocation: Any) -> list[dict[str, Any]]:
    return [fields for m in invocation.messages() if (fields := parse_line(m, RECONCILE_PREFIX)) is not None]


def send_item(stack: Stack, item: WorkItem) -> None:
    queue = QueueClient.from_connection_string(stack.azurite.connection_string, WORK_QUEUE)
    queue.send_message(base64.b64encode(item.to_message().encode()).decode())


# -- Event Grid ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("schema", ["eventgrid", "cloudevents"])
def test_a_drift_event_is_queued_and_its_work_item_closes_the_account(
        stack: Stack, start_worker: StartWorker, schema: str) -> None:
    stack.seed(Estate().network((OPENAI_ZONE,)).locked("aoai-prod"))
    host = start_worker()
    event = drift_event(stack, schema)
    assert public_access(stack) == "Enabled"

    delivered = host.invoke("on_resource_event", *event_grid(event))

    assert delivered.status == "Success", delivered.exception
    assert any(m.startswith(f"event {event['id']} queued: account {AOAI}") for m in delivered.messages()), \
        delivered.messages()
    [worked] = work_listener(stack, host).drain()
    assert worked.status == "Success", worked.exception
    assert public_access(stack) == "Disabled"
    [line] = audit_lines(worked)
    assert (line["outcome"], line["trigger"], line["resourceId"]) == ("remediated", "event", AOAI)
    assert line["actor"]["upn"] == "dana@contoso.example"


def test_a_delivery_the_trigger_cannot_convert_fails_the_invocation(stack: Stack, start_worker: StartWorker) -> None:
    """Event Grid data that is not JSON: the worker's converter refuses it; the host gets a Failure, not a call."""
    host = start_worker()

    delivered = host.invoke("on_resource_event", {"string": "not an event"})

    assert delivered.status == "Failure"
    assert "unsupported combination of TypedData field 'string'" in delivered.exception["message"]
    assert stack.arm() == []


# -- the queue ---------------------------------------------------------------------------------------------------


def test_a_failing_item_is_delivered_again_until_the_app_gives_it_up_on_the_fifth_dequeue(
        stack: Stack, start_worker: StartWorker) -> None:
    stack.seed(Estate().network((OPENAI_ZONE,)).locked("aoai-prod", public_network_access="Enabled"))
    stack.emulator.add_fault(Fault(method="GET", path=r"/accounts/aoai-prod$", status=503, code="ServiceUnavailable",
                                   headers={"retry-after-ms": "1"}, times=None))
    host = start_worker()
    listener = work_listener(stack, host, release_after=0)
    send_item(stack, WorkItem(kind=TargetKind.ACCOUNT, resource_id=AOAI, trigger=Trigger.EVENT))

    listener.drain()

    # The dequeue count reached the app through the trigger metadata (json `5` → QueueMessage.dequeue_count):
    # deliveries 1-4 raise RetryLater (a Failure for the host, which makes the message visible again); on the
    # fifth, host.json's maxDequeueCount, the app gives the item up itself and returns.
    deliveries = [(message.dequeue_count, invocation.status) for message, invocation in listener.invocations]
    assert deliveries == [(1, "Failure"), (2, "Failure"), (3, "Failure"), (4, "Failure"), (5, "Success")]
    for _, invocation in listener.invocations[:4]:
        assert invocation.exception["message"].startswith("RetryLater: ")
        assert "process_work_item" in invocation.exception["stack_trace"]
    poison = QueueClient.from_connection_string(stack.azurite.connection_string, POISON_QUEUE)
    [given_up] = [json.loads(base64.b64decode(m.content)) for m in poison.receive_messages(max_messages=32)]
    assert given_up["item"]["resource_id"] == AOAI and "ServiceUnavailable" in given_up["reason"]
    assert given_up["record"]["outcome"] == "failed"
    assert QueueClient.from_connection_string(stack.azurite.connection_string, WORK_QUEUE) \
        .get_queue_properties().approximate_message_count == 0


def test_an_item_the_app_cannot_run_fails_five_times_and_the_host_poisons_it(
        stack: Stack, start_worker: StartWorker) -> None:
    """Invalid settings: every delivery raises the settings error; after the fifth Failure the message moves to the
    poison queue as it is (the host's doing, modelled by QueueListener)."""
    host = start_worker(REMEDIATION_MODE="sometimes")
    listener = work_listener(stack, host, release_after=0)
    item = WorkItem(kind=TargetKind.ACCOUNT, resource_id=AOAI, trigger=Trigger.EVENT)
    send_item(stack, item)

    listener.drain()

    assert [(m.dequeue_count, i.status) for m, i in listener.invocations] == [(n, "Failure") for n in range(1, 6)]
    assert all("REMEDIATION_MODE" in i.exception["message"] for _, i in listener.invocations)
    poison = QueueClient.from_connection_string(stack.azurite.connection_string, POISON_QUEUE)
    [moved] = [base64.b64decode(m.content).decode() for m in poison.receive_messages(max_messages=32)]
    assert json.loads(moved) == json.loads(item.to_message())
    assert stack.arm() == []


# -- HTTP --------------------------------------------------------------------------------------------------------


def test_remediate_history_and_health_answer_as_documented(stack: Stack, start_worker: StartWorker) -> None:
    stack.seed(Estate().network((OPENAI_ZONE,)).locked("aoai-prod", public_network_access="Enabled"))
    host = start_worker()

    posted = host.invoke("remediate", *http_request("POST", "/api/remediate", json.dumps({"resourceId": AOAI}).encode(),
                                                    headers={"Content-Type": "application/json"}))

    status, headers, body = posted.http()
    assert (status, headers["content-type"]) == (200, "application/json"), body
    record = json.loads(body)
    assert (record["outcome"], record["trigger"], record["resourceId"]) == ("remediated", "http", AOAI)
    assert public_access(stack) == "Disabled"
    [line] = audit_lines(posted)
    assert line["id"] == record["id"]

    history = host.invoke("remediations", *http_request("GET", "/api/remediations",
                                                        query={"resourceId": AOAI.lower(), "top": "1"}))
    status, _, body = history.http()
    assert status == 200 and [r["id"] for r in json.loads(body)["value"]] == [record["id"]]

    health = host.invoke("health", *http_request("GET", "/api/health"))
    status, headers, body = health.http()
    assert (status, headers["content-type"]) == (200, "application/json")
    assert json.loads(body) == {"status": "healthy", "version": __version__}


@pytest.mark.parametrize("function,method,query,body,expected", [
    ("remediate", "POST", {}, b"{not json", (400, "InvalidJson")),
    ("remediate", "POST", {}, json.dumps({"resourceId": AOAI, "dryrun": True}).encode(), (400, "InvalidRequest")),
    ("remediate", "POST", {}, json.dumps({"resourceId": account_id("x", resource_group="rg-other")}).encode(),
     (403, "OutOfScope")),
    ("remediations", "GET", {"resourceId": AOAI, "top": "0"}, b"", (400, "InvalidRequest")),
])
def test_bad_requests_get_the_documented_errors(stack: Stack, start_worker: StartWorker, function: str, method: str,
                                                query: dict[str, str], body: bytes, expected: tuple[int, str]) -> None:
    host = start_worker()

    status, headers, raw = host.invoke(function, *http_request(method, f"/api/{function}", body, query)).http()

    assert (status, json.loads(raw)["error"]["code"]) == expected
    assert headers["content-type"] == "application/json"
    assert stack.arm() == []


def test_health_says_unhealthy_with_invalid_settings(stack: Stack, start_worker: StartWorker) -> None:
    host = start_worker(REMEDIATION_MODE="sometimes")

    status, _, body = host.invoke("health", *http_request("GET", "/api/health")).http()

    assert status == 503 and json.loads(body) == {"status": "unhealthy", "version": __version__}


# -- the timer ---------------------------------------------------------------------------------------------------


def test_the_timer_runs_a_sweep_that_queues_the_drifted_account(stack: Stack, start_worker: StartWorker) -> None:
    stack.seed(Estate().network((OPENAI_ZONE,)).locked("aoai-prod", public_network_access="Enabled")
               .locked("aoai-calm"))
    host = start_worker()

    ticked = host.invoke("sweep", *timer_tick("2026-01-01T00:00:00+00:00", "2026-01-01T00:30:00+00:00"))

    assert ticked.status == "Success", ticked.exception
    [heartbeat] = [m for m in ticked.messages() if m.startswith(HEARTBEAT_PREFIX)]
    assert parse_line(heartbeat, HEARTBEAT_PREFIX) is not None
    [worked] = work_listener(stack, host).drain()
    assert public_access(stack) == "Disabled" and public_access(stack, account_id("aoai-calm")) == "Disabled"
    [line] = audit_lines(worked)
    assert (line["resourceId"], line["trigger"], line["outcome"]) == (AOAI, "sweep", "remediated")
