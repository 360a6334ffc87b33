"""Resource providers' own limits beside Resource Manager's buckets (provider_limits.py): Microsoft.Network per
subscription and region, Private DNS per subscription, with the remaining-count header Private DNS sends instead of
Resource Manager's (learn.microsoft.com request-limits-and-throttling; Azure PowerShell PrivateDns recordings)."""
from __future__ import annotations

from localdev.arm_emulator.provider_limits import DNS_HEADER
from tests.helpers.emulator import ACCOUNT, SUB, SUBNET, ZONE, Raw, base_scenario

DNS_API = "2024-06-01"
NETWORK_API = "2026-03-01"
PE = f"/subscriptions/{SUB}/resourceGroups/rg-net/providers/Microsoft.Network/privateEndpoints/pe-limits"


def test_off_by_default_with_the_documented_figures(emu):
    c = emu.config
    assert not c.provider_limits
    limits = (c.network_read_limit, c.network_write_limit, c.dns_read_limit, c.provider_window_s)
    assert limits == (10000, 1000, 500, 300)


def test_private_dns_reads_count_down_in_their_own_header_then_429_after_10_s(emu):
    """Private DNS GETs carry `x-ms-ratelimit-remaining-subscription-resource-requests` counting down (499, 498 in PS
    TestGetLinkZoneNotExistsThrow.json) instead of Resource Manager's reads header; past the limit, 429 with a
    retry-after of 10 seconds (kubernetes-sigs/external-dns#4839)."""
    emu.seed(base_scenario())
    emu.config.update({"provider_limits": True, "dns_read_limit": 3, "provider_window_s": 3600})
    raw = Raw(emu)
    seen = []
    for _ in range(3):
        status, headers, _ = raw("GET", ZONE, api_version=DNS_API)
        assert status == 200 and "x-ms-ratelimit-remaining-subscription-reads" not in headers
        seen.append(headers[DNS_HEADER])
    assert seen == ["2", "1", "0"]
    status, headers, body = raw("GET", f"{ZONE}/A/aoai-prod", api_version=DNS_API)
    assert (status, headers["retry-after"], headers[DNS_HEADER]) == (429, "10", "0")
    assert body["code"] == "TooManyRequests" and "synthetic" in body["message"]   # no published body
    assert raw("GET", ACCOUNT)[0] == 200   # other providers are not held back


def test_network_is_limited_per_subscription_and_region(emu):
    """Network: 10,000 reads per 5 minutes, per region of the resource; past it Resource Manager's answer for a
    Microsoft.Network operation over its backend limit (Learn, SubscriptionRequestsThrottled troubleshooting)."""
    emu.seed(base_scenario())
    raw = Raw(emu)
    body = {"location": "eastus", "properties": {"subnet": {"id": SUBNET}, "privateLinkServiceConnections": [
        {"name": "c", "properties": {"privateLinkServiceId": ACCOUNT, "groupIds": ["account"]}}]}}
    assert raw("PUT", PE, body, api_version=NETWORK_API)[0] == 201
    emu.config.update({"provider_limits": True, "network_read_limit": 2, "provider_window_s": 3600})
    assert [raw("GET", PE, api_version=NETWORK_API)[0] for _ in range(2)] == [200, 200]
    status, headers, error = raw("GET", PE, api_version=NETWORK_API)
    assert status == 429 and float(headers["retry-after"]) > 0
    assert error["error"]["code"] == "SubscriptionRequestsThrottled"
    operation = "'GET/SUBSCRIPTIONS/RESOURCEGROUPS/PROVIDERS/MICROSOFT.NETWORK/PRIVATEENDPOINTS'"
    assert operation in error["error"]["message"]
    assert emu.provider_limits.throttled == 1
    west = f"/subscriptions/{SUB}/resourceGroups/rg-net/providers/Microsoft.Network/virtualNetworks/vnet-west"
    emu.seed({"resources": [{"id": west, "location": "westeurope", "properties": {
        "addressSpace": {"addressPrefixes": ["10.8.0.0/16"]}}}]})
    assert raw("GET", west, api_version=NETWORK_API)[0] == 200   # another region's bucket
