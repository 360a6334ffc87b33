"""The audit table: one partition per account, a row per record (written as a sink, read for an account's
history and by the circuit breaker). Records the table cannot take yet are kept and written later."""

from __future__ import annotations

import json
import logging
import threading
from collections import deque
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

from remediation.core.ids import ResourceId
from remediation.store.storage import Storage, table_key

log = logging.getLogger("remediation.audit")

_MAX_PROPERTY_CHARS = 30_000  # a Table string property holds 32K UTF-16 characters
_MAX_TOP = 100
_MAX_UNWRITTEN = 1000
_MAX_CHUNKS = 36  # an entity holds 1 MiB: at most 35 chunks of _MAX_PROPERTY_CHARS UTF-16 characters
MAX_SINCE = 1000  # rows the circuit breaker reads of one account's last hour (it needs a few)


def _row_key(record: dict[str, Any]) -> str:
    # Inverted milliseconds: the Table sorts rows ascending, so the newest record comes first.
    moment = datetime.fromisoformat(record["time"].replace("Z", "+00:00"))
    inverted = 10**13 - int(moment.timestamp() * 1000)
    return f"{inverted:013d}-{record['id']}"


def _record_text(entity: Mapping[str, Any]) -> str:
    chunks = min(int(entity.get("chunks", 0)), _MAX_CHUNKS)  # a forged count never makes a long loop
    return "".join(entity.get(f"record{i}", "") for i in range(chunks))


def _decoded(entity: Mapping[str, Any]) -> dict[str, Any] | None:
    """The row's record; None for a row that is not one (chunks missing or not text, JSON that is not an object)."""
    try:
        record = json.loads(_record_text(entity))
    except (ValueError, TypeError, RecursionError):
        return None
    return record if isinstance(record, dict) else None


class AuditTable:
    """Audit rows in Azure Table storage (Azurite locally), one partition per account: written as a sink,
    read for an account's history and by the circuit breaker."""

    name = "table"

    def __init__(self, storage: Storage) -> None:
        self._storage = storage
        # Records the table could not take yet (it was unreachable), oldest first, written after the next
        # record that gets through; every one this buffer lets go of is logged as an error. The log keeps only the
        # record's telemetry line (outcome, findings, actions, actor), not the record.
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
                      "table is unreachable); only its telemetry line (remediation.reconcile, same id) remains",
                      dropped.get("id"), dropped.get("resourceId"), dropped.get("outcome"), dropped.get("time"),
                      self._max_unwritten)
        self._unwritten.append(record)

    def _write_backlog(self) -> None:
        while self._unwritten:
            record = self._unwritten[0]
            try:
                self._upsert(record)
            except Exception as error:  # noqa: BLE001 - the backlog is best-effort; each record has its telemetry line
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

    def since(self, resource_id: ResourceId, moment: datetime, until: datetime | None = None) -> list[dict[str, Any]]:
        """The account's records filed after `moment` (and, with `until`, not after it), newest first (row keys
        sort newest first), at most MAX_SINCE of them; a row that does not decode is skipped and logged."""
        bound = f"{10**13 - int(moment.timestamp() * 1000):013d}"
        query, parameters = "PartitionKey eq @pk and RowKey lt @rk", {"pk": table_key(str(resource_id)), "rk": bound}
        if until is not None:
            query += " and RowKey ge @from"
            parameters["from"] = f"{10**13 - int(until.timestamp() * 1000):013d}"
        records, unreadable = [], 0
        for entity in self._table().query_entities(query, parameters=parameters, results_per_page=_MAX_TOP):
            record = _decoded(entity)
            if record is None:
                unreadable += 1
            else:
                records.append(record)
            if len(records) + unreadable >= MAX_SINCE:
                break
        if unreadable:
            log.warning("%d audit rows of %s do not decode; ignored", unreadable, resource_id)
        return records

    def records_since(self, moment: datetime) -> Iterator[dict[str, Any]]:
        """Every account's audit records written at or after `moment`, in the table's order (the table's other rows,
        leases and the serving index, have no recordTime and are not returned)."""
        since = moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        for entity in self._table().query_entities("recordTime ge @since", parameters={"since": since}):
            yield json.loads(_record_text(entity))

    def history(self, resource_id: ResourceId, top: int) -> list[dict[str, Any]]:
        """The account's records, newest first."""
        query = self._table().query_entities(
            "PartitionKey eq @pk", parameters={"pk": table_key(str(resource_id))},
            results_per_page=min(top, _MAX_TOP))
        records: list[dict[str, Any]] = []
        for entity in query:
            record = _decoded(entity)
            if record is not None:  # a row that is not a record (forged, or from elsewhere) is not history
                records.append(record)
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
    log.error("audit record %s for %s refused by the table for good and dropped (%s); only its telemetry line "
              "(remediation.reconcile, same id) remains", record.get("id"), record.get("resourceId"), first_line[:300])


