"""Hostile senders: whoever holds the webhook's key delivers real Event Grid events through the intake, with any
id, time, claims and resource they like. They may cost reads; they must never switch the event path off, never
make a genuine event look handled, and never multiply into reads of every account a zone serves."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from azure.data.tables import TableClient
from azure.storage.queue import QueueClient

from localdev.estate import OPENAI_ZONE, Estate, account_id, zone_id
from localdev.send_event import load_events, rewrite
from remediation.core.ids import parse_account_id
from remediation.core.model import Trigger
from remediation.store import fanout
from remediation.store.storage import WORK_QUEUE, table_key
from tests.conftest import Stack
from tests.helpers.live import Live, queue_exists

AOAI = account_id("aoai-prod")
# Event Grid retries a delivery for 24 hours at most (infra/modules/events.bicep: eventTimeToLiveInMinutes 1440):
# with the app's slack for publishing delay and clock skew, no genuine event is older than this when it arrives.
WINDOW = timedelta(hours=26)
MALLORY = {"name": "Mallory Forger", "upn": "mallory@contoso.example"}


@pytest.fixture
def live(stack: Stack) -> Iterator[Live]:
    """The app under an in-process host, on an empty work queue."""
    if queue_exists(stack, WORK_QUEUE):
        QueueClient.from_connection_string(stack.azurite.connection_string, WORK_QUEUE).clear_messages()
    instance = Live(stack)
    yield instance
    instance.close()


def forged(resource_id: str, operation: str, event_time: str, *, event_type: str | None = None) -> dict[str, Any]:
    """A documented ARM event pointed at `resource_id`, with a fresh id, the given time and Mallory's claims."""
    [sample] = load_events("arm-write-success-eventgrid")
    event = rewrite(sample, subject=resource_id, operation=operation, fresh=True)
    event["eventTime"] = event_time
    if event_type:
        event["eventType"] = event_type
    event["data"]["claims"] = {"name": MALLORY["name"], "upn": MALLORY["upn"], "appid": str(uuid.uuid4())}
    return event


def flood(live: Live, resource_id: str, count: int, since: str = "2001-01-01T00:00:00+00:00") -> None:
    """`count` forged account writes, dated back in time and each one older than the one before: the order an
    attacker picks so the events delivered first never rank among the oldest waiting ones."""
    start = datetime.fromisoformat(since)
    for k in range(count):
        moment = (start + timedelta(seconds=count - k)).strftime("%Y-%m-%dT%H:%M:%SZ")
        live.host.deliver(forged(resource_id, "Microsoft.CognitiveServices/accounts/write", moment))


def mailbox_rows(stack: Stack, account: str) -> list[dict[str, Any]]:
    table = TableClient.from_connection_string(stack.azurite.connection_string, stack.table)
    return list(table.query_entities("PartitionKey eq @pk", parameters={"pk": f"events-{table_key(account)}"}))


def waiting_rows(stack: Stack, account: str) -> list[dict[str, Any]]:
    return [row for row in mailbox_rows(stack, account) if row.get("state", "waiting") == "waiting"]


def test_old_dated_forged_events_cannot_switch_the_event_path_off(stack: Stack, live: Live) -> None:
    """A hundred forged account events dated 2001 once filled the first fifty places of the account's mailbox for
    good, and every later genuine event was judged covered and skipped: the account stayed open until the sweep."""
    stack.seed(Estate().network((OPENAI_ZONE,)).locked("aoai-prod"))
    flood(live, AOAI, 100)
    live.settle(60)

    stack.as_user("PATCH", AOAI, {"properties": {"publicNetworkAccess": "Enabled"}})  # a genuine drift
    live.settle()

    assert stack.resource(AOAI)["properties"]["publicNetworkAccess"] == "Disabled"
    genuine = [e["id"] for e in live.captured if e["data"]["claims"].get("name") == "Dana Admin"]
    assert len(genuine) == 1
    fixed = [r for r in live.history() if r["outcome"] == "remediated"]
    assert len(fixed) == 1 and genuine[0] in [a["eventId"] for a in fixed[0]["actors"]]
    assert waiting_rows(stack, AOAI) == [], "every event's row was taken by a reconcile: no orphans"


def test_a_genuine_event_behind_a_flood_of_forged_ones_is_reconciled_after_it_arrived(stack: Stack,
                                                                                        live: Live) -> None:
    """Forged events waiting in front of a genuine one (not yet reconciled, dated years back) never make it look
    handled: its own row decides, and it is taken only by a reconcile that listed it before reading the account."""
    stack.seed(Estate().network((OPENAI_ZONE,)).locked("aoai-prod"))
    live.capture_only = True
    stack.as_user("PATCH", AOAI, {"properties": {"publicNetworkAccess": "Enabled"}})
    assert live.router.drain(10)
    [genuine] = [e for e in live.captured if e["data"]["claims"].get("name") == "Dana Admin"]
    flood(live, AOAI, 120, since="1999-12-31T00:00:00+00:00")
    delivered = datetime.now(UTC)
    live.host.deliver(genuine)
    live.capture_only = False
    live.settle(90)

    assert stack.resource(AOAI)["properties"]["publicNetworkAccess"] == "Disabled"
    records = live.history()
    [folding] = [r for r in records if genuine["id"] in [a["eventId"] for a in r.get("actors", [])]]
    assert datetime.fromisoformat(folding["time"].replace("Z", "+00:00")) > delivered
    assert waiting_rows(stack, AOAI) == []


def test_an_event_time_outside_event_grids_retry_window_is_clamped(stack: Stack, live: Live) -> None:
    """Event Grid gives up on a delivery after 24 hours, so an eventTime decades back (or ahead) is not when the
    change happened: the record's times and event-to-fix figure stay inside the window."""
    stack.seed(Estate().network((OPENAI_ZONE,)).locked("aoai-prod"))
    live.capture_only = True
    stack.as_user("PATCH", AOAI, {"properties": {"publicNetworkAccess": "Enabled"}})
    assert live.router.drain(10)
    [event] = [e for e in live.captured if e["data"]["claims"].get("name") == "Dana Admin"]
    event = json.loads(json.dumps(event))
    event["eventTime"] = "1990-01-01T00:00:00Z"
    before = datetime.now(UTC)
    live.host.deliver(event)
    live.capture_only = False
    live.settle()

    [record] = live.history()
    assert record["outcome"] == "remediated"
    assert 0 <= record["eventToFixMs"] <= WINDOW.total_seconds() * 1000
    recorded = datetime.fromisoformat(record["event"]["time"].replace("Z", "+00:00"))
    assert before - WINDOW <= recorded <= datetime.now(UTC)


LINK = f"{zone_id(OPENAI_ZONE)}/virtualNetworkLinks/hub"
LINK_DELETE = "Microsoft.Network/privateDnsZones/virtualNetworkLinks/delete"


def test_forged_zone_link_deletes_fan_out_at_most_once_a_window(stack: Stack, live: Live,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """Each forged link-delete event about a shared zone made a work item for every account the zone serves, each
    reconciled with its own reads. Now a zone fans out at most once a window (shortened here), and an event that
    arrived before a fan-out started is covered by it: ten events, a few seconds apart, cost two fan-outs."""
    monkeypatch.setattr(fanout, "ZONE_FANOUT_SECONDS", 4.0)
    names = [f"aoai-{i}" for i in range(6)]
    estate = Estate().network((OPENAI_ZONE,))
    for name in names:
        estate.locked(name)
    stack.seed(estate)
    remediator = live.app.parts().remediator
    stack.emulator.clear_requests()
    for name in names:  # the serving index learns which accounts the zone serves
        assert remediator.reconcile(parse_account_id(account_id(name)), Trigger.SWEEP).record.outcome.value \
            == "compliant"
    one_fan_out = len(stack.arm("read"))  # the reads of one reconcile of every account
    stack.emulator.clear_requests()

    for _ in range(10):
        live.host.deliver(forged(LINK, LINK_DELETE, datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                                 event_type="Microsoft.Resources.ResourceDeleteSuccess"))
        live.host.run_once()  # the fan-out and its reconciles run before the next event comes
        live.host.run_once()
    live.settle(60)

    reconciles = {name: len([r for r in live.history(account_id(name)) if r["trigger"] == "event"]) for name in names}
    assert set(reconciles.values()) <= {1, 2}, reconciles
    reads = len(stack.arm("read"))
    assert reads <= 2 * one_fan_out, f"{reads} reads; one fan-out costs {one_fan_out}"
    assert stack.writes() == []
