"""Writes built from a read taken just before them (docs/findings.md, "Writes built from a fresh read"), and honest
link creation: a person's change made while the app waits is never undone by accident, and a link the
app cannot create is never counted as created."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from localdev.arm_emulator import Fault
from localdev.estate import (
    OPENAI_ZONE,
    OTHER_SUBNET_ID,
    SUBNET_ID,
    VNET_ID,
    ZONES_BY_KIND,
    Estate,
    account_id,
    rg_id,
    zone_id,
)
from remediation.arm.apply import ACTIONS
from remediation.core.ids import parse_account_id, parse_resource_id
from remediation.core.model import ActionKind, Trigger
from remediation.core.naming import zone_link_name
from remediation.core.plan import Action
from remediation.core.settings import Settings
from remediation.engine.reconcile import Remediator
from remediation.runtime.wiring import build
from tests.conftest import Stack

AOAI = account_id("aoai-prod")
ALLOWED_SUBNET = f"{rg_id('rg-spoke')}/providers/Microsoft.Network/virtualNetworks/vnet-spoke/subnets/apps"
SELECTED = {"REMEDIATION_PUBLIC_NETWORK_ACCESS": "SelectedNetworks",
            "REMEDIATION_ALLOWED_IP_RULES": "203.0.113.0/24",
            "REMEDIATION_ALLOWED_VNET_SUBNET_IDS": f"{ALLOWED_SUBNET},{OTHER_SUBNET_ID}"}
BUSY = Fault(method="PATCH", path=r"/accounts/aoai-prod$", status=409, code="RequestConflict",
             message="Cannot modify resource with id '...' because the resource entity provisioning state is "
                     "not terminal.", times=1)


def remediator_with_wait(stack: Stack, during_wait: Any, **settings: str) -> Remediator:
    """The app, whose busy wait is where a person's edit lands (the first wait only)."""
    done: list[bool] = []

    def sleep(seconds: float) -> None:
        if not done:
            done.append(True)
            during_wait()
        time.sleep(seconds)

    app = build(Settings.from_env(stack.apply_env(**settings)), sleep=sleep)
    stack.apps.append(app)
    return app.remediator


def patches(stack: Stack) -> list[Any]:
    return [w for w in stack.writes() if w.method == "PATCH"]


@pytest.mark.parametrize("settle_gets", [0, 2])  # Azure reads Accepted for a while after the person's update
def test_a_rule_a_person_removes_during_the_apps_busy_wait_stays_removed(stack: Stack, settle_gets: int) -> None:
    stack.seed(Estate().network((OPENAI_ZONE,)).locked(
        "aoai-prod", public_network_access="Enabled", default_action="Allow",
        ip_rules=("203.0.113.7", "203.0.113.8"), vnet_rules=(ALLOWED_SUBNET, OTHER_SUBNET_ID)))
    stack.emulator.add_fault(BUSY)  # an operation runs on the account when the app first PATCHes it

    def dana_removes_a_rule_of_each_kind() -> None:
        stack.emulator.config.account_settle_gets = settle_gets
        stack.as_user("PATCH", AOAI, {"properties": {"networkAcls": {
            "defaultAction": "Allow", "ipRules": [{"value": "203.0.113.8"}],
            "virtualNetworkRules": [{"id": OTHER_SUBNET_ID}]}}})

    record = remediator_with_wait(stack, dana_removes_a_rule_of_each_kind, **SELECTED).reconcile(
        parse_account_id(AOAI), Trigger.EVENT).record.to_json()

    assert record["outcome"] == "remediated", record["error"]
    first, second = patches(stack)
    assert (first.status == 409
            and {"value": "203.0.113.7"} in first.request_body["properties"]["networkAcls"]["ipRules"])
    assert second.request_body == {"properties": {"networkAcls": {
        "defaultAction": "Deny", "ipRules": [{"value": "203.0.113.8"}],
        "virtualNetworkRules": [{"id": OTHER_SUBNET_ID}]}}}
    acls = stack.resource(AOAI)["properties"]["networkAcls"]
    assert acls["defaultAction"] == "Deny"
    assert acls["ipRules"] == [{"value": "203.0.113.8"}], "the person's removal survives the app's fix"
    assert acls["virtualNetworkRules"] == [{"id": OTHER_SUBNET_ID}]
    assert record["after"]["networkAcls"]["ipRules"] == [{"value": "203.0.113.8"}]


def test_nothing_is_sent_when_the_person_fixed_it_during_the_wait(stack: Stack) -> None:
    stack.seed(Estate().network((OPENAI_ZONE,)).locked("aoai-prod", public_network_access="Enabled"))
    stack.emulator.add_fault(BUSY)

    def dana_closes_it_herself() -> None:
        stack.as_user("PATCH", AOAI, {"properties": {"publicNetworkAccess": "Disabled"}})

    record = remediator_with_wait(stack, dana_closes_it_herself).reconcile(
        parse_account_id(AOAI), Trigger.EVENT).record.to_json()

    assert record["outcome"] == "remediated" and record["after"]["publicNetworkAccess"] == "Disabled"
    assert [w.status for w in patches(stack)] == [409], "one PATCH, refused; none after the wait"
    assert [(a["name"], a["status"]) for a in record["actions"]] == [("close-account-exposure", "succeeded")]


def test_a_zone_group_config_a_person_adds_while_the_app_works_is_kept(stack: Stack) -> None:
    zones = ZONES_BY_KIND["AIServices"]
    group = (f"{rg_id('rg-network')}/providers/Microsoft.Network/privateEndpoints/pe-ais-existing"
             "/privateDnsZoneGroups/default")
    stack.seed(Estate().network(zones).account("ais-prod", "AIServices", public_network_access="Enabled")
               .endpoint(account_id("ais-prod"), "pe-ais-existing", zone_group=(OPENAI_ZONE,)))
    app = stack.emulator.app_identity.object_id
    added: list[bool] = []

    def dana_adds_the_cognitive_zone_under_her_own_name(write: Any) -> None:
        if write.caller_claims.get("oid") == app and write.method == "PATCH" and not added:
            added.append(True)  # after the app's PATCH, before its zone group PUT (built on the earlier read)
            stack.as_user("PUT", group, {"properties": {"privateDnsZoneConfigs": [
                {"name": "privatelink-openai-azure-com", "properties": {"privateDnsZoneId": zone_id(OPENAI_ZONE)}},
                {"name": "dana-cognitive", "properties": {"privateDnsZoneId": zone_id(zones[0])}}]}},
                api_version="2024-05-01")

    stack.emulator.on_write(dana_adds_the_cognitive_zone_under_her_own_name)
    result = stack.remediator().reconcile(parse_account_id(account_id("ais-prod")), Trigger.EVENT)

    assert added and result.record.outcome.value == "remediated", result.record.error
    [put] = [w for w in stack.writes() if "/privateDnsZoneGroups/" in w.path]
    names = [c["name"] for c in put.request_body["properties"]["privateDnsZoneConfigs"]]
    assert names == ["privatelink-openai-azure-com", "dana-cognitive", "privatelink-services-ai-azure-com"]
    configs = stack.resource(group)["properties"]["privateDnsZoneConfigs"]
    assert [c["name"] for c in configs] == names, "her config is kept; only the zone still missing is added"


# --- honest link creation ---------------------------------------------------------------------------------

SPOKE_VNET = f"{rg_id('rg-spoke')}/providers/Microsoft.Network/virtualNetworks/vnet-spoke"


def _link_taken_estate() -> Estate:
    """The zone is not linked to the hub, and a link with the name the app would give it links another VNet."""
    name = zone_link_name(parse_resource_id(VNET_ID))
    return (Estate().network().zone(OPENAI_ZONE, linked=False).account("aoai-prod")
            .endpoint(AOAI, zone_group=(OPENAI_ZONE,))
            .add({"id": SPOKE_VNET, "location": "eastus", "properties": {
                "addressSpace": {"addressPrefixes": ["10.8.0.0/16"]},
                "subnets": [{"name": "apps", "properties": {"addressPrefix": "10.8.0.0/24"}}]}})
            .add({"id": f"{zone_id(OPENAI_ZONE)}/virtualNetworkLinks/{name}", "location": "global",
                  "properties": {"virtualNetwork": {"id": SPOKE_VNET}, "registrationEnabled": False}}))


def test_a_link_whose_name_is_taken_by_another_vnets_link_keeps_the_finding_open(stack: Stack) -> None:
    stack.seed(_link_taken_estate())
    link = f"{zone_id(OPENAI_ZONE)}/virtualNetworkLinks/{zone_link_name(parse_resource_id(VNET_ID))}"

    for _ in range(2):
        result = stack.remediator().reconcile(parse_account_id(AOAI), Trigger.EVENT)
        record = result.record.to_json()
        assert record["outcome"] == "failed", "never remediated"
        assert [f["code"] for f in record["findings"]] == ["PRIVATE_DNS_ZONE_LINK_MISSING"]
        [action] = record["actions"]
        assert action["status"] == "failed"
        assert f"is taken by a link to {SPOKE_VNET}" in action["error"] and "not overwritten" in action["error"]
        assert result.failure is None, "a name someone else holds is not retried"
    assert [w.status for w in stack.writes()] == [412, 412]
    assert all(w.headers.get("if-none-match") == "*" for w in stack.writes())
    assert stack.resource(link)["properties"]["virtualNetwork"]["id"] == SPOKE_VNET, "their link is untouched"


def test_a_link_or_zone_that_exists_as_wanted_counts_as_created(stack: Stack) -> None:
    """A 412 on create-only means it exists: fine when it is what the app wanted (a concurrent reconcile)."""
    stack.seed(Estate().network((OPENAI_ZONE,)).account("aoai-prod"))
    remediator = stack.remediator()
    link = parse_resource_id(f"{zone_id(OPENAI_ZONE)}/virtualNetworkLinks/hub")
    zone = parse_resource_id(zone_id(OPENAI_ZONE))
    link_action = Action(ActionKind.CREATE_DNS_ZONE_LINK, link, {
        "location": "global", "properties": {"virtualNetwork": {"id": VNET_ID}, "registrationEnabled": False}})
    before = stack.resource(str(link))

    created = ACTIONS[ActionKind.CREATE_DNS_ZONE_LINK].execute(remediator.clients, link_action)
    ACTIONS[ActionKind.CREATE_DNS_ZONE].execute(remediator.clients, Action(ActionKind.CREATE_DNS_ZONE, zone,
                                                                           {"location": "global"}))

    assert created["properties"]["virtualNetwork"]["id"] == VNET_ID
    assert [w.status for w in stack.writes()] == [412, 412]
    assert stack.resource(str(link)) == before
    assert SUBNET_ID.startswith(VNET_ID)


def test_the_sweep_reports_a_taken_link_name_without_queuing_it_again(stack: Stack) -> None:
    from tests.helpers.sweeping import sweep

    stack.seed(Estate().network().zone(OPENAI_ZONE, linked=False).account("aoai-prod")
               .endpoint(AOAI, zone_group=(OPENAI_ZONE,)))
    [summary], queued = sweep(stack)
    assert summary.by_finding["PRIVATE_DNS_ZONE_LINK_MISSING"] == 1 and queued == [AOAI], "a free name: queued"
    stack.emulator.reset()
    stack.seed(_link_taken_estate())

    [summary], queued = sweep(stack)

    assert summary.by_finding["PRIVATE_DNS_ZONE_LINK_MISSING"] == 1
    assert queued == [], "a reconcile could only report it again"


def test_a_rule_a_person_removes_while_the_app_reads_the_rest_stays_removed(stack: Stack) -> None:
    """The close goes first, alone; the PATCH of the rest is built from a read taken after the app's other reads
    (here, while it reads the endpoint, a person removes a virtual network rule): the rule is not put back."""
    stack.seed(Estate().network((OPENAI_ZONE,)).locked(
        "aoai-prod", public_network_access="Enabled", default_action="Allow",
        vnet_rules=(ALLOWED_SUBNET, OTHER_SUBNET_ID)))
    endpoint = f"{rg_id('rg-network')}/providers/Microsoft.Network/privateEndpoints/pe-aoai-prod-existing"
    stack.emulator.add_fault(Fault(method="GET", path=f"{endpoint}$", status=None, delay_s=0.5))
    removed = threading.Event()

    def dana_removes_a_rule_while_the_app_reads() -> None:
        deadline = time.monotonic() + 10
        while not any(r.path.split("?")[0].lower() == endpoint.lower() for r in stack.emulator.requests):
            if time.monotonic() > deadline:
                return
            time.sleep(0.01)
        stack.as_user("PATCH", AOAI, {"properties": {"networkAcls": {
            "defaultAction": "Allow", "virtualNetworkRules": [{"id": OTHER_SUBNET_ID}]}}})
        removed.set()

    person = threading.Thread(target=dana_removes_a_rule_while_the_app_reads)
    person.start()
    record = stack.remediator().reconcile(parse_account_id(AOAI), Trigger.EVENT).record.to_json()
    person.join()

    assert removed.is_set()
    close, rest = [w.request_body for w in patches(stack)]
    assert close == {"properties": {"publicNetworkAccess": "Disabled"}}
    assert rest["properties"]["networkAcls"]["virtualNetworkRules"] == [{"id": OTHER_SUBNET_ID}]
    acls = stack.resource(AOAI)["properties"]["networkAcls"]
    assert acls["defaultAction"] == "Deny" and acls["virtualNetworkRules"] == [{"id": OTHER_SUBNET_ID}]
    assert record["outcome"] == "remediated", record["error"]
