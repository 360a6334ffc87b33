"""What the work queue does with a verdict: the whole retry policy. Pure: no I/O, no clock.

The worker turns a `Verdict` into a `Disposition` with `disposition()`: done, put back on the queue after a
delay, delivered again by the host, or given up to the poison queue.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from remediation.core.model import Outcome
from remediation.core.verdict import Failure, Verdict

MAX_DEQUEUE = 5  # host.json extensions.queues.maxDequeueCount: the last delivery gives the item up itself
MAX_ATTEMPTS = 8  # deferrals of one item (a busy account) before it is given up
LEASE_BUSY_DELAY = 2  # seconds before an item looks again at an account another worker is reconciling
MAX_BACKOFF = 600  # seconds: the longest a deferred item waits, whatever asks for the wait (the breaker included)


@dataclass(frozen=True)
class Done:
    """Nothing left to do for this item."""


@dataclass(frozen=True)
class RequeueAfter:
    """A new item for the same account, visible after `seconds`."""

    seconds: float
    attempt: int  # the new item's attempt number
    reason: str


@dataclass(frozen=True)
class Redeliver:
    """Fail the delivery, so the host delivers the same message again (it counts the deliveries)."""

    reason: str


@dataclass(frozen=True)
class GiveUp:
    """To the poison queue, with the reason and the record."""

    reason: str
    attempt: int | None = None  # set when the item given up is the deferral that would have come next


Disposition = Done | RequeueAfter | Redeliver | GiveUp
RETRIED_FAILURES = frozenset({Failure.ARM_UNAVAILABLE, Failure.ARM_ERROR, Failure.INTERNAL})


def disposition(verdict: Verdict, *, audit_errors: Sequence[str], attempt: int, dequeue_count: int,
                poll_interval: float) -> Disposition:
    """The one decision of what happens to a work item after its reconcile.

    An unwritten audit record is delivered again (the table sink keeps it and writes it after the next
    record that gets through); a busy account is put back with a growing delay; a contested one at the end of
    the circuit breaker's back-off; a failure of Resource Manager or the app is delivered
    again; on the last delivery, or after MAX_ATTEMPTS deferrals, the item is given up.
    """
    if audit_errors:
        return redeliver("; ".join(audit_errors), dequeue_count)
    if verdict.outcome is Outcome.DEFERRED:
        return requeue(backoff(attempt, poll_interval), attempt + 1, verdict.error or "deferred")
    if verdict.outcome is Outcome.CONTESTED and verdict.retry_after is not None:
        # The end of the breaker's back-off: not an attempt, so a fight that lasts never gives the account up.
        return RequeueAfter(capped(verdict.retry_after), attempt, verdict.error or "contested")
    if verdict.failure in RETRIED_FAILURES:
        return redeliver(verdict.error or "failed", dequeue_count)
    return Done()


def lease_busy(attempt: int) -> Disposition:
    """Another worker reconciles the account now. Not an attempt: waiting for a lease is bounded by the
    lease itself, so it never poisons a duplicate."""
    return requeue(LEASE_BUSY_DELAY, attempt, "another reconcile of the account is running")


def backoff(attempt: int, poll_interval: float) -> float:
    return float(min(max(poll_interval, 1) * 2 ** attempt, MAX_BACKOFF))


def capped(seconds: float) -> float:
    """A wait between 1 s and MAX_BACKOFF, whatever the number it is asked for (not a number: the longest)."""
    return min(max(seconds, 1.0), float(MAX_BACKOFF)) if seconds == seconds else float(MAX_BACKOFF)


def requeue(seconds: float, attempt: int, reason: str) -> Disposition:
    if attempt >= MAX_ATTEMPTS:
        return GiveUp(f"deferred {attempt} times: {reason}", attempt)
    return RequeueAfter(seconds, attempt, reason)


def redeliver(reason: str, dequeue_count: int) -> Disposition:
    if dequeue_count >= MAX_DEQUEUE:
        return GiveUp(reason)
    return Redeliver(reason)
