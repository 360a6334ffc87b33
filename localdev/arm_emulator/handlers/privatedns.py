"""Microsoft.Network/privateDnsZones: zones, virtual network links, record sets, operations."""
from __future__ import annotations

import copy
from typing import Any

from ..errors import ArmError, bad_request, not_found, parent_not_found
from ..world import LINK_TYPE, ZONE_TYPE, World, new_etag
from .base import (Reply, Req, body_dict, children_list, op_api, operation_result, operation_status, paged,
                   require_group)

RECORD_TYPES = {"a": "A", "aaaa": "AAAA", "cname": "CNAME", "txt": "TXT"}


def _check_location(body: dict[str, Any]) -> None:
    loc = body.get("location")
    if loc is None or str(loc).lower() != "global":
        raise ArmError(400, "InvalidLocation",
                       f"The location '{loc}' is not valid for this resource type. Private DNS resources "
                       "must use location 'global'.")


def _strip_etag(value: str) -> str:
    v = value.strip()
    if v.startswith("W/"):
        v = v[2:]
    return v.strip('"')


def _preconditions(req: Req, existing: dict[str, Any] | None, label: str) -> None:
    """If-None-Match: * (create only) and If-Match: <etag>|* (update only / optimistic concurrency)."""
    inm, im = req.header("If-None-Match"), req.header("If-Match")
    if inm and inm.strip() == "*" and existing is not None:
        raise ArmError(412, "PreconditionFailed",
                       f"The Resource '{label}' under resource group '{req.arm.resource_group}' already exists.")
    if im:
        if existing is None:
            raise ArmError(412, "PreconditionFailed",
                           f"The Resource '{label}' under resource group '{req.arm.resource_group}' does not exist.")
        if im.strip() != "*" and _strip_etag(im) != _strip_etag(str(existing.get("etag", ""))):
            raise ArmError(412, "PreconditionFailed",
                           f"The etag '{im}' does not match the current etag of resource '{label}'.")


def _dns_write_reply(world: World, req: Req, resource_id: str, created: bool, render) -> Reply:
    """Answer a zone/link PUT: 201/200 with the body, or 202 + RG-scoped operation URLs (config.dns_lro)."""
    if world.config.dns_lro == "aao":
        op = world.ops.start(resource_id, world.config.lro_polls, transitional_state="Updating",
                             result=lambda: render(world.store.raw(resource_id)) if world.store.raw(resource_id) else None)
        base = f"{world.base_url}{req.arm.scope}/providers/Microsoft.Network"
        api = op_api(req)
        return Reply(202, None, {"Location": f"{base}/privateDnsOperationResults/{op.id}?api-version={api}",
                                 "Azure-AsyncOperation": f"{base}/privateDnsOperationStatuses/{op.id}?api-version={api}"},
                     resource_id)
    return Reply(201 if created else 200, render(world.store.raw(resource_id)), {}, resource_id)


# -- zones ---------------------------------------------------------------------------------------------
def render_zone(world: World, zone: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(zone)
    links = world.store.children(zone["id"], LINK_TYPE)
    records = world.store.children(zone["id"], exclude_type=LINK_TYPE)
    props = out.setdefault("properties", {})
    props.update({"maxNumberOfRecordSets": 25000, "numberOfRecordSets": 1 + len(records),
                  "maxNumberOfVirtualNetworkLinks": 1000, "numberOfVirtualNetworkLinks": len(links),
                  "maxNumberOfVirtualNetworkLinksWithRegistration": 100,
                  "numberOfVirtualNetworkLinksWithRegistration":
                      sum(1 for l in links if (l.get("properties") or {}).get("registrationEnabled")),
                  "provisioningState": "Succeeded" if world.ops.running(zone["id"]) is None else "Updating"})
    props.setdefault("internalId", f"Microsoft.Network/privateDnsZones/{zone['name']}")
    return out


def store_zone(world: World, zone_id: str, body: dict[str, Any]) -> dict[str, Any]:
    existing = world.store.raw(zone_id)
    zone = {"id": existing["id"] if existing else zone_id, "name": zone_id.rsplit("/", 1)[-1].lower(),
            "type": ZONE_TYPE, "location": "global", "etag": new_etag(), "properties": {}}
    tags = body.get("tags", (existing or {}).get("tags"))
    if tags is not None:
        zone["tags"] = copy.deepcopy(tags)
    return world.store.put_raw(zone)


def _zone(world: World, req: Req, parent: bool = False) -> dict[str, Any]:
    a = req.arm
    require_group(world, req)
    zone = world.store.raw(f"{a.scope}/providers/{a.namespace}/{a.types[0]}/{a.names[0]}")
    if zone is None:
        if parent:
            raise parent_not_found(ZONE_TYPE, a.names[0], a.resource_group)
        raise not_found(ZONE_TYPE, a.names[0], a.resource_group)
    return zone


def zone_get(world: World, req: Req) -> Reply:
    return Reply(200, render_zone(world, _zone(world, req)))


def zone_put(world: World, req: Req) -> Reply:
    require_group(world, req)
    body = body_dict(req)
    _check_location(body)
    existing = world.store.raw(req.arm.resource_id)
    _preconditions(req, existing, f"{ZONE_TYPE}/{req.arm.name}")
    zone = store_zone(world, req.arm.resource_id, body)
    return _dns_write_reply(world, req, zone["id"], existing is None, lambda z: render_zone(world, z))


def zone_delete(world: World, req: Req) -> Reply:
    require_group(world, req)
    zone = world.store.raw(req.arm.resource_id)
    if zone is None:
        return Reply(204, None, {}, req.arm.resource_id)
    _preconditions(req, zone, f"{ZONE_TYPE}/{req.arm.name}")
    world.store.delete_raw(zone["id"])
    return Reply(200, None, {}, zone["id"])


def zone_list(world: World, req: Req) -> Reply:
    require_group(world, req)
    return paged(world, req, ZONE_TYPE, req.arm.scope, lambda z: render_zone(world, z))


# -- virtual network links -----------------------------------------------------------------------------
def render_link(world: World, link: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(link)
    if world.ops.running(link["id"]) is not None:
        out["properties"].update({"provisioningState": "Updating", "virtualNetworkLinkState": "InProgress"})
    return out


def store_link(world: World, zone: dict[str, Any], name: str, body: dict[str, Any]) -> dict[str, Any]:
    props = body.get("properties") or {}
    vnet_id = (props.get("virtualNetwork") or {}).get("id")
    if not vnet_id:
        raise bad_request("properties.virtualNetwork.id is required.", "BadRequest")
    link_id = f"{zone['id']}/virtualNetworkLinks/{name}"
    for other in world.store.children(zone["id"], LINK_TYPE):
        if other["id"].lower() != link_id.lower() and \
                other["properties"]["virtualNetwork"]["id"].lower() == vnet_id.lower():
            raise bad_request(f"A virtual network cannot be linked to the same Private DNS zone more than once. "
                              f"Virtual network {vnet_id} is already linked by {other['name']}.", "BadRequest")
    existing = world.store.raw(link_id)
    link = {"id": existing["id"] if existing else link_id, "name": name, "type": LINK_TYPE, "location": "global",
            "etag": new_etag(),
            "properties": {"virtualNetwork": {"id": vnet_id},
                           "registrationEnabled": bool(props.get("registrationEnabled", False)),
                           "resolutionPolicy": props.get("resolutionPolicy", "Default"),
                           "virtualNetworkLinkState": "Completed", "provisioningState": "Succeeded"}}
    if "tags" in body:
        link["tags"] = copy.deepcopy(body["tags"])
    return world.store.put_raw(link)


def link_get(world: World, req: Req) -> Reply:
    zone = _zone(world, req, parent=True)
    link = world.store.raw(f"{zone['id']}/virtualNetworkLinks/{req.arm.names[-1]}")
    if link is None:
        raise not_found(LINK_TYPE, f"{zone['name']}/{req.arm.names[-1]}", req.arm.resource_group)
    return Reply(200, render_link(world, link))


def link_put(world: World, req: Req) -> Reply:
    zone = _zone(world, req, parent=True)
    body = body_dict(req)
    _check_location(body)
    existing = world.store.raw(f"{zone['id']}/virtualNetworkLinks/{req.arm.names[-1]}")
    _preconditions(req, existing, f"{LINK_TYPE}/{zone['name']}/{req.arm.names[-1]}")
    link = store_link(world, zone, req.arm.names[-1], body)
    return _dns_write_reply(world, req, link["id"], existing is None, lambda l: render_link(world, l))


def link_delete(world: World, req: Req) -> Reply:
    zone = _zone(world, req, parent=True)
    link = world.store.raw(f"{zone['id']}/virtualNetworkLinks/{req.arm.names[-1]}")
    if link is None:
        return Reply(204, None, {}, req.arm.resource_id)
    world.store.delete_raw(link["id"])
    return Reply(200, None, {}, link["id"])


def link_list(world: World, req: Req) -> Reply:
    zone = _zone(world, req, parent=True)
    return children_list(world, req, zone, LINK_TYPE, lambda l: render_link(world, l), page=True)


# -- record sets (synchronous) -------------------------------------------------------------------------
def _record_type(req: Req) -> str:
    rtype = RECORD_TYPES.get(req.arm.types[-1].lower())
    if rtype is None:
        raise bad_request(f"Record type '{req.arm.types[-1]}' is not supported by the emulator.", "BadRequest")
    return rtype


def record_get(world: World, req: Req) -> Reply:
    zone = _zone(world, req, parent=True)
    rtype = _record_type(req)
    rec = world.store.raw(f"{zone['id']}/{rtype}/{req.arm.names[-1]}")
    if rec is None:
        raise not_found(f"{ZONE_TYPE}/{rtype}", f"{zone['name']}/{req.arm.names[-1]}", req.arm.resource_group)
    return Reply(200, copy.deepcopy(rec))


def record_put(world: World, req: Req) -> Reply:
    zone = _zone(world, req, parent=True)
    rtype = _record_type(req)
    body = body_dict(req)
    name = req.arm.names[-1].lower()
    rid = f"{zone['id']}/{rtype}/{name}"
    existing = world.store.raw(rid)
    _preconditions(req, existing, f"{ZONE_TYPE}/{rtype}/{zone['name']}/{name}")
    props = copy.deepcopy(body.get("properties") or {})
    for ro in ("fqdn", "isAutoRegistered"):
        props.pop(ro, None)
    if rtype == "A":
        for r in props.get("aRecords") or []:
            if not isinstance(r, dict) or not r.get("ipv4Address"):
                raise bad_request("Each aRecords entry needs an ipv4Address.", "BadRequest")
    fqdn = f"{zone['name']}." if name == "@" else f"{name}.{zone['name']}."
    rec = {"id": rid, "name": name, "type": f"{ZONE_TYPE}/{rtype}", "etag": new_etag(),
           "properties": {"ttl": props.pop("ttl", 3600), "fqdn": fqdn, "isAutoRegistered": False, **props}}
    world.store.put_raw(rec)
    return Reply(200 if existing else 201, copy.deepcopy(rec), {}, rid)


def record_delete(world: World, req: Req) -> Reply:
    zone = _zone(world, req, parent=True)
    rtype = _record_type(req)
    rec = world.store.raw(f"{zone['id']}/{rtype}/{req.arm.names[-1]}")
    if rec is None:
        return Reply(204, None, {}, req.arm.resource_id)
    _preconditions(req, rec, rec["id"])
    world.store.delete_raw(rec["id"])
    return Reply(200, None, {}, rec["id"])


def record_list(world: World, req: Req) -> Reply:
    zone = _zone(world, req, parent=True)
    last = req.arm.types[-1].lower()
    size = max(1, int(world.config.page_size))
    offset = int(req.query.get("$skipToken") or req.query.get("$skiptoken") or 0)
    # One record type, or every child but the zone's links (ALL / recordsets); a page reads the store's
    # snapshot of the list, so paging through a zone of 100,000 records stays linear.
    type_ = f"{ZONE_TYPE}/{last}" if last in RECORD_TYPES else None
    page, more = world.store.children_page(zone["id"], type_, offset, size,
                                           exclude_type=None if type_ else LINK_TYPE)
    body: dict[str, Any] = {"value": [copy.deepcopy(i) for i in page]}
    if more:
        body["nextLink"] = f"{world.base_url}{req.path}?api-version={op_api(req)}&$skipToken={offset + size}"
    return Reply(200, body)




_RECORD_ITEM = {"GET": record_get, "PUT": record_put, "DELETE": record_delete}
ROUTES = {
    ("microsoft.network/privatednszones", False): {"GET": zone_get, "PUT": zone_put, "DELETE": zone_delete},
    ("microsoft.network/privatednszones", True): {"GET": zone_list},
    ("microsoft.network/privatednszones/virtualnetworklinks", False): {
        "GET": link_get, "PUT": link_put, "DELETE": link_delete},
    ("microsoft.network/privatednszones/virtualnetworklinks", True): {"GET": link_list},
    ("microsoft.network/privatednszones/all", True): {"GET": record_list},
    ("microsoft.network/privatednszones/recordsets", True): {"GET": record_list},
    ("microsoft.network/privatednsoperationstatuses", False): {"GET": operation_status},
    ("microsoft.network/privatednsoperationresults", False): {"GET": operation_result},
}
for _t in RECORD_TYPES:
    ROUTES[(f"microsoft.network/privatednszones/{_t}", False)] = _RECORD_ITEM
    ROUTES[(f"microsoft.network/privatednszones/{_t}", True)] = {"GET": record_list}
