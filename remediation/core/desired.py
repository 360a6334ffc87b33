"""The locked-down state an account should be in, derived from settings and the account's kind."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass

from remediation.core.ids import ResourceId, try_parse_resource_id
from remediation.core.model import PrivateEndpoint, ZoneGroup
from remediation.core.settings import IpNetwork, PublicAccessMode, ResolverAddress, Settings

OPENAI_ZONE = "privatelink.openai.azure.com"
COGNITIVE_ZONE = "privatelink.cognitiveservices.azure.com"
AI_SERVICES_ZONE = "privatelink.services.ai.azure.com"

_ZONES_BY_KIND = {
    "openai": (OPENAI_ZONE,),
    "aiservices": (COGNITIVE_ZONE, OPENAI_ZONE, AI_SERVICES_ZONE),
}

ZONE_GROUP_NAME = "default"

# Record types that may not sit at the account's name in a privatelink zone: an AAAA answer sends dual-stack
# clients elsewhere, a CNAME replaces the name's answer altogether (and no A record can sit beside it).
OTHER_RECORD_TYPES = ("AAAA", "CNAME")
PRIVATE_LINK_GROUP_ID = "account"


def zones_for_kind(kind: str) -> tuple[str, ...]:
    return _ZONES_BY_KIND.get(kind.lower(), (COGNITIVE_ZONE,))


@dataclass(frozen=True)
class DesiredState:
    public_network_access: PublicAccessMode
    allowed_ip_rules: tuple[IpNetwork, ...]
    disable_local_auth: bool
    dns_zones: tuple[str, ...]
    new_endpoint_subnet: ResourceId | None  # None: private endpoint findings are reported, not fixed
    serving_subnets: frozenset[ResourceId]
    dns_zone_resource_group: ResourceId | None  # None: DNS findings are reported, not fixed
    allowed_vnet_subnets: frozenset[ResourceId] = frozenset()  # SelectedNetworks: virtualNetworkRules allowed
    network_bypass: str | None = None  # `networkAcls.bypass` to enforce; None: not governed
    resolution_check: bool = False  # resolve the account's public names and check they answer privately
    dns_resolver: ResolverAddress | None = None  # for that check; None: the system resolver

    def vnet_rule_allowed(self, subnet_id: object) -> bool:
        """A rule we cannot read is not one the policy allows."""
        return try_parse_resource_id(subnet_id) in self.allowed_vnet_subnets

    def ip_rule_allowed(self, rule: str) -> bool:
        try:
            network = ipaddress.ip_network(rule, strict=False)
        except ValueError:
            return False  # a rule we cannot read is not one the policy allows
        return any(
            network.version == allowed.version and network.subnet_of(allowed)  # type: ignore[arg-type]
            for allowed in self.allowed_ip_rules
        )

    def zone_id(self, zone_name: str) -> ResourceId | None:
        """Where this tool keeps (and creates) the zone of that name."""
        if self.dns_zone_resource_group is None:
            return None
        rg = self.dns_zone_resource_group
        return ResourceId(rg.subscription_id, rg.resource_group, "Microsoft.Network", ("privateDnsZones",),
                          (zone_name,))


def desired_state(settings: Settings, kind: str, location: str) -> DesiredState:
    return DesiredState(
        public_network_access=settings.public_network_access,
        allowed_ip_rules=settings.allowed_ip_rules,
        disable_local_auth=settings.disable_local_auth,
        dns_zones=zones_for_kind(kind),
        new_endpoint_subnet=settings.pe_subnets.for_location(location),
        serving_subnets=settings.allowed_subnets,
        dns_zone_resource_group=settings.dns_zone_resource_group,
        allowed_vnet_subnets=frozenset(settings.allowed_vnet_subnet_ids),
        network_bypass=settings.network_bypass.value if settings.network_bypass else None,
        resolution_check=settings.resolution_check,
        dns_resolver=settings.dns_resolver,
    )


def dns_zone_ids(desired: DesiredState, group: ZoneGroup | None) -> dict[str, ResourceId | None]:
    """For each zone the kind needs, the zone to check: the one the endpoint's zone group uses, else ours.

    observe() reads exactly these zones, so plan() never judges a zone it did not read.
    """
    return {name: (group.zone_for(name) if group else None) or desired.zone_id(name) for name in desired.dns_zones}


def dns_records(desired: DesiredState, record_name: str,
                endpoints: Iterable[PrivateEndpoint]) -> dict[ResourceId, frozenset[str]]:
    """The account's A records to check, each with the addresses it may hold: in every zone a serving
    endpoint's zone group names, the record named after the custom subdomain, and the private IPs of the
    endpoints whose groups name that zone. observe() reads exactly these; plan() judges exactly these.

    A zone whose records a planned zone group write is about to rewrite (an endpoint without a group, or
    one that lacks a zone the kind needs) is left to that write and checked on the next reconcile; so is
    a record whose endpoints' IPs are unknown (no `customDnsConfigs`, no `recordSets`).
    """
    name = record_name.lower()
    rewritten: set[ResourceId] = set()
    addresses: dict[ResourceId, set[str]] = {}
    for endpoint in endpoints:
        group = endpoint.zone_group
        if group is None or any(group.zone_for(zone) is None for zone in desired.dns_zones):
            rewritten.update(z for z in dns_zone_ids(desired, group).values() if z is not None)
            continue
        for zone_name in desired.dns_zones:
            zone_id = group.zone_for(zone_name)
            if zone_id is not None:
                addresses.setdefault(zone_id, set()).update(endpoint.addresses_for(zone_name, name))
    return {zone_id.child("A", name): frozenset(ips) for zone_id, ips in addresses.items()
            if ips and zone_id not in rewritten}
