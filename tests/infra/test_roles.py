"""The app's rights are data (infra/roles.json) that the Bicep, the emulator's grants and docs/deploying.md all
read: the custom roles hold exactly the Resource Manager actions the app performs (the union of their actions equals
what the integration suite saw the app's identity need against the ARM emulator, each request's own action
and its linked checks), every action is one its provider publishes, each role holds only actions for the
scope it is assigned at, and main.bicep assigns each role where roles.json says."""

from __future__ import annotations

from typing import Any

import pytest

from localdev.arm_emulator.operations import catalogue
from localdev.rights import ROLES_FILE, load, markdown_table
from tests.infra.bicep import REPO, tree

ROLES = {role.key: role for role in load()}
RESOURCES = {"accounts": "accountsRole", "network": "networkRole", "dns": "dnsRole"}  # in modules/roles.bicep
# The resource types a role may act on, by where it is assigned.
PLACEMENT = {
    "scopes": ("Microsoft.CognitiveServices/accounts/", "Microsoft.Resources/subscriptions/resourceGroups/"),
    "subnetResourceGroups": ("Microsoft.Network/privateEndpoints/", "Microsoft.Network/virtualNetworks/"),
    "dnsResourceGroup": ("Microsoft.Network/privateDnsZones/",),
}
# The main.bicep variable each placement loops over (or is conditioned on).
PLACEMENT_VARIABLE = {"scopeList": "scopes", "networkGroups": "subnetResourceGroups", "dnsGroup": "dnsResourceGroup"}


def role_actions(key: str) -> set[str]:
    actions = [a.action for a in ROLES[key].actions]
    assert len(actions) == len({a.lower() for a in actions}), f"{key} repeats an action"
    assert not any("*" in action for action in actions), f"{key} uses a wildcard"
    return set(actions)


def dotted(expression: Any) -> str | None:
    """`a.b.c` for a pycep property accessor (or a plain name), else None."""
    if isinstance(expression, str):
        return expression
    operator = expression.get("operator") if isinstance(expression, dict) else None
    if not operator or operator.get("type") != "property_accessor":
        return None
    left, right = dotted(operator["operands"]["operand_1"]), dotted(operator["operands"]["operand_2"])
    return f"{left}.{right}" if left and right else None


def test_roles_are_the_three_the_bicep_declares() -> None:
    assert sorted(ROLES) == sorted(RESOURCES)
    assert {role.assigned_at for role in ROLES.values()} == set(PLACEMENT)


def test_each_role_acts_only_where_it_is_assigned() -> None:
    for key, role in ROLES.items():
        for action in role_actions(key):
            assert action.startswith(PLACEMENT[role.assigned_at]), f"{action} does not belong in {key}"


def test_every_action_is_published_by_its_provider() -> None:
    """ARM refuses a whole role definition naming an action its provider does not publish."""
    published = catalogue()
    unknown = [(key, action) for key in ROLES for action in sorted(role_actions(key))
               if published.published(action) is None]
    assert unknown == [], f"actions missing from localdev/arm_emulator/data/rbac: {unknown}"


def test_roles_bicep_takes_everything_from_roles_json() -> None:
    bicep = tree("infra/modules/roles.bicep")
    load_call = bicep["variables"]["roles"]["value"]["function"]
    assert load_call["type"] == "load_json_content"
    assert (REPO / "infra" / "modules" / load_call["parameters"]["file_path"]).resolve() == ROLES_FILE
    for key, resource in RESOURCES.items():
        props = bicep["resources"][resource]["config"]["properties"]
        assert props["roleName"].startswith(f"${{roles.{key}.roleName}}")
        assert dotted(props["description"]) == f"roles.{key}.description"
        (permissions,) = props["permissions"]
        loop = permissions["actions"]
        assert dotted(loop["loop_type"]["detail"]["array_name"]) == f"roles.{key}.actions"
        assert dotted(loop["config"]) == f"{loop['loop_type']['detail']['item_name']}.action"
        assert loop["condition"] is None
        assert permissions["notActions"] == permissions["dataActions"] == permissions["notDataActions"] == []


def test_main_bicep_assigns_each_role_where_roles_json_says() -> None:
    modules = tree("infra/main.bicep")["modules"]
    placed: dict[str, set[str]] = {}
    for module in modules.values():
        config = module["config"]
        role = dotted(config.get("config", config).get("params", {}).get("roleDefinitionName"))
        if not role or not role.startswith("roles.outputs."):
            continue
        key = role.removeprefix("roles.outputs.").removesuffix("RoleName")
        if "loop_type" in config:
            variable = config["loop_type"]["detail"]["array_name"]
        else:
            function = config["condition"]["operator"]["operands"]["bool_value"]["function"]
            variable = function["parameters"]["item_to_test"]
        placed.setdefault(key, set()).add(PLACEMENT_VARIABLE[variable])
    assert placed == {key: {role.assigned_at} for key, role in ROLES.items()}


def test_docs_rights_table_is_generated_from_roles_json() -> None:
    deploying = (REPO / "docs" / "deploying.md").read_text(encoding="utf-8")
    assert markdown_table() in deploying, ("docs/deploying.md's rights table is stale: paste "
                                          "`python -m localdev.rights --table`")


@pytest.mark.after_integration
def test_roles_equal_what_the_app_did(app_rbac_actions: set[str]) -> None:
    if not app_rbac_actions:
        pytest.fail("no Resource Manager requests by the app were recorded: run the whole suite "
                    "(this test compares the roles with what the integration tests saw)")
    granted = set().union(*(role_actions(key) for key in ROLES))
    assert sorted(app_rbac_actions - granted) == [], "the app needs actions no role grants"
    assert sorted(granted - app_rbac_actions) == [], "a role grants actions the app never used"


def test_every_right_an_action_kind_needs_is_granted() -> None:
    """The action registry names the rights each write needs (its own action and Azure's linked checks);
    the deployed roles hold every one of them."""
    from remediation.arm.apply import ACTIONS

    granted = {action.lower() for name in ROLES for action in role_actions(name)}
    needed = {right for spec in ACTIONS.values() for right in spec.rbac}
    assert sorted(r for r in needed if r.lower() not in granted) == []


def test_every_watched_operation_can_be_mapped_to_its_accounts_with_the_rights_granted() -> None:
    """Each operation's target kind (core/operations.py) is one the owners mapping reads, with rights a role holds."""
    from remediation.core.operations import OPERATIONS
    from remediation.runtime.owners import READS

    granted = {action.lower() for name in ROLES for action in role_actions(name)}
    assert {spec.target for spec in OPERATIONS.values()} <= set(READS)
    assert sorted(r for kind in READS for r in READS[kind] if r.lower() not in granted) == []
