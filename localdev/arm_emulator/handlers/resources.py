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

import datetime as dt
from typing import Any
from urllib.parse import urlencode

from .. import ids
from ..errors import ArmError, rg_not_found
from ..ids import ArmPath
from ..names import PROVIDER_TYPE, RESOURCE_GROUP_TYPE, RESOURCES_TYPE, SUBSCRIPTION_TYPE
from ..resource_filter import Filter, parse
from ..spec import TypeSpec
from ..world import World
from .base import Reply, Req, body_dict, page_of

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
    """A subscription's resource groups, paged: `$top` is the page size and a nextLink follows a full page
    (Azure/azure-sdk-for-python#541: "even with `top=2`, you get the `nextLink` link to get another page";
    Azure/azure-sdk-for-java#1451); without `$top`, config.page_size (the default size is unevidenced)."""
    return page_of(world, req, world.store.groups(req.arm.subscription), lambda g: _group_body(world, g), top=True)


def seed_group(world: World, group: dict[str, Any]) -> None:
    world.store.add_group(group["id"])
    if group.get("location"):
        world.group_locations[group["id"].lower()] = group["location"]


# -- Resources - List -------------------------------------------------------------------------------------------
# `GET /subscriptions/{s}/resources` and `…/resourceGroups/{rg}/resources`, research notes §4-§5 (locks-limits):
# - items carry id, name, type, sku, kind, location, identity, managedBy, tags, and never `properties` ("This API
#   won't return any private properties of the resources", Azure/azure-sdk-for-python#1127); real items:
#   `{"id","name","type","location","tags"}` (a CTF write-up's Key Vault list) and `{"id","name","type","kind",
#   "location"}` without tags (grafana-cold-storage/azure-monitor-datasource#102). `$expand` adds createdTime,
#   changedTime, provisioningState (the SDK's docstring; unknown values are ignored here, their answer unevidenced).
# - tracked resources only (TypeSpec.tracked: the types with a location); a nested one is named `<parent>/<name>`
#   (the ARM convention for nested names; unevidenced for this list).
# - 1000 per page ("list resources in subscription is only returning 1000 items", Azure/azure-sdk-for-js#18535),
#   `$top` the page size (Azure/azure-sdk-for-python#541); `$top` over 1000: 400 InvalidTopInQueryString
#   (azure-sdk-for-js#18535; its message was not captured, the one here is the emulator's); with substringof()
#   `$top` is ignored (Azure/azure-rest-api-specs#6967). nextLink keeps the query with a `$skiptoken`
#   (projectkudu/AzureResourceExplorer#176).
# - RBAC: the list action at the scope (`Microsoft.Resources/subscriptions/resources/read` over `/subscriptions/{s}`:
#   microsoft/startstopv2-deployments#21), items the caller may not read left out (TypeSpec.filtered).
MAX_TOP = 1000
_EXPAND = {"createdtime": "createdTime", "changedtime": "changedTime", "provisioningstate": "provisioningState"}


def _list_action(arm: ArmPath) -> str:
    # The resource group list's action is the published `…/resourcegroups/resources/read` (no 403 quoted for it).
    return ("Microsoft.Resources/subscriptions/resourceGroups/resources" if arm.resource_group
            else "Microsoft.Resources/subscriptions/resources")


def _stamp(epoch: float) -> str:
    return dt.datetime.fromtimestamp(epoch, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f") + "Z"


def _row(world: World, r: dict[str, Any], expand: list[str], with_tags: bool) -> dict[str, Any]:
    p = ids.parse_path(r["id"])
    row: dict[str, Any] = {"id": r["id"], "name": "/".join(p.names) if p else r.get("name"), "type": r["type"]}
    for key in ("sku", "kind", "location", "identity", "managedBy", "tags"):
        if key in r and (with_tags or key != "tags"):
            row[key] = r[key]
    times = world.store.times(r["id"]) or (0.0, 0.0)
    for key in expand:
        if key == "provisioningState":
            row[key] = (world.catalog.render(world, r).get("properties") or {}).get("provisioningState")
        else:
            row[key] = _stamp(times[0] if key == "createdTime" else times[1])
    return row


def _top(req: Req, filtered: Filter | None) -> int:
    raw = req.query.get("$top")
    if raw in (None, "") or (filtered is not None and filtered.substring):
        return MAX_TOP
    try:
        top = int(str(raw))
    except ValueError:
        top = 0
    if not 1 <= top <= MAX_TOP:
        raise ArmError(400, "InvalidTopInQueryString",
                       f"The value '{raw}' of $top is invalid. It must be a number between '1' and '{MAX_TOP}'.")
    return top


def resource_list(world: World, req: Req) -> Reply:
    subscription_get(world, req)
    if req.arm.resource_group and not world.store.has_group(req.arm.scope):
        raise rg_not_found(req.arm.resource_group)
    raw_filter = req.query.get("$filter")
    filtered = parse(raw_filter) if raw_filter else None
    size = _top(req, filtered)
    expand = [_EXPAND[e.strip().lower()] for e in (req.query.get("$expand") or "").split(",")
              if e.strip().lower() in _EXPAND]
    rows = []
    for r in world.store.in_scope(req.arm.scope):
        spec = world.catalog.spec_of(r["type"])
        if spec is None or not spec.tracked:
            continue
        p = ids.parse_path(r["id"])
        if req.can is not None and p is not None and not req.can(f"{world.catalog.action_type(p)}/read", r["id"]):
            continue
        row = _row(world, r, expand, with_tags=True)
        row["resourceGroup"] = p.resource_group if p else None
        if filtered is None or filtered.matches(row):
            rows.append(row)
    try:   # the emulator's own token (an offset) comes back unchanged in nextLink
        offset = int(req.query.get("$skiptoken") or req.query.get("$skipToken") or 0)
    except ValueError:
        raise ArmError(400, "InvalidSkipToken", "The $skiptoken is invalid.") from None   # unevidenced
    page = [_row(world, world.store.raw(row["id"]) or row, expand, with_tags=not (filtered and filtered.by_tag))
            for row in rows[offset:offset + size]]
    body: dict[str, Any] = {"value": page}
    if offset + size < len(rows):
        query = {k: v for k, v in req.query.items() if k.lower() != "$skiptoken"}
        body["nextLink"] = f"{world.link_base}{req.path}?{urlencode({**query, '$skiptoken': offset + size})}"
    return Reply(200, body)


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
    TypeSpec(RESOURCES_TYPE, collection={"GET": resource_list}, action_type=_list_action,
             api_versions=RESOURCE_GROUP_VERSIONS, provider_names=(), filtered=True),
    # A subscription's resource providers: served, not listed among the provider's own types.
    TypeSpec(PROVIDER_TYPE, item={"GET": provider_get}, collection={"GET": provider_list},
             action_type="Microsoft.Resources/subscriptions/providers", api_versions=RESOURCE_GROUP_VERSIONS,
             provider_names=()),
)
