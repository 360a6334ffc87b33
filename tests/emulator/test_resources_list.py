"""`GET /subscriptions/{s}/resources` and `…/resourceGroups/{rg}/resources` (Resources - List) as Azure answers them.

Evidence is cited in localdev/arm_emulator/handlers/resources.py and resource_filter.py; each test names its part.
"""
from __future__ import annotations

from urllib.parse import quote

import pytest

from localdev.arm_emulator import ArmEmulator
from localdev.arm_emulator.authorization import READER
from tests.helpers.emulator import ACCOUNT, RG, SUB, VNET, ZONE, Raw, base_scenario

API = "2021-04-01"
SUB_RESOURCES = f"/subscriptions/{SUB}/resources"


def get(raw: Raw, path: str, query: str = "") -> tuple[int, dict]:
    status, _, body = raw("GET", path + (("?" + quote(query, safe="=&$,'")) if query else ""), api_version=API)
    return status, body


@pytest.fixture
def raw(emu: ArmEmulator) -> Raw:
    emu.seed(base_scenario())
    emu.seed({"resources": [{"id": f"{ZONE}/virtualNetworkLinks/hub", "location": "global", "tags": {"env": "prod"},
                             "properties": {"virtualNetwork": {"id": VNET}}}]})
    return Raw(emu)


def test_items_are_shaped_as_azure_lists_them(emu: ArmEmulator, raw: Raw) -> None:
    """No `properties` (Azure/azure-sdk-for-python#1127); tracked resources only (no subnets, record sets, the
    zone's SOA); a nested resource named `<parent>/<name>`."""
    status, body = get(raw, SUB_RESOURCES)
    assert status == 200 and "nextLink" not in body
    by_type = {item["type"]: item for item in body["value"]}
    assert sorted(by_type) == ["Microsoft.CognitiveServices/accounts", "Microsoft.Network/privateDnsZones",
                               "Microsoft.Network/privateDnsZones/virtualNetworkLinks",
                               "Microsoft.Network/virtualNetworks"]
    assert by_type["Microsoft.CognitiveServices/accounts"] == {
        "id": ACCOUNT, "name": "aoai-prod", "type": "Microsoft.CognitiveServices/accounts", "sku": {"name": "S0"},
        "kind": "OpenAI", "location": "eastus", "tags": {"team": "ml"}}
    assert by_type["Microsoft.Network/privateDnsZones/virtualNetworkLinks"]["name"] == \
        "privatelink.openai.azure.com/hub"
    assert all("properties" not in item for item in body["value"])
    status, body = get(raw, f"{RG}/resources")
    assert status == 200 and [item["id"] for item in body["value"]] == [ACCOUNT]


def test_filters_by_type_and_by_tag_drop_the_tags_as_documented(emu: ArmEmulator, raw: Raw) -> None:
    """resourceType eq; tagName/tagValue ("the original tags for each resource will not be returned")."""
    _, body = get(raw, SUB_RESOURCES, "$filter=resourceType eq 'microsoft.cognitiveservices/accounts'")
    assert [item["id"] for item in body["value"]] == [ACCOUNT]
    _, body = get(raw, SUB_RESOURCES, "$filter=tagName eq 'team' and tagValue eq 'ml'")
    assert [item["id"] for item in body["value"]] == [ACCOUNT] and "tags" not in body["value"][0]
    _, body = get(raw, SUB_RESOURCES, "$filter=tagName eq 'env'")
    assert [item["type"] for item in body["value"]] == ["Microsoft.Network/privateDnsZones/virtualNetworkLinks"]
    _, body = get(raw, SUB_RESOURCES, "$filter=tagName eq 'team' and tagValue eq 'ML'")
    assert body["value"] == []   # tag values are case-sensitive
    _, body = get(raw, SUB_RESOURCES, "$filter=substringof('hub', name) or resourceType eq "
                                      "'Microsoft.CognitiveServices/accounts'")
    assert sorted(item["name"] for item in body["value"]) == ["aoai-prod", "privatelink.openai.azure.com/hub",
                                                              "vnet-hub"]


@pytest.mark.parametrize("bad", [
    "tagName eq 'team' and tagValue eq 'ml' and resourceType eq 'Microsoft.CognitiveServices/accounts'",
    "location eq 'eastus' and resourceType eq 'Microsoft.CognitiveServices/accounts'",
    "startswith(resourceType, Microsoft.Storage)",
    "$filter=resourceType eq 'Microsoft.EventGrid/systemTopics'",
    "kind eq 'OpenAI'",
    "(resourceType eq 'x')",
])
def test_anything_else_is_refused_as_an_invalid_filter(emu: ArmEmulator, raw: Raw, bad: str) -> None:
    """400 InvalidFilterInQueryString "Invalid $filter '<as received>' …" (Azure/azure-sdk-for-net#18748; a
    disallowed combination: Azure/azure-rest-api-specs#21324)."""
    status, body = get(raw, SUB_RESOURCES, "$filter=" + bad)
    assert (status, body) == (400, {"error": {"code": "InvalidFilterInQueryString",
                                              "message": f"Invalid $filter '{bad}' specified in the query string."}})


def test_top_pages_with_a_next_link_that_keeps_the_query_and_expand_adds_times(emu: ArmEmulator, raw: Raw) -> None:
    """$top is the page size, at most 1000 (400 InvalidTopInQueryString above); nextLink keeps $expand
    (projectkudu/AzureResourceExplorer#176); $expand adds createdTime, changedTime, provisioningState."""
    assert get(raw, SUB_RESOURCES, "$top=1001")[1]["error"]["code"] == "InvalidTopInQueryString"
    status, body = get(raw, SUB_RESOURCES, "$top=1&$expand=createdTime,changedTime,provisioningState")
    seen = []
    while True:
        assert status == 200 and len(body["value"]) == 1
        seen += body["value"]
        link = body.get("nextLink")
        if not link:
            break
        assert "%24expand=" in link and "%24skiptoken=" in link and "api-version=" in link
        status, _, body = raw("GET", link.split(str(emu.port), 1)[1], api_version=None)
    assert len(seen) == 4 and all({"createdTime", "changedTime", "provisioningState"} <= set(item) for item in seen)
    assert {item["provisioningState"] for item in seen} == {"Succeeded"}


def test_items_the_caller_may_not_read_are_left_out(emu: ArmEmulator, raw: Raw) -> None:
    """Reader on one resource group lists that group's resources only; no rights at all: 403 naming
    Microsoft.Resources/subscriptions/resources/read over the subscription (microsoft/startstopv2-deployments#21)."""
    emu.config.enforce_rbac = True
    oid = "6b0c1f54-0000-4000-8000-00000000000a"
    as_rita = Raw(emu, token=emu.user_token(name="Rita", upn="rita@contoso.example", object_id=oid))
    status, body = get(as_rita, SUB_RESOURCES)
    assert status == 403 and "'Microsoft.Resources/subscriptions/resources/read' over scope " \
        f"'/subscriptions/{SUB}'" in body["error"]["message"]
    emu.rbac.assign(oid, READER, RG)
    status, body = get(as_rita, SUB_RESOURCES)
    assert status == 200 and [item["id"] for item in body["value"]] == [ACCOUNT]


def test_an_unknown_subscription_or_group_is_not_found(emu: ArmEmulator, raw: Raw) -> None:
    assert get(raw, "/subscriptions/99999999-1111-2222-3333-444444444444/resources")[1]["error"]["code"] == \
        "SubscriptionNotFound"
    assert get(raw, f"/subscriptions/{SUB}/resourceGroups/rg-none/resources")[1]["error"]["code"] == \
        "ResourceGroupNotFound"
