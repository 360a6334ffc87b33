"""The circuit breaker: how fast one account may be fixed again, never whether it is.

Called by `service.Remediator` before it writes. More than REMEDIATION_MAX_FIXES_PER_HOUR fixes in an
hour means someone (another automation, a template redeployed) keeps undoing them. Stopping would leave
the account open to whoever wants it open, so the breaker limits the rate instead: each further fix waits
a growing delay after the last one (`verdict.backoff`: the poll interval doubled per fix over the limit, at
most ten minutes), during which only `publicNetworkAccess` and `networkAcls.defaultAction` are fixed
(service.py), and the episode is alerted once (an error log here, a `Contested` event from the record).

The history is rows in the app's own table, which whoever can write to its storage can forge: a row whose time
is unreadable, or lies outside the last hour (allowing CLOCK_SKEW ahead), is ignored and logged, and no wait
it leads to exceeds MAX_BACKOFF.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from remediation.core.ids import ResourceId
from remediation.core.model import Outcome
from remediation.core.record import iso, utc_now, wrote
from remediation.core.retry import MAX_BACKOFF, backoff
from remediation.store.audit import AuditTable
from remediation.store.storage import CLOCK_SKEW_SECONDS

log = logging.getLogger("remediation")

WINDOW = timedelta(hours=1)
CLOCK_SKEW = timedelta(seconds=CLOCK_SKEW_SECONDS)  # how far ahead another instance may date a record


@dataclass(frozen=True)
class Contest:
    """An account fixed too often: how often, and when the next fix may be written."""

    fixes: int  # fixes in the last hour (remediated, or contested and still closed)
    limit: int
    next_fix_at: datetime
    first_of_episode: bool  # no contested record in the last hour: alert now

    def wait(self, now: datetime) -> float:
        """Seconds until the next fix may be written: never more than MAX_BACKOFF."""
        return min(max(0.0, (self.next_fix_at - now).total_seconds()), float(MAX_BACKOFF))

    @property
    def reason(self) -> str:
        return (f"{self.fixes} fixes in the last hour reached REMEDIATION_MAX_FIXES_PER_HOUR={self.limit}: something "
                "keeps undoing them; public access and the default action are still fixed, at a slower pace")

    def to_json(self) -> dict[str, Any]:
        return {"fixesLastHour": self.fixes, "limit": self.limit, "nextFixAfter": iso(self.next_fix_at),
                "firstOfEpisode": self.first_of_episode}


class CircuitBreaker:
    def __init__(self, table: AuditTable, limit: int, poll_interval: float = 5.0,
                 clock: Callable[[], datetime] = utc_now) -> None:
        self.table = table
        self.limit = limit
        self.poll_interval = poll_interval
        self.clock = clock

    def contest(self, account_id: ResourceId) -> Contest | None:
        """None while the account has been fixed fewer than `limit` times in the last hour."""
        now = self.clock()
        try:
            recent = self.table.since(account_id, now - WINDOW, now + CLOCK_SKEW)
        except Exception as error:  # noqa: BLE001 - without history the fix goes ahead: that is the job
            log.warning("circuit breaker could not read the audit history of %s: %s", account_id,
                        type(error).__name__)
            return None
        dated = _in_window(recent, now, account_id)
        fixes = [moment for record, moment in dated if _wrote(record)]
        if len(fixes) < self.limit:
            return None
        delay = backoff(len(fixes) - self.limit, self.poll_interval)
        contest = Contest(len(fixes), self.limit, max(fixes) + timedelta(seconds=delay),
                          not any(r.get("outcome") == Outcome.CONTESTED.value for r, _ in dated))
        if contest.first_of_episode:
            log.error("account %s is contested: %s", account_id, contest.reason)
        return contest


def _in_window(records: list[dict[str, Any]], now: datetime, account_id: ResourceId) -> list[tuple[dict[str, Any],
                                                                                                     datetime]]:
    """The records with their times, each inside the last hour; the others are ignored, and logged."""
    kept, ignored = [], 0
    for record in records:
        moment = _time(record.get("time"))
        if moment is None or not now - WINDOW <= moment <= now + CLOCK_SKEW:
            ignored += 1
            continue
        kept.append((record, moment))
    if ignored:
        log.warning("circuit breaker ignored %d audit rows of %s: time unreadable or outside the last hour",
                    ignored, account_id)
    return kept


def _time(value: Any) -> datetime | None:
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except (ValueError, OverflowError):
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _wrote(record: Mapping[str, Any]) -> bool:
    """A fix: a reconcile that remediated the account, a contested one that still closed it, or one that closed
    it and then failed on something else (the close is what someone keeps undoing)."""
    if record.get("outcome") == Outcome.REMEDIATED.value:
        return True
    if record.get("outcome") == Outcome.CONTESTED.value and wrote(record):
        return True
    actions = record.get("actions")
    return isinstance(actions, list) and any(
        isinstance(a, Mapping) and a.get("name") == "close-account-exposure" and a.get("status") == "succeeded"
        for a in actions)
