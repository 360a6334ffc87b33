"""Large estates for the benchmarks, built as a stream: accounts over many subscriptions, 10% drifted.

`ScaleEstate(accounts=100_000, subscriptions=1_000)` describes the estate; `chunks()` yields scenario
pieces the emulator seeds one after another (the hub network and DNS first, then one piece per
subscription), so the whole estate never exists twice in memory. `truth` says which accounts drifted
and how, and `settings_env()` gives the app's settings for it.

Layout (a hub-and-spoke landing zone with central private endpoints):
- a connectivity subscription holds the private endpoints: one hub VNet with a private endpoint subnet
  per 1,000 endpoints (Azure's limit of private endpoints per VNet without High Scale Private
  Endpoints: https://learn.microsoft.com/azure/private-link/increase-private-endpoint-vnet-limits), one
  resource group per VNet, and the privatelink zones in `rg-dns`, each linked to every hub VNet;
- one more hub VNet, empty, whose subnet (a /20) is `REMEDIATION_PE_SUBNET_ID`, where the app creates
  the endpoints it finds missing; the seeded hubs' subnets are `REMEDIATION_PE_ALLOWED_SUBNET_IDS`.
  Azure would stop that VNet at 1,000 endpoints (5,000 with High Scale Private Endpoints); the
  emulator does not, so a storm of more new endpoints than that still runs here;
- every other subscription holds accounts, spread over a few resource groups;
- every compliant account is locked: private only, ACL deny, an auto-approved endpoint in a hub subnet
  with a complete zone group (the emulator writes its A records);
- every tenth account drifted in one of seven ways an account's own body shows (`DRIFTS`), so a tool that
  reads only the account list (Cloud Custodian) can find them as well as the app's sweep;
- decoys: accounts of kinds the app does not manage, open to the internet, one per twenty accounts.

Known departure from Azure's limits: a private DNS zone holds at most 25,000 record sets
(https://learn.microsoft.com/azure/dns/private-dns-privatednszone#restrictions); beyond 25,000 accounts of
one kind this estate still puts every record in the one zone the app is configured with (seeding does not enforce
the emulator's zone limits; the app's own writes meet them). It measures the sweep's cost, not a deployable estate:
docs/sizing.md says what one zone set serves.
"""

from __future__ import annotations

import ipaddress
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from localdev.estate import LOCATION, ZONES_BY_KIND, rg_id, zone_id

CONNECTIVITY = "00000000-0000-0000-0000-0000000000ff"
DNS_RG = rg_id("rg-dns", CONNECTIVITY)
ENDPOINTS_PER_VNET = 1_000
MANAGED_KINDS = ("OpenAI", "AIServices")
DECOY_KINDS = ("TextAnalytics", "SpeechServices", "ComputerVision")
ALL_ZONES = tuple(dict.fromkeys(zone for zones in ZONES_BY_KIND.values() for zone in zones))

# The seven drifts, each visible in the account's own body (so in a list of accounts).
DRIFTS = (
    "public-access",  # publicNetworkAccess Enabled
    "acl-allow",  # networkAcls.defaultAction Allow
    "acl-missing",  # no networkAcls at all
    "no-endpoint",  # no private endpoint connection
    "pending",  # the only connection waits for approval
    "rejected",  # the only connection was rejected
    "no-subdomain",  # no custom subdomain, so no private endpoint can serve it
)


def subscription_id(n: int) -> str:
    return f"00000000-0000-0000-0001-{n:012d}"


@dataclass
class Truth:
    drifted: set[str] = field(default_factory=set)  # account IDs, lower case
    by_drift: Counter[str] = field(default_factory=Counter)
    managed: int = 0
    decoys: int = 0


@dataclass
class ScaleEstate:
    accounts: int
    subscriptions: int
    groups_per_subscription: int = 2
    drift_every: int = 10  # one account in this many drifted (1: all of them)
    decoy_every: int = 20  # one decoy per this many accounts (0: none)
    aiservices_every: int = 4  # every fourth managed account is AIServices (three zones)
    drifts: tuple[str, ...] = DRIFTS  # the drifts dealt out, in turn, to the drifted accounts
    truth: Truth = field(default_factory=Truth, init=False)

    def __post_init__(self) -> None:
        unknown = set(self.drifts) - set(DRIFTS)
        if unknown:
            raise ValueError(f"unknown drifts {sorted(unknown)}; known: {', '.join(DRIFTS)}")

    # -- the hub --------------------------------------------------------------------------------------
    @property
    def hubs(self) -> int:
        return max(1, -(-self.accounts // ENDPOINTS_PER_VNET))

    def vnet_id(self, hub: int) -> str:
        group = rg_id(f"rg-hub-{hub:03d}", CONNECTIVITY)
        return f"{group}/providers/Microsoft.Network/virtualNetworks/vnet-hub-{hub:03d}"

    def subnet_id(self, hub: int) -> str:
        return f"{self.vnet_id(hub)}/subnets/snet-private-endpoints"

    @property
    def subnet_ids(self) -> list[str]:
        """The seeded hubs' private endpoint subnets."""
        return [self.subnet_id(h) for h in range(self.hubs)]

    @property
    def new_endpoint_vnet_id(self) -> str:
        return f"{rg_id('rg-hub-new', CONNECTIVITY)}/providers/Microsoft.Network/virtualNetworks/vnet-hub-new"

    @property
    def new_endpoint_subnet_id(self) -> str:
        """Where the app creates the endpoints it finds missing."""
        return f"{self.new_endpoint_vnet_id}/subnets/snet-private-endpoints"

    @property
    def subscription_ids(self) -> list[str]:
        return [subscription_id(s) for s in range(self.subscriptions)]

    def _hub(self) -> dict[str, Any]:
        resources: list[dict[str, Any]] = []
        # 10.0.0.0/8 cut into /22s: 1,019 usable addresses each (Azure keeps five per subnet).
        blocks = ipaddress.ip_network("10.0.0.0/8").subnets(new_prefix=22)
        for hub in range(self.hubs):
            prefix = str(next(blocks))
            resources.append(self._vnet(self.vnet_id(hub), prefix))
        resources.append(self._vnet(self.new_endpoint_vnet_id, "10.254.0.0/20"))  # 4,091 addresses
        vnets = {f"hub-{hub:03d}": self.vnet_id(hub) for hub in range(self.hubs)}
        vnets["hub-new"] = self.new_endpoint_vnet_id
        for zone in ALL_ZONES:
            resources.append({"id": zone_id(zone, DNS_RG), "location": "global"})
            for link, vnet in vnets.items():
                resources.append({"id": f"{zone_id(zone, DNS_RG)}/virtualNetworkLinks/{link}", "location": "global",
                                  "properties": {"virtualNetwork": {"id": vnet}, "registrationEnabled": False}})
        groups = [DNS_RG, rg_id("rg-hub-new", CONNECTIVITY),
                  *(rg_id(f"rg-hub-{h:03d}", CONNECTIVITY) for h in range(self.hubs))]
        return {"resourceGroups": groups, "resources": resources}

    @staticmethod
    def _vnet(vnet_id: str, prefix: str) -> dict[str, Any]:
        return {"id": vnet_id, "location": LOCATION, "properties": {
            "addressSpace": {"addressPrefixes": [prefix]},
            "subnets": [{"name": "snet-private-endpoints", "properties": {"addressPrefix": prefix}}]}}

    # -- the accounts ---------------------------------------------------------------------------------
    def _account(self, n: int, name: str, kind: str, subscription: str, group: str, *, public: str | None,
                 default_action: str | None, subdomain: bool) -> dict[str, Any]:
        properties: dict[str, Any] = {"provisioningState": "Succeeded"}
        if subdomain:
            properties["customSubDomainName"] = name
        if public is not None:
            properties["publicNetworkAccess"] = public
        if default_action is not None:
            properties["networkAcls"] = {"defaultAction": default_action, "virtualNetworkRules": [], "ipRules": []}
        return {"id": f"{rg_id(group, subscription)}/providers/Microsoft.CognitiveServices/accounts/{name}",
                "kind": kind, "location": LOCATION, "sku": {"name": "S0"},
                "tags": {"owner": f"team-{n % 97}"}, "properties": properties}

    def _endpoint(self, n: int, account: dict[str, Any], *, status: str | None, manual: bool,
                  zone_group: tuple[str, ...] | None) -> list[dict[str, Any]]:
        hub = (n * self.hubs) // max(1, self.accounts)  # consecutive accounts share a hub VNet
        name = f"pe-{account['id'].rsplit('/', 1)[-1]}"
        pe_id = f"{rg_id(f'rg-hub-{hub:03d}', CONNECTIVITY)}/providers/Microsoft.Network/privateEndpoints/{name}"
        connection: dict[str, Any] = {"name": name, "properties": {
            "privateLinkServiceId": account["id"], "groupIds": ["account"]}}
        if status is not None:
            connection["properties"]["privateLinkServiceConnectionState"] = {"status": status, "description": ""}
        key = "manualPrivateLinkServiceConnections" if manual else "privateLinkServiceConnections"
        out = [{"id": pe_id, "location": LOCATION, "properties": {
            "subnet": {"id": self.subnet_id(hub)}, key: [connection]}}]
        if zone_group is not None:
            out.append({"id": f"{pe_id}/privateDnsZoneGroups/default", "properties": {"privateDnsZoneConfigs": [
                {"name": zone.replace(".", "-"), "properties": {"privateDnsZoneId": zone_id(zone, DNS_RG)}}
                for zone in zone_group]}})
        return out

    def _managed(self, n: int, subscription: str, group: str) -> list[dict[str, Any]]:
        kind = "AIServices" if n % self.aiservices_every == self.aiservices_every - 1 else "OpenAI"
        drift = self.drifts[(n // self.drift_every) % len(self.drifts)] if n % self.drift_every == 0 else None
        account = self._account(
            n, f"aoai-{n:06d}", kind, subscription, group,
            public="Enabled" if drift == "public-access" else "Disabled",
            default_action=None if drift == "acl-missing" else "Allow" if drift == "acl-allow" else "Deny",
            subdomain=drift != "no-subdomain")
        self.truth.managed += 1
        if drift is not None:
            self.truth.drifted.add(account["id"].lower())
            self.truth.by_drift[drift] += 1
        if drift in ("no-endpoint", "no-subdomain"):
            return [account]
        if drift == "pending":
            return [account, *self._endpoint(n, account, status=None, manual=True, zone_group=None)]
        if drift == "rejected":
            return [account, *self._endpoint(n, account, status="Rejected", manual=False, zone_group=None)]
        return [account, *self._endpoint(n, account, status=None, manual=False, zone_group=ZONES_BY_KIND[kind])]

    def _subscription(self, s: int) -> dict[str, Any]:
        subscription = subscription_id(s)
        groups = [f"rg-ai-{g}" for g in range(self.groups_per_subscription)]
        resources: list[dict[str, Any]] = []
        # Account n lives in subscription n % subscriptions, so every subscription gets its share.
        for i, n in enumerate(range(s, self.accounts, self.subscriptions)):
            group = groups[i % len(groups)]
            resources += self._managed(n, subscription, group)
            if self.decoy_every and n % self.decoy_every == self.decoy_every - 1:
                kind = DECOY_KINDS[(n // self.decoy_every) % len(DECOY_KINDS)]
                resources.append(self._account(n, f"decoy-{n:06d}", kind, subscription, group,
                                               public="Enabled", default_action="Allow", subdomain=True))
                self.truth.decoys += 1
        return {"resourceGroups": [rg_id(g, subscription) for g in groups], "resources": resources}

    def chunks(self) -> Iterator[dict[str, Any]]:
        """Scenario pieces in an order the emulator can seed one by one: the hub, then each subscription."""
        self.truth = Truth()
        yield self._hub()
        for s in range(self.subscriptions):
            yield self._subscription(s)

    # -- the app's settings for it ------------------------------------------------------------------
    def settings_env(self, **overrides: str) -> dict[str, str]:
        env = {
            "REMEDIATION_MODE": "enforce",
            "REMEDIATION_SCOPES": ",".join(f"/subscriptions/{s}" for s in self.subscription_ids),
            "REMEDIATION_PE_SUBNET_ID": self.new_endpoint_subnet_id,
            "REMEDIATION_PE_ALLOWED_SUBNET_IDS": ",".join(self.subnet_ids),
            "REMEDIATION_DNS_ZONE_RESOURCE_GROUP_ID": DNS_RG,
            "REMEDIATION_POLL_INTERVAL_SECONDS": "0",
            "REMEDIATION_READY_TIMEOUT_SECONDS": "5",
        }
        env.update(overrides)
        return env


def seed_estate(emulator: Any, estate: ScaleEstate) -> int:
    """Seed an estate chunk by chunk; returns the number of resources given."""
    return sum(emulator.seed(chunk) for chunk in estate.chunks())
