"""The audit record and where it goes: a JSON log line, a row in the audit table and, when a topic is
configured, an Event Grid event. Called by `service.Remediator` once per reconcile, and by the sweep.

The log line is written first and whole, so a record survives an unreachable table; a sink that
fails is reported (logged as an error and returned to the caller), never swallowed. Every record is bounded
(`bounds.bounded`: long lists cut to their first entries plus a count), so it always fits a Table row.
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from .actors import ACTOR_FIELDS
from .bounds import bounded
from .ids import ResourceId
from .model import Mode, Outcome, Trigger
from .storage import Storage, table_key

log = logging.getLogger("remediation.audit")

_MAX_PROPERTY_CHARS = 30_000  # a Table string property holds 32K UTF-16 characters
_MAX_TOP = 100
_MAX_UNWRITTEN = 1000

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
    error: str | None = None
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
            "error": self.error,
            "exemption": self.exemption,
            "contest": self.contest,
        }


class AuditSink(Protocol):
    name: str

    def write(self, record: dict[str, Any]) -> None: ...


class LogSink:
    name = "log"

    def write(self, record: dict[str, Any]) -> None:
        log.info(json.dumps(record, sort_keys=False, default=str))


def _row_key(record: dict[str, Any]) -> str:
    # Inverted milliseconds: the Table sorts rows ascending, so the newest record comes first.
    moment = datetime.fromisoformat(record["time"].replace("Z", "+00:00"))
    inverted = 10**13 - int(moment.timestamp() * 1000)
    return f"{inverted:013d}-{record['id']}"


def _record_text(entity: Mapping[str, Any]) -> str:
    return "".join(entity.get(f"record{i}", "") for i in range(int(entity.get("chunks", 0))))


class AuditTable:
    """Audit rows in Azure Table storage (Azurite locally), one partition per account: written as a sink,
    read for an account's history and by the circuit breaker."""

    name = "table"

    def __init__(self, storage: Storage) -> None:
        self._storage = storage
        # Records the table could not take yet (it was unreachable), oldest first, written after the next
        # record that gets through; every one this buffer lets go of is logged (the log line has it whole).
        self._unwritten: deque[dict[str, Any]] = deque()
        self._max_unwritten = _MAX_UNWRITTEN
        self._lock = threading.Lock()

    def _table(self) -> Any:
        return self._storage.audit_table()

    def write(self, record: dict[str, Any]) -> None:
        """The current record first, then the backlog, best-effort: one record the table refuses (or an old one
        it still cannot take) never holds up the ones after it. Raises only when the current record could not be
        written and is kept for later; a record the table refuses for good is dropped with one error log."""
        with self._lock:
            try:
                self._upsert(record)
            except Exception as error:
                if refused_for_good(error):
                    _log_refused(record, error)
                    return
                self._keep(record)
                raise
            self._write_backlog()

    def _keep(self, record: dict[str, Any]) -> None:
        while len(self._unwritten) >= self._max_unwritten:
            dropped = self._unwritten.popleft()
            log.error("audit record %s (%s, %s, %s) dropped from the unwritten-records buffer (%d records while the "
                      "table is unreachable); it is whole in its log line", dropped.get("id"),
                      dropped.get("resourceId"), dropped.get("outcome"), dropped.get("time"), self._max_unwritten)
        self._unwritten.append(record)

    def _write_backlog(self) -> None:
        while self._unwritten:
            record = self._unwritten[0]
            try:
                self._upsert(record)
            except Exception as error:  # noqa: BLE001 - the backlog is best-effort; the log has every record
                if not refused_for_good(error):
                    return  # still not taking records: keep the rest for the next write
                _log_refused(record, error)
            self._unwritten.popleft()

    def _upsert(self, record: dict[str, Any]) -> None:
        text = json.dumps(record, default=str)
        entity: dict[str, Any] = {
            "PartitionKey": table_key(record["resourceId"]),
            "RowKey": _row_key(record),
            "resourceId": record["resourceId"],
            "outcome": record["outcome"],
            "trigger": record["trigger"],
            "recordTime": record["time"],
            "chunks": 0,
        }
        for index in range(0, max(len(text), 1), _MAX_PROPERTY_CHARS):
            entity[f"record{index // _MAX_PROPERTY_CHARS}"] = text[index:index + _MAX_PROPERTY_CHARS]
            entity["chunks"] += 1
        self._table().upsert_entity(entity)

    @property
    def unwritten(self) -> int:
        return len(self._unwritten)

    def since(self, resource_id: ResourceId, moment: datetime) -> list[dict[str, Any]]:
        """The account's records written after `moment`, newest first (row keys sort newest first)."""
        bound = f"{10**13 - int(moment.timestamp() * 1000):013d}"
        query = self._table().query_entities("PartitionKey eq @pk and RowKey lt @rk",
                                             parameters={"pk": table_key(str(resource_id)), "rk": bound})
        return [json.loads(_record_text(entity)) for entity in query]

    def history(self, resource_id: ResourceId, top: int) -> list[dict[str, Any]]:
        """The account's records, newest first."""
        query = self._table().query_entities(
            "PartitionKey eq @pk", parameters={"pk": table_key(str(resource_id))},
            results_per_page=min(top, _MAX_TOP))
        records: list[dict[str, Any]] = []
        for entity in query:
            records.append(json.loads(_record_text(entity)))
            if len(records) >= top:
                break
        return records


def refused_for_good(error: BaseException) -> bool:
    """The table answered that it will never take this entity (too large, a property too long, invalid input):
    400 or 413. Anything else (no connection, 5xx, 429, 403 while a role assignment propagates) may pass."""
    status = getattr(error, "status_code", None)
    return status in (400, 413)


def _log_refused(record: dict[str, Any], error: BaseException) -> None:
    first_line = str(error).splitlines()[0] if str(error) else type(error).__name__
    log.error("audit record %s for %s refused by the table for good and dropped (%s); it is whole in its log line",
              record.get("id"), record.get("resourceId"), first_line[:300])


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


class EventGridSink:
    """One event per remediation on REMEDIATION_EVENTGRID_TOPIC_ENDPOINT (Entra ID auth, no keys)."""

    name = "eventgrid"

    def __init__(self, endpoint: str, credential_factory: Any) -> None:
        self._endpoint = endpoint
        self._credential_factory = credential_factory
        self._client: Any = None

    def write(self, record: dict[str, Any]) -> None:
        kind = published_type(record)
        if kind is None:
            return
        from azure.eventgrid import EventGridEvent, EventGridPublisherClient

        if self._client is None:
            self._client = EventGridPublisherClient(self._endpoint, self._credential_factory())
        self._client.send(EventGridEvent(subject=record["resourceId"], event_type=f"{EVENT_TYPE_PREFIX}.{kind}",
                                         data=record, data_version="1.0", id=record["id"]))


class Auditor:
    """Sends each record to every sink; the log sink always goes first."""

    def __init__(self, sinks: list[AuditSink]) -> None:
        self.sinks = sinks

    def record(self, record: AuditRecord) -> list[str]:
        """Write the record everywhere; returns one message per sink that failed."""
        data = record.to_json()
        errors = []
        for sink in self.sinks:
            try:
                sink.write(data)
            except Exception as error:  # noqa: BLE001 - reported below and to the caller
                message = f"audit {sink.name} write failed for record {record.id}: {type(error).__name__}: " \
                          f"{str(error).splitlines()[0] if str(error) else ''}"[:500]
                log.error(message)
                errors.append(message)
        return errors
