"""Races and hostile input on every entry point: nothing escapes a trigger, nothing is duplicated,
nothing is written outside the scopes (the `stack` fixture checks every app write on teardown)."""

from __future__ import annotations

import base64
import json
import threading
import time
from typing import Any

import azure.functions as func
from azure.core.exceptions import ResourceNotFoundError
from azure.functions.queue import QueueMessage
from azure.storage.queue import QueueClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from localdev.estate import OPENAI_ZONE, OTHER_SUBSCRIPTION, Estate, account_id
from localdev.functions_host import decode_event
from localdev.person import write_as
from remediation.core.ids import parse_account_id, parse_resource_id
from remediation.core.model import Trigger
from remediation.core.naming import private_endpoint_name
from remediation.core.operations import TargetKind
from remediation.store.queue import WorkItem
from remediation.store.storage import POISON_QUEUE, WORK_QUEUE
from tests.conftest import Stack
from tests.helpers.live import Live

AOAI = account_id("aoai-prod")
JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
                    lambda inner: (st.lists(inner, max_size=4)
                                   | st.dictionaries(st.text(max_size=12), inner, max_size=5)),
                    max_leaves=20)
HOSTILE_IDS = [
    AOAI.replace("aoai-prod", "../aoai-prod"), AOAI.replace("/accounts/", "/accounts%2F"), AOAI.upper(),
    AOAI.replace("Microsoft.CognitiveServices", "Microsoft.Storage").replace("accounts", "storageAccounts"),
    account_id("aoai-prod", subscription=OTHER_SUBSCRIPTION), AOAI + "/../../other", AOAI + "\n", "x" * 5000,
]
QUICK = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _event(subject: Any, operation: Any = "Microsoft.CognitiveServices/accounts/write") -> dict[str, Any]:
    return {"id": "e1", "topic": "/subscriptions/x", "subject": subject,
            "eventType": "Microsoft.Resources.ResourceWriteSuccess",
            "eventTime": "2026-11-26T10:00:00Z", "dataVersion": "2",
            "data": {"operationName": operation, "status": "Succeeded", "resourceUri": subject,
                     "claims": {"name": "Mallory", "appid": "x"}}}


def test_the_same_account_reconciled_by_many_workers_at_once(stack: Stack) -> None:
    stack.seed(Estate().network((OPENAI_ZONE,)).account("aoai-prod", public_network_access="Enabled"))
    app = stack.app(REMEDIATION_READY_TIMEOUT_SECONDS="10")
    remediator = app.remediator
    outcomes: list[str] = []

    def run() -> None:
        outcomes.append(remediator.reconcile(parse_account_id(AOAI), Trigger.EVENT).record.outcome.value)

    workers = [threading.Thread(target=run) for _ in range(6)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    endpoints = [r for r in stack.emulator.resources("Microsoft.Network/privateEndpoints")
                 if r["id"].lower().endswith(private_endpoint_name(parse_account_id(AOAI)))]
    assert len(endpoints) == 1, "one endpoint, whatever the race"
    assert set(outcomes) <= {"remediated", "compliant", "deferred", "failed"} and "remediated" in outcomes
    assert len(app.history(parse_account_id(AOAI), 50)) == 6, "every reconcile left its record"
    final = remediator.reconcile(parse_account_id(AOAI), Trigger.EVENT).record
    assert final.outcome.value == "compliant"


def test_a_person_writing_while_a_fix_is_in_flight_is_fixed_by_the_next_event(stack: Stack) -> None:
    stack.seed(Estate().network((OPENAI_ZONE,)).locked("aoai-prod"))
    live = Live(stack)
    app_oid = stack.emulator.app_identity.object_id
    raced = threading.Event()

    def person_races_the_fix(write: Any) -> None:
        if write.caller_claims.get("oid") == app_oid and not raced.is_set():
            raced.set()  # the app's PATCH was just accepted: the person writes again right after it settles
            threading.Thread(target=_save_until_accepted, args=(stack,)).start()

    stack.emulator.on_write(person_races_the_fix)
    try:
        write_as(stack.emulator, "PATCH", AOAI, {"properties": {"publicNetworkAccess": "Enabled"}})
        deadline = time.monotonic() + 20
        while len(live.history()) < 2 and time.monotonic() < deadline:
            live.settle()
            time.sleep(0.05)
        assert raced.is_set()
        assert stack.resource(AOAI)["properties"]["publicNetworkAccess"] == "Disabled"
        records = live.history()
        assert [r["outcome"] for r in records] == ["remediated", "remediated"]
        assert all(r["actor"]["upn"] == "dana@contoso.example" for r in records)
    finally:
        live.close()


def _save_until_accepted(stack: Stack) -> None:
    """The person's portal save: refused with 409 while the app's update runs, so they save again."""
    import time

    for _ in range(100):
        try:
            write_as(stack.emulator, "PATCH", AOAI, {"properties": {"publicNetworkAccess": "Enabled"}})
            return
        except RuntimeError as error:
            if "409" not in str(error):
                raise
            time.sleep(0.05)


@QUICK
@given(body=st.binary(max_size=300) | JSON.map(lambda v: json.dumps(v).encode()))
def test_http_remediate_never_fails_on_any_body(stack: Stack, body: bytes) -> None:
    live = _app(stack)
    response = live.app.remediate(func.HttpRequest(method="POST", url="/api/remediate", body=body))
    assert response.status_code in (200, 400, 403, 404, 413), response.get_body()[:200]
    assert stack.writes() == []


@QUICK
@given(event=JSON | st.builds(_event, st.sampled_from(HOSTILE_IDS) | JSON, JSON | st.just(None)))
def test_event_trigger_ignores_hostile_events_without_raising_or_writing(stack: Stack, event: Any) -> None:
    live = _app(stack)
    queued_before = _count(stack, WORK_QUEUE)
    if isinstance(event, dict) and isinstance(event.get("data"), (dict, list)):
        try:
            argument = decode_event(event)
        except Exception:  # noqa: BLE001 - the host's own decoder refused it: it never reaches the function
            return
        live.app.on_resource_event(argument)
    # Only an event about the in-scope account itself (in any casing) may be queued; nothing is written.
    queued = _count(stack, WORK_QUEUE) - queued_before
    about_the_account = isinstance(event, dict) and isinstance(event.get("subject"), str) \
        and event["subject"].lower() == AOAI.lower() and event.get("data", {}).get("operationName") == \
        "Microsoft.CognitiveServices/accounts/write"
    assert queued == (1 if about_the_account else 0)
    _drain(stack, WORK_QUEUE)
    assert stack.writes() == []


@QUICK
@given(body=st.binary(max_size=300) | JSON.map(lambda v: json.dumps(v).encode())
       | st.sampled_from(HOSTILE_IDS).map(lambda rid: json.dumps({"kind": "account", "resource_id": rid}).encode()))
def test_queue_trigger_gives_up_hostile_messages_without_writing(stack: Stack, body: bytes) -> None:
    live = _app(stack)
    while _drain(stack, POISON_QUEUE):  # what earlier tests gave up
        pass
    live.app.process_work_item(QueueMessage(id="m", body=body, dequeue_count=1))
    assert stack.writes() == []
    reason = _unusable(body)
    poisoned = _drain(stack, POISON_QUEUE)
    if reason is None:  # a well-formed item: it maps to the account (compliant) or to no managed account
        assert poisoned == []
        return
    assert len(poisoned) == 1, "an unusable item goes to the poison queue"
    assert json.loads(poisoned[0])["reason"].startswith(reason)


def _unusable(body: bytes) -> str | None:
    """Why the worker must give this message up at once, or None when it is a usable work item."""
    try:
        item = WorkItem.from_message(body.decode("utf-8", errors="replace"))
    except ValueError:
        return "unreadable work item"
    try:
        parse_resource_id(item.resource_id)
    except ValueError:
        return "invalid work item"
    return None if item.kind in {k.value for k in TargetKind} else "invalid work item"


def _count(stack: Stack, queue: str) -> int:
    client = QueueClient.from_connection_string(stack.azurite.connection_string, queue)
    try:
        return int(client.get_queue_properties().approximate_message_count)
    except ResourceNotFoundError:
        return 0


def _drain(stack: Stack, queue: str) -> list[str]:
    """Every message on the queue (base64 decoded), removed."""
    client = QueueClient.from_connection_string(stack.azurite.connection_string, queue)
    texts: list[str] = []
    if not _count(stack, queue):
        return texts
    for message in client.receive_messages(max_messages=32):
        texts.append(base64.b64decode(message.content).decode())
        client.delete_message(message)
    return texts


_APPS: dict[int, Live] = {}


def _app(stack: Stack) -> Live:
    """One app per test (hypothesis runs many examples against the same stack)."""
    key = id(stack)
    if key not in _APPS:
        _APPS.clear()
        # Locked down: even a well-formed item for it (say, in other casing) has nothing to write.
        stack.seed(Estate().network((OPENAI_ZONE,)).locked("aoai-prod"))
        _APPS[key] = Live(stack)
        _APPS[key].router.stop()
    return _APPS[key]
