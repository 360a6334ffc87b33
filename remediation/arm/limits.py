"""Is a refused DNS write a zone at its limit? Reads only.

A private DNS zone holds at most 25,000 record sets and 1,000 virtual network links (learn.microsoft.com
azure/dns/private-dns-privatednszone, "Limits"). Azure publishes no answer for a write past those counts (searched:
research-locks-limits.md §2.2), so its code and message cannot tell such a refusal from a conflict worth waiting for.
The zone itself says: every zone GET reports `numberOfRecordSets` against `maxNumberOfRecordSets` and
`numberOfVirtualNetworkLinks` against `maxNumberOfVirtualNetworkLinks` (Azure PowerShell PrivateDns recordings, e.g.
TestGetLinkZoneNotExistsThrow.json). So a DNS write refused with a conflict is judged by one read of its zone.
"""

from __future__ import annotations

from typing import Any

from remediation.arm.clients import PRIVATE_DNS_API_VERSION, ArmClients, error_code
from remediation.core.arm_json import json_get
from remediation.core.ids import ResourceId, try_parse_resource_id
from remediation.core.model import ActionKind
from remediation.core.plan import Action

RECORD_SETS = ("numberOfRecordSets", "maxNumberOfRecordSets", "record sets")
LINKS = ("numberOfVirtualNetworkLinks", "maxNumberOfVirtualNetworkLinks", "virtual network links")
# What each DNS write adds to its zone(s).
_ADDS = {ActionKind.PUT_DNS_RECORD: RECORD_SETS, ActionKind.PUT_DNS_ZONE_GROUP: RECORD_SETS,
         ActionKind.CREATE_DNS_ZONE_LINK: LINKS}


def may_be_full(action: Action, error: BaseException) -> bool:
    """A DNS write refused with a conflict (409, or an operation that failed with Conflict)."""
    status = getattr(error, "status_code", None)
    return action.kind in _ADDS and (status == 409 or error_code(error) == "conflict")


def full_zone(clients: ArmClients, action: Action) -> str | None:
    """"the private DNS zone <name> holds <n> of its <max> <things>" for the first zone the write would add to that
    is at its limit; None when none is (or a zone cannot be read: then the refusal keeps its own judgement)."""
    from azure.core.exceptions import AzureError

    number, maximum, things = _ADDS[action.kind]
    for zone_id in _zones(action):
        try:
            zone = clients.find_json(zone_id, PRIVATE_DNS_API_VERSION)
        except AzureError:
            continue
        count, limit = json_get(zone, "properties", number), json_get(zone, "properties", maximum)
        if isinstance(count, int) and isinstance(limit, int) and count >= limit:
            return f"the private DNS zone {zone_id.name} holds {count} of its {limit} {things}"
    return None


def _zones(action: Action) -> list[ResourceId]:
    if action.kind is not ActionKind.PUT_DNS_ZONE_GROUP:
        return [action.target.parent]
    configs: Any = json_get(action.body, "properties", "privateDnsZoneConfigs") or []
    found = (try_parse_resource_id(json_get(c, "properties", "privateDnsZoneId")) for c in configs)
    return [zone for zone in found if zone is not None]
