"""The audit record: one per reconcile, the same JSON in the log, the table, the topic and the HTTP answer.

Bounded (`bounds.bounded`: long lists cut to their first entries plus a count), so it always fits a Table row.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from remediation.core.attribution import ACTOR_FIELDS
from remediation.core.bounds import bounded
from remediation.core.model import Mode, Outcome, Trigger

# Fields copied into `actor` and `event`; everything else (claim sets, authorization evidence, request
# URLs) stays out of logs and records, whatever a caller passes in.
EVENT_FIELDS = ("id", "type", "time", "operationName", "correlationId")


def utc_now() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class AuditRecord:
    resource_id: str
    trigger: Trigger
    mode: Mode
    outcome: Outcome
    kind: str | None = None
    event: Mapping[str, Any] | None = None
    actor: Mapping[str, Any] | None = None
    actors: list[dict[str, Any]] | None = None  # actors.actors_json(): every event folded in, oldest first
    findings: list[dict[str, Any]] = field(default_factory=list)
    actions: list[dict[str, Any]] = field(default_factory=list)
    before: Mapping[str, Any] | None = None
    after: Mapping[str, Any] | None = None
    duration_ms: int = 0
    event_to_fix_ms: int | None = None
    event_to_closed_ms: int | None = None  # from the drift event to the close-first write's success
    error: str | None = None
    error_kind: str | None = None  # verdict.Failure value: why Resource Manager or the app could not do the job
    exemption: Mapping[str, Any] | None = None  # desired.Exemption.to_json(): exempt, or why the tag does not exempt
    contest: Mapping[str, Any] | None = None  # breaker.Contest.to_json(): fixes in the last hour, next fix, alert
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    time: datetime = field(default_factory=utc_now)

    def to_json(self) -> dict[str, Any]:
        """The record as the log, the table, the topic and the HTTP answer carry it: bounded."""
        return bounded(self._json())

    def _json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "time": iso(self.time),
            "resourceId": self.resource_id,
            "kind": self.kind,
            "trigger": self.trigger.value,
            "mode": self.mode.value,
            "event": {k: v for k, v in self.event.items() if k in EVENT_FIELDS} if self.event else None,
            "actor": {k: v for k, v in self.actor.items() if k in ACTOR_FIELDS} if self.actor else None,
            "actors": self.actors,
            "outcome": self.outcome.value,
            "findings": self.findings,
            "actions": self.actions,
            "before": self.before,
            "after": self.after,
            "durationMs": self.duration_ms,
            "eventToFixMs": self.event_to_fix_ms,
            "eventToClosedMs": self.event_to_closed_ms,
            "error": self.error,
            "errorKind": self.error_kind,
            "exemption": self.exemption,
            "contest": self.contest,
        }



EVENT_TYPE_PREFIX = "OpenAIPrivateNetwork.Remediation"
_PUBLISHED = {"remediated": "AccountRemediated", "failed": "RemediationFailed", "contested": "Contested"}
EXEMPT_DRIFTED = "ExemptAccountDrifted"  # an exempt account with findings: nothing was written, someone should look


def published_type(record: dict[str, Any]) -> str | None:
    """The event type a record is published as, or None (compliant, report-only, exempt without drift…)."""
    if record["outcome"] == "exempt":
        return EXEMPT_DRIFTED if record.get("findings") else None
    if record["outcome"] == "contested":  # the alert once per episode; the episode's later fixes as fixes
        if (record.get("contest") or {}).get("firstOfEpisode"):
            return _PUBLISHED["contested"]
        return _PUBLISHED["remediated"] if wrote(record) else None
    return _PUBLISHED.get(record["outcome"])


def wrote(record: Mapping[str, Any]) -> bool:
    """Whether any of the record's actions was written (a record read back from the table is not trusted)."""
    actions = record.get("actions")
    return isinstance(actions, list) and any(isinstance(a, Mapping) and a.get("status") == "succeeded"
                                             for a in actions)


