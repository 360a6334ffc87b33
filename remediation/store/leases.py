"""One reconcile per account at a time, across every worker instance: a lease row per account.

Called by `worker.Worker` around each reconcile. The lease lives in its own partition of
REMEDIATION_AUDIT_TABLE, apart from the audit records. A lease row is trusted only within bounds: one whose
expiry does not read as a number, or lies further ahead than any holder can have written it (the lease's own
length plus CLOCK_SKEW_SECONDS), is ignored, logged and taken over, so a forged row can never block an account.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from remediation.core.ids import ResourceId
from remediation.store.storage import CLOCK_SKEW_SECONDS, Storage, row_moment, table_key

_LOCKS = "lock"

log = logging.getLogger("remediation")


class AccountLeases:
    """A lease per account: a row that exists until it expires. Taking it is an insert (or a
    conditional update of an expired row), so two workers never both hold it while it lasts; it
    lasts longer than the host lets one function run."""

    def __init__(self, storage: Storage, ttl_seconds: float, clock: Callable[[], float] = time.time) -> None:
        self._storage = storage
        self._ttl = ttl_seconds
        self._clock = clock

    def acquire(self, account_id: ResourceId) -> Any | None:
        """A lease token, or None when another reconcile of this account is running."""
        from azure.core import MatchConditions
        from azure.core.exceptions import ResourceExistsError, ResourceModifiedError, ResourceNotFoundError
        from azure.data.tables import UpdateMode

        entity = {"PartitionKey": _LOCKS, "RowKey": table_key(account_id), "account": str(account_id),
                  "expires": self._clock() + self._ttl}
        table = self._storage.audit_table()
        try:
            return table.create_entity(entity)
        except ResourceExistsError:
            pass
        try:
            current = table.get_entity(_LOCKS, table_key(account_id))
            if self._held(account_id, current.get("expires")):
                return None
            return table.update_entity(entity, mode=UpdateMode.REPLACE, etag=current.metadata["etag"],
                                       match_condition=MatchConditions.IfNotModified)
        except (ResourceModifiedError, ResourceNotFoundError):
            return None  # someone else took or released it in between: let them run

    def _held(self, account_id: ResourceId, expires: Any) -> bool:
        """Whether a row's expiry still holds the lease: a number, in the future, and no further ahead than a
        holder could have written it. Any other row is ignored (logged) and taken over."""
        now = self._clock()
        moment = row_moment(expires, now + self._ttl + CLOCK_SKEW_SECONDS)
        if moment is None:
            log.warning("lease row of %s ignored: its expiry %.40r is not a time within %.0f s", account_id,
                        str(expires), self._ttl + CLOCK_SKEW_SECONDS)
            return False
        return moment > now

    def release(self, account_id: ResourceId, lease: Any) -> None:
        from azure.core import MatchConditions
        from azure.core.exceptions import ResourceModifiedError, ResourceNotFoundError

        try:
            self._storage.audit_table().delete_entity(_LOCKS, table_key(account_id), etag=(lease or {}).get("etag"),
                                                      match_condition=MatchConditions.IfNotModified)
        except (ResourceModifiedError, ResourceNotFoundError):
            pass  # expired and taken over: that holder releases it
