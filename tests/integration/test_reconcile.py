"""reconcile() end to end: the real SDK clients and DefaultAzureCredential over HTTPS against the
emulator, audit rows in Azurite. One test per finding (docs/findings.md), in enforce, report and dry-run."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest

from localdev.arm_emulator import Fault
from localdev.estate import (
    DNS_RG_ID,
    OPENAI_ZONE,
    OTHER_SUBNET_ID,
    SUBNET_ID,
    VNET_ID,
    ZONES_BY_KIND,
    Estate,
    account_id,
    zone_id,
)
from remediation.core.ids import parse_account_id
from remediation.core.model import Trigger
from remediation.core.naming import private_endpoint_name
from remediation.core.telemetry import RECONCILE_PREFIX, parse_line, reconcile_line
from tests.conftest import Stack
from tests.helpers.estates import FINDINGS

AOAI = account_id("aoai-prod")
AOAI_ID = parse_account_id(AOAI)


def reconcile(stack: Stack, account: str = AOAI, *, dry_run: bool = False, **settings: str) -> dict:
    result = stack.remediator(**settings).reconcile(parse_account_id(account), Trigger.HTTP, dry_run=dry_run)
    assert result.audit_errors == []
    return result.record.to_json()


def codes(record: dict) -> list[str]:
    return sorted({f["code"] for f in record["findings"]})


def action_names(record: dict, status: str | None = None) -> list[str]:
    return [a["name"] for a in record["actions"] if status is None or a["status"] == status]


def account_props(stack: Stack, account: str = AOAI) -> dict:
    return stack.resource(account)["properties"]


# --- the account's own network settings ------------------------------------------------------------

def test_public_network_access_enabled_is_disabled_with_a_minimal_patch(stack: Stack) -> None:
    stack.seed(Estate().network((OPENAI_ZONE,)).locked("aoai-prod", public_network_access="Enabled"))

    record = reconcile(stack)

    assert record["outcome"] == "remediated"
    assert codes(record) == ["PUBLIC_NETWORK_ACCESS_ENABLED"]
    assert record["before"]["publicNetworkAccess"] == "Enabled"
    assert record["after"]["publicNetworkAccess"] == "Disabled"
    [patch] = stack.writes()
    assert patch.method == "PATCH"
    assert patch.request_body == {"properties": {"publicNetworkAccess": "Disabled"}}
    account = stack.resource(AOAI)
    assert account["properties"]["publicNetworkAccess"] == "Disabled"
    assert account["tags"] == {"owner": "ai-platform", "cost-center": "4711"}
    assert account["sku"] == {"name": "S0"}


@pytest.mark.parametrize("how", ["report", "dry-run"])
def test_report_mode_and_dry_run_plan_without_writing(stack: Stack, how: str) -> None:
    stack.seed(Estate().network((OPENAI_ZONE,)).locked("aoai-prod", public_network_access="Enabled"))

    if how == "report":
        record = reconcile(stack, REMEDIATION_MODE="report")
    else:
        record = reconcile(stack, dry_run=True)

    assert record["outcome"] == "would-remediate"
    assert record["mode"] == "report"
    assert codes(record) == ["PUBLIC_NETWORK_ACCESS_ENABLED"]
    assert [(a["name"], a["status"]) for a in record["actions"]] == [("close-account-exposure", "planned")]
    assert stack.writes() == []
    assert account_props(stack)["publicNetworkAccess"] == "Enabled"


def test_default_action_allow_becomes_deny_and_keeps_existing_rules(stack: Stack) -> None:
    stack.seed(Estate().network((OPENAI_ZONE,)).locked("aoai-prod", default_action="Allow",
                                                        ip_rules=("203.0.113.7",)))

    record = reconcile(stack)

    assert record["outcome"] == "remediated"
    assert codes(record) == ["NETWORK_DEFAULT_ACTION_ALLOW"]
    [patch] = stack.writes()
    assert patch.request_body == {"properties": {"networkAcls": {
        "defaultAction": "Deny", "virtualNetworkRules": [], "ipRules": [{"value": "203.0.113.7"}]}}}
    acls = account_props(stack)["networkAcls"]
    assert acls["defaultAction"] == "Deny" and acls["ipRules"] == [{"value": "203.0.113.7"}]


def test_missing_network_acls_count_as_allow(stack: Stack) -> None:
    stack.seed(Estate().network((OPENAI_ZONE,)).locked("aoai-prod", default_action=None))

    record = reconcile(stack)

    assert codes(record) == ["NETWORK_DEFAULT_ACTION_ALLOW"]
    assert account_props(stack)["networkAcls"]["defaultAction"] == "Deny"


def test_selected_networks_keeps_only_allowed_ip_rules(stack: Stack) -> None:
    stack.seed(Estate().network((OPENAI_ZONE,)).locked(
        "aoai-prod", public_network_access="Enabled", ip_rules=("198.51.100.10", "203.0.113.7")))

    record = reconcile(stack, REMEDIATION_PUBLIC_NETWORK_ACCESS="SelectedNetworks",
                       REMEDIATION_ALLOWED_IP_RULES="198.51.100.0/24")

    assert record["outcome"] == "remediated"
    assert codes(record) == ["IP_RULE_NOT_ALLOWED"]
    assert account_props(stack)["publicNetworkAccess"] == "Enabled"  # SelectedNetworks keeps it on
    assert account_props(stack)["networkAcls"]["ipRules"] == [{"value": "198.51.100.10"}]


def test_local_auth_is_disabled_when_the_setting_asks(stack: Stack) -> None:
    stack.seed(Estate().network((OPENAI_ZONE,)).locked("aoai-prod", disable_local_auth=False))

    assert reconcile(stack)["outcome"] == "compliant"  # not governed by default
    record = reconcile(stack, REMEDIATION_DISABLE_LOCAL_AUTH="true")

    assert codes(record) == ["LOCAL_AUTH_ENABLED"]
    assert stack.writes()[0].request_body == {"properties": {"disableLocalAuth": True}}
    assert account_props(stack)["disableLocalAuth"] is True


def test_custom_subdomain_missing_is_reported_and_fails_the_endpoint_part(stack: Stack) -> None:
    stack.seed(Estate().network((OPENAI_ZONE,)).account("aoai-prod", subdomain=False))

    record = reconcile(stack)

    assert record["outcome"] == "failed"
    assert codes(record) == ["CUSTOM_SUBDOMAIN_MISSING"]
    assert "custom subdomain" in record["error"]
    assert stack.writes() == []


# --- private endpoints -----------------------------------------------------------------------------

def test_missing_private_endpoint_is_created_in_the_configured_subnet(stack: Stack) -> None:
    stack.seed(Estate().network((OPENAI_ZONE,)).account("aoai-prod"))

    record = reconcile(stack)

    assert record["outcome"] == "remediated", record["error"]
    assert codes(record) == ["PRIVATE_DNS_ZONE_GROUP_MISSING", "PRIVATE_ENDPOINT_MISSING"]
    pe_name = private_endpoint_name(AOAI_ID)
    [put_pe, put_group] = stack.writes()
    assert put_pe.method == "PUT" and put_pe.path.lower().endswith(f"/privateendpoints/{pe_name}".lower())
    assert put_pe.request_body["properties"]["subnet"] == {"id": SUBNET_ID}
    [connection] = put_pe.request_body["properties"]["privateLinkServiceConnections"]
    assert connection["properties"] == {"privateLinkServiceId": AOAI, "groupIds": ["account"]}
    assert put_pe.request_body["location"] == "eastus"
    assert put_group.request_body == {"properties": {"privateDnsZoneConfigs": [
        {"name": "privatelink-openai-azure-com", "properties": {"privateDnsZoneId": zone_id(OPENAI_ZONE)}}]}}
    [approved] = account_props(stack)["privateEndpointConnections"]
    assert approved["properties"]["privateLinkServiceConnectionState"]["status"] == "Approved"
    assert record["after"]["privateEndpointConnections"][0]["status"] == "Approved"


def test_endpoint_in_another_subnet_does_not_count_and_is_left_alone(stack: Stack) -> None:
    stack.seed(Estate().network((OPENAI_ZONE,)).account("aoai-prod")
               .endpoint(AOAI, "pe-team-own", subnet=OTHER_SUBNET_ID, zone_group=(OPENAI_ZONE,)))

    record = reconcile(stack)

    assert "PRIVATE_ENDPOINT_MISSING" in codes(record)
    assert record["outcome"] == "remediated"
    assert all("pe-team-own" not in w.path for w in stack.writes())
    assert stack.resource(f"{DNS_RG_ID.replace('rg-dns', 'rg-network')}/providers/Microsoft.Network/"
                          "privateEndpoints/pe-team-own") is not None


def test_no_subnet_configured_reports_the_missing_endpoint_without_creating_one(stack: Stack) -> None:
    stack.seed(Estate().network((OPENAI_ZONE,)).account("aoai-prod"))

    record = reconcile(stack, REMEDIATION_PE_SUBNET_ID="")

    assert codes(record) == ["PRIVATE_ENDPOINT_MISSING"]
    assert record["outcome"] == "failed"
    assert [(a["name"], a["status"]) for a in record["actions"]] == [("create-private-endpoint", "skipped")]
    assert "REMEDIATION_PE_SUBNET_ID" in record["actions"][0]["error"]
    assert stack.writes() == []


def test_pending_connection_from_an_allowed_subnet_is_approved(stack: Stack) -> None:
    stack.seed(Estate().network((OPENAI_ZONE,)).account("aoai-prod")
               .endpoint(AOAI, "pe-manual", manual=True, zone_group=(OPENAI_ZONE,)))

    record = reconcile(stack)

    assert record["outcome"] == "remediated", record["error"]
    assert codes(record) == ["PRIVATE_ENDPOINT_CONNECTION_PENDING"]
    [approve] = stack.writes()
    assert approve.method == "PUT" and "/privateEndpointConnections/" in approve.path
    assert approve.request_body["properties"]["privateLinkServiceConnectionState"]["status"] == "Approved"
    [connection] = account_props(stack)["privateEndpointConnections"]
    assert connection["properties"]["privateLinkServiceConnectionState"]["status"] == "Approved"


# --- private DNS ------------------------------------------------------------------------------------

@pytest.mark.parametrize("dns_lro", ["sync", "aao"])  # Private DNS answers 201 with the zone, or 202 + an operation
def test_missing_zone_is_created_linked_and_grouped(stack: Stack, dns_lro: str) -> None:
    stack.seed(Estate().network().account("aoai-prod").endpoint(AOAI, "pe-existing"))
    stack.emulator.config.dns_lro = dns_lro

    record = reconcile(stack)

    assert record["outcome"] == "remediated", record["error"]
    assert codes(record) == ["PRIVATE_DNS_ZONE_GROUP_MISSING", "PRIVATE_DNS_ZONE_LINK_MISSING",
                             "PRIVATE_DNS_ZONE_MISSING"]
    assert action_names(record, "succeeded") == [
        "create-private-dns-zone", "create-private-dns-zone-link", "put-private-dns-zone-group"]
    zone_put = stack.writes()[0]
    assert zone_put.request_body == {"location": "global"}
    assert zone_put.headers.get("if-none-match") == "*"  # create-only: never overwrite someone's zone
    link_put = stack.writes()[1]
    assert link_put.request_body["properties"] == {"virtualNetwork": {"id": VNET_ID}, "registrationEnabled": False}
    assert stack.resource(zone_id(OPENAI_ZONE)) is not None
    record_set = stack.resource(f"{zone_id(OPENAI_ZONE)}/A/aoai-prod")
    assert record_set and record_set["properties"]["aRecords"], "the zone group wrote the account's A record"


def test_missing_link_to_the_endpoint_vnet_is_created(stack: Stack) -> None:
    stack.seed(Estate().network((OPENAI_ZONE,), linked=False).account("aoai-prod")
               .endpoint(AOAI, "pe-existing", zone_group=(OPENAI_ZONE,)))

    record = reconcile(stack)

    assert record["outcome"] == "remediated", record["error"]
    assert codes(record) == ["PRIVATE_DNS_ZONE_LINK_MISSING"]
    [link] = stack.writes()
    assert "/virtualNetworkLinks/" in link.path


def test_missing_zone_group_is_created_as_default(stack: Stack) -> None:
    stack.seed(Estate().network((OPENAI_ZONE,)).account("aoai-prod").endpoint(AOAI, "pe-existing"))

    record = reconcile(stack)

    assert codes(record) == ["PRIVATE_DNS_ZONE_GROUP_MISSING"]
    [group] = stack.writes()
    assert group.path.split("?")[0].endswith("/pe-existing/privateDnsZoneGroups/default")


def test_incomplete_zone_group_gets_the_missing_zones_and_keeps_its_own(stack: Stack) -> None:
    zones = ZONES_BY_KIND["AIServices"]
    stack.seed(Estate().network(zones).account("ais-prod", "AIServices")
               .endpoint(account_id("ais-prod"), "pe-ais", zone_group=(OPENAI_ZONE,), group_name="team-dns"))

    record = reconcile(stack, account_id("ais-prod"))

    assert record["outcome"] == "remediated", record["error"]
    assert codes(record) == ["PRIVATE_DNS_ZONE_GROUP_INCOMPLETE"]
    [group] = stack.writes()
    assert group.path.split("?")[0].endswith("/pe-ais/privateDnsZoneGroups/team-dns")
    configs = group.request_body["properties"]["privateDnsZoneConfigs"]
    assert [c["properties"]["privateDnsZoneId"] for c in configs] == [
        zone_id(OPENAI_ZONE), zone_id(zones[0]), zone_id(zones[2])]


def test_dns_resource_group_unset_reports_dns_findings_without_writing(stack: Stack) -> None:
    stack.seed(Estate().network((OPENAI_ZONE,)).account("aoai-prod").endpoint(AOAI, "pe-existing"))

    record = reconcile(stack, REMEDIATION_DNS_ZONE_RESOURCE_GROUP_ID="")

    assert codes(record) == ["PRIVATE_DNS_ZONE_GROUP_MISSING"]
    assert record["outcome"] == "failed"
    assert "REMEDIATION_DNS_ZONE_RESOURCE_GROUP_ID" in record["error"]
    assert stack.writes() == []


# --- accounts that are busy ---------------------------------------------------------------------

def test_account_not_ready_is_deferred_without_writes(stack: Stack) -> None:
    stack.seed(Estate().network((OPENAI_ZONE,)).locked("aoai-prod", public_network_access="Enabled",
                                                        provisioning_state="Accepted"))

    record = reconcile(stack, REMEDIATION_READY_TIMEOUT_SECONDS="0.3")

    assert record["outcome"] == "deferred"
    assert codes(record) == ["ACCOUNT_NOT_READY"]
    assert stack.writes() == []
    assert stack.arm("read"), "it read the account (bounded wait)"


def test_busy_account_is_retried_until_the_patch_is_accepted(stack: Stack) -> None:
    stack.seed(Estate().network((OPENAI_ZONE,)).locked("aoai-prod", public_network_access="Enabled"))
    stack.emulator.add_fault(Fault(method="PATCH", path=r"/accounts/aoai-prod$", status=409, code="RequestConflict",
                                   message="Cannot modify resource with id '...' because the resource entity "
                                           "provisioning state is not terminal.", times=2))

    record = reconcile(stack)

    assert record["outcome"] == "remediated"
    assert [w.status for w in stack.writes()] == [409, 409, 202]


def test_private_endpoint_waits_for_the_account_to_settle_after_its_patch(stack: Stack) -> None:
    stack.seed(Estate().network((OPENAI_ZONE,)).account("aoai-prod", public_network_access="Enabled"))
    stack.emulator.config.account_settle_gets = 2  # Azure reports Accepted for a while after the PATCH

    record = reconcile(stack)

    assert record["outcome"] == "remediated", record["error"]
    sequence = [(r.method, r.kind, r.path.split("?")[0].rsplit("/", 2)[-2]) for r in stack.arm() if r.kind != "poll"]
    patch_at = sequence.index(("PATCH", "write", "accounts"))
    endpoint_at = sequence.index(("PUT", "write", "privateEndpoints"))
    between = sequence[patch_at + 1:endpoint_at]
    # The operation's own final GET saw the first Accepted; the app then read Accepted once more, then Succeeded.
    assert between.count(("GET", "read", "accounts")) == 2
    assert [w.status for w in stack.writes() if w.path.split("?")[0].rsplit("/", 2)[-2] == "privateEndpoints"] == [201]


def test_account_provisioning_state_invalid_is_busy_and_retried_after_a_read(stack: Stack) -> None:
    stack.seed(Estate().network((OPENAI_ZONE,)).account("aoai-prod"))
    stack.emulator.add_fault(Fault(method="PUT", path=r"/privateEndpoints/pe-aoai-prod-[0-9a-f]+$", status=400,
                                   code="AccountProvisioningStateInvalid",
                                   message=f"Call to Microsoft.CognitiveServices/accounts failed. Error message: "
                                           f"Account {AOAI} in state Accepted", times=1))

    record = reconcile(stack)

    assert record["outcome"] == "remediated", record["error"]
    puts = [w.status for w in stack.writes() if w.path.split("?")[0].rsplit("/", 2)[-2] == "privateEndpoints"]
    assert puts == [400, 201]


def test_throttled_read_is_retried_after_retry_after(stack: Stack) -> None:
    stack.seed(Estate().network((OPENAI_ZONE,)).locked("aoai-prod"))
    stack.emulator.add_fault(Fault(method="GET", path=r"/accounts/aoai-prod$", status=429, code="TooManyRequests",
                                   headers={"Retry-After": "1"}, times=1))

    record = reconcile(stack)

    assert record["outcome"] == "compliant"
    gets = [r.status for r in stack.arm("read") if r.path.split("?")[0].endswith("/accounts/aoai-prod")]
    assert gets == [429, 200]


# --- what must cost nothing ------------------------------------------------------------------------

# account, endpoint, its zone group, then per zone the kind needs its links and the account's A, AAAA and CNAME
# record sets (an AAAA or a CNAME at the name answers instead of the A record: one GET each, 404 when absent)
@pytest.mark.parametrize("kind,reads", [("OpenAI", 7), ("AIServices", 15)])
def test_compliant_account_costs_no_writes_and_the_fewest_reads(stack: Stack, kind: str, reads: int) -> None:
    stack.seed(Estate().network(ZONES_BY_KIND[kind]).locked("aoai-prod", kind))

    record = reconcile(stack)

    assert record["outcome"] == "compliant"
    assert record["findings"] == [] and record["actions"] == []
    assert stack.writes() == []
    assert len(stack.arm("read")) == reads


@pytest.mark.parametrize("kind", ["OpenAI", "AIServices"])
def test_second_reconcile_of_a_fixed_account_writes_nothing(stack: Stack, kind: str) -> None:
    stack.seed(Estate().network().account("aoai-prod", kind, public_network_access="Enabled",
                                          default_action="Allow"))
    first = reconcile(stack)
    assert first["outcome"] == "remediated", first["error"]
    stack.emulator.clear_requests()

    second = reconcile(stack)

    assert second["outcome"] == "compliant", second["findings"]
    assert stack.writes() == []


def test_exempt_account_is_recorded_and_not_touched(stack: Stack) -> None:
    until = (datetime.now(UTC).date() + timedelta(days=30)).isoformat()
    stack.seed(Estate().network((OPENAI_ZONE,)).account(
        "aoai-lab", public_network_access="Enabled", tags={"remediation-exempt": until}))

    record = reconcile(stack, account_id("aoai-lab"))

    assert record["outcome"] == "exempt" and record["exemption"] == {"exempt": True, "by": "tag",
                                                                     "tag": "remediation-exempt", "value": until,
                                                                     "until": until}
    assert "PUBLIC_NETWORK_ACCESS_ENABLED" in codes(record)  # observed and planned all the same
    assert stack.writes() == []


def test_kind_not_managed_is_skipped(stack: Stack) -> None:
    stack.seed(Estate().network().account("speech-1", "SpeechServices", public_network_access="Enabled"))

    record = reconcile(stack, account_id("speech-1"))

    assert record["outcome"] == "skipped" and "REMEDIATION_KINDS" in record["error"]
    assert stack.writes() == []


def test_account_outside_the_scopes_is_neither_read_nor_written(stack: Stack) -> None:
    outside = account_id("aoai-other", resource_group="rg-other")
    stack.seed(Estate().network().account("aoai-other", resource_group="rg-other", public_network_access="Enabled"))

    result = stack.remediator().reconcile(parse_account_id(outside), Trigger.HTTP)

    assert result.failure is not None and result.failure.value == "out-of-scope"
    assert stack.arm() == []


def test_tags_sku_and_other_properties_survive_a_full_fix(stack: Stack) -> None:
    stack.seed(Estate().network().account("aoai-prod", public_network_access="Enabled", default_action="Allow",
                                          ip_rules=("203.0.113.7",), tags={"env": "prod"}))
    before = stack.resource(AOAI)

    reconcile(stack)

    after = stack.resource(AOAI)
    assert after["tags"] == before["tags"] and after["sku"] == before["sku"] and after["kind"] == before["kind"]
    assert after["properties"]["customSubDomainName"] == before["properties"]["customSubDomainName"]
    for write in stack.writes():
        if write.method == "PATCH":
            assert set(write.request_body) == {"properties"}
            assert set(write.request_body["properties"]) <= {"publicNetworkAccess", "networkAcls", "disableLocalAuth"}


# --- audit -------------------------------------------------------------------------------------------

def test_audit_record_is_logged_and_stored_newest_first(stack: Stack, caplog: pytest.LogCaptureFixture) -> None:
    stack.seed(Estate().network((OPENAI_ZONE,)).locked("aoai-prod", public_network_access="Enabled"))
    caplog.set_level(logging.INFO, logger="remediation.audit")
    app = stack.app()
    remediator = app.remediator

    first = remediator.reconcile(AOAI_ID, Trigger.HTTP).record.to_json()
    second = remediator.reconcile(AOAI_ID, Trigger.HTTP).record.to_json()

    logged = [parse_line(r.getMessage(), RECONCILE_PREFIX) for r in caplog.records if r.name == "remediation.audit"]
    assert [(r["id"], r["outcome"]) for r in logged] == [(first["id"], "remediated"), (second["id"], "compliant")]
    history = app.history(AOAI_ID, 10)
    assert [r["id"] for r in history] == [second["id"], first["id"]]
    assert history[1] == first
    assert [r["outcome"] for r in history] == ["compliant", "remediated"]


def test_unreachable_audit_table_still_logs_the_telemetry_line(stack: Stack, caplog: pytest.LogCaptureFixture) -> None:
    from localdev.azurite import connection_string, free_port

    stack.seed(Estate().network((OPENAI_ZONE,)).locked("aoai-prod"))
    caplog.set_level(logging.INFO, logger="remediation.audit")
    dead = free_port()
    remediator = stack.remediator(AzureWebJobsStorage=connection_string("127.0.0.1", dead, dead, dead))

    result = remediator.reconcile(AOAI_ID, Trigger.HTTP)

    assert result.record.outcome.value == "compliant"
    assert len(result.audit_errors) == 1 and "audit table write failed" in result.audit_errors[0]
    logged = [r for r in caplog.records if r.name == "remediation.audit"]
    assert logged[0].getMessage() == reconcile_line(result.record.to_json())
    assert logged[1].levelno == logging.ERROR


# --- payloads that try to steer a write ---------------------------------------------------------------

def test_rejected_connection_of_our_own_endpoint_is_reported_not_rewritten(stack: Stack) -> None:
    stack.seed(Estate().network((OPENAI_ZONE,)).account("aoai-prod"))
    assert reconcile(stack)["outcome"] == "remediated"
    [connection] = account_props(stack)["privateEndpointConnections"]
    stack.as_user("PUT", connection["id"], {"properties": {"privateLinkServiceConnectionState": {
        "status": "Rejected", "description": "not this one"}}})
    stack.emulator.clear_requests()

    for _ in range(2):
        record = reconcile(stack)
        assert record["outcome"] == "failed"
        assert "PRIVATE_ENDPOINT_MISSING" in codes(record)
        assert "is Rejected" in record["error"]
    assert stack.writes() == []


def test_connection_naming_another_accounts_connection_is_not_approved(stack: Stack) -> None:
    other = account_id("aoai-other")
    stack.seed(Estate().network((OPENAI_ZONE,)).locked("aoai-prod")
               .account("aoai-other", tags={"remediation-exempt": "true"})
               .endpoint(other, "pe-other", manual=True, zone_group=(OPENAI_ZONE,)))

    record = reconcile(stack)

    assert record["outcome"] == "compliant"
    assert stack.writes() == []
    other_connection = stack.resource(other)["properties"]["privateEndpointConnections"][0]
    assert other_connection["properties"]["privateLinkServiceConnectionState"]["status"] == "Pending"


def test_enum_values_in_other_casing_are_compliant(stack: Stack) -> None:
    stack.seed(Estate().network((OPENAI_ZONE,)).locked("aoai-prod", public_network_access="disabled",
                                                        default_action="deny"))

    assert reconcile(stack)["outcome"] == "compliant"
    assert stack.writes() == []


def test_report_mode_with_nothing_it_could_fix_says_failed(stack: Stack) -> None:
    stack.seed(Estate().network((OPENAI_ZONE,)).account("aoai-prod"))

    record = reconcile(stack, REMEDIATION_MODE="report", REMEDIATION_PE_SUBNET_ID="")

    assert record["outcome"] == "failed"
    assert record["error"].startswith("cannot fix: ")
    assert stack.writes() == []


# --- every finding in enforce, report and dry-run ----------------------------------------------------

AIS = ZONES_BY_KIND["AIServices"]
# Findings the app reports but cannot fix, and the outcome each mode gives them.
ENFORCE_OUTCOME = {"CUSTOM_SUBDOMAIN_MISSING": "failed", "ACCOUNT_NOT_READY": "deferred"}
REPORT_OUTCOME = {"CUSTOM_SUBDOMAIN_MISSING": "failed", "ACCOUNT_NOT_READY": "deferred"}


@pytest.mark.parametrize("how", ["enforce", "report", "dry-run"])
@pytest.mark.parametrize("code", sorted(FINDINGS))
def test_every_finding_in_every_mode(stack: Stack, code: str, how: str) -> None:
    estate, settings = FINDINGS[code]
    stack.seed(estate())
    if how == "report":
        settings = {**settings, "REMEDIATION_MODE": "report"}

    record = reconcile(stack, dry_run=how == "dry-run", **settings)

    assert code in codes(record)
    if how == "enforce":
        assert record["mode"] == "enforce"
        assert record["outcome"] == ENFORCE_OUTCOME.get(code, "remediated"), record["error"]
        if code not in ENFORCE_OUTCOME:
            assert stack.writes(), "enforce mode fixed it"
            again = reconcile(stack, **settings)
            assert again["outcome"] == "compliant" and again["findings"] == [], again["findings"]
    else:
        assert record["mode"] == "report"
        assert record["outcome"] == REPORT_OUTCOME.get(code, "would-remediate"), record["error"]
        assert stack.writes() == []
        assert all(a["status"] in ("planned", "skipped") for a in record["actions"])
