"""Events in: triage each delivered event and queue its work, so Event Grid gets its answer fast.

Called by `function_app.on_resource_event` for every event. `events.triage` decides what the event is
about (or why it is ignored); the work item goes on `remediation-work` for `worker.Worker`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from remediation.core.desired import desired_state
from remediation.core.ids import ResourceId, within_any
from remediation.core.model import Account, Principal, Trigger
from remediation.core.operations import TargetKind
from remediation.core.plan import account_findings
from remediation.core.settings import Settings
from remediation.core.triage import Ignored, IgnoreReason, Target, triage
from remediation.store.index import ServingIndex
from remediation.store.mailbox import Mailbox, now_ms
from remediation.store.queue import WorkItem, WorkQueue

log = logging.getLogger("remediation.events")

QUEUED = "queued"


class EventIntake:
    def __init__(self, settings: Settings, queue: WorkQueue, index: ServingIndex | None,
                 own_principal: Any, mailbox: Mailbox | None = None) -> None:
        self.settings = settings
        self.queue = queue
        self.index = index
        self._own_principal = own_principal  # () -> Principal, raises when the token cannot be had
        self.mailbox = mailbox  # events wait there for the account's next reconcile, which names them all

    def own(self) -> Principal | None:
        """The app's own identity, so its own writes are recognised; None when it cannot be learned."""
        try:
            principal: Principal = self._own_principal()
        except Exception as error:  # noqa: BLE001 - without it our own writes are reconciled, harmlessly
            log.warning("could not learn the app's own identity: %s", type(error).__name__)
            return None
        return principal

    def accept(self, event: object) -> str:
        """Triage one event and queue its work; returns what was done (an IgnoreReason value, or "queued")."""
        arrived = now_ms()  # the app's own clock: the mailbox orders by it, the event's time is clamped to it
        target = triage(event, scopes=self.settings.scopes, own=self.own(),
                        now=datetime.fromtimestamp(arrived / 1000, UTC))
        if isinstance(target, Ignored):
            log.info("event %s ignored: %s (%s)", target.event_id, target.reason.value, target.detail)
            return target.reason.value
        if target.kind is TargetKind.ACCOUNT and target.properties is not None \
                and self._compliant_per_notification(target.resource_id, target.properties):
            reason = IgnoreReason.COMPLIANT_PER_NOTIFICATION
            log.info("event %s ignored: %s (%s)", target.event.id, reason.value, target.resource_id)
            return reason.value
        item = WorkItem(
            kind=target.kind, resource_id=str(target.resource_id), trigger=Trigger.EVENT,
            event=target.event.to_json(), actor=target.actor.to_json() if target.actor else None,
            event_time=target.event.time, deleted=target.deleted, arrived=arrived)
        self.queue.put(self._posted(target, item))
        log.info("event %s queued: %s %s", target.event.id, target.kind.value, target.resource_id)
        return QUEUED

    def _posted(self, target: Target, item: WorkItem) -> WorkItem:
        """The item, its event waiting for its account's next reconcile when the account is known without a
        Resource Manager read: an account event, or an endpoint the serving index maps (a zone's: the worker)."""
        if self.mailbox is None or item.folded_event() is None:
            return item
        account: ResourceId | None = target.resource_id if target.kind is TargetKind.ACCOUNT else None
        if target.kind is TargetKind.PRIVATE_ENDPOINT and self.index is not None:
            try:
                account = self.index.account_of_endpoint(target.resource_id)
            except Exception as error:  # noqa: BLE001 - the worker maps it and posts it then
                log.warning("serving index unreadable for %s: %s", target.resource_id, type(error).__name__)
        if account is None or not within_any(account, self.settings.scopes):
            return item
        return self.mailbox.posted(account, item)

    def _compliant_per_notification(self, account_id: ResourceId, resource: Mapping[str, Any]) -> bool:
        """A Resource Notification about an account carries the account's properties: when they show it locked
        down and served by an approved endpoint, the read (and the reconcile) can be skipped. Only for account
        notifications: an endpoint's body says nothing about the account it serves."""
        account = Account.from_arm({**resource, "id": str(account_id)})
        if account.kind and account.kind.lower() not in self.settings.kinds:
            return True  # not ours to manage either way
        if account_findings(desired_state(self.settings, account.kind or "OpenAI", account.location), account):
            return False
        # Served only counts for an endpoint known to sit in an allowed subnet (the app's own, or one a
        # reconcile has seen serve it); anything else needs the read.
        return self.index is not None and any(
            c.approved and c.private_endpoint_id is not None
            and self.index.account_of_endpoint(c.private_endpoint_id) == account_id
            for c in account.connections)
