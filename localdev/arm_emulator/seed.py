"""Scenario loading: resources in any order, stored in dependency order with what Azure fills in.

Scenario JSON: {"resourceGroups": [id | {"id", "location"}], "resources": [resource, ...],
"roleDefinitions": [{"roleName", "actions", "notActions"?, "assignableScopes"?, "name"?}],
"roleAssignments": [{"principalId", "role" (GUID, role definition ID or name), "scope", "principalType"?}],
"locks": [{"id": "<scope>/providers/Microsoft.Authorization/locks/<name>", "properties": {"level", "notes"?}}]}
(a lock may also be listed among "resources").
Resources are stored the way their type's spec says (`TypeSpec.seed`, in `seed_order`): private endpoints get
their connections, IPs and DNS configs; zone groups write their A records; a type without a spec is stored as given.
"""
from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from . import ids, registry
from .handlers.locks import seed_lock
from .world import World


@contextmanager
def _long_lived() -> Iterator[None]:
    """Seeded resources are plain dicts, lists and strings that live as long as the world: no cycles to
    collect. With the collector on, each full collection while seeding scans every object seeded so far,
    so seeding 100,000 accounts cost half again as much per account as 10,000 (twice the CPU in all)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def seed(world: World, scenario: dict[str, Any]) -> int:
    """Load a scenario into the world; returns the number of resources given."""
    with world.lock, _long_lived():
        for g in scenario.get("resourceGroups") or []:
            gid = g if isinstance(g, str) else g["id"]
            world.store.add_group(gid)
            if isinstance(g, dict) and g.get("location"):
                world.group_locations[gid.lower()] = g["location"]
        resources = list(scenario.get("resources") or [])
        typed = []
        for r in resources:
            if "id" not in r:
                raise ValueError(f"scenario resource without id: {r!r}")
            typed.append((registry.seed_order(ids.type_of(r["id"])), r))
        typed.sort(key=lambda x: x[0])   # dependency order (each spec's seed_order); stable within a type
        for _, r in typed:
            registry.seed_one(world, r)
        for d in scenario.get("roleDefinitions") or []:
            world.rbac.define(d["roleName"], d.get("actions") or (), d.get("notActions") or (),
                              data_actions=d.get("dataActions") or (), not_data_actions=d.get("notDataActions") or (),
                              assignable_scopes=d.get("assignableScopes") or ("/",),
                              description=d.get("description", ""), name=d.get("name"))
        for a in scenario.get("roleAssignments") or []:
            world.rbac.assign(a["principalId"], a["role"], a["scope"], name=a.get("name"),
                              principal_type=a.get("principalType", "ServicePrincipal"))
        for lock in scenario.get("locks") or []:
            seed_lock(world, lock)
        return len(resources)
