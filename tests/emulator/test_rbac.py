"""Azure RBAC in the ARM emulator, through the real SDK clients the app uses (raw HTTPS for Microsoft.Authorization):
each route the app takes answers 403 without its role assignment and succeeds with the role infra/roles.json
defines, assigned where main.bicep assigns it; scopes inherit; notActions subtract; wildcards match; a role
naming an action its provider does not publish is refused."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import pytest
from azure.core.exceptions import HttpResponseError

from localdev.arm_emulator import ArmEmulator
from localdev.arm_emulator.authorization import OWNER, READER
from localdev.arm_emulator.tokens import user_object_id
from localdev.rights import load, role_guid
from tests.helpers.emulator import ACCOUNT, DNS_RG, NET_RG, RG, SUB, SUBNET, VNET, ZONE, Raw, base_scenario

ROLES = {role.key: role for role in load()}
PE = f"{NET_RG}/providers/Microsoft.Network/privateEndpoints/pe-aoai-prod"
MANUAL_PE = f"{NET_RG}/providers/Microsoft.Network/privateEndpoints/pe-manual"
SUBSCRIPTION = f"/subscriptions/{SUB}"
AUTH_API = "2022-04-01"
DANA = "dana@contoso.example"


@pytest.fixture
def enforced(emu: ArmEmulator) -> ArmEmulator:
    """The base estate (account, hub VNet, zone), an endpoint with a zone group, a manual Pending endpoint,
    enforcement on, and no rights for the app."""
    emu.seed(base_scenario())
    emu.seed({"resources": [
        {"id": PE, "location": "eastus", "properties": {"subnet": {"id": SUBNET}, "privateLinkServiceConnections": [
            {"name": "c", "properties": {"privateLinkServiceId": ACCOUNT, "groupIds": ["account"]}}]}},
        {"id": f"{PE}/privateDnsZoneGroups/default", "properties": {"privateDnsZoneConfigs": [
            {"name": "openai", "properties": {"privateDnsZoneId": ZONE}}]}},
        {"id": MANUAL_PE, "location": "eastus", "properties": {"subnet": {"id": SUBNET},
         "manualPrivateLinkServiceConnections": [
            {"name": "m", "properties": {"privateLinkServiceId": ACCOUNT, "groupIds": ["account"]}}]}},
    ]})
    emu.config.enforce_rbac = True
    return emu


def grant(emu: ArmEmulator, key: str, scope: str) -> None:
    """The app's role `key` from infra/roles.json, assigned to its identity at `scope`."""
    role = ROLES[key]
    emu.rbac.define(role.role_name, [a.action for a in role.actions], name=role_guid(role),
                    assignable_scopes=[SUBSCRIPTION])
    emu.rbac.assign(emu.app_identity.object_id, role_guid(role), scope)


def denied(emu: ArmEmulator, action: str, scope: str, client: str | None = None, oid: str | None = None) -> str:
    oid = oid or emu.app_identity.object_id
    return (f"The client '{client or oid}' with object id '{oid}' does not have authorization to perform action "
            f"'{action}' over scope '{scope}' or the scope is invalid. If access was recently granted, please "
            "refresh your credentials.")


def linked(emu: ArmEmulator, action: str, scope: str, linked_action: str, linked_scope: str) -> str:
    oid = emu.app_identity.object_id
    return (f"The client '{oid}' with object id '{oid}' has permission to perform action '{action}' on scope "
            f"'{scope}'; however, it does not have permission to perform action '{linked_action}' on the linked "
            f"scope(s) '{linked_scope}' or the linked scope(s) are invalid.")


def refused(call: Callable[[], Any]) -> HttpResponseError:
    with pytest.raises(HttpResponseError) as err:
        call()
    assert err.value.status_code == 403
    return err.value


def pe_body(manual: bool = False) -> dict[str, Any]:
    key = "manualPrivateLinkServiceConnections" if manual else "privateLinkServiceConnections"
    return {"location": "eastus", "properties": {"subnet": {"id": SUBNET}, key: [
        {"name": "aoai-prod", "properties": {"privateLinkServiceId": ACCOUNT, "groupIds": ["account"]}}]}}


# -- the app's routes --------------------------------------------------------------------------------------
def test_read_account(enforced, clients):
    def read():
        return clients.cog.accounts.get("rg-ai", "aoai-prod")
    err = refused(read)
    assert err.error.code == "AuthorizationFailed"
    assert err.error.message == denied(enforced, "Microsoft.CognitiveServices/accounts/read", ACCOUNT)
    grant(enforced, "accounts", RG)
    assert read().name == "aoai-prod"


def test_list_accounts_in_a_resource_group(enforced, clients):
    def listing():
        return list(clients.cog.accounts.list_by_resource_group("rg-ai"))
    err = refused(listing)
    assert err.error.message == denied(enforced, "Microsoft.CognitiveServices/accounts/read",
                                       f"{RG}/providers/Microsoft.CognitiveServices")
    grant(enforced, "accounts", RG)
    assert [a.name for a in listing()] == ["aoai-prod"]


def test_list_accounts_in_a_subscription_needs_the_subscription(enforced, clients):
    """A collection GET is authorized at the scope in its URL: the resource group's assignment does not list
    the subscription."""
    grant(enforced, "accounts", RG)
    def listing():
        return list(clients.cog.accounts.list())
    err = refused(listing)
    assert err.error.message == denied(enforced, "Microsoft.CognitiveServices/accounts/read",
                                       f"{SUBSCRIPTION}/providers/Microsoft.CognitiveServices")
    grant(enforced, "accounts", SUBSCRIPTION)
    assert [a.name for a in listing()] == ["aoai-prod"]


def test_read_private_endpoint(enforced, clients):
    def read():
        return clients.net.private_endpoints.get("rg-net", "pe-aoai-prod")
    assert refused(read).error.message == denied(enforced, "Microsoft.Network/privateEndpoints/read", PE)
    grant(enforced, "network", NET_RG)
    assert read().id.lower() == PE.lower()


def test_list_private_endpoints_in_a_resource_group_and_a_subscription(enforced, clients):
    grant(enforced, "network", NET_RG)
    assert len(list(clients.net.private_endpoints.list("rg-net"))) == 2
    err = refused(lambda: list(clients.net.private_endpoints.list_by_subscription()))
    assert err.error.message == denied(enforced, "Microsoft.Network/privateEndpoints/read",
                                       f"{SUBSCRIPTION}/providers/Microsoft.Network")
    grant(enforced, "network", SUBSCRIPTION)
    assert len(list(clients.net.private_endpoints.list_by_subscription())) == 2


def test_create_private_endpoint_needs_its_write_the_subnet_and_the_accounts_approval(enforced, clients):
    def create():
        return clients.net.private_endpoints.begin_create_or_update(
            "rg-net", "pe-new", pe_body()).result()
    new = f"{NET_RG}/providers/Microsoft.Network/privateEndpoints/pe-new"
    assert refused(create).error.message == denied(enforced, "Microsoft.Network/privateEndpoints/write", new)
    grant(enforced, "network", NET_RG)
    err = refused(create)
    assert err.error.code == "LinkedAuthorizationFailed"
    # Azure names this linked action without its provider (MicrosoftDocs/azure-docs#96892).
    assert err.error.message == linked(enforced, "Microsoft.Network/privateEndpoints/write", new,
                                       "PrivateEndpointConnectionsApproval/action", ACCOUNT)
    grant(enforced, "accounts", RG)
    created = create()
    assert created.properties.private_link_service_connections[0].properties \
        .private_link_service_connection_state.status == "Approved"
    record = next(r for r in enforced.requests if r.method == "PUT" and r.status == 201)
    assert record.linked_operations == ("Microsoft.Network/virtualNetworks/subnets/join/action",
                                        "Microsoft.CognitiveServices/accounts/privateEndpointConnectionsApproval/action")
    assert record.linked_scopes == (SUBNET, ACCOUNT)


def test_create_private_endpoint_without_the_subnet_join(enforced, clients):
    role = enforced.rbac.define("endpoints only", ["Microsoft.Network/privateEndpoints/*"],
                                assignable_scopes=[SUBSCRIPTION])
    enforced.rbac.assign(enforced.app_identity.object_id, role.name, NET_RG)
    grant(enforced, "accounts", RG)
    err = refused(lambda: clients.net.private_endpoints.begin_create_or_update("rg-net", "pe-new", pe_body()).result())
    assert err.error.message == linked(enforced, "Microsoft.Network/privateEndpoints/write",
                                       f"{NET_RG}/providers/Microsoft.Network/privateEndpoints/pe-new",
                                       "Microsoft.Network/virtualNetworks/subnets/join/action", SUBNET)


def test_a_manual_endpoint_needs_no_right_on_the_account(enforced, clients):
    grant(enforced, "network", NET_RG)
    pe = clients.net.private_endpoints.begin_create_or_update("rg-net", "pe-new", pe_body(manual=True)).result()
    assert pe.properties.manual_private_link_service_connections[0].properties \
        .private_link_service_connection_state.status == "Pending"


def test_read_zone_group(enforced, clients):
    def read():
        return clients.net.private_dns_zone_groups.get("rg-net", "pe-aoai-prod", "default")
    assert refused(read).error.message == denied(
        enforced, "Microsoft.Network/privateEndpoints/privateDnsZoneGroups/read", f"{PE}/privateDnsZoneGroups/default")
    grant(enforced, "network", NET_RG)
    assert read().name == "default"


def test_write_zone_group_needs_the_zones_join(enforced, clients):
    body = {"properties": {"privateDnsZoneConfigs": [{"name": "openai", "properties": {"privateDnsZoneId": ZONE}}]}}
    def write():
        return clients.net.private_dns_zone_groups.begin_create_or_update(
            "rg-net", "pe-aoai-prod", "default", body).result()
    group = f"{PE}/privateDnsZoneGroups/default"
    assert refused(write).error.code == "AuthorizationFailed"
    grant(enforced, "network", NET_RG)
    err = refused(write)
    assert err.error.message == linked(enforced, "Microsoft.Network/privateEndpoints/privateDnsZoneGroups/write",
                                       group, "Microsoft.Network/privateDnsZones/join/action", ZONE)
    grant(enforced, "dns", DNS_RG)
    assert write().name == "default"


def test_create_zone(enforced, clients):
    def create():
        return clients.dns.private_zones.begin_create_or_update(
            "rg-dns", "privatelink.cognitiveservices.azure.com", {"location": "global"}).result()
    assert refused(create).error.message == denied(
        enforced, "Microsoft.Network/privateDnsZones/write",
        f"{DNS_RG}/providers/Microsoft.Network/privateDnsZones/privatelink.cognitiveservices.azure.com")
    grant(enforced, "dns", DNS_RG)
    assert create().name == "privatelink.cognitiveservices.azure.com"


def test_create_link_needs_the_vnets_join(enforced, clients):
    body = {"location": "global", "properties": {"virtualNetwork": {"id": VNET}, "registrationEnabled": False}}
    def create():
        return clients.dns.virtual_network_links.begin_create_or_update(
            "rg-dns", "privatelink.openai.azure.com", "hub", body).result()
    grant(enforced, "dns", DNS_RG)
    err = refused(create)
    assert err.error.message == linked(enforced, "Microsoft.Network/privateDnsZones/virtualNetworkLinks/write",
                                       f"{ZONE}/virtualNetworkLinks/hub",
                                       "Microsoft.Network/virtualNetworks/join/action", VNET)
    grant(enforced, "network", NET_RG)
    assert create().name == "hub"


def test_list_links(enforced, clients):
    def listing():
        return list(clients.dns.virtual_network_links.list("rg-dns", "privatelink.openai.azure.com"))
    assert refused(listing).error.message == denied(
        enforced, "Microsoft.Network/privateDnsZones/virtualNetworkLinks/read", ZONE)
    grant(enforced, "dns", DNS_RG)
    assert listing() == []


def test_list_record_sets(enforced, clients):
    def listing():
        return list(clients.dns.record_sets.list("rg-dns", "privatelink.openai.azure.com"))
    assert refused(listing).error.message == denied(enforced, "Microsoft.Network/privateDnsZones/ALL/read", ZONE)
    grant(enforced, "dns", DNS_RG)
    assert [r.name for r in listing()] == ["@", "aoai-prod"]   # the zone's SOA, the seeded zone group's record


def test_approve_a_connection(enforced, clients):
    from azure.mgmt.cognitiveservices.models import (
        PrivateEndpointConnection,
        PrivateEndpointConnectionProperties,
        PrivateLinkServiceConnectionState,
    )
    pending = next(c for c in enforced.get(ACCOUNT)["properties"]["privateEndpointConnections"]
                   if c["properties"]["privateLinkServiceConnectionState"]["status"] == "Pending")
    body = PrivateEndpointConnection(properties=PrivateEndpointConnectionProperties(
        private_link_service_connection_state=PrivateLinkServiceConnectionState(status="Approved", description="ok")))
    def approve():
        return clients.cog.private_endpoint_connections.begin_create_or_update(
            "rg-ai", "aoai-prod", pending["name"], body).result()
    assert refused(approve).error.message == denied(
        enforced, "Microsoft.CognitiveServices/accounts/privateEndpointConnections/write", pending["id"])
    grant(enforced, "accounts", RG)
    assert approve().properties.private_link_service_connection_state.status == "Approved"


def test_patch_account(enforced, clients):
    from azure.mgmt.cognitiveservices.models import Account, AccountProperties
    def patch():
        return clients.cog.accounts.begin_update(
            "rg-ai", "aoai-prod", Account(properties=AccountProperties(public_network_access="Disabled"))).result()
    assert refused(patch).error.message == denied(enforced, "Microsoft.CognitiveServices/accounts/write", ACCOUNT)
    grant(enforced, "accounts", RG)
    assert patch().properties.public_network_access == "Disabled"


# -- ARM's rules -------------------------------------------------------------------------------------------
def test_assignments_inherit_down_the_scope_tree(enforced, clients):
    app = enforced.app_identity.object_id
    reader = enforced.rbac.define("account reader", ["Microsoft.CognitiveServices/accounts/read",
                                                     "Microsoft.CognitiveServices/accounts/privateEndpointConnections/read"],
                                  assignable_scopes=[SUBSCRIPTION])
    # A sibling resource group whose name starts like the account's grants nothing.
    enforced.rbac.assign(app, reader.name, f"{SUBSCRIPTION}/resourceGroups/rg-a")
    refused(lambda: clients.cog.accounts.get("rg-ai", "aoai-prod"))
    # On the account itself: the account and its children.
    enforced.rbac.assign(app, reader.name, ACCOUNT)
    assert clients.cog.accounts.get("rg-ai", "aoai-prod").name == "aoai-prod"
    assert len(clients.cog.private_endpoint_connections.list("rg-ai", "aoai-prod").value) == 2
    refused(lambda: list(clients.cog.accounts.list_by_resource_group("rg-ai")))
    # On the subscription: everything below it.
    enforced.rbac.assign(app, reader.name, SUBSCRIPTION)
    assert [a.name for a in clients.cog.accounts.list_by_resource_group("rg-ai")] == ["aoai-prod"]
    assert enforced.rbac.allowed(app, "Microsoft.CognitiveServices/accounts/read", f"{ACCOUNT}/x/y")


def test_not_actions_subtract_and_a_second_role_restores(enforced, clients):
    from azure.mgmt.cognitiveservices.models import Account, AccountProperties
    app = enforced.app_identity.object_id
    role = enforced.rbac.define("accounts but not write", ["Microsoft.CognitiveServices/accounts/*"],
                                ["Microsoft.CognitiveServices/accounts/write"], assignable_scopes=[SUBSCRIPTION])
    enforced.rbac.assign(app, role.name, RG)
    def patch():
        return clients.cog.accounts.begin_update(
            "rg-ai", "aoai-prod", Account(properties=AccountProperties(public_network_access="Disabled"))).result()
    assert clients.cog.accounts.get("rg-ai", "aoai-prod").name == "aoai-prod"
    assert refused(patch).error.message == denied(enforced, "Microsoft.CognitiveServices/accounts/write", ACCOUNT)
    grant(enforced, "accounts", RG)   # notActions is no deny: another role's write counts
    assert patch().properties.public_network_access == "Disabled"


def test_wildcards_anywhere_and_names_in_any_case(enforced, clients):
    app = enforced.app_identity.object_id
    enforced.rbac.assign(app, READER, RG)                       # built-in Reader: "*/read"
    assert clients.cog.accounts.get("rg-ai", "aoai-prod").name == "aoai-prod"
    refused(lambda: clients.net.private_endpoints.get("rg-net", "pe-aoai-prod"))
    network_reader = enforced.rbac.define("network reader", ["microsoft.NETWORK/*/READ"],
                                          assignable_scopes=[SUBSCRIPTION])
    enforced.rbac.assign(app, network_reader.name, NET_RG)
    assert clients.net.private_endpoints.get("rg-net", "pe-aoai-prod").name == "pe-aoai-prod"
    assert clients.net.private_dns_zone_groups.get("rg-net", "pe-aoai-prod", "default").name == "default"
    refused(lambda: clients.net.private_endpoints.begin_create_or_update("rg-net", "x", pe_body(True)).result())


def test_enforcement_off_lets_every_caller_do_anything(emu, clients):
    emu.seed(base_scenario())
    assert not emu.config.enforce_rbac
    assert clients.cog.accounts.get("rg-ai", "aoai-prod").name == "aoai-prod"


# -- Microsoft.Authorization, as Bicep and az write it ------------------------------------------------------
def as_dana(emu: ArmEmulator) -> Raw:
    emu.grant_owner(user_object_id(DANA), [SUBSCRIPTION])
    return Raw(emu, token=emu.user_token(name="Dana Admin", upn=DANA))


def role_body(*actions: str, not_actions: tuple[str, ...] = (), data_actions: tuple[str, ...] = ()) -> dict:
    return {"properties": {"roleName": "test role", "description": "", "type": "CustomRole",
                           "assignableScopes": [SUBSCRIPTION], "permissions": [
                               {"actions": list(actions), "notActions": list(not_actions),
                                "dataActions": list(data_actions), "notDataActions": []}]}}


ROLE_ID = f"{SUBSCRIPTION}/providers/Microsoft.Authorization/roleDefinitions/2b1d7e0e-7a1b-4c0e-9d43-1e3c0f6a1a11"


@pytest.mark.parametrize("actions, data_actions, code, message", [
    (["Microsoft.CognitiveServices/accounts/privateEndpointConnectionsApprove/action"], [], "InvalidActionOrNotAction",
     ("'Microsoft.CognitiveServices/accounts/privateEndpointConnectionsApprove/action' does not match any of the "
      "actions supported by the providers.")),
    (["Microsoft.Network/privateEndpoints/*", "Microsoft.Network/noSuchType/*"], [], "InvalidActionOrNotAction",
     "'Microsoft.Network/noSuchType/*' does not match any of the actions supported by the providers."),
    # a dataAction is no action
    (["Microsoft.CognitiveServices/accounts/OpenAI/deployments/chat/completions/action"], [],
     "InvalidActionOrNotAction", ("'Microsoft.CognitiveServices/accounts/OpenAI/deployments/chat/completions/action' "
                                  "does not match any of the actions supported by the providers.")),
    (["Contoso.Nothing/things/read"], [], "InvalidActionOrNotAction",
     ("The resource provider referenced in the action is not returned in the list of providers from Azure Resource "
      "Manager.")),
    ([], ["Microsoft.CognitiveServices/accounts/read"], "InvalidDataActionOrNotDataAction",
     "'Microsoft.CognitiveServices/accounts/read' does not match any of the data actions supported by the providers."),
])
def test_a_role_naming_an_unpublished_action_is_refused_whole(enforced, actions, data_actions, code, message):
    status, _, body = as_dana(enforced)("PUT", ROLE_ID, role_body(*actions, data_actions=tuple(data_actions)),
                                        api_version=AUTH_API)
    assert (status, body["error"]["code"], body["error"]["message"]) == (400, code, message)
    assert enforced.rbac.role(ROLE_ID) is None


def test_a_role_and_its_assignment_made_through_resource_manager(enforced, clients):
    dana = as_dana(enforced)
    status, _, role = dana("PUT", ROLE_ID, role_body("Microsoft.CognitiveServices/accounts/read",
                                                     "Microsoft.CognitiveServices/accounts/privateEndpointConnectionsApproval/action"),
                           api_version=AUTH_API)
    assert status == 201 and role["id"] == ROLE_ID and role["properties"]["type"] == "CustomRole"
    assert dana("GET", ROLE_ID, api_version=AUTH_API)[2]["properties"]["permissions"][0]["actions"][0] == \
        "Microsoft.CognitiveServices/accounts/read"
    assignment = f"{RG}/providers/Microsoft.Authorization/roleAssignments/0b5fe924-9a61-425c-96af-cfe6e287ca2d"
    body = {"properties": {"roleDefinitionId": ROLE_ID, "principalId": enforced.app_identity.object_id,
                           "principalType": "ServicePrincipal"}}
    status, _, made = dana("PUT", assignment, body, api_version=AUTH_API)
    assert status == 201 and made["properties"]["scope"] == RG
    assert dana("PUT", assignment, body, api_version=AUTH_API)[0] == 200
    assert clients.cog.accounts.get("rg-ai", "aoai-prod").name == "aoai-prod"
    query = quote(f"principalId eq '{enforced.app_identity.object_id}'")
    listed = dana("GET", f"{RG}/providers/Microsoft.Authorization/roleAssignments?$filter={query}",
                  api_version=AUTH_API)[2]["value"]
    assert [a["id"] for a in listed] == [assignment]
    other_name = f"{RG}/providers/Microsoft.Authorization/roleAssignments/5d4f0d7e-1111-4c0e-9d43-1e3c0f6a1a11"
    status, _, dup = dana("PUT", other_name, body, api_version=AUTH_API)
    assert (status, dup["error"]["code"], dup["error"]["message"]) == (409, "RoleAssignmentExists",
                                                                       "The role assignment already exists.")


def test_the_app_cannot_grant_itself_anything(enforced):
    grant(enforced, "accounts", RG)
    status, _, body = Raw(enforced)("PUT", ROLE_ID, role_body("*"), api_version=AUTH_API)
    assert status == 403
    assert body["error"]["message"] == denied(enforced, "Microsoft.Authorization/roleDefinitions/write", ROLE_ID)


def test_a_person_needs_rights_too(enforced):
    """The estate's person holds Owner; anyone else is refused, named by their sign-in name."""
    robin = Raw(enforced, token=enforced.user_token(name="Robin Ops", upn="robin@contoso.example"))
    patch = {"properties": {"publicNetworkAccess": "Enabled"}}
    status, _, body = robin("PATCH", ACCOUNT, patch)
    assert status == 403
    assert body["error"]["message"] == denied(enforced, "Microsoft.CognitiveServices/accounts/write", ACCOUNT,
                                              client="robin@contoso.example",
                                              oid=user_object_id("robin@contoso.example"))
    assert as_dana(enforced)("PATCH", ACCOUNT, patch)[0] in (200, 202)
    assert enforced.rbac.role(OWNER) is not None and enforced.rbac.role("Owner").name == OWNER


def test_the_admin_api_seeds_roles_and_refuses_unpublished_actions(enforced):
    import json
    import ssl
    import urllib.request
    ctx = ssl.create_default_context(cafile=enforced.ca_path)

    def post(route: str, body: dict) -> tuple[int, dict]:
        request = urllib.request.Request(f"{enforced.url}/_emulator/{route}", json.dumps(body).encode(),
                                         {"Content-Type": "application/json"}, method="POST")
        try:
            with urllib.request.urlopen(request, context=ctx) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read())

    status, role = post("rbac/roleDefinitions", {"roleName": "r", "actions": ["*/read"]})
    assert status == 201
    status, made = post("rbac/roleAssignments", {"principalId": enforced.app_identity.object_id,
                                                 "role": role["name"], "scope": RG})
    assert status == 201 and made["properties"]["scope"] == RG
    status, error = post("rbac/roleDefinitions", {"roleName": "bad", "actions": ["Microsoft.Network/nope/read"]})
    assert status == 400 and error["error"]["code"] == "InvalidActionOrNotAction"
    assert Raw(enforced)("GET", ACCOUNT)[0] == 200


def test_polls_pass_and_the_record_keeps_the_actions(enforced, clients):
    grant(enforced, "network", NET_RG)
    grant(enforced, "accounts", RG)
    enforced.clear_requests()
    clients.net.private_endpoints.begin_create_or_update("rg-net", "pe-new", pe_body()).result()
    kinds = [(r.method, r.kind, r.status) for r in enforced.requests if r.kind != "token"]
    assert ("GET", "poll", 200) in kinds and all(status < 400 for _, _, status in kinds)
    denied_read = refused(lambda: clients.dns.private_zones.get("rg-dns", "privatelink.openai.azure.com"))
    assert denied_read.error.code == "AuthorizationFailed"
    last = enforced.requests[-1]
    assert last.status == 403 and last.actions == ("Microsoft.Network/privateDnsZones/read",)
