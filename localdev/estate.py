"""Build emulator scenarios: accounts, the hub network and private DNS, compliant or drifted.

One vocabulary for the demo, the tests and the benchmarks, so each describes an estate in a few
lines (`Estate().network().openai("aoai-prod", compliant=True)`) instead of raw ARM JSON.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from localdev.arm_emulator.authorization import OWNER
from localdev.arm_emulator.tokens import user_object_id

SUBSCRIPTION = "00000000-0000-0000-0000-000000000001"
OTHER_SUBSCRIPTION = "00000000-0000-0000-0000-000000000002"
LOCATION = "eastus"

OPENAI_ZONE = "privatelink.openai.azure.com"
ZONES_BY_KIND = {
    "OpenAI": (OPENAI_ZONE,),
    "AIServices": ("privatelink.cognitiveservices.azure.com", OPENAI_ZONE, "privatelink.services.ai.azure.com"),
}


# The people who write to the estate "in the portal" (localdev/person.py): Owner of its subscriptions.
PEOPLE_UPNS = ("dana@contoso.example",)


def rg_id(resource_group: str, subscription: str = SUBSCRIPTION) -> str:
    return f"/subscriptions/{subscription}/resourceGroups/{resource_group}"


def account_id(name: str, resource_group: str = "rg-ai", subscription: str = SUBSCRIPTION) -> str:
    return f"{rg_id(resource_group, subscription)}/providers/Microsoft.CognitiveServices/accounts/{name}"


VNET_ID = f"{rg_id('rg-network')}/providers/Microsoft.Network/virtualNetworks/vnet-hub"
SUBNET_ID = f"{VNET_ID}/subnets/snet-private-endpoints"
OTHER_SUBNET_ID = f"{VNET_ID}/subnets/snet-workloads"
DNS_RG_ID = rg_id("rg-dns")


def zone_id(zone: str, dns_rg: str = DNS_RG_ID) -> str:
    return f"{dns_rg}/providers/Microsoft.Network/privateDnsZones/{zone}"


@dataclass
class Estate:
    """A scenario under construction; `scenario()` gives the emulator's JSON."""

    resources: list[dict[str, Any]] = field(default_factory=list)

    def add(self, resource: dict[str, Any]) -> Estate:
        self.resources.append(resource)
        return self

    def network(self, zones: tuple[str, ...] = (), linked: bool = True) -> Estate:
        """The hub virtual network with a private endpoint subnet and a workload subnet, plus DNS zones."""
        self.add({
            "id": VNET_ID, "location": LOCATION,
            # A /16 for endpoints, so the benchmarks' estates of 10,000 accounts fit in it.
            "properties": {"addressSpace": {"addressPrefixes": ["10.0.0.0/8"]}, "subnets": [
                {"name": "snet-private-endpoints", "properties": {"addressPrefix": "10.1.0.0/16"}},
                {"name": "snet-workloads", "properties": {"addressPrefix": "10.2.0.0/24"}},
            ]},
        })
        for zone in zones:
            self.zone(zone, linked=linked)
        return self

    def zone(self, zone: str, linked: bool = True) -> Estate:
        self.add({"id": zone_id(zone), "location": "global"})
        if linked:
            self.add({"id": f"{zone_id(zone)}/virtualNetworkLinks/hub", "location": "global",
                      "properties": {"virtualNetwork": {"id": VNET_ID}, "registrationEnabled": False}})
        return self

    def account(self, name: str, kind: str = "OpenAI", *, resource_group: str = "rg-ai",
                subscription: str = SUBSCRIPTION, public_network_access: str | None = "Disabled",
                default_action: str | None = "Deny", ip_rules: tuple[str, ...] = (), subdomain: bool = True,
                vnet_rules: tuple[str, ...] = (), bypass: str | None = None,
                disable_local_auth: bool | None = None, tags: dict[str, str] | None = None,
                provisioning_state: str = "Succeeded", location: str = LOCATION) -> Estate:
        properties: dict[str, Any] = {"provisioningState": provisioning_state}
        if subdomain:
            properties["customSubDomainName"] = name
        if public_network_access is not None:
            properties["publicNetworkAccess"] = public_network_access
        if default_action is not None:
            properties["networkAcls"] = {"defaultAction": default_action,
                                         "virtualNetworkRules": [{"id": subnet} for subnet in vnet_rules],
                                         "ipRules": [{"value": ip} for ip in ip_rules]}
            if bypass is not None:
                properties["networkAcls"]["bypass"] = bypass
        if disable_local_auth is not None:
            properties["disableLocalAuth"] = disable_local_auth
        return self.add({
            "id": account_id(name, resource_group, subscription), "kind": kind, "location": location,
            "sku": {"name": "S0"}, "tags": dict(tags or {"owner": "ai-platform", "cost-center": "4711"}),
            "properties": properties,
        })

    def endpoint(self, account: str, name: str | None = None, *, subnet: str = SUBNET_ID, manual: bool = False,
                 zone_group: tuple[str, ...] | None = None, group_name: str = "default") -> Estate:
        """A private endpoint to `account` (an ID), optionally with a zone group naming `zone_group` zones."""
        pe_name = name or f"pe-{account.rsplit('/', 1)[-1]}-existing"
        pe_id = f"{rg_id('rg-network')}/providers/Microsoft.Network/privateEndpoints/{pe_name}"
        connections = [{"name": pe_name, "properties": {"privateLinkServiceId": account, "groupIds": ["account"]}}]
        self.add({"id": pe_id, "location": LOCATION, "properties": {
            "subnet": {"id": subnet},
            "manualPrivateLinkServiceConnections" if manual else "privateLinkServiceConnections": connections,
        }})
        if zone_group is not None:
            self.add({"id": f"{pe_id}/privateDnsZoneGroups/{group_name}", "properties": {"privateDnsZoneConfigs": [
                {"name": zone.replace(".", "-"), "properties": {"privateDnsZoneId": zone_id(zone)}}
                for zone in zone_group]}})
        return self

    def record(self, zone: str, name: str, addresses: tuple[str, ...], ttl: int = 10) -> Estate:
        """An A record set as it is now in a zone of the DNS resource group (seeded after the zone groups that
        write records, so it can state a record someone changed afterwards)."""
        return self.add({"id": f"{zone_id(zone)}/A/{name}", "properties": {
            "ttl": ttl, "aRecords": [{"ipv4Address": address} for address in addresses]}})

    def locked(self, name: str, kind: str = "OpenAI", **account: Any) -> Estate:
        """A fully compliant account: private only, served by an endpoint with complete DNS."""
        self.account(name, kind, **account)
        return self.endpoint(account_id(name, account.get("resource_group", "rg-ai"),
                                        account.get("subscription", SUBSCRIPTION)),
                             zone_group=ZONES_BY_KIND.get(kind, ("privatelink.cognitiveservices.azure.com",)))

    def scenario(self) -> dict[str, Any]:
        # The network and DNS resource groups exist even while they hold nothing yet. The estate's people
        # hold the built-in Owner role on its subscriptions (what the app's identity holds is seeded from
        # infra/roles.json by localdev/rights.py, from the app settings in use).
        owners = [{"principalId": user_object_id(upn), "role": OWNER, "scope": f"/subscriptions/{sub}",
                   "principalType": "User"} for upn in PEOPLE_UPNS for sub in (SUBSCRIPTION, OTHER_SUBSCRIPTION)]
        return {"resourceGroups": [rg_id("rg-ai"), rg_id("rg-network"), DNS_RG_ID], "resources": list(self.resources),
                "roleAssignments": owners}


def settings_env(**overrides: str) -> dict[str, str]:
    """App settings for the estate above (enforce mode, the hub subnet, the DNS resource group)."""
    env = {
        "REMEDIATION_MODE": "enforce",
        "REMEDIATION_SCOPES": rg_id("rg-ai"),
        "REMEDIATION_PE_SUBNET_ID": SUBNET_ID,
        "REMEDIATION_DNS_ZONE_RESOURCE_GROUP_ID": DNS_RG_ID,
        "REMEDIATION_POLL_INTERVAL_SECONDS": "0",
        "REMEDIATION_READY_TIMEOUT_SECONDS": "5",
    }
    env.update(overrides)
    return env
