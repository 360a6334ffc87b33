"""`TYPES`: every resource type the emulator serves, from the `SPECS` each provider module declares next to its
handlers. Routing, seeding, rendering, RBAC, the provider metadata (providers.py) and the canonical casing of types
(ids.py) all read it; nothing else names a type's parts. See README.md, "Adding a resource type"."""
from __future__ import annotations

import copy
from typing import Any

from . import ids, rbac
from .errors import ArmError, invalid_api_version, no_registered_provider
from .handlers import authorization, cognitive, locks, network, privatedns, resources
from .handlers.base import Handler, method_not_allowed
from .ids import ArmPath
from .messages import Req
from .rbac import LinkedCheck
from .spec import TypeSpec
from .world import World

# Provider modules, in the order the provider metadata lists their namespaces and types.
MODULES = (cognitive, network, privatedns, resources, authorization, locks)


def _gather() -> dict[str, TypeSpec]:
    types: dict[str, TypeSpec] = {}
    for module in MODULES:
        for spec in module.SPECS:
            if spec.type.lower() in types:
                raise ValueError(f"two specs for {spec.type}")
            types[spec.type.lower()] = spec
    return types


TYPES: dict[str, TypeSpec] = _gather()
ids.register_types(spec.type for spec in TYPES.values())
NAMESPACES = {spec.namespace.lower() for spec in TYPES.values()}
UNKNOWN_ORDER = 1000   # seeding: types without a spec go after every known type


def spec_of(type_: str) -> TypeSpec | None:
    return TYPES.get(type_.lower())


# -- routing ------------------------------------------------------------------------------------------------------
def lookup(req: Req) -> Handler:
    """The handler for a request, or ARM's own answer for a type or method nobody serves."""
    a = req.arm
    spec = spec_of(a.type)
    routes = (spec.collection if a.is_collection else spec.item) if spec is not None else None
    if not routes:
        # ARM's own answers for an unknown namespace or type; wording as commonly quoted, not checked here.
        ns = a.namespace or "Microsoft.Resources"
        if ns.lower() not in NAMESPACES:
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


# Resource Manager's own endpoints answer a wrong api-version themselves (errors.invalid_api_version); the
# Authorization ones count among them (the role assignment sample there). Locks by analogy (unevidenced).
ARM_NAMESPACES = {"microsoft.resources", "microsoft.authorization"}


def check_api_version(world: World, req: Req) -> None:
    """Refuse an api-version the type's spec does not list, with the code Azure answers for its kind of path."""
    spec = spec_of(req.arm.type)
    version = req.api_version or ""
    if spec is None or not spec.api_versions or version.lower() in {v.lower() for v in spec.api_versions}:
        return
    if spec.namespace.lower() in ARM_NAMESPACES:
        raise invalid_api_version(version, spec.api_versions)
    locations = tuple(loc.replace(" ", "").lower() for loc in spec.locations)
    raise no_registered_provider(location_of(world, req), version, req.arm.types[-1], spec.api_versions, locations)


def location_of(world: World, req: Req) -> str:
    """The location the refusal names: the body's, the resource's, its resource group's, else the first served."""
    body_location = req.body.get("location") if isinstance(req.body, dict) else None
    stored = world.store.raw(req.arm.resource_id) if not req.arm.is_collection else None
    if "locations" in [t.lower() for t in req.arm.types] and req.arm.names:
        return req.arm.names[0].lower()
    found = body_location or (stored or {}).get("location") or world.group_locations.get(req.arm.scope.lower())
    return str(found or "global").replace(" ", "").lower()


def is_poll(req: Req) -> bool:
    spec = spec_of(req.arm.type)
    return spec is not None and spec.poll


# -- RBAC ---------------------------------------------------------------------------------------------------------
def action_type(arm: ArmPath) -> str:
    spec = spec_of(arm.type)
    if spec is None or spec.action_type is None:
        return arm.type
    return spec.action_type(arm) if callable(spec.action_type) else spec.action_type


def primary_action(method: str, arm: ArmPath) -> str | None:
    return rbac.primary_action(method, action_type(arm))


def linked_checks(method: str, arm: ArmPath, body: Any) -> list[LinkedCheck]:
    """The linked authorization checks a PUT of a resource makes, in the order its body names them."""
    if method.upper() != "PUT" or arm.is_collection:
        return []
    spec = spec_of(arm.type)
    return spec.linked(rbac.props(body)) if spec is not None and spec.linked else []


# -- rendering and seeding ----------------------------------------------------------------------------------------
def render(world: World, resource: dict[str, Any]) -> dict[str, Any]:
    """A stored resource as a GET shows it."""
    spec = spec_of(resource["type"])
    if spec is not None and spec.render is not None:
        return spec.render(world, resource)
    return copy.deepcopy(resource)


def seed_order(type_: str) -> int:
    spec = spec_of(type_)
    return spec.seed_order if spec is not None and spec.seed_order is not None else UNKNOWN_ORDER


def seed_one(world: World, resource: dict[str, Any]) -> None:
    """Store one scenario resource the way its type says (as given when it has no seeding of its own)."""
    spec = spec_of(ids.type_of(resource["id"]))
    if spec is not None and spec.seed is not None:
        spec.seed(world, resource)
    else:
        world.store.put_raw(copy.deepcopy(resource))
