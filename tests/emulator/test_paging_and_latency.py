"""$top where the API documents it, nextLink with the port spelled out, and a per-request latency."""
from __future__ import annotations

import http.client
import json
import ssl
import time

from localdev.arm_emulator import ArmEmulator
from tests.helpers.emulator import ACCOUNT, DNS_RG, RG, ZONE, Raw, base_scenario

ACCOUNTS = f"{RG}/providers/Microsoft.CognitiveServices/accounts"


def seed_records(emu: ArmEmulator, n: int) -> None:
    emu.seed(base_scenario())
    emu.seed({"resources": [{"id": f"{ZONE}/A/host{i:02d}", "properties": {"ttl": 10, "aRecords": [
        {"ipv4Address": f"10.0.1.{10 + i}"}]}} for i in range(n)]})


def follow(raw: Raw, emu: ArmEmulator, path: str, api_version: str) -> list[list[str]]:
    pages = []
    while path:
        status, _, body = raw("GET", path, api_version=api_version)
        assert status == 200
        pages.append([item["name"] for item in body["value"]])
        link = body.get("nextLink")
        path = link.split(str(emu.port), 1)[1] if link else None
        api_version = None
    return pages


def test_top_sets_the_page_size_of_private_dns_lists(emu):
    seed_records(emu, 5)
    raw = Raw(emu)
    pages = follow(raw, emu, f"{ZONE}/ALL?$top=2", "2024-06-01")
    assert [len(p) for p in pages] == [2, 2, 2]   # the five A record sets and the zone's SOA at '@'
    assert pages[0][0] == "@"
    status, _, body = raw("GET", f"{ZONE}/A?$top=3", api_version="2024-06-01")
    assert len(body["value"]) == 3 and "$top=3" in body["nextLink"]
    emu.seed({"resources": [{"id": f"{DNS_RG}/providers/Microsoft.Network/privateDnsZones/z{i}.example",
                             "location": "global"} for i in range(3)]})
    zones = follow(raw, emu, f"{DNS_RG}/providers/Microsoft.Network/privateDnsZones?$top=1", "2024-06-01")
    assert [len(p) for p in zones] == [1, 1, 1, 1]


def test_top_is_ignored_where_the_api_does_not_take_it(emu):
    emu.seed(base_scenario())
    emu.seed({"resources": [{"id": f"{ACCOUNTS}/extra{i}", "kind": "OpenAI", "location": "eastus",
                             "sku": {"name": "S0"}, "properties": {}} for i in range(3)]})
    status, _, body = Raw(emu)("GET", f"{ACCOUNTS}?$top=1")
    assert status == 200 and len(body["value"]) == 4 and "nextLink" not in body


def test_top_is_capped_and_validated(emu):
    seed_records(emu, 4)
    emu.config.max_top = 3
    raw = Raw(emu)
    assert len(raw("GET", f"{ZONE}/ALL?$top=50", api_version="2024-06-01")[2]["value"]) == 3
    status, _, body = raw("GET", f"{ZONE}/ALL?$top=0", api_version="2024-06-01")
    assert status == 400 and "$top" in body["error"]["message"]


def test_private_dns_pages_hold_at_most_the_documented_100_whatever_top_asks(emu):
    """100 is the only page size private DNS documents ("If not specified, returns up to 100 record sets",
    azure-rest-api-specs privatedns RecordSet.tsp); a larger $top is not assumed to be honoured."""
    seed_records(emu, 150)
    raw = Raw(emu)
    for query in ("", "?$top=1000"):
        pages = follow(raw, emu, f"{ZONE}/ALL{query}", "2024-06-01")
        assert [len(p) for p in pages] == [100, 51]   # 150 A record sets and the SOA


def test_resource_groups_page_with_top_as_the_page_size(emu):
    """`$top` is a page size with a nextLink after it (Azure/azure-sdk-for-python#541), and the list pages
    without it too."""
    emu.seed(base_scenario())
    subscription = RG.split("/resourceGroups/")[0]
    emu.seed({"resourceGroups": [f"{subscription}/resourceGroups/rg-extra-{i}" for i in range(4)]})
    raw = Raw(emu)
    everything = [name for page in follow(raw, emu, f"{subscription}/resourcegroups", "2021-04-01") for name in page]
    assert {f"rg-extra-{i}" for i in range(4)} <= set(everything)
    pages = follow(raw, emu, f"{subscription}/resourcegroups?$top=2", "2021-04-01")
    assert all(len(p) == 2 for p in pages[:-1]) and sum(map(len, pages)) == len(everything)
    emu.config.page_size = 3
    assert [len(p) for p in follow(raw, emu, f"{subscription}/resourcegroups", "2021-04-01")][0] == 3


def test_the_sdk_sends_top_and_follows_the_pages(emu, clients):
    seed_records(emu, 5)
    names = [r.name for r in clients.dns.record_sets.list("rg-dns", "privatelink.openai.azure.com", top=2)]
    assert names == ["@"] + [f"host{i:02d}" for i in range(5)]   # every zone holds its SOA record set
    lists = [r for r in emu.requests if r.kind == "read" and r.path.lower().endswith("/all")]
    assert len(lists) == 3 and lists[0].query["$top"] == "2"


def test_latency_applies_to_resource_manager_requests_only(emu):
    emu.seed(base_scenario())
    raw = Raw(emu)
    emu.config.latency_ms = 150
    started = time.monotonic()
    assert raw("GET", ACCOUNT)[0] == 200
    assert time.monotonic() - started >= 0.15
    started = time.monotonic()
    assert raw("GET", "/_emulator/config", api_version=None)[0] == 200
    token = raw("GET", "/msi/token?resource=https://management.azure.com&api-version=2019-08-01", api_version=None,
                headers={"X-IDENTITY-HEADER": emu.identity_header})
    assert token[0] == 200
    assert time.monotonic() - started < 0.15




def _get(emu: ArmEmulator, url: str) -> tuple[int, dict]:
    """GET an absolute https://127.0.0.1[:443]/… URL as written, Host header included."""
    without_scheme = url.split("://", 1)[1]
    host, path = without_scheme.split("/", 1)
    conn = http.client.HTTPSConnection("127.0.0.1", 443, context=ssl.create_default_context(cafile=emu.ca_path),
                                       timeout=10)
    try:
        conn.request("GET", "/" + path, headers={"Host": host, "Authorization": f"Bearer {emu.app_token()}"})
        response = conn.getresponse()
        return response.status, json.loads(response.read() or b"{}")
    finally:
        conn.close()


def test_next_link_with_the_default_port_spelled_out_is_served(emulator_on_443):
    emulator_on_443.seed(base_scenario())
    emulator_on_443.seed({"resources": [{"id": f"{ACCOUNTS}/extra{i}", "kind": "OpenAI", "location": "eastus",
                                "sku": {"name": "S0"}, "properties": {}} for i in range(2)]})
    emulator_on_443.config.page_size = 2
    assert emulator_on_443.url == "https://127.0.0.1"
    status, first = _get(emulator_on_443, f"{emulator_on_443.url}{ACCOUNTS}?api-version=2025-09-01")
    assert status == 200 and first["nextLink"].startswith(f"{emulator_on_443.url}/")   # plain form by default
    emulator_on_443.config.explicit_port_links = True
    status, first = _get(emulator_on_443, f"{emulator_on_443.url}{ACCOUNTS}?api-version=2025-09-01")
    assert status == 200 and first["nextLink"].startswith("https://127.0.0.1:443/subscriptions/")
    status, second = _get(emulator_on_443, first["nextLink"])   # the explicit-port spelling reaches the same emulator
    assert status == 200 and len(second["value"]) == 1
    assert {a["name"] for a in first["value"] + second["value"]} == {"aoai-prod", "extra0", "extra1"}


def test_private_dns_operation_urls_spell_out_the_port_as_azure_does(emulator_on_443):
    emulator_on_443.seed(base_scenario())
    emulator_on_443.config.update({"dns_lro": "aao", "explicit_port_links": True})
    raw = Raw(emulator_on_443)
    status, headers, _ = raw("PUT", f"{DNS_RG}/providers/Microsoft.Network/privateDnsZones/a.example",
                             {"location": "global"}, api_version="2024-06-01")
    assert status == 202
    assert headers["azure-asyncoperation"].startswith("https://127.0.0.1:443/subscriptions/")
    assert headers["location"].startswith("https://127.0.0.1/subscriptions/")
    status, op = _get(emulator_on_443, headers["azure-asyncoperation"])
    assert status in (200, 202) and op["status"] in ("InProgress", "Succeeded")
