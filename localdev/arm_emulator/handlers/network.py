"""Microsoft.Network: virtual networks and subnets, private endpoints, private DNS zone groups, operations."""
from __future__ import annotations

import copy
import uuid
from typing import Any

from .. import ids, rbac
from ..errors import ArmError, bad_request, more_than_one_zone_group, not_found, parent_not_found, record_set_limit
from ..lro import Operation
from ..names import ACCOUNT_TYPE, PE_TYPE, SUBNET_TYPE, VNET_TYPE, ZONE_GROUP_TYPE
from ..rbac import LinkedCheck
from ..spec import TypeSpec
from ..world import World, account_fqdns, pec_name
from .base import (
    Reply,
    Req,
    body_dict,
    children_list,
    op_api,
    operation_result,
    operation_status,
    paged,
    require,
    require_group,
)

MAX_ZONES_PER_GROUP = 5


def _etag() -> str:
    return f'W/"{uuid.uuid4()}"'


def _op_headers(world: World, req: Req, location: str, op: Operation, delete: bool = False) -> dict[str, str]:
    loc = str(location or "global").replace(" ", "").lower()
    base = f"{world.base_url}/subscriptions/{req.arm.subscription}/providers/Microsoft.Network/locations/{loc}"
    api = op_api(req)
    headers = {"Azure-AsyncOperation": f"{base}/operations/{op.id}?api-version={api}"}
    if delete:
        headers["Location"] = f"{base}/operationResults/{op.id}?api-version={api}"
    return headers


# -- virtual networks / subnets ------------------------------------------------------------------------
def render_vnet(world: World, vnet: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(vnet)
    subnets = world.store.children(vnet["id"], SUBNET_TYPE)
    out.setdefault("properties", {})["subnets"] = [copy.deepcopy(s) for s in subnets]
    return out


def store_subnet(world: World, vnet_id: str, subnet: dict[str, Any]) -> dict[str, Any]:
    sid = f"{vnet_id}/subnets/{subnet['name']}"
    props = {"provisioningState": "Succeeded", "privateEndpointNetworkPolicies": "Disabled",
             "privateLinkServiceNetworkPolicies": "Enabled", **copy.deepcopy(subnet.get("properties") or {})}
    return world.store.put_raw({"id": sid, "name": subnet["name"], "type": SUBNET_TYPE, "etag": _etag(),
                                "properties": props})


def store_vnet(world: World, vnet: dict[str, Any]) -> dict[str, Any]:
    body = copy.deepcopy(vnet)
    subnets = (body.setdefault("properties", {})).pop("subnets", None) or []
    body["properties"].setdefault("provisioningState", "Succeeded")
    body.setdefault("etag", _etag())
    body["type"] = VNET_TYPE
    stored = world.store.put_raw(body)
    for s in subnets:
        store_subnet(world, stored["id"], s)
    return stored


def vnet_get(world: World, req: Req) -> Reply:
    return Reply(200, render_vnet(world, require(world, req)))


def vnet_put(world: World, req: Req) -> Reply:
    require_group(world, req)
    body = body_dict(req)
    if not body.get("location"):
        raise bad_request("The request content was invalid: required property 'location' is missing.")
    existed = world.store.raw(req.arm.resource_id) is not None
    stored = store_vnet(world, {**body, "id": req.arm.resource_id, "name": req.arm.name})
    return Reply(200 if existed else 201, render_vnet(world, stored), {}, stored["id"])


def vnet_list(world: World, req: Req) -> Reply:
    require_group(world, req)
    return paged(world, req, VNET_TYPE, req.arm.scope, lambda v: render_vnet(world, v))


def _vnet_of(world: World, req: Req) -> dict[str, Any]:
    a = req.arm
    vnet = world.store.raw(f"{a.scope}/providers/{a.namespace}/{a.types[0]}/{a.names[0]}")
    require_group(world, req)
    if vnet is None:
        raise not_found(VNET_TYPE, a.names[0], a.resource_group)
    return vnet


def subnet_get(world: World, req: Req) -> Reply:
    vnet = _vnet_of(world, req)
    subnet = world.store.raw(f"{vnet['id']}/subnets/{req.arm.names[-1]}")
    if subnet is None:
        raise not_found(SUBNET_TYPE, f"{vnet['name']}/{req.arm.names[-1]}", req.arm.resource_group)
    return Reply(200, copy.deepcopy(subnet))


def subnet_put(world: World, req: Req) -> Reply:
    vnet = _vnet_of(world, req)
    body = body_dict(req)
    if not (body.get("properties") or {}).get("addressPrefix"):
        raise bad_request("Subnet must have properties.addressPrefix.", "InvalidRequestFormat")
    existed = world.store.raw(f"{vnet['id']}/subnets/{req.arm.names[-1]}") is not None
    stored = store_subnet(world, vnet["id"], {**body, "name": req.arm.names[-1]})
    return Reply(200 if existed else 201, copy.deepcopy(stored), {}, stored["id"])


def subnet_list(world: World, req: Req) -> Reply:
    vnet = _vnet_of(world, req)
    return children_list(world, req, vnet, SUBNET_TYPE, copy.deepcopy, page=True)


# -- private endpoints ---------------------------------------------------------------------------------
def _invalid_reference(ref: str, by: str) -> ArmError:
    # Network RP's text, as public deployment logs quote it ("InvalidResourceReference: …/subnets/pe-subnet").
    # The body carries `"details": []` (MicrosoftDocs/azure-docs#81734 quotes it whole; Azure/azure-cli#13614 the
    # endpoint form).
    return ArmError(400, "InvalidResourceReference",
                    f"Resource {ref} referenced by resource {by} was not found. Please make sure that the "
                    "referenced resource exists, and that both resources are in the same region.", details=[])


def _stored(world: World, resource_id: str) -> dict[str, Any]:
    """A resource the caller already checked exists."""
    found = world.store.raw(resource_id)
    assert found is not None, resource_id
    return found


def _proxy_id(target: dict[str, Any], pe_id: str, connection: str) -> str:
    """The `privateEndpointConnectionProxies` child the Network RP writes on the target for a connection
    (named like the connection, hashicorp/terraform-provider-azurerm#17478: `…/privateEndpointConnectionProxies/
    <pe name>.<guid>`)."""
    return f"{target['id']}/privateEndpointConnectionProxies/{pec_name(pe_id, connection)}"


def _refuse_if_locked(world: World, target: str, operation: str, enabled: bool,
                      via: str | None = ACCOUNT_TYPE) -> None:
    """409 ScopeLocked for a linked write or delete under a lock, when its switch (EmulatorConfig.lock_pe_*)
    is on; `via` wraps the message as the Network RP reports a call to the target's provider."""
    if not enabled:
        return
    refusal = world.locks.refusal(target, operation, via)
    if refusal is not None:
        raise refusal


def pe_lock_failure(world: World, pe: dict[str, Any]) -> dict[str, str] | None:
    """The error a private endpoint's delete operation ends with when a lock over a target account refuses
    deleting its connection proxy (EmulatorConfig.lock_pe_target; terraform-provider-azurerm#17478 saw it as the
    operation's failure, "waiting for deletion of Private Endpoint")."""
    for conn, _ in world.pe_connections(pe):
        target = world.store.raw((conn.get("properties") or {}).get("privateLinkServiceId", ""))
        if target is None:
            continue
        try:
            _refuse_if_locked(world, _proxy_id(target, pe["id"], conn["name"]), "delete",
                              world.config.lock_pe_target)
        except ArmError as refusal:
            return {"code": refusal.code, "message": refusal.message}
    return None


def apply_private_endpoint(world: World, pe_id: str, body: dict[str, Any], *,
                           check_state: bool = True) -> tuple[dict[str, Any], bool]:
    """Validate and store a PE (create or update) with its provider-side connections. Returns (pe, created)."""
    props = body.get("properties") or {}
    if not body.get("location"):
        raise bad_request("The request content was invalid: required property 'location' is missing.")
    subnet_id = (props.get("subnet") or {}).get("id")
    if not subnet_id:
        raise bad_request(f"Private endpoint {pe_id} must reference a subnet.", "InvalidRequestFormat")
    subnet = world.subnet(subnet_id)
    if subnet is None:
        raise _invalid_reference(subnet_id, pe_id)
    if check_state:
        _refuse_if_locked(world, subnet["id"], "write", world.config.lock_pe_subnet, via=None)
    pe_name = pe_id.rsplit("/", 1)[-1]
    conns: list[tuple[str, dict[str, Any]]] = []
    for key in ("privateLinkServiceConnections", "manualPrivateLinkServiceConnections"):
        for i, c in enumerate(props.get(key) or []):
            c = copy.deepcopy(c)
            c.setdefault("name", pe_name if i == 0 else f"{pe_name}-{i}")
            conns.append((key, c))
    if not conns:  # code and text unevidenced
        raise bad_request(f"Private endpoint {pe_id} must have at least one private link service connection.",
                          "PrivateEndpointMustHaveOnePrivateLinkServiceConnection")
    existing = world.store.raw(pe_id)
    known = set()
    if existing is not None:
        known = {(c["name"].lower(), (c.get("properties") or {}).get("privateLinkServiceId", "").lower())
                 for c, _ in world.pe_connections(existing)}
    targets: list[dict[str, Any]] = []
    for _key, c in conns:
        cp = c.setdefault("properties", {})
        target_id = cp.get("privateLinkServiceId") or ""
        target = world.store.raw(target_id)
        if target is None or target["type"].lower() != ACCOUNT_TYPE.lower():
            raise _invalid_reference(target_id, pe_id)
        groups = [g.lower() for g in cp.get("groupIds") or []]
        if groups != ["account"]:  # code and text unevidenced
            raise ArmError(400, "InvalidPrivateLinkServiceConnectionGroupIds",
                           f"Private link service connection {c['name']} has group ids {cp.get('groupIds')}; "
                           f"resource {target['id']} supports only group id 'account'.")
        is_new = (c["name"].lower(), target_id.lower()) not in known
        if check_state and is_new and world.account_busy(target):
            # Verbatim from hashicorp/terraform-provider-azurerm #31712 (a 400 answer to the PUT) and
            # DefangLabs/pulumi-defang #274; Azure/terraform-azurerm-avm-res-cognitiveservices-account #148
            # saw the same error as a failed operation instead.
            raise ArmError(400, "AccountProvisioningStateInvalid",
                           f"Call to Microsoft.CognitiveServices/accounts failed. Error message: Account "
                           f"{target['id']} in state {world.account_state(target)}")
        if check_state and is_new:
            _refuse_if_locked(world, _proxy_id(target, pe_id, c["name"]), "write", world.config.lock_pe_target)
        targets.append(target)

    # Endpoint-side data: one NIC, one private IP, a DNS config per FQDN the account needs.
    ip = world.pe_ip(existing) if existing is not None else None
    old_subnet = ((existing or {}).get("properties") or {}).get("subnet", {}).get("id", "")
    if ip is None or old_subnet.lower() != subnet_id.lower():
        if ip is not None:
            world.release_ip(old_subnet, ip)
        ip = world.allocate_ip(subnet)
    a = pe_id.split("/providers/")[0]
    nic_id = (f"{a}/providers/Microsoft.Network/networkInterfaces/"
              f"{pe_name}.nic.{uuid.uuid5(uuid.NAMESPACE_URL, pe_id.lower())}")
    dns: list[dict[str, Any]] = []
    for target in targets:
        for fqdn in account_fqdns(target):
            if all(d["fqdn"] != fqdn for d in dns):
                dns.append({"fqdn": fqdn, "ipAddresses": [ip]})
    pe = {"id": existing["id"] if existing else pe_id, "name": pe_name, "type": PE_TYPE,
          "location": body["location"], "etag": _etag(),
          "properties": {"provisioningState": "Succeeded", "privateLinkServiceConnections": [],
                         "manualPrivateLinkServiceConnections": [], "subnet": {"id": subnet["id"]},
                         "networkInterfaces": [{"id": nic_id}], "customDnsConfigs": dns,
                         "ipConfigurations": copy.deepcopy(props.get("ipConfigurations") or []),
                         "applicationSecurityGroups": copy.deepcopy(props.get("applicationSecurityGroups") or []),
                         "customNetworkInterfaceName": props.get("customNetworkInterfaceName", ""),
                         "_emulator": {"ip": ip}}}
    if "tags" in body:
        pe["tags"] = copy.deepcopy(body["tags"])
    for key, c in conns:
        cp = c["properties"]
        pe["properties"][key].append({
            "id": f"{pe['id']}/{key}/{c['name']}",
            "name": c["name"], "type": "Microsoft.Network/privateEndpoints/privateLinkServiceConnections",
            "etag": pe["etag"],
            "properties": {"provisioningState": "Succeeded",
                           "privateLinkServiceId": _stored(world, cp["privateLinkServiceId"])["id"],
                           "groupIds": list(cp.get("groupIds") or []), "requestMessage": cp.get("requestMessage", ""),
                           "privateLinkServiceConnectionState": {"status": "Pending", "description": "",
                                                                 "actionsRequired": "None"}}})
    # Connections dropped from the endpoint disappear from the account.
    if existing is not None:
        keep = {(c["name"].lower(), c["properties"]["privateLinkServiceId"].lower()) for _, c in conns}
        for c, _ in world.pe_connections(existing):
            tid = (c.get("properties") or {}).get("privateLinkServiceId", "")
            target = world.store.raw(tid)
            if (c["name"].lower(), tid.lower()) not in keep and target is not None:
                gone = pec_name(existing["id"], c["name"])
                world.store.delete_raw(f"{target['id']}/privateEndpointConnections/{gone}")
    world.store.put_raw(pe)
    for c, manual in world.pe_connections(pe):
        world.connect(pe, c, manual)
    # A zone group already on the endpoint follows a new IP / FQDN set.
    for group in world.store.children(pe["id"], ZONE_GROUP_TYPE):
        world.remove_zone_group_records(group)
        world.write_zone_group_records(pe, group)
    return pe, existing is None


def pe_get(world: World, req: Req) -> Reply:
    return Reply(200, world.render_pe(require(world, req)))


def pe_put(world: World, req: Req) -> Reply:
    require_group(world, req)
    pe, created = apply_private_endpoint(world, req.arm.resource_id, body_dict(req))
    # The PUT answers 201/200 with provisioningState Updating and an Azure-AsyncOperation URL (Azure/azure-cli
    # recording test_cognitiveservices_private_endpoint_connection.yaml).
    op = world.start_operation(pe["id"], "privateEndpoint/create" if created else "privateEndpoint/update",
                               transitional_state="Updating")
    return Reply(201 if created else 200, world.render_pe(pe), _op_headers(world, req, pe["location"], op), pe["id"],
                 lro=op.key)


def pe_delete(world: World, req: Req) -> Reply:
    require_group(world, req)
    pe = world.store.raw(req.arm.resource_id)
    if pe is None:
        return Reply(204, None, {}, req.arm.resource_id)
    failure = pe_lock_failure(world, pe)
    if failure is not None:   # accepted, then the operation fails and the endpoint stays
        op = world.start_operation(pe["id"], "privateEndpoint/delete", fail=failure, busy=False)
        return Reply(202, None, _op_headers(world, req, pe.get("location", ""), op, delete=True), lro=op.key)
    world.remove_pe_links(pe)
    world.store.delete_raw(pe["id"])
    op = world.start_operation(pe["id"], "privateEndpoint/delete", transitional_state="Deleting")
    return Reply(202, None, _op_headers(world, req, pe.get("location", ""), op, delete=True), pe["id"], lro=op.key)


def pe_list(world: World, req: Req) -> Reply:
    require_group(world, req)
    return paged(world, req, PE_TYPE, req.arm.scope, world.render_pe)


# -- private DNS zone groups ---------------------------------------------------------------------------
def _pe_of(world: World, req: Req) -> dict[str, Any]:
    a = req.arm
    require_group(world, req)
    pe = world.store.raw(f"{a.scope}/providers/{a.namespace}/{a.types[0]}/{a.names[0]}")
    if pe is None:
        raise parent_not_found(PE_TYPE, a.names[0], a.resource_group)
    return pe


def render_group(world: World, group: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(group)
    op = world.ops.running(group["id"])
    if op is not None:
        out["properties"]["provisioningState"] = op.transitional_state
    return out


def apply_zone_group(world: World, pe: dict[str, Any], name: str, body: dict[str, Any],
                     limits: bool = True) -> tuple[dict[str, Any], bool]:
    """Validate and store a zone group with its records; `limits=False` (seeding) lets a scenario hold more records
    than Azure's zone limit allows."""
    group_id = f"{pe['id']}/privateDnsZoneGroups/{name}"
    others = [g for g in world.store.children(pe["id"], ZONE_GROUP_TYPE) if g["name"].lower() != name.lower()]
    if others:
        raise more_than_one_zone_group(pe["id"], others[0]["name"])
    configs_in = (body.get("properties") or {}).get("privateDnsZoneConfigs") or []
    if len(configs_in) > MAX_ZONES_PER_GROUP:
        # The limit is documented ("Each DNS zone group can support up to 5 DNS zones", private-endpoint-dns,
        # quoted in Azure/ResourceModules #1674); the code and text of the error are unevidenced.
        raise bad_request(f"Private DNS zone group {group_id} has more than {MAX_ZONES_PER_GROUP} zones.",
                          "PrivateDnsZoneGroupHasTooManyZones")
    configs, bad, names = [], [], set()
    for cfg in configs_in:
        zone_id = (cfg.get("properties") or {}).get("privateDnsZoneId") or ""
        zone = world.store.raw(zone_id)
        if zone is None:
            bad.append(zone_id)
            continue
        cname = cfg.get("name") or zone["name"].replace(".", "-")
        if cname.lower() in names:  # verbatim from hashicorp/terraform-provider-azurerm #28966
            raise ArmError(400, "InvalidRequestFormat", "Cannot parse the request.", details=[
                {"code": "DuplicateResourceName",
                 "message": f"Resource {group_id} has two child resources with the same name ({cname})."}])
        names.add(cname.lower())
        configs.append({"name": cname, "properties": {"privateDnsZoneId": zone["id"], "recordSets": []}})
    if bad:  # code and text from public deployment logs (both a 400 answer and a failed operation seen)
        raise ArmError(400, "InvalidPrivateDnsZoneIds",
                       f"Private Dns Zone group {group_id} has invalid private dns zone ids {', '.join(bad)}.")
    existing = world.store.raw(group_id)
    group = {"id": existing["id"] if existing else group_id, "name": name, "type": ZONE_GROUP_TYPE,
             "etag": _etag(), "properties": {"provisioningState": "Succeeded", "privateDnsZoneConfigs": configs}}
    overflow = world.zone_group_overflow(pe, group) if limits else None
    if overflow is not None:
        # How Azure answers a zone group whose records a full zone cannot take is unevidenced: refused at the PUT
        # with the synthetic limit answer (errors.record_set_limit), in Network's envelope.
        refusal = record_set_limit(*overflow)
        raise ArmError(409, refusal.code, refusal.message)
    if existing is not None:
        world.remove_zone_group_records(existing)
    world.write_zone_group_records(pe, group)
    world.store.put_raw(group)
    return group, existing is None


def group_get(world: World, req: Req) -> Reply:
    pe = _pe_of(world, req)
    group = world.store.raw(f"{pe['id']}/privateDnsZoneGroups/{req.arm.names[-1]}")
    if group is None:
        raise not_found(ZONE_GROUP_TYPE, f"{pe['name']}/{req.arm.names[-1]}", req.arm.resource_group)
    return Reply(200, render_group(world, group))


def group_put(world: World, req: Req) -> Reply:
    pe = _pe_of(world, req)
    group, created = apply_zone_group(world, pe, req.arm.names[-1], body_dict(req))
    op = world.start_operation(group["id"], "zoneGroup/write", transitional_state="Updating")
    return Reply(201 if created else 200, render_group(world, group),
                 _op_headers(world, req, pe.get("location", ""), op), group["id"], lro=op.key)


def group_delete(world: World, req: Req) -> Reply:
    pe = _pe_of(world, req)
    group = world.store.raw(f"{pe['id']}/privateDnsZoneGroups/{req.arm.names[-1]}")
    if group is None:
        return Reply(204, None, {}, req.arm.resource_id)
    world.remove_zone_group_records(group)
    world.store.delete_raw(group["id"])
    op = world.start_operation(group["id"], "zoneGroup/delete", transitional_state="Deleting")
    return Reply(202, None, _op_headers(world, req, pe.get("location", ""), op, delete=True), group["id"], lro=op.key)


def group_list(world: World, req: Req) -> Reply:
    pe = _pe_of(world, req)
    return children_list(world, req, pe, ZONE_GROUP_TYPE, lambda g: render_group(world, g), page=True)


# -- seeding ---------------------------------------------------------------------------------------------------
def seed_vnet(world: World, r: dict[str, Any]) -> None:
    store_vnet(world, r)


def seed_subnet(world: World, r: dict[str, Any]) -> None:
    store_subnet(world, ids.parent_id(r["id"]) or "", {**r, "name": r["id"].rstrip("/").rsplit("/", 1)[-1]})


def seed_pe(world: World, r: dict[str, Any]) -> None:
    """An endpoint with its connections, IP and DNS configs; a connection may state its provider-side status
    (e.g. Pending, Rejected)."""
    pe, _ = apply_private_endpoint(world, r["id"], r, check_state=False)
    props = r.get("properties") or {}
    for key in ("privateLinkServiceConnections", "manualPrivateLinkServiceConnections"):
        for i, c in enumerate(props.get(key) or []):
            state = (c.get("properties") or {}).get("privateLinkServiceConnectionState")
            if not state:
                continue
            name = c.get("name") or (pe["name"] if i == 0 else f"{pe['name']}-{i}")
            target = _stored(world, c["properties"]["privateLinkServiceId"])
            pec = world.store.raw(f"{target['id']}/privateEndpointConnections/{pec_name(pe['id'], name)}")
            if pec is not None:
                pec["properties"]["privateLinkServiceConnectionState"] = {
                    "status": state.get("status", "Pending"), "description": state.get("description", ""),
                    "actionsRequired": state.get("actionsRequired", "None")}


def seed_zone_group(world: World, r: dict[str, Any]) -> None:
    pe = world.store.raw(ids.parent_id(r["id"]) or "")
    if pe is None:
        raise ValueError(f"zone group {r['id']}: private endpoint not in scenario")
    apply_zone_group(world, pe, r["id"].rstrip("/").rsplit("/", 1)[-1], r, limits=False)


# -- linked authorization checks (rbac.py) ---------------------------------------------------------------------
def pe_linked(props: dict[str, Any]) -> list[LinkedCheck]:
    """A private endpoint's PUT:
    - `Microsoft.Network/virtualNetworks/subnets/join/action` on its subnet. Learn, "Azure RBAC permissions for
      Azure Private Link" (articles/private-link/rbac-permissions.md): "Allow a private endpoint to join a virtual
      network"; MicrosoftDocs/azure-docs#116917: a role with subnets/join/action and no subnets/write creates
      endpoints.
    - for each auto-approved connection (`privateLinkServiceConnections`; the manual ones need no right on the
      target), `<target type>/privateEndpointConnectionsApproval/action` on the target, where the target's
      provider publishes that action. Same Learn page, section "Approval RBAC for private endpoint": automatic
      approval needs `Microsoft.[ServiceProvider]/[resourceType]/privateEndpointConnectionsApproval/action`;
      MicrosoftDocs/azure-docs#96892 quotes the 403 of a `privateEndpoints/write` whose identity lacked it on an
      Automation account, naming the action `PrivateEndpointConnectionsApproval/action`. Where the target's
      provider publishes no such action, no linked check is made: what Azure checks then is not evidenced."""
    checks = rbac.join_check("Microsoft.Network/virtualNetworks/subnets/join/action", rbac.ref(props.get("subnet")))
    for connection in props.get("privateLinkServiceConnections") or []:
        target = rbac.props(connection).get("privateLinkServiceId")
        target_path = ids.parse_path(target) if isinstance(target, str) else None
        if target_path is None or target_path.namespace is None or target_path.is_collection:
            continue
        if approval := rbac.approval_action(target_path):
            checks.append(LinkedCheck(approval, str(target), "PrivateEndpointConnectionsApproval/action"))
    return checks


def zone_group_linked(props: dict[str, Any]) -> list[LinkedCheck]:
    """A private DNS zone group's PUT: `Microsoft.Network/privateDnsZones/join/action` on each zone it names.
    Azure/data-landing-zone#203 quotes the 403 (`privateDnsZoneGroups/write` lacking it on the zone);
    Azure/Azure-Landing-Zones#2942: join/action is what writing the zone's A record through a zone group takes
    (no `privateDnsZones/A/write`)."""
    return [check for config in props.get("privateDnsZoneConfigs") or []
            for check in rbac.join_check("Microsoft.Network/privateDnsZones/join/action",
                                         rbac.props(config).get("privateDnsZoneId"))]


# API versions: those Azure/bicep-types-az (commit 1f896de, 2026-08-20, generated from azure-rest-api-specs
# b7170cade0) lists for each type (`generated/network/microsoft.network/<version>/types.md`), plus the published
# versions newer than that snapshot that clients here send: azure-mgmt-network 33.1.0 sends 2026-03-01, and
# azure-cli 2.91.0's network commands (`az network private-endpoint create|delete`) send 2026-01-01.
SINCE_2020_03 = ("2026-03-01", "2026-01-01", "2025-09-01", "2025-07-01", "2025-05-01", "2025-03-01",
                 "2025-01-01", "2024-10-01", "2024-07-01", "2024-05-01", "2024-03-01", "2024-01-01",
                 "2023-11-01", "2023-09-01", "2023-06-01", "2023-05-01", "2023-04-01", "2023-02-01",
                 "2022-11-01", "2022-09-01", "2022-07-01", "2022-05-01", "2022-01-01", "2021-08-01",
                 "2021-05-01", "2021-03-01", "2021-02-01", "2020-11-01", "2020-08-01", "2020-07-01",
                 "2020-06-01", "2020-05-01", "2020-04-01", "2020-03-01")
PRIVATE_ENDPOINT_VERSIONS = SINCE_2020_03 + ("2019-12-01", "2019-11-01", "2019-09-01", "2019-08-01",
                                             "2019-07-01", "2019-06-01", "2019-04-01", "2018-10-01")
VNET_VERSIONS = PRIVATE_ENDPOINT_VERSIONS[:-1] + ("2019-02-01", "2018-12-01", "2018-11-01", "2018-10-01",
                                                  "2018-08-01", "2018-07-01", "2018-06-01", "2018-04-01",
                                                  "2018-02-01", "2018-01-01", "2017-11-01", "2017-10-01",
                                                  "2017-09-01", "2017-08-01", "2017-06-01", "2017-03-30",
                                                  "2017-03-01", "2016-12-01", "2016-09-01", "2016-06-01",
                                                  "2016-03-30", "2015-06-15", "2015-05-01-preview")

SPECS = (
    TypeSpec(VNET_TYPE, item={"GET": vnet_get, "PUT": vnet_put}, collection={"GET": vnet_list}, render=render_vnet,
             seed=seed_vnet, seed_order=10, api_versions=VNET_VERSIONS, tracked=True),
    TypeSpec(SUBNET_TYPE, item={"GET": subnet_get, "PUT": subnet_put}, collection={"GET": subnet_list},
             seed=seed_subnet, seed_order=20, api_versions=VNET_VERSIONS),
    TypeSpec(PE_TYPE, item={"GET": pe_get, "PUT": pe_put, "DELETE": pe_delete}, collection={"GET": pe_list},
             render=lambda world, r: world.render_pe(r), seed=seed_pe, seed_order=70, linked=pe_linked,
             api_versions=PRIVATE_ENDPOINT_VERSIONS, tracked=True,
             durations=("privateEndpoint/create", "privateEndpoint/update", "privateEndpoint/delete")),
    TypeSpec(ZONE_GROUP_TYPE, item={"GET": group_get, "PUT": group_put, "DELETE": group_delete},
             collection={"GET": group_list}, render=render_group, seed=seed_zone_group, seed_order=80,
             linked=zone_group_linked, api_versions=SINCE_2020_03, durations=("zoneGroup/write", "zoneGroup/delete")),
    TypeSpec("Microsoft.Network/locations/operations", item={"GET": operation_status}, api_versions=VNET_VERSIONS,
             provider_names=(), poll=True),
    TypeSpec("Microsoft.Network/locations/operationResults", item={"GET": operation_result},
             api_versions=VNET_VERSIONS, provider_names=(), poll=True),
)
