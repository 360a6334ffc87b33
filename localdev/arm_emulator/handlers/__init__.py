"""Route table: (resource type, collection?) -> {HTTP method: handler}, built from each provider module."""
from __future__ import annotations

from typing import Any

from ..errors import ArmError, rg_not_found
from ..world import World
from . import authorization, cognitive, locks, network, privatedns, resources
from .base import Handler, Reply, Req, body_dict, method_not_allowed

KNOWN_NAMESPACES = {"microsoft.cognitiveservices", "microsoft.network", "microsoft.resources", "microsoft.authorization"}
POLL_TYPES = {"microsoft.cognitiveservices/locations/operationresults", "microsoft.network/locations/operations",
              "microsoft.network/locations/operationresults", "microsoft.network/privatednsoperationstatuses",
              "microsoft.network/privatednsoperationresults"}


def _group_body(world: World, group_id: str) -> dict[str, Any]:
    return {"id": group_id, "name": group_id.rsplit("/", 1)[-1], "type": "Microsoft.Resources/resourceGroups",
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


ROUTES: dict[tuple[str, bool], dict[str, Handler]] = {
    ("microsoft.resources/resourcegroups", False): {"GET": group_get, "PUT": group_put},
    ("microsoft.resources/resourcegroups", True): {"GET": group_list},
}
for _mod in (authorization, cognitive, locks, network, privatedns, resources):
    ROUTES.update(_mod.ROUTES)


def lookup(req: Req) -> Handler:
    a = req.arm
    routes = ROUTES.get((a.type.lower(), a.is_collection))
    if routes is None:
        # ARM's own answers for an unknown namespace or type; wording as commonly quoted, not checked here.
        ns = (a.namespace or "Microsoft.Resources")
        if ns.lower() not in KNOWN_NAMESPACES:
            raise ArmError(404, "NoRegisteredProviderFound",
                           f"No registered resource provider found for location 'global' and API version "
                           f"'{req.api_version}' for type '{'/'.join(a.types)}' in namespace '{ns}'.")
        raise ArmError(404, "InvalidResourceType",
                       f"The resource type '{'/'.join(a.types)}' could not be found in the namespace '{ns}' "
                       f"for api version '{req.api_version}'.")
    handler = routes.get(req.method)
    if handler is None:
        raise method_not_allowed(req)
    return handler


def is_poll(req: Req) -> bool:
    return req.arm.type.lower() in POLL_TYPES


__all__ = ["Reply", "Req", "lookup", "is_poll", "ROUTES"]
