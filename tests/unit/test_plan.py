"""plan(): desired + observed → findings → actions (docs/findings.md), one test per finding code and its action."""

from __future__ import annotations

import copy
import ipaddress
from typing import Any

import pytest

from remediation.arm.apply import in_run_order
from remediation.core.desired import AI_SERVICES_ZONE, COGNITIVE_ZONE, OPENAI_ZONE, zones_for_kind
from remediation.core.findings import FindingCode
from remediation.core.ids import ResourceId, parse_resource_id
from remediation.core.model import Account, ActionKind, Observation, Zone, ZoneGroup
from remediation.core.naming import private_endpoint_id, private_endpoint_name, zone_link_name
from remediation.core.plan import Action, Finding, Plan, plan
from remediation.core.settings import PublicAccessMode, SubnetMap
from tests.helpers.arm_shapes import (
    ACCOUNT_ID,
    DELETE,
    EXISTING_PE_ID,
    FOREIGN_SUBNET_ID,
    NET_RG,
    OTHER_DNS_RG,
    OTHER_SUBNET_ID,
    OTHER_VNET_ID,
    SUBNET_ID,
    VNET_ID,
    account_body,
    compliant_observation,
    connection_body,
    endpoint,
    full_zone_group,
    make_desired,
    make_settings,
    observation,
    reference_account_body,
    zone_id,
    zones,
)
from tests.helpers.plans import (
    ACCOUNT,
    NEW_PE,
    PE,
    SUBNET,
    VNET,
    actions_of,
    codes,
    group_body,
    link_body,
    link_id,
    one_action,
    only,
    selected,
    with_account,
)


@pytest.mark.parametrize("kind", ["OpenAI", "AIServices", "CognitiveServices"])
@pytest.mark.parametrize("local_auth", [False, True])
def test_compliant_account_has_no_findings_and_no_actions(kind: str, local_auth: bool) -> None:
    desired = make_desired(make_settings(disable_local_auth=local_auth, kinds=frozenset({kind.lower()})), kind=kind)
    result = plan(desired, compliant_observation(kind))
    assert result.findings == ()
    assert result.actions == ()
    assert not result.not_ready


def test_compliant_in_selected_networks_mode() -> None:
    settings = make_settings(public_network_access=PublicAccessMode.SELECTED_NETWORKS,
                             allowed_ip_rules=(ipaddress.ip_network("203.0.113.0/24"),))
    obs = with_account(compliant_observation(), publicNetworkAccess="Enabled",
                       networkAcls={"defaultAction": "Deny", "ipRules": [{"value": "203.0.113.9"}]})
    result = plan(make_desired(settings), obs)
    assert result.findings == () and result.actions == ()


def test_reference_account_shape_is_planned() -> None:
    """Accounts_Get as the reference shows it: kind Emotion, none of the governed properties set."""
    body = reference_account_body()
    account = Account.from_arm(body)
    assert account.id == parse_resource_id(body["id"])
    assert account.custom_subdomain is None
    result = plan(make_desired(kind=account.kind), Observation(account))
    assert set(codes(result)) == {FindingCode.PUBLIC_NETWORK_ACCESS_ENABLED, FindingCode.NETWORK_DEFAULT_ACTION_ALLOW,
                                  FindingCode.CUSTOM_SUBDOMAIN_MISSING}
    close, patch = result.actions  # the exposure on a PATCH of its own, first; the rest after it
    assert (close.kind, close.body) == (ActionKind.CLOSE_EXPOSURE, {"properties": {"publicNetworkAccess": "Disabled"}})
    assert (patch.kind, patch.body) == (ActionKind.PATCH_ACCOUNT_NETWORK,
                                        {"properties": {"networkAcls": {"defaultAction": "Deny"}}})


# --- the account's own network settings -----------------------------------------------------------

@pytest.mark.parametrize("value", ["Enabled", None, "SecuredByPerimeter"])
def test_public_network_access_enabled(value: str | None) -> None:
    obs = with_account(compliant_observation(), publicNetworkAccess=value if value is not None else DELETE)
    result = plan(make_desired(), obs)
    finding = only(result, FindingCode.PUBLIC_NETWORK_ACCESS_ENABLED)
    assert (finding.property, finding.actual, finding.expected) == ("properties.publicNetworkAccess", value, "Disabled")
    assert codes(result) == [FindingCode.PUBLIC_NETWORK_ACCESS_ENABLED]
    assert result.actions == (Action(ActionKind.CLOSE_EXPOSURE, ACCOUNT,
                                     {"properties": {"publicNetworkAccess": "Disabled"}}),)


def test_default_action_allow_keeps_rules_and_unknown_keys() -> None:
    acls = {
        "defaultAction": "Allow",
        "bypass": "AzureServices",
        "ipRules": [{"value": "203.0.113.7"}, {"value": "198.51.100.0/24"}],
        "virtualNetworkRules": [{"id": OTHER_SUBNET_ID, "ignoreMissingVnetServiceEndpoint": False}],
        "someFutureField": {"nested": [1, 2]},
    }
    result = plan(make_desired(), with_account(compliant_observation(), networkAcls=copy.deepcopy(acls)))
    finding = only(result, FindingCode.NETWORK_DEFAULT_ACTION_ALLOW)
    assert (finding.property, finding.actual, finding.expected) == (
        "properties.networkAcls.defaultAction", "Allow", "Deny")
    assert codes(result) == [FindingCode.NETWORK_DEFAULT_ACTION_ALLOW]
    assert result.actions == (Action(ActionKind.PATCH_ACCOUNT_NETWORK, ACCOUNT,
                                     {"properties": {"networkAcls": {**acls, "defaultAction": "Deny"}}}),)


@pytest.mark.parametrize("acls", [DELETE, None, {}, {"ipRules": []}])
def test_network_acls_missing(acls: Any) -> None:
    result = plan(make_desired(), with_account(compliant_observation(), networkAcls=acls))
    assert codes(result) == [FindingCode.NETWORK_DEFAULT_ACTION_ALLOW]
    expected = {**(acls if isinstance(acls, dict) else {}), "defaultAction": "Deny"}
    assert one_action(result, ActionKind.PATCH_ACCOUNT_NETWORK).body == {"properties": {"networkAcls": expected}}


def test_disabled_mode_never_touches_ip_rules() -> None:
    rules = [{"value": "8.8.8.8"}, {"value": "1.2.3.0/24"}]
    obs = with_account(compliant_observation(), networkAcls={"defaultAction": "Deny", "ipRules": rules})
    assert plan(make_desired(), obs) == Plan()  # Deny + public access off: rules are unreachable, not ours
    obs = with_account(compliant_observation(), networkAcls={"defaultAction": "Allow", "ipRules": rules})
    result = plan(make_desired(), obs)
    assert FindingCode.IP_RULE_NOT_ALLOWED not in codes(result)
    assert one_action(result, ActionKind.PATCH_ACCOUNT_NETWORK).body["properties"]["networkAcls"]["ipRules"] == rules


def test_ip_rule_not_allowed_keeps_only_allowed_subset() -> None:
    rules = [{"value": "10.1.0.0/16"}, {"value": "8.8.8.8"}, {"value": "10.2.3.4"}, {"value": "203.0.113.7"},
             {"value": "10.0.0.0/7"}, {"value": "2001:db8::1"}, {"value": "garbage"}]
    acls = {"defaultAction": "Deny", "bypass": "None", "ipRules": rules,
            "virtualNetworkRules": [{"id": OTHER_SUBNET_ID}]}
    obs = with_account(compliant_observation(), publicNetworkAccess="Enabled", networkAcls=acls)
    result = plan(selected("10.0.0.0/8", "203.0.113.7/32",
                           allowed_vnet_subnet_ids=(parse_resource_id(OTHER_SUBNET_ID),)), obs)
    finding = only(result, FindingCode.IP_RULE_NOT_ALLOWED)
    assert finding.property == "properties.networkAcls.ipRules"
    assert finding.actual == ["8.8.8.8", "10.0.0.0/7", "2001:db8::1", "garbage"]
    assert finding.expected == ["10.0.0.0/8", "203.0.113.7/32"]
    assert codes(result) == [FindingCode.IP_RULE_NOT_ALLOWED]
    kept = [{"value": "10.1.0.0/16"}, {"value": "10.2.3.4"}, {"value": "203.0.113.7"}]
    # A rule outside the allowed networks opens the account: closing it is the close-first write.
    assert result.actions == (Action(ActionKind.CLOSE_EXPOSURE, ACCOUNT,
                                     {"properties": {"networkAcls": {**acls, "ipRules": kept}}}),)


def test_ipv6_rules_checked_against_ipv6_allowances() -> None:
    obs = with_account(compliant_observation(), publicNetworkAccess="Enabled",
                       networkAcls={"defaultAction": "Deny",
                                    "ipRules": [{"value": "2001:db8:1::/48"}, {"value": "2001:db9::1"}]})
    result = plan(selected("2001:db8::/32", "0.0.0.0/0"), obs)
    assert only(result, FindingCode.IP_RULE_NOT_ALLOWED).actual == ["2001:db9::1"]


def test_selected_networks_with_no_allowed_rules_removes_every_rule() -> None:
    obs = with_account(compliant_observation(), publicNetworkAccess="Enabled",
                       networkAcls={"defaultAction": "Deny", "ipRules": [{"value": "1.1.1.1"}]})
    result = plan(selected(), obs)
    assert one_action(result, ActionKind.CLOSE_EXPOSURE).body == {
        "properties": {"networkAcls": {"defaultAction": "Deny", "ipRules": []}}}


def test_selected_networks_never_turns_public_access_on() -> None:
    obs = with_account(compliant_observation(), publicNetworkAccess="Disabled",
                       networkAcls={"defaultAction": "Allow", "ipRules": [{"value": "8.8.8.8"}]})
    result = plan(selected("10.0.0.0/8"), obs)
    assert FindingCode.PUBLIC_NETWORK_ACCESS_ENABLED not in codes(result)
    patch = one_action(result, ActionKind.PATCH_ACCOUNT_NETWORK)
    assert "publicNetworkAccess" not in patch.body["properties"]
    assert patch.body == {"properties": {"networkAcls": {"defaultAction": "Deny", "ipRules": []}}}


def test_selected_networks_leaves_public_access_enabled() -> None:
    obs = with_account(compliant_observation(), publicNetworkAccess="Enabled")
    assert plan(selected("10.0.0.0/8"), obs) == Plan()


def test_local_auth_enforced_only_when_enabled_in_settings() -> None:
    for value in (False, None):
        obs = with_account(compliant_observation(), disableLocalAuth=value if value is not None else DELETE)
        assert plan(make_desired(), obs) == Plan()
        result = plan(make_desired(make_settings(disable_local_auth=True)), obs)
        finding = only(result, FindingCode.LOCAL_AUTH_ENABLED)
        assert (finding.property, finding.actual, finding.expected) == ("properties.disableLocalAuth", value, True)
        assert result.actions == (Action(ActionKind.PATCH_ACCOUNT_NETWORK, ACCOUNT,
                                         {"properties": {"disableLocalAuth": True}}),)


def test_one_patch_with_only_governed_properties() -> None:
    body = account_body(publicNetworkAccess="Enabled", disableLocalAuth=False,
                        networkAcls={"defaultAction": "Allow", "ipRules": [], "virtualNetworkRules": []})
    body["tags"] = {"remediation-exempt": "false", "team": "ml"}
    obs = Observation(Account.from_arm(body), compliant_observation().endpoints, compliant_observation().zones)
    result = plan(make_desired(make_settings(disable_local_auth=True)), obs)
    assert codes(result) == [FindingCode.PUBLIC_NETWORK_ACCESS_ENABLED, FindingCode.NETWORK_DEFAULT_ACTION_ALLOW,
                             FindingCode.LOCAL_AUTH_ENABLED]
    close, patch = result.actions  # the close alone first, so nothing else in its request can get it refused
    assert close.body == {"properties": {"publicNetworkAccess": "Disabled"}}
    assert patch.target == ACCOUNT and patch.blocked is None
    assert patch.body == {"properties": {
        "networkAcls": {"defaultAction": "Deny", "ipRules": [], "virtualNetworkRules": []},
        "disableLocalAuth": True,
    }}
    assert set(patch.body) == set(close.body) == {"properties"}  # never tags, sku, location, kind


# --- custom subdomain -----------------------------------------------------------------------------

@pytest.mark.parametrize("subdomain", [DELETE, None, ""])
def test_custom_subdomain_missing_reports_and_stops_private_endpoint_part(subdomain: Any) -> None:
    obs = with_account(compliant_observation(), customSubDomainName=subdomain, connections=[])
    result = plan(make_desired(), obs)
    finding = only(result, FindingCode.CUSTOM_SUBDOMAIN_MISSING)
    assert finding.property == "properties.customSubDomainName" and finding.actual is None
    assert codes(result) == [FindingCode.CUSTOM_SUBDOMAIN_MISSING]
    assert result.actions == ()


def test_custom_subdomain_missing_still_fixes_network() -> None:
    obs = with_account(compliant_observation(), customSubDomainName=DELETE, publicNetworkAccess="Enabled")
    result = plan(make_desired(), obs)
    assert codes(result) == [FindingCode.PUBLIC_NETWORK_ACCESS_ENABLED, FindingCode.CUSTOM_SUBDOMAIN_MISSING]
    assert [a.kind for a in result.actions] == [ActionKind.CLOSE_EXPOSURE]
    assert "customSubDomainName" not in result.actions[0].body["properties"]


# --- private endpoints ----------------------------------------------------------------------------

def expected_pe_body(account: ResourceId = ACCOUNT, subnet: ResourceId = SUBNET) -> dict[str, Any]:
    name = private_endpoint_name(account)
    return {"properties": {
        "subnet": {"id": str(subnet)},
        "privateLinkServiceConnections": [{"name": name, "properties": {
            "privateLinkServiceId": str(account), "groupIds": ["account"]}}],
    }}


def test_private_endpoint_missing_creates_one() -> None:
    obs = observation(account_body(connections=[]), zone_map=zones("OpenAI"))
    result = plan(make_desired(), obs)
    finding = only(result, FindingCode.PRIVATE_ENDPOINT_MISSING)
    assert finding.property == "properties.privateEndpointConnections" and finding.actual is None
    create = one_action(result, ActionKind.CREATE_PRIVATE_ENDPOINT)
    assert create.blocked is None
    assert create.target == parse_resource_id(f"{NET_RG}/providers/Microsoft.Network/privateEndpoints/"
                                              f"{private_endpoint_name(ACCOUNT)}")
    assert create.body == expected_pe_body()
    assert create.body["properties"]["privateLinkServiceConnections"][0]["properties"]["groupIds"] == ["account"]
    # the new endpoint has no zone group yet: one is planned, after the endpoint exists
    group = one_action(result, ActionKind.PUT_DNS_ZONE_GROUP)
    assert group.target == create.target.child("privateDnsZoneGroups", "default")
    assert group.body == group_body(("privatelink-openai-azure-com", zone_id(OPENAI_ZONE)))
    assert group.requires == (create.target,)
    assert codes(result) == [FindingCode.PRIVATE_ENDPOINT_MISSING, FindingCode.PRIVATE_DNS_ZONE_GROUP_MISSING]
    assert [a.kind for a in result.actions] == [ActionKind.CREATE_PRIVATE_ENDPOINT, ActionKind.PUT_DNS_ZONE_GROUP]


def test_private_endpoint_missing_new_vnet_needs_links() -> None:
    obs = observation(account_body(kind="AIServices", connections=[]), zone_map=zones("AIServices", linked=()))
    result = plan(make_desired(kind="AIServices"), obs)
    links = actions_of(result, ActionKind.CREATE_DNS_ZONE_LINK)
    assert {a.target for a in links} == {link_id(zone_id(z)) for z in zones_for_kind("AIServices")}
    assert all(a.body == link_body() and a.blocked is None and a.requires == () for a in links)


def test_private_endpoint_name_is_deterministic_and_short() -> None:
    name = private_endpoint_name(ACCOUNT)
    assert name == private_endpoint_name(parse_resource_id(ACCOUNT_ID))
    assert name != private_endpoint_name(parse_resource_id(ACCOUNT_ID + "2"))
    other_rg = parse_resource_id(ACCOUNT_ID.replace("myResourceGroup", "otherGroup"))
    assert name != private_endpoint_name(other_rg)  # same account name elsewhere: a different endpoint
    longest = parse_resource_id(ACCOUNT_ID.rsplit("/", 1)[0] + "/" + "a" * 64)
    assert len(private_endpoint_name(longest)) <= 80
    assert len(private_endpoint_name(parse_resource_id(ACCOUNT_ID.rsplit("/", 1)[0] + "/" + "b" * 200))) <= 80
    # the same account in another casing is the same endpoint resource
    upper = parse_resource_id(ACCOUNT_ID.replace("resourceGroups", "resourcegroups").replace("myAccount", "MYACCOUNT"))
    assert private_endpoint_id(upper, SUBNET) == private_endpoint_id(ACCOUNT, SUBNET)


def test_private_endpoint_name_ignores_casing() -> None:
    upper = parse_resource_id(
        ACCOUNT_ID.replace("myResourceGroup", "MYRESOURCEGROUP").replace("myAccount", "MYACCOUNT"))
    assert private_endpoint_name(upper) == private_endpoint_name(ACCOUNT)


def test_private_endpoint_subnet_from_location_map() -> None:
    west = parse_resource_id(FOREIGN_SUBNET_ID.replace("rg-foreign", "rg-west"))
    settings = make_settings(pe_subnets=SubnetMap({"eastus": SUBNET, "westeurope": west}))
    obs = observation(account_body(location="West Europe", connections=[]), zone_map=zones("OpenAI"))
    result = plan(make_desired(settings, location="West Europe"), obs)
    create = one_action(result, ActionKind.CREATE_PRIVATE_ENDPOINT)
    assert create.target == private_endpoint_id(ACCOUNT, west)
    assert create.target.resource_group == "rg-west"
    assert create.body == expected_pe_body(subnet=west)


@pytest.mark.parametrize("pe_subnets", [SubnetMap(), SubnetMap({"westus": parse_resource_id(SUBNET_ID)})])
def test_no_subnet_for_location_blocks_the_create(pe_subnets: SubnetMap) -> None:
    settings = make_settings(pe_subnets=pe_subnets, pe_allowed_subnet_ids=())
    obs = observation(account_body(location="eastus", connections=[]), zone_map=zones("OpenAI"))
    result = plan(make_desired(settings, location="eastus"), obs)
    assert codes(result) == [FindingCode.PRIVATE_ENDPOINT_MISSING]
    (create,) = result.actions
    assert create.kind is ActionKind.CREATE_PRIVATE_ENDPOINT
    assert create.blocked and "REMEDIATION_PE_SUBNET_ID" in create.blocked


def test_pending_connection_from_allowed_subnet_is_approved() -> None:
    obs = compliant_observation()
    obs = Observation(Account.from_arm(account_body(connections=[connection_body(EXISTING_PE_ID, "Pending")])),
                      obs.endpoints, obs.zones)
    result = plan(make_desired(), obs)
    finding = only(result, FindingCode.PRIVATE_ENDPOINT_CONNECTION_PENDING)
    conn_id = ACCOUNT.child("privateEndpointConnections", "conn1")
    assert (finding.actual, finding.expected, finding.target) == ("Pending", "Approved", str(conn_id))
    assert codes(result) == [FindingCode.PRIVATE_ENDPOINT_CONNECTION_PENDING]  # it serves: no new endpoint
    (approve,) = result.actions
    assert approve.kind is ActionKind.APPROVE_CONNECTION and approve.target == conn_id and approve.blocked is None
    assert approve.body["properties"]["privateLinkServiceConnectionState"]["status"] == "Approved"
    assert set(approve.body) == {"properties"}
    assert set(approve.body["properties"]) == {"privateLinkServiceConnectionState"}


def test_pending_connection_from_the_other_allowed_subnet_is_approved() -> None:
    other_pe = parse_resource_id(f"/subscriptions/{ACCOUNT.subscription_id}/resourceGroups/rg-spoke/providers/"
                                 "Microsoft.Network/privateEndpoints/pe-team")
    obs = observation(account_body(connections=[connection_body(str(other_pe), "Pending")]),
                      endpoints={other_pe: endpoint(str(other_pe), OTHER_SUBNET_ID, full_zone_group("OpenAI"))},
                      zone_map=zones("OpenAI", linked=(OTHER_VNET_ID,)))
    result = plan(make_desired(), obs)
    assert codes(result) == [FindingCode.PRIVATE_ENDPOINT_CONNECTION_PENDING]
    assert [a.kind for a in result.actions] == [ActionKind.APPROVE_CONNECTION]


@pytest.mark.parametrize("status", ["Pending", "Approved"])
def test_connection_from_foreign_subnet_does_not_count(status: str) -> None:
    foreign_pe = parse_resource_id(
        FOREIGN_SUBNET_ID.split("/providers/")[0] + "/providers/Microsoft.Network/privateEndpoints/pe-x")
    obs = observation(account_body(connections=[connection_body(str(foreign_pe), status)]),
                      endpoints={foreign_pe: endpoint(str(foreign_pe), FOREIGN_SUBNET_ID, full_zone_group("OpenAI"))},
                      zone_map=zones("OpenAI"))
    result = plan(make_desired(), obs)
    assert FindingCode.PRIVATE_ENDPOINT_CONNECTION_PENDING not in codes(result)
    assert only(result, FindingCode.PRIVATE_ENDPOINT_MISSING).actual == [status]
    assert not actions_of(result, ActionKind.APPROVE_CONNECTION)
    assert all(not a.target.is_within(foreign_pe) for a in result.actions)  # never touched
    assert one_action(result, ActionKind.CREATE_PRIVATE_ENDPOINT).target == NEW_PE


@pytest.mark.parametrize("status", ["Rejected", "Disconnected", None])
def test_rejected_or_disconnected_connection_does_not_serve(status: str | None) -> None:
    conn = connection_body(EXISTING_PE_ID, "Approved")
    conn["properties"]["privateLinkServiceConnectionState"]["status"] = status
    obs = compliant_observation()
    obs = Observation(Account.from_arm(account_body(connections=[conn])), obs.endpoints, obs.zones)
    result = plan(make_desired(), obs)
    assert FindingCode.PRIVATE_ENDPOINT_MISSING in codes(result)
    assert not actions_of(result, ActionKind.APPROVE_CONNECTION)


def test_approved_connection_in_any_casing_counts() -> None:
    obs = compliant_observation()
    conn = connection_body(EXISTING_PE_ID.upper().replace("/SUBSCRIPTIONS/", "/subscriptions/"), "approved")
    obs = Observation(Account.from_arm(account_body(connections=[conn])), obs.endpoints, obs.zones)
    assert plan(make_desired(), obs) == Plan()


# --- private DNS ----------------------------------------------------------------------------------

def test_zones_by_kind() -> None:
    assert zones_for_kind("OpenAI") == (OPENAI_ZONE,)
    assert set(zones_for_kind("AIServices")) == {COGNITIVE_ZONE, OPENAI_ZONE, AI_SERVICES_ZONE}
    assert len(zones_for_kind("aiservices")) == 3
    assert zones_for_kind("CognitiveServices") == (COGNITIVE_ZONE,)
    assert zones_for_kind("FormRecognizer") == (COGNITIVE_ZONE,)
    assert OPENAI_ZONE == "privatelink.openai.azure.com"
    assert COGNITIVE_ZONE == "privatelink.cognitiveservices.azure.com"
    assert AI_SERVICES_ZONE == "privatelink.services.ai.azure.com"
    assert make_desired(kind="AIServices").dns_zones == zones_for_kind("AIServices")


def test_zone_missing_creates_zone_link_and_group() -> None:
    """The endpoint has no zone group and the zone does not exist: zone, then link, then group requiring the zone."""
    zone = zone_id(OPENAI_ZONE)
    obs = observation(account_body(), endpoints={PE: endpoint(group=None)},
                      zone_map={zone: Zone(zone, exists=False)})
    result = plan(make_desired(), obs)
    finding = only(result, FindingCode.PRIVATE_DNS_ZONE_MISSING)
    assert (finding.target, finding.expected) == (str(zone), OPENAI_ZONE)
    assert codes(result) == [FindingCode.PRIVATE_DNS_ZONE_MISSING, FindingCode.PRIVATE_DNS_ZONE_LINK_MISSING,
                             FindingCode.PRIVATE_DNS_ZONE_GROUP_MISSING]
    create, link, group = result.actions
    assert create == Action(ActionKind.CREATE_DNS_ZONE, zone, {"location": "global"})
    assert link == Action(ActionKind.CREATE_DNS_ZONE_LINK, link_id(zone), link_body(), requires=(zone,))
    assert group == Action(ActionKind.PUT_DNS_ZONE_GROUP, PE.child("privateDnsZoneGroups", "default"),
                           group_body(("privatelink-openai-azure-com", zone)), requires=(zone,))


def test_zone_missing_with_complete_group() -> None:
    zone = zone_id(OPENAI_ZONE)
    obs = observation(account_body(), endpoints={PE: endpoint(group=full_zone_group("OpenAI"))},
                      zone_map={zone: Zone(zone, exists=False)})
    result = plan(make_desired(), obs)
    assert codes(result) == [FindingCode.PRIVATE_DNS_ZONE_MISSING, FindingCode.PRIVATE_DNS_ZONE_LINK_MISSING]
    assert [a.kind for a in result.actions] == [ActionKind.CREATE_DNS_ZONE, ActionKind.CREATE_DNS_ZONE_LINK]


def test_link_missing_for_the_endpoints_vnet() -> None:
    obs = compliant_observation(kind="AIServices")
    obs = Observation(obs.account, obs.endpoints, zones("AIServices", linked=(OTHER_VNET_ID,)))
    result = plan(make_desired(kind="AIServices"), obs)
    assert codes(result) == [FindingCode.PRIVATE_DNS_ZONE_LINK_MISSING] * 3
    for finding in result.findings:
        assert finding.expected == str(VNET)
    assert list(result.actions) == [Action(ActionKind.CREATE_DNS_ZONE_LINK, link_id(zone_id(z)), link_body())
                                    for z in zones_for_kind("AIServices")]


def test_link_name_is_deterministic_per_vnet() -> None:
    other_casing = parse_resource_id(VNET_ID.replace("resourceGroups/rg-net", "resourcegroups/RG-NET"))
    assert link_id(zone_id(OPENAI_ZONE), other_casing) == link_id(zone_id(OPENAI_ZONE), VNET)
    assert zone_link_name(VNET) != zone_link_name(parse_resource_id(OTHER_VNET_ID))
    assert len(zone_link_name(parse_resource_id(VNET_ID.rsplit("/", 1)[0] + "/" + "v" * 64))) <= 80


def test_zone_group_missing_one_config_per_zone() -> None:
    obs = compliant_observation(kind="AIServices")
    obs = Observation(obs.account, {PE: endpoint(group=None)}, obs.zones)
    result = plan(make_desired(kind="AIServices"), obs)
    finding = only(result, FindingCode.PRIVATE_DNS_ZONE_GROUP_MISSING)
    assert finding.target == str(PE) and finding.actual is None
    assert codes(result) == [FindingCode.PRIVATE_DNS_ZONE_GROUP_MISSING]
    assert result.actions == (Action(
        ActionKind.PUT_DNS_ZONE_GROUP, PE.child("privateDnsZoneGroups", "default"),
        group_body(*((z.replace(".", "-"), zone_id(z)) for z in zones_for_kind("AIServices")))),)


def test_zone_group_incomplete_keeps_existing_configs() -> None:
    central_openai = zone_id(OPENAI_ZONE, OTHER_DNS_RG)
    group = ZoneGroup("mygroup", (("custom-openai", central_openai),))
    zone_map = {**zones("AIServices"), central_openai: Zone(central_openai, True, frozenset({VNET}))}
    obs = observation(account_body(kind="AIServices"), endpoints={PE: endpoint(group=group)}, zone_map=zone_map)
    result = plan(make_desired(kind="AIServices"), obs)
    finding = only(result, FindingCode.PRIVATE_DNS_ZONE_GROUP_INCOMPLETE)
    assert finding.actual == [OPENAI_ZONE] and finding.target == str(PE)
    assert codes(result) == [FindingCode.PRIVATE_DNS_ZONE_GROUP_INCOMPLETE]
    (put,) = result.actions
    assert put.kind is ActionKind.PUT_DNS_ZONE_GROUP and put.blocked is None
    assert put.target == PE.child("privateDnsZoneGroups", "mygroup")  # the same group, not a second one
    assert put.body == group_body(("custom-openai", central_openai),
                                  ("privatelink-cognitiveservices-azure-com", zone_id(COGNITIVE_ZONE)),
                                  ("privatelink-services-ai-azure-com", zone_id(AI_SERVICES_ZONE)))
    assert put.requires == ()


def test_zone_group_incomplete_requires_new_zone() -> None:
    group = ZoneGroup("default", (("privatelink-openai-azure-com", zone_id(OPENAI_ZONE)),))
    zone_map = zones("AIServices")
    missing = zone_id(AI_SERVICES_ZONE)
    zone_map[missing] = Zone(missing, exists=False)
    obs = observation(account_body(kind="AIServices"), endpoints={PE: endpoint(group=group)}, zone_map=zone_map)
    result = plan(make_desired(kind="AIServices"), obs)
    put = one_action(result, ActionKind.PUT_DNS_ZONE_GROUP)
    assert put.requires == (missing,)
    assert one_action(result, ActionKind.CREATE_DNS_ZONE).target == missing
    assert [c["name"] for c in put.body["properties"]["privateDnsZoneConfigs"]] == [
        "privatelink-openai-azure-com", "privatelink-cognitiveservices-azure-com", "privatelink-services-ai-azure-com"]


def test_dns_resource_group_unset_reports_with_blocked_actions() -> None:
    desired = make_desired(make_settings(dns_zone_resource_group=None), kind="AIServices")
    obs = observation(account_body(kind="AIServices"), endpoints={PE: endpoint(group=None)})
    result = plan(desired, obs)
    assert FindingCode.PRIVATE_DNS_ZONE_GROUP_MISSING in codes(result)
    assert result.actions and all(a.blocked for a in result.actions)
    put = one_action(result, ActionKind.PUT_DNS_ZONE_GROUP)
    assert "REMEDIATION_DNS_ZONE_RESOURCE_GROUP_ID" in put.blocked


def test_dns_resource_group_unset_new_endpoint_is_still_created() -> None:
    desired = make_desired(make_settings(dns_zone_resource_group=None))
    result = plan(desired, observation(account_body(connections=[])))
    create = one_action(result, ActionKind.CREATE_PRIVATE_ENDPOINT)
    assert create.blocked is None
    assert one_action(result, ActionKind.PUT_DNS_ZONE_GROUP).blocked
    assert FindingCode.PRIVATE_DNS_ZONE_GROUP_MISSING in codes(result)


def test_zone_outside_dns_resource_group_blocks_link_and_create() -> None:
    central = zone_id(OPENAI_ZONE, OTHER_DNS_RG)
    group = ZoneGroup("default", (("privatelink-openai-azure-com", central),))
    for settings in (make_settings(), make_settings(dns_zone_resource_group=None)):
        obs = observation(account_body(), endpoints={PE: endpoint(group=group)},
                          zone_map={central: Zone(central, True, frozenset())})
        result = plan(make_desired(settings), obs)
        assert codes(result) == [FindingCode.PRIVATE_DNS_ZONE_LINK_MISSING]
        (link,) = result.actions
        assert link.kind is ActionKind.CREATE_DNS_ZONE_LINK and link.target == link_id(central)
        assert link.blocked and "outside" in link.blocked
        obs = observation(account_body(), endpoints={PE: endpoint(group=group)},
                          zone_map={central: Zone(central, False)})
        result = plan(make_desired(settings), obs)
        assert set(codes(result)) == {FindingCode.PRIVATE_DNS_ZONE_MISSING, FindingCode.PRIVATE_DNS_ZONE_LINK_MISSING}
        assert all(a.blocked for a in result.actions)
        assert one_action(result, ActionKind.CREATE_DNS_ZONE).target == central


def test_two_serving_endpoints_in_one_vnet_share_links() -> None:
    pe2 = parse_resource_id(EXISTING_PE_ID + "b")
    obs = observation(
        account_body(connections=[connection_body(EXISTING_PE_ID), connection_body(str(pe2), name="conn2")]),
        endpoints={PE: endpoint(group=None), pe2: endpoint(str(pe2), group=None)},
        zone_map=zones("OpenAI", linked=()))
    result = plan(make_desired(), obs)
    assert len(actions_of(result, ActionKind.CREATE_DNS_ZONE_LINK)) == 1
    assert {a.target for a in actions_of(result, ActionKind.PUT_DNS_ZONE_GROUP)} == {
        PE.child("privateDnsZoneGroups", "default"), pe2.child("privateDnsZoneGroups", "default")}
    assert codes(result).count(FindingCode.PRIVATE_DNS_ZONE_GROUP_MISSING) == 2
    assert codes(result).count(FindingCode.PRIVATE_DNS_ZONE_LINK_MISSING) == 1


# --- not ready ------------------------------------------------------------------------------------

@pytest.mark.parametrize("state", ["Accepted", "Creating", "Deleting", "Updating", "Moving", "ResolvingDNS", "Running"])
def test_account_not_ready_means_no_actions(state: str) -> None:
    body = account_body(provisioningState=state, publicNetworkAccess="Enabled", connections=[],
                        networkAcls={"defaultAction": "Allow"})
    result = plan(make_desired(make_settings(disable_local_auth=True)), observation(body))
    assert result.not_ready
    assert result.findings == (
        Finding(FindingCode.ACCOUNT_NOT_READY, "properties.provisioningState", state, "Succeeded"),)
    assert result.actions == ()


@pytest.mark.parametrize("state", ["Succeeded", "succeeded", "Failed", "Canceled", None])
def test_terminal_states_are_ready(state: str | None) -> None:
    obs = with_account(compliant_observation(), provisioningState=state if state else DELETE)
    result = plan(make_desired(), obs)
    assert not result.not_ready and result == Plan()


# --- ordering: the applier runs a plan's actions in the order of its registry ---------------------

def test_actions_are_ordered_with_approval() -> None:
    conn = connection_body(EXISTING_PE_ID, "Pending")
    zone = zone_id(OPENAI_ZONE)
    obs = observation(account_body(connections=[conn], publicNetworkAccess="Enabled"),
                      endpoints={PE: endpoint(group=None)}, zone_map={zone: Zone(zone, exists=False)})
    result = plan(make_desired(), obs)
    assert [a.kind for a in in_run_order(result.actions)] == [
        ActionKind.CLOSE_EXPOSURE, ActionKind.APPROVE_CONNECTION, ActionKind.CREATE_DNS_ZONE,
        ActionKind.CREATE_DNS_ZONE_LINK, ActionKind.PUT_DNS_ZONE_GROUP]


def test_actions_are_ordered_with_new_endpoint() -> None:
    zone_map = {zone_id(z): Zone(zone_id(z), exists=False) for z in zones_for_kind("AIServices")}
    obs = observation(account_body(kind="AIServices", connections=[], networkAcls=DELETE), zone_map=zone_map)
    result = plan(make_desired(kind="AIServices"), obs)
    ordered = in_run_order(result.actions)
    kinds = [a.kind for a in ordered]
    assert kinds == [ActionKind.PATCH_ACCOUNT_NETWORK, ActionKind.CREATE_PRIVATE_ENDPOINT,
                     *[ActionKind.CREATE_DNS_ZONE] * 3, *[ActionKind.CREATE_DNS_ZONE_LINK] * 3,
                     ActionKind.PUT_DNS_ZONE_GROUP]
    group = ordered[-1]
    assert group.requires[0] == NEW_PE
    assert set(group.requires[1:]) == {zone_id(z) for z in zones_for_kind("AIServices")}
    assert all(a.blocked is None for a in result.actions)
