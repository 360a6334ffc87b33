"""What a general client (the Azure CLI) reads before it touches a resource: subscriptions, provider
metadata, paths with `//`, Retry-After on long-running operations, and a second managed identity."""
from __future__ import annotations

import re

from localdev.arm_emulator import providers
from localdev.arm_emulator.ids import parse_path
from tests.helpers.emulator import ACCOUNT, SUB, SUBNET, Raw, base_scenario

PE = f"/subscriptions/{SUB}/resourceGroups/rg-net/providers/Microsoft.Network/privateEndpoints/pe-meta"
API_VERSION = re.compile(r"^\d{4}-\d{2}-\d{2}(-preview)?$")


def test_subscriptions_list_and_get(emu):
    emu.seed(base_scenario())
    raw = Raw(emu)
    status, _, body = raw("GET", "/subscriptions", api_version="2022-12-01")
    assert status == 200
    assert [s["subscriptionId"] for s in body["value"]] == [SUB]
    sub = body["value"][0]
    assert sub["id"] == f"/subscriptions/{SUB}" and sub["tenantId"] == emu.app_identity.tenant_id
    assert sub["state"] == "Enabled" and set(sub["subscriptionPolicies"]) == {
        "locationPlacementId", "quotaId", "spendingLimit"}
    assert body["count"] == {"type": "Total", "value": 1}
    status, _, one = raw("GET", f"/subscriptions/{SUB.upper()}", api_version="2022-12-01")
    assert status == 200 and one == sub
    status, _, error = raw("GET", "/subscriptions/99999999-0000-0000-0000-000000000000", api_version="2022-12-01")
    assert status == 404 and error["error"]["code"] == "SubscriptionNotFound"
    assert error["error"]["message"] == "The subscription '99999999-0000-0000-0000-000000000000' could not be found."
    assert raw("GET", "/subscriptions", api_version=None)[0] == 400  # MissingApiVersionParameter, like any call


def test_provider_metadata_lists_api_versions_newest_first(emu):
    emu.seed(base_scenario())
    raw = Raw(emu)
    status, _, cog = raw("GET", f"/subscriptions/{SUB}/providers/microsoft.cognitiveservices", api_version="2024-11-01")
    assert status == 200
    assert cog["id"] == f"/subscriptions/{SUB}/providers/Microsoft.CognitiveServices"
    assert cog["namespace"] == "Microsoft.CognitiveServices" and cog["registrationState"] == "Registered"
    accounts = next(t for t in cog["resourceTypes"] if t["resourceType"] == "accounts")
    versions = accounts["apiVersions"]
    assert versions == sorted(versions, reverse=True) and all(API_VERSION.match(v) for v in versions)
    # What the Azure CLI picks without --api-version: the first stable one; the app's SDK version is listed.
    assert next(v for v in versions if "preview" not in v) == "2026-07-01"
    assert "2025-09-01" in versions and "East US" in accounts["locations"]
    _, _, net = raw("GET", f"/subscriptions/{SUB}/providers/Microsoft.Network", api_version="2024-11-01")
    by_type = {t["resourceType"]: t for t in net["resourceTypes"]}
    # The versions the clients here send: azure-mgmt-network 33.1.0, the CLI's network commands, privatedns.
    assert {"2026-03-01", "2026-01-01", "2024-05-01"} <= set(by_type["privateEndpoints"]["apiVersions"])
    assert by_type["privateDnsZones"]["apiVersions"] == ["2024-06-01", "2020-06-01", "2020-01-01", "2018-09-01"]
    assert by_type["privateDnsZones"]["locations"] == ["global"]
    status, _, listed = raw("GET", f"/subscriptions/{SUB}/providers", api_version="2024-11-01")
    assert status == 200 and [p["namespace"] for p in listed["value"]] == [p.namespace for p in providers.PROVIDERS]
    status, _, error = raw("GET", f"/subscriptions/{SUB}/providers/Microsoft.Nope", api_version="2024-11-01")
    assert status == 404 and error["error"] == {"code": "InvalidResourceNamespace",
                                                "message": "The resource namespace 'Microsoft.Nope' is invalid."}


def test_empty_path_segments_are_collapsed(emu):
    """`az resource show -g rg -n x --resource-type Microsoft.CognitiveServices/accounts` sends
    `…/providers/Microsoft.CognitiveServices//accounts/x` (no parent resource path)."""
    emu.seed(base_scenario())
    doubled = ACCOUNT.replace("/accounts/", "//accounts/").replace("/resourceGroups/", "/resourcegroups/")
    status, _, body = Raw(emu)("GET", doubled)
    assert status == 200 and body["id"] == ACCOUNT
    assert parse_path("/subscriptions/s//resourceGroups/rg//providers/Microsoft.Network//privateEndpoints/pe") == \
        parse_path("/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/privateEndpoints/pe")


def _pe_body() -> dict:
    return {"location": "eastus", "properties": {"subnet": {"id": SUBNET}, "privateLinkServiceConnections": [
        {"name": "c", "properties": {"privateLinkServiceId": ACCOUNT, "groupIds": ["account"]}}]}}


def test_one_retry_after_when_configured_on_running_operations_only(emu):
    emu.seed(base_scenario())
    raw = Raw(emu)
    status, headers, _ = raw("PUT", PE, _pe_body(), api_version="2024-05-01")
    assert status == 201 and "retry-after" not in headers  # default: none, so SDK tests poll at their own pace
    emu.config.lro_retry_after_s = 1
    status, headers, _ = raw("PUT", PE.replace("pe-meta", "pe-meta-2"), _pe_body(), api_version="2024-05-01")
    assert status == 201 and headers["retry-after"] == "1"
    operation = headers["azure-asyncoperation"].split(emu.url, 1)[1]
    status, headers, body = raw("GET", operation, api_version=None)
    assert body["status"] == "InProgress" and headers["retry-after"] == "1"
    status, headers, body = raw("GET", operation, api_version=None)
    assert body["status"] == "Succeeded" and "retry-after" not in headers
    status, headers, _ = raw("GET", PE)
    assert status == 200 and "retry-after" not in headers  # reads never carry it
    status, headers, _ = raw("PATCH", ACCOUNT, {"properties": {"publicNetworkAccess": "Disabled"}})
    assert status == 202 and headers["retry-after"] == "1" and "azure-asyncoperation" in headers


def test_token_endpoint_serves_the_operator_identity_by_client_id(emu):
    raw = Raw(emu, token=None)
    headers = {"X-IDENTITY-HEADER": emu.identity_header}
    path = "/msi/token?api-version=2019-08-01&resource=" + emu.url
    operator = emu.operator_identity
    for selector in (f"client_id={operator.client_id}", f"object_id={operator.object_id}",
                     f"mi_res_id={operator.mi_resource_id}"):
        status, _, body = raw("GET", f"{path}&{selector}", headers=headers, api_version=None)
        assert status == 200 and body["client_id"] == operator.client_id
        claims = emu.tokens.verify(body["access_token"], emu.audiences())
        assert (claims["oid"], claims["appid"], claims["xms_mirid"]) == (
            operator.object_id, operator.client_id, operator.mi_resource_id)
    _, _, app = raw("GET", path, headers=headers, api_version=None)  # no selector: the app's own identity
    assert emu.tokens.verify(app["access_token"], emu.audiences())["oid"] == emu.app_identity.object_id
    assert operator.object_id != emu.app_identity.object_id and operator.tenant_id == emu.app_identity.tenant_id
    assert emu.identities() == [emu.app_identity, operator]
