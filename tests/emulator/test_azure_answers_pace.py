"""What Azure's answers say about pace: Retry-After per operation type, operation status words, the endpoint's DNS
configs filled when its operation ends, a link's minute, an account Accepted for minutes. Each test names its
evidence (the short names are pace.py's)."""
from __future__ import annotations

import time

from localdev.arm_emulator import EmulatorConfig
from localdev.arm_emulator.pace import ACCEPTED_FOR_MINUTES_S, DURATIONS
from tests.helpers.emulator import ACCOUNT, SUB, SUBNET, ZONE, Raw, base_scenario

PE = f"/subscriptions/{SUB}/resourceGroups/rg-net/providers/Microsoft.Network/privateEndpoints/pe-pace"
NETWORK_API = "2026-03-01"
DNS_API = "2024-06-01"


def _pe_body() -> dict:
    return {"location": "eastus", "properties": {"subnet": {"id": SUBNET}, "privateLinkServiceConnections": [
        {"name": "c", "properties": {"privateLinkServiceId": ACCOUNT, "groupIds": ["account"]}}]}}


def _path(url: str, emu) -> str:
    return url.split(emu.url, 1)[1]


def test_network_answers_retry_after_10_and_polls_in_progress_with_200(emu):
    """PS-PE: endpoint PUT 201 and DELETE 202 carry `Retry-After: 10`, Azure-AsyncOperation (no Location on the PUT);
    the terminal poll carries none. CLI-PEC: InProgress polls answer HTTP 200."""
    emu.seed(base_scenario())
    emu.config.update({"retry_after": "azure", "lro_polls": 1})
    raw = Raw(emu)
    status, headers, body = raw("PUT", PE, _pe_body(), api_version=NETWORK_API)
    assert status == 201 and headers["retry-after"] == "10" and "location" not in headers
    assert body["properties"]["provisioningState"] == "Updating"
    operation = _path(headers["azure-asyncoperation"], emu)
    status, headers, body = raw("GET", operation, api_version=None)
    assert (status, body["status"], headers["retry-after"]) == (200, "InProgress", "10")
    status, headers, body = raw("GET", operation, api_version=None)
    assert (status, body["status"]) == (200, "Succeeded") and "retry-after" not in headers
    status, headers, _ = raw("DELETE", PE, api_version=NETWORK_API)
    assert status == 202 and headers["retry-after"] == "10" and "/operationResults/" in headers["location"]


def test_private_dns_answers_retry_after_30_and_repeats_it_while_running(emu):
    """PS-ZG and PS-DNS-2024: a zone PUT 202 `{}` with `Retry-After: 30`; PS TestZoneCrud.json: InProgress polls
    answer 202 and repeat Retry-After with the operation URLs; Succeeded answers 200 without them."""
    emu.seed(base_scenario())
    emu.config.update({"retry_after": "azure", "dns_lro": "aao", "lro_polls": 1})
    raw = Raw(emu)
    zone = f"/subscriptions/{SUB}/resourceGroups/rg-dns/providers/Microsoft.Network/privateDnsZones/contoso.example"
    status, headers, body = raw("PUT", zone, {"location": "global"}, api_version=DNS_API)
    assert (status, body, headers["retry-after"]) == (202, {}, "30")
    operation = _path(headers["azure-asyncoperation"], emu)
    status, headers, body = raw("GET", operation, api_version=None)
    assert (status, body, headers["retry-after"]) == (202, {"status": "InProgress"}, "30")
    assert "azure-asyncoperation" in headers and "location" in headers
    status, headers, body = raw("GET", operation, api_version=None)
    assert (status, body) == (200, {"status": "Succeeded"}) and "retry-after" not in headers


def test_account_patch_carries_no_retry_after_and_its_operation_reads_updating(emu):
    """CLI-RULES: the network PATCH answers 202 with the account `Accepted`, its operation status reads `Updating`,
    then `Succeeded` with an endTime. PS-CS: Cognitive Services sends no Retry-After (on the PUT; the PATCH's is
    unrecorded)."""
    emu.seed(base_scenario())
    emu.config.update({"retry_after": "azure", "lro_polls": 1})
    raw = Raw(emu)
    status, headers, body = raw("PATCH", ACCOUNT, {"properties": {"publicNetworkAccess": "Disabled"}})
    assert status == 202 and body["properties"]["provisioningState"] == "Accepted"
    assert not {"retry-after", "retry-after-ms"} & set(headers)
    operation = _path(headers["azure-asyncoperation"], emu)
    status, headers, running = raw("GET", operation, api_version=None)
    assert (status, running["status"]) == (200, "Updating") and "endTime" not in running
    assert not {"retry-after", "retry-after-ms"} & set(headers)
    assert raw("GET", ACCOUNT)[2]["properties"]["provisioningState"] == "Accepted"
    done = raw("GET", operation, api_version=None)[2]
    assert done["status"] == "Succeeded" and done["startTime"] <= done["endTime"]


def test_scaled_retry_after_goes_as_milliseconds_and_the_sdks_accept_it(emu, clients):
    """At 1:50 Network's 10 s is 200 ms and Private DNS's 30 s is 600 ms: below a whole second they go as
    retry-after-ms (the private DNS SDK parses Retry-After as an int), and both SDKs finish their writes."""
    emu.seed(base_scenario())
    emu.config.update(EmulatorConfig.azure_pace(0.02))
    emu.config.durations = {"privateDnsZone/write": 1, "privateEndpoint/create": 1}
    zone = clients.dns.private_zones.begin_create_or_update("rg-dns", "contoso.example", {"location": "global"})
    assert zone.result().properties.provisioning_state == "Succeeded"
    clients.net.private_endpoints.begin_create_or_update("rg-net", "pe-pace", _pe_body()).result()
    puts = {r.path.rsplit("/", 2)[-2]: r for r in emu.requests if r.method == "PUT"}
    assert set(puts) == {"privateDnsZones", "privateEndpoints"}
    raw = Raw(emu)
    _, headers, _ = raw("PUT", PE.replace("pe-pace", "pe-pace-2"), _pe_body(), api_version=NETWORK_API)
    assert headers["retry-after-ms"] == "200" and "retry-after" not in headers
    _, headers, _ = raw("PUT", ZONE.replace("openai", "cognitiveservices"), {"location": "global"}, api_version=DNS_API)
    assert headers["retry-after-ms"] == "600"


def test_endpoint_dns_configs_are_filled_when_its_operation_ends(emu):
    """CLI-PEC: the PUT's 201 shows `customDnsConfigs: []`; the GET after the operation ends shows the account's FQDN
    with the endpoint's IP."""
    emu.seed(base_scenario())
    emu.config.update({"lro_polls": 1})
    raw = Raw(emu)
    status, headers, body = raw("PUT", PE, _pe_body(), api_version=NETWORK_API)
    assert status == 201 and body["properties"]["customDnsConfigs"] == []
    assert raw("GET", PE, api_version=NETWORK_API)[2]["properties"]["customDnsConfigs"] == []
    operation = _path(headers["azure-asyncoperation"], emu)
    while raw("GET", operation, api_version=None)[2]["status"] == "InProgress":
        pass
    [config] = raw("GET", PE, api_version=NETWORK_API)[2]["properties"]["customDnsConfigs"]
    assert config["fqdn"] == "aoai-prod.openai.azure.com" and config["ipAddresses"] == ["10.0.1.4"]


def test_a_link_runs_a_minute_and_is_in_progress_at_its_first_poll(emu):
    """CLI-LINK: InProgress at the poll 30 s after the PUT, Succeeded at the one 61 s after: with Retry-After 30, the
    first poll finds it running and the second done."""
    emu.seed(base_scenario())
    scale = 0.005
    emu.config.update(EmulatorConfig.azure_pace(scale))
    raw = Raw(emu)
    link = f"{ZONE}/virtualNetworkLinks/hub"
    started = time.monotonic()
    status, headers, _ = raw("PUT", link, {"location": "global", "properties": {
        "virtualNetwork": {"id": SUBNET.rsplit("/subnets/", 1)[0]}, "registrationEnabled": False}}, api_version=DNS_API)
    assert status == 202 and headers["retry-after-ms"] == str(round(30 * scale * 1000))
    operation = _path(headers["azure-asyncoperation"], emu)
    time.sleep(30 * scale)
    assert raw("GET", operation, api_version=None)[2] == {"status": "InProgress"}
    time.sleep(max(0.0, DURATIONS["virtualNetworkLink/write"].seconds * scale - (time.monotonic() - started)) + 0.02)
    assert raw("GET", operation, api_version=None)[2] == {"status": "Succeeded"}


def test_an_account_can_stay_accepted_for_minutes_after_its_update(emu):
    """terraform-provider-azurerm#15152: an apply re-run 5–10 minutes later succeeds. With the settle knob at that
    upper figure (scaled 1:1000: 0.6 s), the account reads Accepted, and refuses writes, long after its operation."""
    emu.seed(base_scenario())
    scale = 0.001
    emu.config.update(EmulatorConfig.azure_pace(scale))
    emu.config.durations = {"account/update:settle": ACCEPTED_FOR_MINUTES_S}
    raw = Raw(emu)
    status, headers, _ = raw("PATCH", ACCOUNT, {"properties": {"publicNetworkAccess": "Disabled"}})
    operation = _path(headers["azure-asyncoperation"], emu)
    time.sleep(DURATIONS["account/update"].seconds * scale + 0.01)
    assert raw("GET", operation, api_version=None)[2]["status"] == "Succeeded"
    assert raw("GET", ACCOUNT)[2]["properties"]["provisioningState"] == "Accepted"
    assert raw("PATCH", ACCOUNT, {"properties": {"disableLocalAuth": True}})[2]["error"]["code"] == "RequestConflict"
    time.sleep(ACCEPTED_FOR_MINUTES_S * scale)
    assert raw("GET", ACCOUNT)[2]["properties"]["provisioningState"] == "Succeeded"
