"""reconcile(): the one code path every trigger ends in. Read, close, observe, plan, apply, record.

Called by the queue worker (events and the sweep), by the HTTP trigger and by the operator command. Like a
controller's reconcile loop it acts on the state it reads now, never on what an event claimed, and running it
twice on a fixed account writes nothing the second time. An open account is closed first: the first write,
right after the account read, on a PATCH of its own, so nothing read or refused later delays or undoes it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from remediation.arm.apply import Applier, planned
from remediation.arm.clients import ArmClients, classify, describe
from remediation.arm.observe import observe, read_account, wait_until_ready
from remediation.core import verdict as verdicts
from remediation.core.attribution import FoldedEvent, actors_json, attribute
from remediation.core.desired import DesiredState, desired_state
from remediation.core.exemption import Exemption, exemption
from remediation.core.ids import ResourceId, fold, within_any
from remediation.core.model import Account, ActionKind, ActionStatus, ErrorKind, Mode, Observation, Outcome, Trigger
from remediation.core.plan import Finding, Plan, closed, exposure_fix, plan
from remediation.core.record import AuditRecord, iso, utc_now
from remediation.core.retry import backoff
from remediation.core.settings import Settings
from remediation.core.verdict import ActionResult, ApplyResult, Failure, Verdict
from remediation.core.write_scope import WriteScope
from remediation.engine.breaker import CircuitBreaker, Contest
from remediation.engine.sinks import Auditor
from remediation.store.index import ServingIndex

log = logging.getLogger("remediation")


@dataclass
class ReconcileResult:
    record: AuditRecord
    verdict: Verdict
    audit_errors: list[str] = field(default_factory=list)  # one message per audit sink that failed

    @property
    def failure(self) -> Failure | None:
        return self.verdict.failure


@dataclass
class _Run:
    """What one reconcile has read and done so far: everything its record holds besides the verdict."""

    account_id: ResourceId
    trigger: Trigger
    mode: Mode
    started: float
    event: Mapping[str, Any] | None = None
    actor: Mapping[str, Any] | None = None
    event_time: datetime | None = None
    folded: Sequence[FoldedEvent] = ()
    account: Account | None = None  # as first read: the record's `before`
    findings: tuple[Finding, ...] = ()
    results: list[ActionResult] = field(default_factory=list)
    exemption: Exemption | None = None
    contest: Contest | None = None
    contest_read: bool = False  # the breaker was asked (once per reconcile)
    closed_at: float | None = None  # wall-clock time the close-first write was answered success
    first_write_at: float | None = None

    @property
    def writes(self) -> bool:
        return self.mode is Mode.ENFORCE and not (self.exemption and self.exemption.exempt)


class Remediator:
    """Reconciles one account at a time. Built by `runtime.wiring`; without storage (the operator command) there
    is no circuit breaker and no serving index, which live in the audit table."""

    def __init__(self, settings: Settings, clients: ArmClients, auditor: Auditor, *,
                 breaker: CircuitBreaker | None = None, index: ServingIndex | None = None,
                 sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.monotonic) -> None:
        self.settings = settings
        self.clients = clients
        self.auditor = auditor
        self.breaker = breaker
        self.index = index
        self.sleep = sleep
        self.clock = clock

    def reconcile(self, account_id: ResourceId, trigger: Trigger, *, dry_run: bool = False,
                  event: Mapping[str, Any] | None = None, actor: Mapping[str, Any] | None = None,
                  event_time: datetime | None = None, folded: Sequence[FoldedEvent] = ()) -> ReconcileResult:
        """Read, close, observe, plan, apply and record one account; never raises. `folded`: every event this
        reconcile accounts for (its own among them), oldest first; the record lists their actors and marks which
        one's change produced which finding, where that can be told.

        `reconcile(id_of_an_open_account, Trigger.HTTP)` PATCHes `publicNetworkAccess` back to `Disabled`
        and returns the audit record with outcome `remediated` (`would-remediate` with `dry_run=True`).
        """
        run = _Run(account_id, trigger, Mode.REPORT if dry_run else self.settings.mode, self.clock(), event, actor,
                   event_time, folded)
        # 1. Ours to touch? Outside REMEDIATION_SCOPES nothing is read, and nothing recorded.
        if not within_any(account_id, self.settings.scopes):
            verdict = Verdict(Outcome.SKIPPED, "the account is outside REMEDIATION_SCOPES", Failure.OUT_OF_SCOPE)
            return ReconcileResult(self._record(run, verdict), verdict)
        try:
            # 2. Read the account, waiting (bounded) while an operation runs on it: Azure refuses writes then.
            account = self._read(account_id)
            if isinstance(account, Verdict):
                return self._recorded(run, account)
            run.account = account
            # 3. Ours to manage? An exempt account is still observed and planned, and never written.
            if account.kind.lower() not in self.settings.kinds:
                return self._recorded(run, Verdict(Outcome.SKIPPED, f"kind {account.kind!r} is not in "
                                                                    "REMEDIATION_KINDS"))
            desired = desired_state(self.settings, account.kind, account.location)
            run.exemption = exemption(self.settings, account.id, account.tags, utc_now())
            run.findings = plan(desired, Observation(account)).findings  # the account's own, until observed
            if not account.ready:
                return self._recorded(run, Verdict(Outcome.DEFERRED, f"provisioningState is "
                                                   f"{account.provisioning_state!r}; not written, retry later"))
            # 4. Close first: the exposure alone, built from the read just taken, before any other read.
            applier = self._applier(desired, account.id)
            now_closed = self._close(run, desired, account, applier)
            if isinstance(now_closed, Verdict):
                return self._recorded(run, now_closed)
            # 5. Observe what the lockdown depends on: a read that fails names its resource, never aborts.
            observation = observe(self.clients, desired, now_closed)
            run.findings = plan(desired, replace(observation, account=account)).findings  # judged as first read
            # 6. Plan the rest on the account as it is now; write it (each write from a fresh read), or report it.
            verdict = self._rest(run, desired, observation, applier)
            # 7. Judge: what could not be read is not compliant.
            return self._recorded(run, verdicts.noting_unverified(verdict, observation.unverified))
        except Exception as error:  # noqa: BLE001 - a surprise in our own code still yields a record
            log.exception("reconcile of %s failed", account_id)
            return self._recorded(run, Verdict(Outcome.FAILED, f"internal error: {describe(error)}",
                                               Failure.INTERNAL))

    def _read(self, account_id: ResourceId) -> Account | Verdict:
        """The account once no operation runs on it (or the timeout passed), or why there is none to work on."""
        from azure.core.exceptions import AzureError

        try:
            account = read_account(self.clients, account_id)
            if account.id != account_id:  # the lease and partition are keyed on the ID asked for: never write
                return Verdict(Outcome.SKIPPED, f"Resource Manager answered with {account.id} when asked for "
                               f"{account_id}; the IDs differ beyond ASCII case, so nothing is written")
            return wait_until_ready(self.clients, account, self.settings.ready_timeout_seconds,
                                    self.settings.poll_interval_seconds, self.sleep, self.clock)
        except AzureError as error:
            if classify(error) is ErrorKind.NOT_FOUND:
                return Verdict(Outcome.SKIPPED, "the account does not exist", Failure.NOT_FOUND)
            unavailable = classify(error) is ErrorKind.UNAVAILABLE
            return Verdict(Outcome.FAILED, describe(error),
                           Failure.ARM_UNAVAILABLE if unavailable else Failure.ARM_ERROR)

    def _close(self, run: _Run, desired: DesiredState, account: Account, applier: Applier) -> Account | Verdict:
        """Write `exposure_fix` when the account is open and may be written: the account as it reads once closed,
        or the verdict when it cannot be closed (a lock, a policy: `failed`, with the manual fix; busy: deferred)."""
        close = exposure_fix(desired, account)
        if close is None or not run.writes:
            return account
        contest = self._contest(run, account.id)
        if contest is not None and contest.wait(utc_now()) > 0:
            return account  # fixed too often: nothing is written before the back-off ends (step 6 records it)
        applied = applier.apply(Plan(run.findings, (close,)))
        run.results += applied.results
        run.first_write_at = applied.first_write_at
        if applied.results[0].status is ActionStatus.SUCCEEDED:
            run.closed_at = applied.first_write_at
            return closed(desired, account)
        if not applied.busy:
            log.error("could not close %s: %s", account.id, applied.results[0].error)
        return verdicts.judged(Plan(run.findings, (close,)), applied)

    def _rest(self, run: _Run, desired: DesiredState, observation: Observation, applier: Applier) -> Verdict:
        """Everything but the close: endpoints, DNS, the rest of the account's settings."""
        assert run.account is not None
        fix = plan(desired, observation)
        self._remember(run.account.id, observation, desired, ())
        scope = self._write_scope(run.account.id, observation, desired)
        if run.exemption is not None and run.exemption.exempt:
            return self._exempt(run, fix, scope, run.exemption)
        if not run.findings:
            return Verdict(Outcome.COMPLIANT)
        if run.mode is Mode.REPORT:
            run.results = planned(fix, scope)
            return verdicts.reported(Plan(run.findings, fix.actions), run.results)
        contest = self._contest(run, run.account.id) if fix.actions else run.contest
        if contest is not None:
            return self._contested(run, fix, scope, contest)
        applier.scope = scope
        applier.stale()  # the reads of step 5 took time: every write is rebuilt from a read taken right before it
        applied = applier.apply(fix)
        run.results += applied.results
        run.first_write_at = run.first_write_at or applied.first_write_at
        self._remember(run.account.id, observation, desired, [
            r.action.target for r in applied.results
            if r.status is ActionStatus.SUCCEEDED and r.action.kind is ActionKind.CREATE_PRIVATE_ENDPOINT])
        whole = ApplyResult(run.results, applied.busy, applied.unavailable)
        return verdicts.judged(Plan(run.findings, tuple(r.action for r in run.results)), whole)

    def _contested(self, run: _Run, fix: Plan, scope: WriteScope, contest: Contest) -> Verdict:
        """Fixed too often: the close is still written once the back-off has passed (step 4); everything else waits
        for the episode to end, and comes back as a work item at the end of the next back-off."""
        wait = contest.wait(utc_now())
        if wait > 0:
            run.results = [ActionResult(r.action, ActionStatus.SKIPPED, f"contested; not written before "
                                        f"{iso(contest.next_fix_at)}") for r in planned(fix, scope)]
            return Verdict(Outcome.CONTESTED, contest.reason, retry_after=wait)
        later = [ActionResult(a, ActionStatus.SKIPPED, "contested; waits until the fixes slow down")
                 for a in fix.actions if not a.blocked]
        run.results += later
        retry = backoff(contest.fixes + (1 if run.closed_at else 0) - contest.limit,
                        self.settings.poll_interval_seconds) if later or not run.closed_at else None
        return Verdict(Outcome.CONTESTED, contest.reason, retry_after=retry)

    def _exempt(self, run: _Run, fix: Plan, scope: WriteScope, exempt: Exemption) -> Verdict:
        """What was found and what enforce mode would do, nothing written. Drift on an exempt account is worth a
        look (the exemption may be the way it was opened): a warning here, an event out."""
        run.results = [ActionResult(r.action, ActionStatus.SKIPPED, r.error or "exempt; not written")
                       for r in planned(fix, scope)]
        if run.findings:
            log.warning("exempt account %s has drift, not fixed (exempt by %s%s): %s", scope.account_id, exempt.by,
                        f" until {exempt.until}" if exempt.until else "",
                        ", ".join(f.code.value for f in run.findings))
        return Verdict(Outcome.EXEMPT)

    def _contest(self, run: _Run, account_id: ResourceId) -> Contest | None:
        """The circuit breaker's view, asked once per reconcile and only before a write."""
        if not run.contest_read and self.breaker is not None:
            run.contest, run.contest_read = self.breaker.contest(account_id), True
        return run.contest

    def _applier(self, desired: DesiredState, account_id: ResourceId) -> Applier:
        scope = WriteScope(account_id=account_id, account_scopes=self.settings.scopes,
                           new_endpoint_subnets=frozenset(), existing_endpoints=frozenset(),
                           dns_resource_group=None, dns_record_name=None)  # the close writes the account only
        return Applier(self.clients, scope, ready_timeout=self.settings.ready_timeout_seconds,
                       poll_interval=self.settings.poll_interval_seconds, sleep=self.sleep, clock=self.clock,
                       desired=desired)

    def _recorded(self, run: _Run, verdict: Verdict) -> ReconcileResult:
        record = self._record(run, verdict)
        return ReconcileResult(record, verdict, self.auditor.record(record))

    def _record(self, run: _Run, verdict: Verdict) -> AuditRecord:
        account = run.account
        findings = [_finding_json(f) for f in run.findings]
        return AuditRecord(
            str(account.id if account else run.account_id), run.trigger, run.mode, verdict.outcome,
            kind=account.kind if account else None, event=run.event, actor=run.actor,
            actors=actors_json(run.folded) if run.folded else None,
            findings=attribute(findings, run.folded) if run.folded else findings,
            actions=[_action_json(r) for r in run.results],
            before=account.governed() if account else None,
            after=_after(account, run.results) if account and run.writes and run.results else None,
            duration_ms=int((self.clock() - run.started) * 1000),
            event_to_fix_ms=_since(run.event_time, run.first_write_at),
            event_to_closed_ms=_since(run.event_time, run.closed_at),
            error=verdict.error, error_kind=_error_kind(verdict, run.results),
            exemption=run.exemption.to_json() if run.exemption else None,
            contest=run.contest.to_json() if run.contest else None)

    def _remember(self, account_id: ResourceId, observation: Observation, desired: DesiredState,
                  created: Sequence[ResourceId]) -> None:
        """Record which endpoints and zones serve the account, so their delete events map back to it."""
        if self.index is None:
            return
        endpoints = [e.id for e in observation.endpoints.values() if e.subnet_id in desired.serving_subnets]
        try:
            self.index.remember(account_id, [*endpoints, *created], observation.zones,
                                observation.account.custom_subdomain)
        except Exception as error:  # noqa: BLE001 - the index only helps map future events
            log.warning("could not update the endpoint index for %s: %s", account_id, type(error).__name__)

    def _write_scope(self, account_id: ResourceId, observation: Observation, desired: DesiredState) -> WriteScope:
        settings = self.settings
        return WriteScope(
            account_id=account_id,
            account_scopes=settings.scopes,
            new_endpoint_subnets=frozenset(settings.pe_subnets.subnets),
            existing_endpoints=frozenset(e.id for e in observation.endpoints.values()
                                         if e.subnet_id in desired.serving_subnets),
            dns_resource_group=settings.dns_zone_resource_group,
            dns_record_name=observation.account.custom_subdomain,
        )


def _error_kind(verdict: Verdict, results: Sequence[ActionResult]) -> str | None:
    """Why it could not do its job, in one word a query can filter on: the first failed write's treatment (locked,
    limit, policy, refused, forbidden, unavailable, busy), else the reconcile's own failure (not-found, ...)."""
    failed = next((r.error_kind for r in results if r.status is ActionStatus.FAILED and r.error_kind), None)
    if failed is not None:
        return failed.value
    return verdict.failure.value if verdict.failure else None


def _since(event_time: datetime | None, moment: float | None) -> int | None:
    """Milliseconds from the event to a wall-clock moment (None when either is unknown)."""
    if event_time is None or moment is None:
        return None
    return max(0, int((moment - event_time.timestamp()) * 1000))


_ACCOUNT_PATCHES = (ActionKind.CLOSE_EXPOSURE, ActionKind.PATCH_ACCOUNT_NETWORK)


def _after(account: Account, results: Sequence[ActionResult]) -> dict[str, Any]:
    """The governed properties after the writes, from what was sent and what ARM answered (no extra read)."""
    governed = account.governed()
    for result in results:
        if result.status is not ActionStatus.SUCCEEDED or result.action.kind not in _ACCOUNT_PATCHES:
            continue
        governed.update(result.action.body["properties"])  # what we sent, accepted
        answer = result.resource.get("properties") if isinstance(result.resource, dict) else None
        if isinstance(answer, dict):  # what ARM says it holds now, when the operation returned it
            governed.update({k: answer[k] for k in ("publicNetworkAccess", "networkAcls", "disableLocalAuth")
                             if k in answer})
    connections = governed["privateEndpointConnections"]
    for result in results:
        if result.status is not ActionStatus.SUCCEEDED:
            continue
        if result.action.kind is ActionKind.APPROVE_CONNECTION:
            for connection in connections:
                if fold(connection["name"]) == fold(result.action.target.name):
                    connection["status"] = "Approved"
        elif result.action.kind is ActionKind.CREATE_PRIVATE_ENDPOINT:
            if all(fold(c["privateEndpoint"] or "") != result.action.target.key for c in connections):
                connections.append({"name": result.action.target.name, "privateEndpoint": str(result.action.target),
                                    "status": "Approved"})  # apply fails the action unless it came back Approved
    return governed


def _finding_json(finding: Finding) -> dict[str, Any]:
    data = {"code": finding.code.value, "property": finding.property, "actual": finding.actual,
            "expected": finding.expected}
    if finding.target:
        data["target"] = finding.target
    if finding.manual:
        data["manual"] = finding.manual
    return data


def _action_json(result: ActionResult) -> dict[str, Any]:
    return {"name": result.action.kind.value, "target": str(result.action.target), "status": result.status.value,
            "error": result.error}


__all__ = ["Failure", "ReconcileResult", "Remediator"]
