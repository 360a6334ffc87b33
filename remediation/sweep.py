"""The sweep: every managed account in every scope, screened cheaply, work queued only where needed.

Called by `function_app.sweep` on its timer (`run_sweep`) and by the operator command's `scan`.

Events get lost (Event Grid drops what it cannot deliver in 24 h, apps are redeployed, subscriptions
are added), so the sweep is the safety net. It costs list requests, not reads per account:

- the accounts of each scope, page by page (their properties carry the network settings and the
  private endpoint connections);
- the private endpoints of each subscription that holds an allowed subnet (which subnet each sits in);
- per DNS zone the kinds need, in the DNS resource group: its virtual network links and its record sets
  (a zone group writes an A record named after the account's custom subdomain).

Accounts stream through one at a time; only compact sets (endpoint → VNet, zone → names) are kept.
Screening is deliberately a little eager: an account it flags gets a full reconcile, which decides.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from .arm_json import json_get
from .audit import AuditRecord
from .clients import COGNITIVE_API_VERSION, NETWORK_API_VERSION, PRIVATE_DNS_API_VERSION, ArmClients, describe
from .desired import NOT_EXEMPT, Exemption, desired_state, exemption, private_endpoint_id, zones_for_kind
from .events import TargetKind
from .findings import FindingCode
from .ids import ACCOUNT_TYPE, ResourceId, try_parse_resource_id
from .model import Account, Mode, Outcome, Trigger, vnet_of
from .plan import account_findings
from .service import Remediator
from .settings import Settings
from .work import WorkItem, WorkQueue

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
    """What the sweep learned in bulk: allowed endpoints' VNets, and per zone its links and record names."""

    endpoint_vnets: dict[str, ResourceId | None] = field(default_factory=dict)  # endpoint key → its VNet
    zone_links: dict[str, frozenset[ResourceId]] = field(default_factory=dict)  # zone name → linked VNets
    zone_records: dict[str, frozenset[str]] = field(default_factory=dict)  # zone name → record names (lower)
    missing_zones: set[str] = field(default_factory=set)


@dataclass
class SweepSummary:
    scope: str
    accounts: int = 0
    by_finding: Counter[str] = field(default_factory=Counter)
    queued: int = 0
    exempt: int = 0  # accounts the exemption rule exempts (their findings are not counted in by_finding)
    arm_requests: int = 0
    duration_ms: int = 0


class Sweeper:
    def __init__(self, clients: ArmClients, settings: Settings) -> None:
        self.clients = clients
        self.settings = settings

    def inventory(self) -> Inventory:
        """The endpoints of the allowed subnets and the zones' links and record names, listed in bulk."""
        from azure.core.exceptions import ResourceNotFoundError

        inventory = Inventory()
        serving = self.settings.allowed_subnets
        for subscription in sorted({s.subscription_id.lower() for s in serving}):
            path = f"/subscriptions/{subscription}/providers/Microsoft.Network/privateEndpoints"
            for endpoint in self.clients.list_json(path, NETWORK_API_VERSION):
                subnet = try_parse_resource_id(json_get(endpoint, "properties", "subnet", "id"))
                endpoint_id = try_parse_resource_id(json_get(endpoint, "id"))
                if subnet in serving and endpoint_id is not None:
                    inventory.endpoint_vnets[endpoint_id.key] = vnet_of(subnet)
        dns_rg = self.settings.dns_zone_resource_group
        if dns_rg is not None:
            zone_names = sorted({zone for kind in self.settings.kinds for zone in zones_for_kind(kind)})
            for zone in zone_names:
                zone_path = f"{dns_rg}/providers/Microsoft.Network/privateDnsZones/{zone}"
                try:
                    links = self.clients.list_json(f"{zone_path}/virtualNetworkLinks", PRIVATE_DNS_API_VERSION)
                    vnets = (try_parse_resource_id(json_get(link, "properties", "virtualNetwork", "id"))
                             for link in links)
                    inventory.zone_links[zone] = frozenset(v for v in vnets if v is not None)
                except ResourceNotFoundError:
                    inventory.missing_zones.add(zone)
                    continue
                records = self.clients.list_json(f"{zone_path}/ALL", PRIVATE_DNS_API_VERSION)
                inventory.zone_records[zone] = frozenset(
                    str(json_get(r, "name")).lower() for r in records if str(json_get(r, "type") or "").endswith("/A"))
        return inventory

    def accounts(self, scope: ResourceId) -> Iterator[Account]:
        """Every managed account in the scope, streamed page by page."""
        for body in self.clients.list_json(f"{scope}/providers/{ACCOUNT_TYPE}", COGNITIVE_API_VERSION):
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
        desired = desired_state(self.settings, account.kind, account.location)
        codes = account_findings(desired, account)
        unfixable = {FindingCode.CUSTOM_SUBDOMAIN_MISSING}
        if not account.ready or not account.custom_subdomain:
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
            codes |= self._dns_findings(account, desired.dns_zones, serving, inventory)
        return Screened(account, tuple(sorted(codes)), frozenset(unfixable))

    @staticmethod
    def _dns_findings(account: Account, zones: tuple[str, ...], vnets: list[ResourceId | None],
             inventory: Inventory) -> set[FindingCode]:
        codes: set[FindingCode] = set()
        name = (account.custom_subdomain or "").lower()
        recorded = 0
        for zone in zones:
            if zone in inventory.missing_zones:
                codes.add(FindingCode.PRIVATE_DNS_ZONE_MISSING)
                continue
            if any(v is not None and v not in inventory.zone_links.get(zone, frozenset()) for v in vnets):
                codes.add(FindingCode.PRIVATE_DNS_ZONE_LINK_MISSING)
            recorded += name in inventory.zone_records.get(zone, frozenset())
        if recorded == 0 and FindingCode.PRIVATE_DNS_ZONE_MISSING not in codes:
            codes.add(FindingCode.PRIVATE_DNS_ZONE_GROUP_MISSING)
        elif recorded < len(zones):
            codes.add(FindingCode.PRIVATE_DNS_ZONE_GROUP_INCOMPLETE)
        return codes

    def run(self, enqueue: Callable[[Account], None] | None,
            each: Callable[[Screened], None] | None = None) -> list[SweepSummary]:
        """Screen every scope and enqueue what needs work; `each` sees every screened account as it streams
        past (nothing is collected here, so memory stays flat however large the estate)."""
        before = self.clients.request_count
        inventory = self.inventory()
        inventory_requests = self.clients.request_count - before
        summaries = []
        for scope in self.settings.scopes:
            started, requests = time.monotonic(), self.clients.request_count
            summary = SweepSummary(str(scope))
            for account in self.accounts(scope):
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
                    each(screened)
            summary.arm_requests = self.clients.request_count - requests
            summary.duration_ms = int((time.monotonic() - started) * 1000)
            summaries.append(summary)
        if summaries:  # the shared inventory is counted with the first scope
            summaries[0].arm_requests += inventory_requests
        return summaries


def run_sweep(remediator: Remediator, queue: WorkQueue) -> list[SweepSummary]:
    """The timer's sweep: screen every account in scope, queue work for the drifted ones, record one
    summary per scope (and a failed record, then the error, when the sweep itself fails)."""
    settings = remediator.settings
    try:
        summaries = Sweeper(remediator.clients, settings).run(lambda account: queue.put(
            WorkItem(TargetKind.ACCOUNT.value, str(account.id), Trigger.SWEEP.value)))
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
    return summaries


def summary_record(summary: SweepSummary, mode: Mode) -> AuditRecord:
    """A sweep's audit record: the scope as its resource, counts by finding, and the summary in `after`."""
    return AuditRecord(
        summary.scope, Trigger.SWEEP, mode, Outcome.DEFERRED if summary.queued else Outcome.COMPLIANT,
        findings=[{"code": code, "property": "accounts", "actual": count, "expected": 0}
                  for code, count in sorted(summary.by_finding.items())],
        actions=[{"name": "queue-work-items", "target": summary.scope, "status": "succeeded", "error": None}]
        if summary.queued else [],
        after={"accountsSeen": summary.accounts, "workItemsQueued": summary.queued, "exempt": summary.exempt,
               "armRequests": summary.arm_requests, "byFinding": dict(summary.by_finding)},
        duration_ms=summary.duration_ms)
