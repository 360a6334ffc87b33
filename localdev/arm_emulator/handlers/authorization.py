"""Microsoft.Authorization: role definitions and role assignments at subscription and resource group scope,
the way Bicep, az and the SDKs write them (api-version 2022-04-01 shapes).

PUT of a role definition answers 201 (azure-rest-api-specs, Microsoft.Authorization/stable/2022-04-01,
examples/PutRoleDefinition.json); PUT of a role assignment 201 when created, 200 when it already exists
(examples/RoleAssignments_CreateForResourceGroup.json). Role assignments on a resource (an extension scope such
as `<vnet id>/providers/Microsoft.Authorization/roleAssignments/<name>`) are not routed: make them through
`ArmEmulator.rbac.assign` or the admin API.
"""
from __future__ import annotations

import re

from ..authorization import Authorization, Permission, RoleDefinition, within
from ..errors import ArmError, bad_request
from ..names import ROLE_ASSIGNMENTS, ROLE_DEFINITIONS
from ..spec import TypeSpec
from ..world import World
from .base import Reply, Req, body_dict

_PROVIDER = re.compile(r"/providers/microsoft\.authorization/", re.IGNORECASE)
_ROLE_NAME = re.compile(r"roleName\s+eq\s+'([^']*)'", re.IGNORECASE)
_PRINCIPAL = re.compile(r"principalId\s+eq\s+'([^']*)'", re.IGNORECASE)


def _rbac(world: World) -> Authorization:
    return world.rbac


def _scope(req: Req) -> str:
    """The scope a Microsoft.Authorization URL is written at (the path before `/providers/Microsoft.Authorization`)."""
    return _PROVIDER.split(req.path, maxsplit=1)[0].rstrip("/")


# -- role definitions ------------------------------------------------------------------------------------
def _definition_not_found(name: str) -> ArmError:
    # Code as Resource Manager names it (JulianHayward/AzAPICall#23); the message wording is not evidenced.
    return ArmError(404, "RoleDefinitionDoesNotExist",
                    f"The specified role definition with ID '{name}' does not exist.")


def definition_get(world: World, req: Req) -> Reply:
    role = _rbac(world).role(req.arm.name)
    if role is None or role.name != req.arm.name.lower():
        raise _definition_not_found(req.arm.name)
    return Reply(200, role.to_arm(_scope(req)))


def definition_put(world: World, req: Req) -> Reply:
    props = body_dict(req).get("properties")
    if not isinstance(props, dict):
        raise bad_request("The request content was invalid and could not be deserialized: 'Missing properties.'")
    raw = props.get("permissions")
    if not isinstance(raw, list) or not raw:
        raise bad_request("The role definition must have at least one permission.", "InvalidRoleDefinition")
    permissions = tuple(Permission.from_arm(p) for p in raw)
    scopes = props.get("assignableScopes") or [_scope(req)]
    if not isinstance(scopes, list) or not all(isinstance(s, str) for s in scopes):
        raise bad_request("'assignableScopes' must be an array of strings.")
    role = _rbac(world).put_definition(req.arm.name, str(props.get("roleName") or ""), permissions, tuple(scopes),
                                       str(props.get("description") or ""), _scope(req))
    return Reply(201, role.to_arm(), {}, role.id)


def definition_delete(world: World, req: Req) -> Reply:
    role = _rbac(world).delete_definition(req.arm.name)
    return Reply(200, role.to_arm()) if role is not None else Reply(204)


def definition_list(world: World, req: Req) -> Reply:
    """Roles usable at the URL's scope; `$filter=roleName eq '<name>'` as az sends it."""
    scope = _scope(req)
    wanted = _ROLE_NAME.search(req.query.get("$filter") or "")
    roles: list[RoleDefinition] = [
        r for r in _rbac(world).definitions()
        if any(within(scope, s) or within(s, scope) for s in r.assignable_scopes)
        and (wanted is None or r.role_name.lower() == wanted.group(1).lower())]
    return Reply(200, {"value": [r.to_arm(scope if r.role_type == "BuiltInRole" else None) for r in roles]})


# -- role assignments ------------------------------------------------------------------------------------
def assignment_get(world: World, req: Req) -> Reply:
    found = _rbac(world).assignment(req.path)
    if found is None:
        # Code and wording not evidenced here.
        raise ArmError(404, "RoleAssignmentNotFound", f"The role assignment '{req.arm.name}' is not found.")
    return Reply(200, found.to_arm())


def assignment_put(world: World, req: Req) -> Reply:
    props = body_dict(req).get("properties")
    if not isinstance(props, dict) or not isinstance(props.get("roleDefinitionId"), str) \
            or not isinstance(props.get("principalId"), str):
        raise bad_request("The request was incorrectly formatted.", "BadRequestFormat")  # Azure/azure-cli#2458
    rbac = _rbac(world)
    existed = rbac.assignment(req.path) is not None
    made = rbac.assign(props["principalId"], props["roleDefinitionId"], _scope(req), name=req.arm.name,
                       principal_type=str(props.get("principalType") or "ServicePrincipal"))
    return Reply(200 if existed else 201, made.to_arm(), {}, made.id)


def assignment_delete(world: World, req: Req) -> Reply:
    gone = _rbac(world).unassign(req.path)
    return Reply(200, gone.to_arm()) if gone is not None else Reply(204)


def assignment_list(world: World, req: Req) -> Reply:
    """Assignments at, above and below the URL's scope; `atScope()` keeps those at or above it, and
    `principalId eq '<id>'` one principal's (the filters az sends)."""
    scope = _scope(req)
    query = req.query.get("$filter") or ""
    principal = _PRINCIPAL.search(query)
    at_scope = "atscope()" in query.lower()
    found = [a for a in _rbac(world).assignments(principal.group(1) if principal else None)
             if within(scope, a.scope) or (not at_scope and within(a.scope, scope))]
    return Reply(200, {"value": [a.to_arm() for a in found]})


# API versions: the folders of azure-rest-api-specs `specification/authorization/resource-manager/
# Microsoft.Authorization/{stable,preview}` that hold the type's calls (the folder listing read for this; further
# preview folders may exist: a version a client sends that is missing here is refused, so add it with its source).
ASSIGNMENT_VERSIONS = ("2022-04-01", "2022-03-01", "2020-10-01", "2018-05-01", "2018-01-01-preview",
                       "2017-10-01-preview", "2015-07-01")
DEFINITION_VERSIONS = ("2022-04-01", "2022-03-01", "2018-05-01", "2018-01-01-preview", "2017-10-01-preview",
                       "2015-07-01")

SPECS = (
    TypeSpec(ROLE_DEFINITIONS, item={"GET": definition_get, "PUT": definition_put, "DELETE": definition_delete},
             collection={"GET": definition_list}, api_versions=DEFINITION_VERSIONS, provider_names=()),
    TypeSpec(ROLE_ASSIGNMENTS, item={"GET": assignment_get, "PUT": assignment_put, "DELETE": assignment_delete},
             collection={"GET": assignment_list}, api_versions=ASSIGNMENT_VERSIONS, provider_names=()),
)
