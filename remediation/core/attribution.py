"""Who changed what, when several events fold into one reconcile. Pure.

Events about one account arrive in bursts (a person's change, a pipeline's, Event Grid's duplicates), and the
reconcile that runs first sees every change made before its read. Its record lists each event's actor and
operation, oldest first (`actors`), and marks a finding with the index of the one actor whose change can have
produced it (`causedBy`), where the events' operations and resources tell: deleting an endpoint cannot turn
public access on, and changing the account cannot delete a DNS zone. ARM events carry no properties, so two
writes to the account itself cannot be told apart: such a finding gets no mark rather than a guess.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from remediation.core.ids import fold
from remediation.core.operations import can_cause
from remediation.core.triage import parse_event_time

ACTOR_FIELDS = ("name", "upn", "appId", "objectId", "ipAddress")

@dataclass(frozen=True)
class FoldedEvent:
    """One event a reconcile accounts for: its ID, time, operation, the resource it named and its actor."""

    event_id: str
    time: str | None
    operation: str | None
    resource_id: str  # the account, endpoint or zone the event was about (the work item's target)
    actor: Mapping[str, Any] | None

    def to_json(self) -> dict[str, Any]:
        return {"eventId": self.event_id, "time": self.time, "operationName": self.operation,
                "resourceId": self.resource_id, "actor": dict(self.actor) if self.actor else None}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> FoldedEvent | None:
        """None for anything that is not a well-formed entry (the table row is read back, not trusted)."""
        actor = data.get("actor")
        if not isinstance(data.get("eventId"), str) or not isinstance(data.get("resourceId"), str):
            return None
        if actor is not None and not isinstance(actor, Mapping):
            return None
        return cls(data["eventId"][:256], _text(data.get("time")), _text(data.get("operationName")),
                   data["resourceId"][:2048], actor)


def _text(value: Any) -> str | None:
    return value[:256] if isinstance(value, str) else None


def oldest_first(events: Sequence[FoldedEvent]) -> list[FoldedEvent]:
    """Each event once (by ID), oldest first; events without a readable time keep their place at the end."""
    unique = list({event.event_id: event for event in events}.values())
    return sorted(unique, key=lambda e: (_sort_time(e), e.event_id))


def _sort_time(event: FoldedEvent) -> str:
    moment = parse_event_time(event.time)
    return moment.isoformat() if moment else "~"  # after every ISO time


def actors_json(events: Sequence[FoldedEvent]) -> list[dict[str, Any]]:
    """The record's `actors`: each event's actor (the five claim fields) and operation, oldest first."""
    return [{**{k: (e.actor or {}).get(k) for k in ACTOR_FIELDS}, "operationName": e.operation, "eventId": e.event_id,
             "time": e.time} for e in events]


def attribute(findings: Sequence[Mapping[str, Any]], events: Sequence[FoldedEvent]) -> list[dict[str, Any]]:
    """The findings, each marked `causedBy` (an index into `events`) when exactly one event can have produced it."""
    marked = []
    for finding in findings:
        candidates = [i for i, event in enumerate(events) if _can_cause(event, finding)]
        marked.append({**finding, "causedBy": candidates[0]} if len(candidates) == 1 else dict(finding))
    return marked


def _can_cause(event: FoldedEvent, finding: Mapping[str, Any]) -> bool:
    """Whether the event's change can have produced the finding. Every folded event concerns the account (it was
    mapped to it), so a finding about the account itself needs only the right kind of operation; a finding about
    another resource also needs the event to have named it, or one containing it, or one inside it."""
    if not can_cause(event.operation, str(finding.get("code"))):  # the operations table says what each can do
        return False
    target = finding.get("target")
    if not target:
        return True
    named, about = fold(str(target)), fold(event.resource_id)
    return named == about or named.startswith(about + "/") or about.startswith(named + "/")
