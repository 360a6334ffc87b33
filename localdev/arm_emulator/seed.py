"""Scenario loading: resources in any order, stored in dependency order with what Azure fills in.

Scenario JSON: {"resourceGroups": [id | {"id", "location"}], "resources": [resource, ...],
"roleDefinitions": [{"roleName", "actions", "notActions"?, "assignableScopes"?, "name"?}],
"roleAssignments": [{"principalId", "role" (GUID, role definition ID or name), "scope", "principalType"?}],
"locks": [{"id": "<scope>/providers/Microsoft.Authorization/locks/<name>", "properties": {"level", "notes"?}}]}
(a lock may also be listed among "resources").
Private endpoints get their connections, IPs and DNS configs; zone groups write their A records.
"""
from __future__ import annotations

import copy
import gc
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from . import ids
from .handlers import network, privatedns
from .locks import LOCK_TYPE, validate
from .world import ACCOUNT_TYPE, PEC_TYPE, World, account_etag, new_etag, pec_name

# Lower-case type -> order; unknown types go last and are stored as given.
_ORDER = {t.lower(): i for i, t in enumerate((
    "Microsoft.Resources/resourceGroups",
    "Microsoft.Network/virtualNetworks",
    "Microsoft.Network/virtualNetworks/subnets",
    "Microsoft.CognitiveServices/accounts",
    "Microsoft.CognitiveServices/accounts/privateEndpointConnections",
    "Microsoft.Network/privateDnsZones",
    "Microsoft.Network/privateDnsZones/virtualNetworkLinks",
    "Microsoft.Network/privateEndpoints",
    "Microsoft.Network/privateEndpoints/privateDnsZoneGroups",
    # After the zone groups that write them: a record set in a scenario is the record as it is now, say
    # after a person changed what a zone group wrote.
    "Microsoft.Network/privateDnsZones/A",
))}


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
            typed.append((_ORDER.get(ids.type_of(r["id"]).lower(), len(_ORDER)), r))
        typed.sort(key=lambda x: x[0])
        for _, r in typed:
            _seed_one(world, r)
        for d in scenario.get("roleDefinitions") or []:
            world.rbac.define(d["roleName"], d.get("actions") or (), d.get("notActions") or (),
                              data_actions=d.get("dataActions") or (), not_data_actions=d.get("notDataActions") or (),
                              assignable_scopes=d.get("assignableScopes") or ("/",),
                              description=d.get("description", ""), name=d.get("name"))
        for a in scenario.get("roleAssignments") or []:
            world.rbac.assign(a["principalId"], a["role"], a["scope"], name=a.get("name"),
                              principal_type=a.get("principalType", "ServicePrincipal"))
        for lock in scenario.get("locks") or []:
            _seed_lock(world, lock)
        return len(resources)


def _seed_one(world: World, r: dict[str, Any]) -> None:
    rtype = ids.type_of(r["id"]).lower()
    p = ids.parse_path(r["id"])
    assert p is not None
    if rtype == "microsoft.resources/resourcegroups":
        world.store.add_group(r["id"])
        if r.get("location"):
            world.group_locations[r["id"].lower()] = r["location"]
    elif rtype == ACCOUNT_TYPE.lower():
        _seed_account(world, r)
    elif rtype == PEC_TYPE.lower():
        pec = copy.deepcopy(r)
        pec.setdefault("etag", account_etag())
        pec.setdefault("properties", {}).setdefault("provisioningState", "Succeeded")
        world.store.put_raw(pec)
    elif rtype == "microsoft.network/virtualnetworks":
        network.store_vnet(world, r)
    elif rtype == "microsoft.network/virtualnetworks/subnets":
        network.store_subnet(world, ids.parent_id(r["id"]) or "", {**r, "name": p.name})
    elif rtype == "microsoft.network/privatednszones":
        privatedns.store_zone(world, r["id"], r)
        if r.get("etag"):
            world.store.raw(r["id"])["etag"] = r["etag"]
    elif rtype == "microsoft.network/privatednszones/virtualnetworklinks":
        zone = world.store.raw(ids.parent_id(r["id"]) or "")
        if zone is None:
            raise ValueError(f"link {r['id']}: zone not in scenario")
        privatedns.store_link(world, zone, p.name, r, seeded=True)
    elif rtype.startswith("microsoft.network/privatednszones/"):
        rec = copy.deepcopy(r)
        zone_name = p.names[0].lower()
        rec["name"] = p.name.lower()
        rec.setdefault("etag", new_etag())
        props = rec.setdefault("properties", {})
        props.setdefault("ttl", 3600)
        props["fqdn"] = f"{zone_name}." if p.name == "@" else f"{p.name.lower()}.{zone_name}."
        props.setdefault("isAutoRegistered", False)
        world.store.put_raw(rec)
    elif rtype == LOCK_TYPE.lower():
        _seed_lock(world, r)
    elif rtype == "microsoft.network/privateendpoints":
        pe, _ = network.apply_private_endpoint(world, r["id"], r, check_state=False)
        _apply_seeded_states(world, pe, r)
    elif rtype == "microsoft.network/privateendpoints/privatednszonegroups":
        pe = world.store.raw(ids.parent_id(r["id"]) or "")
        if pe is None:
            raise ValueError(f"zone group {r['id']}: private endpoint not in scenario")
        network.apply_zone_group(world, pe, p.name, r)
    else:
        world.store.put_raw(copy.deepcopy(r))


def _seed_lock(world: World, lock: dict[str, Any]) -> None:
    level, notes, owners = validate(lock["id"].rstrip("/").rsplit("/", 1)[-1], lock)
    world.locks.put(lock["id"], level, notes, owners)


def _seed_account(world: World, r: dict[str, Any]) -> None:
    props = dict(r.get("properties") or {})
    pecs = props.pop("privateEndpointConnections", None) or []
    props.pop("endpoint", None)
    props.setdefault("provisioningState", "Succeeded")
    account = {"id": r["id"], "name": ids.parse_path(r["id"]).name, "type": ACCOUNT_TYPE,
               "location": r.get("location", "eastus"), "kind": r.get("kind", "OpenAI"),
               "sku": r.get("sku") or {"name": "S0"}, "etag": r.get("etag") or account_etag(),
               "properties": copy.deepcopy(props)}
    for key in ("tags", "identity", "systemData"):
        if key in r:
            account[key] = copy.deepcopy(r[key])
    world.store.put_raw(account)
    for pec in pecs:   # connections from endpoints outside the scenario (e.g. another tenant's)
        pec = copy.deepcopy(pec)
        pec["id"] = pec.get("id") or f"{r['id']}/privateEndpointConnections/{pec['name']}"
        pec.setdefault("etag", account_etag())
        pec.setdefault("properties", {}).setdefault("provisioningState", "Succeeded")
        world.store.put_raw(pec)


def _apply_seeded_states(world: World, pe: dict[str, Any], r: dict[str, Any]) -> None:
    """A seeded connection may state its provider-side status (e.g. Pending, Rejected)."""
    props = r.get("properties") or {}
    for key in ("privateLinkServiceConnections", "manualPrivateLinkServiceConnections"):
        for i, c in enumerate(props.get(key) or []):
            state = (c.get("properties") or {}).get("privateLinkServiceConnectionState")
            if not state:
                continue
            name = c.get("name") or (pe["name"] if i == 0 else f"{pe['name']}-{i}")
            target = world.store.raw(c["properties"]["privateLinkServiceId"])
            pec = world.store.raw(f"{target['id']}/privateEndpointConnections/{pec_name(pe['id'], name)}")
            if pec is not None:
                pec["properties"]["privateLinkServiceConnectionState"] = {
                    "status": state.get("status", "Pending"), "description": state.get("description", ""),
                    "actionsRequired": state.get("actionsRequired", "None")}
