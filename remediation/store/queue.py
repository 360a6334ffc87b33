"""Work items on the `remediation-work` queue: what to reconcile, why, and how often it was tried.

The Event Grid trigger only triages and enqueues (Event Grid resends a batch that takes over 30 s);
`process_work_item` does the reconcile. A busy account is put back with a delay instead of failing
the message, and an item that keeps failing lands on the poison queue together with its record.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, replace
from typing import Any

from remediation.core.attribution import FoldedEvent
from remediation.core.ids import ResourceId, parse_resource_id, try_parse_resource_id
from remediation.core.model import Trigger
from remediation.core.operations import TargetKind
from remediation.core.retry import MAX_ATTEMPTS, MAX_BACKOFF
from remediation.store.storage import POISON_QUEUE, WORK_QUEUE, Storage

_TRIGGERS = {trigger.value for trigger in Trigger}
_MAX_MESSAGE_CHARS = 48_000  # a queue message holds 64 KiB; base64 takes a third more
MAILBOX_ROW = re.compile(r"[0-9]{15}-[0-9a-f]{24}")  # mailbox.py's row keys: arrival, then the event ID's hash


@dataclass(frozen=True)
class WorkItem:
    kind: TargetKind  # what the resource is: the worker maps it to the accounts it serves
    resource_id: str
    trigger: Trigger = Trigger.EVENT
    event: dict[str, Any] | None = None  # the audit record's `event` (id, type, time, operationName, correlationId)
    actor: dict[str, Any] | None = None
    event_time: str | None = None
    deleted: bool = False
    attempt: int = 0
    posted: str | None = None  # the account whose waiting events (mailbox.py) hold this item's event
    row: str | None = None  # the row of this item's event there: it alone says whether a reconcile took it
    arrived: int | None = None  # when the app received the item's event (ms since 1970, its own clock)

    def __post_init__(self) -> None:
        # Parsed into the enums once, here: a value outside them (a hostile message) is a malformed item.
        try:
            object.__setattr__(self, "kind", TargetKind(self.kind))
            object.__setattr__(self, "trigger", Trigger(self.trigger))
        except (ValueError, TypeError):
            raise ValueError(f"kind must be one of {', '.join(k.value for k in TargetKind)} and trigger one of "
                             f"{', '.join(sorted(_TRIGGERS))}") from None

    def folded_event(self) -> FoldedEvent | None:
        """This item's event as a reconcile accounts for it; None for sweep and HTTP items."""
        event = self.event or {}
        if not isinstance(event.get("id"), str):
            return None
        return FoldedEvent(event["id"], event.get("time"), event.get("operationName"), self.resource_id, self.actor)

    def posted_for(self, account_id: ResourceId) -> bool:
        """Whether this item's event already waits in that account's events."""
        return self.posted is not None and parse_resource_id(self.posted) == account_id

    def with_attempt(self, attempt: int) -> WorkItem:
        return replace(self, attempt=attempt)

    def to_message(self) -> str:
        data = {k: v.value if isinstance(v, (TargetKind, Trigger)) else v for k, v in asdict(self).items()
                if v not in (None, False, 0) or k in ("kind", "resource_id")}
        text = json.dumps(data, separators=(",", ":"))
        if len(text) > _MAX_MESSAGE_CHARS:
            raise ValueError("work item too large for a queue message")
        return text

    @classmethod
    def from_message(cls, text: str) -> WorkItem:
        """Parse a queue message; raises ValueError naming what is wrong."""
        try:
            data = json.loads(text)
        except (ValueError, RecursionError):
            raise ValueError("the message is not JSON") from None
        if not isinstance(data, dict) or not isinstance(data.get("kind"), str) \
                or not isinstance(data.get("resource_id"), str):
            raise ValueError("the message has no kind and resource_id")
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        try:
            item = cls(**known)
        except TypeError as error:
            raise ValueError(f"the message does not describe a work item: {error}") from None
        item._check()
        return item

    def _check(self) -> None:
        """Every field of the type the worker relies on: a hostile message fails here, not halfway through."""
        if type(self.attempt) is not int or not 0 <= self.attempt <= MAX_ATTEMPTS:
            raise ValueError(f"attempt must be a whole number from 0 to {MAX_ATTEMPTS}")
        if type(self.deleted) is not bool:
            raise ValueError("deleted must be true or false")
        for name in ("event", "actor"):
            value = getattr(self, name)
            if value is not None and not (isinstance(value, dict) and all(
                    isinstance(v, (str, type(None))) for v in value.values())):
                raise ValueError(f"{name} must be an object of strings")
        if self.event_time is not None and not isinstance(self.event_time, str):
            raise ValueError("event_time must be a string")
        if self.posted is not None and try_parse_resource_id(self.posted) is None:
            raise ValueError("posted must be a resource ID")
        if self.row is not None and not (isinstance(self.row, str) and MAILBOX_ROW.fullmatch(self.row)):
            raise ValueError("row must be a mailbox row key")
        if self.arrived is not None and (type(self.arrived) is not int or not 0 < self.arrived < 10**15):
            raise ValueError("arrived must be a time in milliseconds")


class WorkQueue:
    def __init__(self, storage: Storage) -> None:
        self._storage = storage

    def put(self, item: WorkItem, delay_seconds: float = 0) -> None:
        """Put the item on the queue, visible after `delay_seconds` (cut to MAX_BACKOFF: no wait the app asks
        Storage for is longer, whatever computed it)."""
        delay = int(min(delay_seconds, MAX_BACKOFF)) if delay_seconds == delay_seconds and delay_seconds > 0 else 0
        self._storage.queue(WORK_QUEUE).send_message(item.to_message(), visibility_timeout=delay or None)

    def poison(self, item: WorkItem | None, reason: str, record: dict[str, Any] | None = None,
               raw: str | None = None) -> None:
        """Give an item up: it goes to the poison queue with why, and the audit record if there is one."""
        body = {"reason": reason[:1000], "item": _bounded(item) if item else None,
                "message": raw[:4000] if raw and item is None else None, "record": record}
        text = json.dumps(body, default=str)
        if len(text) > _MAX_MESSAGE_CHARS:  # keep the reason and the item; the record is in the audit table
            body["record"] = {"id": (record or {}).get("id"), "outcome": (record or {}).get("outcome")}
            text = json.dumps(body, default=str)
        self._storage.queue(POISON_QUEUE).send_message(text)

    def lengths(self) -> tuple[int, int]:
        """The approximate message counts of the work and poison queues (Storage's own count, which may lag a
        little): no platform metric counts one queue's messages, so the sweep's heartbeat reports them."""
        work, poison = (self._storage.queue(name).get_queue_properties() for name in (WORK_QUEUE, POISON_QUEUE))
        return int(work.approximate_message_count), int(poison.approximate_message_count)


def _bounded(item: WorkItem) -> dict[str, Any]:
    """The item as JSON, cut down when a hostile one is too large to fit a message whole."""
    try:
        data: dict[str, Any] = json.loads(item.to_message())
        return data
    except ValueError:
        return {"kind": str(item.kind)[:100], "resource_id": str(item.resource_id)[:2048], "truncated": True}
