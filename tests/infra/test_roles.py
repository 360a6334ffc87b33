"""The custom roles hold exactly the Resource Manager actions the app performs: the union of their actions
equals what the integration suite saw the app's identity need against the ARM emulator (each request's own
action and its linked checks), and each role holds only actions for the scope it is assigned at."""

from __future__ import annotations

import pytest

from tests.infra.bicep import tree

ROLES = ("accountsRole", "networkRole", "dnsRole")
# Where each role is assigned (main.bicep), and the resource types it may act on there.
PLACEMENT = {
    "accountsRole": ("Microsoft.CognitiveServices/accounts/",),                      # REMEDIATION_SCOPES
    "networkRole": ("Microsoft.Network/privateEndpoints/", "Microsoft.Network/virtualNetworks/"),  # subnets' RGs
    "dnsRole": ("Microsoft.Network/privateDnsZones/",),                              # the DNS resource group
}


def role_actions(name: str) -> set[str]:
    role = tree("infra/modules/roles.bicep")["resources"][name]["config"]
    (permissions,) = role["properties"]["permissions"]
    assert not permissions["notActions"] and not permissions["dataActions"]
    actions = permissions["actions"]
    assert len(actions) == len(set(actions)), f"{name} repeats an action"
    assert not any("*" in action for action in actions), f"{name} uses a wildcard"
    return set(actions)


def test_each_role_acts_only_where_it_is_assigned() -> None:
    for name, prefixes in PLACEMENT.items():
        for action in role_actions(name):
            assert action.startswith(prefixes), f"{action} does not belong in {name}"


@pytest.mark.after_integration
def test_roles_equal_what_the_app_did(app_rbac_actions: set[str]) -> None:
    if not app_rbac_actions:
        pytest.fail("no Resource Manager requests by the app were recorded: run the whole suite "
                    "(this test compares the roles with what the integration tests saw)")
    granted = set().union(*(role_actions(name) for name in ROLES))
    assert sorted(app_rbac_actions - granted) == [], "the app needs actions no role grants"
    assert sorted(granted - app_rbac_actions) == [], "a role grants actions the app never used"
