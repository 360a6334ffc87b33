"""plan(): SelectedNetworks complete (docs/findings.md): virtual network rules against
REMEDIATION_ALLOWED_VNET_SUBNET_IDS, `bypass` against REMEDIATION_NETWORK_BYPASS, each PATCH sending `networkAcls`
whole (the close-first one carries the default action and the rules, the rest the bypass); and `exposure_fix` /
`network_patch`, rebuilt from a fresh read."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from remediation.core.findings import FindingCode
from remediation.core.ids import parse_resource_id
from remediation.core.model import Account, ActionKind
from remediation.core.plan import ACCOUNT_FINDINGS, Action, Plan, account_findings, exposure_fix, network_patch, plan
from remediation.core.settings import NetworkBypass
from tests.helpers.arm_shapes import (
    DELETE,
    FOREIGN_SUBNET_ID,
    OTHER_SUBNET_ID,
    SUBNET_ID,
    account_body,
    compliant_observation,
)
from tests.helpers.plans import ACCOUNT, codes, make_desired, make_settings, one_action, only, selected, with_account

ALLOWED = parse_resource_id(OTHER_SUBNET_ID)


def allowing_vnets(*subnets: str, **overrides: Any):
    return selected("203.0.113.0/24", allowed_vnet_subnet_ids=tuple(parse_resource_id(s) for s in subnets),
                    **overrides)


def selected_account(acls: dict[str, Any]):
    return with_account(compliant_observation(), publicNetworkAccess="Enabled", networkAcls=copy.deepcopy(acls))


# --- VIRTUAL_NETWORK_RULE_NOT_ALLOWED ---------------------------------------------------------------

def test_virtual_network_rule_not_allowed_keeps_the_allowed_entries_whole() -> None:
    allowed_rule = {"id": OTHER_SUBNET_ID.upper().replace("/SUBSCRIPTIONS/", "/subscriptions/"),
                    "state": "Succeeded", "ignoreMissingVnetServiceEndpoint": False}
    rules = [allowed_rule, {"id": FOREIGN_SUBNET_ID, "ignoreMissingVnetServiceEndpoint": True},
             {"id": "not-a-subnet"}, {"state": "NetworkSourceDeleted"}]
    acls = {"defaultAction": "Deny", "bypass": "AzureServices", "ipRules": [{"value": "203.0.113.9"}],
            "virtualNetworkRules": rules}

    result = plan(allowing_vnets(OTHER_SUBNET_ID), selected_account(acls))

    finding = only(result, FindingCode.VIRTUAL_NETWORK_RULE_NOT_ALLOWED)
    assert finding.property == "properties.networkAcls.virtualNetworkRules"
    assert finding.actual == [FOREIGN_SUBNET_ID, "not-a-subnet", "None"]
    assert finding.expected == [str(ALLOWED)]
    assert codes(result) == [FindingCode.VIRTUAL_NETWORK_RULE_NOT_ALLOWED]
    assert result.actions == (Action(ActionKind.CLOSE_EXPOSURE, ACCOUNT, {"properties": {
        "networkAcls": {**acls, "virtualNetworkRules": [allowed_rule]}}}),)


def test_no_allowed_subnets_removes_every_virtual_network_rule() -> None:
    acls = {"defaultAction": "Deny", "virtualNetworkRules": [{"id": SUBNET_ID}]}
    result = plan(allowing_vnets(), selected_account(acls))
    assert only(result, FindingCode.VIRTUAL_NETWORK_RULE_NOT_ALLOWED).expected == []
    assert one_action(result, ActionKind.CLOSE_EXPOSURE).body == {
        "properties": {"networkAcls": {"defaultAction": "Deny", "virtualNetworkRules": []}}}


def test_allowed_virtual_network_rules_are_compliant() -> None:
    acls = {"defaultAction": "Deny", "virtualNetworkRules": [{"id": OTHER_SUBNET_ID}], "ipRules": []}
    assert plan(allowing_vnets(OTHER_SUBNET_ID), selected_account(acls)) == Plan()


def test_disabled_mode_never_touches_virtual_network_rules() -> None:
    rules = [{"id": FOREIGN_SUBNET_ID}]
    obs = with_account(compliant_observation(), networkAcls={"defaultAction": "Deny", "virtualNetworkRules": rules})
    assert plan(make_desired(), obs) == Plan()  # public access off: the rules are unreachable
    obs = with_account(compliant_observation(), networkAcls={"defaultAction": "Allow", "virtualNetworkRules": rules})
    patch = one_action(plan(make_desired(), obs), ActionKind.PATCH_ACCOUNT_NETWORK)
    assert patch.body["properties"]["networkAcls"]["virtualNetworkRules"] == rules


def test_ip_rules_and_virtual_network_rules_and_default_action_in_one_patch() -> None:
    acls = {"defaultAction": "Allow", "ipRules": [{"value": "8.8.8.8"}, {"value": "203.0.113.1"}],
            "virtualNetworkRules": [{"id": FOREIGN_SUBNET_ID}, {"id": OTHER_SUBNET_ID}]}
    result = plan(allowing_vnets(OTHER_SUBNET_ID), selected_account(acls))
    assert codes(result) == [FindingCode.NETWORK_DEFAULT_ACTION_ALLOW, FindingCode.IP_RULE_NOT_ALLOWED,
                             FindingCode.VIRTUAL_NETWORK_RULE_NOT_ALLOWED]
    (patch,) = result.actions
    assert patch.body == {"properties": {"networkAcls": {
        "defaultAction": "Deny", "ipRules": [{"value": "203.0.113.1"}],
        "virtualNetworkRules": [{"id": OTHER_SUBNET_ID}]}}}


# --- NETWORK_BYPASS_NOT_ALLOWED ---------------------------------------------------------------------

@pytest.mark.parametrize("bypass", [None, "AzureServices", "None", "something"])
def test_bypass_unset_is_not_governed(bypass: str | None) -> None:
    acls = {"defaultAction": "Deny", **({"bypass": bypass} if bypass else {})}
    assert plan(make_desired(), with_account(compliant_observation(), networkAcls=acls)) == Plan()
    assert plan(allowing_vnets(), selected_account(acls)) == Plan()


@pytest.mark.parametrize("wanted", [NetworkBypass.NONE, NetworkBypass.AZURE_SERVICES])
@pytest.mark.parametrize("actual", [None, "AzureServices", "None", "Other"])
def test_bypass_enforced_when_set(wanted: NetworkBypass, actual: str | None) -> None:
    acls: dict[str, Any] = {"defaultAction": "Deny", "ipRules": [{"value": "10.0.0.1"}]}
    if actual is not None:
        acls["bypass"] = actual
    desired = make_desired(make_settings(network_bypass=wanted))
    result = plan(desired, with_account(compliant_observation(), networkAcls=copy.deepcopy(acls)))
    if actual == wanted.value:
        assert result == Plan()
        return
    finding = only(result, FindingCode.NETWORK_BYPASS_NOT_ALLOWED)
    assert (finding.property, finding.actual, finding.expected) == ("properties.networkAcls.bypass", actual,
                                                                      wanted.value)
    assert codes(result) == [FindingCode.NETWORK_BYPASS_NOT_ALLOWED]
    assert result.actions == (Action(ActionKind.PATCH_ACCOUNT_NETWORK, ACCOUNT, {"properties": {
        "networkAcls": {**acls, "bypass": wanted.value}}}),)  # every other field kept


def test_bypass_in_other_casing_is_compliant() -> None:
    desired = make_desired(make_settings(network_bypass=NetworkBypass.AZURE_SERVICES))
    obs = with_account(compliant_observation(), networkAcls={"defaultAction": "Deny", "bypass": "azureservices"})
    assert plan(desired, obs) == Plan()


def test_bypass_with_acls_missing_is_one_patch_with_deny() -> None:
    desired = make_desired(make_settings(network_bypass=NetworkBypass.NONE))
    result = plan(desired, with_account(compliant_observation(), networkAcls=DELETE))
    assert codes(result) == [FindingCode.NETWORK_DEFAULT_ACTION_ALLOW, FindingCode.NETWORK_BYPASS_NOT_ALLOWED]
    assert one_action(result, ActionKind.PATCH_ACCOUNT_NETWORK).body == {
        "properties": {"networkAcls": {"defaultAction": "Deny", "bypass": "None"}}}


def test_new_network_findings_are_account_findings() -> None:
    assert {FindingCode.VIRTUAL_NETWORK_RULE_NOT_ALLOWED, FindingCode.NETWORK_BYPASS_NOT_ALLOWED} <= ACCOUNT_FINDINGS
    desired = allowing_vnets(network_bypass=NetworkBypass.NONE)
    account = Account.from_arm(account_body(publicNetworkAccess="Enabled", networkAcls={
        "defaultAction": "Deny", "bypass": "AzureServices", "virtualNetworkRules": [{"id": FOREIGN_SUBNET_ID}]}))
    assert account_findings(desired, account) == {FindingCode.VIRTUAL_NETWORK_RULE_NOT_ALLOWED,
                                                  FindingCode.NETWORK_BYPASS_NOT_ALLOWED}


# --- network_patch: the PATCH rebuilt from the account as read again -----------------------------------

def test_exposure_fix_and_network_patch_are_the_plans_two_patches() -> None:
    obs = selected_account({"defaultAction": "Allow", "ipRules": [{"value": "8.8.8.8"}], "bypass": "AzureServices"})
    desired = allowing_vnets(network_bypass=NetworkBypass.NONE)
    result = plan(desired, obs)
    assert exposure_fix(desired, obs.account) == one_action(result, ActionKind.CLOSE_EXPOSURE)
    assert network_patch(desired, obs.account) == one_action(result, ActionKind.PATCH_ACCOUNT_NETWORK)
    # The rest is built on the account as it reads once closed: it never sends the rules the close removes.
    assert network_patch(desired, obs.account).body == {"properties": {"networkAcls": {  # type: ignore[union-attr]
        "defaultAction": "Deny", "ipRules": [], "bypass": "None"}}}


def test_exposure_fix_rebuilt_after_a_person_removed_a_rule_keeps_it_removed() -> None:
    first = selected_account({"defaultAction": "Allow",
                              "ipRules": [{"value": "203.0.113.7"}, {"value": "203.0.113.8"}]})
    again = selected_account({"defaultAction": "Allow", "ipRules": [{"value": "203.0.113.8"}]})
    desired = allowing_vnets()
    assert exposure_fix(desired, first.account).body["properties"]["networkAcls"]["ipRules"] == [  # type: ignore[union-attr]
        {"value": "203.0.113.7"}, {"value": "203.0.113.8"}]
    assert exposure_fix(desired, again.account).body == {"properties": {"networkAcls": {  # type: ignore[union-attr]
        "defaultAction": "Deny", "ipRules": [{"value": "203.0.113.8"}]}}}
    assert network_patch(desired, again.account) is None


def test_network_patch_is_none_when_the_account_was_fixed_meanwhile() -> None:
    assert network_patch(allowing_vnets(), selected_account({"defaultAction": "Deny"}).account) is None
