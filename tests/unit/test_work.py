"""Work items: what the queue carries is checked whole before the worker acts on any of it."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from remediation.store.queue import MAX_ATTEMPTS, WorkItem

ACCOUNT = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/" \
          "Microsoft.CognitiveServices/accounts/a"


def test_round_trip() -> None:
    item = WorkItem("account", ACCOUNT, "event", {"id": "e1", "type": "t"}, {"upn": "dana@contoso.example"},
                    "2026-11-26T10:00:00Z", False, 2)
    assert WorkItem.from_message(item.to_message()) == item


@pytest.mark.parametrize("fields, message", [
    ({"event": "oops"}, "event must be an object of strings"),
    ({"event": {"id": ["x"]}}, "event must be an object of strings"),
    ({"actor": [1]}, "actor must be an object of strings"),
    ({"trigger": "bogus"}, "trigger"),
    ({"attempt": True}, "attempt must be a whole number"),
    ({"attempt": -1}, "attempt must be a whole number"),
    ({"attempt": MAX_ATTEMPTS + 1}, "attempt must be a whole number"),
    ({"attempt": 10**100}, "attempt must be a whole number"),
    ({"deleted": "yes"}, "deleted must be true or false"),
    ({"event_time": 5}, "event_time must be a string"),
    ({"posted": 5}, "posted must be a resource ID"),
    ({"posted": "../accounts/a"}, "posted must be a resource ID"),
    ({"kind": None}, "the message has no kind and resource_id"),
])
def test_hostile_fields_are_refused(fields: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        WorkItem.from_message(json.dumps({"kind": "account", "resource_id": ACCOUNT, **fields}))


def test_unknown_fields_are_dropped_so_a_newer_item_still_runs() -> None:
    # Items written by a newer version may carry fields this one does not know: they are ignored, not refused.
    item = WorkItem.from_message(json.dumps({"kind": "account", "resource_id": ACCOUNT, "unknown": 1}))
    assert item == WorkItem("account", ACCOUNT)


@given(st.binary(max_size=200) | st.text(max_size=200))
def test_from_message_raises_only_value_error(text: object) -> None:
    try:
        WorkItem.from_message(text if isinstance(text, str) else text.decode("utf-8", "replace"))
    except ValueError:
        pass
