"""What a reconcile concluded, and what the work queue does about it. Pure: no I/O, no clock.

A reconcile ends in a `Verdict`: the outcome its audit record carries, why, and whether Resource Manager
or the app failed. The worker turns a verdict into a `Disposition` with `disposition()`: done, put back
on the queue after a delay, delivered again by the host, or given up to the poison queue. This module is
the whole retry policy.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from enum import Enum
from typing import TYPE_CHECKING

from .findings import FINDINGS, FindingCode
from .model import ActionStatus, ErrorKind, Outcome, Unverified
from .plan import Plan

if TYPE_CHECKING:  # pragma: no cover - typing only
    from .apply import ActionResult, ApplyResult

MAX_DEQUEUE = 5  # host.json extensions.queues.maxDequeueCount: the last delivery gives the item up itself
MAX_ATTEMPTS = 8  # deferrals of one item (a busy account) before it is given up
LEASE_BUSY_DELAY = 2  # seconds before an item looks again at an account another worker is reconciling
MAX_BACKOFF = 600  # seconds: the longest a deferred item waits
# Failures another try cannot change: the action is recorded as failed with what a person must do, and
# the item is not retried for them.
PERMANENT = frozenset({ErrorKind.REFUSED, ErrorKind.FORBIDDEN})


class Failure(str, Enum):
    """Why a reconcile could not do its job; the HTTP layer maps each to a status code."""

    OUT_OF_SCOPE = "out-of-scope"
    NOT_FOUND = "not-found"
    ARM_UNAVAILABLE = "arm-unavailable"
    ARM_ERROR = "arm-error"
    INTERNAL = "internal"


@dataclass(frozen=True)
class Verdict:
    outcome: Outcome
    error: str | None = None  # what is still open, and why
    failure: Failure | None = None
    retry_after: float | None = None  # contested: seconds until the next fix may be written (a work item then)


# --- verdicts of the steps that decide something ---------------------------------------------------

def reported(plan: Plan, results: Sequence[ActionResult]) -> Verdict:
    """Report mode or a dry run: what enforce mode would fix, and what it would leave open."""
    items = open_items(plan, results)
    runnable = any(r.status is ActionStatus.PLANNED for r in results)
    error = (("would not fix: " if runnable else "cannot fix: ") + "; ".join(items)) if items else None
    return Verdict(Outcome.WOULD_REMEDIATE if runnable else Outcome.FAILED, error)


def judged(plan: Plan, applied: ApplyResult) -> Verdict:
    """After the writes: the outcome says whether the account is locked down now; `error` what is still
    open and why."""
    if applied.busy:
        return Verdict(Outcome.DEFERRED, "the account stayed busy; the rest is deferred")
    items = open_items(plan, applied.results)
    if not items:
        return Verdict(Outcome.REMEDIATED)
    retryable = any(r.status is ActionStatus.FAILED and r.error_kind not in PERMANENT for r in applied.results)
    failure = Failure.ARM_UNAVAILABLE if applied.unavailable else Failure.ARM_ERROR if retryable else None
    return Verdict(Outcome.FAILED, "not fixed: " + "; ".join(items), failure)


def noting_unverified(verdict: Verdict, unverified: Sequence[Unverified]) -> Verdict:
    """The verdict, its error naming the endpoints and zones the identity may not read (none of them counts)."""
    if not unverified:
        return verdict
    note = "unverified, not counted as serving: " + "; ".join(u.note() for u in unverified)
    return replace(verdict, error=f"{verdict.error}; {note}" if verdict.error else note)


def open_items(plan: Plan, results: Sequence[ActionResult]) -> list[str]:
    """What a reconcile leaves open, one line each: actions not done, and findings no action can fix."""
    items = [f"{r.action.kind.value} {r.action.target}: {r.error}" for r in results
             if r.status in (ActionStatus.FAILED, ActionStatus.SKIPPED)]
    code = FindingCode.CUSTOM_SUBDOMAIN_MISSING
    if any(f.code is code for f in plan.findings):
        items.append(f"{code.value}: {FINDINGS[code].manual}")
    for finding in plan.findings:
        if finding.code is FindingCode.PRIVATE_DNS_RESOLUTION_NOT_PRIVATE:
            items.append(f"{finding.code.value}: {finding.actual['likelyCause']}; {FINDINGS[finding.code].manual}")
    return items


# --- what the work queue does with a verdict -------------------------------------------------------

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
        return RequeueAfter(max(verdict.retry_after, 1.0), attempt, verdict.error or "contested")
    if verdict.failure in RETRIED_FAILURES:
        return redeliver(verdict.error or "failed", dequeue_count)
    return Done()


def lease_busy(attempt: int) -> Disposition:
    """Another worker reconciles the account now. Not an attempt: waiting for a lease is bounded by the
    lease itself, so it never poisons a duplicate."""
    return requeue(LEASE_BUSY_DELAY, attempt, "another reconcile of the account is running")


def backoff(attempt: int, poll_interval: float) -> float:
    return float(min(max(poll_interval, 1) * 2 ** attempt, MAX_BACKOFF))


def requeue(seconds: float, attempt: int, reason: str) -> Disposition:
    if attempt >= MAX_ATTEMPTS:
        return GiveUp(f"deferred {attempt} times: {reason}", attempt)
    return RequeueAfter(seconds, attempt, reason)


def redeliver(reason: str, dequeue_count: int) -> Disposition:
    if dequeue_count >= MAX_DEQUEUE:
        return GiveUp(reason)
    return Redeliver(reason)
