"""localdev/rights.py derives the deployment's role assignments from the app settings the way infra/main.bicep
does, and seeds exactly those into the ARM emulator for the app's identity."""

from __future__ import annotations

import json

import pytest

from localdev.arm_emulator import ArmEmulator
from localdev.arm_emulator.errors import ArmError
from localdev.rights import Action, Grant, Role, grants, load, seed, target_subscriptions

S1 = "00000000-0000-0000-0000-00000000000A"
S2 = "00000000-0000-0000-0000-00000000000B"
HUB = f"/subscriptions/{S1}/resourceGroups/RG-Net/providers/Microsoft.Network/virtualNetworks/hub/subnets/pe"
HUB2 = f"/subscriptions/{S1}/resourceGroups/RG-Net/providers/Microsoft.Network/virtualNetworks/hub/subnets/pe2"
WEST = f"/subscriptions/{S2}/resourceGroups/rg-west/providers/Microsoft.Network/virtualNetworks/w/subnets/pe"
DNS = f"/subscriptions/{S2}/resourceGroups/rg-dns"
ROLES = load()


def test_one_of_each_as_the_estate_is_deployed() -> None:
    settings = {"REMEDIATION_SCOPES": f"/subscriptions/{S1}/resourceGroups/rg-ai", "REMEDIATION_PE_SUBNET_ID": HUB,
                "REMEDIATION_DNS_ZONE_RESOURCE_GROUP_ID": DNS}
    assert grants(ROLES, settings) == [
        Grant("accounts", f"/subscriptions/{S1}/resourcegroups/rg-ai".lower()),
        Grant("network", f"/subscriptions/{S1}/resourcegroups/rg-net".lower()),
        Grant("dns", DNS.lower()),
    ]


def test_subscription_and_group_scopes_and_what_main_bicep_skips() -> None:
    """A scope with 3 segments is a subscription, with 5 a resource group; anything else gets no assignment
    (main.bicep's conditions `length(split(s, '/')) == 3` / `== 5`)."""
    settings = {"REMEDIATION_SCOPES": f" /subscriptions/{S1} ,/subscriptions/{S2}/resourceGroups/RG-AI,"
                                      f"/subscriptions/{S2}/"}
    assert grants(ROLES, settings) == [Grant("accounts", f"/subscriptions/{S1}".lower()),
                                       Grant("accounts", f"/subscriptions/{S2}/resourcegroups/rg-ai".lower())]


def test_network_role_once_per_resource_group_of_every_subnet() -> None:
    settings = {"REMEDIATION_SCOPES": f"/subscriptions/{S1}",
                "REMEDIATION_PE_SUBNET_ID": json.dumps({"eastus": HUB, "westeurope": WEST, "*": HUB2}),
                "REMEDIATION_PE_ALLOWED_SUBNET_IDS": f"{HUB2}, {WEST}"}
    network = [g.scope for g in grants(ROLES, settings) if g.role == "network"]
    assert sorted(network) == sorted({f"/subscriptions/{S1}/resourcegroups/rg-net".lower(),
                                      f"/subscriptions/{S2}/resourcegroups/rg-west".lower()})
    assert len(network) == 2
    assert target_subscriptions(settings) == [S1.lower(), S2.lower()]


def test_no_subnet_and_no_dns_group_grant_only_the_accounts_role() -> None:
    settings = {"REMEDIATION_SCOPES": f"/subscriptions/{S1}", "REMEDIATION_PE_SUBNET_ID": " ",
                "REMEDIATION_DNS_ZONE_RESOURCE_GROUP_ID": ""}
    assert [g.role for g in grants(ROLES, settings)] == ["accounts"]


def test_seed_grants_the_app_exactly_those_rights() -> None:
    emulator = ArmEmulator()
    settings = {"REMEDIATION_SCOPES": f"/subscriptions/{S1}/resourceGroups/rg-ai", "REMEDIATION_PE_SUBNET_ID": HUB,
                "REMEDIATION_DNS_ZONE_RESOURCE_GROUP_ID": DNS}
    seed(emulator, settings)
    app = emulator.app_identity.object_id
    rbac = emulator.rbac
    account = f"/subscriptions/{S1}/resourceGroups/rg-ai/providers/Microsoft.CognitiveServices/accounts/a"
    assert rbac.allowed(app, "Microsoft.CognitiveServices/accounts/write", account)
    assert not rbac.allowed(app, "Microsoft.CognitiveServices/accounts/write",
                            f"/subscriptions/{S1}/resourceGroups/rg-other/providers/Microsoft.CognitiveServices/accounts/a")
    assert not rbac.allowed(app, "Microsoft.CognitiveServices/accounts/read", f"/subscriptions/{S1}")
    assert rbac.allowed(app, "Microsoft.Network/virtualNetworks/subnets/join/action", HUB)
    assert not rbac.allowed(app, "Microsoft.Network/privateDnsZones/write", HUB)
    assert rbac.allowed(app, "Microsoft.Network/privateDnsZones/write",
                        f"{DNS}/providers/Microsoft.Network/privateDnsZones/privatelink.openai.azure.com")
    assert not rbac.allowed(app, "Microsoft.Network/privateEndpoints/delete", HUB)   # no role deletes
    assert len(rbac.assignments(app)) == 3
    custom = [r for r in rbac.definitions() if r.role_type == "CustomRole"]
    assert sorted(r.role_name for r in custom) == sorted(r.role_name for r in ROLES)
    assert all(r.assignable_scopes == (f"/subscriptions/{S1.lower()}", f"/subscriptions/{S2.lower()}")
               for r in custom)


def test_seeding_refuses_a_role_naming_an_unpublished_action() -> None:
    bad = [Role("accounts", "bad", "", "scopes",
                (Action("Microsoft.CognitiveServices/accounts/privateEndpointConnectionsApprove/action", ""),))]
    with pytest.raises(ArmError) as refused:
        seed(ArmEmulator(), {"REMEDIATION_SCOPES": f"/subscriptions/{S1}"}, roles=bad)
    assert refused.value.code == "InvalidActionOrNotAction"
