"""Which accounts does a resource serve? An event about an endpoint or a DNS zone, mapped to its accounts.

Called by `worker.Worker` for every work item, and by `service.Remediator` after each reconcile to
remember what serves the account. Like a controller's owner references: a live private endpoint names
the account in its own connections; a deleted endpoint, and a deleted zone or link, are looked up in
what earlier reconciles recorded (rows in the audit table, apart from the audit records).
"""

from __future__ import annotations

import logging
from typing import Any

from remediation.arm.clients import NETWORK_API_VERSION, ArmClients, classify, describe
from remediation.core.arm_json import json_get
from remediation.core.ids import (
    ACCOUNT_TYPE,
    DNS_RECORD_TYPE,
    ResourceId,
    parse_resource_id,
    try_parse_resource_id,
    within_any,
)
from remediation.core.model import ErrorKind
from remediation.core.operations import TargetKind
from remediation.store.index import ServingIndex

log = logging.getLogger("remediation.events")

# What mapping a work item of each kind to its accounts reads from Resource Manager (granted by infra/roles.json:
# tests/infra/test_roles.py holds it). Zones and records are mapped through the serving index alone.
READS: dict[TargetKind, tuple[str, ...]] = {
    TargetKind.ACCOUNT: (),
    TargetKind.PRIVATE_ENDPOINT: ("Microsoft.Network/privateEndpoints/read",),
    TargetKind.DNS_ZONE: (),
    TargetKind.DNS_RECORD: (),
}


class Owners:
    """The managed accounts in scope that a work item's resource serves."""

    def __init__(self, clients: ArmClients, index: ServingIndex, scopes: tuple[ResourceId, ...]) -> None:
        self.clients = clients
        self.index = index
        self.scopes = scopes

    def accounts_for(self, kind: TargetKind | str, resource_id: str, deleted: bool = False) -> list[ResourceId]:
        """Raises ValueError for a malformed ID or kind (no retry can help), azure.core errors when a read fails."""
        rid = parse_resource_id(resource_id)
        found = {
            TargetKind.ACCOUNT: lambda: [rid],
            TargetKind.PRIVATE_ENDPOINT: lambda: self._accounts_of_endpoint(rid, deleted),
            TargetKind.DNS_ZONE: lambda: self.index.accounts_of_zone(rid),
            # An A record: the account named by it, in its zone.
            TargetKind.DNS_RECORD: lambda: (self.index.accounts_of_zone(rid.parent, rid.name)
                                            if rid.is_type(DNS_RECORD_TYPE) else []),
        }[TargetKind(kind)]()
        return [a for a in found if a.is_type(ACCOUNT_TYPE) and within_any(a, self.scopes)]

    def _accounts_of_endpoint(self, endpoint_id: ResourceId, deleted: bool) -> list[ResourceId]:
        body = None if deleted else self._read(endpoint_id)
        if body is not None:
            return [t for t in _link_targets(body) if t is not None]
        # Gone already, or not ours to read: what it served, as an earlier reconcile remembered it.
        account = self.index.account_of_endpoint(endpoint_id)
        return [account] if account else []

    def _read(self, endpoint_id: ResourceId) -> Any:
        """The endpoint; None when it is gone or the identity may not read it (another team's resource
        group: an event about it is not retried, it names no account the app can tell)."""
        from azure.core.exceptions import HttpResponseError

        try:
            return self.clients.find_json(endpoint_id, NETWORK_API_VERSION)
        except HttpResponseError as error:
            if classify(error) is not ErrorKind.FORBIDDEN:
                raise
            log.info("endpoint %s cannot be read (%s): mapped through the serving index only", endpoint_id,
                     describe(error))
            return None


def _link_targets(endpoint: Any) -> list[ResourceId | None]:
    links = [*(json_get(endpoint, "properties", "privateLinkServiceConnections") or []),
             *(json_get(endpoint, "properties", "manualPrivateLinkServiceConnections") or [])]
    return [try_parse_resource_id(json_get(link, "properties", "privateLinkServiceId")) for link in links]
