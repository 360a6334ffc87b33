"""Microsoft.Network/privateDnsZones: zones, virtual network links, record sets, operations."""
from __future__ import annotations

import copy
import ipaddress
from collections.abc import Callable
from typing import Any

from .. import ids, rbac
from ..errors import (
    ArmError,
    bad_request,
    link_duplicate,
    link_exists,
    link_identity_in_use,
    link_limit,
    link_overlapping_namespace,
    location_not_available,
    not_found,
    parent_not_found,
    record_set_limit,
    zone_exists,
)
from ..names import LINK_TYPE, ZONE_TYPE
from ..rbac import LinkedCheck
from ..spec import TypeSpec
from ..world import World, new_etag
from .base import (
    Reply,
    Req,
    body_dict,
    children_list,
    dns_operation_headers,
    op_api,
    operation_result,
    page_of,
    paged,
    private_dns_status,
    require_group,
)

RECORD_TYPES = {"a": "A", "aaaa": "AAAA", "cname": "CNAME", "txt": "TXT", "soa": "SOA"}
# The SOA record set every new zone gets at `@`, as production rendered it (Azure/azure-cli recording
# test_ListRecordSetsAcrossType_DefaultRecordSetPresent_ExpectDefaultRecordSetRetrieved.yaml @9227cdd7, 26 Apr 2021:
# the zone's only record set, `numberOfRecordSets: 1` on the new zone).
SOA_RECORD = {"email": "azureprivatedns-host.microsoft.com", "expireTime": 2419200, "host": "azureprivatedns.net",
              "minimumTtl": 10, "refreshTime": 3600, "retryTime": 300, "serialNumber": 1}


def _check_location(body: dict[str, Any], resource_type: str) -> None:
    """Private DNS zones and links exist in 'global' only; ARM refuses any other location itself."""
    loc = body.get("location")
    if loc is None or str(loc).lower() != "global":
        raise location_not_available(loc, resource_type)


def _strip_etag(value: str) -> str:
    v = value.strip()
    if v.startswith("W/"):
        v = v[2:]
    return v.strip('"')


def _create_only_fails(req: Req, existing: dict[str, Any] | None) -> bool:
    inm = req.header("If-None-Match")
    return inm is not None and inm.strip() == "*" and existing is not None


def _preconditions(req: Req, existing: dict[str, Any] | None, label: str) -> None:
    """If-None-Match: * (create only) and If-Match: <etag>|* (update only / optimistic concurrency).

    Azure reports a failed If-None-Match: * on a zone or link through the PUT's operation (see
    errors.zone_exists); the emulator does so when it answers DNS writes as Azure does (dns_lro "aao",
    handled by the callers) and answers 412 at once in its "sync" shortcut. The If-Match answers are
    unevidenced."""
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


def _dns_write_reply(world: World, req: Req, resource_id: str, created: bool,
                     render: Callable[[dict[str, Any]], dict[str, Any]], key: str) -> Reply:
    """Answer a zone/link PUT: 202 `{}` + RG-scoped operation URLs as Azure does (config.dns_lro "aao"; Azure/azure-cli
    privatedns recordings), or the emulator's shortcut of 201/200 with the body at once ("sync")."""
    if world.config.dns_lro == "aao":
        def result() -> dict[str, Any] | None:
            stored = world.store.raw(resource_id)
            return render(stored) if stored else None

        op = world.start_operation(resource_id, key, result=result)
        return Reply(202, {}, dns_operation_headers(world, req.arm.scope, op.id, op_api(req)), resource_id, lro=key)
    stored = world.store.raw(resource_id)
    assert stored is not None   # the caller has just written it
    return Reply(201 if created else 200, render(stored), {}, resource_id)


def _dns_write_failure(world: World, req: Req, resource_id: str, error: dict[str, str], key: str,
                       busy: bool = False) -> Reply:
    """A zone/link PUT Azure accepts (202) and whose operation then ends Failed with `error`. `busy`: the
    resource exists meanwhile (and reads Updating until the operation ends); otherwise nothing is written.

    The answer carries no resource ID, so no write event is emitted for it (Azure's own event for a failed
    operation is a ResourceWriteFailure, which nothing here consumes)."""
    op = world.start_operation(resource_id, key, fail=error, busy=busy)
    return Reply(202, {}, dns_operation_headers(world, req.arm.scope, op.id, op_api(req)), lro=key)


# -- zones ---------------------------------------------------------------------------------------------
def render_zone(world: World, zone: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(zone)
    links = world.store.children(zone["id"], LINK_TYPE)
    props = out.setdefault("properties", {})
    props.update({"maxNumberOfRecordSets": world.config.dns_max_record_sets,
                  "numberOfRecordSets": world.zone_record_sets(zone["id"]),
                  "maxNumberOfVirtualNetworkLinks": world.config.dns_max_links,
                  "numberOfVirtualNetworkLinks": len(links),
                  "maxNumberOfVirtualNetworkLinksWithRegistration": 100,
                  "numberOfVirtualNetworkLinksWithRegistration":
                      sum(1 for link in links if (link.get("properties") or {}).get("registrationEnabled")),
                  "provisioningState": "Succeeded" if world.ops.running(zone["id"]) is None else "Updating"})
    props.setdefault("internalId", f"Microsoft.Network/privateDnsZones/{zone['name']}")
    return out


def store_zone(world: World, zone_id: str, body: dict[str, Any]) -> dict[str, Any]:
    existing = world.store.raw(zone_id)
    zone: dict[str, Any] = {"id": existing["id"] if existing else zone_id, "name": zone_id.rsplit("/", 1)[-1].lower(),
            "type": ZONE_TYPE, "location": "global", "etag": new_etag(), "properties": {}}
    tags = body.get("tags", (existing or {}).get("tags"))
    if tags is not None:
        zone["tags"] = copy.deepcopy(tags)
    stored = world.store.put_raw(zone)
    if existing is None:
        world.store.put_raw({"id": f"{stored['id']}/SOA/@", "name": "@", "type": f"{ZONE_TYPE}/SOA", "etag": new_etag(),
                             "properties": {"fqdn": f"{stored['name']}.", "ttl": 3600,
                                            "soaRecord": dict(SOA_RECORD), "isAutoRegistered": False}})
    return stored


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
    _check_location(body, ZONE_TYPE)
    existing = world.store.raw(req.arm.resource_id)
    if world.config.dns_lro == "aao" and _create_only_fails(req, existing):
        return _dns_write_failure(world, req, req.arm.resource_id, zone_exists(req.arm.name), "privateDnsZone/write")
    _preconditions(req, existing, f"{ZONE_TYPE}/{req.arm.name}")
    zone = store_zone(world, req.arm.resource_id, body)
    return _dns_write_reply(world, req, zone["id"], existing is None, lambda z: render_zone(world, z),
                            "privateDnsZone/write")


def zone_delete(world: World, req: Req) -> Reply:
    require_group(world, req)
    zone = world.store.raw(req.arm.resource_id)
    if zone is None:
        return Reply(204, None, {}, req.arm.resource_id)
    links = world.store.children(zone["id"], LINK_TYPE)
    if links:
        # Resource Manager's own refusal: learntocloud/networking-lab#8 (409 CannotDeleteResource "Cannot delete
        # resource while nested resources exist. Some existing nested resource IDs include: 'Microsoft.Network/
        # privateDnsZones/internal.local/virtualNetworkLinks/LabVNetLink'. Please delete all nested resources before
        # deleting this resource."); Azure/azure-cli#15010 the same. Several links: each quoted, ", " between them
        # (unevidenced).
        named = ", ".join(f"'{ZONE_TYPE}/{zone['name']}/virtualNetworkLinks/{link['name']}'" for link in links)
        raise ArmError(409, "CannotDeleteResource",
                       "Cannot delete resource while nested resources exist. Some existing nested resource IDs "
                       f"include: {named}. Please delete all nested resources before deleting this resource.")
    _preconditions(req, zone, f"{ZONE_TYPE}/{req.arm.name}")
    world.store.delete_raw(zone["id"])
    return Reply(200, None, {}, zone["id"])


def zone_list(world: World, req: Req) -> Reply:
    require_group(world, req)
    return paged(world, req, ZONE_TYPE, req.arm.scope, lambda z: render_zone(world, z), top=True)


# -- virtual network links -----------------------------------------------------------------------------
def render_link(world: World, link: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(link)
    if world.ops.running(link["id"]) is not None:
        out["properties"].update({"provisioningState": "Updating", "virtualNetworkLinkState": "InProgress"})
    return out


def _vnet_of_link(body: dict[str, Any]) -> str:
    vnet_id = ((body.get("properties") or {}).get("virtualNetwork") or {}).get("id")
    if not vnet_id:  # code and text unevidenced
        raise bad_request("properties.virtualNetwork.id is required.", "BadRequest")
    return str(vnet_id)


def link_conflict(world: World, zone: dict[str, Any], link_id: str, vnet_id: str) -> dict[str, str] | None:
    """The error a link's operation fails with, if the VNet is already linked to this zone by another link
    (Conflict) or to another zone of the same name (BadRequest, "overlapping namespaces"); see errors.py.
    Overlaps of different names (a parent and a child domain) are not modelled."""
    for other in world.store.children(zone["id"], LINK_TYPE):
        if other["id"].lower() != link_id.lower() and \
                other["properties"]["virtualNetwork"]["id"].lower() == vnet_id.lower():
            return link_duplicate(zone["name"], other["properties"]["virtualNetwork"]["id"])
    for zone_key in world.store.ids(type=ZONE_TYPE):
        same_name = world.store.raw(zone_key)
        if same_name is None or same_name["id"].lower() == zone["id"].lower() or \
                same_name["name"].lower() != zone["name"].lower():
            continue
        if any(link["properties"]["virtualNetwork"]["id"].lower() == vnet_id.lower()
               for link in world.store.children(same_name["id"], LINK_TYPE)):
            return link_overlapping_namespace(zone["name"])
    return None


def store_link(world: World, zone: dict[str, Any], name: str, body: dict[str, Any], *,
               failed: bool = False, seeded: bool = False) -> dict[str, Any]:
    """Store a link as a PUT (or a scenario, `seeded`: its stated provisioningState is kept) makes it.
    `failed`: its operation failed (EmulatorConfig.failed_link_vnets): provisioningState Failed, and
    virtualNetworkLinkState InProgress (what Azure shows for the state of a failed link is unevidenced)."""
    props = body.get("properties") or {}
    vnet_id = _vnet_of_link(body)
    link_id = f"{zone['id']}/virtualNetworkLinks/{name}"
    existing = world.store.raw(link_id)
    state, link_state = ("Failed", "InProgress") if failed else ("Succeeded", "Completed")
    if seeded and props.get("provisioningState"):
        state = str(props["provisioningState"])
        link_state = str(props.get("virtualNetworkLinkState")
                         or ("Completed" if state == "Succeeded" else "InProgress"))
    link = {"id": existing["id"] if existing else link_id, "name": name, "type": LINK_TYPE, "location": "global",
            "etag": new_etag(),
            "properties": {"virtualNetwork": {"id": vnet_id},
                           "registrationEnabled": bool(props.get("registrationEnabled", False)),
                           "resolutionPolicy": props.get("resolutionPolicy", "Default"),
                           "virtualNetworkLinkState": link_state, "provisioningState": state}}
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
    _check_location(body, LINK_TYPE)
    link_id = f"{zone['id']}/virtualNetworkLinks/{req.arm.names[-1]}"
    existing = world.store.raw(link_id)
    key = "virtualNetworkLink/write"
    if world.config.dns_lro == "aao" and _create_only_fails(req, existing):
        return _dns_write_failure(world, req, link_id, link_exists(req.arm.names[-1], zone["name"]), key)
    _preconditions(req, existing, f"{LINK_TYPE}/{zone['name']}/{req.arm.names[-1]}")
    vnet_id = _vnet_of_link(body)
    if world.store.raw(vnet_id) is None:
        # Azure/azure-cli#23351: "(BadRequest) Virtual network resource not found for '<vnet id>'"; the body is
        # Private DNS's unwrapped one (Azure/azure-rest-api-specs#31176) and the status 400 presumed from the code.
        raise ArmError(400, "BadRequest", f"Virtual network resource not found for '{vnet_id}'", wrapped=False)
    conflict = link_conflict(world, zone, link_id, vnet_id)
    if conflict is not None:   # Azure accepts the PUT and fails its operation, whatever dns_lro says
        return _dns_write_failure(world, req, link_id, conflict, key)
    if existing is None and len(world.store.children(zone["id"], LINK_TYPE)) >= world.config.dns_max_links:
        return _dns_write_failure(world, req, link_id, link_limit(zone["name"], world.config.dns_max_links), key)
    if vnet_id.lower() in {v.lower() for v in world.config.failed_link_vnets}:
        link = store_link(world, zone, req.arm.names[-1], body, failed=True)
        return _dns_write_failure(world, req, link["id"], link_identity_in_use(vnet_id), key, busy=True)
    link = store_link(world, zone, req.arm.names[-1], body)
    return _dns_write_reply(world, req, link["id"], existing is None, lambda stored: render_link(world, stored), key)


def link_delete(world: World, req: Req) -> Reply:
    zone = _zone(world, req, parent=True)
    link = world.store.raw(f"{zone['id']}/virtualNetworkLinks/{req.arm.names[-1]}")
    if link is None:
        return Reply(204, None, {}, req.arm.resource_id)
    world.store.delete_raw(link["id"])
    return Reply(200, None, {}, link["id"])


def link_list(world: World, req: Req) -> Reply:
    zone = _zone(world, req, parent=True)
    return children_list(world, req, zone, LINK_TYPE, lambda stored: render_link(world, stored), page=True,
                         top=True)


# -- record sets (synchronous) -------------------------------------------------------------------------
def _record_type(req: Req) -> str:
    rtype = RECORD_TYPES.get(req.arm.types[-1].lower())
    if rtype is None:
        raise bad_request(f"Record type '{req.arm.types[-1]}' is not supported by the emulator.", "BadRequest")
    return rtype


# The key that holds each record type's data, and the check of one entry (RFC 4291/791 text forms).
RECORD_DATA = {"A": "aRecords", "AAAA": "aaaaRecords", "CNAME": "cnameRecord", "TXT": "txtRecords",
               "SOA": "soaRecord"}
# "Records per record set for private DNS zones: 20" (MicrosoftDocs/azure-docs includes/dns-limits.md); the
# emulator's limit is EmulatorConfig.dns_max_records.
MAX_RECORDS = 20


def _check_address(entry: Any, key: str, version: int) -> None:
    value = entry.get(key) if isinstance(entry, dict) else None
    try:
        ok = isinstance(value, str) and ipaddress.ip_address(value).version == version
    except ValueError:
        ok = False
    if not ok:  # code and text unevidenced
        raise bad_request(f"The record data '{value}' is not a valid IPv{version} address ({key}).", "BadRequest")


def _record_data(rtype: str, props: dict[str, Any], max_records: int = MAX_RECORDS) -> tuple[str, Any] | None:
    """The record set's data (its type's key and value), validated; None when the body has none."""
    key = RECORD_DATA[rtype]
    if key not in props or props[key] is None:
        return None
    data = props[key]
    if rtype == "SOA":
        if not isinstance(data, dict):
            raise bad_request("The soaRecord must be an object.", "BadRequest")   # code and text unevidenced
        return key, {**SOA_RECORD, **copy.deepcopy(data)}
    if rtype == "CNAME":
        if not isinstance(data, dict) or not isinstance(data.get("cname"), str) or not data["cname"].strip("."):
            raise bad_request("The cnameRecord needs a 'cname'.", "BadRequest")  # code and text unevidenced
        return key, {"cname": data["cname"]}
    if not isinstance(data, list):
        raise bad_request(f"'{key}' must be an array.", "BadRequest")
    if len(data) > max_records:
        # hashicorp/terraform-provider-azurerm#12406: more than 20 records in a private DNS A record set is
        # answered 409 with no error body ("StatusCode=409 -- Original Error: … Status=<nil> <nil>").
        raise ArmError(409, "", "", empty=True)
    for entry in data:
        if rtype in ("A", "AAAA"):
            _check_address(entry, "ipv4Address" if rtype == "A" else "ipv6Address", 4 if rtype == "A" else 6)
    return key, copy.deepcopy(data)


def render_record_set(rec: dict[str, Any]) -> dict[str, Any]:
    """A record set as Azure renders it: `fqdn` with its trailing dot, `isAutoRegistered`, the etag a bare GUID,
    `metadata` only when set (Azure/azure-powershell PrivateDns recording TestRecordSetA.json @26cd6621)."""
    return copy.deepcopy(rec)


def _etag_header(rec: dict[str, Any]) -> dict[str, str]:
    return {"ETag": str(rec.get("etag", ""))}   # unquoted, as the recording above sends it


def record_get(world: World, req: Req) -> Reply:
    zone = _zone(world, req, parent=True)
    rtype = _record_type(req)
    rec = world.store.raw(f"{zone['id']}/{rtype}/{req.arm.names[-1]}")
    if rec is None:
        raise not_found(f"{ZONE_TYPE}/{rtype}", f"{zone['name']}/{req.arm.names[-1]}", req.arm.resource_group)
    return Reply(200, render_record_set(rec), _etag_header(rec))


def record_set(zone: dict[str, Any], rtype: str, name: str, props: dict[str, Any],
               max_records: int = MAX_RECORDS) -> dict[str, Any]:
    """A record set built from a PUT's (or a scenario's) properties, in Azure's key order."""
    fqdn = f"{zone['name']}." if name == "@" else f"{name}.{zone['name']}."
    out: dict[str, Any] = {}
    if props.get("metadata"):
        out["metadata"] = copy.deepcopy(props["metadata"])
    out.update({"fqdn": fqdn, "ttl": props.get("ttl", 3600)})
    data = _record_data(rtype, props, max_records)
    if data is not None:
        out[data[0]] = data[1]
    for key, value in props.items():   # other record data kept as sent (MX, SRV, ... are not modelled)
        if key not in out and key not in ("metadata", "fqdn", "isAutoRegistered", "ttl"):
            out[key] = copy.deepcopy(value)
    out["isAutoRegistered"] = False
    return {"id": f"{zone['id']}/{rtype}/{name}", "name": name, "type": f"{ZONE_TYPE}/{rtype}",
            "etag": new_etag(), "properties": out}


def record_put(world: World, req: Req) -> Reply:
    zone = _zone(world, req, parent=True)
    rtype = _record_type(req)
    body = body_dict(req)
    name = req.arm.names[-1].lower()
    rid = f"{zone['id']}/{rtype}/{name}"
    existing = world.store.raw(rid)
    if rtype == "SOA" and name != "@":   # a zone has one SOA record set, at its apex (code and text unevidenced)
        raise ArmError(400, "BadRequest", "Record sets of type 'SOA' can only be at '@'.", wrapped=False)
    _preconditions(req, existing, f"{ZONE_TYPE}/{rtype}/{zone['name']}/{name}")
    props: dict[str, Any] = body["properties"] if isinstance(body.get("properties"), dict) else {}
    rec = record_set(zone, rtype, name, props, world.config.dns_max_records)
    if existing is None and world.zone_record_sets(zone["id"]) >= world.config.dns_max_record_sets:
        raise record_set_limit(zone["name"], world.config.dns_max_record_sets)
    rec = world.store.put_raw(rec)
    return Reply(200 if existing else 201, render_record_set(rec), _etag_header(rec), rid)


def record_delete(world: World, req: Req) -> Reply:
    zone = _zone(world, req, parent=True)
    rtype = _record_type(req)
    rec = world.store.raw(f"{zone['id']}/{rtype}/{req.arm.names[-1]}")
    if rec is None:
        return Reply(204, None, {}, req.arm.resource_id)
    if rtype == "SOA":
        # PS recording TestRecordSetSOA.json @1c76d853: 400, the body not wrapped in "error".
        raise ArmError(400, "BadRequest", "Record sets of type 'SOA' with name '@' cannot be deleted.", wrapped=False)
    _preconditions(req, rec, rec["id"])
    world.store.delete_raw(rec["id"])
    return Reply(200, None, {}, rec["id"])


def record_patch(world: World, req: Req) -> Reply:
    """An update of the keys sent (metadata, ttl, the type's records), 200 with the record set (Azure/azure-cli
    recording test_CrudRecordSet_AAAARecord_ExpectCrudSuccessful.yaml @1e4829c3: PATCH `{"properties":
    {"metadata": {...}, "ttl": 3600, "aaaaRecords": [...]}}` answered 200 with the merged record set)."""
    zone = _zone(world, req, parent=True)
    rtype = _record_type(req)
    name = req.arm.names[-1].lower()
    rec = world.store.raw(f"{zone['id']}/{rtype}/{name}")
    if rec is None:
        raise not_found(f"{ZONE_TYPE}/{rtype}", f"{zone['name']}/{name}", req.arm.resource_group)
    _preconditions(req, rec, rec["id"])
    sent = body_dict(req).get("properties")
    props = {**rec["properties"], **(sent if isinstance(sent, dict) else {})}
    updated = record_set(zone, rtype, name, props, world.config.dns_max_records)
    updated["id"] = rec["id"]
    world.store.put_raw(updated)
    return Reply(200, render_record_set(updated), _etag_header(updated), rec["id"])


def record_list(world: World, req: Req) -> Reply:
    zone = _zone(world, req, parent=True)
    last = req.arm.types[-1].lower()
    # One record type, or every child but the zone's links (ALL / recordsets), from the store's snapshot of
    # the list (kept until the store changes), so paging through a zone of 100,000 records stays linear.
    type_ = f"{ZONE_TYPE}/{last}" if last in RECORD_TYPES else None
    items = world.store.children(zone["id"], type_, exclude_type=None if type_ else LINK_TYPE)
    return page_of(world, req, items, render_record_set, top=True)


# -- seeding ---------------------------------------------------------------------------------------------------
def seed_zone(world: World, r: dict[str, Any]) -> None:
    zone = store_zone(world, r["id"], r)
    if r.get("etag"):
        zone["etag"] = r["etag"]


def seed_link(world: World, r: dict[str, Any]) -> None:
    zone = world.store.raw(ids.parent_id(r["id"]) or "")
    if zone is None:
        raise ValueError(f"link {r['id']}: zone not in scenario")
    store_link(world, zone, r["id"].rstrip("/").rsplit("/", 1)[-1], r, seeded=True)


def seed_record(world: World, r: dict[str, Any]) -> None:
    """A record set as a scenario states it (stored as given, say after a person changed what a zone group wrote;
    not validated, so a scenario can hold what Azure would refuse)."""
    p = ids.parse_path(r["id"])
    assert p is not None
    rec = copy.deepcopy(r)
    rec["name"] = p.name.lower()
    rec.setdefault("etag", new_etag())
    props = rec.setdefault("properties", {})
    props.setdefault("ttl", 3600)
    props["fqdn"] = f"{p.names[0].lower()}." if p.name == "@" else f"{p.name.lower()}.{p.names[0].lower()}."
    props.setdefault("isAutoRegistered", False)
    world.store.put_raw(rec)


# -- linked authorization checks (rbac.py) ---------------------------------------------------------------------
def link_linked(props: dict[str, Any]) -> list[LinkedCheck]:
    """A virtual network link's PUT: `Microsoft.Network/virtualNetworks/join/action` on the VNet. Inferred, not
    captured: the built-in "Private DNS Zone Contributor" role (b12aa53e-6015-4669-85d0-8515ebb3ae7f, Learn
    built-in-roles) holds exactly `Microsoft.Network/virtualNetworks/join/action` beside its zone rights; no
    quoted 403 for a link was found."""
    return rbac.join_check("Microsoft.Network/virtualNetworks/join/action", rbac.ref(props.get("virtualNetwork")))


# API versions: those Azure/bicep-types-az (commit 1f896de) lists for privateDnsZones and their children.
VERSIONS = ("2024-06-01", "2020-06-01", "2020-01-01", "2018-09-01")
GLOBAL = ("global",)   # private DNS zones and links exist in 'global' only


def _record_spec(rtype: str) -> TypeSpec:
    """One record type's spec. Only A is listed in the provider metadata (what the emulator has always listed)."""
    return TypeSpec(f"{ZONE_TYPE}/{rtype}", item={"GET": record_get, "PUT": record_put, "PATCH": record_patch,
                                                  "DELETE": record_delete},
                    collection={"GET": record_list}, render=lambda world, r: render_record_set(r), seed=seed_record,
                    seed_order=90, provider_names=None if rtype == "A" else (), api_versions=VERSIONS, locations=GLOBAL)


SPECS = (
    TypeSpec(ZONE_TYPE, item={"GET": zone_get, "PUT": zone_put, "DELETE": zone_delete},
             collection={"GET": zone_list}, render=render_zone, seed=seed_zone, seed_order=50,
             durations=("privateDnsZone/write",), api_versions=VERSIONS, locations=GLOBAL, tracked=True),
    TypeSpec(LINK_TYPE, item={"GET": link_get, "PUT": link_put, "DELETE": link_delete},
             collection={"GET": link_list}, render=render_link, seed=seed_link, seed_order=60, linked=link_linked,
             durations=("virtualNetworkLink/write",), api_versions=VERSIONS, locations=GLOBAL, tracked=True),
    *(_record_spec(rtype) for rtype in RECORD_TYPES.values()),
    # Every record set of a zone: `ALL` (the SDK's path) and `recordsets` (the Azure CLI's).
    TypeSpec(f"{ZONE_TYPE}/ALL", collection={"GET": record_list}, provider_names=(), api_versions=VERSIONS,
             locations=GLOBAL),
    TypeSpec(f"{ZONE_TYPE}/recordsets", collection={"GET": record_list}, provider_names=(),
             api_versions=VERSIONS, locations=GLOBAL),
    TypeSpec("Microsoft.Network/privateDnsOperationStatuses", item={"GET": private_dns_status}, provider_names=(),
             poll=True, api_versions=VERSIONS, locations=GLOBAL),
    TypeSpec("Microsoft.Network/privateDnsOperationResults", item={"GET": operation_result}, provider_names=(),
             poll=True, api_versions=VERSIONS, locations=GLOBAL),
)
