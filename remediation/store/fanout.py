"""How often an event about a shared resource (a private DNS zone, its links, a record) may fan out into a
reconcile of every account it serves: at most once per ZONE_FANOUT_SECONDS per resource, across instances.

Called by `worker.Worker` before it puts one work item per account. Anyone who can post an event can name a
zone that serves a thousand accounts; each event used to cost about five reads per account. Now:

- an event that arrived before the resource's last fan-out started is covered by it: that fan-out's items are
  reconciled after it started, so each reads the zone, its links and records after the event's change;
- an event that arrived later, within the window, waits for the window's end and fans out then (one of those
  waiting does; the rest arrived before it and are covered);
- otherwise it fans out now and stamps the resource's row.

A flood of forged zone events costs one fan-out per window; a genuine one waits at most a window for its DNS
repair (the account's own exposure never goes through here: account events map to one account). The row is
trusted within bounds only: a stamp that is not a number, or lies ahead of this clock by more than
CLOCK_SKEW_SECONDS, is ignored and logged. When the table cannot be read or written, the event fans out (fixing is
the job).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from remediation.core.ids import ResourceId
from remediation.store.storage import CLOCK_SKEW_SECONDS, Storage, row_moment, table_key

log = logging.getLogger("remediation.events")

ZONE_FANOUT_SECONDS = 60.0
_PARTITION = "fanout"


@dataclass(frozen=True)
class FanOut:
    """Put one work item per account now."""


@dataclass(frozen=True)
class Covered:
    """A fan-out that started after this event arrived covers it: nothing to do."""

    since: float  # when that fan-out started (seconds since 1970)


@dataclass(frozen=True)
class Wait:
    """Put the item back; it fans out (or is covered) once the window is over."""

    seconds: float


Admission = FanOut | Covered | Wait


def decide(last: float | None, arrived: float, now: float, interval: float) -> Admission:
    """Pure: `last` is when the resource last fanned out (None: never, or not trusted)."""
    if last is None:
        return FanOut()
    if arrived < last:
        return Covered(last)
    if now - last < interval:
        return Wait(min(max(last + interval - now, 1.0), interval))
    return FanOut()


class FanoutGate:
    def __init__(self, storage: Storage, clock: Callable[[], float] = time.time) -> None:
        self._storage = storage
        self._clock = clock

    def admit(self, resource_id: ResourceId, arrived_ms: int | None) -> Admission:
        """Whether the event about `resource_id` that arrived at `arrived_ms` fans out now (and if so, the
        resource's row says it did)."""
        from azure.core import MatchConditions
        from azure.core.exceptions import ResourceExistsError, ResourceModifiedError, ResourceNotFoundError

        now = self._clock()
        arrived = min(arrived_ms / 1000, now) if arrived_ms else now  # never later than now
        table, key = self._storage.audit_table(), table_key(resource_id)
        try:
            try:
                row = table.get_entity(_PARTITION, key)
            except ResourceNotFoundError:
                row = None
            admission = decide(self._last(resource_id, row), arrived, now, ZONE_FANOUT_SECONDS)
            if isinstance(admission, FanOut):
                stamp = {"PartitionKey": _PARTITION, "RowKey": key, "at": now, "resource": str(resource_id)}
                if row is None:
                    table.create_entity(stamp)
                else:
                    table.update_entity(stamp, etag=row.metadata["etag"], match_condition=MatchConditions.IfNotModified)
        except (ResourceExistsError, ResourceModifiedError):
            return Wait(1.0)  # another instance fanned out this moment: look again, and be covered by it
        except Exception as error:  # noqa: BLE001 - without the row the event fans out: fixing is the job
            log.warning("fan-out row of %s unreadable (%s); fanning out", resource_id, type(error).__name__)
            return FanOut()
        return admission

    def _last(self, resource_id: ResourceId, row: dict[str, object] | None) -> float | None:
        if row is None:
            return None
        last = row_moment(row.get("at"), self._clock() + CLOCK_SKEW_SECONDS)
        if last is None:
            log.warning("fan-out row of %s ignored: its time %.40r is not a time up to now", resource_id,
                        str(row.get("at")))
            return None
        return last
