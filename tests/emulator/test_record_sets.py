"""Private DNS record sets (A, AAAA, CNAME) as Azure renders them, through the real Private DNS client and raw HTTPS.

Rendering evidence: Azure/azure-powershell PrivateDns recording TestRecordSetA.json @26cd6621 (fqdn with its
trailing dot, `isAutoRegistered: false`, the etag a bare GUID in the body and the ETag header, `metadata` absent
unless set, lists as `{"value": [...]}`). AAAA and CNAME shapes (`aaaaRecords[].ipv6Address`,
`cnameRecord.cname`) are the spec's (azure-rest-api-specs privatedns 2024-06-01); no recording of them was read.
"""
from __future__ import annotations

import re

import pytest
from azure.core.exceptions import HttpResponseError
from azure.mgmt.privatedns.models import AaaaRecord, CnameRecord, RecordSet

from localdev.arm_emulator import ArmEmulator
from tests.helpers.emulator import ZONE, Raw, base_scenario

API = "2024-06-01"
GUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
ZONE_NAME = "privatelink.openai.azure.com"


@pytest.fixture
def raw(emu: ArmEmulator) -> Raw:
    emu.seed(base_scenario())
    return Raw(emu)


def test_an_aaaa_record_set_is_written_read_listed_and_deleted(emu: ArmEmulator, clients, raw: Raw) -> None:
    made = clients.dns.record_sets.create_or_update(
        "rg-dns", ZONE_NAME, "AAAA", "aoai-prod",
        RecordSet(ttl=30, aaaa_records=[AaaaRecord(ipv6_address="fd00:10::4")]))
    assert made.fqdn == f"aoai-prod.{ZONE_NAME}." and made.is_auto_registered is False and made.ttl == 30
    assert [r.ipv6_address for r in made.aaaa_records] == ["fd00:10::4"]
    status, headers, body = raw("GET", f"{ZONE}/AAAA/aoai-prod", api_version=API)
    assert status == 200 and GUID.fullmatch(body["etag"]) and headers["etag"] == body["etag"]
    assert body == {"id": f"{ZONE}/AAAA/aoai-prod", "name": "aoai-prod",
                    "type": "Microsoft.Network/privateDnsZones/AAAA", "etag": body["etag"],
                    "properties": {"fqdn": f"aoai-prod.{ZONE_NAME}.", "ttl": 30,
                                   "aaaaRecords": [{"ipv6Address": "fd00:10::4"}], "isAutoRegistered": False}}
    assert [r.name for r in clients.dns.record_sets.list_by_type("rg-dns", ZONE_NAME, "AAAA")] == ["aoai-prod"]
    assert [r.type for r in clients.dns.record_sets.list("rg-dns", ZONE_NAME)] == [
        "Microsoft.Network/privateDnsZones/SOA", "Microsoft.Network/privateDnsZones/AAAA"]
    clients.dns.record_sets.delete("rg-dns", ZONE_NAME, "AAAA", "aoai-prod")
    assert raw("GET", f"{ZONE}/AAAA/aoai-prod", api_version=API)[0] == 404


def test_a_cname_record_set_carries_its_alias_and_metadata_only_when_set(emu: ArmEmulator, clients, raw: Raw) -> None:
    made = clients.dns.record_sets.create_or_update(
        "rg-dns", ZONE_NAME, "CNAME", "aoai-prod",
        RecordSet(ttl=60, cname_record=CnameRecord(cname="collector.example.net"), metadata={"owner": "mallory"}))
    assert made.cname_record.cname == "collector.example.net" and made.metadata == {"owner": "mallory"}
    body = raw("GET", f"{ZONE}/CNAME/aoai-prod", api_version=API)[2]
    assert body["properties"] == {"metadata": {"owner": "mallory"}, "fqdn": f"aoai-prod.{ZONE_NAME}.", "ttl": 60,
                                  "cnameRecord": {"cname": "collector.example.net"}, "isAutoRegistered": False}
    listed = raw("GET", f"{ZONE}/CNAME", api_version=API)[2]
    assert [item["name"] for item in listed["value"]] == ["aoai-prod"]
    plain = raw("PUT", f"{ZONE}/CNAME/other", {"properties": {"ttl": 60, "cnameRecord": {"cname": "x.example.net"}}},
                api_version=API)[2]
    assert "metadata" not in plain["properties"]


def test_every_record_set_counts_in_the_zone(emu: ArmEmulator, clients, raw: Raw) -> None:
    before = clients.dns.private_zones.get("rg-dns", ZONE_NAME).number_of_record_sets
    raw("PUT", f"{ZONE}/AAAA/a6", {"properties": {"ttl": 5, "aaaaRecords": [{"ipv6Address": "fd00::6"}]}},
        api_version=API)
    raw("PUT", f"{ZONE}/CNAME/c", {"properties": {"ttl": 5, "cnameRecord": {"cname": "a6." + ZONE_NAME}}},
        api_version=API)
    assert clients.dns.private_zones.get("rg-dns", ZONE_NAME).number_of_record_sets == before + 2
    names = {(r.type.rsplit("/", 1)[-1], r.name) for r in clients.dns.record_sets.list("rg-dns", ZONE_NAME)}
    assert {("AAAA", "a6"), ("CNAME", "c")} <= names
    via_recordsets = raw("GET", f"{ZONE}/recordsets", api_version=API)[2]["value"]
    assert {("AAAA", "a6"), ("CNAME", "c")} <= {(r["type"].rsplit("/", 1)[-1], r["name"]) for r in via_recordsets}


def test_record_data_is_checked(emu: ArmEmulator, raw: Raw) -> None:
    """Not an IPv6 address in an AAAA set, a CNAME without its alias: 400 (code and text unevidenced). More than 20
    records: 409 with no body (hashicorp/terraform-provider-azurerm#12406; the limit: MicrosoftDocs/azure-docs
    includes/dns-limits.md "Records per record set for private DNS zones: 20")."""
    assert raw("PUT", f"{ZONE}/AAAA/x", {"properties": {"ttl": 5, "aaaaRecords": [{"ipv6Address": "10.0.0.1"}]}},
               api_version=API)[0] == 400
    assert raw("PUT", f"{ZONE}/CNAME/x", {"properties": {"ttl": 5, "cnameRecord": {}}}, api_version=API)[0] == 400
    many = [{"ipv4Address": f"10.0.0.{i}"} for i in range(1, 22)]
    status, _, body = raw("PUT", f"{ZONE}/A/x", {"properties": {"ttl": 5, "aRecords": many}}, api_version=API)
    assert (status, body) == (409, None)
    assert raw("PUT", f"{ZONE}/A/x", {"properties": {"ttl": 5, "aRecords": many[:20]}}, api_version=API)[0] == 201


def test_the_client_sees_the_refusals(emu: ArmEmulator, clients, raw: Raw) -> None:
    with pytest.raises(HttpResponseError) as err:
        clients.dns.record_sets.create_or_update("rg-dns", ZONE_NAME, "AAAA", "x",
                                                 RecordSet(ttl=5, aaaa_records=[AaaaRecord(ipv6_address="nope")]))
    assert err.value.status_code == 400


# -- the SOA record set every zone has, and updates ---------------------------------------------------------------
def test_a_new_zone_holds_its_soa_record_set_at_the_apex(emu: ArmEmulator, clients, raw: Raw) -> None:
    """Azure/azure-cli recording test_ListRecordSetsAcrossType_DefaultRecordSetPresent (2021): the new zone's one
    record set, `numberOfRecordSets: 1`, with these values."""
    new = "privatelink.cognitiveservices.azure.com"
    zone = clients.dns.private_zones.begin_create_or_update("rg-dns", new, {"location": "global"}).result()
    assert zone.number_of_record_sets == 1
    [soa] = raw("GET", f"{zone.id}/ALL", api_version=API)[2]["value"]
    assert GUID.fullmatch(soa["etag"]) and soa == {
        "id": f"{zone.id}/SOA/@", "name": "@", "type": "Microsoft.Network/privateDnsZones/SOA", "etag": soa["etag"],
        "properties": {"fqdn": f"{new}.", "ttl": 3600, "soaRecord": {
            "email": "azureprivatedns-host.microsoft.com", "expireTime": 2419200, "host": "azureprivatedns.net",
            "minimumTtl": 10, "refreshTime": 3600, "retryTime": 300, "serialNumber": 1}, "isAutoRegistered": False}}
    assert clients.dns.record_sets.get("rg-dns", new, "SOA", "@").soa_record.email == \
        "azureprivatedns-host.microsoft.com"


def test_the_soa_record_set_cannot_be_deleted(emu: ArmEmulator, raw: Raw) -> None:
    """PowerShell recording TestRecordSetSOA.json: 400 with the body not wrapped in "error"."""
    status, _, body = raw("DELETE", f"{ZONE}/SOA/@", api_version=API)
    assert (status, body) == (400, {"code": "BadRequest",
                                    "message": "Record sets of type 'SOA' with name '@' cannot be deleted."})
    assert raw("GET", f"{ZONE}/SOA/@", api_version=API)[0] == 200


def test_a_patch_sets_metadata_and_the_table_keys_are_there(emu: ArmEmulator, clients, raw: Raw) -> None:
    """The CLI recording test_CrudRecordSet_AAAARecord: a PATCH of `metadata` answers 200 with the record set,
    `metadata` first. `az network private-dns record-set … list -o table` reads name, resourceGroup, ttl, type,
    isAutoRegistered and metadata (azure-cli privatedns/_format.py); `metadata` is there once set, and absent
    before, as Azure renders it (the 2023 CLI recording of test_CrudRecordSet_ARecord shows no `metadata` key)."""
    raw("PUT", f"{ZONE}/A/web", {"properties": {"ttl": 30, "aRecords": [{"ipv4Address": "10.0.1.7"}]}},
        api_version=API)
    assert "metadata" not in raw("GET", f"{ZONE}/A/web", api_version=API)[2]["properties"]
    status, _, body = raw("PATCH", f"{ZONE}/A/web", {"properties": {"metadata": {"owner": "ops"}}}, api_version=API)
    assert status == 200 and list(body["properties"]) == ["metadata", "fqdn", "ttl", "aRecords", "isAutoRegistered"]
    assert body["properties"]["aRecords"] == [{"ipv4Address": "10.0.1.7"}]
    updated = clients.dns.record_sets.update("rg-dns", ZONE_NAME, "A", "web", RecordSet(ttl=60))
    assert updated.ttl == 60 and updated.metadata == {"owner": "ops"}


def test_a_zone_with_links_is_refused_on_delete(emu: ArmEmulator, raw: Raw) -> None:
    """409 CannotDeleteResource with Resource Manager's text (learntocloud/networking-lab#8); without links the
    zone goes, its record sets with it."""
    from tests.helpers.emulator import VNET
    raw("PUT", f"{ZONE}/virtualNetworkLinks/hub", {"location": "global", "properties": {
        "virtualNetwork": {"id": VNET}, "registrationEnabled": False}}, api_version=API)
    status, _, body = raw("DELETE", ZONE, api_version=API)
    assert (status, body) == (409, {"error": {"code": "CannotDeleteResource", "message": (
        "Cannot delete resource while nested resources exist. Some existing nested resource IDs include: "
        f"'Microsoft.Network/privateDnsZones/{ZONE_NAME}/virtualNetworkLinks/hub'. Please delete all nested "
        "resources before deleting this resource.")}})
    assert raw("DELETE", f"{ZONE}/virtualNetworkLinks/hub", api_version=API)[0] == 200
    assert raw("DELETE", ZONE, api_version=API)[0] == 200
    assert emu.get(f"{ZONE}/SOA/@") is None
