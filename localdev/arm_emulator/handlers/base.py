"""Helpers shared by the provider handlers (the request and reply types are in messages.py)."""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar
from urllib.parse import quote

from .. import pace
from ..errors import ArmError, bad_request, not_found, rg_not_found
from ..messages import Reply as Reply
from ..messages import Req as Req
from ..world import World

Handler = Callable[[World, Req], Reply]


def body_dict(req: Req, required: bool = True) -> dict[str, Any]:
    if req.body is None:
        if required:
            raise bad_request("The request content was invalid and could not be deserialized: "
                              "'Missing request content.'")
        return {}
    if not isinstance(req.body, dict):
        raise bad_request("The request content was invalid and could not be deserialized: "
                          "'Expected a JSON object.'")
    return req.body


def require_group(world: World, req: Req) -> None:
    a = req.arm
    if a.resource_group and not world.store.has_group(a.scope):
        raise rg_not_found(a.resource_group)


def require(world: World, req: Req, resource_id: str | None = None, type_label: str | None = None) -> dict[str, Any]:
    """The resource the request names (or resource_id), else ResourceGroupNotFound / ResourceNotFound."""
    require_group(world, req)
    rid = resource_id or req.arm.resource_id
    item = world.store.raw(rid)
    if item is None:
        a = req.arm
        label = type_label or "/".join((a.namespace or "", a.types[0]))
        names = "/".join(a.names) if resource_id is None else rid.rsplit("/", 1)[-1]
        raise not_found(label, names, a.resource_group)
    return item


def op_api(req: Req) -> str:
    return quote(req.api_version or "", safe="")


def page_size(world: World, req: Req, top: bool) -> int:
    """Items per page: config.page_size, or the request's $top where the API documents $top (private DNS
    zones, links and record sets: "If not specified, returns up to 100", azure-rest-api-specs privatedns
    2024-06-01; resource groups, where `$top` is a page size with a nextLink after it: Azure/azure-sdk-for-python
    #541, Azure/azure-sdk-for-java#1451; Cognitive Services account lists and Network private endpoint lists
    take no $top and ignore it). A $top above config.max_top is cut to it (Azure's own ceilings are
    unpublished). The default sizes of the account, endpoint and resource group lists are unevidenced too:
    config.page_size, 100, the size private DNS documents."""
    size = max(1, int(world.config.page_size))
    raw = req.query.get("$top") if top else None
    if raw in (None, ""):
        return size
    try:
        wanted = int(str(raw))
    except ValueError:
        wanted = 0
    if wanted < 1:  # the code and text of Azure's answer to a bad $top are unevidenced
        raise bad_request(f"The value '{raw}' is not valid for query parameter '$top'.", "BadRequest")
    return min(wanted, max(1, int(world.config.max_top)))


def _offset(req: Req) -> int:
    try:
        return int(req.query.get("$skipToken") or req.query.get("$skiptoken") or 0)
    except ValueError:  # our own token is an offset; a client never makes one up (code unevidenced)
        raise bad_request("The $skipToken is invalid.", "InvalidSkipToken") from None


def next_link(world: World, req: Req, offset: int, top: bool) -> str:
    extra = f"&$top={req.query['$top']}" if top and req.query.get("$top") else ""
    return f"{world.link_base}{req.path}?api-version={op_api(req)}{extra}&$skipToken={offset}"


def paged(world: World, req: Req, type_: str, scope: str, render: Callable[[dict[str, Any]], Any],
          top: bool = False) -> Reply:
    """A pageable list: {"value": [...], "nextLink": ...} with $skipToken = offset."""
    size = page_size(world, req, top)
    offset = _offset(req)
    items, more = world.store.page(type_, scope, offset, size)
    body: dict[str, Any] = {"value": [render(i) for i in items]}
    if more:
        body["nextLink"] = next_link(world, req, offset + size, top)
    return Reply(200, body)


Item = TypeVar("Item")


def page_of(world: World, req: Req, items: Sequence[Item], render: Callable[[Item], Any],
            top: bool = False) -> Reply:
    """One page of an in-memory list, paged like `paged`."""
    size = page_size(world, req, top)
    offset = _offset(req)
    body: dict[str, Any] = {"value": [render(i) for i in items[offset:offset + size]]}
    if offset + size < len(items):
        body["nextLink"] = next_link(world, req, offset + size, top)
    return Reply(200, body)


def children_list(world: World, req: Req, parent: dict[str, Any], type_: str,
                  render: Callable[[dict[str, Any]], Any], page: bool, top: bool = False) -> Reply:
    items = world.store.children(parent["id"], type_)
    if not page:
        return Reply(200, {"value": [render(i) for i in items]})
    return page_of(world, req, items, render, top)


def method_not_allowed(req: Req) -> ArmError:
    return ArmError(405, "MethodNotAllowed",
                    f"The requested resource does not support http method '{req.method}'.")


# -- operations (one store for every provider) ------------------------------------------------------------
def operation_status(world: World, req: Req) -> Reply:
    op = world.ops.poll(req.arm.names[-1])
    if op is None:  # code and text unevidenced
        raise ArmError(404, "OperationNotFound", f"The operation '{req.arm.names[-1]}' could not be found.")
    return Reply(200, op.status_body(pace.status(op.key)), lro=op.key)   # InProgress answered 200 (CLI-PEC)


def private_dns_status(world: World, req: Req) -> Reply:
    """Private DNS operation status: 202 {"status":"InProgress"} (with the operation URLs again) while it
    runs, then 200 with Succeeded or Failed and the error (Azure/azure-cli privatedns recordings, e.g.
    test_PutZone_ZoneExistsIfNoneMatchFailure_ExpectError.yaml)."""
    op = world.ops.poll(req.arm.names[-1])
    if op is None:
        raise ArmError(404, "OperationNotFound", f"The operation '{req.arm.names[-1]}' could not be found.")
    if not op.done:
        return Reply(202, {"status": "InProgress"}, dns_operation_headers(world, req.arm.scope, op.id, op_api(req)),
                     lro=op.key)
    body: dict[str, Any] = {"status": op.status}
    if op.error:
        body = {"error": op.error, "status": op.status}
    return Reply(200, body)


def dns_operation_headers(world: World, scope: str, op_id: str, api: str) -> dict[str, str]:
    """Private DNS operation URLs are resource-group scoped; Azure writes the Azure-AsyncOperation one with
    the port spelled out (https://management.azure.com:443/…) and the Location one without (recordings
    above), so the former follows config.explicit_port_links like nextLink does."""
    base = f"{scope}/providers/Microsoft.Network"
    return {"Azure-AsyncOperation": f"{world.link_base}{base}/privateDnsOperationStatuses/{op_id}?api-version={api}",
            "Location": f"{world.base_url}{base}/privateDnsOperationResults/{op_id}?api-version={api}"}


def operation_result(world: World, req: Req) -> Reply:
    op = world.ops.poll(req.arm.names[-1])
    if op is None:
        raise ArmError(404, "OperationNotFound", f"The operation '{req.arm.names[-1]}' could not be found.")
    if not op.done:
        return Reply(202, None, {"Location": f"{world.base_url}{req.path}?api-version={op_api(req)}"}, lro=op.key)
    if op.error:  # how a Location URL answers a failed operation is unevidenced: its error, as a 400
        raise ArmError(400, op.error.get("code", "OperationFailed"), op.error.get("message", "The operation failed."))
    result = op.result() if op.result else None
    return Reply(200 if result is not None else 204, result)
