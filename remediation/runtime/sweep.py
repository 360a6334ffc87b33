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

Each list is a chain: a page's nextLink is the next request, so its pages come one after another, and
Resource Manager answers in tens to hundreds of milliseconds: the sweep lasts at least its longest chain,
whatever the concurrency. So every chain is recorded (pages, requests, time; the heartbeat and `scan --json`
name the longest), the chains run side by side, REMEDIATION_SWEEP_CONCURRENCY at a time, the record set lists
(the longest, in large estates) first, and a long chain is split where Azure allows it: a subscription whose
account list goes past its first page is read per resource group when threads would idle. Account pages are
fetched from the start; they are screened as they come once the endpoint and zone lists are complete, and held
until then (at most _HELD accounts: memory stays bounded whatever the estate). What is kept besides is compact
(endpoint → VNet and IPs, zone → record names and addresses), a fraction of a KiB per account.
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
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import partial
from typing import Any

from remediation.arm.clients import (
    COGNITIVE_API_VERSION,
    NETWORK_API_VERSION,
    PRIVATE_DNS_API_VERSION,
    ArmClients,
    Page,
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


# Accounts held, at most, while the inventory is still being listed (~2.5 KiB each: about 50 MiB); a list that
# finds the hold full waits for the inventory, so memory stays bounded whatever the estate (docs/sizing.md).
_HELD = 20_000
# Resource groups list (Microsoft.Resources): a version the Resources API has served since 2021.
RESOURCES_API_VERSION = "2021-04-01"


@dataclass
class Chain:
    """One list, read page after page (each page's nextLink is the next request, so its pages cannot overlap):
    its pages, its requests (retries included) and how long it took. A sweep lasts at least its longest chain."""

    name: str  # "accounts of /subscriptions/…", "records of privatelink.openai.azure.com", …
    shared: bool = True  # part of the shared inventory (counted with the first scope)
    pages: int = 0
    requests: int = 0
    ms: int = 0

    def page(self, page: Page | None) -> Page:
        self.pages += page is not None
        return page if page is not None else Page([])

    def items(self, pages: Iterable[Page]) -> Iterator[dict[str, Any]]:
        for page in pages:
            yield from (item for item in self.page(page) if isinstance(item, dict))

    @contextmanager
    def timed(self, clients: ArmClients) -> Iterator[None]:
        """Time the chain and count its requests (all sent from this thread)."""
        started, before = time.monotonic(), clients.thread_request_count
        try:
            yield
        finally:
            self.ms += int((time.monotonic() - started) * 1000)
            self.requests += clients.thread_request_count - before

    def to_json(self) -> dict[str, Any]:
        return {"list": self.name, "pages": self.pages, "requests": self.requests, "ms": self.ms}


class _Run:
    """One sweep's work on its pool: chains submitted as they are found (a subscription's resource groups after
    its first page), the inventory's completion, and the accounts held until then."""

    def __init__(self, pool: ThreadPoolExecutor, held: int) -> None:
        self._pool, self._limit = pool, held
        self._lock = threading.Lock()
        self._futures: list[Future[None]] = []
        self.chains: list[Chain] = []
        self._ready = threading.Condition()
        self._inventory_left = 0
        self._held: list[tuple[SweepSummary, Account]] | None = []  # None once the inventory is complete

    def chain(self, name: str, shared: bool = True) -> Chain:
        with self._lock:
            self.chains.append(chain := Chain(name, shared))
        return chain

    def submit(self, work: Callable[[], None]) -> None:
        with self._lock:
            self._futures.append(self._pool.submit(work))

    def wait(self) -> None:
        """Until every chain, including those submitted meanwhile, is done."""
        done = 0
        while True:
            with self._lock:
                if done == len(self._futures):
                    return
                future = self._futures[done]
            future.result()
            done += 1

    def expect_inventory(self, lists: int) -> None:
        self._inventory_left = lists

    def inventory_done(self) -> None:
        with self._ready:
            self._inventory_left -= 1
            self._ready.notify_all()

    def wait_inventory(self) -> None:
        with self._ready:
            self._ready.wait_for(lambda: self._inventory_left <= 0)

    def hold(self, summary: SweepSummary, accounts: list[Account]) -> bool:
        """Keep accounts to screen once the inventory is complete (True), or False when it already is. A full
        hold waits for it."""
        with self._ready:
            self._ready.wait_for(lambda: self._held is None or len(self._held) < self._limit)
            if self._held is None:
                return False
            self._held.extend((summary, account) for account in accounts)
            return True

    def release(self) -> list[tuple[SweepSummary, Account]]:
        """The accounts held so far; from now on accounts are screened as they are listed."""
        with self._ready:
            held, self._held = self._held or [], None
            self._ready.notify_all()
            return held


class Sweeper:
    def __init__(self, clients: ArmClients, settings: Settings) -> None:
        self.clients = clients
        self.settings = settings
        self._lock = threading.Lock()  # the inventory and `each` are shared by the sweep's threads
        self._desired_states: dict[tuple[str, str], DesiredState] = {}
        self.chains: list[Chain] = []  # the last run's lists, longest first

    def _desired(self, kind: str, location: str) -> DesiredState:
        """The desired state per kind and location, built once (the screen asks for it per account)."""
        key = (kind.lower(), location)
        if key not in self._desired_states:
            self._desired_states[key] = desired_state(self.settings, kind, location)
        return self._desired_states[key]

    def _inventory_lists(self, run: _Run, inventory: Inventory) -> list[Callable[[], None]]:
        """The endpoint and zone lists, each a chain of its own, the longest (record sets) first."""
        # Endpoints are listed per resource group of an allowed subnet: the network role is assigned there,
        # and Resource Manager authorizes a list at the scope in its URL (a subscription-wide list is a 403).
        groups = sorted({str(s.resource_group_id) for s in self.settings.allowed_subnets}, key=str.lower)
        dns_rg = self.settings.dns_zone_resource_group
        zones = sorted({z for kind in self.settings.kinds for z in zones_for_kind(kind)}) if dns_rg else []
        return [*(partial(self._listed, run, f"records of {zone}", self._list_records, zone, inventory)
                  for zone in zones),
                *(partial(self._listed, run, f"endpoints of {group}", self._list_endpoints, group, inventory)
                  for group in groups),
                *(partial(self._listed, run, f"links of {zone}", self._list_links, zone, inventory)
                  for zone in zones)]

    def _listed(self, run: _Run, name: str, work: Callable[[Chain, str, Inventory], None], what: str,
                inventory: Inventory) -> None:
        """Run one inventory list in this thread, as one chain. A list that fails is named in the inventory, and
        the sweep goes on without it."""
        chain = run.chain(name)
        try:
            with chain.timed(self.clients):
                work(chain, what, inventory)
        except Exception as error:  # noqa: BLE001 - named in the summary; the accounts are still screened
            kind = "endpoints" if name.startswith("endpoints") else "zone"
            with self._lock:
                inventory.failed.append(f"{kind} of {what}: {describe(error)}")
        finally:
            run.inventory_done()

    def _list_endpoints(self, chain: Chain, group: str, inventory: Inventory) -> None:
        serving = self.settings.allowed_subnets
        vnets: dict[str, ResourceId | None] = {}
        ips: dict[str, tuple[int, ...]] = {}
        vnet_of_subnet: dict[ResourceId, ResourceId | None] = {}  # one VNet object per subnet, not per endpoint
        path = f"{group}/providers/Microsoft.Network/privateEndpoints"
        for endpoint in chain.items(self.clients.list_pages(path, NETWORK_API_VERSION)):
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

    def _zone_path(self, zone: str) -> str:
        assert self.settings.dns_zone_resource_group is not None
        return f"{self.settings.dns_zone_resource_group}/providers/Microsoft.Network/privateDnsZones/{zone}"

    def _list_links(self, chain: Chain, zone: str, inventory: Inventory) -> None:
        """A zone's virtual network links, in Azure's default pages (no `$top`: see _list_records)."""
        from azure.core.exceptions import ResourceNotFoundError

        try:
            listed = list(chain.items(self.clients.list_pages(f"{self._zone_path(zone)}/virtualNetworkLinks",
                                                              PRIVATE_DNS_API_VERSION)))
        except ResourceNotFoundError:
            with self._lock:
                inventory.missing_zones.add(zone)
            return
        names = frozenset(str(json_get(link, "name") or "").lower() for link in listed)
        # A link counts only once its provisioning Succeeded: one still being made, or Failed, resolves nothing.
        linked = {try_parse_resource_id(json_get(link, "properties", "virtualNetwork", "id")) for link in listed
                  if same_text(json_get(link, "properties", "provisioningState") or "Succeeded", "Succeeded")}
        with self._lock:
            inventory.zone_links[zone] = frozenset(v for v in linked if v is not None)
            inventory.zone_link_names[zone] = names

    def _list_records(self, chain: Chain, zone: str, inventory: Inventory) -> None:
        """A zone's record sets, one list whatever the number of accounts it serves, in the pages Azure gives
        without `$top`: "If not specified, returns up to 100 record sets" (azure-rest-api-specs privatedns
        RecordSet.tsp @1a77e8ba). No larger `$top` is sent: private DNS documents no maximum (public DNS's
        "between '1' and '1000'", MicrosoftDocs/feedback#1111, is another service's). The API's only partitions,
        by record type (`/A`, `/AAAA`, `/CNAME`) and by `$recordsetnamesuffix` (names ending ".<suffix>"), do not
        split the A records of accounts' single-label names, so this chain stays whole."""
        from azure.core.exceptions import ResourceNotFoundError

        records: dict[str, tuple[int, ...]] = {}
        others: set[str] = set()
        try:
            for record in chain.items(self.clients.list_pages(f"{self._zone_path(zone)}/ALL",
                                                              PRIVATE_DNS_API_VERSION)):
                record_type = str(json_get(record, "type") or "").rsplit("/", 1)[-1].upper()
                if record_type == "A":
                    entries = json_get(record, "properties", "aRecords")
                    addresses = (json_get(e, "ipv4Address") for e in entries) if isinstance(entries, list) else ()
                    records[str(json_get(record, "name")).lower()] = _packed(addresses)
                elif record_type in OTHER_RECORD_TYPES:
                    others.add(str(json_get(record, "name")).lower())
        except ResourceNotFoundError:
            with self._lock:
                inventory.missing_zones.add(zone)
            return
        with self._lock:
            inventory.zone_records[zone] = records
            inventory.zone_other_records[zone] = frozenset(others)

    def _account(self, body: dict[str, Any], scope: ResourceId) -> Account | None:
        """A managed account of the scope from a list entry; None for anything else (an unreadable entry is
        skipped, not the whole sweep)."""
        try:
            account = Account.from_arm(body)
        except Exception:  # noqa: BLE001 - an unreadable entry is skipped
            return None
        if account.id.is_within(scope) and account.kind.lower() in self.settings.kinds:
            return account
        return None

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
        zones = tuple(z for z in zones if z in inventory.missing_zones  # listed: its links and its records
                      or (z in inventory.zone_links and z in inventory.zone_records))
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
        """Screen every scope and enqueue what needs work; `each` sees every screened account (one at a time; no
        account is collected here). One summary per scope, in the order of the scopes; every list's chain is
        in `self.chains` (and its requests in its scope's summary; the shared inventory's with the first)."""
        scopes = self.settings.scopes
        summaries = [SweepSummary(str(scope)) for scope in scopes]
        inventory = Inventory()
        started = time.monotonic()
        with ThreadPoolExecutor(self.settings.sweep_concurrency, thread_name_prefix="sweep") as pool:
            run = _Run(pool, _HELD)
            lists = self._inventory_lists(run, inventory)
            run.expect_inventory(len(lists))
            for work in lists:
                run.submit(work)
            split = sum(scope.resource_group is None for scope in scopes) < self.settings.sweep_concurrency
            for scope, summary in zip(scopes, summaries, strict=True):
                run.submit(partial(self._scope, run, scope, summary, inventory, enqueue, each, split))
            run.wait_inventory()
            for summary, account in run.release():  # what was listed while the inventory was still coming
                self._screen_into(summary, account, inventory, enqueue, each)
            run.wait()
        self.chains = sorted(run.chains, key=lambda c: (-c.pages, -c.ms, c.name))
        for summary in summaries:
            summary.duration_ms = int((time.monotonic() - started) * 1000)
        if summaries:  # the shared inventory is counted (and its failed lists named) with the first scope
            summaries[0].arm_requests += sum(c.requests for c in run.chains if c.shared)
            summaries[0].errors[:0] = inventory.failed
        return summaries

    def _scope(self, run: _Run, scope: ResourceId, summary: SweepSummary, inventory: Inventory,
               enqueue: Callable[[Account], None] | None, each: Callable[[Screened], None] | None,
               split: bool) -> None:
        """One scope's accounts, page by page, in this thread. A subscription whose list goes on past its first
        page is read as one chain per resource group, side by side, when threads would otherwise idle (fewer
        subscription scopes than REMEDIATION_SWEEP_CONCURRENCY): Cognitive Services lists accounts per resource
        group (azure-rest-api-specs cognitiveservices `Accounts_ListByResourceGroup`), so a subscription of 5,000
        accounts in 2 groups is two chains of 25 pages instead of one of 50."""
        screen = partial(self._take, run, summary, inventory, enqueue, each)
        chain = run.chain(f"accounts of {scope}", shared=False)
        pages = self.clients.list_pages(f"{scope}/providers/{ACCOUNT_TYPE}", COGNITIVE_API_VERSION)
        try:
            with chain.timed(self.clients):
                first = chain.page(next(pages, None))
                screen([a for body in first if (a := self._account(body, scope)) is not None])
            if first.more and split and scope.resource_group is None and self._split(run, scope, summary, first,
                                                                                     screen):
                getattr(pages, "close", lambda: None)()  # the subscription's own chain stops here
                return
            with chain.timed(self.clients):
                for page in pages:
                    screen([a for body in chain.page(page) if (a := self._account(body, scope)) is not None])
        except Exception as error:  # noqa: BLE001 - named in the summary; the accounts listed so far are screened
            with self._lock:
                summary.errors.append(f"accounts of {scope}: {describe(error)}")
        finally:
            with self._lock:
                summary.arm_requests += chain.requests

    def _split(self, run: _Run, scope: ResourceId, summary: SweepSummary, first: list[dict[str, Any]],
               screen: Callable[[list[Account]], None]) -> bool:
        """List the subscription's resource groups and read the accounts of each as a chain of its own (those of
        the first page skipped: already screened); False, and nothing started, when there is one group or the
        groups cannot be listed (a deployment whose role predates `resourceGroups/read`): the subscription's
        chain then goes on whole."""
        chain = run.chain(f"resource groups of {scope}", shared=False)
        try:
            with chain.timed(self.clients):
                groups = [str(json_get(g, "name") or "") for g in chain.items(self.clients.list_pages(
                    f"{scope}/resourcegroups", RESOURCES_API_VERSION))]
        except Exception:  # noqa: BLE001 - not a failure of the sweep: the whole list is read instead
            return False
        finally:
            with self._lock:
                summary.arm_requests += chain.requests
        if len(groups) < 2:  # one group: its chain is the subscription's, nothing to gain
            return False
        seen = frozenset(str(json_get(body, "id") or "").lower() for body in first)
        # Groups the first page named go first: they hold accounts, the others may hold none.
        named = {_group_of(body) for body in first}
        for group in sorted(filter(None, groups), key=lambda g: (g.lower() not in named, g.lower())):
            run.submit(partial(self._group, run, ResourceId(scope.subscription_id, group), summary, seen, screen))
        return True

    def _group(self, run: _Run, group: ResourceId, summary: SweepSummary, seen: frozenset[str],
               screen: Callable[[list[Account]], None]) -> None:
        chain = run.chain(f"accounts of {group}", shared=False)
        try:
            with chain.timed(self.clients):
                for page in self.clients.list_pages(f"{group}/providers/{ACCOUNT_TYPE}", COGNITIVE_API_VERSION):
                    screen([a for body in chain.page(page) if str(json_get(body, "id") or "").lower() not in seen
                            and (a := self._account(body, group)) is not None])
        except Exception as error:  # noqa: BLE001 - named in the summary; the accounts listed so far are screened
            with self._lock:
                summary.errors.append(f"accounts of {group}: {describe(error)}")
        finally:
            with self._lock:
                summary.arm_requests += chain.requests

    def _take(self, run: _Run, summary: SweepSummary, inventory: Inventory, enqueue: Callable[[Account], None] | None,
              each: Callable[[Screened], None] | None, accounts: list[Account]) -> None:
        """Screen a page's accounts now, or hold them until the inventory is complete (the fetching goes on)."""
        if accounts and not run.hold(summary, accounts):
            for account in accounts:
                self._screen_into(summary, account, inventory, enqueue, each)

    def _screen_into(self, summary: SweepSummary, account: Account, inventory: Inventory,
                     enqueue: Callable[[Account], None] | None, each: Callable[[Screened], None] | None) -> None:
        screened = self.screen(account, inventory)
        queued = screened.needs_work and enqueue is not None
        if queued and enqueue is not None:
            enqueue(account)
        with self._lock:
            summary.accounts += 1
            if screened.exemption.exempt:
                summary.exempt += 1
            else:
                summary.by_finding.update(code.value for code in screened.findings)
            summary.queued += queued
            if each is not None:
                each(screened)


def _link_names_taken(zones: tuple[str, ...], vnets: list[ResourceId | None], inventory: Inventory) -> bool:
    """True when every missing link is one whose name (the name the app gives it) a link to another VNet
    already holds: the app will not overwrite that link, so only a person can clear the name."""
    missing = [(zone, vnet) for zone in zones if zone in inventory.zone_links for vnet in vnets
               if vnet is not None and vnet not in inventory.zone_links[zone]]
    return bool(missing) and all(zone_link_name(vnet).lower() in inventory.zone_link_names.get(zone, frozenset())
                                 for zone, vnet in missing)


def _group_of(body: Any) -> str | None:
    """The resource group (lower case) of a list entry's ID."""
    rid = try_parse_resource_id(json_get(body, "id"))
    return rid.resource_group.lower() if rid is not None and rid.resource_group else None


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
    threads only send requests, screen and count (the host drops log lines that carry no invocation ID)."""
    settings = remediator.settings
    started = time.monotonic()
    pulse = Pulse(settings.public_network_access is PublicAccessMode.SELECTED_NETWORKS)
    sweeper = Sweeper(remediator.clients, settings)
    try:
        summaries = sweeper.run(lambda account: queue.put(
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
    log.info("%s", heartbeat(pulse, summaries, queue, table, int((time.monotonic() - started) * 1000),
                             sweeper.chains))
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
              duration_ms: int, chains: Iterable[Chain] = ()) -> str:
    """The sweep's heartbeat line: accounts screened and open, the oldest open exposure, the queues' lengths, and
    its lists: how many, their pages, and the longest chain (the list the sweep's wall time could not beat)."""
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
              "listsFailed": sum(len(s.errors) for s in summaries), **chain_fields(chains)}
    return heartbeat_line(fields, now)


def chain_fields(chains: Iterable[Chain]) -> dict[str, Any]:
    """The lists' totals and the longest chain (most pages, then most time), for the heartbeat and the scan."""
    chains = list(chains)
    longest = max(chains, key=lambda c: (c.pages, c.ms), default=None)
    return {"lists": len(chains), "listPages": sum(c.pages for c in chains),
            "longestChain": longest.name if longest else None, "longestChainPages": longest.pages if longest else None,
            "longestChainMs": longest.ms if longest else None}


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
