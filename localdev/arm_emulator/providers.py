"""Resource provider metadata: the namespaces the emulator serves, their resource types and API versions.

What `GET /subscriptions/{s}/providers/{namespace}` answers. The Azure CLI reads it to pick an API
version when none is given (`az resource show|update --ids …` without `--api-version`:
azure-cli `command_modules/resource/custom.py`, `_ResourceUtils.resolve_api_version`, takes the first
non-preview entry of the type's `apiVersions`, so the list runs newest first, as Azure sends it: spec
example `specification/resources/resource-manager/Microsoft.Resources/resources/stable/2024-11-01/examples/
GetProviders.json` in Azure/azure-rest-api-specs).

Built from the registry: each type's spec gives its API versions (with their source, next to its handlers),
locations and the names it is listed under. Locations are Azure's display names, as the provider API returns
them ("East US", not "eastus").
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from .registry import TYPES
from .spec import REGIONS, TypeSpec

CAPABILITIES = "CrossResourceGroupResourceMove, CrossSubscriptionResourceMove, SupportsTags, SupportsLocation"
# Resource Manager's own provider needs no registration (same example file).
_REGISTRATION_FREE = {"microsoft.resources"}


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


def catalog(specs: Iterable[TypeSpec]) -> tuple[Provider, ...]:
    """One provider per namespace with a listed type, in the order the specs first name them."""
    listed: dict[str, list[ResourceType]] = {}
    for spec in specs:
        names = spec.listed_as()
        if names:
            listed.setdefault(spec.namespace, []).extend(
                ResourceType(name, spec.api_versions, spec.locations) for name in names)
    return tuple(Provider(ns, tuple(types), "RegistrationFree" if ns.lower() in _REGISTRATION_FREE
                          else "RegistrationRequired") for ns, types in listed.items())


PROVIDERS: tuple[Provider, ...] = catalog(TYPES.values())


def find(namespace: str) -> Provider | None:
    return next((p for p in PROVIDERS if p.namespace.lower() == namespace.lower()), None)
