"""The queue worker: one work item from `remediation-work`, reconciled under its account's lease.

Called by `function_app.process_work_item` for every message. Like a controller's work queue, every
account is handled by one worker at a time (a lease per account), so twenty duplicate events delivered
at once cost one set of writes; what happens to the item afterwards is `verdict.disposition`'s call.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from dataclasses import replace
from typing import Any

from remediation.arm.clients import describe
from remediation.core.attribution import oldest_first
from remediation.core.ids import ResourceId, parse_resource_id
from remediation.core.model import Outcome
from remediation.core.operations import TargetKind
from remediation.core.record import utc_now
from remediation.core.retry import (
    Disposition,
    Done,
    GiveUp,
    Redeliver,
    RequeueAfter,
    disposition,
    lease_busy,
    redeliver,
)
from remediation.core.triage import parse_event_time
from remediation.engine.reconcile import Remediator
from remediation.runtime.owners import Owners
from remediation.store.fanout import Covered, FanoutGate, Wait
from remediation.store.leases import AccountLeases
from remediation.store.mailbox import Mailbox, Waiting, now_ms
from remediation.store.queue import WorkItem, WorkQueue

log = logging.getLogger("remediation.events")

LEASE_SECONDS = 11 * 60  # longer than the longest run the host allows (host.json functionTimeout)
_SEEN_EVENTS = 10_000  # event IDs remembered per worker: Event Grid delivers at least once

# Outcomes after which a duplicate of the same event has nothing left to do.
_SETTLED = {Outcome.COMPLIANT, Outcome.REMEDIATED, Outcome.EXEMPT, Outcome.SKIPPED, Outcome.CONTESTED}


class RetryLater(Exception):
    """Raised to the Functions host so it delivers the message again (Resource Manager failed or was throttled)."""


class Worker:
    def __init__(self, remediator: Remediator, queue: WorkQueue, leases: AccountLeases, owners: Owners,
                 mailbox: Mailbox | None = None, fanout: FanoutGate | None = None) -> None:
        self.remediator = remediator
        self.queue = queue
        self.leases = leases
        self.owners = owners
        self.mailbox = mailbox  # the events waiting for each account: several fold into one reconcile
        self.fanout = fanout  # how often an event about a zone may fan out to every account it serves
        self._done: OrderedDict[tuple[str, str], None] = OrderedDict()  # (event ID, account) reconciled to the end
        self._done_lock = threading.Lock()

    def process_message(self, text: str, dequeue_count: int = 1) -> None:
        """Parse, map to accounts, reconcile each; raises RetryLater when the host should deliver it again."""
        try:
            item = WorkItem.from_message(text)
        except ValueError as error:
            log.error("unreadable work item given up: %s", error)
            self.queue.poison(None, f"unreadable work item: {error}", raw=text)
            return
        try:
            accounts = self.owners.accounts_for(item.kind, item.resource_id, item.deleted)
        except ValueError as error:  # a malformed ID or kind: no retry can help
            log.error("work item for %.200s given up: %s", item.resource_id, error)
            self.queue.poison(item, f"invalid work item: {error}")
            return
        except Exception as error:  # noqa: BLE001 - a failed read: deliver again, or give up on the last try
            why = f"could not map {item.resource_id} to its accounts: {describe(error)}"
            self._dispose(item, item, redeliver(why, dequeue_count))
            return
        if not accounts:
            log.info("work item for %s maps to no managed account", item.resource_id)
        elif len(accounts) == 1:
            self._reconcile(accounts[0], item, dequeue_count)
        else:  # a zone serves many accounts: one item each, so each gets its own lease and retries
            self._fan_out(item, accounts)

    def _fan_out(self, item: WorkItem, accounts: list[ResourceId]) -> None:
        """One item per account, at most once per window for the resource (fanout.py); an event that arrived
        before the last fan-out started is covered by it, one that arrived since waits for the window's end."""
        admission = self.fanout.admit(parse_resource_id(item.resource_id), item.arrived) if self.fanout else None
        if isinstance(admission, Covered):
            log.info("event about %s covered by its fan-out that started after it arrived", item.resource_id)
            return
        if isinstance(admission, Wait):
            log.info("event about %s waits %.0f s: it fanned out to its %d accounts moments ago", item.resource_id,
                     admission.seconds, len(accounts))
            self.queue.put(replace(item, arrived=item.arrived or now_ms()), delay_seconds=admission.seconds)
            return
        for account in accounts:
            posted = self._post(account, item)  # the event as it was: about the zone
            self.queue.put(replace(item, kind=TargetKind.ACCOUNT, resource_id=str(account), deleted=False,
                                   attempt=0, posted=posted.posted, row=posted.row, arrived=posted.arrived))

    def _reconcile(self, account_id: ResourceId, item: WorkItem, dequeue_count: int) -> None:
        done_key = ((item.event or {}).get("id") or "", account_id.key)
        if done_key[0] and self._seen(done_key):
            log.info("event %s for %s was already reconciled here; duplicate skipped", done_key[0], account_id)
            return
        item = self._post(account_id, item)
        lease = self.leases.acquire(account_id)
        if lease is None:  # another worker reconciles this account now; look again once it is done
            self._dispose(item, _for_account(item, account_id), lease_busy(item.attempt))
            return
        if done_key[0] and self._seen(done_key):  # finished by the holder just before we took the lease
            self.leases.release(account_id, lease)
            return
        try:
            taken_by = self._taken_by(account_id, item)
            if taken_by is not None:
                log.info("event %s for %s was folded into reconcile %s, which read the account after it arrived",
                         done_key[0], account_id, taken_by)
                self._mark_done(done_key)
                return
            # The events waiting for this account, read before the reconcile reads the account: every change
            # they announce happened before that read, so its record can name them all.
            waiting = (self.mailbox.pending(account_id) if self.mailbox else None) or Waiting()
            own = item.folded_event()
            folded = oldest_first([*waiting.events, *([own] if own else [])])
            result = self.remediator.reconcile(
                account_id, item.trigger, event=item.event, actor=item.actor,
                event_time=parse_event_time(item.event_time, utc_now()), folded=folded)
            settled = result.record.outcome in _SETTLED and result.verdict.retry_after is None
            if settled and not result.audit_errors:
                if done_key[0]:
                    self._mark_done(done_key)  # before the lease goes, so a waiting duplicate sees it
                if self.mailbox:  # named in a settled record: taken, by this record
                    rows = [*waiting.rows, *([item.row] if item.row and item.posted_for(account_id) else [])]
                    self.mailbox.take(account_id, rows, result.record.id)
        finally:
            self.leases.release(account_id, lease)
        decision = disposition(result.verdict, audit_errors=result.audit_errors, attempt=item.attempt,
                              dequeue_count=dequeue_count,
                              poll_interval=self.remediator.settings.poll_interval_seconds)
        self._dispose(item, _for_account(item, account_id), decision, result.record.to_json())

    def _taken_by(self, account_id: ResourceId, item: WorkItem) -> str | None:
        """The record that took this item's own event row, if a settled reconcile did (it listed the row before it
        read the account); None for an item whose row is unknown, still waiting or unreadable: reconcile it."""
        if self.mailbox is None or item.row is None or not item.posted_for(account_id):
            return None
        return self.mailbox.taken_by(account_id, item.row)

    def _post(self, account_id: ResourceId, item: WorkItem) -> WorkItem:
        """The item, its event now waiting in the account's events (unless it was already)."""
        if self.mailbox is None or item.posted_for(account_id):
            return item
        return self.mailbox.posted(account_id, item)

    def _dispose(self, item: WorkItem, retry: WorkItem, decision: Disposition,
                 record: dict[str, Any] | None = None) -> None:
        """Carry out a disposition: `retry` is the item as it would be put back (its account, its attempt)."""
        match decision:
            case Done():
                return
            case RequeueAfter(seconds=seconds, attempt=attempt, reason=reason):
                log.info("%s deferred for %.0f s (attempt %d): %s", retry.resource_id, seconds, attempt, reason)
                self.queue.put(retry.with_attempt(attempt), delay_seconds=seconds)
            case Redeliver(reason=reason):
                raise RetryLater(reason)
            case GiveUp(reason=reason, attempt=attempt):
                given_up = retry.with_attempt(attempt) if attempt is not None else item
                log.error("giving up on %s: %s", given_up.resource_id, reason)
                self.queue.poison(given_up, reason, record)

    def _seen(self, key: tuple[str, str]) -> bool:
        with self._done_lock:
            return key in self._done

    def _mark_done(self, key: tuple[str, str]) -> None:
        with self._done_lock:
            self._done[key] = None
            while len(self._done) > _SEEN_EVENTS:
                self._done.popitem(last=False)


def _for_account(item: WorkItem, account_id: ResourceId) -> WorkItem:
    """The item as it is put back: about the account it was mapped to (its event still waiting there)."""
    return replace(item, kind=TargetKind.ACCOUNT, resource_id=str(account_id), deleted=False)
