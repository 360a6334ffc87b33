"""core/operations.py is the one table of watched operations: triage, the owners mapping and actor attribution all
read it, so they cannot drift apart (an A-record change once produced findings no actor was marked for)."""

from __future__ import annotations

import pytest

from remediation.core.attribution import FoldedEvent, attribute
from remediation.core.findings import FindingCode
from remediation.core.ids import ResourceId, parse_resource_id
from remediation.core.operations import OPERATIONS, WATCHED_OPERATIONS, TargetKind, can_cause, watched
from remediation.core.triage import Target, triage
from remediation.runtime.owners import Owners

SUB = "00000000-0000-0000-0000-000000000001"
ACCOUNT = f"/subscriptions/{SUB}/resourceGroups/rg-ai/providers/Microsoft.CognitiveServices/accounts/aoai"
NAMED = {  # an ID of each watched resource type, and the target its events are about
    "Microsoft.CognitiveServices/accounts": (ACCOUNT, ACCOUNT),
    "Microsoft.CognitiveServices/accounts/privateEndpointConnections":
        (f"{ACCOUNT}/privateEndpointConnections/pe.1", ACCOUNT),
    "Microsoft.Network/privateEndpoints": (f"/subscriptions/{SUB}/resourceGroups/rg-net/providers/"
                                           "Microsoft.Network/privateEndpoints/pe", None),
    "Microsoft.Network/privateEndpoints/privateDnsZoneGroups": (f"/subscriptions/{SUB}/resourceGroups/rg-net/"
                                                                "providers/Microsoft.Network/privateEndpoints/pe/"
                                                                "privateDnsZoneGroups/default", None),
    "Microsoft.Network/privateDnsZones": (f"/subscriptions/{SUB}/resourceGroups/rg-dns/providers/"
                                          "Microsoft.Network/privateDnsZones/privatelink.openai.azure.com", None),
    "Microsoft.Network/privateDnsZones/virtualNetworkLinks": (f"/subscriptions/{SUB}/resourceGroups/rg-dns/"
                                                              "providers/Microsoft.Network/privateDnsZones/"
                                                              "privatelink.openai.azure.com/virtualNetworkLinks/l",
                                                              None),
    "Microsoft.Network/privateDnsZones/A": (f"/subscriptions/{SUB}/resourceGroups/rg-dns/providers/"
                                            "Microsoft.Network/privateDnsZones/privatelink.openai.azure.com/A/aoai",
                                            None),
}


def arm_event(operation: str, resource: str) -> dict[str, object]:
    verb = operation.rsplit("/", 1)[1]
    return {"id": "e1", "eventType": f"Microsoft.Resources.Resource{verb.title()}Success", "subject": resource,
            "eventTime": "2026-11-26T10:00:00Z", "data": {"operationName": operation, "resourceUri": resource,
                                                          "status": "Succeeded", "claims": {"name": "Dana"}}}


@pytest.mark.parametrize("operation", WATCHED_OPERATIONS)
def test_triage_maps_each_operation_as_the_table_says(operation: str) -> None:
    spec = OPERATIONS[operation]
    named, _ = NAMED[operation.rsplit("/", 1)[0]]
    target = triage(arm_event(operation, named), scopes=[parse_resource_id(f"/subscriptions/{SUB}")], own=None)
    assert isinstance(target, Target), target
    assert target.kind is spec.target
    rid = parse_resource_id(named)
    assert target.resource_id == (rid.parent if spec.parent else rid)


def test_the_owners_mapping_handles_every_target_kind_the_table_names() -> None:
    owners = Owners.__new__(Owners)  # only the dispatch is read: no client, no index is touched for an account
    owners.scopes = (parse_resource_id(f"/subscriptions/{SUB}"),)
    assert {spec.target for spec in OPERATIONS.values()} == set(TargetKind)
    assert owners.accounts_for(TargetKind.ACCOUNT, ACCOUNT) == [parse_resource_id(ACCOUNT)]
    with pytest.raises(ValueError):
        owners.accounts_for("no-such-kind", ACCOUNT)


def test_each_operation_causes_only_findings_that_exist_and_a_records_cause_record_mismatches() -> None:
    assert all(spec.can_cause and spec.can_cause <= set(FindingCode) for spec in OPERATIONS.values())
    assert can_cause("Microsoft.Network/privateDnsZones/A/write", "PRIVATE_DNS_RECORD_MISMATCH")
    assert can_cause("microsoft.network/privatednszones/a/DELETE", "PRIVATE_DNS_RECORD_MISMATCH")
    assert not can_cause("Microsoft.Network/privateEndpoints/delete", "PUBLIC_NETWORK_ACCESS_ENABLED")
    assert not can_cause("Microsoft.Storage/storageAccounts/write", "PUBLIC_NETWORK_ACCESS_ENABLED")


def test_an_a_record_change_is_named_as_the_cause_of_the_record_finding() -> None:
    record = NAMED["Microsoft.Network/privateDnsZones/A"][0]
    events = [FoldedEvent("e1", "2026-11-26T10:00:00Z", "Microsoft.CognitiveServices/accounts/write", ACCOUNT, None),
              FoldedEvent("e2", "2026-11-26T10:00:01Z", "Microsoft.Network/privateDnsZones/A/write", record, None)]
    [finding] = attribute([{"code": "PRIVATE_DNS_RECORD_MISMATCH", "target": record}], events)
    assert finding["causedBy"] == 1


@pytest.mark.parametrize("spelling", ["Microsoft.Network/privateDnsZones/A/write",
                                      "MICROSOFT.NETWORK/PRIVATEDNSZONES/A/WRITE"])
def test_lookup_is_case_insensitive_and_canonical(spelling: str) -> None:
    assert watched(spelling) == "Microsoft.Network/privateDnsZones/A/write"


def test_resource_ids_of_every_watched_type_are_named_in_this_test() -> None:
    assert {op.rsplit("/", 1)[0] for op in WATCHED_OPERATIONS} == set(NAMED)
    assert all(isinstance(parse_resource_id(named), ResourceId) for named, _ in NAMED.values())
