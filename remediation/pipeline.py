"""Events in, work through the queue: the Event Grid trigger's side and the worker's side of the loop.

The trigger side only triages and enqueues, so Event Grid gets its answer fast. The worker maps an
endpoint or zone back to the accounts it serves, takes a per-account lease so duplicate events
cost one set of writes, reconciles, and puts a busy account back with a delay.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from typing import Any, Mapping

from .audit import AuditRecord
from .clients import NETWORK_API_VERSION, ErrorKind, classify, describe
from .coordination import AccountLocks, ServingIndex
from .desired import desired_state
from .events import Ignored, Principal, TargetKind, parse_event_time, triage
from .ids import ACCOUNT_TYPE, ResourceId, parse_resource_id, try_parse_resource_id, within_any
from .model import Account, Mode, Outcome, Trigger, _get
from .plan import account_findings
from .service import Failure, Remediator
from .sweep import Sweeper, SweepSummary
from .work import MAX_ATTEMPTS, WorkItem, WorkQueue

log = logging.getLogger("remediation.events")

MAX_DEQUEUE = 5  # the host's maxDequeueCount in host.json: the last try gives the item up itself
LEASE_BUSY_DELAY = 2  # seconds before an item retries when another worker holds the account's lease
LEASE_SECONDS = 11 * 60
_SEEN_EVENTS = 10_000  # event IDs remembered per worker: Event Grid delivers at least once


# Outcomes after which a duplicate of the same event has nothing left to do.
_FINAL = {Outcome.COMPLIANT, Outcome.REMEDIATED, Outcome.EXEMPT, Outcome.SKIPPED, Outcome.CONTESTED}


class RetryLater(Exception):
    """Raised to the Functions host so it retries the message (Resource Manager failed or was throttled)."""


class EventPipeline:
    def __init__(self, remediator: Remediator) -> None:
        self.remediator = remediator
        self.settings = remediator.settings
        self.queue = WorkQueue(remediator.storage)
        self.index: ServingIndex = remediator.index
        # A lease outlives the longest run the host allows (functionTimeout, 10 min in host.json).
        self.locks = AccountLocks(remediator.storage, ttl_seconds=LEASE_SECONDS)
        self._done: OrderedDict[tuple[str, str], None] = OrderedDict()  # (event ID, account) reconciled to the end
        self._done_lock = threading.Lock()

    # --- trigger side --------------------------------------------------------------------------------

    def own(self) -> Principal | None:
        try:
            object_id, client_id = self.remediator.clients.own_identity()
        except Exception as error:  # noqa: BLE001 - without it our own writes are reconciled, harmlessly
            log.warning("could not learn the app's own identity: %s", type(error).__name__)
            return None
        return Principal(object_id=object_id, client_id=client_id)

    def accept(self, event: object) -> str:
        """Triage one event and queue its work; returns what was done (logged)."""
        target = triage(event, scopes=self.settings.scopes, own=self.own())
        if isinstance(target, Ignored):
            log.info("event %s ignored: %s (%s)", target.event_id, target.reason, target.detail)
            return target.reason
        if target.properties is not None and self._compliant_per_notification(target.resource_id, target.properties):
            log.info("event %s ignored: compliant-per-notification (%s)", target.event.id, target.resource_id)
            return "compliant-per-notification"
        self.queue.put(WorkItem(
            kind=target.kind.value, resource_id=str(target.resource_id), trigger=Trigger.EVENT.value,
            event=target.event.to_json(), actor=target.actor.to_json() if target.actor else None,
            event_time=target.event.time, deleted=target.deleted))
        log.info("event %s queued: %s %s", target.event.id, target.kind.value, target.resource_id)
        return "queued"

    def _compliant_per_notification(self, account_id: ResourceId, resource: Mapping[str, Any]) -> bool:
        """A Resource Notification carries the account's properties: when they show it locked down and
        served by an approved endpoint, the read (and the reconcile) can be skipped."""
        account = Account.from_arm({**resource, "id": str(account_id)})
        if account.kind and account.kind.lower() not in self.settings.kinds:
            return True  # not ours to manage either way
        if account_findings(desired_state(self.settings, account.kind or "OpenAI", account.location), account):
            return False
        # Served only counts for an endpoint known to sit in an allowed subnet (the app's own, or one a
        # reconcile has seen serve it); anything else needs the read.
        return any(c.approved and c.private_endpoint_id is not None
                   and self.index.account_of_endpoint(c.private_endpoint_id) == account_id
                   for c in account.connections)

    # --- timer side: the sweep ---------------------------------------------------------------------

    def sweep(self) -> list[SweepSummary]:
        """Screen every account in scope, queue work for the drifted ones, record one summary per scope."""
        sweeper = Sweeper(self.remediator.clients, self.settings)
        try:
            summaries = sweeper.run(lambda account: self.queue.put(
                WorkItem(TargetKind.ACCOUNT.value, str(account.id), Trigger.SWEEP.value)))
        except Exception as error:  # noqa: BLE001 - recorded, then raised so the host logs the failed run
            record = AuditRecord(",".join(map(str, self.settings.scopes)), Trigger.SWEEP, self.settings.mode,
                                 Outcome.FAILED, error=describe(error))
            self.remediator.auditor.record(record)
            raise
        for summary in summaries:
            log.info("sweep of %s: %d accounts, %d queued, %d ARM requests, %d ms, findings %s", summary.scope,
                     summary.accounts, summary.queued, summary.arm_requests, summary.duration_ms,
                     dict(summary.by_finding))
            self.remediator.auditor.record(summary_record(summary, self.settings.mode))
        return summaries

    # --- worker side ---------------------------------------------------------------------------------

    def work(self, text: str, dequeue_count: int = 1) -> None:
        try:
            item = WorkItem.from_message(text)
        except ValueError as error:
            log.error("unreadable work item given up: %s", error)
            self.queue.poison(None, f"unreadable work item: {error}", raw=text)
            return
        try:
            accounts = self._accounts_of(item)
        except ValueError as error:  # a malformed ID or kind: no retry can help
            log.error("work item for %.200s given up: %s", item.resource_id, error)
            self.queue.poison(item, f"invalid work item: {error}")
            return
        except Exception as error:  # noqa: BLE001
            self._failed(item, dequeue_count, f"could not map {item.resource_id} to its accounts: {describe(error)}")
            return
        if not accounts:
            log.info("work item for %s maps to no managed account", item.resource_id)
        elif len(accounts) == 1:
            self._reconcile(accounts[0], item, dequeue_count)
        else:  # a zone serves many accounts: one item each, so each gets its own lease and retries
            for account in accounts:
                self.queue.put(WorkItem(TargetKind.ACCOUNT.value, str(account), item.trigger, item.event,
                                        item.actor, item.event_time))

    def _accounts_of(self, item: WorkItem) -> list[ResourceId]:
        rid = parse_resource_id(item.resource_id)
        if item.kind == TargetKind.ACCOUNT.value:
            found = [rid]
        elif item.kind == TargetKind.PRIVATE_ENDPOINT.value:
            found = self._accounts_of_endpoint(rid, item.deleted)
        elif item.kind == TargetKind.DNS_ZONE.value:
            found = self.index.accounts_of_zone(rid)
        else:
            raise ValueError(f"unknown work item kind {item.kind!r}")
        return [a for a in found if a.is_type(ACCOUNT_TYPE) and within_any(a, self.settings.scopes)]

    def _accounts_of_endpoint(self, endpoint_id: ResourceId, deleted: bool) -> list[ResourceId]:
        if not deleted:
            try:
                body = self.remediator.clients.get_json(endpoint_id, NETWORK_API_VERSION)
            except Exception as error:
                if classify(error) != ErrorKind.NOT_FOUND:
                    raise
            else:
                links = [*(_get(body, "properties", "privateLinkServiceConnections") or []),
                         *(_get(body, "properties", "manualPrivateLinkServiceConnections") or [])]
                targets = (try_parse_resource_id(_get(link, "properties", "privateLinkServiceId")) for link in links)
                return [t for t in targets if t is not None]
        account = self.index.account_of_endpoint(endpoint_id)  # gone already: what it served, as remembered
        return [account] if account else []

    def _reconcile(self, account_id: ResourceId, item: WorkItem, dequeue_count: int) -> None:
        done_key = ((item.event or {}).get("id") or "", account_id.key)
        if done_key[0] and self._seen(done_key):
            log.info("event %s for %s was already reconciled here; duplicate skipped", done_key[0], account_id)
            return
        lease = self.locks.acquire(account_id)
        if lease is None:  # another worker reconciles this account now; look again once it is done
            # Not an attempt: waiting for a lease is bounded by the lease itself, so it never poisons a duplicate.
            self._defer(item, account_id, LEASE_BUSY_DELAY, "another reconcile of the account is running",
                        counts=False)
            return
        if done_key[0] and self._seen(done_key):  # finished by the holder just before we took the lease
            self.locks.release(account_id, lease)
            return
        try:
            result = self.remediator.reconcile(
                account_id, Trigger(item.trigger), event=item.event, actor=item.actor,
                event_time=parse_event_time(item.event_time))
            if result.record.outcome in _FINAL and done_key[0] and not result.audit_errors:
                self._mark_done(done_key)  # before the lease goes, so a waiting duplicate sees it
        finally:
            self.locks.release(account_id, lease)
        record = result.record
        if result.audit_errors:
            # The record is in the log; the table refused it. Let the host retry: the next run writes
            # the kept record first (TableSink), then its own.
            self._failed(item, dequeue_count, "; ".join(result.audit_errors), record.to_json())
        elif record.outcome is Outcome.DEFERRED:
            delay = min(max(self.settings.poll_interval_seconds, 1) * 2 ** item.attempt, 600)
            self._defer(item, account_id, delay, record.error or "deferred", record.to_json())
        elif result.failure in (Failure.ARM_UNAVAILABLE, Failure.ARM_ERROR, Failure.INTERNAL):
            self._failed(item, dequeue_count, record.error or "failed", record.to_json())

    def _seen(self, key: tuple[str, str]) -> bool:
        with self._done_lock:
            return key in self._done

    def _mark_done(self, key: tuple[str, str]) -> None:
        with self._done_lock:
            self._done[key] = None
            while len(self._done) > _SEEN_EVENTS:
                self._done.popitem(last=False)

    def _defer(self, item: WorkItem, account_id: ResourceId, delay: float, why: str,
               record: dict[str, Any] | None = None, counts: bool = True) -> None:
        retry = WorkItem(TargetKind.ACCOUNT.value, str(account_id), item.trigger, item.event, item.actor,
                         item.event_time, attempt=item.attempt + counts)
        if retry.attempt >= MAX_ATTEMPTS:
            log.error("giving up on %s after %d attempts: %s", account_id, retry.attempt, why)
            self.queue.poison(retry, f"deferred {retry.attempt} times: {why}", record)
            return
        log.info("%s deferred for %.0f s (attempt %d): %s", account_id, delay, retry.attempt, why)
        self.queue.put(retry, delay_seconds=delay)

    def _failed(self, item: WorkItem, dequeue_count: int, why: str, record: dict[str, Any] | None = None) -> None:
        if dequeue_count >= MAX_DEQUEUE:
            log.error("giving up on %s after %d tries: %s", item.resource_id, dequeue_count, why)
            self.queue.poison(item, why, record)
            return
        raise RetryLater(why)


def summary_record(summary: SweepSummary, mode: Mode) -> AuditRecord:
    """A sweep's audit record: the scope as its resource, counts by finding, and the summary in `after`."""
    return AuditRecord(
        summary.scope, Trigger.SWEEP, mode, Outcome.DEFERRED if summary.queued else Outcome.COMPLIANT,
        findings=[{"code": code, "property": "accounts", "actual": count, "expected": 0}
                  for code, count in sorted(summary.by_finding.items())],
        actions=[{"name": "queue-work-items", "target": summary.scope, "status": "succeeded", "error": None}]
        if summary.queued else [],
        after={"accountsSeen": summary.accounts, "workItemsQueued": summary.queued,
               "armRequests": summary.arm_requests, "byFinding": dict(summary.by_finding)},
        duration_ms=summary.duration_ms)
