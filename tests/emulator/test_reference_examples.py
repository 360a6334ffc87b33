"""The emulator against Azure's own REST API examples (tests/fixtures/arm/**, copied from azure-rest-api-specs).

For each example: set up the state it assumes, send the request it describes, and check the status is one
the example lists, the body has the example's keys (top level and under `properties`, for what the
emulator models), and LRO headers where the example shows them. Values are not compared.
"""
from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.emulator import REFERENCE_ARM, Raw


def load(rel: str) -> dict[str, Any]:
    return json.loads((REFERENCE_ARM / rel).read_text())


def rg_id(p: dict[str, Any]) -> str:
    return f"/subscriptions/{p['subscriptionId']}/resourceGroups/{p['resourceGroupName']}"


def account_id(p: dict[str, Any]) -> str:
    return f"{rg_id(p)}/providers/Microsoft.CognitiveServices/accounts/{p['accountName']}"


def seed_account(emu, p: dict[str, Any], kind: str = "OpenAI") -> str:
    aid = account_id(p)
    emu.seed({"resources": [{"id": aid, "kind": kind, "location": "westus", "sku": {"name": "S0"},
                             "tags": {"Owner": "x"}, "properties": {"customSubDomainName": p["accountName"].lower()}}]})
    return aid


def seed_pe_for(emu, raw: Raw, p: dict[str, Any]) -> str:
    """An account with one auto-approved connection; returns the connection's name."""
    aid = seed_account(emu, p)
    vnet = f"{rg_id(p)}/providers/Microsoft.Network/virtualNetworks/vnet1"
    pe = f"{rg_id(p)}/providers/Microsoft.Network/privateEndpoints/petest01"
    emu.seed({"resources": [
        {"id": vnet, "location": "westus",
         "properties": {"subnets": [{"name": "s1", "properties": {"addressPrefix": "10.1.0.0/24"}}]}},
        {"id": pe, "location": "westus",
         "properties": {"subnet": {"id": f"{vnet}/subnets/s1"}, "privateLinkServiceConnections": [
             {"name": "c1", "properties": {"privateLinkServiceId": aid, "groupIds": ["account"]}}]}}]})
    return emu.get(aid)["properties"]["privateEndpointConnections"][0]["name"]


def assert_shape(example_body: Any, body: Any) -> None:
    if not isinstance(example_body, dict):
        return  # the example abbreviates ("same shape as 200") or has no body
    assert isinstance(body, dict), body
    assert set(example_body) <= set(body), f"missing keys {set(example_body) - set(body)}"
    if isinstance(example_body.get("properties"), dict):
        missing = set(example_body["properties"]) - set(body["properties"])
        assert not missing, f"missing properties {missing}"
    if isinstance(example_body.get("value"), list) and example_body["value"]:
        assert body["value"], "empty list where the example has items"
        assert_shape(example_body["value"][0], body["value"][0])


def check(example: dict[str, Any], status: int, headers: dict[str, str], body: Any) -> None:
    responses = example["responses"]
    assert str(status) in responses, f"status {status} not in {list(responses)}: {body}"
    expected = responses[str(status)]
    assert_shape(expected.get("body"), body)
    for h in expected.get("headers") or {}:
        if h.lower() in ("location", "azure-asyncoperation"):
            assert h.lower() in headers, f"missing header {h}"
    assert "x-ms-request-id" in headers and "x-ms-correlation-request-id" in headers


# -- one case per example -------------------------------------------------------------------------------
def case_accounts_get(emu, raw):
    ex = load("cognitiveservices/Accounts_Get.2025-09-01.json")
    p = ex["parameters"]
    seed_account(emu, p)
    return ex, raw("GET", account_id(p), api_version=p["api-version"])


def _accounts_create(rel: str):
    def case(emu, raw):
        ex = load(rel)
        p = ex["parameters"]
        emu.seed({"resourceGroups": [rg_id(p)]})
        return ex, raw("PUT", account_id(p), ex["parameters"]["account"], api_version=p["api-version"])
    return case


def case_accounts_update(emu, raw):
    ex = load("cognitiveservices/Accounts_Update.2025-06-01.json")
    p = ex["parameters"]
    seed_account(emu, p)
    return ex, raw("PATCH", account_id(p), p["account"], api_version=p["api-version"])


def case_pec_put(emu, raw):
    ex = load("cognitiveservices/PrivateEndpointConnections_CreateOrUpdate.2025-09-01.json")
    p = ex["parameters"]
    name = seed_pe_for(emu, raw, p)
    return ex, raw("PUT", f"{account_id(p)}/privateEndpointConnections/{name}", p["properties"],
                   api_version=p["api-version"])


def case_pec_get(emu, raw):
    ex = load("cognitiveservices/PrivateEndpointConnections_Get.2025-09-01.json")
    p = ex["parameters"]
    name = seed_pe_for(emu, raw, p)
    return ex, raw("GET", f"{account_id(p)}/privateEndpointConnections/{name}", api_version=p["api-version"])


def case_pec_list(emu, raw):
    ex = load("cognitiveservices/PrivateEndpointConnections_List.2025-09-01.json")
    p = ex["parameters"]
    seed_pe_for(emu, raw, p)
    return ex, raw("GET", f"{account_id(p)}/privateEndpointConnections", api_version=p["api-version"])


def case_plr_list(emu, raw):
    ex = load("cognitiveservices/PrivateLinkResources_List.2025-06-01.json")
    p = ex["parameters"]
    seed_account(emu, p)
    return ex, raw("GET", f"{account_id(p)}/privateLinkResources", api_version=p["api-version"])


def _pe_setup(emu, p: dict[str, Any], body: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """Seed the example's subnet and an account; point the example's connection at that account."""
    rg = rg_id(p)
    aid = f"{rg}/providers/Microsoft.CognitiveServices/accounts/acct1"
    subnet = body["properties"]["subnet"]["id"]
    vnet = subnet.rsplit("/subnets/", 1)[0]
    emu.seed({"resources": [
        {"id": aid, "kind": "OpenAI", "location": "eastus", "properties": {"customSubDomainName": "acct1"}},
        {"id": vnet, "location": body["location"], "properties": {"subnets": [
            {"name": subnet.rsplit("/", 1)[-1], "properties": {"addressPrefix": "192.168.0.0/24"}}]}}]})
    body = json.loads(json.dumps(body))
    for c in body["properties"]["privateLinkServiceConnections"]:
        c["properties"]["privateLinkServiceId"] = aid   # the example targets a privateLinkService
        c["properties"]["groupIds"] = ["account"]
    return f"{rg}/providers/Microsoft.Network/privateEndpoints/{p['privateEndpointName']}", body


def case_pe_put(emu, raw):
    ex = load("network/PrivateEndpoints_CreateOrUpdate.2024-05-01.json")
    p = ex["parameters"]
    pe_id, body = _pe_setup(emu, p, p["parameters"])
    status, headers, resp = raw("PUT", pe_id, body, api_version=p["api-version"])
    assert "azure-asyncoperation" in headers   # Network PUTs are azure-async-operation LROs
    return ex, (status, headers, resp)


def case_pe_get(emu, raw):
    ex = load("network/PrivateEndpoints_Get.2024-05-01.json")
    p = ex["parameters"]
    create = load("network/PrivateEndpoints_CreateOrUpdate.2024-05-01.json")["parameters"]["parameters"]
    pe_id, body = _pe_setup(emu, p, create)
    assert raw("PUT", pe_id, body, api_version=p["api-version"])[0] == 201
    return ex, raw("GET", pe_id, api_version=p["api-version"])


def case_zone_group_put(emu, raw):
    ex = load("network/PrivateDnsZoneGroups_CreateOrUpdate.2024-05-01.json")
    p = ex["parameters"]
    create = load("network/PrivateEndpoints_CreateOrUpdate.2024-05-01.json")["parameters"]["parameters"]
    pe_id, body = _pe_setup(emu, p, create)
    assert raw("PUT", pe_id, body, api_version=p["api-version"])[0] == 201
    for cfg in p["parameters"]["properties"]["privateDnsZoneConfigs"]:
        emu.seed({"resources": [{"id": cfg["properties"]["privateDnsZoneId"], "location": "global"}]})
    status, headers, resp = raw("PUT", f"{pe_id}/privateDnsZoneGroups/{p['privateDnsZoneGroupName']}",
                                p["parameters"], api_version=p["api-version"])
    cfg = resp["properties"]["privateDnsZoneConfigs"][0]["properties"]
    assert set(ex["responses"]["201"]["body"]["properties"]["privateDnsZoneConfigs"][0]["properties"]) <= set(cfg)
    return ex, (status, headers, resp)


def zone_id(p: dict[str, Any]) -> str:
    return f"{rg_id(p)}/providers/Microsoft.Network/privateDnsZones/{p['privateZoneName']}"


def case_zone_put(emu, raw):
    ex = load("privatedns/PrivateZones_CreateOrUpdate.2024-06-01.json")
    p = ex["parameters"]
    emu.seed({"resourceGroups": [rg_id(p)]})
    return ex, raw("PUT", zone_id(p), p["parameters"], api_version=p["api-version"])


def case_zone_put_async(emu, raw):
    emu.config.dns_lro = "aao"
    return case_zone_put(emu, raw)


def case_zone_get(emu, raw):
    ex = load("privatedns/PrivateZones_Get.2024-06-01.json")
    p = ex["parameters"]
    emu.seed({"resources": [{"id": zone_id(p), "location": "global", "tags": {"key1": "value1"}}]})
    return ex, raw("GET", zone_id(p), api_version=p["api-version"])


def case_record_put(emu, raw):
    ex = load("privatedns/RecordSets_CreateOrUpdate_A.2024-06-01.json")
    p = ex["parameters"]
    emu.seed({"resources": [{"id": zone_id(p), "location": "global"}]})
    return ex, raw("PUT", f"{zone_id(p)}/A/{p['relativeRecordSetName']}", p["parameters"],
                   api_version=p["api-version"])


def _link_put(dns_lro: str):
    def case(emu, raw):
        emu.config.dns_lro = dns_lro
        ex = load("privatedns/VirtualNetworkLinks_CreateOrUpdate.2024-06-01.json")
        p = ex["parameters"]
        # The example's VNet must exist: Azure refuses a link to a missing one (Azure/azure-cli#23351).
        vnet = p["parameters"]["properties"]["virtualNetwork"]["id"]
        emu.seed({"resources": [{"id": zone_id(p), "location": "global"}, {"id": vnet, "location": "eastus"}]})
        return ex, raw("PUT", f"{zone_id(p)}/virtualNetworkLinks/{p['virtualNetworkLinkName']}", p["parameters"],
                       api_version=p["api-version"])
    return case


CASES: dict[str, Callable] = {
    "Accounts_Get": case_accounts_get,
    "Accounts_Create.CreateAccount": _accounts_create(
        "cognitiveservices/Accounts_Create.2024-10-01.CreateAccount.json"),
    "Accounts_Create.CreateAccountMin": _accounts_create(
        "cognitiveservices/Accounts_Create.2025-09-01.CreateAccountMin.json"),
    "Accounts_Update": case_accounts_update,
    "PrivateEndpointConnections_CreateOrUpdate": case_pec_put,
    "PrivateEndpointConnections_Get": case_pec_get,
    "PrivateEndpointConnections_List": case_pec_list,
    "PrivateLinkResources_List": case_plr_list,
    "PrivateEndpoints_CreateOrUpdate": case_pe_put,
    "PrivateEndpoints_Get": case_pe_get,
    "PrivateDnsZoneGroups_CreateOrUpdate": case_zone_group_put,
    "PrivateZones_CreateOrUpdate": case_zone_put,
    "PrivateZones_CreateOrUpdate.202": case_zone_put_async,
    "PrivateZones_Get": case_zone_get,
    "RecordSets_CreateOrUpdate_A": case_record_put,
    "VirtualNetworkLinks_CreateOrUpdate": _link_put("sync"),
    "VirtualNetworkLinks_CreateOrUpdate.202": _link_put("aao"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_reference_example(emu, name):
    raw = Raw(emu)
    example, (status, headers, body) = CASES[name](emu, raw)
    check(example, status, headers, body)


def test_every_reference_example_has_a_case():
    stems = {p.name.split(".")[0] for p in Path(REFERENCE_ARM).rglob("*.json")}
    covered = {n.split(".")[0] for n in CASES}
    assert stems <= covered, f"examples without a case: {stems - covered}"
