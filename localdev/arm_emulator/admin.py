"""Admin API under /_emulator/ (no auth, loopback only, never in the request log)."""
from __future__ import annotations

from typing import Any

from .errors import ArmError
from .faults import Fault
from .messages import Reply
from .protocols import Emulator


def _err(status: int, message: str) -> Reply:
    return Reply(status, {"error": {"code": "BadRequest" if status == 400 else "NotFound", "message": message}})


def handle_admin(emu: Emulator, method: str, path: str, query: dict[str, str], body: Any) -> Reply:
    route = path[len("/_emulator/"):].strip("/").lower()
    try:
        if route == "requests" and method == "GET":
            return Reply(200, {"value": [r.to_dict() for r in emu.requests]})
        if route == "requests" and method == "DELETE":
            emu.clear_requests()
            return Reply(204)
        if route == "seed" and method == "POST":
            return Reply(200, {"resources": emu.seed(body or {})})
        if route == "reset" and method == "POST":
            emu.reset()
            return Reply(204)
        if route == "faults" and method == "POST":
            emu.add_fault(Fault.from_dict(body or {}))
            return Reply(201, {"faults": [f.to_dict() for f in emu.faults.list()]})
        if route == "faults" and method == "GET":
            return Reply(200, {"value": [f.to_dict() for f in emu.faults.list()]})
        if route == "faults" and method == "DELETE":
            emu.faults.clear()
            return Reply(204)
        if route == "resources" and method == "GET":
            return Reply(200, {"value": emu.resources(query.get("type"))})
        if route == "identity" and method == "GET":
            return Reply(200, {**emu.app_identity.to_dict(), "identity_endpoint": emu.identity_endpoint,
                               "identity_header": emu.identity_header, "url": emu.url, "ca_path": emu.ca_path,
                               "operator": emu.operator_identity.to_dict()})
        if route == "token" and method == "POST":
            b = body or {}
            token = emu.user_token(name=b.get("name", "Dana Admin"), upn=b.get("upn", "dana@contoso.example"),
                                   object_id=b.get("object_id"))
            return Reply(200, {"access_token": token, "token_type": "Bearer"})
        if route.startswith("rbac"):
            return _rbac(emu, method, route, body or {})
        if route == "config" and method == "GET":
            return Reply(200, emu.config.to_dict())
        if route == "config" and method in ("POST", "PATCH"):
            emu.config.update(body or {})
            return Reply(200, emu.config.to_dict())
    except ArmError as e:
        return Reply(e.status, e.body())
    except (TypeError, ValueError, KeyError) as e:
        return _err(400, str(e))
    return _err(404, f"No admin route {method} {path}")


def _rbac(emu: Emulator, method: str, route: str, body: dict[str, Any]) -> Reply:
    """Seeding roles without going through Resource Manager's own API (and its authorization):
    POST rbac/roledefinitions {roleName, actions, notActions?, dataActions?, notDataActions?, assignableScopes?,
    description?, name?}; POST rbac/roleassignments {principalId, role (GUID, ID or name), scope, name?,
    principalType?}; GET rbac lists both; DELETE rbac removes custom roles and every assignment."""
    rbac = emu.rbac
    if route == "rbac" and method == "GET":
        return Reply(200, {"roleDefinitions": [r.to_arm() for r in rbac.definitions()],
                           "roleAssignments": [a.to_arm() for a in rbac.assignments()]})
    if route == "rbac" and method == "DELETE":
        rbac.clear()
        return Reply(204)
    if route == "rbac/roledefinitions" and method == "POST":
        role = rbac.define(body["roleName"], body.get("actions") or (), body.get("notActions") or (),
                           data_actions=body.get("dataActions") or (),
                           not_data_actions=body.get("notDataActions") or (),
                           assignable_scopes=body.get("assignableScopes") or ("/",),
                           description=body.get("description", ""), name=body.get("name"))
        return Reply(201, role.to_arm())
    if route == "rbac/roleassignments" and method == "POST":
        made = rbac.assign(body["principalId"], body["role"], body["scope"], name=body.get("name"),
                           principal_type=body.get("principalType", "ServicePrincipal"))
        return Reply(201, made.to_arm())
    return _err(404, f"No admin route {method} /_emulator/{route}")
