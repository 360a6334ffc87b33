"""The write scope guard: every write is checked by resource type and ID right before it is sent."""

from __future__ import annotations

from remediation.arm.apply import planned, refusal
from remediation.core.ids import parse_resource_id, parse_scope
from remediation.core.model import Account, ActionKind, ActionStatus
from remediation.core.naming import private_endpoint_id
from remediation.core.plan import Action, Plan
from remediation.core.write_scope import WriteScope

SUB = "00000000-0000-0000-0000-000000000001"
RG = f"/subscriptions/{SUB}/resourceGroups"
ACCOUNT = parse_resource_id(f"{RG}/rg-ai/providers/Microsoft.CognitiveServices/accounts/aoai-prod")
OTHER_ACCOUNT = parse_resource_id(f"{RG}/rg-ai/providers/Microsoft.CognitiveServices/accounts/aoai-other")
SUBNET = parse_resource_id(f"{RG}/rg-net/providers/Microsoft.Network/virtualNetworks/hub/subnets/pe")
OWN_PE = private_endpoint_id(ACCOUNT, SUBNET)
SCOPE = WriteScope(account_id=ACCOUNT, account_scopes=(parse_scope(f"{RG}/rg-ai"),),
                   new_endpoint_subnets=frozenset({SUBNET}), existing_endpoints=frozenset(),
                   dns_resource_group=parse_scope(f"{RG}/rg-dns"))


def action(kind: ActionKind, target: str, body: dict | None = None) -> Action:
    return Action(kind, parse_resource_id(target), body or {})


def test_the_account_and_its_own_connection_may_be_written() -> None:
    assert refusal(SCOPE, action(ActionKind.PATCH_ACCOUNT_NETWORK, str(ACCOUNT))) is None
    assert refusal(SCOPE, action(ActionKind.APPROVE_CONNECTION, f"{ACCOUNT}/privateEndpointConnections/c1")) is None


def test_another_account_or_its_connection_is_refused_even_inside_the_scopes() -> None:
    assert refusal(SCOPE, action(ActionKind.PATCH_ACCOUNT_NETWORK, str(OTHER_ACCOUNT)))
    assert refusal(SCOPE, action(ActionKind.APPROVE_CONNECTION, f"{OTHER_ACCOUNT}/privateEndpointConnections/c1"))
    # same names, another resource type: the type is part of what is checked
    assert refusal(SCOPE, action(ActionKind.APPROVE_CONNECTION,
                                f"{RG}/rg-ai/providers/Microsoft.Web/sites/aoai-prod/privateEndpointConnections/c1"))


def test_only_our_deterministic_endpoint_in_a_configured_subnet_may_be_created() -> None:
    body = {"properties": {"subnet": {"id": str(SUBNET)}}}
    assert refusal(SCOPE, action(ActionKind.CREATE_PRIVATE_ENDPOINT, str(OWN_PE), body)) is None
    other_name = f"{RG}/rg-net/providers/Microsoft.Network/privateEndpoints/pe-anything"
    assert refusal(SCOPE, action(ActionKind.CREATE_PRIVATE_ENDPOINT, other_name, body))
    foreign_subnet = {"properties": {"subnet": {"id": str(SUBNET).replace("/subnets/pe", "/subnets/other")}}}
    assert refusal(SCOPE, action(ActionKind.CREATE_PRIVATE_ENDPOINT, str(OWN_PE), foreign_subnet))


def test_zone_groups_only_on_serving_or_own_endpoints() -> None:
    assert refusal(SCOPE, action(ActionKind.PUT_DNS_ZONE_GROUP, f"{OWN_PE}/privateDnsZoneGroups/default")) is None
    stranger = f"{RG}/rg-net/providers/Microsoft.Network/privateEndpoints/pe-team/privateDnsZoneGroups/default"
    assert refusal(SCOPE, action(ActionKind.PUT_DNS_ZONE_GROUP, stranger))
    nic = (f"{RG}/rg-net/providers/Microsoft.Network/networkInterfaces/{OWN_PE.name}/ipConfigurations/x"
           "/privateDnsZoneGroups/default")
    assert refusal(SCOPE, action(ActionKind.PUT_DNS_ZONE_GROUP, nic))


def test_zones_and_links_only_in_the_dns_resource_group() -> None:
    zone = f"{RG}/rg-dns/providers/Microsoft.Network/privateDnsZones/privatelink.openai.azure.com"
    assert refusal(SCOPE, action(ActionKind.CREATE_DNS_ZONE, zone)) is None
    assert refusal(SCOPE, action(ActionKind.CREATE_DNS_ZONE_LINK, f"{zone}/virtualNetworkLinks/l")) is None
    assert refusal(SCOPE, action(ActionKind.CREATE_DNS_ZONE, zone.replace("rg-dns", "rg-ai")))
    assert refusal(SCOPE, action(ActionKind.CREATE_DNS_ZONE_LINK,
                                 f"{zone}/virtualNetworkLinks/l".replace("rg-dns", "x")))


def test_only_the_accounts_own_a_record_in_the_dns_resource_group() -> None:
    from dataclasses import replace

    scope = replace(SCOPE, dns_record_name="AOAI-prod")
    zone = f"{RG}/rg-dns/providers/Microsoft.Network/privateDnsZones/privatelink.openai.azure.com"
    assert refusal(scope, action(ActionKind.PUT_DNS_RECORD, f"{zone}/A/aoai-prod")) is None
    assert refusal(scope, action(ActionKind.PUT_DNS_RECORD, f"{zone}/A/aoai-other"))  # someone else's record
    assert refusal(scope, action(ActionKind.PUT_DNS_RECORD, f"{zone}/A/aoai-prod".replace("rg-dns", "rg-ai")))
    assert refusal(scope, action(ActionKind.PUT_DNS_RECORD, f"{zone}/AAAA/aoai-prod"))  # only A records
    assert refusal(scope, action(ActionKind.PUT_DNS_RECORD, f"{zone}/virtualNetworkLinks/aoai-prod"))
    assert refusal(SCOPE, action(ActionKind.PUT_DNS_RECORD, f"{zone}/A/aoai-prod"))  # no subdomain known: none


def test_report_mode_never_plans_what_enforce_would_refuse() -> None:
    plan = Plan((), (action(ActionKind.PATCH_ACCOUNT_NETWORK, str(OTHER_ACCOUNT)),
                     action(ActionKind.PATCH_ACCOUNT_NETWORK, str(ACCOUNT))))
    assert [r.status for r in planned(plan, SCOPE)] == [ActionStatus.SKIPPED, ActionStatus.PLANNED]


def test_a_connection_naming_something_other_than_a_private_endpoint_serves_nothing() -> None:
    nic_config = f"{RG}/rg-net/providers/Microsoft.Network/networkInterfaces/nic1/ipConfigurations/victim-pe"
    account = Account.from_arm({"id": str(ACCOUNT), "kind": "OpenAI", "properties": {
        "privateEndpointConnections": [{"id": f"{ACCOUNT}/privateEndpointConnections/c1", "name": "c1", "properties": {
            "privateEndpoint": {"id": nic_config},
            "privateLinkServiceConnectionState": {"status": "Approved"}}}]}})
    assert account.connections[0].private_endpoint_id is None
