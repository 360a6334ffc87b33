"""APP_SUBNET_ID puts the function app in a network (Flex Consumption VNet integration) and, unless the
operator says otherwise, turns REMEDIATION_RESOLUTION_CHECK on, so the check sees that network's DNS.

The Bicep expressions involved are evaluated here with a small evaluator over pycep's tree (strings,
parameters, variables, empty/trim/union, &&, !, ?:), so the test follows what the template computes."""

from __future__ import annotations

from typing import Any

import pytest

from tests.infra.bicep import resource_config, tree

SUBNET = ("/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-network/providers/"
          "Microsoft.Network/virtualNetworks/vnet-hub/subnets/snet-functions")


def evaluate(node: Any, scope: dict[str, Any], variables: dict[str, Any]) -> Any:
    if node is None or isinstance(node, (bool, int)):
        return node
    if isinstance(node, str):   # pycep gives identifiers and string literals alike as str
        if node in scope:
            return scope[node]
        if node in variables:
            return evaluate(variables[node]["value"], scope, variables)
        return node
    if "function" in node:
        name = node["function"]["type"]
        args = [evaluate(a, scope, variables) for a in node["function"]["parameters"].values()]
        if name == "empty":
            return len(args[0]) == 0
        if name == "trim":
            return args[0].strip()
        if name == "union":
            merged: dict[str, Any] = {}
            for arg in args:
                merged.update(arg)
            return merged
        raise NotImplementedError(name)
    if "operator" in node:
        kind, operands = node["operator"]["type"], node["operator"]["operands"]
        if kind == "and":
            return all(evaluate(o, scope, variables) for o in operands.values())
        if kind == "not":
            return not evaluate(operands["bool_value"], scope, variables)
        if kind == "conditional":
            branch = "true_value" if evaluate(operands["condition"], scope, variables) else "false_value"
            return evaluate(operands[branch], scope, variables)
        raise NotImplementedError(kind)
    return {key: evaluate(value, scope, variables) for key, value in node.items()}


def deployed(subnet: str, check: str) -> tuple[str, Any]:
    """(REMEDIATION_RESOLUTION_CHECK as the app gets it, the site's virtualNetworkSubnetId)."""
    main = tree("infra/main.bicep")
    scope = {name: "" for name in main["parameters"]}
    scope.update({"APP_SUBNET_ID": subnet, "REMEDIATION_RESOLUTION_CHECK": check})
    params = main["modules"]["app"]["config"]["params"]
    settings = evaluate(params["remediationSettings"], scope, main["variables"])
    app = tree("infra/modules/app.bicep")
    site = resource_config(app["resources"]["functionApp"])["properties"]
    passed_subnet = evaluate(params["virtualNetworkSubnetId"], scope, main["variables"])
    subnet_id = evaluate(site["virtualNetworkSubnetId"], {"virtualNetworkSubnetId": passed_subnet}, app["variables"])
    return settings["REMEDIATION_RESOLUTION_CHECK"], subnet_id


@pytest.mark.parametrize("subnet, check, expected", [
    ("", "", ("", None)),                 # no network: the code's default (off), no integration
    (SUBNET, "", ("on", SUBNET)),         # in a network: the check is on
    (f" {SUBNET} ", "", ("on", SUBNET)),
    (SUBNET, "off", ("off", SUBNET)),     # an operator's explicit value wins
    ("", "on", ("on", None)),             # e.g. with REMEDIATION_DNS_RESOLVER naming a reachable resolver
])
def test_the_subnet_turns_the_resolution_check_on(subnet: str, check: str, expected: tuple[str, Any]) -> None:
    assert deployed(subnet, check) == expected


def test_the_subnet_parameter_is_documented_with_what_flex_consumption_needs() -> None:
    description = tree("infra/main.bicep")["parameters"]["APP_SUBNET_ID"]["decorators"][0]["argument"]
    assert "Microsoft.App/environments" in description and "region" in description
