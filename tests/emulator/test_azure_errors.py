"""Errors as Azure gives them (code, status and shape; evidence in localdev/arm_emulator/errors.py)."""
from __future__ import annotations

import pytest
from azure.core import MatchConditions
from azure.core.exceptions import HttpResponseError

from tests.helpers.emulator import ACCOUNT, DNS_RG, SUB, SUBNET, VNET, ZONE, Raw, base_scenario

PE_NAME = "pe-aoai-prod"
OTHER_DNS_RG = f"/subscriptions/{SUB}/resourceGroups/rg-dns-2"
LINK_BODY = {"location": "global", "properties": {"virtualNetwork": {"id": VNET}, "registrationEnabled": False}}


def create_pe(clients) -> None:
    clients.net.private_endpoints.begin_create_or_update("rg-net", PE_NAME, {
        "location": "eastus", "properties": {"subnet": {"id": SUBNET}, "privateLinkServiceConnections": [
            {"name": "aoai-prod", "properties": {"privateLinkServiceId": ACCOUNT, "groupIds": ["account"]}}]}}).result()


def test_second_zone_group_on_an_endpoint(emu, clients):
    emu.seed(base_scenario())
    create_pe(clients)
    group = {"properties": {"privateDnsZoneConfigs": [{"name": "oai", "properties": {"privateDnsZoneId": ZONE}}]}}
    clients.net.private_dns_zone_groups.begin_create_or_update("rg-net", PE_NAME, "default", group).result()
    with pytest.raises(HttpResponseError) as err:
        clients.net.private_dns_zone_groups.begin_create_or_update("rg-net", PE_NAME, "second", group).result()
    assert err.value.status_code == 400
    assert err.value.error.code == "MoreThanOnePrivateDnsZoneGroupPerPrivateEndpointNotAllowed"
    assert err.value.error.message.startswith(
        "Cannot create more than one private dns zone groups in the private endpoint")
    # the existing group may still be rewritten
    clients.net.private_dns_zone_groups.begin_create_or_update("rg-net", PE_NAME, "default", group).result()


@pytest.mark.parametrize("what", ["zone", "link"])
def test_private_dns_outside_global_is_location_not_available(emu, what):
    emu.seed(base_scenario())
    raw = Raw(emu)
    if what == "zone":
        path, body, rtype = f"{DNS_RG}/providers/Microsoft.Network/privateDnsZones/x.example", {"location": "eastus"}, \
            "Microsoft.Network/privateDnsZones"
    else:
        path, body, rtype = f"{ZONE}/virtualNetworkLinks/hub", {**LINK_BODY, "location": "eastus"}, \
            "Microsoft.Network/privateDnsZones/virtualNetworkLinks"
    status, _, answer = raw("PUT", path, body, api_version="2024-06-01")
    assert status == 400
    assert answer["error"] == {
        "code": "LocationNotAvailableForResourceType",
        "message": f"The provided location 'eastus' is not available for resource type '{rtype}'. "
                   "List of available regions for the resource type is 'global'."}
    assert raw("PUT", path, {**body, "location": "Global"}, api_version="2024-06-01")[0] in (200, 201, 202)


def test_put_of_a_connection_that_does_not_exist_is_405(emu, clients):
    from azure.mgmt.cognitiveservices.models import (
        PrivateEndpointConnection,
        PrivateEndpointConnectionProperties,
        PrivateLinkServiceConnectionState,
    )
    emu.seed(base_scenario())
    with pytest.raises(HttpResponseError) as err:
        clients.cog.private_endpoint_connections.begin_create_or_update(
            "rg-ai", "aoai-prod", "made-up.0000",
            PrivateEndpointConnection(properties=PrivateEndpointConnectionProperties(
                private_link_service_connection_state=PrivateLinkServiceConnectionState(status="Approved")))).result()
    assert err.value.status_code == 405 and err.value.error.code == "MethodNotAllowed"
    assert emu.store.get(f"{ACCOUNT}/privateEndpointConnections/made-up.0000") is None


def _link_put(raw, zone_id: str, name: str):
    return raw("PUT", f"{zone_id}/virtualNetworkLinks/{name}", LINK_BODY, api_version="2024-06-01")


def _status_of(raw, emu, headers) -> tuple[int, dict]:
    status, _, body = raw("GET", headers["azure-asyncoperation"].split(str(emu.port), 1)[1], api_version=None)
    return status, body


@pytest.mark.parametrize("dns_lro", ["sync", "aao"])
def test_duplicate_link_fails_its_operation_with_conflict(emu, dns_lro):
    emu.seed(base_scenario())
    emu.config.dns_lro = dns_lro
    raw = Raw(emu)
    first = _link_put(raw, ZONE, "hub")
    assert first[0] in (201, 202)
    if first[0] == 202:
        _status_of(raw, emu, first[1])
    status, headers, body = _link_put(raw, ZONE, "hub-again")
    assert status == 202 and body == {}   # accepted; the conflict arrives with the operation
    assert "privateDnsOperationStatuses" in headers["azure-asyncoperation"]
    status, op = _status_of(raw, emu, headers)
    if op["status"] == "InProgress":
        status, op = _status_of(raw, emu, headers)
    assert status == 200
    assert op == {"status": "Failed", "error": {
        "code": "Conflict",
        "message": f"Private zone 'privatelink.openai.azure.com' is already linked to the virtual network '{VNET}'."}}
    assert emu.store.get(f"{ZONE}/virtualNetworkLinks/hub-again") is None


def test_vnet_linked_to_another_zone_of_the_same_name_fails_with_bad_request(emu, clients):
    emu.seed(base_scenario())
    other_zone = f"{OTHER_DNS_RG}/providers/Microsoft.Network/privateDnsZones/privatelink.openai.azure.com"
    emu.seed({"resourceGroups": [OTHER_DNS_RG], "resources": [{"id": other_zone, "location": "global"}]})
    clients.dns.virtual_network_links.begin_create_or_update("rg-dns", "privatelink.openai.azure.com", "hub",
                                                             LINK_BODY).result()
    with pytest.raises(HttpResponseError) as err:   # what the SDK makes of the failed operation
        clients.dns.virtual_network_links.begin_create_or_update("rg-dns-2", "privatelink.openai.azure.com", "hub",
                                                                 LINK_BODY).result()
    assert err.value.error.code == "BadRequest"
    assert err.value.error.message == (
        "A virtual network cannot be linked to multiple zones with overlapping namespaces. You tried to link virtual "
        "network with 'privatelink.openai.azure.com' and 'privatelink.openai.azure.com' zones.")
    assert err.value.status_code == 200   # the status of the operation poll that reported the failure
    put = next(r for r in emu.requests if r.method == "PUT" and "rg-dns-2" in r.path)
    assert put.status == 202


def test_create_only_on_an_existing_zone_fails_its_operation_when_answered_as_azure_does(emu, clients):
    emu.seed(base_scenario())
    emu.config.dns_lro = "aao"
    with pytest.raises(HttpResponseError) as err:
        clients.dns.private_zones.begin_create_or_update("rg-dns", "privatelink.openai.azure.com",
                                                         {"location": "global"},
                                                         match_condition=MatchConditions.IfMissing).result()
    assert err.value.error.code == "PreconditionFailed"
    assert err.value.error.message == ("The Zone privatelink.openai.azure.com exists already and hence cannot be "
                                       "created again.")
    with pytest.raises(HttpResponseError) as err:
        clients.dns.virtual_network_links.begin_create_or_update("rg-dns", "privatelink.openai.azure.com", "hub",
                                                                 LINK_BODY).result()
        clients.dns.virtual_network_links.begin_create_or_update("rg-dns", "privatelink.openai.azure.com", "hub",
                                                                 LINK_BODY, match_condition=MatchConditions.IfMissing
                                                                 ).result()
    assert err.value.error.code == "PreconditionFailed"
    assert "The Virtual Network link hub for the Private DNS zone privatelink.openai.azure.com exists already" \
        in err.value.error.message
    # the zone that was there is untouched and not left busy
    assert emu.get(ZONE)["properties"]["provisioningState"] == "Succeeded"
