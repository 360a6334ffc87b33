"""Request/response types and helpers shared by the provider handlers."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable
from urllib.parse import quote

from ..errors import ArmError, bad_request, not_found, rg_not_found
from ..ids import ArmPath
from ..world import World


@dataclass
class Req:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]          # lower-case names
    body: Any
    api_version: str | None
    arm: ArmPath

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


@dataclass
class Reply:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    resource_id: str | None = None    # set on accepted writes: the resource the write concerns


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


def paged(world: World, req: Req, type_: str, scope: str, render: Callable[[dict[str, Any]], Any]) -> Reply:
    """A pageable list: {"value": [...], "nextLink": ...} with $skipToken = offset."""
    size = max(1, int(world.config.page_size))
    try:
        offset = int(req.query.get("$skipToken") or req.query.get("$skiptoken") or 0)
    except ValueError:
        raise bad_request("The $skipToken is invalid.", "InvalidSkipToken") from None
    items, more = world.store.page(type_, scope, offset, size)
    body: dict[str, Any] = {"value": [render(i) for i in items]}
    if more:
        body["nextLink"] = f"{world.base_url}{req.path}?api-version={op_api(req)}&$skipToken={offset + size}"
    return Reply(200, body)


def children_list(world: World, req: Req, parent: dict[str, Any], type_: str,
                  render: Callable[[dict[str, Any]], Any], page: bool) -> Reply:
    items = world.store.children(parent["id"], type_)
    if not page:
        return Reply(200, {"value": [render(i) for i in items]})
    size = max(1, int(world.config.page_size))
    offset = int(req.query.get("$skipToken") or req.query.get("$skiptoken") or 0)
    body: dict[str, Any] = {"value": [render(i) for i in items[offset:offset + size]]}
    if offset + size < len(items):
        body["nextLink"] = f"{world.base_url}{req.path}?api-version={op_api(req)}&$skipToken={offset + size}"
    return Reply(200, body)


def method_not_allowed(req: Req) -> ArmError:
    return ArmError(405, "MethodNotAllowed",
                    f"The requested resource does not support http method '{req.method}'.")


# -- operations (one store for every provider) ----------------------------------------------------------------------------------------
def operation_status(world: World, req: Req) -> Reply:
    op = world.ops.poll(req.arm.names[-1])
    if op is None:
        raise ArmError(404, "OperationNotFound", f"The operation '{req.arm.names[-1]}' could not be found.")
    return Reply(200, op.status_body())


def operation_result(world: World, req: Req) -> Reply:
    op = world.ops.poll(req.arm.names[-1])
    if op is None:
        raise ArmError(404, "OperationNotFound", f"The operation '{req.arm.names[-1]}' could not be found.")
    if not op.done:
        return Reply(202, None, {"Location": f"{world.base_url}{req.path}?api-version={op_api(req)}"})
    result = op.result() if op.result else None
    return Reply(200 if result is not None else 204, result)
