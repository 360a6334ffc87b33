"""Resource provider metadata: the namespaces the emulator serves, their resource types and API versions.

What `GET /subscriptions/{s}/providers/{namespace}` answers. The Azure CLI reads it to pick an API
version when none is given (`az resource show|update --ids …` without `--api-version`:
azure-cli `command_modules/resource/custom.py`, `_ResourceUtils.resolve_api_version`, takes the first
non-preview entry of the type's `apiVersions`, so the list runs newest first, as Azure sends it: spec
example `specification/resources/resource-manager/Microsoft.Resources/resources/stable/2024-11-01/examples/
GetProviders.json` in Azure/azure-rest-api-specs).

The API versions per type are those that Azure/bicep-types-az (commit 1f896de, 2026-08-20, generated
from azure-rest-api-specs b7170cade0) lists for that resource type (`generated/<group>/<namespace>/
<version>/types.md`, "## Resource <type>@<version>"), plus the published versions newer than that snapshot
that clients here send: azure-mgmt-network 33.1.0 sends 2026-03-01, and azure-cli 2.91.0's network
commands (`az network private-endpoint create|delete`) send 2026-01-01. Locations are Azure's display
names, as the provider API returns them ("East US", not "eastus").
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# Regions the emulator's estates use (display names as the provider API shows them).
REGIONS = ("East US", "East US 2", "West US", "West Europe", "North Europe", "Sweden Central")
CAPABILITIES = "CrossResourceGroupResourceMove, CrossSubscriptionResourceMove, SupportsTags, SupportsLocation"

_COGNITIVE = ("2026-07-01", "2026-05-15-preview", "2026-05-01", "2026-03-15-preview", "2026-03-01",
              "2026-01-15-preview", "2025-12-01", "2025-10-01-preview", "2025-09-01", "2025-07-01-preview",
              "2025-06-01", "2025-04-01-preview", "2024-10-01", "2024-06-01-preview", "2024-04-01-preview",
              "2023-10-01-preview", "2023-05-01", "2022-12-01", "2022-10-01", "2022-03-01", "2021-10-01",
              "2021-04-30", "2017-04-18")
_COGNITIVE_ACCOUNTS = _COGNITIVE + ("2016-02-01-preview",)
_NETWORK_SINCE_2020_03 = ("2026-03-01", "2026-01-01", "2025-09-01", "2025-07-01", "2025-05-01", "2025-03-01",
                          "2025-01-01", "2024-10-01", "2024-07-01", "2024-05-01", "2024-03-01", "2024-01-01",
                          "2023-11-01", "2023-09-01", "2023-06-01", "2023-05-01", "2023-04-01", "2023-02-01",
                          "2022-11-01", "2022-09-01", "2022-07-01", "2022-05-01", "2022-01-01", "2021-08-01",
                          "2021-05-01", "2021-03-01", "2021-02-01", "2020-11-01", "2020-08-01", "2020-07-01",
                          "2020-06-01", "2020-05-01", "2020-04-01", "2020-03-01")
_PRIVATE_ENDPOINTS = _NETWORK_SINCE_2020_03 + ("2019-12-01", "2019-11-01", "2019-09-01", "2019-08-01",
                                               "2019-07-01", "2019-06-01", "2019-04-01", "2018-10-01")
_VIRTUAL_NETWORKS = _PRIVATE_ENDPOINTS[:-1] + ("2019-02-01", "2018-12-01", "2018-11-01", "2018-10-01",
                                               "2018-08-01", "2018-07-01", "2018-06-01", "2018-04-01",
                                               "2018-02-01", "2018-01-01", "2017-11-01", "2017-10-01",
                                               "2017-09-01", "2017-08-01", "2017-06-01", "2017-03-30",
                                               "2017-03-01", "2016-12-01", "2016-09-01", "2016-06-01",
                                               "2016-03-30", "2015-06-15", "2015-05-01-preview")
_PRIVATE_DNS = ("2024-06-01", "2020-06-01", "2020-01-01", "2018-09-01")
# Subscriptions API: the stable folders of specification/resources/resource-manager/Microsoft.Resources/
# subscriptions/stable in azure-rest-api-specs.
_SUBSCRIPTIONS = ("2022-12-01", "2021-01-01", "2020-01-01", "2019-11-01", "2019-06-01", "2018-06-01",
                  "2016-06-01", "2015-11-01")
_RESOURCE_GROUPS = ("2025-04-01", "2025-03-01", "2024-11-01", "2024-07-01", "2024-03-01", "2023-07-01",
                    "2022-09-01", "2021-04-01", "2021-01-01", "2020-10-01", "2020-08-01", "2020-06-01",
                    "2019-10-01", "2019-08-01", "2019-07-01", "2019-05-10", "2019-05-01", "2019-03-01",
                    "2018-05-01", "2018-02-01", "2017-05-10", "2016-09-01", "2016-07-01", "2016-02-01",
                    "2015-11-01")


@dataclass(frozen=True)
class ResourceType:
    name: str                          # relative to the namespace, e.g. "accounts/privateEndpointConnections"
    api_versions: tuple[str, ...]      # newest first
    locations: tuple[str, ...] = REGIONS
    capabilities: str = CAPABILITIES


@dataclass(frozen=True)
class Provider:
    namespace: str
    resource_types: tuple[ResourceType, ...]
    registration_policy: str = "RegistrationRequired"

    def body(self, subscription: str) -> dict[str, Any]:
        return {"id": f"/subscriptions/{subscription}/providers/{self.namespace}", "namespace": self.namespace,
                "registrationState": "Registered", "registrationPolicy": self.registration_policy,
                "resourceTypes": [{"resourceType": t.name, "locations": list(t.locations),
                                   "apiVersions": list(t.api_versions), "capabilities": t.capabilities}
                                  for t in self.resource_types]}


PROVIDERS: tuple[Provider, ...] = (
    Provider("Microsoft.CognitiveServices", (
        ResourceType("accounts", _COGNITIVE_ACCOUNTS),
        ResourceType("accounts/privateEndpointConnections", _COGNITIVE),
    )),
    Provider("Microsoft.Network", (
        ResourceType("virtualNetworks", _VIRTUAL_NETWORKS),
        ResourceType("virtualNetworks/subnets", _VIRTUAL_NETWORKS),
        ResourceType("privateEndpoints", _PRIVATE_ENDPOINTS),
        ResourceType("privateEndpoints/privateDnsZoneGroups", _NETWORK_SINCE_2020_03),
        ResourceType("privateDnsZones", _PRIVATE_DNS, ("global",)),
        ResourceType("privateDnsZones/virtualNetworkLinks", _PRIVATE_DNS, ("global",)),
        ResourceType("privateDnsZones/A", _PRIVATE_DNS, ("global",)),
    )),
    # Resource Manager's own provider needs no registration (same example file).
    Provider("Microsoft.Resources", (
        ResourceType("subscriptions", _SUBSCRIPTIONS),
        ResourceType("resourceGroups", _RESOURCE_GROUPS),
        ResourceType("subscriptions/resourceGroups", _RESOURCE_GROUPS),
    ), registration_policy="RegistrationFree"),
)


def find(namespace: str) -> Provider | None:
    return next((p for p in PROVIDERS if p.namespace.lower() == namespace.lower()), None)
