"""What Azure refuses and the emulator used to accept: unknown api-versions, a custom subdomain another account holds,
references to missing subnets and virtual networks. Evidence is named in each test and next to the code."""
from __future__ import annotations

import pytest
from azure.core.exceptions import HttpResponseError

from localdev.arm_emulator import ArmEmulator
from tests.helpers.emulator import ACCOUNT, RG, SUB, SUBNET, VNET, ZONE, Raw, base_scenario

OTHER = f"{RG}/providers/Microsoft.CognitiveServices/accounts/aoai-other"
PE = f"/subscriptions/{SUB}/resourceGroups/rg-net/providers/Microsoft.Network/privateEndpoints/pe-x"


@pytest.fixture
def raw(emu: ArmEmulator) -> Raw:
    emu.seed(base_scenario())
    return Raw(emu)


# -- api-versions ---------------------------------------------------------------------------------------------------
def test_a_provider_path_with_an_unknown_api_version_is_refused(emu: ArmEmulator, raw: Raw) -> None:
    """400 NoRegisteredProviderFound naming location, version, the last type segment, the supported versions and
    locations (Azure/azure-cli#7075, status per #23985)."""
    status, _, body = raw("GET", ZONE, api_version="2025-09-01")
    assert (status, body) == (400, {"error": {"code": "NoRegisteredProviderFound", "message": (
        "No registered resource provider found for location 'global' and API version '2025-09-01' for type "
        "'privateDnsZones'. The supported api-versions are '2024-06-01, 2020-06-01, 2020-01-01, 2018-09-01'. The "
        "supported locations are 'global'.")}})
    status, _, body = raw("GET", ACCOUNT, api_version="2099-01-01")
    assert status == 400 and "location 'eastus'" in body["error"]["message"] and \
        "for type 'accounts'" in body["error"]["message"] and "'2026-07-01, " in body["error"]["message"]
    assert raw("GET", ACCOUNT, api_version="2025-09-01")[0] == 200


def test_resource_managers_own_paths_answer_invalid_api_version(emu: ArmEmulator, raw: Raw) -> None:
    """400 InvalidApiVersionParameter, the versions joined by "," (hashicorp/vault-plugin-secrets-azure#13)."""
    status, _, body = raw("GET", RG, api_version="2099-01-01")
    assert status == 400 and body["error"]["code"] == "InvalidApiVersionParameter"
    assert body["error"]["message"].startswith("The api-version '2099-01-01' is invalid. The supported versions are "
                                               "'2025-04-01,2025-03-01,")
    assert raw("GET", RG, api_version="2024-11-01")[0] == 200


def test_the_sdk_clients_versions_are_served(emu: ArmEmulator, raw: Raw, clients) -> None:
    """What the app's SDK clients send (azure-mgmt-cognitiveservices 14.1.0, -network 33.1.0, -privatedns 2.0.0)."""
    assert clients.cog.accounts.get("rg-ai", "aoai-prod").name == "aoai-prod"
    assert clients.net.virtual_networks.get("rg-net", "vnet-hub").name == "vnet-hub"
    assert clients.dns.private_zones.get("rg-dns", "privatelink.openai.azure.com").name == \
        "privatelink.openai.azure.com"


# -- custom subdomains ----------------------------------------------------------------------------------------------
def account_body(subdomain: str) -> dict:
    return {"location": "eastus", "kind": "OpenAI", "sku": {"name": "S0"},
            "properties": {"customSubDomainName": subdomain}}


def test_a_subdomain_another_account_holds_is_refused(emu: ArmEmulator, raw: Raw) -> None:
    """409 CustomDomainInUse at the PUT (microsoft/microsoft-foundry-for-vscode#107; Azure-Samples/azuresandbox#164),
    names compared case-insensitively; an account keeps its own."""
    status, _, body = raw("PUT", OTHER, account_body("AOAI-prod"))
    assert (status, body) == (409, {"error": {"code": "CustomDomainInUse", "message": (
        "Please pick a different name. The subdomain name 'AOAI-prod' is not available as it's already used by a "
        "resource. If the resource using the name was deleted in the last 48 hours, you may need to purge the "
        'deleted resource. Learn more at "https://go.microsoft.com/fwlink/?linkid=2215493"')}})
    assert emu.get(OTHER) is None
    assert raw("PUT", ACCOUNT, {**account_body("aoai-prod"), "tags": {"x": "y"}})[0] == 202
    assert raw("PUT", OTHER, {**account_body("aoai-other")})[0] == 202


def test_an_invalid_subdomain_is_refused(emu: ArmEmulator, raw: Raw) -> None:
    """400 CustomDomainInvalid "Sub domain name 'ai_foundry-resource' is not valid." (foundry-for-vscode#121)."""
    status, _, body = raw("PUT", OTHER, account_body("ai_foundry-resource"))
    assert (status, body) == (400, {"error": {"code": "CustomDomainInvalid",
                                              "message": "Sub domain name 'ai_foundry-resource' is not valid."}})


def test_check_domain_availability(emu: ArmEmulator, raw: Raw, clients) -> None:
    """The spec example CheckDomainAvailability.json (2025-06-01) for an invalid name; a free name is available."""
    path = f"/subscriptions/{SUB}/providers/Microsoft.CognitiveServices/checkDomainAvailability"
    kind = "Microsoft.CognitiveServices/accounts"
    assert raw("POST", path, {"subdomainName": "contoso_1", "type": kind})[2] == {
        "isSubdomainAvailable": False, "reason": "Sub domain name 'contoso_1' is not valid",
        "subdomainName": "contoso_1", "type": kind}
    taken = raw("POST", path, {"subdomainName": "aoai-prod", "type": kind})[2]
    assert taken["isSubdomainAvailable"] is False and "already used by a resource" in taken["reason"]
    free = clients.cog.check_domain_availability("aoai-free", kind)
    assert free.is_subdomain_available is True and free.subdomain_name == "aoai-free"


# -- references to missing resources --------------------------------------------------------------------------------
def test_an_endpoint_naming_a_missing_subnet_is_refused_with_details(emu: ArmEmulator, raw: Raw) -> None:
    """400 InvalidResourceReference with `"details": []` (MicrosoftDocs/azure-docs#81734; Azure/azure-cli#13614)."""
    missing = f"{VNET}/subnets/nope"
    status, _, body = raw("PUT", PE, {"location": "eastus", "properties": {"subnet": {"id": missing},
                          "privateLinkServiceConnections": [{"name": "c", "properties": {
                              "privateLinkServiceId": ACCOUNT, "groupIds": ["account"]}}]}})
    assert (status, body) == (400, {"error": {"code": "InvalidResourceReference", "message": (
        f"Resource {missing} referenced by resource {PE} was not found. Please make sure that the referenced "
        "resource exists, and that both resources are in the same region."), "details": []}})


def test_a_link_to_a_missing_vnet_is_refused(emu: ArmEmulator, raw: Raw, clients) -> None:
    """Azure/azure-cli#23351: BadRequest "Virtual network resource not found for '<id>'", unwrapped as Private DNS
    answers (Azure/azure-rest-api-specs#31176)."""
    missing = VNET.replace("vnet-hub", "vnet-gone")
    status, _, body = raw("PUT", f"{ZONE}/virtualNetworkLinks/gone", {"location": "global", "properties": {
        "virtualNetwork": {"id": missing}, "registrationEnabled": False}}, api_version="2024-06-01")
    assert (status, body) == (400, {"code": "BadRequest",
                                    "message": f"Virtual network resource not found for '{missing}'"})
    with pytest.raises(HttpResponseError) as err:
        clients.dns.virtual_network_links.begin_create_or_update("rg-dns", "privatelink.openai.azure.com", "gone", {
            "location": "global", "properties": {"virtualNetwork": {"id": missing}}}).result()
    assert err.value.status_code == 400 and err.value.error.code == "BadRequest"


def test_an_account_rule_naming_a_missing_subnet_is_refused_only_when_switched_on(emu: ArmEmulator,
                                                                                  raw: Raw) -> None:
    """Unevidenced for Cognitive Services (EmulatorConfig.acl_missing_subnet): accepted by default, 400 when set."""
    acls = {"properties": {"networkAcls": {"defaultAction": "Deny", "virtualNetworkRules": [
        {"id": f"{VNET}/subnets/deleted"}]}}}
    emu.config.acl_missing_subnet = "refuse"
    status, _, body = raw("PATCH", ACCOUNT, acls)
    assert status == 400 and body["error"]["code"] == "NetworkAclsValidationFailure"
    existing = {"properties": {"networkAcls": {"defaultAction": "Deny", "virtualNetworkRules": [{"id": SUBNET}]}}}
    assert raw("PATCH", ACCOUNT, existing)[0] == 202
    emu.reset()
    emu.seed(base_scenario())
    assert raw("PATCH", ACCOUNT, acls)[0] == 202
