"""The serving index: which account each serving endpoint and DNS zone belongs to, as earlier reconciles saw
it (rows in the audit table, apart from the audit records). Like a controller's owner references: a deleted
endpoint, zone or link is mapped back to its accounts through it."""

from __future__ import annotations

from collections.abc import Iterable

from remediation.core.ids import ResourceId, try_parse_resource_id
from remediation.store.storage import Storage, table_key

_ENDPOINTS = "endpoint"  # partition: endpoint key -> the account it serves


class ServingIndex:
    """Remembers which account each serving endpoint and DNS zone belongs to."""

    def __init__(self, storage: Storage) -> None:
        self._storage = storage
        self._known: set[tuple[str, str]] = set()  # rows this process already wrote

    def remember(self, account_id: ResourceId, endpoints: Iterable[ResourceId], zones: Iterable[ResourceId],
                 record_name: str | None = None) -> None:
        """`record_name`: the account's custom subdomain, the name of its A record in each zone."""
        rows = [(_ENDPOINTS, table_key(e), {"endpoint": str(e)}) for e in endpoints]
        record = {"record": record_name.lower()} if record_name else {}
        rows += [(f"zone-{table_key(z)}", table_key(account_id), {"zone": str(z), **record}) for z in zones]
        for partition, row, extra in rows:
            if (partition, row) in self._known:
                continue
            self._storage.audit_table().upsert_entity(
                {"PartitionKey": partition, "RowKey": row, "account": str(account_id), **extra})
            self._known.add((partition, row))

    def account_of_endpoint(self, endpoint_id: ResourceId) -> ResourceId | None:
        from azure.core.exceptions import ResourceNotFoundError

        try:
            entity = self._storage.audit_table().get_entity(_ENDPOINTS, table_key(endpoint_id))
        except ResourceNotFoundError:
            return None
        return try_parse_resource_id(entity.get("account"))

    def accounts_of_zone(self, zone_id: ResourceId, record_name: str | None = None) -> list[ResourceId]:
        """The accounts a zone serves; with `record_name`, only the account whose A record that is (a row
        remembered before record names were kept could be any of them, so it is kept too)."""
        entities = self._storage.audit_table().query_entities(
            "PartitionKey eq @pk", parameters={"pk": f"zone-{table_key(zone_id)}"})
        accounts = (try_parse_resource_id(e.get("account")) for e in entities
                    if record_name is None or e.get("record") in (None, record_name.lower()))
        return sorted({a for a in accounts if a is not None}, key=lambda a: a.key)


