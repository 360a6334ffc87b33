"""The sweep: every managed account in every scope, screened cheaply, work queued only where needed.

Called by `function_app.sweep` on its timer (`run_sweep`) and by the operator command's `scan`.

Events get lost (Event Grid drops what it cannot deliver in 24 h, apps are redeployed, subscriptions
are added), so the sweep is the safety net. It costs list requests, not reads per account:

- the accounts of each scope, page by page (their properties carry the network settings and the
  private endpoint connections);
- the private endpoints of each resource group that holds an allowed subnet (which subnet each sits in);
- per DNS zone the kinds need, in the DNS resource group: its virtual network links and its record sets
  (a zone group writes an A record named after the account's custom subdomain). A record is screened by
  value against the private IPs the endpoint list carries (`customDnsConfigs`): the record screen costs no
  request of its own.

The independent streams run side by side, at most REMEDIATION_SWEEP_CONCURRENCY at a time: first the
endpoint lists and the zone lists, then one stream of accounts per scope (a thousand subscriptions are a
thousand streams, each with its own throttling buckets), screened and queued as they stream past. Resource
Manager answers in tens to hundreds of milliseconds, so the sweep's wall time is its longest chain of pages,
not the sum of its requests. The accounts stream past; only compact sets (endpoint → VNet and IPs, zone →
record names and addresses) are kept, so memory grows with those, a fraction of a KiB per account.
Screening is deliberately a little eager: an account it flags gets a full reconcile, which decides.
"""

from __future__ import annotations

import ipaddress
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from remediation.arm.clients import (
    COGNITIVE_API_VERSION,
    NETWORK_API_VERSION,
    PRIVATE_DNS_API_VERSION,
    ArmClients,
    describe,
)
from remediation.core.arm_json import json_get, same_text
from remediation.core.desired import OTHER_RECORD_TYPES, DesiredState, desired_state, zones_for_kind
from remediation.core.exemption import NOT_EXEMPT, Exemption, exemption
from remediation.core.findings import FindingCode
from remediation.core.ids import ACCOUNT_TYPE, ResourceId, try_parse_resource_id
from remediation.core.model import Account, Mode, Outcome, Trigger, vnet_of
from remediation.core.naming import private_endpoint_id, zone_link_name
from remediation.core.operations import TargetKind
from remediation.core.plan import account_findings
from remediation.core.record import AuditRecord
from remediation.core.settings import PublicAccessMode, Settings
from remediation.core.telemetry import heartbeat_line, is_open, open_since
from remediation.engine.reconcile import Remediator
from remediation.store.audit import AuditTable
from remediation.store.queue import WorkItem, WorkQueue

log = logging.getLogger("remediation")


@dataclass(frozen=True)
class Screened:
    account: Account
    findings: tuple[FindingCode, ...]
    # Findings a reconcile can only report (no custom subdomain; no subnet for a new endpoint; the app's own
    # endpoint rejected): reported, but not worth a work item on every sweep.
    unfixable: frozenset[FindingCode] = frozenset()
    exemption: Exemption = NOT_EXEMPT  # the same rule `fix` applies: an exempt account is never queued

    @property
    def needs_work(self) -> bool:
        return not self.exemption.exempt and any(code not in self.unfixable for code in self.findings)


@dataclass
class Inventory:
    """What the sweep learned in bulk: allowed endpoints' VNets and private IPs, and per zone its links and
    its A records' names and addresses."""

    endpoint_vnets: dict[str, ResourceId | None] = field(default_factory=dict)  # endpoint key → its VNet
    # Addresses are kept as integers (`_packed`): a tuple of ints per endpoint and per record keeps the
    # inventory of a large estate small.
    endpoint_ips: dict[str, tuple[int, ...]] = field(default_factory=dict)  # endpoint key → IPs (customDnsConfigs)
    zone_links: dict[str, frozenset[ResourceId]] = field(default_factory=dict)  # zone name → linked VNets
    zone_link_names: dict[str, frozenset[str]] = field(default_factory=dict)  # zone name → link names (lower)
    zone_records: dict[str, dict[str, tuple[int, ...]]] = field(default_factory=dict)  # zone → name (lower) → IPs
    zone_other_records: dict[str, frozenset[str]] = field(default_factory=dict)  # zone → names with AAAA or CNAME
    missing_zones: set[str] = field(default_factory=set)
    # Lists that failed: the accounts are still screened on their own properties (an open account is queued
    # whatever else failed), and nothing is judged on what the failed lists would have told.
    failed: list[str] = field(default_factory=list)

    @property
    def endpoints_known(self) -> bool:
        return not any(f.startswith("endpoints") for f in self.failed)


@dataclass
class SweepSummary:
    scope: str
    accounts: int = 0
    by_finding: Counter[str] = field(default_factory=Counter)
    queued: int = 0
    exempt: int = 0  # accounts the exemption rule exempts (their findings are not counted in by_finding)
    arm_requests: int = 0
    duration_ms: int = 0
    errors: list[str] = field(default_factory=list)  # lists that failed; the sweep went on without them


_DNS_PAGE = 1000
_READ_AHEAD = 2000  # accounts a stream holds while the inventory is still being listed


class Sweeper:
    def __init__(self, clients: ArmClients, settings: Settings) -> None:
        self.clients = clients
        self.settings = settings
        self._lock = threading.Lock()  # the inventory and `each` are shared by the sweep's threads
        self._desired_states: dict[tuple[str, str], DesiredState] = {}

    def _desired(self, kind: str, location: str) -> DesiredState:
        """The desired state per kind and location, built once (the screen asks for it per account)."""
        key = (kind.lower(), location)
        if key not in self._desired_states:
            self._desired_states[key] = desired_state(self.settings, kind, location)
        return self._desired_states[key]

    def inventory(self, pool: ThreadPoolExecutor) -> tuple[Inventory, int]:
        """The endpoints of the allowed subnets and the zones' links and A records, listed in bulk and side by
        side; and the requests it took."""
        inventory = Inventory()
        # Endpoints are listed per resource group of an allowed subnet: the network role is assigned there,
        # and Resource Manager authorizes a list at the scope in its URL (a subscription-wide list is a 403).
        groups = sorted({str(s.resource_group_id) for s in self.settings.allowed_subnets}, key=str.lower)
        dns_rg = self.settings.dns_zone_resource_group
        zones = sorted({z for kind in self.settings.kinds for z in zones_for_kind(kind)}) if dns_rg else []
        lists = [pool.submit(self._counted, self._list_endpoints, group, inventory) for group in groups]
        lists += [pool.submit(self._counted, self._list_zone, zone, inventory) for zone in zones]
        return inventory, sum(future.result() for future in lists)

    def _counted(self, work: Callable[[str, Inventory], None], what: str, inventory: Inventory) -> int:
        """Run one list in this thread; the requests it sent. A list that fails is named in the inventory, and
        the sweep goes on without it."""
        before = self.clients.thread_request_count
        try:
            work(what, inventory)
        except Exception as error:  # noqa: BLE001 - named in the summary; the accounts are still screened
            kind = "endpoints" if work == self._list_endpoints else "zone"
            with self._lock:
                inventory.failed.append(f"{kind} of {what}: {describe(error)}")
        return self.clients.thread_request_count - before

    def _list_endpoints(self, group: str, inventory: Inventory) -> None:
        serving = self.settings.allowed_subnets
        vnets: dict[str, ResourceId | None] = {}
        ips: dict[str, tuple[int, ...]] = {}
        vnet_of_subnet: dict[ResourceId, ResourceId | None] = {}  # one VNet object per subnet, not per endpoint
        path = f"{group}/providers/Microsoft.Network/privateEndpoints"
        for endpoint in self.clients.list_json(path, NETWORK_API_VERSION):
            subnet = try_parse_resource_id(json_get(endpoint, "properties", "subnet", "id"))
            endpoint_id = try_parse_resource_id(json_get(endpoint, "id"))
            if subnet is None or subnet not in serving or endpoint_id is None:
                continue
            if subnet not in vnet_of_subnet:
                vnet_of_subnet[subnet] = vnet_of(subnet)
            vnets[endpoint_id.key] = vnet_of_subnet[subnet]
            if addresses := _endpoint_ips(endpoint):
                ips[endpoint_id.key] = addresses
        with self._lock:
            inventory.endpoint_vnets.update(vnets)
            inventory.endpoint_ips.update(ips)

    def _list_zone(self, zone: str, inventory: Inventory) -> None:
        """One zone's links and record sets: two lists, whatever the number of accounts it serves, in pages of
        1,000 (the largest `$top` DNS allows: "It must be a number between '1' and '1000'", quoted in
        MicrosoftDocs/feedback#1111 for Azure DNS zones; assumed the same for private DNS)."""
        from azure.core.exceptions import ResourceNotFoundError

        assert self.settings.dns_zone_resource_group is not None
        zone_path = f"{self.settings.dns_zone_resource_group}/providers/Microsoft.Network/privateDnsZones/{zone}"
        try:
            listed = list(self.clients.list_json(f"{zone_path}/virtualNetworkLinks", PRIVATE_DNS_API_VERSION,
                                                 top=_DNS_PAGE))
        except ResourceNotFoundError:
            with self._lock:
                inventory.missing_zones.add(zone)
            return
        names = frozenset(str(json_get(link, "name") or "").lower() for link in listed)
        # A link counts only once its provisioning Succeeded: one still being made, or Failed, resolves nothing.
        linked = {try_parse_resource_id(json_get(link, "properties", "virtualNetwork", "id")) for link in listed
                  if same_text(json_get(link, "properties", "provisioningState") or "Succeeded", "Succeeded")}
        records: dict[str, tuple[int, ...]] = {}
        others: set[str] = set()
        for record in self.clients.list_json(f"{zone_path}/ALL", PRIVATE_DNS_API_VERSION, top=_DNS_PAGE):
            record_type = str(json_get(record, "type") or "").rsplit("/", 1)[-1].upper()
            if record_type == "A":
                entries = json_get(record, "properties", "aRecords")
                addresses = (json_get(e, "ipv4Address") for e in entries) if isinstance(entries, list) else ()
                records[str(json_get(record, "name")).lower()] = _packed(addresses)
            elif record_type in OTHER_RECORD_TYPES:
                others.add(str(json_get(record, "name")).lower())
        with self._lock:
            inventory.zone_links[zone] = frozenset(v for v in linked if v is not None)
            inventory.zone_link_names[zone] = names
            inventory.zone_records[zone] = records
            inventory.zone_other_records[zone] = frozenset(others)

    def accounts(self, scope: ResourceId) -> Iterator[Account]:
        """Every managed account in the scope, streamed page by page."""
        for body in self.clients.list_json(f"{scope}/providers/{ACCOUNT_TYPE}", COGNITIVE_API_VERSION,
                                           read_ahead=True):
            try:
                account = Account.from_arm(body)
            except Exception:  # noqa: BLE001 - an unreadable entry is skipped, not the whole sweep
                continue
            if account.id.is_within(scope) and account.kind.lower() in self.settings.kinds:
                yield account

    def screen(self, account: Account, inventory: Inventory) -> Screened:
        """The findings one account shows in list data, and whether it is exempt (desired.exemption, as `fix`)."""
        screened = self._screen(account, inventory)
        exempt = exemption(self.settings, account.id, account.tags, datetime.now(UTC))
        return replace(screened, exemption=exempt) if exempt.exempt else screened

    def _screen(self, account: Account, inventory: Inventory) -> Screened:
        """The findings one account shows in list data: a little eager, since a reconcile decides."""
        desired = self._desired(account.kind, account.location)
        codes = account_findings(desired, account)
        unfixable = {FindingCode.CUSTOM_SUBDOMAIN_MISSING}
        if not account.ready or not account.custom_subdomain:
            return Screened(account, tuple(sorted(codes)), frozenset(unfixable))
        if not inventory.endpoints_known:  # an endpoint list failed: judged on the account's own properties only
            return Screened(account, tuple(sorted(codes)), frozenset(unfixable))
        if not self.settings.allowed_subnets:  # a first run: any Approved connection serves (plan.py says why)
            if not any(c.approved for c in account.connections):
                codes.add(FindingCode.PRIVATE_ENDPOINT_MISSING)
                unfixable.add(FindingCode.PRIVATE_ENDPOINT_MISSING)
            return Screened(account, tuple(sorted(codes)), frozenset(unfixable))

        serving, pending = [], False
        for connection in account.connections:
            key = connection.private_endpoint_id.key if connection.private_endpoint_id else None
            if key not in inventory.endpoint_vnets:
                continue
            serving += [inventory.endpoint_vnets[key]] if connection.approved else []
            pending |= connection.pending
        if pending:
            codes.add(FindingCode.PRIVATE_ENDPOINT_CONNECTION_PENDING)
        if not serving and not pending:
            codes.add(FindingCode.PRIVATE_ENDPOINT_MISSING)
            subnet = desired.new_endpoint_subnet
            own = private_endpoint_id(account.id, subnet) if subnet else None
            if own is None or any(c.private_endpoint_id == own for c in account.connections):
                unfixable.add(FindingCode.PRIVATE_ENDPOINT_MISSING)  # no subnet configured, or ours was rejected
        if self.settings.dns_zone_resource_group is not None and serving:
            dns = self._dns_findings(account, desired.dns_zones, serving, inventory)
            name = account.custom_subdomain.lower()
            if any(name in inventory.zone_other_records.get(zone, frozenset()) for zone in desired.dns_zones):
                # An AAAA or CNAME record set at its name: a reconcile only reports it, unless the A record drifted too.
                unfixable |= {FindingCode.PRIVATE_DNS_RECORD_MISMATCH} - dns
                dns.add(FindingCode.PRIVATE_DNS_RECORD_MISMATCH)
            codes |= dns
            if _link_names_taken(desired.dns_zones, serving, inventory):
                unfixable.add(FindingCode.PRIVATE_DNS_ZONE_LINK_MISSING)  # a reconcile would only report it again
        return Screened(account, tuple(sorted(codes)), frozenset(unfixable))

    @staticmethod
    def _dns_findings(account: Account, zones: tuple[str, ...], vnets: list[ResourceId | None],
                      inventory: Inventory) -> set[FindingCode]:
        codes: set[FindingCode] = set()
        name = (account.custom_subdomain or "").lower()
        ips = _serving_ips(account, inventory)
        recorded = 0
        zones = tuple(z for z in zones if z in inventory.missing_zones or z in inventory.zone_links)  # listed
        for zone in zones:
            if zone in inventory.missing_zones:
                codes.add(FindingCode.PRIVATE_DNS_ZONE_MISSING)
                continue
            if any(v is not None and v not in inventory.zone_links.get(zone, frozenset()) for v in vnets):
                codes.add(FindingCode.PRIVATE_DNS_ZONE_LINK_MISSING)
            held = inventory.zone_records.get(zone, {}).get(name)
            recorded += held is not None
            # By value: a record that answers nothing, or an address no serving endpoint has.
            if held is not None and (not held or (ips is not None and not set(held) <= ips)):
                codes.add(FindingCode.PRIVATE_DNS_RECORD_MISMATCH)
        # A zone group writes a record in each zone it names; a missing zone holds none to judge it by.
        present = sum(zone not in inventory.missing_zones for zone in zones)
        if present and recorded == 0:
            codes.add(FindingCode.PRIVATE_DNS_ZONE_GROUP_MISSING)  # or the record deleted: the reconcile tells
        elif recorded < present:
            codes.add(FindingCode.PRIVATE_DNS_ZONE_GROUP_INCOMPLETE)
        return codes

    def run(self, enqueue: Callable[[Account], None] | None,
            each: Callable[[Screened], None] | None = None) -> list[SweepSummary]:
        """Screen every scope and enqueue what needs work, REMEDIATION_SWEEP_CONCURRENCY streams at a time;
        `each` sees every screened account as it streams past (one at a time; no account is collected here).
        One summary per scope, in the order of the scopes."""
        # Pools of their own, so an account stream waiting for the inventory never holds a thread its lists
        # need, and the inventory's own thread never waits on a list queued behind it.
        concurrency = self.settings.sweep_concurrency
        with ThreadPoolExecutor(concurrency, thread_name_prefix="sweep-lists") as lists, \
                ThreadPoolExecutor(1, thread_name_prefix="sweep-inventory") as inventory, \
                ThreadPoolExecutor(concurrency, thread_name_prefix="sweep-scopes") as streams:
            listed = inventory.submit(self.inventory, lists)
            summaries = list(streams.map(lambda scope: self._sweep_scope(scope, listed, enqueue, each),
                                         self.settings.scopes))
            shared, inventory_requests = listed.result()
        if summaries:  # the shared inventory is counted (and its failed lists named) with the first scope
            summaries[0].arm_requests += inventory_requests
            summaries[0].errors[:0] = shared.failed
        return summaries

    def _sweep_scope(self, scope: ResourceId, listed: Future[tuple[Inventory, int]],
                     enqueue: Callable[[Account], None] | None,
                     each: Callable[[Screened], None] | None) -> SweepSummary:
        """One scope's accounts, page by page, in this thread. While the endpoint and zone lists are still
        coming, the stream reads ahead up to _READ_AHEAD accounts, then waits for them (memory stays bounded
        by streams × _READ_AHEAD, not by the estate)."""
        started, requests = time.monotonic(), self.clients.thread_request_count
        summary = SweepSummary(str(scope))
        ahead: list[Account] = []
        try:
            for account in self.accounts(scope):
                if not listed.done() and len(ahead) < _READ_AHEAD:
                    ahead.append(account)
                    continue
                for early in (*ahead, account):
                    self._screen_into(summary, early, listed.result()[0], enqueue, each)
                ahead.clear()
        except Exception as error:  # noqa: BLE001 - named in the summary; the accounts listed so far are screened
            summary.errors.append(f"accounts of {scope}: {describe(error)}")
        for early in ahead:
            self._screen_into(summary, early, listed.result()[0], enqueue, each)
        summary.arm_requests = self.clients.thread_request_count - requests
        summary.duration_ms = int((time.monotonic() - started) * 1000)
        return summary

    def _screen_into(self, summary: SweepSummary, account: Account, inventory: Inventory,
                     enqueue: Callable[[Account], None] | None, each: Callable[[Screened], None] | None) -> None:
        screened = self.screen(account, inventory)
        summary.accounts += 1
        if screened.exemption.exempt:
            summary.exempt += 1
        else:
            summary.by_finding.update(code.value for code in screened.findings)
        if screened.needs_work and enqueue is not None:
            enqueue(account)
            summary.queued += 1
        if each is not None:
            with self._lock:
                each(screened)


def _link_names_taken(zones: tuple[str, ...], vnets: list[ResourceId | None], inventory: Inventory) -> bool:
    """True when every missing link is one whose name (the name the app gives it) a link to another VNet
    already holds: the app will not overwrite that link, so only a person can clear the name."""
    missing = [(zone, vnet) for zone in zones if zone in inventory.zone_links for vnet in vnets
               if vnet is not None and vnet not in inventory.zone_links[zone]]
    return bool(missing) and all(zone_link_name(vnet).lower() in inventory.zone_link_names.get(zone, frozenset())
                                 for zone, vnet in missing)


def _endpoint_ips(endpoint: Any) -> tuple[int, ...]:
    """An endpoint's private IPs from its `customDnsConfigs` (the list carries them: no read per endpoint)."""
    configs = json_get(endpoint, "properties", "customDnsConfigs")
    return _packed((ip for config in (configs if isinstance(configs, list) else [])
                    for ip in (json_get(config, "ipAddresses") or [])), keep_unreadable=False)


def _packed(addresses: Iterable[Any], keep_unreadable: bool = True) -> tuple[int, ...]:
    """IPv4 addresses as integers, each once. In a record, one that is not an address is kept as -1, which
    no endpoint has; an endpoint's own such address is left out."""
    packed: dict[int, None] = {}
    for address in addresses:
        try:
            packed[int(ipaddress.IPv4Address(str(address)))] = None
        except ValueError:
            if keep_unreadable:
                packed[-1] = None
    return tuple(packed)


def _serving_ips(account: Account, inventory: Inventory) -> frozenset[int] | None:
    """The private IPs of the account's approved endpoints in allowed subnets; None when one of them has
    none listed (then a record is screened for being there and non-empty only)."""
    ips: set[int] = set()
    for connection in account.connections:
        key = connection.private_endpoint_id.key if connection.private_endpoint_id else None
        if not connection.approved or key not in inventory.endpoint_vnets:
            continue
        if key not in inventory.endpoint_ips:
            return None
        ips.update(inventory.endpoint_ips[key])
    return frozenset(ips)


class SweepIncomplete(Exception):
    """Raised to the host once everything the sweep could do is done and recorded: a list failed, so the run is
    a failed run (the alert on failed function runs sees it), not a quiet partial one."""


def run_sweep(remediator: Remediator, queue: WorkQueue) -> list[SweepSummary]:
    """The timer's sweep: screen every account in scope, queue work for the drifted ones, record one
    summary per scope (and a failed record, then the error, when the sweep itself fails), then write the
    heartbeat line. A list that fails does not stop the others: every account listed is still screened on its
    own properties (an open one is queued), its summary names the failure, and once the heartbeat is out the run
    ends in SweepIncomplete. Every log line is written here, on the invocation's own thread: the sweep's pool
    threads and the page read-ahead thread only count (the host drops log lines that carry no invocation ID)."""
    settings = remediator.settings
    started = time.monotonic()
    pulse = Pulse(settings.public_network_access is PublicAccessMode.SELECTED_NETWORKS)
    try:
        summaries = Sweeper(remediator.clients, settings).run(lambda account: queue.put(
            WorkItem(TargetKind.ACCOUNT, str(account.id), Trigger.SWEEP)), pulse.count)
    except Exception as error:  # noqa: BLE001 - recorded, then raised so the host logs the failed run
        record = AuditRecord(",".join(map(str, settings.scopes)), Trigger.SWEEP, settings.mode,
                             Outcome.FAILED, error=describe(error))
        remediator.auditor.record(record)
        raise
    for summary in summaries:
        log.info("sweep of %s: %d accounts, %d queued, %d ARM requests, %d ms, findings %s", summary.scope,
                 summary.accounts, summary.queued, summary.arm_requests, summary.duration_ms,
                 dict(summary.by_finding))
        remediator.auditor.record(summary_record(summary, settings.mode))
    table = remediator.breaker.table if remediator.breaker else None  # the audit table, where exposures began
    log.info("%s", heartbeat(pulse, summaries, queue, table, int((time.monotonic() - started) * 1000)))
    failed = [error for summary in summaries for error in summary.errors]
    if failed:
        raise SweepIncomplete("; ".join(failed)[:2000])
    return summaries


_MAX_OPEN_LOOKUPS = 100  # open accounts whose history the heartbeat reads (each one table query)
_HISTORY = 20  # records read back per open account


@dataclass
class Pulse:
    """What the heartbeat counts while the accounts stream past (called by `Sweeper.run` under its lock)."""

    selected_networks: bool
    screened: int = 0
    open: int = 0
    drifted: int = 0
    exempt: int = 0
    open_ids: list[ResourceId] = field(default_factory=list)  # the first _MAX_OPEN_LOOKUPS open accounts

    def count(self, screened: Screened) -> None:
        self.screened += 1
        if screened.exemption.exempt:
            self.exempt += 1
            return
        self.drifted += bool(screened.findings)
        if is_open(screened.findings, self.selected_networks):
            self.open += 1
            if len(self.open_ids) < _MAX_OPEN_LOOKUPS:
                self.open_ids.append(screened.account.id)


def heartbeat(pulse: Pulse, summaries: list[SweepSummary], queue: WorkQueue, table: AuditTable | None,
              duration_ms: int) -> str:
    """The sweep's heartbeat line: accounts screened and open, the oldest open exposure, the queues' lengths."""
    now = datetime.now(UTC)
    oldest, unknown = _oldest_exposure(pulse, table)
    lengths: tuple[int | None, int | None]
    try:
        lengths = queue.lengths()
    except Exception as error:  # noqa: BLE001 - the heartbeat still goes out, the lengths unknown (null)
        log.warning("queue lengths unreadable: %s", type(error).__name__)
        lengths = (None, None)
    fields = {"scopes": len(summaries), "accountsScreened": pulse.screened, "accountsOpen": pulse.open,
              "accountsDrifted": pulse.drifted, "accountsExempt": pulse.exempt,
              "workItemsQueued": sum(s.queued for s in summaries),
              "oldestOpenExposureMs": _age_ms(oldest[0], now) if oldest else None,
              "oldestOpenAccount": str(oldest[1]) if oldest else None, "openSinceUnknown": unknown,
              "workQueueLength": lengths[0], "poisonQueueLength": lengths[1],
              "armRequests": sum(s.arm_requests for s in summaries), "durationMs": duration_ms,
              "listsFailed": sum(len(s.errors) for s in summaries)}
    return heartbeat_line(fields, now)


def _oldest_exposure(pulse: Pulse, table: AuditTable | None) -> tuple[tuple[str, ResourceId] | None, int]:
    """The earliest start among the open accounts' exposures (from their audit records), and how many open accounts
    have no known start (no record left them open yet, more than _MAX_OPEN_LOOKUPS, or no table)."""
    if table is None:
        return None, pulse.open
    starts: list[tuple[str, ResourceId]] = []
    for account_id in pulse.open_ids:
        try:
            since = open_since(table.history(account_id, _HISTORY), pulse.selected_networks)
        except Exception as error:  # noqa: BLE001 - an unreadable history is an unknown start, not a failed sweep
            log.warning("audit history of %s unreadable: %s", account_id, type(error).__name__)
            since = None
        if since is not None and (moment := _parse_time(since)) is not None:
            starts.append((moment.isoformat(), account_id))
    return (min(starts, key=lambda s: s[0]) if starts else None), pulse.open - len(starts)


def _parse_time(text: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _age_ms(start: str, now: datetime) -> int:
    return max(0, int((now - datetime.fromisoformat(start)).total_seconds() * 1000))


def summary_record(summary: SweepSummary, mode: Mode) -> AuditRecord:
    """A sweep's audit record: the scope as its resource, counts by finding, and the summary in `after`."""
    return AuditRecord(
        summary.scope, Trigger.SWEEP, mode,
        Outcome.FAILED if summary.errors else Outcome.DEFERRED if summary.queued else Outcome.COMPLIANT,
        findings=[{"code": code, "property": "accounts", "actual": count, "expected": 0}
                  for code, count in sorted(summary.by_finding.items())],
        actions=[{"name": "queue-work-items", "target": summary.scope, "status": "succeeded", "error": None}]
        if summary.queued else [],
        after={"accountsSeen": summary.accounts, "workItemsQueued": summary.queued, "exempt": summary.exempt,
               "armRequests": summary.arm_requests, "byFinding": dict(summary.by_finding)},
        duration_ms=summary.duration_ms, error="; ".join(summary.errors)[:2000] or None)
