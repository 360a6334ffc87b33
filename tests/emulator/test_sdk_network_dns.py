"""Private endpoints, zone groups and private DNS through the real Network and Private DNS clients."""
from __future__ import annotations

import pytest
from azure.core import MatchConditions
from azure.core.exceptions import HttpResponseError, ResourceExistsError

from tests.helpers.emulator import ACCOUNT, DNS_RG, SUBNET, VNET, ZONE, Raw, base_scenario

PE_NAME = "pe-aoai-prod"


def pe_body(connections_key: str = "private_link_service_connections", subnet: str = SUBNET) -> dict:
    return {"location": "eastus", "properties": {"subnet": {"id": subnet}, {
        "private_link_service_connections": "privateLinkServiceConnections",
        "manual": "manualPrivateLinkServiceConnections"}[connections_key]: [
        {"name": "aoai-prod", "properties": {"privateLinkServiceId": ACCOUNT, "groupIds": ["account"]}}]}}


def create_pe(clients, body=None):
    return clients.net.private_endpoints.begin_create_or_update("rg-net", PE_NAME, body or pe_body()).result()


def test_pe_create_gives_approved_connection(emu, clients):
    emu.seed(base_scenario())
    pe = create_pe(clients)
    assert pe.properties.provisioning_state == "Succeeded"
    assert pe.properties.custom_dns_configs[0].fqdn == "aoai-prod.openai.azure.com"
    assert pe.properties.custom_dns_configs[0].ip_addresses == ["10.0.1.4"]
    connection = pe.properties.private_link_service_connections[0].properties
    assert connection.private_link_service_connection_state.status == "Approved"
    acct = clients.cog.accounts.get("rg-ai", "aoai-prod")
    [conn] = acct.properties.private_endpoint_connections
    assert conn.name.startswith(f"{PE_NAME}.")
    assert conn.properties.private_endpoint.id == pe.id
    assert conn.properties.private_link_service_connection_state.status == "Approved"
    assert conn.properties.private_link_service_connection_state.description == "Auto-Approved"
    seq = [(r.method, r.kind) for r in emu.requests if r.kind != "token"]
    # AAO polls and the final GET continue the PUT; the last GET is the test's own account read.
    assert seq == [("PUT", "write"), ("GET", "poll"), ("GET", "poll"), ("GET", "poll"), ("GET", "read")]
    # The same PUT again is idempotent: no second connection, same IP.
    again = create_pe(clients)
    assert again.properties.custom_dns_configs[0].ip_addresses == ["10.0.1.4"]
    assert len(emu.get(ACCOUNT)["properties"]["privateEndpointConnections"]) == 1


def test_pe_against_accepted_account(emu, clients):
    emu.seed(base_scenario(state="Accepted"))
    with pytest.raises(HttpResponseError) as err:
        create_pe(clients)
    assert err.value.status_code == 400
    assert err.value.error.code == "AccountProvisioningStateInvalid"
    assert err.value.error.message == (f"Call to Microsoft.CognitiveServices/accounts failed. Error message: "
                                       f"Account {ACCOUNT} in state Accepted")


def test_pe_against_account_still_settling(emu, clients):
    emu.seed(base_scenario())
    emu.config.account_settle_gets = 5
    emu.config.account_lro = "sync"
    Raw(emu)("PATCH", ACCOUNT, {"properties": {"publicNetworkAccess": "Disabled"}})
    with pytest.raises(HttpResponseError) as err:
        create_pe(clients)
    assert err.value.error.code == "AccountProvisioningStateInvalid"


def test_pe_bad_references(emu, clients):
    emu.seed(base_scenario())
    with pytest.raises(HttpResponseError) as err:
        create_pe(clients, pe_body(subnet=f"{VNET}/subnets/missing"))
    assert err.value.status_code == 400 and err.value.error.code == "InvalidResourceReference"
    assert f"{VNET}/subnets/missing" in err.value.error.message
    body = pe_body()
    body["properties"]["privateLinkServiceConnections"][0]["properties"]["groupIds"] = ["blob"]
    with pytest.raises(HttpResponseError) as err:
        create_pe(clients, body)
    assert err.value.status_code == 400


def test_manual_connection_pending_then_approved(emu, clients):
    from azure.mgmt.cognitiveservices.models import (
        PrivateEndpointConnection,
        PrivateEndpointConnectionProperties,
        PrivateLinkServiceConnectionState,
    )
    emu.seed(base_scenario())
    pe = create_pe(clients, pe_body("manual"))
    manual = pe.properties.manual_private_link_service_connections[0].properties
    assert manual.private_link_service_connection_state.status == "Pending"
    [conn] = clients.cog.private_endpoint_connections.list("rg-ai", "aoai-prod").value
    assert conn.properties.private_link_service_connection_state.status == "Pending"
    approved = clients.cog.private_endpoint_connections.begin_create_or_update(
        "rg-ai", "aoai-prod", conn.name, PrivateEndpointConnection(properties=PrivateEndpointConnectionProperties(
            private_link_service_connection_state=PrivateLinkServiceConnectionState(
                status="Approved", description="ok")))
    ).result()
    assert approved.properties.private_link_service_connection_state.status == "Approved"
    # Sending back the model from list() (empty privateEndpoint object) works too, also as an AAO LRO.
    emu.config.connection_lro = "aao"
    clients.cog.private_endpoint_connections.begin_create_or_update("rg-ai", "aoai-prod", conn.name, conn).result()
    pe = clients.net.private_endpoints.get("rg-net", PE_NAME)
    manual = pe.properties.manual_private_link_service_connections[0].properties
    assert manual.private_link_service_connection_state.status == "Pending"
    # (conn came from list() while Pending: sending it back sets Pending again, as Azure would)


def test_connection_put_while_account_busy(emu, clients):
    from azure.mgmt.cognitiveservices.models import (
        PrivateEndpointConnection,
        PrivateEndpointConnectionProperties,
        PrivateLinkServiceConnectionState,
    )
    emu.seed(base_scenario())
    create_pe(clients, pe_body("manual"))
    name = emu.get(ACCOUNT)["properties"]["privateEndpointConnections"][0]["name"]
    Raw(emu)("PATCH", ACCOUNT, {"properties": {"disableLocalAuth": True}})
    with pytest.raises(ResourceExistsError) as err:
        clients.cog.private_endpoint_connections.begin_create_or_update(
            "rg-ai", "aoai-prod", name, PrivateEndpointConnection(properties=PrivateEndpointConnectionProperties(
                private_link_service_connection_state=PrivateLinkServiceConnectionState(status="Approved")))).result()
    assert err.value.error.code == "RequestConflict"


def test_zone_link_zone_group_and_records(emu, clients):
    emu.seed(base_scenario(kind="AIServices"))
    emu.seed({"resourceGroups": [DNS_RG]})
    for z in ("privatelink.cognitiveservices.azure.com", "privatelink.services.ai.azure.com"):
        zone = clients.dns.private_zones.begin_create_or_update("rg-dns", z, {"location": "global"},
                                                                match_condition=MatchConditions.IfMissing).result()
        assert zone.properties.provisioning_state == "Succeeded" and zone.location == "global"
    with pytest.raises(ResourceExistsError):   # If-None-Match: * on an existing zone -> 412
        clients.dns.private_zones.begin_create_or_update("rg-dns", "privatelink.openai.azure.com",
                                                         {"location": "global"},
                                                         match_condition=MatchConditions.IfMissing).result()
    with pytest.raises(HttpResponseError) as err:
        clients.dns.private_zones.begin_create_or_update("rg-dns", "bad.example", {"location": "eastus"}).result()
    assert err.value.status_code == 400
    link = clients.dns.virtual_network_links.begin_create_or_update(
        "rg-dns", "privatelink.openai.azure.com", "vnet-hub-link",
        {"location": "global", "properties": {"virtualNetwork": {"id": VNET}, "registrationEnabled": False}}).result()
    assert link.properties.virtual_network_link_state == "Completed"
    links = clients.dns.virtual_network_links.list("rg-dns", "privatelink.openai.azure.com")
    assert [link.name for link in links] == ["vnet-hub-link"]

    create_pe(clients)
    zones = [f"{DNS_RG}/providers/Microsoft.Network/privateDnsZones/{z}" for z in (
        "privatelink.cognitiveservices.azure.com", "privatelink.openai.azure.com", "privatelink.services.ai.azure.com")]
    group = clients.net.private_dns_zone_groups.begin_create_or_update("rg-net", PE_NAME, "default", {
        "properties": {"privateDnsZoneConfigs": [
            {"name": z.rsplit("/", 1)[-1].replace(".", "-"), "properties": {"privateDnsZoneId": z}} for z in zones]}}
    ).result()
    assert group.properties.provisioning_state == "Succeeded"
    sets = {c.properties.private_dns_zone_id: c.properties.record_sets
            for c in group.properties.private_dns_zone_configs}
    assert sets[ZONE][0].record_set_name == "aoai-prod"
    assert sets[ZONE][0].ip_addresses == ["10.0.1.4"]
    for z in ("privatelink.cognitiveservices.azure.com", "privatelink.openai.azure.com",
              "privatelink.services.ai.azure.com"):
        rec = clients.dns.record_sets.get("rg-dns", z, "A", "aoai-prod")
        assert rec.properties.a_records[0].ipv4_address == "10.0.1.4"
        assert rec.properties.fqdn == f"aoai-prod.{z}."
    assert clients.dns.private_zones.get("rg-dns", "privatelink.openai.azure.com").properties.number_of_record_sets == 2
    # note the Network SDK's argument order here: (private_endpoint_name, resource_group_name)
    assert [g.name for g in clients.net.private_dns_zone_groups.list(PE_NAME, "rg-net")] == ["default"]

    with pytest.raises(HttpResponseError) as err:   # one zone group per private endpoint
        clients.net.private_dns_zone_groups.begin_create_or_update("rg-net", PE_NAME, "second", {
            "properties": {"privateDnsZoneConfigs": [
                {"name": "z", "properties": {"privateDnsZoneId": zones[0]}}]}}).result()
    assert err.value.status_code == 400
    with pytest.raises(HttpResponseError) as err:
        clients.net.private_dns_zone_groups.begin_create_or_update("rg-net", PE_NAME, "default", {
            "properties": {"privateDnsZoneConfigs": [{"name": "z", "properties": {
                "privateDnsZoneId": f"{DNS_RG}/providers/Microsoft.Network/privateDnsZones/nope.example"}}]}}).result()
    assert err.value.error.code == "InvalidPrivateDnsZoneIds"

    clients.net.private_dns_zone_groups.begin_delete("rg-net", PE_NAME, "default").result()
    assert emu.store.get(f"{ZONE}/A/aoai-prod") is None


def test_pe_delete_removes_connection_and_records(emu, clients):
    emu.seed(base_scenario())
    pe = create_pe(clients)
    clients.net.private_dns_zone_groups.begin_create_or_update("rg-net", PE_NAME, "default", {
        "properties": {"privateDnsZoneConfigs": [{"name": "oai", "properties": {"privateDnsZoneId": ZONE}}]}}).result()
    assert emu.store.get(f"{ZONE}/A/aoai-prod") is not None
    clients.net.private_endpoints.begin_delete("rg-net", PE_NAME).result()
    assert emu.store.get(pe.id) is None
    assert emu.get(ACCOUNT)["properties"]["privateEndpointConnections"] == []
    assert emu.store.get(f"{ZONE}/A/aoai-prod") is None


def test_provider_removes_connection_pe_reads_disconnected(emu, clients):
    emu.seed(base_scenario())
    create_pe(clients)
    name = emu.get(ACCOUNT)["properties"]["privateEndpointConnections"][0]["name"]
    clients.cog.private_endpoint_connections.begin_delete("rg-ai", "aoai-prod", name).result()
    pe = clients.net.private_endpoints.get("rg-net", PE_NAME)
    connection = pe.properties.private_link_service_connections[0].properties
    assert connection.private_link_service_connection_state.status == "Disconnected"


def test_dns_async_mode_and_record_put(emu, clients):
    emu.seed(base_scenario())
    emu.config.dns_lro = "aao"
    zone = clients.dns.private_zones.begin_create_or_update("rg-dns", "privatelink.cognitiveservices.azure.com",
                                                           {"location": "Global"}).result()
    assert zone.name == "privatelink.cognitiveservices.azure.com"
    polls = [r for r in emu.requests if r.kind == "poll"]
    assert polls and "privateDnsOperationStatuses" in polls[0].path
    rec = clients.dns.record_sets.create_or_update(
        "rg-dns", "privatelink.openai.azure.com", "A", "manual",
        {"properties": {"aRecords": [{"ipv4Address": "10.0.1.50"}], "ttl": 10}})
    assert rec.properties.fqdn == "manual.privatelink.openai.azure.com."
    # Every zone holds its SOA record set at '@' (Azure/azure-cli recording
    # test_ListRecordSetsAcrossType_DefaultRecordSetPresent_ExpectDefaultRecordSetRetrieved.yaml).
    assert [r.name for r in clients.dns.record_sets.list("rg-dns", "privatelink.openai.azure.com")] == ["@", "manual"]


def test_seeded_estate_is_complete(emu):
    pe_id = ("/subscriptions/00000000-1111-2222-3333-444444444444/resourceGroups/rg-net"
             "/providers/Microsoft.Network/privateEndpoints/pe-x")
    scenario = base_scenario()
    scenario["resources"] = [
        {"id": f"{pe_id}/privateDnsZoneGroups/default", "properties": {"privateDnsZoneConfigs": [
            {"name": "oai", "properties": {"privateDnsZoneId": ZONE}}]}},
        {"id": pe_id, "location": "eastus", "properties": {"subnet": {"id": SUBNET}, "privateLinkServiceConnections": [
            {"name": "c", "properties": {"privateLinkServiceId": ACCOUNT, "groupIds": ["account"]}}]}},
        {"id": f"{ZONE}/virtualNetworkLinks/hub", "location": "global", "properties": {"virtualNetwork": {"id": VNET}}},
    ] + scenario["resources"]   # deliberately out of dependency order
    emu.seed(scenario)
    acct = emu.get(ACCOUNT)
    connection = acct["properties"]["privateEndpointConnections"][0]["properties"]
    assert connection["privateLinkServiceConnectionState"]["status"] == "Approved"
    assert acct["etag"].startswith("W/") and acct["properties"]["endpoint"] == "https://aoai-prod.openai.azure.com/"
    assert emu.store.get(f"{ZONE}/A/aoai-prod")["properties"]["aRecords"] == [{"ipv4Address": "10.0.1.4"}]
    assert emu.get(VNET)["properties"]["subnets"][0]["properties"]["addressPrefix"] == "10.0.1.0/24"


def test_two_endpoints_sharing_a_zone_leave_the_last_writers_address(emu, clients):
    """Azure does not merge a shared record: the last zone group written wins, and removing either endpoint
    deletes the record (see world.write_zone_group_records for the evidence)."""
    emu.seed(base_scenario())
    group = {"properties": {"privateDnsZoneConfigs": [{"name": "oai", "properties": {"privateDnsZoneId": ZONE}}]}}
    create_pe(clients)
    clients.net.private_endpoints.begin_create_or_update("rg-net", "pe-second", pe_body()).result()
    clients.net.private_dns_zone_groups.begin_create_or_update("rg-net", PE_NAME, "default", group).result()
    assert emu.store.get(f"{ZONE}/A/aoai-prod")["properties"]["aRecords"] == [{"ipv4Address": "10.0.1.4"}]
    etag = emu.store.get(f"{ZONE}/A/aoai-prod")["etag"]

    clients.net.private_dns_zone_groups.begin_create_or_update("rg-net", "pe-second", "default", group).result()

    record = emu.store.get(f"{ZONE}/A/aoai-prod")
    assert record["properties"]["aRecords"] == [{"ipv4Address": "10.0.1.5"}] and record["etag"] != etag
    clients.net.private_endpoints.begin_delete("rg-net", PE_NAME).result()
    assert emu.store.get(f"{ZONE}/A/aoai-prod") is None


def test_a_record_put_with_a_stale_etag_is_refused(emu, clients):
    emu.seed(base_scenario())
    create_pe(clients)
    clients.net.private_dns_zone_groups.begin_create_or_update("rg-net", PE_NAME, "default", {"properties": {
        "privateDnsZoneConfigs": [{"name": "oai", "properties": {"privateDnsZoneId": ZONE}}]}}).result()
    read = clients.dns.record_sets.get("rg-dns", "privatelink.openai.azure.com", "A", "aoai-prod")
    body = {"properties": {"ttl": 10, "aRecords": [{"ipv4Address": "10.0.1.4"}]}}
    clients.dns.record_sets.create_or_update("rg-dns", "privatelink.openai.azure.com", "A", "aoai-prod", body,
                                             etag=read.etag, match_condition=MatchConditions.IfNotModified)
    with pytest.raises(HttpResponseError) as err:  # the etag changed with that write
        clients.dns.record_sets.create_or_update("rg-dns", "privatelink.openai.azure.com", "A", "aoai-prod", body,
                                                 etag=read.etag, match_condition=MatchConditions.IfNotModified)
    assert err.value.status_code == 412
    with pytest.raises(ResourceExistsError):
        clients.dns.record_sets.create_or_update("rg-dns", "privatelink.openai.azure.com", "A", "aoai-prod", body,
                                                 match_condition=MatchConditions.IfMissing)
