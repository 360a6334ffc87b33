"""What a reconcile concluded. Pure: no I/O, no clock.

A reconcile ends in a `Verdict`: the outcome its audit record carries, why, and whether Resource Manager
or the app failed; `retry.disposition` turns it into what the work queue does next.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from enum import Enum
from typing import Any

from remediation.core.findings import FINDINGS, FindingCode
from remediation.core.ids import PRIVATE_ENDPOINT_TYPE
from remediation.core.model import PERMANENT, ActionStatus, ErrorKind, Outcome, Unverified
from remediation.core.plan import Action, Plan


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


@dataclass
class ActionResult:
    action: Action
    status: ActionStatus
    error: str | None = None
    resource: Any = None  # the resource's JSON as ARM returned it after the write
    error_kind: ErrorKind | None = None  # for a failed action: whether another try could help


@dataclass
class ApplyResult:
    results: list[ActionResult] = field(default_factory=list)
    busy: bool = False  # stopped because the account stayed busy: defer, don't fail
    unavailable: bool = False  # Resource Manager throttled or unreachable past the retries
    first_write_at: float | None = None  # wall-clock time of the first successful write

    @property
    def failed(self) -> bool:
        return any(r.status is ActionStatus.FAILED for r in self.results)


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


_SHOWN = 5  # unverified resources named in a record's error; the rest are counted


def noting_unverified(verdict: Verdict, unverified: Sequence[Unverified]) -> Verdict:
    """The verdict, its error naming what could not be read. None of it counts: an endpoint the identity may not
    read does not serve (the account is judged without it); a zone or record that could not be read, or an
    endpoint that did not answer, leaves the account unverified, so it is not compliant (`failed`, and retried
    when another try may get an answer)."""
    if not unverified:
        return verdict
    shown = "; ".join(u.note() for u in unverified[:_SHOWN])
    more = f"; and {len(unverified) - _SHOWN} more" if len(unverified) > _SHOWN else ""
    note = f"unverified, not counted: {shown}{more}"
    verdict = replace(verdict, error=f"{verdict.error}; {note}" if verdict.error else note)
    blocking = [u for u in unverified if u.transient or not u.resource_id.is_type(PRIVATE_ENDPOINT_TYPE)]
    if not blocking or verdict.outcome not in (Outcome.COMPLIANT, Outcome.REMEDIATED):
        return verdict
    transient = any(u.transient for u in blocking)
    return replace(verdict, outcome=Outcome.FAILED, failure=Failure.ARM_UNAVAILABLE if transient else verdict.failure)


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
        elif finding.manual:
            items.append(f"{finding.code.value} {finding.target or ''}: {finding.manual}")
    return items
