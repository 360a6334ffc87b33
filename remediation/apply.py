"""Run a plan's actions through the Azure SDK clients: one registry entry per action kind.

Called by `service.Remediator` (step 6 of a reconcile). Every action is idempotent (PATCH of the
governed properties only, PUTs with deterministic names, create-only PUTs for zones and links), so a
repeated or concurrent reconcile converges instead of duplicating. Each write is checked against its
kind's write-scope rule right before it is sent.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from . import writescope as rules
from .clients import NETWORK_API_VERSION, ArmClients, classify, describe, error_code, raw_json
from .ids import within_any
from .model import ActionKind, ActionStatus, ErrorKind, vnet_of
from .observe import read_account, wait_until_ready
from .plan import Action, Plan
from .writescope import WriteScope


@dataclass(frozen=True)
class ActionSpec:
    """Everything about one kind of action: when it runs, how, where it may write, and the Resource
    Manager rights it needs (its own action, the linked checks Azure makes, and the reads it implies)."""

    order: int  # actions run in this order: the account first, then endpoints, zones, links, zone groups
    execute: Callable[[ArmClients, Action], Any]
    allowed: Callable[[WriteScope, Action], bool]
    rbac: tuple[str, ...]
    manual: str  # what a person must do when Azure refuses the action for good


def _patch_account(clients: ArmClients, action: Action) -> Any:
    target = action.target
    accounts = clients.cognitive(target.subscription_id).accounts
    return accounts.begin_update(target.resource_group, target.name, _body(action), cls=raw_json).result()


def _approve_connection(clients: ArmClients, action: Action) -> Any:
    target = action.target
    connections = clients.cognitive(target.subscription_id).private_endpoint_connections
    return connections.begin_create_or_update(
        target.resource_group, target.parent.name, target.name, _body(action), cls=raw_json).result()


def _create_private_endpoint(clients: ArmClients, action: Action) -> Any:
    # An endpoint must sit in its virtual network's region, which only the network itself can tell.
    subnet = rules.subnet_of(action)
    vnet = vnet_of(subnet)
    network = clients.get_json(vnet, NETWORK_API_VERSION) if vnet else None
    body = {"location": (network or {}).get("location"), **action.body}
    endpoints = clients.network(action.target.subscription_id).private_endpoints
    created = endpoints.begin_create_or_update(
        action.target.resource_group, action.target.name, json.dumps(body).encode(), cls=raw_json).result()
    status = _connection_status(created)
    if (status or "").lower() != "approved":
        raise ConnectionNotApproved(
            f"{action.target.name} was written but its connection is {status or 'missing'}; "
            "a Pending connection is approved on the next reconcile")
    return created


def _put_zone_group(clients: ArmClients, action: Action) -> Any:
    target = action.target
    groups = clients.network(target.subscription_id).private_dns_zone_groups
    return groups.begin_create_or_update(
        target.resource_group, target.parent.name, target.name, _body(action), cls=raw_json).result()


def _create_zone(clients: ArmClients, action: Action) -> Any:
    target = action.target
    zones = clients.private_dns(target.subscription_id).private_zones
    return _create_only(lambda **kw: zones.begin_create_or_update(
        target.resource_group, target.name, _body(action), cls=raw_json, **kw).result())


def _create_zone_link(clients: ArmClients, action: Action) -> Any:
    target = action.target
    links = clients.private_dns(target.subscription_id).virtual_network_links
    return _create_only(lambda **kw: links.begin_create_or_update(
        target.resource_group, target.parent.name, target.name, _body(action), cls=raw_json, **kw).result())


ACTIONS: dict[ActionKind, ActionSpec] = {
    ActionKind.PATCH_ACCOUNT_NETWORK: ActionSpec(
        1, _patch_account, rules.the_account,
        ("Microsoft.CognitiveServices/accounts/write", "Microsoft.CognitiveServices/accounts/read"),
        "set the account's network settings by hand, and find what refuses them (a policy, a lock, a "
        "setting the account's SKU does not allow)"),
    ActionKind.APPROVE_CONNECTION: ActionSpec(
        2, _approve_connection, rules.own_connection,
        ("Microsoft.CognitiveServices/accounts/privateEndpointConnections/write",),
        "approve the connection by hand on the account (Networking, Private endpoint connections)"),
    ActionKind.CREATE_PRIVATE_ENDPOINT: ActionSpec(
        3, _create_private_endpoint, rules.own_new_endpoint,
        ("Microsoft.Network/virtualNetworks/read", "Microsoft.Network/privateEndpoints/write",
         "Microsoft.Network/virtualNetworks/subnets/join/action",
         "Microsoft.CognitiveServices/accounts/privateEndpointConnectionsApproval/action",
         "Microsoft.Network/privateEndpoints/read"),
        "create the account's private endpoint by hand in the subnet, and find what refuses it (a policy, "
        "the subnet's free addresses, the VNet's region)"),
    ActionKind.CREATE_DNS_ZONE: ActionSpec(
        4, _create_zone, rules.zone_in_dns_group,
        ("Microsoft.Network/privateDnsZones/write", "Microsoft.Network/privateDnsZones/read"),
        "create the privatelink zone by hand in the DNS resource group (location global)"),
    ActionKind.CREATE_DNS_ZONE_LINK: ActionSpec(
        5, _create_zone_link, rules.link_in_dns_group,
        ("Microsoft.Network/privateDnsZones/virtualNetworkLinks/write",
         "Microsoft.Network/virtualNetworks/join/action",
         "Microsoft.Network/privateDnsZones/virtualNetworkLinks/read"),
        "a virtual network can be linked to only one zone of a name, and to a zone only once: remove the "
        "conflicting link (or use the zone the VNet is already linked to), then link the zone to the VNet"),
    ActionKind.PUT_DNS_ZONE_GROUP: ActionSpec(
        6, _put_zone_group, rules.serving_endpoint_zone_group,
        ("Microsoft.Network/privateEndpoints/privateDnsZoneGroups/write",
         "Microsoft.Network/privateDnsZones/join/action",
         "Microsoft.Network/privateEndpoints/privateDnsZoneGroups/read"),
        "an endpoint holds one zone group: add the missing zones to the endpoint's zone group by hand"),
}
assert set(ACTIONS) == set(ActionKind), "every action kind has a registry entry"


def in_run_order(actions: Iterable[Action]) -> list[Action]:
    """Actions sorted by their kind's place in the registry (stable for actions of one kind)."""
    return sorted(actions, key=lambda action: ACTIONS[action.kind].order)


def refusal(scope: WriteScope, action: Action) -> str | None:
    """Why this action may not be written, or None when it may."""
    if not within_any(scope.account_id, scope.account_scopes) or not ACTIONS[action.kind].allowed(scope, action):
        return f"{action.target} is outside the write scope; not written"
    return None


@dataclass
class ActionResult:
    action: Action
    status: ActionStatus
    error: str | None = None
    resource: Any = None  # the resource's JSON as ARM returned it after the write
    error_kind: ErrorKind | None = None  # for a failed action: whether another try could help


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
    for action in in_run_order(plan.actions):
        reason = action.blocked or refusal(scope, action)
        results.append(ActionResult(action, ActionStatus.SKIPPED, reason) if reason
                       else ActionResult(action, ActionStatus.PLANNED))
    return results


class ConnectionNotApproved(Exception):
    """A private endpoint was written, but its connection does not serve the account (yet)."""


class Applier:
    """Runs one plan's actions in registry order for one account, recording each one's result."""

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
        """Run every action that may run; an action whose requirement was not written is skipped, and
        once the account stays busy the rest is skipped as deferred. Never raises."""
        out = ApplyResult()
        not_written: set[Any] = set()
        account_changed = False
        for action in in_run_order(plan.actions):
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
            except Exception as error:  # noqa: BLE001 - every failure is recorded, none escapes
                kind = classify(error)
                out.busy |= kind is ErrorKind.BUSY
                out.unavailable |= kind is ErrorKind.UNAVAILABLE
                out.results.append(ActionResult(action, ActionStatus.FAILED, _failure_text(action, error, kind),
                                                error_kind=kind))
                not_written.add(action.target)
                continue
            account_changed |= action.kind is ActionKind.PATCH_ACCOUNT_NETWORK
            if out.first_write_at is None:
                out.first_write_at = time.time()
            out.results.append(ActionResult(action, ActionStatus.SUCCEEDED, None, resource))
        return out

    def _skip_reason(self, action: Action, not_written: set[Any], out: ApplyResult) -> str | None:
        if action.blocked:
            return action.blocked
        if out.busy:
            return _DEFERRED
        missing = [str(r) for r in action.requires if r in not_written]
        if missing:
            return f"not attempted: depends on {', '.join(missing)}, which was not written"
        return refusal(self.scope, action)

    def _with_busy_retry(self, action: Action) -> Any:
        """Busy (409, AccountProvisioningStateInvalid) means 'retry later', bounded by ready_timeout."""
        deadline = self.clock() + self.ready_timeout
        while True:
            try:
                return ACTIONS[action.kind].execute(self.clients, action)
            except Exception as error:
                if classify(error) is not ErrorKind.BUSY or self.clock() >= deadline:
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


def _failure_text(action: Action, error: BaseException, kind: ErrorKind) -> str:
    """Azure's code and message; for a failure another try cannot change, what a person must do."""
    text = describe(error)
    if kind is ErrorKind.REFUSED:
        return f"{text}; refused for good, not retried: {ACTIONS[action.kind].manual}"
    if kind is ErrorKind.FORBIDDEN:
        return (f"{text}; the app's identity lacks the right: grant it the role that holds "
                f"{ACTIONS[action.kind].rbac[0]} on {action.target} (infra/roles)")
    return text


def _body(action: Action) -> bytes:
    return json.dumps(action.body).encode()


def _connection_status(endpoint: Any) -> str | None:
    try:
        connection = endpoint["properties"]["privateLinkServiceConnections"][0]
        status = connection["properties"]["privateLinkServiceConnectionState"]["status"]
    except (KeyError, IndexError, TypeError):
        return None
    return status if isinstance(status, str) else None


_ACCOUNT_WRITES = (ActionKind.APPROVE_CONNECTION, ActionKind.CREATE_PRIVATE_ENDPOINT)
_DEFERRED = "not attempted: the account is busy; the work is deferred"


def _create_only(put: Callable[..., Any]) -> Any:
    """PUT with If-None-Match: * so a zone or link someone else made is never overwritten.

    "It exists already" comes as a 412, or (private DNS) as an accepted PUT whose operation then fails
    with PreconditionFailed (azure-cli recording test_PutZone_ZoneExistsIfNoneMatchFailure; azure-cli
    issue #28936): either way the state we want is there."""
    from azure.core import MatchConditions
    from azure.core.exceptions import HttpResponseError

    try:
        return put(match_condition=MatchConditions.IfMissing)
    except HttpResponseError as error:
        if error.status_code == 412 or error_code(error) == "preconditionfailed":
            return None
        raise
