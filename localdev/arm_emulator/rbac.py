"""The RBAC actions Resource Manager would authorize for a request: the request's own action, the scope it is
authorized at, and the linked checks a write makes on other resources it refers to (each type's
`TypeSpec.linked`, declared with its handlers and its evidence; registry.py puts them together).

- GET (a resource or a list) -> `<type>/read`; PUT/PATCH -> `<type>/write`; DELETE -> `<type>/delete`;
  POST -> `<type>/action`. Operation-status polls need no action of their own here (see authorization.py).
- Scope: a resource's own path; a collection GET is authorized at its URL without the last segment, so
  `/subscriptions/{s}/providers/Microsoft.Network/privateEndpoints` needs `privateEndpoints/read` at
  `/subscriptions/{s}/providers/Microsoft.Network`, which only an assignment at the subscription covers.
  Evidence, the scopes ARM names in its 403s for lists:
  `az network nsg list --resource-group rg` -> `Microsoft.Network/networkSecurityGroups/read` over scope
  `/subscriptions/{s}/resourceGroups/{rg}/providers/Microsoft.Network` (Azure/CloudShell#561, 2025);
  listing resource groups -> `Microsoft.Resources/subscriptions/resourcegroups/read` over scope
  `/subscriptions/{s}` (microsoft/vscode-cosmosdb#1090); listing a subscription's resources ->
  `Microsoft.Resources/subscriptions/resources/read` over scope `/subscriptions/{s}` (spinnaker/spinnaker.io#240).
- Not modelled (no evidence found): a linked check on the subnets named in an account's
  `networkAcls.virtualNetworkRules`, and the cross-tenant variant of LinkedAuthorizationFailed ("the current
  tenant ... is not authorized to access linked subscription ...").
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .ids import ArmPath, parse_path
from .operations import catalogue


@dataclass(frozen=True)
class LinkedCheck:
    """A linked authorization check a write makes on another resource it names (each type's `TypeSpec.linked`)."""

    action: str     # what is authorized on the linked resource
    scope: str      # the linked resource, as the request body names it
    shown_as: str   # how LinkedAuthorizationFailed names the action


_VERBS = {"GET": "read", "HEAD": "read", "PUT": "write", "PATCH": "write", "DELETE": "delete", "POST": "action"}


def primary_action(method: str, action_type: str) -> str | None:
    """`<type>/read|write|delete|action` for the request's method, naming the type as RBAC does."""
    verb = _VERBS.get(method.upper())
    return f"{action_type}/{verb}" if verb else None


def props(body: Any) -> dict[str, Any]:
    """A request body's `properties` (empty when absent or not an object)."""
    found = body.get("properties") if isinstance(body, dict) else None
    return found if isinstance(found, dict) else {}


def ref(value: Any) -> str | None:
    """The ARM ID in a `{"id": ...}` reference, if it is one."""
    found = value.get("id") if isinstance(value, dict) else None
    return found if isinstance(found, str) and parse_path(found) is not None else None


def request_scope(path: str, arm: ArmPath) -> str:
    """The scope a request is authorized at, spelt as in its URL (see the module docstring)."""
    trimmed = path.rstrip("/")
    return trimmed.rsplit("/", 1)[0] if arm.is_collection else trimmed


def approval_action(target: ArmPath) -> str | None:
    """`<type>/privateEndpointConnectionsApproval/action` as the target's provider publishes it, if it does."""
    return catalogue().published(f"{target.type}/privateEndpointConnectionsApproval/action")


def join_check(action: str, target: Any) -> list[LinkedCheck]:
    """A check of `action` (e.g. `…/join/action`) on `target`, when the body names a resource there."""
    return [LinkedCheck(action, target, action)] if isinstance(target, str) and parse_path(target) else []
