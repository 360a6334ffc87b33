"""The retry policy as a table: every outcome and failure, at the boundaries of attempts and deliveries,
and the disposition the worker carries out for it."""

from __future__ import annotations

import pytest

from remediation.core.model import Outcome
from remediation.core.retry import (
    LEASE_BUSY_DELAY,
    MAX_ATTEMPTS,
    MAX_BACKOFF,
    MAX_DEQUEUE,
    Disposition,
    Done,
    GiveUp,
    Redeliver,
    RequeueAfter,
    backoff,
    disposition,
    lease_busy,
)
from remediation.core.verdict import Failure, Verdict

LAST = MAX_DEQUEUE
POLL = 5.0

# (verdict, audit errors, attempt, delivery) -> what the worker does
TABLE: list[tuple[Verdict, list[str], int, int, Disposition]] = [
    (Verdict(Outcome.COMPLIANT), [], 0, 1, Done()),
    (Verdict(Outcome.REMEDIATED), [], 3, LAST, Done()),
    (Verdict(Outcome.WOULD_REMEDIATE, "would not fix: x"), [], 0, 1, Done()),
    (Verdict(Outcome.EXEMPT), [], 0, 1, Done()),
    (Verdict(Outcome.SKIPPED, "kind 'Face' is not in REMEDIATION_KINDS"), [], 0, 1, Done()),
    (Verdict(Outcome.SKIPPED, "the account does not exist", Failure.NOT_FOUND), [], 0, 1, Done()),
    (Verdict(Outcome.SKIPPED, "outside", Failure.OUT_OF_SCOPE), [], 0, 1, Done()),
    (Verdict(Outcome.CONTESTED, "4 fixes"), [], 0, 1, Done()),
    # contested: back on the queue at the end of the breaker's back-off, whatever the attempt (never given up)
    (Verdict(Outcome.CONTESTED, "4 fixes", retry_after=40.0), [], 0, 1, RequeueAfter(40.0, 0, "4 fixes")),
    (Verdict(Outcome.CONTESTED, "4 fixes", retry_after=0.2), [], MAX_ATTEMPTS, LAST,
     RequeueAfter(1.0, MAX_ATTEMPTS, "4 fixes")),
    (Verdict(Outcome.CONTESTED, "4 fixes", retry_after=40.0), ["audit table write failed"], 0, 1,
     Redeliver("audit table write failed")),
    # failed, but nothing a retry can change (a finding only a person can fix)
    (Verdict(Outcome.FAILED, "not fixed: CUSTOM_SUBDOMAIN_MISSING"), [], 0, 1, Done()),
    # Resource Manager or the app failed: the host delivers again, and the last delivery gives up
    (Verdict(Outcome.FAILED, "403 x", Failure.ARM_ERROR), [], 0, 1, Redeliver("403 x")),
    (Verdict(Outcome.FAILED, "403 x", Failure.ARM_ERROR), [], 0, LAST - 1, Redeliver("403 x")),
    (Verdict(Outcome.FAILED, "403 x", Failure.ARM_ERROR), [], 0, LAST, GiveUp("403 x")),
    (Verdict(Outcome.FAILED, "429", Failure.ARM_UNAVAILABLE), [], 0, 2, Redeliver("429")),
    (Verdict(Outcome.FAILED, "429", Failure.ARM_UNAVAILABLE), [], 0, LAST, GiveUp("429")),
    (Verdict(Outcome.FAILED, "internal error: KeyError", Failure.INTERNAL), [], 0, 1,
     Redeliver("internal error: KeyError")),
    (Verdict(Outcome.FAILED, "internal error: KeyError", Failure.INTERNAL), [], 0, LAST,
     GiveUp("internal error: KeyError")),
    # busy: put back with a growing delay, given up after MAX_ATTEMPTS deferrals
    (Verdict(Outcome.DEFERRED, "busy"), [], 0, 1, RequeueAfter(POLL, 1, "busy")),
    (Verdict(Outcome.DEFERRED, "busy"), [], 2, 1, RequeueAfter(POLL * 4, 3, "busy")),
    (Verdict(Outcome.DEFERRED, "busy"), [], 0, LAST, RequeueAfter(POLL, 1, "busy")),  # deliveries do not count
    (Verdict(Outcome.DEFERRED, "busy"), [], MAX_ATTEMPTS - 2, 1,
     RequeueAfter(min(POLL * 2 ** (MAX_ATTEMPTS - 2), MAX_BACKOFF), MAX_ATTEMPTS - 1, "busy")),
    (Verdict(Outcome.DEFERRED, "busy"), [], MAX_ATTEMPTS - 1, 1,
     GiveUp(f"deferred {MAX_ATTEMPTS} times: busy", MAX_ATTEMPTS)),
    # the record could not be written: delivered again (the next run writes the kept record first)
    (Verdict(Outcome.REMEDIATED), ["audit table write failed"], 0, 1, Redeliver("audit table write failed")),
    (Verdict(Outcome.DEFERRED, "busy"), ["audit table write failed"], 0, 1, Redeliver("audit table write failed")),
    (Verdict(Outcome.REMEDIATED), ["a", "b"], 0, LAST, GiveUp("a; b")),
]


@pytest.mark.parametrize("verdict, audit_errors, attempt, delivery, expected", TABLE)
def test_disposition(verdict: Verdict, audit_errors: list[str], attempt: int, delivery: int,
                     expected: Disposition) -> None:
    assert disposition(verdict, audit_errors=audit_errors, attempt=attempt, dequeue_count=delivery,
                       poll_interval=POLL) == expected


def test_the_table_covers_every_outcome_failure_and_disposition() -> None:
    assert {row[0].outcome for row in TABLE} == set(Outcome)
    assert {row[0].failure for row in TABLE} == {*Failure, None}
    assert {type(row[4]) for row in TABLE} == {Done, RequeueAfter, Redeliver, GiveUp}


def test_a_held_lease_puts_the_item_back_without_counting_an_attempt() -> None:
    assert lease_busy(3) == RequeueAfter(LEASE_BUSY_DELAY, 3, "another reconcile of the account is running")


@pytest.mark.parametrize("attempt, poll, expected", [(0, 0.0, 1.0), (0, 5.0, 5.0), (3, 5.0, 40.0), (20, 5.0, 600.0)])
def test_backoff_doubles_from_the_poll_interval_up_to_ten_minutes(attempt: int, poll: float, expected: float) -> None:
    assert backoff(attempt, poll) == expected
