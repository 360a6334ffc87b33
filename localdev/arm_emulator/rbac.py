"""The RBAC actions Resource Manager would authorize for a request: the request's own action, the scope it is
authorized at, and the linked checks a write makes on other resources it refers to.

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
- Linked checks (authorized on the referenced resource, not on the one being written), each with its evidence:
  - a private endpoint: `Microsoft.Network/virtualNetworks/subnets/join/action` on its subnet. Learn, "Azure
    RBAC permissions for Azure Private Link" (articles/private-link/rbac-permissions.md): "Allow a private
    endpoint to join a virtual network"; MicrosoftDocs/azure-docs#116917: a role with subnets/join/action and
    no subnets/write creates endpoints.
  - a private endpoint, for each auto-approved connection (`privateLinkServiceConnections`; the manual ones
    need no right on the target), `<target type>/privateEndpointConnectionsApproval/action` on the target,
    where the target's provider publishes that action. Same Learn page, section "Approval RBAC for private
    endpoint": automatic approval needs `Microsoft.[ServiceProvider]/[resourceType]/privateEndpointConnectionsApproval/action`;
    MicrosoftDocs/azure-docs#96892 quotes the 403 of a `privateEndpoints/write` whose identity lacked it on an
    Automation account, naming the action `PrivateEndpointConnectionsApproval/action`. Where the target's
    provider publishes no such action, no linked check is made: what Azure checks then is not evidenced.
  - a private DNS zone group: `Microsoft.Network/privateDnsZones/join/action` on each zone it names.
    Azure/data-landing-zone#203 quotes the 403 (`privateDnsZoneGroups/write` lacking it on the zone);
    Azure/Azure-Landing-Zones#2942: join/action is what writing the zone's A record through a zone group takes
    (no `privateDnsZones/A/write`).
  - a private DNS zone virtual network link: `Microsoft.Network/virtualNetworks/join/action` on the VNet.
    Inferred, not captured: the built-in "Private DNS Zone Contributor" role (b12aa53e-6015-4669-85d0-8515ebb3ae7f,
    Learn built-in-roles) holds exactly `Microsoft.Network/virtualNetworks/join/action` beside its zone rights;
    no quoted 403 for a link was found.
  Not modelled (no evidence found): a linked check on the subnets named in an account's
  `networkAcls.virtualNetworkRules`, and the cross-tenant variant of LinkedAuthorizationFailed ("the current
  tenant ... is not authorized to access linked subscription ...").
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .ids import ArmPath, parse_path
from .operations import catalogue

# Types whose RBAC action name differs from the URL's type.
_ACTION_TYPES = {
    "microsoft.resources/resourcegroups": "Microsoft.Resources/subscriptions/resourceGroups",
    "microsoft.resources/providers": "Microsoft.Resources/subscriptions/providers",
}
_VERBS = {"GET": "read", "HEAD": "read", "PUT": "write", "PATCH": "write", "DELETE": "delete", "POST": "action"}


def action_type(arm: ArmPath) -> str:
    return _ACTION_TYPES.get(arm.type.lower(), arm.type)


def primary_action(method: str, arm: ArmPath) -> str | None:
    verb = _VERBS.get(method.upper())
    return f"{action_type(arm)}/{verb}" if verb else None


def _props(body: Any) -> dict[str, Any]:
    props = body.get("properties") if isinstance(body, dict) else None
    return props if isinstance(props, dict) else {}


def _ref(value: Any) -> str | None:
    ref = value.get("id") if isinstance(value, dict) else None
    return ref if isinstance(ref, str) and parse_path(ref) is not None else None


@dataclass(frozen=True)
class LinkedCheck:
    action: str     # what is authorized on the linked resource
    scope: str      # the linked resource, as the request body names it
    shown_as: str   # how LinkedAuthorizationFailed names the action


def request_scope(path: str, arm: ArmPath) -> str:
    """The scope a request is authorized at, spelt as in its URL (see the module docstring)."""
    trimmed = path.rstrip("/")
    return trimmed.rsplit("/", 1)[0] if arm.is_collection else trimmed


def approval_action(target: ArmPath) -> str | None:
    """`<type>/privateEndpointConnectionsApproval/action` as the target's provider publishes it, if it does."""
    return catalogue().published(f"{action_type(target)}/privateEndpointConnectionsApproval/action")


def linked_checks(method: str, arm: ArmPath, body: Any) -> list[LinkedCheck]:
    """The linked authorization checks a write makes, in the order the body names them."""
    if method.upper() != "PUT" or arm.is_collection:
        return []
    kind = arm.type.lower()
    props = _props(body)
    checks: list[LinkedCheck] = []
    if kind == "microsoft.network/privateendpoints":
        if subnet := _ref(props.get("subnet")):
            action = "Microsoft.Network/virtualNetworks/subnets/join/action"
            checks.append(LinkedCheck(action, subnet, action))
        for connection in props.get("privateLinkServiceConnections") or []:
            target = _props(connection).get("privateLinkServiceId")
            if not isinstance(target, str):
                continue
            target_path = parse_path(target)
            if target_path is None or target_path.namespace is None or target_path.is_collection:
                continue
            if approval := approval_action(target_path):
                checks.append(LinkedCheck(approval, target, "PrivateEndpointConnectionsApproval/action"))
    elif kind == "microsoft.network/privateendpoints/privatednszonegroups":
        for config in props.get("privateDnsZoneConfigs") or []:
            zone = _props(config).get("privateDnsZoneId")
            if isinstance(zone, str) and parse_path(zone) is not None:
                action = "Microsoft.Network/privateDnsZones/join/action"
                checks.append(LinkedCheck(action, zone, action))
    elif kind == "microsoft.network/privatednszones/virtualnetworklinks":
        if vnet := _ref(props.get("virtualNetwork")):
            action = "Microsoft.Network/virtualNetworks/join/action"
            checks.append(LinkedCheck(action, vnet, action))
    return checks


def linked_actions(method: str, arm: ArmPath, body: Any) -> list[tuple[str, str]]:
    """(action, resource ID it is checked on) for each linked authorization check a write makes."""
    return [(check.action, check.scope) for check in linked_checks(method, arm, body)]
