"""Run a plan's actions through the Azure SDK clients: one registry entry per action kind.

Called by `service.Remediator` (step 6 of a reconcile). Every action is idempotent (PATCH of the
governed properties only, PUTs with deterministic names, create-only PUTs for zones and links), so a
repeated or concurrent reconcile converges instead of duplicating. Each write is checked against its
kind's write-scope rule right before it is sent.
"""

from __future__ import annotations

import json
import logging
import shlex
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from remediation.arm.clients import (
    NETWORK_API_VERSION,
    PRIVATE_DNS_API_VERSION,
    ArmClients,
    classify,
    describe,
    error_code,
    error_message,
    raw_json,
)
from remediation.arm.limits import full_zone, may_be_full
from remediation.arm.observe import read_account, wait_until_ready
from remediation.core import write_scope as rules
from remediation.core.desired import DesiredState
from remediation.core.failures import lock_advice
from remediation.core.ids import try_parse_resource_id, within_any
from remediation.core.model import Account, ActionKind, ActionStatus, ErrorKind, ZoneGroup, vnet_of
from remediation.core.plan import Action, Plan, exposure_fix, network_patch, zone_group_refreshed
from remediation.core.polling import poll_until
from remediation.core.verdict import ActionResult, ApplyResult
from remediation.core.write_scope import WriteScope

log = logging.getLogger("remediation")


@dataclass(frozen=True)
class ActionSpec:
    """Everything about one kind of action: when it runs, how, where it may write, and the Resource
    Manager rights it needs (its own action, the linked checks Azure makes, and the reads it implies)."""

    order: int  # actions run in this order: the account first, then endpoints, zones, links, zone groups
    execute: Callable[[ArmClients, Action], Any]
    allowed: Callable[[WriteScope, Action], bool]
    rbac: tuple[str, ...]
    manual: str  # what a person must do when Azure refuses the action for good
    # Rebuilds the action from a read taken now (None: nothing left to write); for actions whose body
    # depends on what was read, run before each send that follows a wait or an earlier write.
    refresh: Callable[[Fresh, Action], Action | None] | None = None
    limit: str = ""  # what a person does when a limit of Azure's refuses it ("": the manual fix)


@dataclass(frozen=True)
class Fresh:
    """What a rebuild starts from: the clients to read with, the desired state, the account as last read."""

    clients: ArmClients
    desired: DesiredState
    account: Account | None


class NotWritten(Exception):
    """A write the app will not make: it would overwrite what someone else made. Another try cannot help."""

    kind = ErrorKind.REFUSED


class ChangedSinceRead(Exception):
    """The resource changed between the read a write was built from and the write (412 on its etag): the
    write is dropped, and the next reconcile reads it again."""

    kind = ErrorKind.FAILED


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
    created = _create_only(lambda **kw: links.begin_create_or_update(
        target.resource_group, target.parent.name, target.name, _body(action), cls=raw_json, **kw).result())
    return created if created is not None else _existing_link(clients, action)


def _existing_link(clients: ArmClients, action: Action) -> Any:
    """A link of that name exists already: it is what we want when it links the same virtual network,
    and someone else's when it links another (then the zone stays unlinked to ours, and the finding open)."""
    wanted = try_parse_resource_id(action.body["properties"]["virtualNetwork"]["id"])
    existing = clients.find_json(action.target, PRIVATE_DNS_API_VERSION)
    if existing is None:
        raise ChangedSinceRead(f"the link {action.target.name} existed when written and is gone now")
    linked = (existing.get("properties") or {}).get("virtualNetwork", {}).get("id")
    if try_parse_resource_id(linked) != wanted:
        raise NotWritten(f"the link's name {action.target.name} is taken by a link to {linked}; not overwritten")
    if str((existing.get("properties") or {}).get("provisioningState") or "").lower() == "failed":
        return _retry_failed_link(clients, action, existing)
    return existing


def _retry_failed_link(clients: ArmClients, action: Action, existing: Any) -> Any:
    """Our own link (our name, our VNet) whose operation ended Failed: PUT it again, on the etag read, so only
    that very link is written (a PUT of a resource in Failed state starts its provisioning again)."""
    from azure.core import MatchConditions

    target = action.target
    links = clients.private_dns(target.subscription_id).virtual_network_links
    return links.begin_create_or_update(target.resource_group, target.parent.name, target.name, _body(action),
                                        etag=existing.get("etag"), match_condition=MatchConditions.IfNotModified,
                                        cls=raw_json).result()


def _put_record(clients: ArmClients, action: Action) -> Any:
    """PUT the A record set with If-Match on the etag read (If-None-Match: * when it was absent), so it
    lands only on the very record it was built from."""
    from azure.core import MatchConditions
    from azure.core.exceptions import HttpResponseError

    target = action.target
    etag = action.body.get("etag")
    body = {key: value for key, value in action.body.items() if key != "etag"}
    record_sets = clients.private_dns(target.subscription_id).record_sets
    try:
        return record_sets.create_or_update(
            target.resource_group, target.parent.name, "A", target.name, json.dumps(body).encode(), etag=etag,
            match_condition=MatchConditions.IfNotModified if etag else MatchConditions.IfMissing, cls=raw_json)
    except HttpResponseError as error:
        if error.status_code != 412 and error_code(error) != "preconditionfailed":
            raise
        raise ChangedSinceRead(f"the record set {target.name} in {target.parent.name} changed since it was read "
                               "(412); not overwritten, read again on the next reconcile") from error


def _fresh_patch(fresh: Fresh, action: Action) -> Action | None:
    return network_patch(fresh.desired, fresh.account or read_account(fresh.clients, action.target))


def _fresh_close(fresh: Fresh, action: Action) -> Action | None:
    return exposure_fix(fresh.desired, fresh.account or read_account(fresh.clients, action.target))


def _fresh_zone_group(fresh: Fresh, action: Action) -> Action | None:
    body = fresh.clients.find_json(action.target, NETWORK_API_VERSION)
    return zone_group_refreshed(fresh.desired, action, ZoneGroup.from_arm(body) if body else None)


# "If you have reached this limit, then either delete some record sets or contact Azure Support to raise your record
# set limit for this zone" (learn.microsoft.com azure/dns/dns-troubleshoot, "I can't create a record").
_ZONE_FULL = ("a private DNS zone holds at most 25,000 record sets, and a record set at most 20 records: delete record "
              "sets nobody uses, or ask Azure Support to raise the zone's record set limit; an estate larger than one "
              "zone set serves needs a deployment per zone set (docs/sizing.md)")

ACTIONS: dict[ActionKind, ActionSpec] = {
    ActionKind.CLOSE_EXPOSURE: ActionSpec(
        0, _patch_account, rules.the_account,
        ("Microsoft.CognitiveServices/accounts/write", "Microsoft.CognitiveServices/accounts/read"),
        "close the account by hand: `az resource update --ids {target} --set {property}`", _fresh_close),
    ActionKind.PATCH_ACCOUNT_NETWORK: ActionSpec(
        1, _patch_account, rules.the_account,
        ("Microsoft.CognitiveServices/accounts/write", "Microsoft.CognitiveServices/accounts/read"),
        "set the account's network settings by hand, and find what refuses them (a rule naming a subnet that "
        "is gone, a setting the account's SKU does not allow)", _fresh_patch),
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
        "create the privatelink zone by hand in the DNS resource group (location global)",
        limit="a subscription holds at most 1,000 private DNS zones: delete zones nobody uses in the DNS resource "
              "group's subscription, or point REMEDIATION_DNS_ZONE_RESOURCE_GROUP_ID at a resource group in another "
              "subscription"),
    ActionKind.CREATE_DNS_ZONE_LINK: ActionSpec(
        5, _create_zone_link, rules.link_in_dns_group,
        ("Microsoft.Network/privateDnsZones/virtualNetworkLinks/write",
         "Microsoft.Network/virtualNetworks/join/action",
         "Microsoft.Network/privateDnsZones/virtualNetworkLinks/read"),
        "a virtual network can be linked to only one zone of a name, and to a zone only once: remove the "
        "conflicting link (or use the zone the VNet is already linked to), then link the zone to the VNet",
        limit="a private DNS zone holds at most 1,000 virtual network links (100 with autoregistration), and a "
              "virtual network autoregisters into one zone only: remove links of virtual networks that no longer "
              "need the zone, then link it to the endpoint's virtual network"),
    ActionKind.PUT_DNS_ZONE_GROUP: ActionSpec(
        6, _put_zone_group, rules.serving_endpoint_zone_group,
        ("Microsoft.Network/privateEndpoints/privateDnsZoneGroups/write",
         "Microsoft.Network/privateDnsZones/join/action",
         "Microsoft.Network/privateEndpoints/privateDnsZoneGroups/read"),
        "an endpoint holds one zone group: add the missing zones to the endpoint's zone group by hand",
        _fresh_zone_group, limit=_ZONE_FULL),
    # No rebuild: If-Match on the etag read makes the write land only on the record it was built from.
    ActionKind.PUT_DNS_RECORD: ActionSpec(
        7, _put_record, rules.own_record_in_dns_group,
        ("Microsoft.Network/privateDnsZones/A/write",),
        "set the A record named after the account's custom subdomain to its serving endpoints' private IPs",
        limit=_ZONE_FULL),
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
    """Runs one plan's actions in registry order for one account, recording each one's result.

    Every write is built from a read taken just before it: after any wait (a busy account, its own
    update settling) or earlier write, an action whose body depends on what was read is rebuilt from a
    fresh read (`ActionSpec.refresh`), so a change a person made in between is not undone by accident."""

    def __init__(self, clients: ArmClients, scope: WriteScope, *, ready_timeout: float, poll_interval: float,
                 sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.monotonic,
                 desired: DesiredState | None = None) -> None:
        self.clients = clients
        self.account_id = scope.account_id
        self.scope = scope
        self.ready_timeout = ready_timeout
        self.poll_interval = poll_interval
        self.sleep = sleep
        self.clock = clock
        self.desired = desired  # None: actions are sent as planned (no rebuild)
        self._account: Account | None = None  # the account as the latest wait read it
        self._stale = False  # a wait or a write happened since the plan's reads
        self._account_changed = False  # the account was written: the next account write waits for it to settle

    def stale(self) -> None:
        """Reads happened since the plan's account read (the reconcile observed): rebuild before each write."""
        self._stale = True

    def apply(self, plan: Plan) -> ApplyResult:
        """Run every action that may run; an action whose requirement was not written is skipped, and
        once the account stays busy the rest is skipped as deferred. Never raises."""
        out = ApplyResult()
        not_written: set[Any] = set()
        for action in in_run_order(plan.actions):
            reason = self._skip_reason(action, not_written, out)
            if reason:
                out.results.append(ActionResult(action, ActionStatus.SKIPPED, reason))
                not_written.add(action.target)
                continue
            if self._account_changed and action.kind in _ACCOUNT_WRITES:
                # Never write to an account while its own update settles (it reads Accepted).
                self._account_changed = False
                if not self._settled(out, action):
                    continue
            result = self._run(action, out)
            out.results.append(result)
            if result.status is ActionStatus.FAILED:
                not_written.add(action.target)
            elif result.resource is not _UNCHANGED:
                self._account_changed |= action.kind in _ACCOUNT_PATCHES
                out.first_write_at = out.first_write_at or time.time()
            else:
                result.resource = self._unchanged(result.action)
        return out

    def _settled(self, out: ApplyResult, action: Action) -> bool:
        try:
            if self._settle(self.clock() + self.ready_timeout):
                return True
        except Exception as error:  # noqa: BLE001 - recorded like a failed write
            out.results.append(self._failed(action, error, out))
            return False
        out.busy = True
        out.results.append(ActionResult(action, ActionStatus.SKIPPED, _DEFERRED))
        return False

    def _run(self, action: Action, out: ApplyResult) -> ActionResult:
        """One action, written (or found no longer needed); never raises. Busy (409,
        AccountProvisioningStateInvalid) means 'retry later', bounded by ready_timeout, the account read until it
        is ready between tries; the action is rebuilt before each send that follows a wait, and its result names
        the action as last sent."""
        deadline = self.clock() + self.ready_timeout
        last: list[ActionResult | _Busy] = []

        def attempt() -> ActionResult | _Busy:
            if last:  # a busy try came before: wait for the account, then try what was last sent
                busy = last[-1]
                assert isinstance(busy, _Busy)
                try:
                    self._settle(deadline)
                except Exception as error:  # noqa: BLE001 - recorded like a failed write
                    return self._failed(busy.action, error, out)
            last.append(self._attempt(busy.action if last else action, out))
            return last[-1]

        result = poll_until(attempt, lambda tried: not isinstance(tried, _Busy), timeout=self.ready_timeout,
                            interval=self.poll_interval, sleep=self.sleep, clock=self.clock)
        return self._failed(result.action, result.error, out) if isinstance(result, _Busy) else result

    def _attempt(self, action: Action, out: ApplyResult) -> ActionResult | _Busy:
        """One send of the action, rebuilt first when reads came between; a busy refusal is handed back."""
        try:
            rebuilt = self._rebuilt(action)
            if rebuilt is None:
                emptied = Action(action.kind, action.target, {"properties": {}})
                return ActionResult(emptied, ActionStatus.SUCCEEDED, None, _UNCHANGED)
            action = rebuilt
            try:
                resource = ACTIONS[action.kind].execute(self.clients, action)
            finally:
                self._stale = True  # sent (or tried): whatever follows reads again
            return ActionResult(action, ActionStatus.SUCCEEDED, None, resource)
        except Exception as error:  # noqa: BLE001 - every failure is recorded, none escapes
            kind, full = self._judged(action, error)
            if kind is ErrorKind.BUSY:
                return _Busy(action, error)
            return self._failed(action, error, out, (kind, full))

    def _judged(self, action: Action, error: BaseException) -> tuple[ErrorKind, str | None]:
        """How to treat a failure, and for a DNS write refused by a zone at its limit, that zone's counts."""
        kind = error.kind if isinstance(error, (NotWritten, ChangedSinceRead)) else classify(error)
        full = full_zone(self.clients, action) if kind is not ErrorKind.LIMIT and may_be_full(action, error) else None
        return (ErrorKind.LIMIT, full) if full else (kind, None)  # a full zone: no wait or retry can help

    def _failed(self, action: Action, error: BaseException, out: ApplyResult,
                judged: tuple[ErrorKind, str | None] | None = None) -> ActionResult:
        kind, full = judged or self._judged(action, error)
        out.busy |= kind is ErrorKind.BUSY
        out.unavailable |= kind is ErrorKind.UNAVAILABLE
        return ActionResult(action, ActionStatus.FAILED, _failure_text(action, error, kind, full), error_kind=kind)

    def _skip_reason(self, action: Action, not_written: set[Any], out: ApplyResult) -> str | None:
        if action.blocked:
            return action.blocked
        if out.busy:
            return _DEFERRED
        missing = [str(r) for r in action.requires if r in not_written]
        if missing:
            return f"not attempted: depends on {', '.join(missing)}, which was not written"
        return refusal(self.scope, action)

    def _rebuilt(self, action: Action) -> Action | None:
        refresh = ACTIONS[action.kind].refresh
        if not self._stale or refresh is None or self.desired is None:
            return action
        rebuilt = refresh(Fresh(self.clients, self.desired, self._account), action)
        if rebuilt is None:
            log.info("%s %s: nothing left to write as read again", action.kind.value, action.target)
        return rebuilt

    def _unchanged(self, action: Action) -> Any:
        """What a write found no longer needed shows as its result: the account's governed properties as
        read, so the record's `after` is what Azure holds."""
        if action.kind in _ACCOUNT_PATCHES and self._account is not None:
            return {"properties": self._account.governed()}
        return None

    def _settle(self, deadline: float) -> bool:
        """Read the account until its provisioningState is terminal (bounded); True when it is.

        After an update Azure keeps an account in Accepted for a while, even once the operation is
        done, and refuses writes under it meanwhile; only a read tells when it has settled.
        """
        self._stale = True
        account = read_account(self.clients, self.account_id)
        self._account = wait_until_ready(self.clients, account, max(0.0, deadline - self.clock()),
                                         self.poll_interval, self.sleep, self.clock)
        return self._account.ready


_UNCHANGED = object()  # a rebuilt write that found nothing left to write


@dataclass(frozen=True)
class _Busy:
    """A try the account's state refused (busy): tried again once it is ready, within the ready timeout."""

    action: Action
    error: BaseException


def manual(action: Action) -> str:
    """What a person does instead of the app, for this very action (its target named).

    A close in SelectedNetworks writes the whole `networkAcls` it planned (Deny, only the allowed rules), and so
    does the command: az 2.91's `--set properties.networkAcls.defaultAction=Deny` fails on an account without
    `networkAcls` ("Couldn't find 'networkAcls' in 'properties'") and would keep the rules the close drops."""
    properties = action.body.get("properties", {}) if isinstance(action.body, dict) else {}
    acls = properties.get("networkAcls")
    setting = ("properties.publicNetworkAccess=Disabled" if acls is None
               else f"properties.networkAcls={shlex.quote(json.dumps(acls, separators=(',', ':')))}")
    return ACTIONS[action.kind].manual.format(target=action.target, property=setting)


def _failure_text(action: Action, error: BaseException, kind: ErrorKind, full: str | None = None) -> str:
    """For a failure another try cannot change, what a person must do, then Azure's code and message; else
    Azure's alone. The advice comes first: the telemetry line, and so the workbook's ManualFix, keep only the
    error's first 600 characters (core/telemetry.py), and Azure's message alone can fill them. `full`: which limit
    is full, when the app could tell."""
    text = describe(error)
    if kind is ErrorKind.LOCKED:
        advice = f"locked, not retried: {lock_advice(error_message(error), str(action.target))}"
    elif kind is ErrorKind.LIMIT:
        advice = (f"{full + ': ' if full else ''}a limit of Azure's refuses it, not retried: "
                  f"{ACTIONS[action.kind].limit or manual(action)}")
    elif kind is ErrorKind.POLICY:
        advice = f"Azure Policy denies it, not retried: ask the policy's owner for an exemption, or {manual(action)}"
    elif kind is ErrorKind.REFUSED:
        advice = f"refused for good, not retried: {manual(action)}"
    elif kind is ErrorKind.FORBIDDEN:
        advice = (f"the app's identity lacks the right: grant it the role that holds {ACTIONS[action.kind].rbac[0]} "
                  f"on {action.target} (infra/roles)")
    else:
        return text
    return f"{advice}; Azure answered {text}"


def _body(action: Action) -> bytes:
    return json.dumps(action.body).encode()


def _connection_status(endpoint: Any) -> str | None:
    try:
        connection = endpoint["properties"]["privateLinkServiceConnections"][0]
        status = connection["properties"]["privateLinkServiceConnectionState"]["status"]
    except (KeyError, IndexError, TypeError):
        return None
    return status if isinstance(status, str) else None


_ACCOUNT_PATCHES = (ActionKind.CLOSE_EXPOSURE, ActionKind.PATCH_ACCOUNT_NETWORK)
_ACCOUNT_WRITES = (*_ACCOUNT_PATCHES, ActionKind.APPROVE_CONNECTION, ActionKind.CREATE_PRIVATE_ENDPOINT)
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
