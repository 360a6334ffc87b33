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
from .desired import private_endpoint_id
from .ids import (
    CONNECTION_TYPE,
    DNS_ZONE_LINK_TYPE,
    DNS_ZONE_TYPE,
    ZONE_GROUP_TYPE,
    ResourceId,
    parse_resource_id,
    within_any,
)
from .model import ActionKind, ActionStatus, vnet_of
from .observe import read_account, wait_until_ready
from .plan import Action, Plan


@dataclass(frozen=True)
class WriteScope:
    """Where one reconcile may write, checked by resource type and ID right before every write:
    the account itself (and its own connections) inside the scopes, this account's deterministic
    endpoint in a configured subnet, zone groups of endpoints that serve it, zones and links in the
    DNS resource group."""

    account_id: ResourceId
    account_scopes: tuple[ResourceId, ...]
    new_endpoint_subnets: frozenset[ResourceId]
    existing_endpoints: frozenset[ResourceId]  # observed endpoints that sit in an allowed subnet
    dns_resource_group: ResourceId | None

    def refusal(self, action: Action) -> str | None:
        """Why this action may not be written, or None when it may."""
        if not self._allows(action):
            return f"{action.target} is outside the write scope; not written"
        return None

    def _allows(self, action: Action) -> bool:
        target, kind = action.target, action.kind
        if not within_any(self.account_id, self.account_scopes):
            return False
        if kind is ActionKind.PATCH_ACCOUNT_NETWORK:
            return target == self.account_id
        if kind is ActionKind.APPROVE_CONNECTION:
            return target.is_type(CONNECTION_TYPE) and target.parent == self.account_id
        if kind is ActionKind.CREATE_PRIVATE_ENDPOINT:
            subnet = _subnet_of(action)
            return (subnet is not None and subnet in self.new_endpoint_subnets
                    and target == private_endpoint_id(self.account_id, subnet))
        if kind is ActionKind.PUT_DNS_ZONE_GROUP:
            own = {private_endpoint_id(self.account_id, subnet) for subnet in self.new_endpoint_subnets}
            return target.is_type(ZONE_GROUP_TYPE) and (target.parent in self.existing_endpoints or target.parent in own)
        zone_type = DNS_ZONE_TYPE if kind is ActionKind.CREATE_DNS_ZONE else DNS_ZONE_LINK_TYPE
        return (self.dns_resource_group is not None and target.is_type(zone_type)
                and target.is_within(self.dns_resource_group))


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


def planned(plan: Plan, scope: WriteScope) -> list[ActionResult]:
    """Results for report mode and dry runs: nothing is written, and nothing enforce would refuse is 'planned'."""
    results = []
    for action in plan.actions:
        reason = action.blocked or scope.refusal(action)
        results.append(ActionResult(action, ActionStatus.SKIPPED, reason) if reason
                       else ActionResult(action, ActionStatus.PLANNED))
    return results


class ConnectionNotApproved(Exception):
    """A private endpoint was written, but its connection does not serve the account (yet)."""


class Applier:
    def __init__(self, clients: ArmClients, scope: WriteScope, *, ready_timeout: float, poll_interval: float,
                 sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.monotonic) -> None:
        self.clients = clients
        self.account_id = scope.account_id
        self.scope = scope
        self.ready_timeout = ready_timeout
        self.poll_interval = poll_interval
        self.sleep = sleep
        self.clock = clock

    def apply(self, plan: Plan) -> ApplyResult:
        out = ApplyResult()
        not_written: set[ResourceId] = set()
        account_changed = False
        for action in plan.actions:
            reason = self._skip_reason(action, not_written, out)
            if reason:
                out.results.append(ActionResult(action, ActionStatus.SKIPPED, reason))
                not_written.add(action.target)
                continue
            try:
                if account_changed and action.kind in _ACCOUNT_WRITES:
                    # Never write to an account while its own update settles (it reads Accepted).
                    account_changed = False
                    if not self._settle(self.clock() + self.ready_timeout):
                        out.busy = True
                        out.results.append(ActionResult(action, ActionStatus.SKIPPED, _DEFERRED))
                        continue
                resource = self._with_busy_retry(action)
                account_changed |= action.kind is ActionKind.PATCH_ACCOUNT_NETWORK
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
            return _DEFERRED
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
                self.sleep(max(self.poll_interval, 0.05))
                self._settle(deadline)

    def _settle(self, deadline: float) -> bool:
        """Read the account until its provisioningState is terminal (bounded); True when it is.

        After an update Azure keeps an account in Accepted for a while, even once the operation is
        done, and refuses writes under it meanwhile; only a read tells when it has settled.
        """
        account = read_account(self.clients, self.account_id)
        return wait_until_ready(self.clients, account, max(0.0, deadline - self.clock()), self.poll_interval,
                                self.sleep, self.clock).ready

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
        created = endpoints.begin_create_or_update(
            action.target.resource_group, action.target.name, json.dumps(body).encode(), cls=raw_json).result()
        status = _connection_status(created)
        if (status or "").lower() != "approved":
            raise ConnectionNotApproved(
                f"{action.target.name} was written but its connection is {status or 'missing'}; "
                "a Pending connection is approved on the next reconcile")
        return created


def _connection_status(endpoint: Any) -> str | None:
    try:
        connection = endpoint["properties"]["privateLinkServiceConnections"][0]
        return connection["properties"]["privateLinkServiceConnectionState"]["status"]
    except (KeyError, IndexError, TypeError):
        return None


_ACCOUNT_WRITES = (ActionKind.APPROVE_CONNECTION, ActionKind.CREATE_PRIVATE_ENDPOINT)
_DEFERRED = "not attempted: the account is busy; the work is deferred"


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
