"""The Resource Manager operations the app watches, and what it knows about each: one table. Pure.

Triage reads it to turn an event into what to reconcile, the owners mapping reads its target kinds, actor
attribution reads which findings a change of that kind can produce, and infra's Event Grid subscription
filters on exactly its keys (tests/infra/test_event_grid.py holds that).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from remediation.core.findings import FindingCode
from remediation.core.ids import fold


class TargetKind(str, Enum):
    """What a work item is about; the worker maps each to the accounts it serves (`runtime.owners`)."""

    ACCOUNT = "account"
    PRIVATE_ENDPOINT = "private-endpoint"
    DNS_ZONE = "dns-zone"
    DNS_RECORD = "dns-record"  # an A record: mapped to the account whose custom subdomain names it


@dataclass(frozen=True)
class OperationSpec:
    target: TargetKind
    parent: bool  # the event names a child of the target (a connection, a zone group, a link): it is the parent
    can_cause: frozenset[FindingCode]  # the findings a change of this kind can produce (`causedBy` in records)


_F = FindingCode
_ACCOUNT = frozenset({_F.PUBLIC_NETWORK_ACCESS_ENABLED, _F.NETWORK_DEFAULT_ACTION_ALLOW, _F.IP_RULE_NOT_ALLOWED,
                      _F.LOCAL_AUTH_ENABLED, _F.VIRTUAL_NETWORK_RULE_NOT_ALLOWED, _F.NETWORK_BYPASS_NOT_ALLOWED})
_GROUP = frozenset({_F.PRIVATE_DNS_ZONE_GROUP_MISSING, _F.PRIVATE_DNS_ZONE_GROUP_INCOMPLETE,
                    _F.PRIVATE_DNS_RECORD_MISMATCH})
_ENDPOINT = frozenset({_F.PRIVATE_ENDPOINT_MISSING}) | _GROUP

# Operation name, as Resource Manager spells it -> what an event of it is about.
OPERATIONS: dict[str, OperationSpec] = {
    "Microsoft.CognitiveServices/accounts/write": OperationSpec(TargetKind.ACCOUNT, False, _ACCOUNT),
    "Microsoft.CognitiveServices/accounts/privateEndpointConnections/write": OperationSpec(
        TargetKind.ACCOUNT, True, frozenset({_F.PRIVATE_ENDPOINT_CONNECTION_PENDING, _F.PRIVATE_ENDPOINT_MISSING})),
    "Microsoft.CognitiveServices/accounts/privateEndpointConnections/delete": OperationSpec(
        TargetKind.ACCOUNT, True, frozenset({_F.PRIVATE_ENDPOINT_MISSING})),
    "Microsoft.Network/privateEndpoints/write": OperationSpec(TargetKind.PRIVATE_ENDPOINT, False, _ENDPOINT),
    "Microsoft.Network/privateEndpoints/delete": OperationSpec(TargetKind.PRIVATE_ENDPOINT, False, _ENDPOINT),
    "Microsoft.Network/privateEndpoints/privateDnsZoneGroups/write": OperationSpec(
        TargetKind.PRIVATE_ENDPOINT, True, _GROUP),
    "Microsoft.Network/privateEndpoints/privateDnsZoneGroups/delete": OperationSpec(
        TargetKind.PRIVATE_ENDPOINT, True, _GROUP),
    "Microsoft.Network/privateDnsZones/virtualNetworkLinks/delete": OperationSpec(
        TargetKind.DNS_ZONE, True, frozenset({_F.PRIVATE_DNS_ZONE_LINK_MISSING})),
    "Microsoft.Network/privateDnsZones/delete": OperationSpec(
        TargetKind.DNS_ZONE, False,
        frozenset({_F.PRIVATE_DNS_ZONE_MISSING, _F.PRIVATE_DNS_ZONE_LINK_MISSING, _F.PRIVATE_DNS_RECORD_MISMATCH})),
    "Microsoft.Network/privateDnsZones/A/write": OperationSpec(
        TargetKind.DNS_RECORD, False, frozenset({_F.PRIVATE_DNS_RECORD_MISMATCH})),
    "Microsoft.Network/privateDnsZones/A/delete": OperationSpec(
        TargetKind.DNS_RECORD, False, frozenset({_F.PRIVATE_DNS_RECORD_MISMATCH})),
}

# The one list of operations the app reacts to: infra subscribes to exactly these, tests read them.
WATCHED_OPERATIONS: tuple[str, ...] = tuple(OPERATIONS)

_BY_FOLDED = {fold(name): name for name in OPERATIONS}


def watched(operation: str) -> str | None:
    """The operation as the table spells it, when the app watches it (compared case-insensitively), else None."""
    return _BY_FOLDED.get(fold(operation))


def resource_type(operation: str) -> str:
    return operation.rsplit("/", 1)[0]


def verb(operation: str) -> str:
    return operation.rsplit("/", 1)[1]


def can_cause(operation: str | None, code: str) -> bool:
    """Whether a change of this operation can have produced a finding of this code."""
    name = watched(operation or "")
    return name is not None and code in {c.value for c in OPERATIONS[name].can_cause}
