"""The locked-down state an account should be in, derived from settings and the account's kind."""

from __future__ import annotations

import hashlib
import ipaddress
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import Any

from .ids import ResourceId, fold, try_parse_resource_id
from .model import PrivateEndpoint, ZoneGroup
from .settings import IpNetwork, PublicAccessMode, ResolverAddress, Settings

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


EXEMPT_BY_SETTING = "REMEDIATION_EXEMPT_ACCOUNT_IDS"
_VALUE_LIMIT = 64  # characters of a tag value kept in a record (the account's owner writes it)
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


@dataclass(frozen=True)
class Exemption:
    """Whether an account is exempt and why; or, when it carries the tag, why the tag does not exempt it.

    An exempt account is still observed and planned (its record holds findings and `before`); nothing is written.
    """

    exempt: bool
    by: str | None = None  # EXEMPT_BY_SETTING or "tag"
    tag: str | None = None
    value: str | None = None  # the tag's value as found (bounded)
    until: str | None = None  # ISO date or time the tag exempts until
    reason: str | None = None  # why the tag does not exempt

    def to_json(self) -> dict[str, Any] | None:
        """The record's `exemption`: None for an account neither exempt nor tagged."""
        if not self.exempt and self.tag is None:
            return None
        data = {"exempt": self.exempt, "by": self.by, "tag": self.tag, "value": self.value, "until": self.until,
                "reason": self.reason}
        return {k: v for k, v in data.items() if v is not None or k == "by"}


NOT_EXEMPT = Exemption(False)


def exemption(settings: Settings, account_id: ResourceId, tags: Mapping[str, str] | object, now: datetime) -> Exemption:
    """The one exemption rule, for `fix` and the sweep alike (DESIGN §4).

    Exempt without end: the account's ID is in REMEDIATION_EXEMPT_ACCOUNT_IDS (only operators set app settings).
    Exempt for a while: its REMEDIATION_EXEMPT_TAG tag holds an ISO date (the whole day, UTC) or date-time that has
    not passed and is no more than REMEDIATION_EXEMPT_MAX_DAYS ahead. Whoever can open an account can also tag it,
    so anything else (`true`, a date years ahead, a typo) does not exempt, and says why.
    """
    if account_id in settings.exempt_account_ids:
        return Exemption(True, by=EXEMPT_BY_SETTING)
    if not isinstance(tags, Mapping):
        return NOT_EXEMPT
    found = next(((str(k), v) for k, v in tags.items() if fold(str(k)) == fold(settings.exempt_tag)), None)
    if found is None:
        return NOT_EXEMPT
    tag, raw = found[0], str(found[1])
    value = raw.strip()
    now = now.astimezone(UTC) if now.tzinfo else now.replace(tzinfo=UTC)
    shown = Exemption(False, tag=tag, value=raw[:_VALUE_LIMIT])
    ahead = _days_ahead(value, now)  # None: unreadable; < 0: passed
    if ahead is None:
        return replace(shown, reason="not an ISO date (YYYY-MM-DD) or date-time")
    if ahead < 0:
        return replace(shown, reason="the date has passed")
    if ahead > settings.exempt_max_days:
        return replace(shown, reason=f"more than {settings.exempt_max_days} days ahead (REMEDIATION_EXEMPT_MAX_DAYS)")
    return replace(shown, exempt=True, by="tag", until=value)


def _days_ahead(value: str, now: datetime) -> float | None:
    """How far ahead the exemption ends, in days (negative once it has passed); None when unreadable.

    A date covers its whole day (UTC): today is 0 days ahead, tomorrow 1. A time without an offset is UTC.
    """
    if len(value) > 40:
        return None
    try:
        if _DATE.fullmatch(value):
            return (date.fromisoformat(value) - now.date()).days
        if "T" not in value.upper():
            return None
        until = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None
    until = until if until.tzinfo else until.replace(tzinfo=UTC)
    seconds = (until - now).total_seconds()
    return seconds / 86400 if seconds > 0 else -1
