"""Microsoft.Resources: subscriptions and resource providers (what `az login` and `az resource` read).

- `GET /subscriptions` and `GET /subscriptions/{id}`: shape from the Subscriptions API spec
  (azure-rest-api-specs `specification/resources/resource-manager/Microsoft.Resources/subscriptions/stable/
  2022-12-01/subscriptions.json`, definitions `Subscription`, `SubscriptionListResult`; examples
  `…/2019-11-01/examples/GetSubscriptions.json`, `…/2021-01-01/examples/GetSubscription.json`). A live
  2022-12-01 list also carries `"count": {"type": "Total", "value": n}` (captured in public write-ups of
  `curl …/subscriptions?api-version=2022-12-01`); the spec does not declare it, clients ignore it.
  The subscriptions are those the emulator holds resource groups in. Azure lists only the subscriptions
  the caller has a role in; the emulator has no role assignments here, so every caller sees all.
  An unknown ID answers 404 `SubscriptionNotFound`, "The subscription '<id>' could not be found."
  (the body Resource Manager sends, as captured in public issue write-ups).
- `GET /subscriptions/{id}/providers[/{namespace}]`: the catalog providers.py builds from the specs
  (`world.providers`). An unknown namespace
  answers `InvalidResourceNamespace`, "The resource namespace '<ns>' is invalid." (the message Azure
  PowerShell shows for it); its status, 404, is not documented (inferred).
- Resource groups: GET/PUT of one (201 when new, 200 when it exists) and the subscription's list.

API versions: the Subscriptions API's stable folders (azure-rest-api-specs `specification/resources/
resource-manager/Microsoft.Resources/subscriptions/stable`) and, for resource groups and the providers API, the
versions Azure/bicep-types-az (commit 1f896de) lists for `Microsoft.Resources/resourceGroups` (see providers.py).
"""
from __future__ import annotations

from typing import Any

from ..errors import ArmError, rg_not_found
from ..names import PROVIDER_TYPE, RESOURCE_GROUP_TYPE, SUBSCRIPTION_TYPE
from ..spec import TypeSpec
from ..world import World
from .base import Reply, Req, body_dict

# What a subscription of the emulator says about itself (values from the spec examples' vocabulary).
_POLICIES = {"locationPlacementId": "Public_2014-09-01", "quotaId": "PayAsYouGo_2014-09-01", "spendingLimit": "Off"}


def _subscription_body(world: World, subscription: str) -> dict[str, Any]:
    return {"id": f"/subscriptions/{subscription}", "authorizationSource": "RoleBased", "managedByTenants": [],
            "subscriptionId": subscription, "tenantId": world.tenant_id,
            "displayName": f"Local emulator {subscription}", "state": "Enabled",
            "subscriptionPolicies": dict(_POLICIES)}


def _known(world: World, subscription: str) -> str | None:
    return next((s for s in world.store.subscriptions() if s.lower() == subscription.lower()), None)


def subscription_list(world: World, req: Req) -> Reply:
    subs = world.store.subscriptions()
    return Reply(200, {"value": [_subscription_body(world, s) for s in subs],
                       "count": {"type": "Total", "value": len(subs)}})


def subscription_get(world: World, req: Req) -> Reply:
    subscription = _known(world, req.arm.subscription)
    if subscription is None:
        raise ArmError(404, "SubscriptionNotFound", f"The subscription '{req.arm.subscription}' could not be found.")
    return Reply(200, _subscription_body(world, subscription))


def provider_list(world: World, req: Req) -> Reply:
    subscription_get(world, req)
    return Reply(200, {"value": [p.body(req.arm.subscription) for p in world.providers]})


def provider_get(world: World, req: Req) -> Reply:
    subscription_get(world, req)
    provider = next((p for p in world.providers if p.namespace.lower() == req.arm.names[0].lower()), None)
    if provider is None:
        raise ArmError(404, "InvalidResourceNamespace", f"The resource namespace '{req.arm.names[0]}' is invalid.")
    return Reply(200, provider.body(req.arm.subscription))


# -- resource groups --------------------------------------------------------------------------------------------
def _group_body(world: World, group_id: str) -> dict[str, Any]:
    return {"id": group_id, "name": group_id.rsplit("/", 1)[-1], "type": RESOURCE_GROUP_TYPE,
            "location": world.group_locations.get(group_id.lower(), "eastus"),
            "properties": {"provisioningState": "Succeeded"}}


def group_get(world: World, req: Req) -> Reply:
    if not world.store.has_group(req.arm.scope):
        raise rg_not_found(req.arm.resource_group or "")
    gid = next(g for g in world.store.groups(req.arm.subscription) if g.lower() == req.arm.scope.lower())
    return Reply(200, _group_body(world, gid))


def group_put(world: World, req: Req) -> Reply:
    body = body_dict(req)
    existed = world.store.has_group(req.arm.scope)
    world.store.add_group(req.arm.scope)
    world.group_locations[req.arm.scope.lower()] = body.get("location", "eastus")
    return Reply(200 if existed else 201, _group_body(world, req.arm.scope), {}, req.arm.scope)


def group_list(world: World, req: Req) -> Reply:
    return Reply(200, {"value": [_group_body(world, g) for g in world.store.groups(req.arm.subscription)]})


def seed_group(world: World, group: dict[str, Any]) -> None:
    world.store.add_group(group["id"])
    if group.get("location"):
        world.group_locations[group["id"].lower()] = group["location"]


# Subscriptions API: the stable folders of specification/resources/resource-manager/Microsoft.Resources/
# subscriptions/stable in azure-rest-api-specs.
SUBSCRIPTION_VERSIONS = ("2022-12-01", "2021-01-01", "2020-01-01", "2019-11-01", "2019-06-01", "2018-06-01",
                         "2016-06-01", "2015-11-01")
RESOURCE_GROUP_VERSIONS = ("2025-04-01", "2025-03-01", "2024-11-01", "2024-07-01", "2024-03-01", "2023-07-01",
                           "2022-09-01", "2021-04-01", "2021-01-01", "2020-10-01", "2020-08-01", "2020-06-01",
                           "2019-10-01", "2019-08-01", "2019-07-01", "2019-05-10", "2019-05-01", "2019-03-01",
                           "2018-05-01", "2018-02-01", "2017-05-10", "2016-09-01", "2016-07-01", "2016-02-01",
                           "2015-11-01")

SPECS = (
    TypeSpec(SUBSCRIPTION_TYPE, item={"GET": subscription_get}, collection={"GET": subscription_list},
             api_versions=SUBSCRIPTION_VERSIONS),
    TypeSpec(RESOURCE_GROUP_TYPE, item={"GET": group_get, "PUT": group_put}, collection={"GET": group_list},
             seed=seed_group, seed_order=0, action_type="Microsoft.Resources/subscriptions/resourceGroups",
             api_versions=RESOURCE_GROUP_VERSIONS, provider_names=("resourceGroups", "subscriptions/resourceGroups")),
    # A subscription's resource providers: served, not listed among the provider's own types.
    TypeSpec(PROVIDER_TYPE, item={"GET": provider_get}, collection={"GET": provider_list},
             action_type="Microsoft.Resources/subscriptions/providers", api_versions=RESOURCE_GROUP_VERSIONS,
             provider_names=()),
)
