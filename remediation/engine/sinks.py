"""Where each audit record goes: a telemetry line in the log, the audit table and, when a topic is configured, an
Event Grid event. Called by `reconcile.Remediator` once per reconcile, and by the sweep.

The log gets the record's bounded summary (`telemetry.reconcile_line`: outcome, account, findings, actions, actor,
times, error kind), never the record itself, which can be ten times what Application Insights keeps of a message;
the whole record goes to the table. The log line is written first, so the summary survives an unreachable table; a
sink that fails is reported (logged as an error and returned to the caller), never swallowed.
"""

from __future__ import annotations

import logging
from typing import Any, Protocol

from remediation.core.record import EVENT_TYPE_PREFIX, AuditRecord, published_type
from remediation.core.telemetry import reconcile_line

log = logging.getLogger("remediation.audit")


class AuditSink(Protocol):
    name: str

    def write(self, record: dict[str, Any]) -> None: ...


class LogSink:
    """One telemetry line per record, from the thread that reconciled (the invocation's own: the Functions host
    drops a log line that carries no invocation ID)."""

    name = "log"

    def write(self, record: dict[str, Any]) -> None:
        log.info("%s", reconcile_line(record))


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
