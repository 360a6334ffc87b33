"""The locked-down state an account should be in, derived from settings and the account's kind."""

from __future__ import annotations

import hashlib
import ipaddress
from dataclasses import dataclass
from datetime import UTC, date, datetime

from .ids import ResourceId, fold
from .model import ZoneGroup
from .settings import IpNetwork, PublicAccessMode, Settings

OPENAI_ZONE = "privatelink.openai.azure.com"
COGNITIVE_ZONE = "privatelink.cognitiveservices.azure.com"
AI_SERVICES_ZONE = "privatelink.services.ai.azure.com"

_ZONES_BY_KIND = {
    "openai": (OPENAI_ZONE,),
    "aiservices": (COGNITIVE_ZONE, OPENAI_ZONE, AI_SERVICES_ZONE),
}

ZONE_GROUP_NAME = "default"
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
    )


def dns_zone_ids(desired: DesiredState, group: ZoneGroup | None) -> dict[str, ResourceId | None]:
    """For each zone the kind needs, the zone to check: the one the endpoint's zone group uses, else ours.

    observe() reads exactly these zones, so plan() never judges a zone it did not read.
    """
    return {name: (group.zone_for(name) if group else None) or desired.zone_id(name) for name in desired.dns_zones}


def _short_hash(text: str) -> str:
    return hashlib.sha256(fold(text).encode()).hexdigest()[:8]


def private_endpoint_name(account_id: ResourceId) -> str:
    """Derived from the account ID, so a repeated or concurrent create is the same PUT (max 80 chars)."""
    return f"pe-{account_id.name[:64].lower()}-{_short_hash(account_id.key)}"


def private_endpoint_id(account_id: ResourceId, subnet_id: ResourceId) -> ResourceId:
    """New endpoints live beside their virtual network: same subscription and resource group as the subnet."""
    return ResourceId(
        subnet_id.subscription_id, subnet_id.resource_group, "Microsoft.Network", ("privateEndpoints",),
        (private_endpoint_name(account_id),),
    )


def zone_link_name(vnet_id: ResourceId) -> str:
    return f"link-{vnet_id.name[:60].lower()}-{_short_hash(vnet_id.key)}"


def zone_config_name(zone_name: str) -> str:
    return zone_name.replace(".", "-")


def exempt_until(tags: dict[str, str] | object, tag_name: str, now: datetime) -> bool:
    """True when the exemption tag says `true`, or a date/time that has not passed yet."""
    if not isinstance(tags, dict):
        return False
    value = next((v for k, v in tags.items() if k.lower() == tag_name.lower()), None)
    if value is None:
        return False
    text = str(value).strip()
    if text.lower() == "true":
        return True
    try:
        if len(text) == 10:
            return date.fromisoformat(text) >= now.date()
        until = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return False  # an unreadable exemption does not exempt
    if until.tzinfo is None:
        until = until.replace(tzinfo=UTC)
    return until > now
