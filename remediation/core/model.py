"""The vocabulary shared by observe, plan, apply and audit: enums and the observed state.

Observed state is built from ARM JSON at the edge (`from_arm`) and is plain, frozen data inside the
core, so `plan.py` can be read and tested without any SDK.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from remediation.core.arm_json import json_get, same_text
from remediation.core.ids import PRIVATE_ENDPOINT_TYPE, ResourceId, fold, parse_resource_id, try_parse_resource_id


class Mode(str, Enum):
    ENFORCE = "enforce"
    REPORT = "report"


class Trigger(str, Enum):
    EVENT = "event"  # an Event Grid event, through the work queue
    HTTP = "http"  # POST /api/remediate
    SWEEP = "sweep"  # the timer's screen, through the work queue
    CLI = "cli"  # an operator's `python -m remediation fix`


class ActionKind(str, Enum):
    CLOSE_EXPOSURE = "close-account-exposure"  # the first write: public access off (or Deny), on a PATCH of its own
    PATCH_ACCOUNT_NETWORK = "patch-account-network"
    APPROVE_CONNECTION = "approve-private-endpoint-connection"
    CREATE_PRIVATE_ENDPOINT = "create-private-endpoint"
    CREATE_DNS_ZONE = "create-private-dns-zone"
    CREATE_DNS_ZONE_LINK = "create-private-dns-zone-link"
    PUT_DNS_ZONE_GROUP = "put-private-dns-zone-group"
    PUT_DNS_RECORD = "put-private-dns-record"


class ActionStatus(str, Enum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    PLANNED = "planned"
    SKIPPED = "skipped"


class Outcome(str, Enum):
    COMPLIANT = "compliant"
    REMEDIATED = "remediated"
    WOULD_REMEDIATE = "would-remediate"
    FAILED = "failed"
    DEFERRED = "deferred"
    EXEMPT = "exempt"
    SKIPPED = "skipped"
    CONTESTED = "contested"


class ErrorKind(str, Enum):
    """How a failed Resource Manager call is treated (clients.classify decides)."""

    BUSY = "busy"  # an operation is running on the resource: retry later, never "already exists"
    NOT_FOUND = "not-found"
    FORBIDDEN = "forbidden"  # 401/403: the identity lacks the right; retrying changes nothing
    LOCKED = "locked"  # a management lock refuses the write (409 ScopeLocked): a person must remove it
    LIMIT = "limit"  # a quota or service limit refuses it (e.g. records in a record set): for good
    POLICY = "policy"  # Azure Policy denies the request (403 RequestDisallowedByPolicy): for good
    REFUSED = "refused"  # Azure accepted the request, then ended it Conflict/BadRequest, or answered 400
    UNAVAILABLE = "unavailable"  # throttled past our retries, 5xx, or no connection
    FAILED = "failed"  # anything else: worth another try


# Failures another try cannot change: recorded with what a person must do, never retried as busy.
PERMANENT = frozenset({ErrorKind.REFUSED, ErrorKind.FORBIDDEN, ErrorKind.LOCKED, ErrorKind.LIMIT, ErrorKind.POLICY})


# ARM's terminal provisioning states; anything else means an operation is still running.
TERMINAL_STATES = frozenset({"succeeded", "failed", "canceled"})


@dataclass(frozen=True)
class Principal:
    """The app's own identity, learned from the claims of its own ARM token."""

    object_id: str | None
    client_id: str | None


def _endpoint_id(value: Any) -> ResourceId | None:
    """A private endpoint ID, or None for anything else (a connection may name any resource)."""
    rid = try_parse_resource_id(value)
    return rid if rid is not None and rid.resource_group and rid.is_type(PRIVATE_ENDPOINT_TYPE) else None


@dataclass(frozen=True)
class Connection:
    """A private endpoint connection as the account (the provider side) reports it."""

    id: ResourceId | None
    name: str
    private_endpoint_id: ResourceId | None
    status: str | None  # Approved, Pending, Rejected, Disconnected

    @classmethod
    def from_arm(cls, body: Mapping[str, Any]) -> Connection:
        return cls(
            id=try_parse_resource_id(json_get(body, "id")),
            name=str(json_get(body, "name") or ""),
            private_endpoint_id=_endpoint_id(json_get(body, "properties", "privateEndpoint", "id")),
            status=json_get(body, "properties", "privateLinkServiceConnectionState", "status"),
        )

    @property
    def approved(self) -> bool:
        return same_text(self.status, "Approved")

    @property
    def pending(self) -> bool:
        return same_text(self.status, "Pending")


@dataclass(frozen=True)
class Account:
    id: ResourceId
    kind: str
    location: str
    tags: Mapping[str, str]
    provisioning_state: str | None
    public_network_access: str | None
    network_acls: Mapping[str, Any] | None  # kept as ARM JSON so a PATCH preserves fields we don't govern
    disable_local_auth: bool | None
    custom_subdomain: str | None
    connections: tuple[Connection, ...] = ()

    @classmethod
    def from_arm(cls, body: Mapping[str, Any]) -> Account:
        acls = json_get(body, "properties", "networkAcls")
        connections = json_get(body, "properties", "privateEndpointConnections")
        connections = connections if isinstance(connections, list) else []
        tags = json_get(body, "tags") or {}
        return cls(
            id=parse_resource_id(json_get(body, "id")),
            kind=str(json_get(body, "kind") or ""),
            location=str(json_get(body, "location") or ""),
            tags={str(k): str(v) for k, v in tags.items()} if isinstance(tags, Mapping) else {},
            provisioning_state=json_get(body, "properties", "provisioningState"),
            public_network_access=json_get(body, "properties", "publicNetworkAccess"),
            network_acls=dict(acls) if isinstance(acls, Mapping) else None,
            disable_local_auth=json_get(body, "properties", "disableLocalAuth"),
            custom_subdomain=json_get(body, "properties", "customSubDomainName") or None,
            connections=tuple(Connection.from_arm(c) for c in connections if isinstance(c, Mapping)),
        )

    @property
    def ready(self) -> bool:
        return (self.provisioning_state or "succeeded").lower() in TERMINAL_STATES

    def governed(self) -> dict[str, Any]:
        """The properties this tool governs, as ARM spells them (the audit record's before/after)."""
        return {
            "publicNetworkAccess": self.public_network_access,
            "networkAcls": dict(self.network_acls) if self.network_acls is not None else None,
            "disableLocalAuth": self.disable_local_auth,
            "privateEndpointConnections": [
                {"name": c.name, "privateEndpoint": str(c.private_endpoint_id) if c.private_endpoint_id else None,
                 "status": c.status}
                for c in self.connections
            ],
        }


@dataclass(frozen=True)
class ZoneGroup:
    name: str
    # (config name, zone id) pairs, in the order ARM returned them
    configs: tuple[tuple[str, ResourceId], ...]
    # Every config's writable part as ARM returned it, readable or not: a PUT that adds a zone keeps
    # them all, so nothing someone else configured is dropped.
    written: tuple[Mapping[str, Any], ...] = field(default=(), compare=False)
    # The A records Azure says it wrote for the group (read-only `recordSets`): FQDN in the zone → IPs.
    record_sets: Mapping[str, tuple[str, ...]] = field(default_factory=dict, compare=False)

    @classmethod
    def from_arm(cls, body: Mapping[str, Any]) -> ZoneGroup:
        configs, written = [], []
        record_sets: dict[str, tuple[str, ...]] = {}
        raw_configs = json_get(body, "properties", "privateDnsZoneConfigs")
        for config in raw_configs if isinstance(raw_configs, list) else []:
            raw_zone = json_get(config, "properties", "privateDnsZoneId")
            written.append({"name": json_get(config, "name"), "properties": {"privateDnsZoneId": raw_zone}})
            zone_id = try_parse_resource_id(raw_zone)
            if zone_id is not None:
                configs.append((str(json_get(config, "name") or zone_id.name.replace(".", "-")), zone_id))
            record_sets.update(_fqdn_addresses(json_get(config, "properties", "recordSets")))
        return cls(name=str(json_get(body, "name") or "default"), configs=tuple(configs), written=tuple(written),
                   record_sets=record_sets)

    def writable_configs(self) -> list[dict[str, Any]]:
        """The configs to send back in a PUT: as read when read from ARM, else built from `configs`."""
        if self.written:
            return [dict(config) for config in self.written]
        return [{"name": name, "properties": {"privateDnsZoneId": str(zone)}} for name, zone in self.configs]

    def zone_for(self, zone_name: str) -> ResourceId | None:
        return next((zone for _, zone in self.configs if fold(zone.name) == fold(zone_name)), None)


def _fqdn_addresses(entries: Any) -> dict[str, tuple[str, ...]]:
    """`[{fqdn, ipAddresses}]` (an endpoint's `customDnsConfigs`, a zone config's `recordSets`) → FQDN → IPs,
    the FQDN lower-case without a trailing dot."""
    found: dict[str, tuple[str, ...]] = {}
    for entry in entries if isinstance(entries, list) else []:
        fqdn, addresses = json_get(entry, "fqdn"), json_get(entry, "ipAddresses")
        if isinstance(fqdn, str) and fqdn and isinstance(addresses, list):
            key = fqdn.rstrip(".").lower()
            found[key] = tuple(dict.fromkeys((*found.get(key, ()), *(str(a) for a in addresses if a))))
    return found


@dataclass(frozen=True)
class PrivateEndpoint:
    id: ResourceId
    subnet_id: ResourceId | None
    zone_group: ZoneGroup | None
    # The endpoint's own `customDnsConfigs`: each public FQDN it serves → its private IPs.
    dns_configs: Mapping[str, tuple[str, ...]] = field(default_factory=dict, compare=False)

    @property
    def vnet_id(self) -> ResourceId | None:
        return vnet_of(self.subnet_id)

    @classmethod
    def from_arm(cls, endpoint_id: ResourceId, body: Mapping[str, Any], group: ZoneGroup | None) -> PrivateEndpoint:
        subnet_id = try_parse_resource_id(json_get(body, "properties", "subnet", "id"))
        return cls(endpoint_id, subnet_id, group, _fqdn_addresses(json_get(body, "properties", "customDnsConfigs")))

    def addresses_for(self, zone_name: str, record_name: str) -> tuple[str, ...]:
        """The private IPs the A record `record_name` in the privatelink zone `zone_name` should answer for
        this endpoint: from its own `customDnsConfigs` (the public name, `<name>.openai.azure.com` for
        `privatelink.openai.azure.com`), else from what its zone group says it wrote; () when neither tells."""
        zone = zone_name.lower()
        public = f"{record_name}.{zone.removeprefix('privatelink.')}".lower()
        if self.dns_configs.get(public):
            return self.dns_configs[public]
        group = self.zone_group.record_sets if self.zone_group else {}
        return group.get(f"{record_name}.{zone}".lower(), ())


def vnet_of(subnet_id: ResourceId | None) -> ResourceId | None:
    """`…/virtualNetworks/v/subnets/s` → `…/virtualNetworks/v`."""
    if subnet_id is None or len(subnet_id.types) != 2:
        return None
    return subnet_id.parent


@dataclass(frozen=True)
class Zone:
    id: ResourceId
    exists: bool
    linked_vnets: frozenset[ResourceId] = frozenset()  # VNets whose link to the zone is Succeeded (only those count)


# Where each record type keeps its values in a record set's properties (Private DNS REST API, RecordSet).
_RECORD_VALUES = {"a": ("aRecords", "ipv4Address"), "aaaa": ("aaaaRecords", "ipv6Address")}


@dataclass(frozen=True)
class RecordSet:
    """A private DNS record set as read (A, AAAA or CNAME, by its ID's type): its addresses (or the name a CNAME
    points to), and what a PUT must send back to keep the rest."""

    id: ResourceId
    etag: str | None
    addresses: tuple[str, ...]
    ttl: int | None = None
    metadata: Mapping[str, str] = field(default_factory=dict)
    cname: str | None = None

    @property
    def record_type(self) -> str:
        return self.id.types[-1].upper()

    @classmethod
    def from_arm(cls, record_id: ResourceId, body: Mapping[str, Any]) -> RecordSet:
        key, field_name = _RECORD_VALUES.get(record_id.types[-1].lower(), ("aRecords", "ipv4Address"))
        records = json_get(body, "properties", key)
        addresses = (json_get(r, field_name) for r in records) if isinstance(records, list) else ()
        metadata = json_get(body, "properties", "metadata")
        ttl = json_get(body, "properties", "ttl")
        cname = json_get(body, "properties", "cnameRecord", "cname")
        return cls(
            id=record_id,
            etag=str(json_get(body, "etag") or "") or None,
            addresses=tuple(dict.fromkeys(str(a) for a in addresses if isinstance(a, str) and a)),
            ttl=ttl if isinstance(ttl, int) and not isinstance(ttl, bool) else None,
            metadata={str(k): str(v) for k, v in metadata.items()} if isinstance(metadata, Mapping) else {},
            cname=str(cname) if isinstance(cname, str) and cname else None,
        )


@dataclass(frozen=True)
class Unverified:
    """A resource the account's lockdown depends on whose read failed: the identity may not read it, or Resource
    Manager did not answer. It counts neither as serving nor as compliant."""

    resource_id: ResourceId
    reason: str  # Azure's code and message
    transient: bool = False  # the read failed for a reason another try may not meet (5xx, throttling, no answer)

    def note(self) -> str:
        return f"{self.resource_id} could not be read ({self.reason})"


@dataclass(frozen=True)
class ResolvedName:
    """One public name of the account as the app's network resolved it, judged against the serving
    endpoints' private IPs (resolution.judge)."""

    name: str
    private: bool
    answered: str  # the answer as a person reads it (chain and addresses, or the failure)
    reason: str  # why it is not private, and the likely causes
    expected: tuple[str, ...]  # the serving endpoints' IPs


@dataclass(frozen=True)
class Observation:
    """Everything plan() needs, read in one reconcile. Missing keys mean 'not read', not 'absent'.

    An endpoint or zone the identity may not read is missing from `endpoints`/`zones` and listed in
    `unverified`: it does not count as serving, and nothing is planned on it."""

    account: Account
    endpoints: Mapping[ResourceId, PrivateEndpoint] = field(default_factory=dict)
    zones: Mapping[ResourceId, Zone] = field(default_factory=dict)
    unverified: tuple[Unverified, ...] = ()
    # The account's A record in each zone its serving endpoints' zone groups name, and the AAAA and CNAME record
    # sets of the same name there: None when read and absent.
    records: Mapping[ResourceId, RecordSet | None] = field(default_factory=dict)
    # With the resolution check on: each public name of the account, as the app's network resolved it.
    resolved: tuple[ResolvedName, ...] = ()
