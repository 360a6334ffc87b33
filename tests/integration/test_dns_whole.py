"""DNS judged whole: an AAAA or CNAME record set at the account's name answers instead of its A record; a zone
the identity cannot read is unverified, never compliant; a link counts only once it Succeeded; the resolution
check asks AAAA too."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from localdev.dns_server import DnsServer
from localdev.estate import OPENAI_ZONE, VNET_ID, Estate, account_id, rg_id, zone_id
from remediation.core.ids import parse_account_id, parse_resource_id
from remediation.core.model import Trigger
from remediation.core.naming import zone_link_name
from tests.conftest import Stack

AOAI = account_id("aoai-prod")
ZONE = zone_id(OPENAI_ZONE)
PE = f"{rg_id('rg-network')}/providers/Microsoft.Network/privateEndpoints/pe-aoai-prod-existing"
DNS_API = "2024-06-01"


def reconcile(stack: Stack, **settings: str) -> dict[str, Any]:
    result = stack.remediator(**settings).reconcile(parse_account_id(AOAI), Trigger.HTTP)
    assert result.audit_errors == []
    return result.record.to_json()


def mismatches(record: dict[str, Any]) -> list[dict[str, Any]]:
    return [f for f in record["findings"] if f["code"] == "PRIVATE_DNS_RECORD_MISMATCH"]


@pytest.mark.parametrize("record_type, body, actual", [
    ("AAAA", {"ttl": 10, "aaaaRecords": [{"ipv6Address": "2001:db8::66"}]}, ["2001:db8::66"]),
    ("CNAME", {"ttl": 10, "cnameRecord": {"cname": "collector.example.net"}}, "collector.example.net"),
])
def test_an_aaaa_or_cname_at_the_accounts_name_is_found_reported_and_left_in_place(
        stack: Stack, record_type: str, body: dict[str, Any], actual: Any) -> None:
    stack.seed(Estate().network((OPENAI_ZONE,)).locked("aoai-prod"))
    if record_type == "CNAME":  # a CNAME cannot sit beside the A record: someone replaced it
        assert stack.as_user("DELETE", f"{ZONE}/A/aoai-prod", api_version=DNS_API) == 200
    status = stack.as_user("PUT", f"{ZONE}/{record_type}/aoai-prod", {"properties": body}, api_version=DNS_API)
    assert status in (200, 201)

    record = reconcile(stack)

    [finding] = [f for f in mismatches(record) if f["property"] == f"privateDnsZones/{record_type}"]
    assert finding["actual"] == actual and finding["target"].lower() == f"{ZONE}/{record_type}/aoai-prod".lower()
    command = f"az network private-dns record-set {record_type.lower()} delete"
    assert command in finding["manual"] and "-z privatelink.openai.azure.com -n aoai-prod" in finding["manual"]
    assert record["outcome"] == "failed" and command in record["error"]
    assert stack.resource(f"{ZONE}/{record_type}/aoai-prod") is not None, "never deleted"
    if record_type == "CNAME":  # the A record is not put beside it: Azure would refuse, and DNS too
        [put] = [a for a in record["actions"] if a["name"] == "put-private-dns-record"]
        assert put["status"] == "skipped" and "CNAME" in put["error"]
    assert stack.writes() == []


def test_a_zone_the_identity_cannot_read_is_unverified_not_compliant(stack: Stack) -> None:
    central = rg_id("rg-central-dns")
    zone = zone_id(OPENAI_ZONE, central)
    estate = (Estate().network().account("aoai-prod").endpoint(AOAI)
              .add({"id": zone, "location": "global"})
              .add({"id": f"{zone}/virtualNetworkLinks/hub", "location": "global",
                    "properties": {"virtualNetwork": {"id": VNET_ID}}})
              .add({"id": f"{PE}/privateDnsZoneGroups/default", "properties": {"privateDnsZoneConfigs": [
                  {"name": "oai", "properties": {"privateDnsZoneId": zone}}]}}))
    scenario = estate.scenario()
    scenario["resourceGroups"].append(central)
    stack.emulator.seed(scenario)

    record = reconcile(stack)  # the app holds no role on rg-central-dns

    assert record["outcome"] == "failed", record
    assert "unverified" in record["error"] and zone.lower() in record["error"].lower()
    assert "AuthorizationFailed" in record["error"]
    assert stack.writes() == []


def test_a_link_whose_operation_failed_does_not_count_and_is_put_again(stack: Stack) -> None:
    link = f"{ZONE}/virtualNetworkLinks/{zone_link_name(parse_resource_id(VNET_ID))}"
    estate = Estate().network((OPENAI_ZONE,), linked=False).locked("aoai-prod")
    estate.add({"id": link, "location": "global", "properties": {
        "virtualNetwork": {"id": VNET_ID}, "registrationEnabled": False, "provisioningState": "Failed"}})
    stack.seed(estate)

    record = reconcile(stack)

    assert [f["code"] for f in record["findings"]] == ["PRIVATE_DNS_ZONE_LINK_MISSING"]
    assert record["outcome"] == "remediated", record["error"]
    puts = [w for w in stack.writes() if "virtualNetworkLinks" in w.path]
    assert [w.method for w in puts] == ["PUT", "PUT"]  # create-only (taken: 412), then ours again on its etag
    assert stack.resource(link)["properties"]["provisioningState"] == "Succeeded"
    assert reconcile(stack)["outcome"] == "compliant"


@pytest.fixture
def dns(stack: Stack) -> Iterator[DnsServer]:
    with DnsServer(stack.emulator, VNET_ID) as server:
        yield server


def test_the_resolution_check_asks_aaaa_too(stack: Stack, dns: DnsServer) -> None:
    stack.seed(Estate().network((OPENAI_ZONE,)).locked("aoai-prod"))
    stack.as_user("PUT", f"{ZONE}/AAAA/aoai-prod", {"properties": {"ttl": 10, "aaaaRecords": [
        {"ipv6Address": "2001:db8::66"}]}}, api_version=DNS_API)

    record = reconcile(stack, REMEDIATION_RESOLUTION_CHECK="on", REMEDIATION_DNS_RESOLVER=dns.address,
                       REMEDIATION_MODE="report")

    [resolution] = [f for f in record["findings"] if f["code"] == "PRIVATE_DNS_RESOLUTION_NOT_PRIVATE"]
    assert "2001:db8::66" in resolution["actual"]["answered"]
