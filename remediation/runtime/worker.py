"""The queue worker: one work item from `remediation-work`, reconciled under its account's lease.

Called by `function_app.process_work_item` for every message. Like a controller's work queue, every
account is handled by one worker at a time (a lease per account), so twenty duplicate events delivered
at once cost one set of writes; what happens to the item afterwards is `verdict.disposition`'s call.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from typing import Any

from remediation.arm.clients import describe
from remediation.core.attribution import FoldedEvent, oldest_first
from remediation.core.ids import ResourceId
from remediation.core.model import Outcome, Trigger
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
from remediation.core.triage import TargetKind, parse_event_time
from remediation.engine.reconcile import Remediator
from remediation.runtime.owners import Owners
from remediation.store.leases import AccountLeases
from remediation.store.mailbox import Mailbox
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
                 mailbox: Mailbox | None = None) -> None:
        self.remediator = remediator
        self.queue = queue
        self.leases = leases
        self.owners = owners
        self.mailbox = mailbox  # the events waiting for each account: several fold into one reconcile
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
            for account in accounts:
                posted = self._post(account, item).posted  # the event as it was: about the zone
                self.queue.put(WorkItem(TargetKind.ACCOUNT.value, str(account), item.trigger, item.event,
                                        item.actor, item.event_time, posted=posted))

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
            # The events waiting for this account, read before the reconcile reads the account: every change
            # they announce happened before that read, so its record can name them all.
            waiting = self.mailbox.pending(account_id) if self.mailbox else None
            if _covered(item, account_id, waiting):
                log.info("event %s for %s was covered by an earlier reconcile that named it", done_key[0], account_id)
                self._mark_done(done_key)
                return
            own = item.folded_event()
            folded = oldest_first([*(waiting or []), *([own] if own else [])])
            result = self.remediator.reconcile(
                account_id, Trigger(item.trigger), event=item.event, actor=item.actor,
                event_time=parse_event_time(item.event_time), folded=folded)
            settled = result.record.outcome in _SETTLED and result.verdict.retry_after is None
            if settled and not result.audit_errors:
                if done_key[0]:
                    self._mark_done(done_key)  # before the lease goes, so a waiting duplicate sees it
                if self.mailbox and waiting:
                    self.mailbox.take(account_id, waiting)  # named in a settled record
        finally:
            self.leases.release(account_id, lease)
        decision = disposition(result.verdict, audit_errors=result.audit_errors, attempt=item.attempt,
                              dequeue_count=dequeue_count,
                              poll_interval=self.remediator.settings.poll_interval_seconds)
        self._dispose(item, _for_account(item, account_id), decision, result.record.to_json())

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
    return WorkItem(TargetKind.ACCOUNT.value, str(account_id), item.trigger, item.event, item.actor,
                    item.event_time, attempt=item.attempt, posted=item.posted)


def _covered(item: WorkItem, account_id: ResourceId, waiting: list[FoldedEvent] | None) -> bool:
    """The item's event was posted for this account and is no longer waiting: a reconcile that read the account
    after it took it off, once its record named it and its outcome was settled."""
    event = item.folded_event()
    if event is None or waiting is None or not item.posted_for(account_id):
        return False
    return all(e.event_id != event.event_id for e in waiting)
