"""The events waiting for an account's next reconcile: rows in the audit table, one partition per account.

Called by `intake.EventIntake` (an event about an account, or about an endpoint the serving index knows, is
posted as it arrives) and by `worker.Worker` (an item posted nowhere yet is posted once mapped to its account;
the lease holder reads the account's events before its reconcile reads the account, hands them to the record
as `actors`, and takes them off once the record is written and the outcome settled). An item whose event was
taken off by another reconcile was covered by it: that reconcile read the account after the event's change.

Best-effort on purpose: when the table cannot be read or written, a reconcile records its own event only.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from remediation.core.attribution import FoldedEvent, oldest_first
from remediation.core.ids import ResourceId
from remediation.core.triage import parse_event_time
from remediation.store.queue import WorkItem
from remediation.store.storage import Storage, table_key

log = logging.getLogger("remediation.events")

MAX_PENDING = 50  # events one reconcile folds in; the rest wait for the next one


def _partition(account_id: ResourceId) -> str:
    return f"events-{table_key(account_id)}"


def _row(event: FoldedEvent) -> str:
    moment = parse_event_time(event.time)
    stamp = f"{int(moment.timestamp() * 1000):015d}" if moment else "9" * 15  # oldest first; no time: last
    return f"{stamp}-{hashlib.sha256(event.event_id.encode()).hexdigest()[:24]}"


class Mailbox:
    def __init__(self, storage: Storage) -> None:
        self._storage = storage

    def post(self, account_id: ResourceId, event: FoldedEvent) -> bool:
        """True once the event waits in the account's partition (the same event posted twice is one row)."""
        try:
            self._storage.audit_table().upsert_entity({
                "PartitionKey": _partition(account_id), "RowKey": _row(event),
                "event": json.dumps(event.to_json())[:30_000]})
        except Exception as error:  # noqa: BLE001 - folding only improves the record
            log.warning("could not note event %s for %s: %s", event.event_id, account_id, type(error).__name__)
            return False
        return True

    def posted(self, account_id: ResourceId, item: WorkItem) -> WorkItem:
        """The item, marked as posted to the account once its event waits there (as it was when it carries no
        event or the post failed)."""
        event = item.folded_event()
        if event is None or not self.post(account_id, event):
            return item
        return replace(item, posted=str(account_id))

    def pending(self, account_id: ResourceId) -> list[FoldedEvent] | None:
        """The account's waiting events, oldest first (at most MAX_PENDING); None when they cannot be read."""
        try:
            rows = self._storage.audit_table().query_entities(
                "PartitionKey eq @pk", parameters={"pk": _partition(account_id)}, results_per_page=MAX_PENDING)
            events = []
            for row in rows:
                found = _parse(row.get("event"))
                if found is not None:
                    events.append(found)
                if len(events) >= MAX_PENDING:
                    break
        except Exception as error:  # noqa: BLE001
            log.warning("could not read the events waiting for %s: %s", account_id, type(error).__name__)
            return None
        return oldest_first(events)

    def take(self, account_id: ResourceId, events: Sequence[FoldedEvent]) -> None:
        """Take events off once a settled record names them."""
        from azure.core.exceptions import ResourceNotFoundError

        table = self._storage.audit_table()
        for event in events:
            try:
                table.delete_entity(_partition(account_id), _row(event))
            except ResourceNotFoundError:
                pass  # taken by another reconcile already
            except Exception as error:  # noqa: BLE001 - left for the next reconcile, which lists it again
                log.warning("could not take event %s off for %s: %s", event.event_id, account_id,
                            type(error).__name__)
                return


def _parse(text: Any) -> FoldedEvent | None:
    try:
        data = json.loads(text) if isinstance(text, str) else None
    except ValueError:
        return None
    return FoldedEvent.from_json(data) if isinstance(data, dict) else None
