"""Microsoft.Authorization/locks at subscription, resource group and resource scope (any extension scope).

PUT answers 201 when new and 200 on update, DELETE 200 (204 when there was none, Resource Manager's answer for
a delete of nothing: Azure/azure-rest-api-specs#921), GET 200; none is long-running (spec 2020-05-01,
`ManagementLocks_*`; evidence for the shapes in locks.py). Lists answer `{"value": [...]}` (the CLI recording
quoted in locks.py); `$filter=atScope()` keeps the locks at or above the URL's scope.
"""
from __future__ import annotations

from typing import Any

from ..errors import ArmError
from ..locks import lock_scope, validate
from ..names import LOCK_TYPE
from ..spec import TypeSpec
from ..world import World
from .base import Reply, Req, body_dict


def _lock_id(req: Req) -> str:
    """The lock's id as the request spells it (empty segments dropped, as Resource Manager reads them)."""
    return "/" + "/".join(s for s in req.path.split("/") if s)


def _not_found(req: Req) -> ArmError:
    # The code Resource Manager uses for a missing lock is unevidenced; its generic 404 wording here.
    return ArmError(404, "LockNotFound", f"The lock '{req.arm.name}' could not be found.")


def lock_get(world: World, req: Req) -> Reply:
    lock = world.locks.get(_lock_id(req))
    if lock is None:
        raise _not_found(req)
    return Reply(200, lock.to_arm())


def lock_put(world: World, req: Req) -> Reply:
    lock_id = _lock_id(req)
    level, notes, owners = validate(req.arm.name, body_dict(req))
    lock, created = world.locks.put(lock_id, level, notes, owners)
    return Reply(201 if created else 200, lock.to_arm(), {}, lock.id)


def lock_delete(world: World, req: Req) -> Reply:
    lock = world.locks.delete(_lock_id(req))
    return Reply(200, None, {}, lock.id) if lock is not None else Reply(204, None, {}, _lock_id(req))


def lock_list(world: World, req: Req) -> Reply:
    at_scope = "atscope()" in (req.query.get("$filter") or "").replace(" ", "").lower()
    locks = world.locks.listed(lock_scope(_lock_id(req)), at_scope_only=at_scope)
    return Reply(200, {"value": [lock.to_arm() for lock in locks]})


def seed_lock(world: World, lock: dict[str, Any]) -> None:
    level, notes, owners = validate(lock["id"].rstrip("/").rsplit("/", 1)[-1], lock)
    world.locks.put(lock["id"], level, notes, owners)


# The stable api-versions in azure-rest-api-specs `specification/resources/resource-manager/Microsoft.Authorization/
# locks/stable` (2020-05-01 the latest; the Azure CLI sends 2016-09-01).
VERSIONS = ("2020-05-01", "2017-04-01", "2016-09-01", "2015-01-01")

SPECS = (
    TypeSpec(LOCK_TYPE, item={"GET": lock_get, "PUT": lock_put, "DELETE": lock_delete},
             collection={"GET": lock_list}, seed=seed_lock, seed_order=100, api_versions=VERSIONS, provider_names=()),
)
