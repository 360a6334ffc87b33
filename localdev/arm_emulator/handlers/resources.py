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
- `GET /subscriptions/{id}/providers[/{namespace}]`: the catalog in `..providers`. An unknown namespace
  answers `InvalidResourceNamespace`, "The resource namespace '<ns>' is invalid." (the message Azure
  PowerShell shows for it); its status, 404, is not documented (inferred).
"""
from __future__ import annotations

from typing import Any

from .. import providers
from ..errors import ArmError
from ..world import World
from .base import Reply, Req

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
    return Reply(200, {"value": [p.body(req.arm.subscription) for p in providers.PROVIDERS]})


def provider_get(world: World, req: Req) -> Reply:
    subscription_get(world, req)
    provider = providers.find(req.arm.names[0])
    if provider is None:
        raise ArmError(404, "InvalidResourceNamespace", f"The resource namespace '{req.arm.names[0]}' is invalid.")
    return Reply(200, provider.body(req.arm.subscription))


ROUTES = {
    ("microsoft.resources/subscriptions", True): {"GET": subscription_list},
    ("microsoft.resources/subscriptions", False): {"GET": subscription_get},
    ("microsoft.resources/providers", True): {"GET": provider_list},
    ("microsoft.resources/providers", False): {"GET": provider_get},
}
