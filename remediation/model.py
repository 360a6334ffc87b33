"""The vocabulary shared by observe, plan, apply and audit: enums and the observed state.

Observed state is built from ARM JSON at the edge (`from_arm`) and is plain, frozen data inside the
core, so `plan.py` can be read and tested without any SDK.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from .arm_json import json_get, same_text
from .ids import PRIVATE_ENDPOINT_TYPE, ResourceId, fold, parse_resource_id, try_parse_resource_id


class Mode(str, Enum):
    ENFORCE = "enforce"
    REPORT = "report"


class Trigger(str, Enum):
    EVENT = "event"  # an Event Grid event, through the work queue
    HTTP = "http"  # POST /api/remediate
    SWEEP = "sweep"  # the timer's screen, through the work queue
    CLI = "cli"  # an operator's `python -m remediation fix`


class ActionKind(str, Enum):
    PATCH_ACCOUNT_NETWORK = "patch-account-network"
    APPROVE_CONNECTION = "approve-private-endpoint-connection"
    CREATE_PRIVATE_ENDPOINT = "create-private-endpoint"
    CREATE_DNS_ZONE = "create-private-dns-zone"
    CREATE_DNS_ZONE_LINK = "create-private-dns-zone-link"
    PUT_DNS_ZONE_GROUP = "put-private-dns-zone-group"


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

    @classmethod
    def from_arm(cls, body: Mapping[str, Any]) -> ZoneGroup:
        configs, written = [], []
        raw_configs = json_get(body, "properties", "privateDnsZoneConfigs")
        for config in raw_configs if isinstance(raw_configs, list) else []:
            raw_zone = json_get(config, "properties", "privateDnsZoneId")
            written.append({"name": json_get(config, "name"), "properties": {"privateDnsZoneId": raw_zone}})
            zone_id = try_parse_resource_id(raw_zone)
            if zone_id is not None:
                configs.append((str(json_get(config, "name") or zone_id.name.replace(".", "-")), zone_id))
        return cls(name=str(json_get(body, "name") or "default"), configs=tuple(configs), written=tuple(written))

    def writable_configs(self) -> list[dict[str, Any]]:
        """The configs to send back in a PUT: as read when read from ARM, else built from `configs`."""
        if self.written:
            return [dict(config) for config in self.written]
        return [{"name": name, "properties": {"privateDnsZoneId": str(zone)}} for name, zone in self.configs]

    def zone_for(self, zone_name: str) -> ResourceId | None:
        return next((zone for _, zone in self.configs if fold(zone.name) == fold(zone_name)), None)


@dataclass(frozen=True)
class PrivateEndpoint:
    id: ResourceId
    subnet_id: ResourceId | None
    zone_group: ZoneGroup | None

    @property
    def vnet_id(self) -> ResourceId | None:
        return vnet_of(self.subnet_id)


def vnet_of(subnet_id: ResourceId | None) -> ResourceId | None:
    """`…/virtualNetworks/v/subnets/s` → `…/virtualNetworks/v`."""
    if subnet_id is None or len(subnet_id.types) != 2:
        return None
    return subnet_id.parent


@dataclass(frozen=True)
class Zone:
    id: ResourceId
    exists: bool
    linked_vnets: frozenset[ResourceId] = frozenset()


@dataclass(frozen=True)
class Observation:
    """Everything plan() needs, read in one reconcile. Missing keys mean 'not read', not 'absent'."""

    account: Account
    endpoints: Mapping[ResourceId, PrivateEndpoint] = field(default_factory=dict)
    zones: Mapping[ResourceId, Zone] = field(default_factory=dict)
