"""Work items: what the queue carries is checked whole before the worker acts on any of it."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from remediation.work import MAX_ATTEMPTS, WorkItem

ACCOUNT = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/" \
          "Microsoft.CognitiveServices/accounts/a"


def test_round_trip() -> None:
    item = WorkItem("account", ACCOUNT, "event", {"id": "e1", "type": "t"}, {"upn": "dana@contoso.example"},
                    "2026-11-26T10:00:00Z", False, 2)
    assert WorkItem.from_message(item.to_message()) == item


@pytest.mark.parametrize("fields", [
    {"event": "oops"}, {"event": {"id": ["x"]}}, {"actor": [1]}, {"trigger": "bogus"}, {"attempt": True},
    {"attempt": -1}, {"attempt": MAX_ATTEMPTS + 1}, {"attempt": 10**100}, {"deleted": "yes"}, {"event_time": 5},
    {"unknown": 1, "kind": None},
])
def test_hostile_fields_are_refused(fields: dict) -> None:
    with pytest.raises(ValueError):
        WorkItem.from_message(json.dumps({"kind": "account", "resource_id": ACCOUNT, **fields}))


@given(st.binary(max_size=200) | st.text(max_size=200))
def test_from_message_raises_only_value_error(text: object) -> None:
    try:
        WorkItem.from_message(text if isinstance(text, str) else text.decode("utf-8", "replace"))
    except ValueError:
        pass
