"""Run a plan's actions through the Azure SDK clients.

Every action is idempotent (PATCH of the governed properties only, PUTs with deterministic names,
create-only PUTs for zones and links), so a repeated or concurrent reconcile converges instead of
duplicating. A write scope guard checks each target again right before it is written.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from .clients import NETWORK_API_VERSION, ArmClients, ErrorKind, classify, describe, raw_json
from .ids import ResourceId, parse_resource_id, within_any
from .model import ActionKind, ActionStatus, vnet_of
from .observe import read_account
from .plan import Action, Plan


@dataclass(frozen=True)
class WriteScope:
    """Where this reconcile may write: accounts in the scopes, endpoints in allowed subnets, zones in the DNS RG."""

    account_scopes: tuple[ResourceId, ...]
    new_endpoint_subnets: frozenset[ResourceId]
    existing_endpoints: frozenset[ResourceId]  # observed endpoints that sit in an allowed subnet
    dns_resource_group: ResourceId | None

    def refusal(self, action: Action) -> str | None:
        """Why this action may not be written, or None when it may."""
        target = action.target
        if action.kind in (ActionKind.PATCH_ACCOUNT_NETWORK, ActionKind.APPROVE_CONNECTION):
            ok = within_any(target, self.account_scopes)
        elif action.kind is ActionKind.CREATE_PRIVATE_ENDPOINT:
            subnet = _subnet_of(action)
            ok = (subnet is not None and subnet in self.new_endpoint_subnets
                  and target.resource_group_id == subnet.resource_group_id)
        elif action.kind is ActionKind.PUT_DNS_ZONE_GROUP:
            ok = target.parent in self.existing_endpoints or self._new_endpoint(target.parent)
        else:  # zones and links
            ok = self.dns_resource_group is not None and target.is_within(self.dns_resource_group)
        return None if ok else f"{target} is outside the write scope; not written"

    def _new_endpoint(self, endpoint: ResourceId) -> bool:
        return any(endpoint.resource_group_id == s.resource_group_id for s in self.new_endpoint_subnets)


def _subnet_of(action: Action) -> ResourceId | None:
    try:
        return parse_resource_id(action.body["properties"]["subnet"]["id"])
    except (KeyError, TypeError, ValueError):
        return None


@dataclass
class ActionResult:
    action: Action
    status: ActionStatus
    error: str | None = None
    resource: Any = None  # the resource's JSON as ARM returned it after the write


@dataclass
class ApplyResult:
    results: list[ActionResult] = field(default_factory=list)
    busy: bool = False  # stopped because the account stayed busy: defer, don't fail
    unavailable: bool = False  # Resource Manager throttled or unreachable past the retries
    first_write_at: float | None = None  # wall-clock time of the first successful write

    @property
    def failed(self) -> bool:
        return any(r.status is ActionStatus.FAILED for r in self.results)


def planned(plan: Plan) -> list[ActionResult]:
    """Results for report mode and dry runs: nothing is written."""
    return [ActionResult(a, ActionStatus.SKIPPED, a.blocked) if a.blocked else ActionResult(a, ActionStatus.PLANNED)
            for a in plan.actions]


class Applier:
    def __init__(self, clients: ArmClients, scope: WriteScope, account_id: ResourceId, *, ready_timeout: float,
                 poll_interval: float, sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.clients = clients
        self.account_id = account_id
        self.scope = scope
        self.ready_timeout = ready_timeout
        self.poll_interval = poll_interval
        self.sleep = sleep
        self.clock = clock

    def apply(self, plan: Plan) -> ApplyResult:
        out = ApplyResult()
        not_written: set[ResourceId] = set()
        for action in plan.actions:
            reason = self._skip_reason(action, not_written, out)
            if reason:
                out.results.append(ActionResult(action, ActionStatus.SKIPPED, reason))
                not_written.add(action.target)
                continue
            try:
                resource = self._with_busy_retry(action)
            except Exception as error:  # noqa: BLE001 - every failure is recorded, none escapes
                kind = classify(error)
                out.busy |= kind == ErrorKind.BUSY
                out.unavailable |= kind == ErrorKind.UNAVAILABLE
                out.results.append(ActionResult(action, ActionStatus.FAILED, describe(error)))
                not_written.add(action.target)
                continue
            if out.first_write_at is None:
                out.first_write_at = time.time()
            out.results.append(ActionResult(action, ActionStatus.SUCCEEDED, None, resource))
        return out

    def _skip_reason(self, action: Action, not_written: set[ResourceId], out: ApplyResult) -> str | None:
        if action.blocked:
            return action.blocked
        if out.busy:
            return "not attempted: the account is busy; the work is deferred"
        missing = [str(r) for r in action.requires if r in not_written]
        if missing:
            return f"not attempted: depends on {', '.join(missing)}, which was not written"
        return self.scope.refusal(action)

    def _with_busy_retry(self, action: Action) -> Any:
        """Busy (409, AccountProvisioningStateInvalid) means 'retry later', bounded by ready_timeout."""
        deadline = self.clock() + self.ready_timeout
        while True:
            try:
                return self._execute(action)
            except Exception as error:
                if classify(error) != ErrorKind.BUSY or self.clock() >= deadline:
                    raise
                self._wait_for_account(deadline)

    def _wait_for_account(self, deadline: float) -> None:
        # After an update Azure keeps the account in Accepted for a while, even once the operation is
        # done; only a read tells when it has settled.
        while self.clock() < deadline:
            self.sleep(max(self.poll_interval, 0.05))
            if read_account(self.clients, self.account_id).ready:
                return

    def _execute(self, action: Action) -> Any:
        target = action.target
        body = json.dumps(action.body).encode()
        if action.kind is ActionKind.PATCH_ACCOUNT_NETWORK:
            accounts = self.clients.cognitive(target.subscription_id).accounts
            return accounts.begin_update(target.resource_group, target.name, body, cls=raw_json).result()
        if action.kind is ActionKind.APPROVE_CONNECTION:
            connections = self.clients.cognitive(target.subscription_id).private_endpoint_connections
            return connections.begin_create_or_update(
                target.resource_group, target.parent.name, target.name, body, cls=raw_json).result()
        if action.kind is ActionKind.CREATE_PRIVATE_ENDPOINT:
            return self._create_private_endpoint(action)
        if action.kind is ActionKind.PUT_DNS_ZONE_GROUP:
            groups = self.clients.network(target.subscription_id).private_dns_zone_groups
            return groups.begin_create_or_update(
                target.resource_group, target.parent.name, target.name, body, cls=raw_json).result()
        if action.kind is ActionKind.CREATE_DNS_ZONE:
            zones = self.clients.private_dns(target.subscription_id).private_zones
            return _create_only(lambda **kw: zones.begin_create_or_update(
                target.resource_group, target.name, body, cls=raw_json, **kw).result())
        if action.kind is ActionKind.CREATE_DNS_ZONE_LINK:
            links = self.clients.private_dns(target.subscription_id).virtual_network_links
            return _create_only(lambda **kw: links.begin_create_or_update(
                target.resource_group, target.parent.name, target.name, body, cls=raw_json, **kw).result())
        raise ValueError(f"unknown action {action.kind}")

    def _create_private_endpoint(self, action: Action) -> Any:
        # An endpoint must sit in its virtual network's region, which only the network itself can tell.
        subnet = _subnet_of(action)
        vnet = self.clients.get_json(vnet_of(subnet), NETWORK_API_VERSION) if subnet else None
        body = {"location": (vnet or {}).get("location"), **action.body}
        endpoints = self.clients.network(action.target.subscription_id).private_endpoints
        return endpoints.begin_create_or_update(
            action.target.resource_group, action.target.name, json.dumps(body).encode(), cls=raw_json).result()


def _create_only(put: Callable[..., Any]) -> Any:
    """PUT with If-None-Match: * so a zone or link someone else made is never overwritten."""
    from azure.core import MatchConditions
    from azure.core.exceptions import HttpResponseError

    try:
        return put(match_condition=MatchConditions.IfMissing)
    except HttpResponseError as error:
        if error.status_code == 412:  # it exists already: that is the state we want
            return None
        raise
