"""What can be wrong with an account's lockdown: one code per finding, and what each means.

`FINDINGS` is the one table of finding metadata: docs/findings.md's table is checked against it,
`python -m remediation scan` prints its severity and manual fix, and a record names what a person must
do for a finding the app can only report.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class FindingCode(str, Enum):
    PUBLIC_NETWORK_ACCESS_ENABLED = "PUBLIC_NETWORK_ACCESS_ENABLED"
    NETWORK_DEFAULT_ACTION_ALLOW = "NETWORK_DEFAULT_ACTION_ALLOW"
    IP_RULE_NOT_ALLOWED = "IP_RULE_NOT_ALLOWED"
    LOCAL_AUTH_ENABLED = "LOCAL_AUTH_ENABLED"
    CUSTOM_SUBDOMAIN_MISSING = "CUSTOM_SUBDOMAIN_MISSING"
    PRIVATE_ENDPOINT_MISSING = "PRIVATE_ENDPOINT_MISSING"
    PRIVATE_ENDPOINT_CONNECTION_PENDING = "PRIVATE_ENDPOINT_CONNECTION_PENDING"
    PRIVATE_DNS_ZONE_MISSING = "PRIVATE_DNS_ZONE_MISSING"
    PRIVATE_DNS_ZONE_LINK_MISSING = "PRIVATE_DNS_ZONE_LINK_MISSING"
    PRIVATE_DNS_ZONE_GROUP_MISSING = "PRIVATE_DNS_ZONE_GROUP_MISSING"
    PRIVATE_DNS_ZONE_GROUP_INCOMPLETE = "PRIVATE_DNS_ZONE_GROUP_INCOMPLETE"
    ACCOUNT_NOT_READY = "ACCOUNT_NOT_READY"
    PRIVATE_DNS_RESOLUTION_NOT_PRIVATE = "PRIVATE_DNS_RESOLUTION_NOT_PRIVATE"
    VIRTUAL_NETWORK_RULE_NOT_ALLOWED = "VIRTUAL_NETWORK_RULE_NOT_ALLOWED"
    NETWORK_BYPASS_NOT_ALLOWED = "NETWORK_BYPASS_NOT_ALLOWED"
    PRIVATE_DNS_RECORD_MISMATCH = "PRIVATE_DNS_RECORD_MISMATCH"


class Severity(str, Enum):
    HIGH = "high"  # the account answers from outside the private network
    MEDIUM = "medium"  # private traffic is broken or unverified; nothing is exposed by it alone
    LOW = "low"  # a condition that delays the fix


@dataclass(frozen=True)
class FindingInfo:
    severity: Severity
    when: str  # the condition, as docs/findings.md's table says it
    fix: str  # what the app does about it
    manual: str  # what a person must do when the app cannot fix it (no setting allows it, or Azure refuses)


FINDINGS: dict[FindingCode, FindingInfo] = {
    FindingCode.PUBLIC_NETWORK_ACCESS_ENABLED: FindingInfo(
        Severity.HIGH,
        "mode `Disabled` and `publicNetworkAccess` is not `Disabled`",
        "PATCH `publicNetworkAccess: Disabled` alone, as the reconcile's first write",
        "set the account's public network access to Disabled (Networking blade, or "
        "`az resource update --ids <account id> --set properties.publicNetworkAccess=Disabled`)"),
    FindingCode.NETWORK_DEFAULT_ACTION_ALLOW: FindingInfo(
        Severity.HIGH,
        "`networkAcls` missing or `defaultAction` not `Deny`",
        "PATCH `networkAcls` with `defaultAction: Deny`, existing rules kept",
        "set the account's network rules to deny by default"),
    FindingCode.IP_RULE_NOT_ALLOWED: FindingInfo(
        Severity.HIGH,
        "mode `SelectedNetworks` and an IP rule outside `REMEDIATION_ALLOWED_IP_RULES`",
        "PATCH `ipRules` to the allowed subset",
        "remove the IP rules outside REMEDIATION_ALLOWED_IP_RULES, or allow them there"),
    FindingCode.LOCAL_AUTH_ENABLED: FindingInfo(
        Severity.MEDIUM,
        "`REMEDIATION_DISABLE_LOCAL_AUTH=true` and `disableLocalAuth` is not true",
        "PATCH `disableLocalAuth: true`",
        "disable key-based access on the account (`disableLocalAuth: true`)"),
    FindingCode.CUSTOM_SUBDOMAIN_MISSING: FindingInfo(
        Severity.MEDIUM,
        "no `customSubDomainName` (a private endpoint needs one; it is set only at creation)",
        "none: reported, outcome `failed`",
        "the account has no custom subdomain, so no private endpoint can serve it; recreate it with one"),
    FindingCode.PRIVATE_ENDPOINT_MISSING: FindingInfo(
        Severity.MEDIUM,
        "no Approved connection from an endpoint in an allowed subnet",
        "create the endpoint (name derived from the account ID, `groupIds: [\"account\"]`)",
        "create a private endpoint for the account in an allowed subnet (set REMEDIATION_PE_SUBNET_ID to let "
        "the app do it); if the app's own endpoint was rejected, delete that endpoint so it can be recreated"),
    FindingCode.PRIVATE_ENDPOINT_CONNECTION_PENDING: FindingInfo(
        Severity.MEDIUM,
        "a connection from an allowed subnet is Pending",
        "approve it",
        "approve the Pending private endpoint connection on the account"),
    FindingCode.PRIVATE_DNS_ZONE_MISSING: FindingInfo(
        Severity.MEDIUM,
        "a zone the kind needs is missing",
        "create it (location `global`, create-only)",
        "create the privatelink zone in the DNS resource group (set REMEDIATION_DNS_ZONE_RESOURCE_GROUP_ID to "
        "let the app do it)"),
    FindingCode.PRIVATE_DNS_ZONE_LINK_MISSING: FindingInfo(
        Severity.MEDIUM,
        "a needed zone has no link to a serving endpoint's VNet",
        "create the link (`registrationEnabled: false`, create-only)",
        "link the privatelink zone to the endpoint's virtual network"),
    FindingCode.PRIVATE_DNS_ZONE_GROUP_MISSING: FindingInfo(
        Severity.MEDIUM,
        "a serving endpoint has no zone group",
        "create zone group `default`, one config per zone",
        "add a private DNS zone group to the endpoint naming the zones the account's kind needs"),
    FindingCode.PRIVATE_DNS_ZONE_GROUP_INCOMPLETE: FindingInfo(
        Severity.MEDIUM,
        "the zone group lacks a zone the kind needs",
        "add the missing configs, keep the others",
        "add the missing zones to the endpoint's private DNS zone group"),
    FindingCode.PRIVATE_DNS_RESOLUTION_NOT_PRIVATE: FindingInfo(
        Severity.MEDIUM,
        "`REMEDIATION_RESOLUTION_CHECK=on` and a public name of the account, resolved from the app's network, "
        "does not answer only serving endpoints' IPs",
        "none: reported, with the answer seen and its likely cause",
        "make the network's DNS answer the privatelink zone: forward the privatelink zones from a custom DNS "
        "server to Azure's resolver (168.63.129.16), or link the zone to the resolver's virtual network"),
    FindingCode.ACCOUNT_NOT_READY: FindingInfo(
        Severity.LOW,
        "`provisioningState` is not terminal",
        "wait (bounded), else outcome `deferred`; never written",
        "wait for the account's running operation to finish; the app retries"),
    FindingCode.VIRTUAL_NETWORK_RULE_NOT_ALLOWED: FindingInfo(
        Severity.HIGH,
        "mode `SelectedNetworks` and a `virtualNetworkRules` entry whose subnet is not in "
        "`REMEDIATION_ALLOWED_VNET_SUBNET_IDS`",
        "PATCH `virtualNetworkRules` to the allowed subset",
        "remove the virtual network rules for subnets outside REMEDIATION_ALLOWED_VNET_SUBNET_IDS, or allow "
        "those subnets there"),
    FindingCode.NETWORK_BYPASS_NOT_ALLOWED: FindingInfo(
        Severity.MEDIUM,
        "`REMEDIATION_NETWORK_BYPASS` is set and `networkAcls.bypass` differs",
        "PATCH `bypass`",
        "set the account's trusted-services exception (`networkAcls.bypass`) to REMEDIATION_NETWORK_BYPASS"),
    FindingCode.PRIVATE_DNS_RECORD_MISMATCH: FindingInfo(
        Severity.HIGH,
        "in a zone a serving endpoint's zone group names, the A record named after the account's custom "
        "subdomain is missing, empty, or holds an address that is no serving endpoint's private IP; or an AAAA "
        "or CNAME record set holds that name",
        "put the A record set back (DNS resource group only; `If-Match` on the etag read, `If-None-Match: *` "
        "when absent); an AAAA or CNAME record set is reported, never deleted",
        "set the A record named after the account's custom subdomain to the serving endpoints' private IPs "
        "(the zone's resource group is not REMEDIATION_DNS_ZONE_RESOURCE_GROUP_ID, so the app only reports it)"),
}
