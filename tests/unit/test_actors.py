"""Several events folded into one reconcile (remediation/actors.py): actors oldest first, and which actor's change
produced which finding where the events' operations and resources tell."""

from __future__ import annotations

from remediation.core.attribution import FoldedEvent, actors_json, attribute, oldest_first

ACCOUNT = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-ai/providers/" \
          "Microsoft.CognitiveServices/accounts/aoai-prod"
ENDPOINT = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-network/providers/" \
           "Microsoft.Network/privateEndpoints/pe-1"
ZONE = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-dns/providers/" \
       "Microsoft.Network/privateDnsZones/privatelink.openai.azure.com"


def event(event_id: str, time: str, operation: str, resource: str, upn: str) -> FoldedEvent:
    return FoldedEvent(event_id, time, operation, resource, {"upn": upn, "name": upn, "claims": "never copied"})


TAG_EDIT = event("e1", "2026-11-26T10:00:01Z", "Microsoft.CognitiveServices/accounts/write", ACCOUNT, "alice")
OPENED = event("e2", "2026-11-26T10:00:02Z", "Microsoft.CognitiveServices/accounts/write", ACCOUNT, "bob")
PE_DELETED = event("e3", "2026-11-26T10:00:00Z", "Microsoft.Network/privateEndpoints/delete", ENDPOINT, "carol")
LINK_DELETED = event("e4", "2026-11-26T10:00:03Z", "Microsoft.Network/privateDnsZones/virtualNetworkLinks/delete",
                     ZONE, "dave")


def test_actors_are_listed_oldest_first_once_each_with_their_operation_and_nothing_else() -> None:
    folded = oldest_first([OPENED, TAG_EDIT, PE_DELETED, OPENED])
    assert [e.event_id for e in folded] == ["e3", "e1", "e2"]
    [first, *_] = actors_json(folded)
    assert first == {"name": "carol", "upn": "carol", "appId": None, "objectId": None, "ipAddress": None,
                     "operationName": "Microsoft.Network/privateEndpoints/delete", "eventId": "e3",
                     "time": "2026-11-26T10:00:00Z"}


def test_a_finding_only_one_event_can_have_caused_is_marked_with_it() -> None:
    folded = oldest_first([PE_DELETED, OPENED])
    findings = [{"code": "PUBLIC_NETWORK_ACCESS_ENABLED"}, {"code": "PRIVATE_ENDPOINT_MISSING"},
                {"code": "PRIVATE_DNS_ZONE_LINK_MISSING", "target": ZONE + "/virtualNetworkLinks/l"}]
    marked = attribute(findings, folded)
    assert [f.get("causedBy") for f in marked] == [1, 0, None]


def test_two_writes_to_the_account_cannot_be_told_apart_so_nothing_is_guessed() -> None:
    marked = attribute([{"code": "PUBLIC_NETWORK_ACCESS_ENABLED"}], oldest_first([TAG_EDIT, OPENED]))
    assert "causedBy" not in marked[0]


def test_a_finding_about_another_resource_needs_the_event_to_have_named_it() -> None:
    folded = oldest_first([LINK_DELETED, PE_DELETED])
    marked = attribute([{"code": "PRIVATE_DNS_ZONE_LINK_MISSING", "target": ZONE + "/virtualNetworkLinks/l"},
                        {"code": "PRIVATE_DNS_ZONE_GROUP_MISSING", "target": ENDPOINT},
                        {"code": "PRIVATE_DNS_ZONE_GROUP_MISSING", "target": ENDPOINT + "-other"}], folded)
    assert [folded[f["causedBy"]].event_id if "causedBy" in f else None for f in marked] == ["e4", "e3", None]


def test_entries_read_back_from_the_table_are_checked() -> None:
    assert FoldedEvent.from_json({"eventId": 5, "resourceId": ACCOUNT}) is None
    assert FoldedEvent.from_json({"eventId": "e", "resourceId": ACCOUNT, "actor": "x"}) is None
    assert FoldedEvent.from_json(TAG_EDIT.to_json()) == TAG_EDIT
