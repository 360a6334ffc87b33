"""What the app's identity may not read never stops it: an account's own fixes go ahead, the endpoint is
named as unverified, and an event about an unreadable endpoint is ignored, never retried."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from azure.core.exceptions import ResourceNotFoundError
from azure.functions.queue import QueueMessage
from azure.storage.queue import QueueClient

from localdev.estate import OPENAI_ZONE, Estate, account_id
from remediation.core.ids import parse_account_id
from remediation.core.model import Trigger
from remediation.store.storage import POISON_QUEUE
from tests.conftest import Stack
from tests.helpers.live import Live

AOAI = account_id("aoai-prod")
# Another tenant's endpoint, in a subscription and resource group the app holds no role on: anyone can
# request a connection to an account whose ID they know (a manual request lands as Pending).
FOREIGN_PE = ("/subscriptions/99999999-9999-9999-9999-999999999999/resourceGroups/rg-theirs/providers"
              "/Microsoft.Network/privateEndpoints/pe-to-your-openai")
# Another team's endpoint in the subscription of the allowed subnet, in a resource group the app may not read.
NEIGHBOUR_PE = ("/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-theirs/providers"
                "/Microsoft.Network/privateEndpoints/pe-to-your-openai")


def _with_foreign_connection(status: str, endpoint: str = FOREIGN_PE) -> Estate:
    estate = Estate().network((OPENAI_ZONE,)).locked("aoai-prod", public_network_access="Enabled")
    account = next(r for r in estate.resources if r["id"] == AOAI)
    account["properties"]["privateEndpointConnections"] = [{
        "name": "pe-to-your-openai.0c9b",
        "properties": {"privateEndpoint": {"id": endpoint},
                       "privateLinkServiceConnectionState": {"status": status, "description": "please"}}}]
    return estate


@pytest.mark.parametrize("status", ["Pending", "Approved"])
def test_an_unreadable_endpoint_does_not_stop_the_accounts_own_fix(stack: Stack, status: str) -> None:
    stack.seed(_with_foreign_connection(status, NEIGHBOUR_PE))
    remediator = stack.remediator()

    record = remediator.reconcile(parse_account_id(AOAI), Trigger.HTTP).record

    assert stack.resource(AOAI)["properties"]["publicNetworkAccess"] == "Disabled"
    assert record.outcome.value == "remediated", record.error
    assert record.error is not None and "unverified" in record.error and NEIGHBOUR_PE in record.error
    assert "AuthorizationFailed" in record.error
    # never approved, never written: the app does not act on what it cannot see
    assert not any("pe-to-your-openai" in w.path for w in stack.writes())


@pytest.mark.parametrize("status", ["Pending", "Approved"])
def test_an_endpoint_in_another_subscription_is_never_read(stack: Stack, status: str) -> None:
    """An endpoint sits in its VNet's subscription (learn.microsoft.com private-endpoint-overview), so one in a
    subscription no allowed subnet is in cannot serve: a stranger's connection request costs no read."""
    stack.seed(_with_foreign_connection(status))
    remediator = stack.remediator()

    record = remediator.reconcile(parse_account_id(AOAI), Trigger.HTTP).record

    assert stack.resource(AOAI)["properties"]["publicNetworkAccess"] == "Disabled"
    assert record.outcome.value == "remediated", record.error
    assert not any("pe-to-your-openai" in r.path for r in stack.arm())
    # never approved, never written: the app does not act on what it cannot see
    assert not any("pe-to-your-openai" in w.path for w in stack.writes())
    foreign = next(c for c in stack.resource(AOAI)["properties"]["privateEndpointConnections"]
                   if c["name"] == "pe-to-your-openai.0c9b")
    assert foreign["properties"]["privateLinkServiceConnectionState"]["status"] == status


def test_an_event_about_an_unreadable_endpoint_is_ignored_and_never_retried(stack: Stack) -> None:
    stack.seed(_with_foreign_connection("Pending"))
    live = Live(stack)
    try:
        poison = QueueClient.from_connection_string(stack.azurite.connection_string, POISON_QUEUE)
        before = _poisoned(poison)
        item = json.dumps({"kind": "private-endpoint", "resource_id": FOREIGN_PE, "trigger": "event",
                           "event": {"id": "e-foreign", "type": "Microsoft.Resources.ResourceWriteSuccess"}})
        live.app.process_work_item(QueueMessage(id="m1", body=item.encode(), dequeue_count=1))  # does not raise
        assert _poisoned(poison) == before
        assert stack.writes() == []
        assert live.history() == [], "no reconcile: the endpoint names no account the app can tell"
    finally:
        live.close()


def _poisoned(queue: Any) -> list[str]:
    try:
        return [base64.b64decode(m.content).decode() for m in queue.peek_messages(max_messages=32)]
    except ResourceNotFoundError:
        return []
