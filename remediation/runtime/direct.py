"""Reconciles asked for directly (POST /api/remediate), under the same per-account lease as the queue worker.

Without it an HTTP call and a queue item for one drift could both read the account open and both fix it:
two `remediated` records for one change, and the circuit breaker counting twice. The call waits (bounded)
for a running reconcile of the account to end, then reconciles; if the lease stays taken it says so.
When the lease itself cannot be read (the table is down) the reconcile goes ahead: fixing is the job.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from remediation.core.ids import ResourceId, within_any
from remediation.core.model import Trigger
from remediation.core.polling import poll_until
from remediation.engine.reconcile import ReconcileResult, Remediator
from remediation.store.leases import AccountLeases

log = logging.getLogger("remediation")

_NOT_TAKEN = object()  # the lease could not be read: reconcile without it


class DirectReconciler:
    def __init__(self, remediator: Remediator, leases: AccountLeases, *, wait_seconds: float, poll_seconds: float = 1.0,
                 sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.monotonic) -> None:
        self.remediator = remediator
        self.leases = leases
        self.wait_seconds = wait_seconds
        self.poll_seconds = poll_seconds
        self.sleep = sleep
        self.clock = clock

    def reconcile(self, account_id: ResourceId, trigger: Trigger, *, dry_run: bool) -> ReconcileResult | None:
        """The reconcile's result, or None when another reconcile of the account held the lease throughout."""
        if not within_any(account_id, self.remediator.settings.scopes):  # refused before anything is touched
            return self.remediator.reconcile(account_id, trigger, dry_run=dry_run)
        lease = self._acquire(account_id)
        if lease is None:
            return None
        try:
            return self.remediator.reconcile(account_id, trigger, dry_run=dry_run)
        finally:
            if lease is not _NOT_TAKEN:
                self.leases.release(account_id, lease)

    def _acquire(self, account_id: ResourceId) -> Any | None:
        def attempt() -> Any | None:
            try:
                return self.leases.acquire(account_id)
            except Exception as error:  # noqa: BLE001 - no lease table: reconcile anyway (and say so)
                log.warning("could not take the lease on %s (%s); reconciling without it", account_id,
                            type(error).__name__)
                return _NOT_TAKEN

        return poll_until(attempt, lambda lease: lease is not None, timeout=self.wait_seconds,
                          interval=self.poll_seconds, sleep=self.sleep, clock=self.clock)
