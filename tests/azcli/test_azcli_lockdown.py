"""The manual lockdown procedure the product automates, done with the real Azure CLI against the emulator,
and the product's own view of the same estate (`python -m remediation scan|fix`) checked against what az
shows at each step."""
from __future__ import annotations

from typing import Any

from localdev.arm_emulator import ArmEmulator
from localdev.azcli import AzCli
from localdev.estate import DNS_RG_ID, OPENAI_ZONE, SUBNET_ID, VNET_ID, Estate, account_id
from tests.helpers.azcli import Remediation, seed

ACCOUNT_TYPE = "Microsoft.CognitiveServices/accounts"
MANUAL = account_id("aoai-manual")
LOCKED = account_id("aoai-locked")
DRIFTED = account_id("aoai-drifted")
ZONE_ID = f"{DNS_RG_ID}/providers/Microsoft.Network/privateDnsZones/{OPENAI_ZONE}"


# -- what az shows, turned into the findings the product should report (OpenAI accounts: one zone) ---------------
def az_findings(az: AzCli, account: str) -> set[str]:
    """The findings a person would name from az's output alone, by the rules in docs/findings.md's table."""
    name = account.rsplit("/", 1)[-1]
    shown = az.run("cognitiveservices", "account", "show", "-g", "rg-ai", "-n", name)
    props = shown["properties"]
    found = set()
    if props.get("publicNetworkAccess") != "Disabled":
        found.add("PUBLIC_NETWORK_ACCESS_ENABLED")
    if (props.get("networkAcls") or {}).get("defaultAction") != "Deny":
        found.add("NETWORK_DEFAULT_ACTION_ALLOW")
    endpoints = {pe["id"].lower(): pe for pe in az.run("network", "private-endpoint", "list", "-g", "rg-network")}
    in_subnet = []
    for connection in az.run("network", "private-endpoint-connection", "list", "--id", account):
        pe = endpoints.get(connection["properties"]["privateEndpoint"]["id"].lower())
        if pe is not None and pe["subnet"]["id"].lower() == SUBNET_ID.lower():
            in_subnet.append(connection["properties"]["privateLinkServiceConnectionState"]["status"])
    if "Pending" in in_subnet:
        found.add("PRIVATE_ENDPOINT_CONNECTION_PENDING")
    if "Approved" not in in_subnet:
        if "Pending" not in in_subnet:
            found.add("PRIVATE_ENDPOINT_MISSING")
        return found
    zones = {z["name"] for z in az.run("network", "private-dns", "zone", "list", "-g", "rg-dns")}
    if OPENAI_ZONE not in zones:
        return found | {"PRIVATE_DNS_ZONE_MISSING"}
    links = az.run("network", "private-dns", "link", "vnet", "list", "-g", "rg-dns", "-z", OPENAI_ZONE)
    if not any(link["virtualNetwork"]["id"].lower() == VNET_ID.lower() for link in links):
        found.add("PRIVATE_DNS_ZONE_LINK_MISSING")
    records = az.run("network", "private-dns", "record-set", "a", "list", "-g", "rg-dns", "-z", OPENAI_ZONE)
    if name not in {r["name"] for r in records}:
        found.add("PRIVATE_DNS_ZONE_GROUP_MISSING")
    return found


def scan_findings(remediation: Remediation) -> dict[str, set[str]]:
    status, report = remediation("scan")
    drifted = {row["resourceId"].lower(): set(row["findings"]) for row in report["drifted"]}
    assert status == (1 if drifted else 0)
    return drifted


def assert_scan_agrees(az: AzCli, remediation: Remediation, *accounts: str) -> dict[str, set[str]]:
    drifted = scan_findings(remediation)
    seen = {}
    for account in accounts:
        seen[account] = az_findings(az, account)
        assert drifted.get(account.lower(), set()) == seen[account], account
    return seen


def writes_by(emulator: ArmEmulator, object_id: str) -> list[Any]:
    return [r for r in emulator.requests if r.kind == "write" and (r.caller or {}).get("oid") == object_id]


# -- tests ----------------------------------------------------------------------------------------------------------
def test_manual_lockdown_with_az_and_the_scan_agrees_at_each_step(emulator, az, remediation):
    seed(emulator, Estate().network().account("aoai-manual", public_network_access="Enabled", default_action="Allow",
                                              ip_rules=("198.51.100.7",)))
    az.login(emulator.operator_identity.client_id)
    listed = az.run("cognitiveservices", "account", "list")
    assert [a["id"] for a in listed] == [MANUAL]
    shown = az.run("cognitiveservices", "account", "show", "-g", "rg-ai", "-n", "aoai-manual")
    assert shown["properties"]["networkAcls"]["ipRules"] == [{"value": "198.51.100.7"}]
    before = assert_scan_agrees(az, remediation, MANUAL)
    assert before[MANUAL] == {"PUBLIC_NETWORK_ACCESS_ENABLED", "NETWORK_DEFAULT_ACTION_ALLOW",
                              "PRIVATE_ENDPOINT_MISSING"}

    # Network rules: one more IP, then the old one removed.
    az.run("cognitiveservices", "account", "network-rule", "add", "-g", "rg-ai", "-n", "aoai-manual",
           "--ip-address", "203.0.113.9")
    az.run("cognitiveservices", "account", "network-rule", "remove", "-g", "rg-ai", "-n", "aoai-manual",
           "--ip-address", "198.51.100.7")
    rules = az.run("cognitiveservices", "account", "network-rule", "list", "-g", "rg-ai", "-n", "aoai-manual")
    assert rules["ipRules"] == [{"value": "203.0.113.9"}]
    az.run("cognitiveservices", "account", "update", "-g", "rg-ai", "-n", "aoai-manual",
           "--tags", "owner=ai-platform", "lockdown=manual")

    # Public access off without --api-version (az reads the provider's API versions), default action with one.
    updated = az.run("resource", "update", "--ids", MANUAL, "--set", "properties.publicNetworkAccess=Disabled")
    assert updated["properties"]["publicNetworkAccess"] == "Disabled"
    puts = [r for r in emulator.requests if r.method == "PUT" and r.path.endswith("/aoai-manual")]
    assert [r.api_version for r in puts] == ["2026-07-01"]  # the newest stable version the provider lists
    az.run("resource", "update", "--ids", MANUAL, "--set", "properties.networkAcls.defaultAction=Deny",
           "--api-version", "2025-09-01")
    after_acl = assert_scan_agrees(az, remediation, MANUAL)
    assert after_acl[MANUAL] == {"PRIVATE_ENDPOINT_MISSING"}
    # The generic view (no parent path: az sends `providers/Microsoft.CognitiveServices//accounts/…`).
    shown = az.run("resource", "show", "-g", "rg-ai", "-n", "aoai-manual", "--resource-type", ACCOUNT_TYPE)
    assert shown["tags"] == {"owner": "ai-platform", "lockdown": "manual"}
    assert shown["properties"]["networkAcls"]["ipRules"] == [{"value": "203.0.113.9"}]

    # A private endpoint requested by hand (the network team has no rights on the account): Pending.
    az.run("network", "private-endpoint", "create", "-g", "rg-network", "-n", "pe-aoai-manual",
           "--vnet-name", "vnet-hub", "--subnet", "snet-private-endpoints", "--private-connection-resource-id",
           MANUAL, "--group-id", "account", "--connection-name", "pe-aoai-manual", "--manual-request", "true",
           "--request-message", "lockdown")
    assert assert_scan_agrees(az, remediation, MANUAL)[MANUAL] == {"PRIVATE_ENDPOINT_CONNECTION_PENDING"}
    pending = az.run("network", "private-endpoint-connection", "list", "-g", "rg-ai", "-n", "aoai-manual",
                     "--type", ACCOUNT_TYPE)
    assert [c["properties"]["privateLinkServiceConnectionState"]["status"] for c in pending] == ["Pending"]
    approved = az.run("network", "private-endpoint-connection", "approve", "--id", pending[0]["id"],
                      "--description", "approved by the account owner")
    assert approved["properties"]["privateLinkServiceConnectionState"]["status"] == "Approved"
    again = az.run("network", "private-endpoint-connection", "show", "-g", "rg-ai", "--resource-name", "aoai-manual",
                   "-n", pending[0]["name"], "--type", ACCOUNT_TYPE)
    assert again["properties"]["privateLinkServiceConnectionState"]["description"] == "approved by the account owner"

    # Private DNS: the zone, its link to the hub, the endpoint's zone group (which writes the A record).
    zone = az.run("network", "private-dns", "zone", "create", "-g", "rg-dns", "-n", OPENAI_ZONE)
    assert zone["id"] == ZONE_ID
    assert assert_scan_agrees(az, remediation, MANUAL)[MANUAL] == {"PRIVATE_DNS_ZONE_LINK_MISSING",
                                                                   "PRIVATE_DNS_ZONE_GROUP_MISSING"}
    az.run("network", "private-dns", "link", "vnet", "create", "-g", "rg-dns", "-z", OPENAI_ZONE, "-n", "hub",
           "--virtual-network", VNET_ID, "--registration-enabled", "false")
    group = az.run("network", "private-endpoint", "dns-zone-group", "create", "-g", "rg-network",
                   "--endpoint-name", "pe-aoai-manual", "-n", "default", "--private-dns-zone", ZONE_ID,
                   "--zone-name", "openai")
    pe = az.run("network", "private-endpoint", "show", "-g", "rg-network", "-n", "pe-aoai-manual")
    ip = pe["customDnsConfigs"][0]["ipAddresses"][0]
    assert group["privateDnsZoneConfigs"][0]["recordSets"][0]["ipAddresses"] == [ip]
    records = az.run("network", "private-dns", "record-set", "a", "list", "-g", "rg-dns", "-z", OPENAI_ZONE)
    assert [(r["name"], r["aRecords"]) for r in records] == [("aoai-manual", [{"ipv4Address": ip}])]
    assert assert_scan_agrees(az, remediation, MANUAL)[MANUAL] == set()

    # Every write came from the operator's identity, none from the app's.
    assert writes_by(emulator, emulator.app_identity.object_id) == []
    assert len(writes_by(emulator, emulator.operator_identity.object_id)) >= 10


def test_taking_the_setup_apart_with_az_and_the_scan_sees_each_gap(emulator, az, remediation):
    seed(emulator, Estate().network(zones=(OPENAI_ZONE,)).locked("aoai-locked"))
    az.login(emulator.operator_identity.client_id)
    assert assert_scan_agrees(az, remediation, LOCKED)[LOCKED] == set()
    endpoint = "pe-aoai-locked-existing"

    az.run("network", "private-endpoint", "dns-zone-group", "delete", "-g", "rg-network",
           "--endpoint-name", endpoint, "-n", "default")
    assert az.run("network", "private-dns", "record-set", "a", "list", "-g", "rg-dns", "-z", OPENAI_ZONE) == []
    assert assert_scan_agrees(az, remediation, LOCKED)[LOCKED] == {"PRIVATE_DNS_ZONE_GROUP_MISSING"}

    az.run("network", "private-dns", "link", "vnet", "delete", "-g", "rg-dns", "-z", OPENAI_ZONE, "-n", "hub",
           "--yes")
    assert assert_scan_agrees(az, remediation, LOCKED)[LOCKED] == {"PRIVATE_DNS_ZONE_LINK_MISSING",
                                                                   "PRIVATE_DNS_ZONE_GROUP_MISSING"}

    # The account's owner removes the connection: the endpoint stays, Disconnected, serving nothing.
    connection = az.run("network", "private-endpoint-connection", "list", "--id", LOCKED)[0]
    az.run("network", "private-endpoint-connection", "delete", "--id", connection["id"], "--yes")
    assert az.run("network", "private-endpoint-connection", "list", "--id", LOCKED) == []
    pe = az.run("network", "private-endpoint", "show", "-g", "rg-network", "-n", endpoint)
    assert pe["privateLinkServiceConnections"][0]["privateLinkServiceConnectionState"]["status"] == "Disconnected"
    assert assert_scan_agrees(az, remediation, LOCKED)[LOCKED] == {"PRIVATE_ENDPOINT_MISSING"}
    az.run("network", "private-endpoint", "delete", "-g", "rg-network", "-n", endpoint)
    assert az.run("network", "private-endpoint", "list", "-g", "rg-network") == []
    az.run("network", "private-dns", "zone", "delete", "-g", "rg-dns", "-n", OPENAI_ZONE, "--yes")
    assert az.run("network", "private-dns", "zone", "list", "-g", "rg-dns") == []

    az.run("resource", "update", "--ids", LOCKED, "--set", "properties.publicNetworkAccess=Enabled",
           "properties.networkAcls.defaultAction=Allow")
    assert assert_scan_agrees(az, remediation, LOCKED)[LOCKED] == {
        "PUBLIC_NETWORK_ACCESS_ENABLED", "NETWORK_DEFAULT_ACTION_ALLOW", "PRIVATE_ENDPOINT_MISSING"}


def test_after_remediation_fix_az_shows_the_account_locked(emulator, az, remediation):
    seed(emulator, Estate().network().account("aoai-drifted", public_network_access="Enabled",
                                              default_action="Allow"))
    az.login(emulator.operator_identity.client_id)
    assert assert_scan_agrees(az, remediation, DRIFTED)[DRIFTED] == {
        "PUBLIC_NETWORK_ACCESS_ENABLED", "NETWORK_DEFAULT_ACTION_ALLOW", "PRIVATE_ENDPOINT_MISSING"}

    status, record = remediation("fix", DRIFTED)
    assert (status, record["outcome"]) == (0, "remediated"), record
    assert writes_by(emulator, emulator.app_identity.object_id)  # the app's identity made the fix

    shown = az.run("cognitiveservices", "account", "show", "-g", "rg-ai", "-n", "aoai-drifted")
    assert shown["properties"]["publicNetworkAccess"] == "Disabled"
    assert shown["properties"]["networkAcls"]["defaultAction"] == "Deny"
    connections = az.run("network", "private-endpoint-connection", "list", "-g", "rg-ai", "-n", "aoai-drifted",
                         "--type", ACCOUNT_TYPE)
    assert [c["properties"]["privateLinkServiceConnectionState"]["status"] for c in connections] == ["Approved"]
    endpoint_id = connections[0]["properties"]["privateEndpoint"]["id"]
    pe = az.run("network", "private-endpoint", "show", "--ids", endpoint_id)
    assert pe["subnet"]["id"].lower() == SUBNET_ID.lower()
    groups = az.run("network", "private-endpoint", "dns-zone-group", "list", "-g", "rg-network",
                    "--endpoint-name", pe["name"])
    assert [[c["privateDnsZoneId"] for c in g["privateDnsZoneConfigs"]] for g in groups] == [[ZONE_ID]]
    links = az.run("network", "private-dns", "link", "vnet", "list", "-g", "rg-dns", "-z", OPENAI_ZONE)
    assert [link["virtualNetwork"]["id"].lower() for link in links] == [VNET_ID.lower()]
    records = az.run("network", "private-dns", "record-set", "a", "list", "-g", "rg-dns", "-z", OPENAI_ZONE)
    assert [(r["name"], r["aRecords"]) for r in records] == [
        ("aoai-drifted", [{"ipv4Address": pe["customDnsConfigs"][0]["ipAddresses"][0]}])]
    assert assert_scan_agrees(az, remediation, DRIFTED)[DRIFTED] == set()


def test_scan_of_an_approved_endpoint_whose_only_zone_is_missing(emulator, az, remediation):
    seed(emulator, Estate().network().account("aoai-locked").endpoint(LOCKED))
    az.login(emulator.operator_identity.client_id)
    assert az.run("network", "private-dns", "zone", "list", "-g", "rg-dns") == []
    assert assert_scan_agrees(az, remediation, LOCKED)[LOCKED] == {"PRIVATE_DNS_ZONE_MISSING"}
