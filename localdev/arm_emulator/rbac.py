"""The RBAC actions Resource Manager would authorize for a request: the request's own action, plus the
linked checks it makes on other resources that a write references.

- GET (a resource or a list) -> `<type>/read`; PUT/PATCH -> `<type>/write`; DELETE -> `<type>/delete`;
  POST -> `<type>/action`. Operation-status polls need no action of their own.
- Linked checks (Azure authorizes them on the referenced resource, not on the one being written):
  - a private endpoint: `Microsoft.Network/virtualNetworks/subnets/join/action` on its subnet, and for each
    auto-approved connection (`privateLinkServiceConnections`, not the manual ones)
    `<target type>/privateEndpointConnectionsApproval/action` on the target resource;
  - a private DNS zone group: `Microsoft.Network/privateDnsZones/join/action` on each zone it names;
  - a private DNS zone virtual network link: `Microsoft.Network/virtualNetworks/join/action` on the VNet.
"""
from __future__ import annotations

from typing import Any

from .ids import ArmPath, parse_path

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


def linked_actions(method: str, arm: ArmPath, body: Any) -> list[tuple[str, str]]:
    """(action, resource ID it is checked on) for each linked authorization check a write makes."""
    if method.upper() != "PUT" or arm.is_collection:
        return []
    kind = arm.type.lower()
    props = _props(body)
    linked: list[tuple[str, str]] = []
    if kind == "microsoft.network/privateendpoints":
        if subnet := _ref(props.get("subnet")):
            linked.append(("Microsoft.Network/virtualNetworks/subnets/join/action", subnet))
        for connection in props.get("privateLinkServiceConnections") or []:
            target = _props(connection).get("privateLinkServiceId")
            target_path = parse_path(target) if isinstance(target, str) else None
            if target_path is not None and target_path.namespace is not None:
                linked.append((f"{action_type(target_path)}/privateEndpointConnectionsApproval/action", target))
    elif kind == "microsoft.network/privateendpoints/privatednszonegroups":
        for config in props.get("privateDnsZoneConfigs") or []:
            zone = _props(config).get("privateDnsZoneId")
            if isinstance(zone, str) and parse_path(zone) is not None:
                linked.append(("Microsoft.Network/privateDnsZones/join/action", zone))
    elif kind == "microsoft.network/privatednszones/virtualnetworklinks":
        if vnet := _ref(props.get("virtualNetwork")):
            linked.append(("Microsoft.Network/virtualNetworks/join/action", vnet))
    return linked
