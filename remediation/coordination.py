"""Coordination rows in the audit table: one reconcile per account at a time, and which accounts an
endpoint or a DNS zone serves (so a delete event can be mapped back after the resource is gone).

Both live in their own partitions of `REMEDIATION_AUDIT_TABLE`, apart from the audit records.
"""

from __future__ import annotations

import hashlib
import time
from typing import Any, Callable, Iterable

from .ids import ResourceId, try_parse_resource_id
from .storage import Storage

_LOCKS = "lock"
_ENDPOINTS = "endpoint"


def _key(resource_id: ResourceId | str) -> str:
    return hashlib.sha256(str(resource_id).lower().encode()).hexdigest()[:40]


class AccountLocks:
    """A lease per account: a row that exists until it expires. Taking it is an insert (or a
    conditional update of an expired row), so two workers never both hold it while it lasts; it
    lasts longer than the host lets one function run."""

    def __init__(self, storage: Storage, ttl_seconds: float, clock: Callable[[], float] = time.time) -> None:
        self._storage = storage
        self._ttl = ttl_seconds
        self._clock = clock

    def _table(self) -> Any:
        return self._storage.table(self._storage.settings.audit_table)

    def acquire(self, account_id: ResourceId) -> Any | None:
        """A lease token, or None when another reconcile of this account is running."""
        from azure.core import MatchConditions
        from azure.core.exceptions import ResourceExistsError, ResourceModifiedError, ResourceNotFoundError
        from azure.data.tables import UpdateMode

        entity = {"PartitionKey": _LOCKS, "RowKey": _key(account_id), "account": str(account_id),
                  "expires": self._clock() + self._ttl}
        table = self._table()
        try:
            return table.create_entity(entity)
        except ResourceExistsError:
            pass
        try:
            current = table.get_entity(_LOCKS, _key(account_id))
            if float(current.get("expires", 0)) > self._clock():
                return None
            return table.update_entity(entity, mode=UpdateMode.REPLACE, etag=current.metadata["etag"],
                                       match_condition=MatchConditions.IfNotModified)
        except (ResourceModifiedError, ResourceNotFoundError):
            return None  # someone else took or released it in between: let them run

    def release(self, account_id: ResourceId, lease: Any) -> None:
        from azure.core import MatchConditions
        from azure.core.exceptions import ResourceModifiedError, ResourceNotFoundError

        try:
            self._table().delete_entity(_LOCKS, _key(account_id), etag=(lease or {}).get("etag"),
                                        match_condition=MatchConditions.IfNotModified)
        except (ResourceModifiedError, ResourceNotFoundError):
            pass  # expired and taken over: that holder releases it


class ServingIndex:
    """Remembers which account each serving endpoint and DNS zone belongs to."""

    def __init__(self, storage: Storage) -> None:
        self._storage = storage
        self._known: set[tuple[str, str]] = set()  # rows this process already wrote

    def _table(self) -> Any:
        return self._storage.table(self._storage.settings.audit_table)

    def remember(self, account_id: ResourceId, endpoints: Iterable[ResourceId], zones: Iterable[ResourceId]) -> None:
        rows = [(_ENDPOINTS, _key(e), {"endpoint": str(e)}) for e in endpoints]
        rows += [(f"zone-{_key(z)}", _key(account_id), {"zone": str(z)}) for z in zones]
        for partition, row, extra in rows:
            if (partition, row) in self._known:
                continue
            self._table().upsert_entity({"PartitionKey": partition, "RowKey": row, "account": str(account_id),
                                         **extra})
            self._known.add((partition, row))

    def account_of_endpoint(self, endpoint_id: ResourceId) -> ResourceId | None:
        from azure.core.exceptions import ResourceNotFoundError

        try:
            entity = self._table().get_entity(_ENDPOINTS, _key(endpoint_id))
        except ResourceNotFoundError:
            return None
        return try_parse_resource_id(entity.get("account"))

    def accounts_of_zone(self, zone_id: ResourceId) -> list[ResourceId]:
        entities = self._table().query_entities("PartitionKey eq @pk", parameters={"pk": f"zone-{_key(zone_id)}"})
        accounts = (try_parse_resource_id(e.get("account")) for e in entities)
        return sorted({a for a in accounts if a is not None}, key=lambda a: a.key)
