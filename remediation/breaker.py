"""The circuit breaker: how many fixes of one account an hour are too many.

Called by `service.Remediator` before it writes. More than REMEDIATION_MAX_FIXES_PER_HOUR fixes in an
hour means someone (another automation, a template redeployed) keeps undoing them; the breaker says so,
once per episode in the log, and the reconcile writes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from .audit import AuditTable, utc_now
from .ids import ResourceId
from .model import Outcome

log = logging.getLogger("remediation")


class CircuitBreaker:
    def __init__(self, table: AuditTable, limit: int, clock: Callable[[], datetime] = utc_now) -> None:
        self.table = table
        self.limit = limit
        self.clock = clock

    def contested(self, account_id: ResourceId) -> str | None:
        """Why no more fixes of this account may be written now, or None when they may."""
        try:
            recent = self.table.since(account_id, self.clock() - timedelta(hours=1))
        except Exception as error:  # noqa: BLE001 - without history the fix goes ahead: that is the job
            log.warning("circuit breaker could not read the audit history of %s: %s", account_id,
                        type(error).__name__)
            return None
        fixes = sum(1 for r in recent if r.get("outcome") == Outcome.REMEDIATED.value)
        if fixes < self.limit:
            return None
        reason = (f"{fixes} fixes in the last hour reached REMEDIATION_MAX_FIXES_PER_HOUR={self.limit}: something "
                  "keeps undoing them; no more writes until the hour has passed")
        if not any(r.get("outcome") == Outcome.CONTESTED.value for r in recent):
            log.error("account %s is contested: %s", account_id, reason)
        return reason
