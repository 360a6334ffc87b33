"""Private DNS limits per zone, enforced (learn.microsoft.com azure/dns/private-dns-privatednszone, "Limits": 25,000
record sets, 1,000 virtual network links, 20 records per record set), scaled down by EmulatorConfig knobs. Azure's
answer past the counts is unpublished: the emulator's is a labelled synthetic 409 (errors.record_set_limit)."""
from __future__ import annotations

from tests.helpers.emulator import ACCOUNT, SUB, SUBNET, VNET, ZONE, Raw, base_scenario

DNS_API = "2024-06-01"
NETWORK_API = "2026-03-01"


def _record(ip: str = "10.0.0.9") -> dict:
    return {"properties": {"ttl": 10, "aRecords": [{"ipv4Address": ip}]}}


def test_defaults_are_azures_figures_and_the_zone_reports_them(emu):
    """A real zone GET (PS TestGetLinkZoneNotExistsThrow.json) reports 25000 / 1000 / 100 and counts its SOA."""
    emu.seed(base_scenario())
    props = Raw(emu)("GET", ZONE, api_version=DNS_API)[2]["properties"]
    assert (props["maxNumberOfRecordSets"], props["maxNumberOfVirtualNetworkLinks"]) == (25000, 1000)
    assert props["numberOfRecordSets"] == 1
    assert (emu.config.dns_max_record_sets, emu.config.dns_max_links, emu.config.dns_max_records) == (25000, 1000, 20)


def test_a_full_zone_refuses_a_new_record_set_but_takes_updates(emu):
    emu.seed(base_scenario())
    emu.config.dns_max_record_sets = 3   # the SOA and two more
    raw = Raw(emu)
    assert raw("PUT", f"{ZONE}/A/one", _record(), api_version=DNS_API)[0] == 201
    assert raw("PUT", f"{ZONE}/A/two", _record(), api_version=DNS_API)[0] == 201
    status, _, body = raw("PUT", f"{ZONE}/A/three", _record(), api_version=DNS_API)
    assert status == 409 and body["code"] == "Conflict" and "synthetic" in body["message"]
    assert raw("GET", f"{ZONE}/A/three", api_version=DNS_API)[0] == 404
    assert raw("PUT", f"{ZONE}/A/two", _record("10.0.0.10"), api_version=DNS_API)[0] == 200   # not a new set
    props = raw("GET", ZONE, api_version=DNS_API)[2]["properties"]
    assert (props["numberOfRecordSets"], props["maxNumberOfRecordSets"]) == (3, 3)


def test_more_records_in_a_set_than_allowed_is_409_without_a_body(emu):
    """hashicorp/terraform-provider-azurerm#12406: over 20 records, 409 and no error body."""
    emu.seed(base_scenario())
    emu.config.dns_max_records = 2
    raw = Raw(emu)
    body = {"properties": {"ttl": 10, "aRecords": [{"ipv4Address": f"10.0.0.{n}"} for n in (1, 2, 3)]}}
    assert raw("PUT", f"{ZONE}/A/many", body, api_version=DNS_API)[::2] == (409, None)


def test_a_zone_with_its_links_full_fails_a_new_links_operation(emu):
    emu.seed(base_scenario())
    emu.config.update({"dns_max_links": 1, "dns_lro": "aao", "lro_polls": 0})
    raw = Raw(emu)
    link = {"location": "global", "properties": {"virtualNetwork": {"id": VNET}, "registrationEnabled": False}}
    assert raw("PUT", f"{ZONE}/virtualNetworkLinks/first", link, api_version=DNS_API)[0] == 202
    other = f"/subscriptions/{SUB}/resourceGroups/rg-net/providers/Microsoft.Network/virtualNetworks/vnet-spoke"
    emu.seed({"resources": [{"id": other, "location": "eastus", "properties": {
        "addressSpace": {"addressPrefixes": ["10.9.0.0/16"]}}}]})
    second = {**link, "properties": {**link["properties"], "virtualNetwork": {"id": other}}}
    status, headers, _ = raw("PUT", f"{ZONE}/virtualNetworkLinks/second", second, api_version=DNS_API)
    assert status == 202   # accepted, then its operation fails, as Private DNS reports its refusals of a link
    result = raw("GET", headers["azure-asyncoperation"].split(emu.url, 1)[1], api_version=None)[2]
    assert result["status"] == "Failed" and result["error"]["code"] == "Conflict"
    assert "maxNumberOfVirtualNetworkLinks" in result["error"]["message"]
    assert raw("GET", f"{ZONE}/virtualNetworkLinks/second", api_version=DNS_API)[0] == 404


def test_a_zone_group_whose_record_a_full_zone_cannot_take_is_refused(emu):
    """Unevidenced how Azure answers: refused at the PUT with the synthetic limit answer, nothing written."""
    emu.seed(base_scenario())
    emu.config.dns_max_record_sets = 1   # the SOA alone
    raw = Raw(emu)
    pe = f"/subscriptions/{SUB}/resourceGroups/rg-net/providers/Microsoft.Network/privateEndpoints/pe-full"
    connection = {"name": "c", "properties": {"privateLinkServiceId": ACCOUNT, "groupIds": ["account"]}}
    body = {"location": "eastus",
            "properties": {"subnet": {"id": SUBNET}, "privateLinkServiceConnections": [connection]}}
    assert raw("PUT", pe, body, api_version=NETWORK_API)[0] == 201
    group = {"properties": {"privateDnsZoneConfigs": [{"name": "openai", "properties": {"privateDnsZoneId": ZONE}}]}}
    status, _, body = raw("PUT", f"{pe}/privateDnsZoneGroups/default", group, api_version=NETWORK_API)
    assert status == 409 and body["error"]["code"] == "Conflict" and "maxNumberOfRecordSets" in body["error"]["message"]
    assert raw("GET", f"{ZONE}/A/aoai-prod", api_version=DNS_API)[0] == 404
