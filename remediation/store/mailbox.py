"""The events waiting for an account's next reconcile: rows in the audit table, one partition per account.

Called by `intake.EventIntake` (an event about an account, or about an endpoint the serving index knows, is
posted as it arrives) and by `worker.Worker` (an item posted nowhere yet is posted once mapped to its account;
the lease holder reads the account's events before its reconcile reads the account, hands them to the record
as `actors`, and marks them taken once the record is written and the outcome settled).

The app, not the sender, orders them: a row's key starts with the time the app received the event (its own
clock), so the oldest waiting events are the ones that arrived first, whatever `eventTime` a sender claims, and
no backlog of old-dated events can push a new one out of sight. Whether an item's event was folded into another
reconcile is its own row's say alone: `taken` by a settled reconcile that listed the row before it read the
account, so after the event arrived. A row waiting longer than RETENTION (no item of it can still be alive) is
not listed, and is purged with the taken ones.

Best-effort on purpose: when the table cannot be read or written, a reconcile records its own event only, and an
item whose row cannot be read is reconciled.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from remediation.core.attribution import FoldedEvent, oldest_first
from remediation.core.ids import ResourceId
from remediation.core.triage import MAX_EVENT_AGE, MAX_EVENT_LEAD
from remediation.store.queue import MAILBOX_ROW, WorkItem
from remediation.store.storage import Storage, table_key

log = logging.getLogger("remediation.events")

MAX_PENDING = 50  # events one reconcile folds in; the rest wait for the next one
RETENTION_MS = int(MAX_EVENT_AGE.total_seconds() * 1000)  # as long as Event Grid retries, and an hour more
_LEAD_MS = int(MAX_EVENT_LEAD.total_seconds() * 1000)  # another instance's clock may run this far ahead
_PURGE = 100  # rows past RETENTION deleted per reconcile
WAITING, TAKEN = "waiting", "taken"


def _partition(account_id: ResourceId) -> str:
    return f"events-{table_key(account_id)}"


def _stamp(ms: int) -> str:
    return f"{ms:015d}"


def row_key(arrived_ms: int, event: FoldedEvent) -> str:
    """Arrival first (the order the mailbox lists), then the event's ID: one event posted twice at once is one row."""
    return f"{_stamp(arrived_ms)}-{hashlib.sha256(event.event_id.encode()).hexdigest()[:24]}"


def now_ms() -> int:
    return int(time.time() * 1000)


@dataclass(frozen=True)
class Waiting:
    """The events waiting for a reconcile of the account, oldest arrival first, and their rows."""

    events: list[FoldedEvent] = field(default_factory=list)
    rows: list[str] = field(default_factory=list)


class Mailbox:
    def __init__(self, storage: Storage) -> None:
        self._storage = storage

    def post(self, account_id: ResourceId, event: FoldedEvent, arrived_ms: int) -> str | None:
        """The event's row once it waits in the account's partition; None when it could not be written."""
        key = row_key(arrived_ms, event)
        try:
            self._storage.audit_table().upsert_entity({
                "PartitionKey": _partition(account_id), "RowKey": key, "state": WAITING,
                "event": json.dumps(event.to_json())[:30_000]})
        except Exception as error:  # noqa: BLE001 - folding only improves the record
            log.warning("could not note event %s for %s: %s", event.event_id, account_id, type(error).__name__)
            return None
        return key

    def posted(self, account_id: ResourceId, item: WorkItem) -> WorkItem:
        """The item, marked with the account and the row its event waits in (as it was when it carries no event
        or the post failed)."""
        event = item.folded_event()
        if event is None:
            return item
        arrived = min(item.arrived or now_ms(), now_ms())
        key = self.post(account_id, event, arrived)
        return item if key is None else replace(item, posted=str(account_id), row=key, arrived=arrived)

    def taken_by(self, account_id: ResourceId, row: str) -> str | None:
        """The record of the settled reconcile that took this row (it listed the row before it read the account);
        None while it waits, when it is gone or cannot be read: then the item is reconciled."""
        from azure.core.exceptions import ResourceNotFoundError

        try:
            entity = self._storage.audit_table().get_entity(_partition(account_id), row)
        except ResourceNotFoundError:
            return None
        except Exception as error:  # noqa: BLE001 - the table is down: reconcile
            log.warning("could not read event row %s of %s: %s", row, account_id, type(error).__name__)
            return None
        if entity.get("state") != TAKEN:
            return None
        return str(entity.get("takenBy") or "an earlier reconcile")[:100]

    def pending(self, account_id: ResourceId) -> Waiting | None:
        """The account's waiting events that arrived within RETENTION, by arrival (at most MAX_PENDING); None when
        they cannot be read."""
        now = now_ms()
        try:
            rows = self._storage.audit_table().query_entities(
                "PartitionKey eq @pk and RowKey ge @low and RowKey lt @high and state eq @waiting",
                parameters={"pk": _partition(account_id), "low": _stamp(now - RETENTION_MS),
                            "high": _stamp(now + _LEAD_MS + 1), "waiting": WAITING},
                results_per_page=MAX_PENDING)
            waiting = Waiting()
            for row in rows:
                found = _parse(row.get("event"))
                if found is not None and MAILBOX_ROW.fullmatch(str(row.get("RowKey"))):
                    waiting.events.append(found)
                    waiting.rows.append(str(row["RowKey"]))
                if len(waiting.rows) >= MAX_PENDING:
                    break
        except Exception as error:  # noqa: BLE001
            log.warning("could not read the events waiting for %s: %s", account_id, type(error).__name__)
            return None
        return Waiting(oldest_first(waiting.events), waiting.rows)

    def take(self, account_id: ResourceId, rows: Sequence[str], record_id: str) -> None:
        """Mark rows taken once a settled record names their events, then purge rows past RETENTION."""
        from azure.core.exceptions import ResourceNotFoundError
        from azure.data.tables import UpdateMode

        table = self._storage.audit_table()
        for row in dict.fromkeys(rows):
            try:
                table.update_entity({"PartitionKey": _partition(account_id), "RowKey": row, "state": TAKEN,
                                     "takenBy": record_id}, mode=UpdateMode.MERGE)
            except ResourceNotFoundError:
                pass  # purged meanwhile: its item, if any is left, is reconciled
            except Exception as error:  # noqa: BLE001 - left for the next reconcile, which lists it again
                log.warning("could not mark event row %s of %s taken: %s", row, account_id, type(error).__name__)
                return
        self._purge(account_id)

    def _purge(self, account_id: ResourceId) -> None:
        """Delete up to _PURGE rows that arrived before RETENTION: taken long ago, or orphans (an item lost)."""
        table = self._storage.audit_table()
        try:
            old = table.query_entities("PartitionKey eq @pk and RowKey lt @low", select=["PartitionKey", "RowKey"],
                                       parameters={"pk": _partition(account_id),
                                                   "low": _stamp(now_ms() - RETENTION_MS)},
                                       results_per_page=_PURGE)
            for count, entity in enumerate(old):
                if count >= _PURGE:
                    break
                table.delete_entity(entity["PartitionKey"], entity["RowKey"])
        except Exception as error:  # noqa: BLE001 - the next reconcile purges them
            log.warning("could not purge old event rows of %s: %s", account_id, type(error).__name__)


def _parse(text: Any) -> FoldedEvent | None:
    try:
        data = json.loads(text) if isinstance(text, str) else None
    except ValueError:
        return None
    return FoldedEvent.from_json(data) if isinstance(data, dict) else None
