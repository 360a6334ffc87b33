"""Microsoft.CognitiveServices: accounts, private endpoint connections, private link resources, operations.

PATCH semantics (Azure's own deep-merge rules are undocumented; these are the emulator's):
- each key under `properties` replaces the stored key as a whole (so `networkAcls`, when sent, replaces
  the whole rule set, ipRules included); keys not sent are kept; read-only keys are ignored;
- `tags`, `sku`, `identity` replace the stored value when sent; `kind` and `location` cannot change;
- `customSubDomainName` cannot change once set (400).
"""
from __future__ import annotations

import copy
import re
from typing import Any

from .. import pace
from ..errors import ArmError, bad_request, conflict_busy, connection_put_not_allowed, not_found
from ..lro import Operation
from ..names import ACCOUNT_TYPE, PEC_TYPE, PLR_TYPE
from ..spec import TypeSpec
from ..world import World, account_etag, zones_for_kind
from .base import Reply, Req, body_dict, children_list, op_api, paged, require, require_group

READONLY_PROPS = {"provisioningState", "endpoint", "endpoints", "privateEndpointConnections", "internalId",
                  "dateCreated", "capabilities", "isMigrated", "skuChangeInfo", "callRateLimit", "quotaLimit",
                  "deletionDate", "scheduledPurgeDate", "commitmentPlanAssociations", "abusePenalty"}
PEC_STATUSES = {"pending": "Pending", "approved": "Approved", "rejected": "Rejected"}


def _validate_props(props: dict[str, Any]) -> None:
    acls = props.get("networkAcls")
    if acls is not None:
        if not isinstance(acls, dict):
            raise bad_request("Property 'networkAcls' must be an object.")
        da = acls.get("defaultAction")
        if da is not None and str(da).lower() not in ("allow", "deny"):
            raise bad_request(f"The value '{da}' is not valid for networkAcls.defaultAction. "
                              "Allowed values: Allow, Deny.")
        for rule in acls.get("ipRules") or []:
            if not isinstance(rule, dict) or not rule.get("value"):
                raise bad_request("Each networkAcls.ipRules entry needs a 'value'.")
    pna = props.get("publicNetworkAccess")
    if pna is not None and str(pna).lower() not in ("enabled", "disabled"):
        raise bad_request(f"The value '{pna}' is not valid for publicNetworkAccess. Allowed values: Enabled, Disabled.")


# A subdomain is a DNS label; underscores are refused (400 CustomDomainInvalid "Sub domain name
# 'ai_foundry-resource' is not valid.", microsoft/microsoft-foundry-for-vscode#121). The length bound is the DNS
# label's (63), Azure's own is unevidenced.
_SUBDOMAIN = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")


def _subdomain_in_use(name: str) -> str:
    """409 CustomDomainInUse's message (microsoft/microsoft-foundry-for-vscode#107 and #52; the link as in
    Azure-Samples/azuresandbox#164)."""
    return (f"Please pick a different name. The subdomain name '{name}' is not available as it's already used by a "
            "resource. If the resource using the name was deleted in the last 48 hours, you may need to purge the "
            'deleted resource. Learn more at "https://go.microsoft.com/fwlink/?linkid=2215493"')


def _subdomain_owner(world: World, name: str) -> str | None:
    """The account that holds a custom subdomain (names compare case-insensitively, as DNS names do)."""
    for account_id in world.store.ids(ACCOUNT_TYPE):
        account = world.store.raw(account_id)
        taken = ((account or {}).get("properties") or {}).get("customSubDomainName")
        if isinstance(taken, str) and taken.lower() == name.lower():
            return account_id
    return None


def _claim_subdomain(world: World, account_id: str, name: Any) -> None:
    """Refuse a subdomain that is not a DNS label (400 CustomDomainInvalid) or that another account holds: 409
    CustomDomainInUse at the PUT itself (Azure-Samples/azuresandbox#164: "performing AccountsCreate: unexpected
    status 409 (409 Conflict) with error: CustomDomainInUse"). Soft-deleted accounts holding names are not modelled."""
    if name is None:
        return
    if not isinstance(name, str) or not _SUBDOMAIN.match(name):
        raise ArmError(400, "CustomDomainInvalid", f"Sub domain name '{name}' is not valid.")
    owner = _subdomain_owner(world, name)
    if owner is not None and owner.lower() != account_id.lower():
        raise ArmError(409, "CustomDomainInUse", _subdomain_in_use(name))


def check_domain_availability(world: World, req: Req) -> Reply:
    """`POST /subscriptions/{s}/providers/Microsoft.CognitiveServices/checkDomainAvailability`: the spec example
    CheckDomainAvailability.json (stable/2025-06-01 @1f4159c6) answers 200 `{"isSubdomainAvailable": false, "reason":
    "Sub domain name 'contosodemoapp1' is not valid", "subdomainName", "type"}`. For a name in use the reason is
    the CustomDomainInUse message, and an available name has no reason: both unevidenced."""
    body = body_dict(req)
    name, type_ = body.get("subdomainName"), body.get("type")
    if not isinstance(name, str) or not isinstance(type_, str):
        raise bad_request("The request content was invalid: 'subdomainName' and 'type' are required.")
    out: dict[str, Any] = {"isSubdomainAvailable": True}
    if not _SUBDOMAIN.match(name):
        out = {"isSubdomainAvailable": False, "reason": f"Sub domain name '{name}' is not valid"}
    elif _subdomain_owner(world, name) is not None:
        out = {"isSubdomainAvailable": False, "reason": _subdomain_in_use(name)}
    return Reply(200, {**out, "subdomainName": name, "type": type_})


def _check_acl_subnets(world: World, account_id: str, props: dict[str, Any]) -> None:
    """EmulatorConfig.acl_missing_subnet: refuse rules naming subnets the emulator does not hold (see there)."""
    if world.config.acl_missing_subnet != "refuse":
        return
    for rule in (props.get("networkAcls") or {}).get("virtualNetworkRules") or []:
        subnet = rule.get("id") if isinstance(rule, dict) else None
        if isinstance(subnet, str) and world.store.raw(subnet) is None:
            raise ArmError(400, "NetworkAclsValidationFailure",
                           f"Validation of network acls failure: subnet {subnet} named by {account_id} was not found.")


def _writable(props: dict[str, Any] | None) -> dict[str, Any]:
    return {k: copy.deepcopy(v) for k, v in (props or {}).items() if k not in READONLY_PROPS}


def _op_urls(world: World, req: Req, location: str, op: Operation) -> tuple[str, str]:
    loc = str(location or "global").replace(" ", "").lower()
    base = (f"{world.base_url}/subscriptions/{req.arm.subscription}/providers/Microsoft.CognitiveServices"
            f"/locations/{loc}/operationResults/{op.id}?api-version={op_api(req)}")
    return base, base + "&operationResultResponseType=Location"


def _account_write_reply(world: World, req: Req, account: dict[str, Any], created: bool,
                         key: str = "account/update") -> Reply:
    """Answer an accepted account PUT/PATCH the way config.account_lro says, at the configured pace.

    In the time pace the operation runs for its duration (pace.py) and the account then still reads
    Accepted for its settle time; in the poll pace for lro_polls polls, then account_settle_gets GETs."""
    mode = world.config.account_lro
    rid = account["id"]
    rt = world.runtime(rid)
    rt.body_gets_left = rt.settle_gets_left = 0
    rt.settle_until = 0.0
    settle = max(0, int(world.config.account_settle_gets))
    ok_status = 201 if created else 200
    state = "Creating" if created else "Accepted"

    def done(op: Operation) -> None:
        runtime = world.runtime(rid)
        if op.due is not None:
            runtime.settle_until = op.due + pace.settle(world.config, key)
        else:
            runtime.settle_gets_left = max(0, int(world.config.account_settle_gets))

    if mode in ("aao", "location"):
        def result() -> dict[str, Any] | None:
            stored = world.store.raw(rid)
            return world.render_account(stored) if stored else None

        op = world.start_operation(rid, key, transitional_state=state, on_done=done, result=result)
        aao, loc = _op_urls(world, req, account.get("location", ""), op)
        headers = {"Location": loc}
        if mode == "aao":
            headers["Azure-AsyncOperation"] = aao
        return Reply(202, world.render_account(account), headers, rid, lro=key)
    if mode == "body":
        if pace.timed(world.config):   # the account itself reads Accepted until the operation is due
            world.start_operation(rid, key, transitional_state=state, on_done=done)
        else:
            rt.body_gets_left = max(0, int(world.config.lro_polls)) + settle
        return Reply(ok_status, world.render_account(account), {}, rid)
    body = world.render_account(account)
    body["properties"]["provisioningState"] = "Succeeded"
    rt.settle_gets_left = settle
    return Reply(ok_status, body, {}, rid)


def _tags_only(body: dict[str, Any]) -> bool:
    """A PATCH that changes nothing but tags (properties absent or empty)."""
    return "tags" in body and not body.get("properties") and set(body) <= {"tags", "properties"}


def account_get(world: World, req: Req) -> Reply:
    account = require(world, req)
    body = world.render_account(account)
    world.note_account_get(account["id"])
    return Reply(200, body)


def account_put(world: World, req: Req) -> Reply:
    require_group(world, req)
    body = body_dict(req)
    for key in ("location", "kind"):
        if not body.get(key):
            raise bad_request(f"The request content was invalid: required property '{key}' is missing.")
    if not isinstance(body.get("sku"), dict) or not body["sku"].get("name"):
        raise bad_request("The request content was invalid: required property 'sku.name' is missing.")
    props = _writable(body.get("properties"))
    _validate_props(props)
    _check_acl_subnets(world, req.arm.resource_id, props)
    existing = world.store.raw(req.arm.resource_id)
    if existing is not None:
        if world.account_busy(existing):
            raise conflict_busy(existing["id"])
        old_sub = existing.get("properties", {}).get("customSubDomainName")
        if old_sub and props.get("customSubDomainName", old_sub).lower() != old_sub.lower():
            raise bad_request("The custom subdomain name of an account cannot be changed.", "BadRequest")
    _claim_subdomain(world, req.arm.resource_id, props.get("customSubDomainName"))
    rid = existing["id"] if existing else req.arm.resource_id
    account: dict[str, Any] = {"id": rid, "name": req.arm.name, "type": ACCOUNT_TYPE,
                               "location": body["location"], "kind": body["kind"], "sku": copy.deepcopy(body["sku"]),
                               "etag": account_etag(), "properties": {**props, "provisioningState": "Succeeded"}}
    for key in ("tags", "identity"):
        if key in body:
            account[key] = copy.deepcopy(body[key])
    world.store.put_raw(account)
    return _account_write_reply(world, req, account, created=existing is None,
                                key="account/create" if existing is None else "account/update")


def account_patch(world: World, req: Req) -> Reply:
    account = require(world, req)
    body = body_dict(req)
    if world.account_busy(account):
        raise conflict_busy(account["id"])
    props = _writable(body.get("properties"))
    _validate_props(props)
    _check_acl_subnets(world, account["id"], props)
    stored = account.setdefault("properties", {})
    old_sub = stored.get("customSubDomainName")
    new_sub = props.get("customSubDomainName")
    if old_sub and new_sub and new_sub.lower() != old_sub.lower():
        raise bad_request("The custom subdomain name of an account cannot be changed.", "BadRequest")
    if not old_sub:
        _claim_subdomain(world, account["id"], new_sub)
    stored.update(props)
    stored["provisioningState"] = "Succeeded"
    for key in ("tags", "sku", "identity"):
        if key in body and body[key] is not None:
            account[key] = copy.deepcopy(body[key])
    account["etag"] = account_etag()
    if _tags_only(body):
        # Azure/azure-rest-api-specs #28209: the RP answered a tags update asynchronously (202 + Location);
        # ARM's convention is a synchronous 200 (azure-rest-api-specs PR #43158 review), kept as an option.
        if world.config.tags_patch_sync:
            return Reply(200, world.render_account(account), {}, account["id"])
        return _account_write_reply(world, req, account, created=False, key="account/tags")
    return _account_write_reply(world, req, account, created=False)


def account_delete(world: World, req: Req) -> Reply:
    require_group(world, req)
    account = world.store.raw(req.arm.resource_id)
    if account is None:
        return Reply(204, None, {}, req.arm.resource_id)
    if world.account_busy(account):
        raise conflict_busy(account["id"])
    world.store.delete_raw(account["id"])
    world.accounts.pop(account["id"].lower(), None)
    return Reply(200, None, {}, account["id"])


def account_list(world: World, req: Req) -> Reply:
    require_group(world, req)
    return paged(world, req, ACCOUNT_TYPE, req.arm.scope, world.render_account)


# -- private endpoint connections ------------------------------------------------------------------------
def _account_of(world: World, req: Req) -> dict[str, Any]:
    a = req.arm
    return require(world, req, f"{a.scope}/providers/{a.namespace}/{a.types[0]}/{a.names[0]}",
                   "Microsoft.CognitiveServices/accounts")


def _pec(world: World, req: Req, account: dict[str, Any]) -> dict[str, Any]:
    pec = world.store.raw(f"{account['id']}/privateEndpointConnections/{req.arm.names[-1]}")
    if pec is None:
        raise not_found("Microsoft.CognitiveServices/accounts/privateEndpointConnections",
                        f"{account['name']}/{req.arm.names[-1]}", req.arm.resource_group)
    return pec


def pec_list(world: World, req: Req) -> Reply:
    account = _account_of(world, req)
    return children_list(world, req, account, PEC_TYPE, world.render_pec, page=False)


def pec_get(world: World, req: Req) -> Reply:
    account = _account_of(world, req)
    return Reply(200, world.render_pec(_pec(world, req, account)))


def pec_put(world: World, req: Req) -> Reply:
    account = _account_of(world, req)
    pec = world.store.raw(f"{account['id']}/privateEndpointConnections/{req.arm.names[-1]}")
    if pec is None:   # connections are made by the Network RP with an endpoint, never by a PUT here
        raise connection_put_not_allowed()
    body = body_dict(req)
    state = ((body.get("properties") or {}).get("privateLinkServiceConnectionState") or {})
    status = PEC_STATUSES.get(str(state.get("status", "")).lower())
    if status is None:
        raise bad_request("properties.privateLinkServiceConnectionState.status must be one of "
                          "Pending, Approved, Rejected.")
    if world.account_busy(account):
        raise conflict_busy(account["id"])
    current = pec["properties"]["privateLinkServiceConnectionState"]
    if current.get("status") == "Rejected" and status != "Rejected":
        # A rejected connection cannot be approved again; the code and text of Azure's answer (and
        # whether it answers so at all) are unevidenced.
        raise bad_request("A rejected private endpoint connection cannot be approved; "
                          "the endpoint owner must recreate it.", "PrivateEndpointConnectionRejected")
    changed = current.get("status") != status
    pec["properties"]["privateLinkServiceConnectionState"] = {
        "status": status, "description": state.get("description") or current.get("description", ""),
        "actionsRequired": state.get("actionsRequired") or "None"}
    pec["etag"] = account_etag()
    if world.config.connection_lro == "aao":
        op = world.start_operation(pec["id"], "connection/update", result=lambda: world.render_pec(pec))
        aao, loc = _op_urls(world, req, account.get("location", ""), op)
        return Reply(202, world.render_pec(pec), {"Azure-AsyncOperation": aao, "Location": loc}, pec["id"],
                     lro=op.key)
    # Azure answers 200 synchronously, after the state change has taken effect (~22 s, pace.py).
    delay = (pace.duration(world.config, "connection/update") or 0.0) if changed else 0.0
    return Reply(200, world.render_pec(pec), {}, pec["id"], delay_s=delay)


def pec_delete(world: World, req: Req) -> Reply:
    account = _account_of(world, req)
    pec = world.store.raw(f"{account['id']}/privateEndpointConnections/{req.arm.names[-1]}")
    if pec is None:
        return Reply(204, None, {}, req.arm.resource_id)
    if world.account_busy(account):
        raise conflict_busy(account["id"])
    world.store.delete_raw(pec["id"])
    return Reply(200, None, {}, pec["id"])


def plr_list(world: World, req: Req) -> Reply:
    account = _account_of(world, req)
    item = {"id": f"{account['id']}/privateLinkResources/account", "name": "account",
            "type": "Microsoft.CognitiveServices/accounts/privateLinkResources",
            "properties": {"groupId": "account", "displayName": "account", "requiredMembers": ["default"],
                           "requiredZoneNames": zones_for_kind(account.get("kind"))}}
    return Reply(200, {"value": [item]})


# -- operation results -----------------------------------------------------------------------------------
def operation_get(world: World, req: Req) -> Reply:
    op = world.ops.poll(req.arm.names[-1])
    if op is None:  # code and text unevidenced
        raise ArmError(404, "OperationNotFound", f"The operation '{req.arm.names[-1]}' could not be found.")
    if req.query.get("operationResultResponseType", "").lower() == "location":
        if not op.done:
            return Reply(202, None, {"Location": f"{world.base_url}{req.path}?{_query(req)}"}, lro=op.key)
        if op.status != "Succeeded":
            raise ArmError(400, (op.error or {}).get("code", "OperationFailed"),
                           (op.error or {}).get("message", "The operation failed."))
        result = op.result() if op.result else None
        return Reply(200 if result is not None else 204, result)
    # While it runs, the RP's operation status says "Creating" for a create and "Updating" for an update, while the
    # account itself reads Creating / Accepted (pace.py, CLI-AIS and CLI-RULES).
    return Reply(200, op.status_body(pace.status(op.key)), lro=op.key)


def _query(req: Req) -> str:
    from urllib.parse import urlencode
    return urlencode(req.query)


# -- seeding ---------------------------------------------------------------------------------------------------
def seed_account(world: World, r: dict[str, Any]) -> None:
    """An account as a scenario states it; connections listed in it are stored too (endpoints outside the
    scenario, e.g. another tenant's)."""
    props = dict(r.get("properties") or {})
    pecs = props.pop("privateEndpointConnections", None) or []
    props.pop("endpoint", None)
    props.setdefault("provisioningState", "Succeeded")
    account = {"id": r["id"], "name": r["id"].rstrip("/").rsplit("/", 1)[-1], "type": ACCOUNT_TYPE,
               "location": r.get("location", "eastus"), "kind": r.get("kind", "OpenAI"),
               "sku": r.get("sku") or {"name": "S0"}, "etag": r.get("etag") or account_etag(),
               "properties": copy.deepcopy(props)}
    for key in ("tags", "identity", "systemData"):
        if key in r:
            account[key] = copy.deepcopy(r[key])
    world.store.put_raw(account)
    for pec in pecs:
        pec = copy.deepcopy(pec)
        pec["id"] = pec.get("id") or f"{r['id']}/privateEndpointConnections/{pec['name']}"
        seed_pec(world, pec)


def seed_pec(world: World, r: dict[str, Any]) -> None:
    pec = copy.deepcopy(r)
    pec.setdefault("etag", account_etag())
    pec.setdefault("properties", {}).setdefault("provisioningState", "Succeeded")
    world.store.put_raw(pec)


# API versions: those Azure/bicep-types-az (commit 1f896de, 2026-08-20, generated from azure-rest-api-specs
# b7170cade0) lists for each type (`generated/cognitiveservices/microsoft.cognitiveservices/<version>/types.md`).
VERSIONS = ("2026-07-01", "2026-05-15-preview", "2026-05-01", "2026-03-15-preview", "2026-03-01",
            "2026-01-15-preview", "2025-12-01", "2025-10-01-preview", "2025-09-01", "2025-07-01-preview",
            "2025-06-01", "2025-04-01-preview", "2024-10-01", "2024-06-01-preview", "2024-04-01-preview",
            "2023-10-01-preview", "2023-05-01", "2022-12-01", "2022-10-01", "2022-03-01", "2021-10-01",
            "2021-04-30", "2017-04-18")
ACCOUNT_VERSIONS = VERSIONS + ("2016-02-01-preview",)

SPECS = (
    TypeSpec(ACCOUNT_TYPE, item={"GET": account_get, "PUT": account_put, "PATCH": account_patch,
                                 "DELETE": account_delete},
             collection={"GET": account_list}, render=lambda world, r: world.render_account(r),
             seed=seed_account, seed_order=30, api_versions=ACCOUNT_VERSIONS, tracked=True,
             durations=("account/create", "account/update", "account/tags")),
    TypeSpec(PEC_TYPE, item={"GET": pec_get, "PUT": pec_put, "DELETE": pec_delete}, collection={"GET": pec_list},
             render=lambda world, r: world.render_pec(r), seed=seed_pec, seed_order=40, api_versions=VERSIONS,
             durations=("connection/update",)),
    TypeSpec(PLR_TYPE, collection={"GET": plr_list}, api_versions=VERSIONS, provider_names=()),
    TypeSpec("Microsoft.CognitiveServices/checkDomainAvailability", collection={"POST": check_domain_availability},
             api_versions=VERSIONS, provider_names=()),
    TypeSpec("Microsoft.CognitiveServices/locations/operationResults", item={"GET": operation_get},
             api_versions=VERSIONS, provider_names=(), poll=True),
)
