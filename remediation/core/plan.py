"""Desired state + observed state → findings → actions. Pure: no I/O, no clock, no SDK.

Read top to bottom: the account's own network settings first (one PATCH holding only what is
wrong), then its private endpoints, then DNS for every endpoint that serves it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, TypeGuard

from remediation.core.arm_json import same_text
from remediation.core.desired import (
    OTHER_RECORD_TYPES,
    PRIVATE_LINK_GROUP_ID,
    ZONE_GROUP_NAME,
    DesiredState,
    dns_records,
    dns_zone_ids,
)
from remediation.core.findings import FindingCode
from remediation.core.ids import CONNECTION_TYPE, ResourceId, fold
from remediation.core.model import Account, ActionKind, Observation, PrivateEndpoint, RecordSet, ZoneGroup, vnet_of
from remediation.core.naming import private_endpoint_id, zone_config_name, zone_link_name
from remediation.core.settings import PublicAccessMode


@dataclass(frozen=True)
class Finding:
    code: FindingCode
    property: str
    actual: Any
    expected: Any
    target: str | None = None  # the resource concerned, when it is not the account itself
    manual: str | None = None  # what a person must do, for a finding no action of the app fixes


@dataclass(frozen=True)
class Action:
    kind: ActionKind
    target: ResourceId
    body: Mapping[str, Any]  # the ARM request body (a new private endpoint's location is added by apply)
    blocked: str | None = None  # why it cannot run: missing configuration, account condition, scope
    requires: tuple[ResourceId, ...] = ()  # resources that earlier actions in the plan create


@dataclass(frozen=True)
class Plan:
    findings: tuple[Finding, ...] = ()
    actions: tuple[Action, ...] = ()

    @property
    def not_ready(self) -> bool:
        return any(f.code is FindingCode.ACCOUNT_NOT_READY for f in self.findings)


@dataclass
class _Builder:
    findings: list[Finding] = field(default_factory=list)
    actions: list[Action] = field(default_factory=list)

    def find(self, code: FindingCode, prop: str, actual: Any, expected: Any, target: ResourceId | None = None,
             manual: str | None = None) -> None:
        self.findings.append(Finding(code, prop, actual, expected, str(target) if target else None, manual))

    def act(self, action: Action) -> None:
        if all(a.target != action.target or a.kind is not action.kind for a in self.actions):
            self.actions.append(action)

    def build(self) -> Plan:
        return Plan(tuple(self.findings), tuple(self.actions))


def plan(desired: DesiredState, observed: Observation) -> Plan:
    """The findings on one account and the actions that fix them, each action in the order it was
    decided (the applier runs them in the order of its registry, `apply.ACTIONS`).

    `plan(desired, Observation(account))` on an account whose `publicNetworkAccess` is `Enabled` gives
    the finding PUBLIC_NETWORK_ACCESS_ENABLED and one PATCH of `{"publicNetworkAccess": "Disabled"}`.
    """
    account = observed.account
    out = _Builder()
    if not account.ready:
        out.find(FindingCode.ACCOUNT_NOT_READY, "properties.provisioningState", account.provisioning_state, "Succeeded")
        return out.build()  # never write to an account while an operation runs on it
    _plan_network(desired, account, out)
    _plan_private_endpoints(desired, observed, out)
    _plan_resolution(observed, out)
    return out.build()


# Findings decided by the account's own properties alone (a list or a notification carries them):
# no endpoint, zone group or zone has to be read.
ACCOUNT_FINDINGS = frozenset({
    FindingCode.PUBLIC_NETWORK_ACCESS_ENABLED, FindingCode.NETWORK_DEFAULT_ACTION_ALLOW,
    FindingCode.IP_RULE_NOT_ALLOWED, FindingCode.LOCAL_AUTH_ENABLED, FindingCode.ACCOUNT_NOT_READY,
    FindingCode.CUSTOM_SUBDOMAIN_MISSING, FindingCode.VIRTUAL_NETWORK_RULE_NOT_ALLOWED,
    FindingCode.NETWORK_BYPASS_NOT_ALLOWED,
})


def account_findings(desired: DesiredState, account: Account) -> set[FindingCode]:
    """The findings of ACCOUNT_FINDINGS that this account's properties show: what `plan` finds on the account
    alone, without planning its endpoints (the sweep asks this of every account it lists)."""
    if not account.ready:
        return {FindingCode.ACCOUNT_NOT_READY}
    out = _Builder()
    _plan_network(desired, account, out)
    codes = {f.code for f in out.findings}
    return codes | ({FindingCode.CUSTOM_SUBDOMAIN_MISSING} if not account.custom_subdomain else set())


# --- how the account's names resolve from the app's network (reported only) ----------------------

def _plan_resolution(observed: Observation, out: _Builder) -> None:
    for name in observed.resolved:
        if not name.private:
            out.find(FindingCode.PRIVATE_DNS_RESOLUTION_NOT_PRIVATE, f"dns:{name.name}",
                     {"answered": name.answered, "likelyCause": name.reason}, list(name.expected))


# --- the account's own network settings ----------------------------------------------------------

def exposure_fix(desired: DesiredState, account: Account) -> Action | None:
    """The write that closes the account, built from the account as read; None when it is not open.

    In mode Disabled that is `publicNetworkAccess: Disabled` alone; in SelectedNetworks, `networkAcls` with
    `defaultAction: Deny` and only the allowed rules. It is a PATCH of its own, the reconcile's first write, so
    nothing else in a request (a rule naming a deleted subnet, say) can get it refused."""
    out = _Builder()
    _plan_exposure(desired, account, out)
    return out.actions[0] if out.actions else None


def network_patch(desired: DesiredState, account: Account) -> Action | None:
    """The one PATCH of the rest of the account's own network settings that the account, as read, needs (None:
    none): what `exposure_fix` does not carry, as it will be once that is written.

    The applier calls it again with the account as read after each wait, so the PATCH it sends is always
    built from the latest read: a rule a person removed in between is not put back."""
    out = _Builder()
    _plan_rest(desired, closed(desired, account), out)
    return out.actions[0] if out.actions else None


def _plan_network(desired: DesiredState, account: Account, out: _Builder) -> None:
    _plan_exposure(desired, account, out)
    _plan_rest(desired, closed(desired, account), out)


def _plan_exposure(desired: DesiredState, account: Account, out: _Builder) -> None:
    # SelectedNetworks keeps public access on but never turns it on: Disabled is stricter, so it stays.
    if same_text(account.public_network_access, "Disabled"):
        return  # nothing reaches it from outside the private network
    if desired.public_network_access is PublicAccessMode.DISABLED:
        out.find(FindingCode.PUBLIC_NETWORK_ACCESS_ENABLED, "properties.publicNetworkAccess",
                 account.public_network_access, "Disabled")
        out.act(Action(ActionKind.CLOSE_EXPOSURE, account.id, {"properties": {"publicNetworkAccess": "Disabled"}}))
        return
    acls = dict(account.network_acls or {})
    shut = _allowed_rules(desired, _denied(acls, out), out)
    if shut != acls:
        shut["defaultAction"] = "Deny"  # it is Deny in some casing already, or being fixed: send it canonical
        out.act(Action(ActionKind.CLOSE_EXPOSURE, account.id, {"properties": {"networkAcls": shut}}))


def closed(desired: DesiredState, account: Account) -> Account:
    """The account as it reads once `exposure_fix` is written (unchanged when it is not open)."""
    action = exposure_fix(desired, account)
    if action is None:
        return account
    properties = action.body["properties"]
    return replace(account, public_network_access=properties.get("publicNetworkAccess",
                                                                 account.public_network_access),
                   network_acls=properties.get("networkAcls", account.network_acls))


def _plan_rest(desired: DesiredState, account: Account, out: _Builder) -> None:
    """Everything else on the account itself, judged on the account as it is once closed: one PATCH of what is
    wrong, `networkAcls` sent whole (Azure does not promise to merge its parts)."""
    patch: dict[str, Any] = {}
    acls = dict(account.network_acls or {})
    new_acls = _denied(acls, out)
    if desired.public_network_access is PublicAccessMode.SELECTED_NETWORKS:
        new_acls = _allowed_rules(desired, new_acls, out)  # finds something only when public access is Disabled
    if desired.network_bypass is not None and not same_text(acls.get("bypass"), desired.network_bypass):
        out.find(FindingCode.NETWORK_BYPASS_NOT_ALLOWED, "properties.networkAcls.bypass", acls.get("bypass"),
                 desired.network_bypass)
        new_acls["bypass"] = desired.network_bypass
    if new_acls != acls:
        new_acls["defaultAction"] = "Deny"  # it is Deny in some casing already, or being fixed: send it canonical
        if desired.network_bypass is not None:
            new_acls["bypass"] = desired.network_bypass  # the same for a governed bypass
        patch["networkAcls"] = new_acls

    if desired.disable_local_auth and account.disable_local_auth is not True:
        out.find(FindingCode.LOCAL_AUTH_ENABLED, "properties.disableLocalAuth", account.disable_local_auth, True)
        patch["disableLocalAuth"] = True

    if patch:
        out.act(Action(ActionKind.PATCH_ACCOUNT_NETWORK, account.id, {"properties": patch}))


def _denied(acls: dict[str, Any], out: _Builder) -> dict[str, Any]:
    """`networkAcls` with `defaultAction: Deny`, existing rules kept, every field not governed kept as read."""
    if same_text(acls.get("defaultAction"), "Deny"):
        return dict(acls)
    out.find(FindingCode.NETWORK_DEFAULT_ACTION_ALLOW, "properties.networkAcls.defaultAction",
             acls.get("defaultAction"), "Deny")
    return {**acls, "defaultAction": "Deny"}


def _allowed_rules(desired: DesiredState, acls: dict[str, Any], out: _Builder) -> dict[str, Any]:
    """SelectedNetworks: `networkAcls` with only the IP and virtual network rules the policy allows."""
    new_acls = dict(acls)
    rules = _entries(acls.get("ipRules"))
    refused = [str(r.get("value")) for r in rules if not desired.ip_rule_allowed(str(r.get("value")))]
    if refused:
        out.find(FindingCode.IP_RULE_NOT_ALLOWED, "properties.networkAcls.ipRules", refused,
                 [str(network) for network in desired.allowed_ip_rules])
        new_acls["ipRules"] = [r for r in rules if str(r.get("value")) not in refused]
    vnet_rules = _entries(acls.get("virtualNetworkRules"))
    kept = [r for r in vnet_rules if desired.vnet_rule_allowed(r.get("id"))]
    if len(kept) < len(vnet_rules):
        out.find(FindingCode.VIRTUAL_NETWORK_RULE_NOT_ALLOWED, "properties.networkAcls.virtualNetworkRules",
                 [str(r.get("id")) for r in vnet_rules if r not in kept],
                 sorted(str(subnet) for subnet in desired.allowed_vnet_subnets))
        new_acls["virtualNetworkRules"] = kept  # each kept entry whole, as read
    return new_acls


def _entries(value: Any) -> list[Mapping[str, Any]]:
    """The objects of a JSON list (anything else in it, or a list that is not one, is ignored)."""
    return [entry for entry in value if isinstance(entry, Mapping)] if isinstance(value, list) else []


# --- private endpoints ---------------------------------------------------------------------------

def _in_serving_subnet(endpoint: PrivateEndpoint | None, desired: DesiredState) -> TypeGuard[PrivateEndpoint]:
    return endpoint is not None and endpoint.subnet_id in desired.serving_subnets


def _belongs_to(connection_id: ResourceId | None, account: Account) -> TypeGuard[ResourceId]:
    """Only a connection of this very account is approved here, whatever ID a payload carries."""
    return connection_id is not None and connection_id.is_type(CONNECTION_TYPE) and connection_id.parent == account.id


def _serving_endpoints(desired: DesiredState, observed: Observation, out: _Builder) -> list[PrivateEndpoint]:
    """The endpoints that serve the account: its Approved connections from an allowed subnet, and its Pending
    ones from there, which are approved."""
    account = observed.account
    serving: list[PrivateEndpoint] = []
    for connection in account.connections:
        endpoint = observed.endpoints.get(connection.private_endpoint_id) if connection.private_endpoint_id else None
        if not _in_serving_subnet(endpoint, desired):
            continue  # someone else's endpoint elsewhere: neither ours to count nor to change
        if connection.pending and _belongs_to(connection.id, account):
            out.find(FindingCode.PRIVATE_ENDPOINT_CONNECTION_PENDING,
                     "properties.privateEndpointConnections[].properties.privateLinkServiceConnectionState.status",
                     connection.status, "Approved", connection.id)
            out.act(Action(ActionKind.APPROVE_CONNECTION, connection.id, {"properties": {
                "privateLinkServiceConnectionState": {"status": "Approved",
                                                      "description": "Approved by private network remediation"}}}))
            serving.append(endpoint)
        elif connection.approved:
            serving.append(endpoint)
    return serving


def _plan_private_endpoints(desired: DesiredState, observed: Observation, out: _Builder) -> None:
    account = observed.account
    if not account.custom_subdomain:
        out.find(FindingCode.CUSTOM_SUBDOMAIN_MISSING, "properties.customSubDomainName", None, "a custom subdomain")
        return  # a private endpoint needs one, and it can only be set when the account is created

    if not desired.serving_subnets:
        _plan_without_subnets(account, out)
        return
    serving = _serving_endpoints(desired, observed, out)
    if serving:
        for endpoint in serving:
            _plan_dns(desired, observed, endpoint.id, endpoint.vnet_id, endpoint.zone_group, (), out)
        _plan_records(desired, observed, account.custom_subdomain, serving, out)
        return

    subnet = desired.new_endpoint_subnet
    out.find(FindingCode.PRIVATE_ENDPOINT_MISSING, "properties.privateEndpointConnections",
             [c.status for c in account.connections] or None,
             f"an Approved connection from a private endpoint in {str(subnet) if subnet else 'an allowed subnet'}")
    unread = _unread_endpoint(observed)
    if unread is not None:
        # An endpoint that may serve the account did not answer: a new one could be its duplicate.
        out.act(Action(ActionKind.CREATE_PRIVATE_ENDPOINT, account.id, {}, blocked=(
            f"{unread} could not be read; no endpoint is created before it answers (retried)")))
        return
    if subnet is None:
        out.act(Action(ActionKind.CREATE_PRIVATE_ENDPOINT, account.id, {},
                       blocked="REMEDIATION_PE_SUBNET_ID has no subnet for this account's location; reported only"))
        return
    new_id = private_endpoint_id(account.id, subnet)
    dead = next((c for c in account.connections
                 if c.private_endpoint_id == new_id and not (c.approved or c.pending)), None)
    if dead is not None:
        # Our endpoint exists and its connection was rejected or removed: a second PUT changes nothing,
        # and Azure does not let a rejected connection be approved again. A person has to decide.
        out.act(Action(ActionKind.CREATE_PRIVATE_ENDPOINT, new_id, {}, blocked=(
            f"the connection of {new_id.name} is {dead.status}; delete that endpoint to let it be recreated")))
        return
    out.act(Action(ActionKind.CREATE_PRIVATE_ENDPOINT, new_id, {"properties": {
        "subnet": {"id": str(subnet)},
        "privateLinkServiceConnections": [{"name": new_id.name, "properties": {
            "privateLinkServiceId": str(account.id), "groupIds": [PRIVATE_LINK_GROUP_ID]}}],
    }}))
    _plan_dns(desired, observed, new_id, vnet_of(subnet), None, (new_id,), out)


def _unread_endpoint(observed: Observation) -> ResourceId | None:
    """A connected endpoint whose read failed for a reason another try may meet; a 403 is not counted: the
    identity will never read another team's endpoint, so that one does not serve."""
    return next((u.resource_id for u in observed.unverified if u.transient
                 and any(c.private_endpoint_id == u.resource_id for c in observed.account.connections)), None)


def _plan_without_subnets(account: Account, out: _Builder) -> None:
    """No subnet is configured (a first run with only REMEDIATION_SCOPES): no subnet is known to be wrong,
    so any Approved connection serves; the endpoint checks (its subnet, zone group, DNS) are off and no
    endpoint is created."""
    if any(c.approved for c in account.connections):
        return
    out.find(FindingCode.PRIVATE_ENDPOINT_MISSING, "properties.privateEndpointConnections",
             [c.status for c in account.connections] or None, "an Approved private endpoint connection")
    out.act(Action(ActionKind.CREATE_PRIVATE_ENDPOINT, account.id, {}, blocked=NO_SUBNET))


NO_SUBNET = ("no subnet is configured (REMEDIATION_PE_SUBNET_ID, REMEDIATION_PE_ALLOWED_SUBNET_IDS): endpoint "
             "checks are off and no endpoint is created; reported only")


# --- private DNS for one serving endpoint --------------------------------------------------------

def _plan_dns(desired: DesiredState, observed: Observation, endpoint_id: ResourceId, vnet_id: ResourceId | None,
              group: ZoneGroup | None, requires: tuple[ResourceId, ...], out: _Builder) -> None:
    zones = dns_zone_ids(desired, group)
    for zone_id in zones.values():
        if zone_id is not None:  # None: no DNS resource group configured and the endpoint names no such zone
            _plan_zone(desired, observed, zone_id, vnet_id, out)

    missing = [name for name in desired.dns_zones if group is None or group.zone_for(name) is None]
    if not missing:
        return
    code = (FindingCode.PRIVATE_DNS_ZONE_GROUP_MISSING if group is None
            else FindingCode.PRIVATE_DNS_ZONE_GROUP_INCOMPLETE)
    out.find(code, "privateDnsZoneGroups[].properties.privateDnsZoneConfigs",
             [zone.name for _, zone in group.configs] if group else None, list(desired.dns_zones), endpoint_id)
    group_name = group.name if group else ZONE_GROUP_NAME
    target = endpoint_id.child("privateDnsZoneGroups", group_name)
    unresolved = [name for name in missing if zones[name] is None]
    if unresolved:
        out.act(Action(ActionKind.PUT_DNS_ZONE_GROUP, target, {},
                       blocked="REMEDIATION_DNS_ZONE_RESOURCE_GROUP_ID is not set; reported only"))
        return
    configs = group.writable_configs() if group else []  # every existing config is kept
    configs += [{"name": zone_config_name(name), "properties": {"privateDnsZoneId": str(zones[name])}}
                for name in missing]
    body = {"properties": {"privateDnsZoneConfigs": configs}}
    new_zones = tuple(zones[name] for name in missing if not _zone_exists(observed, zones[name]))
    out.act(Action(ActionKind.PUT_DNS_ZONE_GROUP, target, body, requires=(*requires, *new_zones)))  # type: ignore[arg-type]


def zone_group_refreshed(desired: DesiredState, action: Action, fresh: ZoneGroup | None) -> Action | None:
    """A zone group PUT rebuilt on the group as read again just before it is sent: the configs read now,
    plus the configs the kind needs that it still lacks (None: it lacks none, nothing to write).

    The first body was built from an earlier read; sent unchanged it would drop a config someone added
    since, or put back one they removed that the kind does not need."""
    configs = action.body.get("properties", {}).get("privateDnsZoneConfigs", [])
    needed = {fold(name) for name in desired.dns_zones}
    missing = [config for config in configs if _config_zone(config) in needed
               and (fresh is None or fresh.zone_for(_config_zone(config)) is None)]
    if not missing:
        return None
    kept = fresh.writable_configs() if fresh is not None else []
    return Action(action.kind, action.target, {"properties": {"privateDnsZoneConfigs": [*kept, *missing]}},
                  action.blocked, action.requires)


def _config_zone(config: Any) -> str:
    zone = config.get("properties", {}).get("privateDnsZoneId") if isinstance(config, Mapping) else None
    return fold(str(zone).rstrip("/").rsplit("/", 1)[-1])  # compared as ZoneGroup.zone_for compares


def _zone_exists(observed: Observation, zone_id: ResourceId | None) -> bool:
    zone = observed.zones.get(zone_id) if zone_id else None
    return zone is not None and zone.exists


def _plan_zone(desired: DesiredState, observed: Observation, zone_id: ResourceId, vnet_id: ResourceId | None,
               out: _Builder) -> None:
    zone = observed.zones.get(zone_id)
    if zone is None:
        return  # not observed (should not happen): never act on what we did not read
    ours = desired.dns_zone_resource_group is not None and zone_id.is_within(desired.dns_zone_resource_group)
    outside = None if ours else "the zone is outside REMEDIATION_DNS_ZONE_RESOURCE_GROUP_ID; reported only"
    if not zone.exists:
        if all(f.target != str(zone_id) or f.code is not FindingCode.PRIVATE_DNS_ZONE_MISSING for f in out.findings):
            out.find(FindingCode.PRIVATE_DNS_ZONE_MISSING, "privateDnsZones", None, zone_id.name, zone_id)
        out.act(Action(ActionKind.CREATE_DNS_ZONE, zone_id, {"location": "global"}, blocked=outside))
    if vnet_id is None or vnet_id in zone.linked_vnets:
        return
    link_id = zone_id.child("virtualNetworkLinks", zone_link_name(vnet_id))
    if all(f.target != str(link_id) for f in out.findings):
        out.find(FindingCode.PRIVATE_DNS_ZONE_LINK_MISSING, "virtualNetworkLinks[].properties.virtualNetwork.id",
                 None, str(vnet_id), link_id)
    out.act(Action(ActionKind.CREATE_DNS_ZONE_LINK, link_id, {
        "location": "global",
        "properties": {"virtualNetwork": {"id": str(vnet_id)}, "registrationEnabled": False},
    }, blocked=outside, requires=() if zone.exists else (zone_id,)))


# --- the account's A records ----------------------------------------------------------------------

# The TTL Azure's zone groups give the records they write: 10 s (hashicorp/terraform-provider-azurerm#30458
# "The TTL for the Private DNS resource A-record is by default 10"; MicrosoftDocs/azure-docs#77392). A record
# set put back keeps the TTL it was read with; this one is for a record that is gone.
RECORD_TTL = 10


def _plan_records(desired: DesiredState, observed: Observation, record_name: str,
                  serving: list[PrivateEndpoint], out: _Builder) -> None:
    """Each A record answers only serving endpoints' private IPs, and at least one of them.

    Several endpoints whose zone groups share a zone all write the one record; Azure keeps only the last
    writer's IP (docs/findings.md, "The A records"), so a record holding any non-empty subset of the serving IPs is
    compliant, and a repair keeps what it may and drops only the foreign addresses."""
    for record_id, allowed in dns_records(desired, record_name, serving).items():
        zone_id = record_id.parent
        if record_id not in observed.records or zone_id not in observed.zones:
            continue  # not read: never judged
        cname = _plan_other_records(observed, record_id, out)
        record = observed.records[record_id]
        held = record.addresses if record else ()
        if held and set(held) <= allowed:
            continue
        out.find(FindingCode.PRIVATE_DNS_RECORD_MISMATCH, "privateDnsZones/A.properties.aRecords",
                 list(held) if record else None, sorted(allowed), record_id)
        kept = [address for address in held if address in allowed] or sorted(allowed)
        blocked = _outside_dns_group(desired, zone_id) or (
            f"a CNAME record set holds the name {record_id.name} in {zone_id.name}; no A record can sit beside it"
            if cname else None)
        out.act(Action(ActionKind.PUT_DNS_RECORD, record_id, record_body(record, kept), blocked=blocked,
                       requires=() if _zone_exists(observed, zone_id) else (zone_id,)))


def _plan_other_records(observed: Observation, a_record_id: ResourceId, out: _Builder) -> bool:
    """Findings for AAAA and CNAME record sets at the account's name beside its A record; reported only (the
    app never deletes a record). True when a CNAME holds the name."""
    zone_id, name = a_record_id.parent, a_record_id.name
    cname = False
    for record_type in OTHER_RECORD_TYPES:
        record = observed.records.get(zone_id.child(record_type, name))
        if record is None:
            continue
        cname |= record_type == "CNAME"
        actual = record.cname if record_type == "CNAME" else list(record.addresses)
        out.find(FindingCode.PRIVATE_DNS_RECORD_MISMATCH, f"privateDnsZones/{record_type}", actual, None, record.id,
                 manual=(f"delete the {record_type} record set {name} in {zone_id.name}: `az network private-dns "
                         f"record-set {record_type.lower()} delete --subscription {zone_id.subscription_id} "
                         f"-g {zone_id.resource_group} -z {zone_id.name} -n {name} --yes`"))
    return cname


def record_body(read: RecordSet | None, addresses: list[str]) -> dict[str, Any]:
    """The record set to PUT: the addresses, with the TTL and metadata it was read with. `etag` is the one
    read (None: it was absent), for the applier's If-Match / If-None-Match; it is not sent in the body."""
    properties: dict[str, Any] = {"ttl": read.ttl if read and read.ttl is not None else RECORD_TTL}
    if read and read.metadata:
        properties["metadata"] = dict(read.metadata)
    properties["aRecords"] = [{"ipv4Address": address} for address in addresses]
    return {"etag": read.etag if read else None, "properties": properties}


def _outside_dns_group(desired: DesiredState, zone_id: ResourceId) -> str | None:
    if desired.dns_zone_resource_group is None:
        return "REMEDIATION_DNS_ZONE_RESOURCE_GROUP_ID is not set; reported only"
    if not zone_id.is_within(desired.dns_zone_resource_group):
        return "the zone is outside REMEDIATION_DNS_ZONE_RESOURCE_GROUP_ID; reported only"
    return None
