"""reconcile(): the one code path every trigger ends in. Observe, plan, apply, record.

Called by `worker.Worker` (events and the sweep, through the work queue), by the HTTP trigger and by
the operator command. Like a controller's reconcile loop it acts on the state it reads now, never on
what an event claimed, and running it twice on a fixed account writes nothing the second time.
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
from remediation.core.findings import FindingCode
from remediation.core.ids import ResourceId, fold, within_any
from remediation.core.model import Account, ActionKind, ActionStatus, ErrorKind, Mode, Observation, Outcome, Trigger
from remediation.core.plan import Action, Plan, plan
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
    """What one reconcile learned and did: its verdict and the parts of the record besides it."""

    verdict: Verdict
    kind: str | None = None
    findings: list[dict[str, Any]] = field(default_factory=list)
    actions: list[dict[str, Any]] = field(default_factory=list)
    before: Mapping[str, Any] | None = None
    after: Mapping[str, Any] | None = None
    event_to_fix_ms: int | None = None
    resource_id: ResourceId | None = None  # the account's ID as Resource Manager returned it
    exemption: Exemption | None = None
    contest: Contest | None = None


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
        """Observe, plan, apply and record one account; never raises. `folded`: every event this reconcile
        accounts for (its own among them), oldest first; the record lists their actors and marks which one's
        change produced which finding, where that can be told.

        `reconcile(id_of_an_open_account, Trigger.HTTP)` PATCHes `publicNetworkAccess` back to `Disabled`
        and returns the audit record with outcome `remediated` (`would-remediate` with `dry_run=True`).
        """
        started = self.clock()
        mode = Mode.REPORT if dry_run else self.settings.mode
        if not within_any(account_id, self.settings.scopes):  # not ours: nothing read, nothing recorded
            verdict = Verdict(Outcome.SKIPPED, "the account is outside REMEDIATION_SCOPES", Failure.OUT_OF_SCOPE)
            record = AuditRecord(str(account_id), trigger, mode, verdict.outcome, event=event, actor=actor,
                                 error=verdict.error)
            return ReconcileResult(record, verdict)
        run = self._run(account_id, mode, event_time)
        findings = attribute(run.findings, folded) if folded else run.findings
        record = AuditRecord(
            str(run.resource_id or account_id), trigger, mode, run.verdict.outcome, kind=run.kind, event=event,
            actor=actor, actors=actors_json(folded) if folded else None, findings=findings, actions=run.actions,
            before=run.before, after=run.after,
            duration_ms=int((self.clock() - started) * 1000), event_to_fix_ms=run.event_to_fix_ms,
            error=run.verdict.error, error_kind=run.verdict.failure.value if run.verdict.failure else None,
            exemption=run.exemption.to_json() if run.exemption else None,
            contest=run.contest.to_json() if run.contest else None)
        return ReconcileResult(record, run.verdict, self.auditor.record(record))

    def _run(self, account_id: ResourceId, mode: Mode, event_time: datetime | None) -> _Run:
        # 1. Read the account.
        try:
            account = read_account(self.clients, account_id)
        except Exception as error:  # noqa: BLE001 - every read failure becomes a recorded outcome
            if classify(error) is ErrorKind.NOT_FOUND:
                return _Run(Verdict(Outcome.SKIPPED, "the account does not exist", Failure.NOT_FOUND))
            return _Run(_read_failed(error))
        if account.id != account_id:  # the lease and partition are keyed on the ID asked for: never write under it
            return _Run(Verdict(Outcome.SKIPPED, f"Resource Manager answered with {account.id} when asked for "
                                f"{account_id}; the IDs differ beyond ASCII case, so nothing is written"))
        return replace(self._managed(account, mode, event_time), resource_id=account.id)  # recorded as ARM spells it

    def _managed(self, account: Account, mode: Mode, event_time: datetime | None) -> _Run:
        # 2. Is it ours to manage? An exempt account is still observed and planned, and never written.
        if account.kind.lower() not in self.settings.kinds:
            return _Run(Verdict(Outcome.SKIPPED, f"kind {account.kind!r} is not in REMEDIATION_KINDS"), account.kind)
        exempt = exemption(self.settings, account.id, account.tags, utc_now())
        return replace(self._observed(account, mode, event_time, exempt), exemption=exempt)

    def _observed(self, account: Account, mode: Mode, event_time: datetime | None, exempt: Exemption) -> _Run:
        settings = self.settings
        # 3. Wait until no operation runs on it (bounded), then 4. observe what its lockdown depends on.
        try:
            account = wait_until_ready(self.clients, account, settings.ready_timeout_seconds,
                                       settings.poll_interval_seconds, self.sleep, self.clock)
            desired = desired_state(settings, account.kind, account.location)
            observation = observe(self.clients, desired, account)
        except Exception as error:  # noqa: BLE001
            return _Run(_read_failed(error), account.kind)
        # 5. Plan, 6. write (or only report), 7. judge.
        try:
            run = self._plan_and_apply(account, desired, observation, mode, event_time, exempt)
            return replace(run, verdict=verdicts.noting_unverified(run.verdict, observation.unverified))
        except Exception as error:  # noqa: BLE001 - a surprise in our own code still yields a record
            log.exception("reconcile of %s failed", account.id)
            return _Run(Verdict(Outcome.FAILED, f"internal error: {describe(error)}", Failure.INTERNAL),
                        account.kind)

    def _plan_and_apply(self, account: Account, desired: DesiredState, observation: Observation, mode: Mode,
                        event_time: datetime | None, exempt: Exemption) -> _Run:
        fix = plan(desired, observation)
        self._remember(account.id, observation, desired, ())
        seen = _Run(Verdict(Outcome.COMPLIANT), account.kind, [_finding_json(f) for f in fix.findings],
                    before=account.governed())
        if fix.not_ready:
            return replace(seen, verdict=Verdict(
                Outcome.DEFERRED, f"provisioningState is {account.provisioning_state!r}; not written, retry later"))
        scope = self._write_scope(account.id, observation, desired)
        if exempt.exempt:
            return _exempt(seen, fix, scope, exempt)
        if not fix.findings:
            return seen
        if mode is Mode.REPORT:
            results = planned(fix, scope)
            return replace(seen, verdict=verdicts.reported(fix, results), actions=_actions_json(results))
        contest = self.breaker.contest(account.id) if self.breaker else None
        if contest is not None:
            return self._contested(account, seen, fix, scope, contest)
        applied = self._applier(scope, desired).apply(fix)
        self._remember(account.id, observation, desired, [r.action.target for r in applied.results if
                                                          r.status is ActionStatus.SUCCEEDED and
                                                          r.action.kind is ActionKind.CREATE_PRIVATE_ENDPOINT])
        event_to_fix_ms = (max(0, int((applied.first_write_at - event_time.timestamp()) * 1000))
                           if applied.first_write_at and event_time else None)
        return replace(seen, verdict=verdicts.judged(fix, applied), actions=_actions_json(applied.results),
                       after=_after(account, applied), event_to_fix_ms=event_to_fix_ms)

    def _applier(self, scope: WriteScope, desired: DesiredState | None) -> Applier:
        """desired=None: the actions are sent once, as planned (no busy retry, so no rebuild is needed)."""
        return Applier(self.clients, scope, ready_timeout=self.settings.ready_timeout_seconds if desired else 0.0,
                       poll_interval=self.settings.poll_interval_seconds, sleep=self.sleep, clock=self.clock,
                       desired=desired)

    def _contested(self, account: Account, seen: _Run, fix: Plan, scope: WriteScope, contest: Contest) -> _Run:
        """Fixed too often: the account's exposure (public access, default action) is still fixed once the back-off
        has passed; everything else waits for the episode to end. What is left comes back as a work item at the
        end of the next back-off (`verdict.retry_after`; the HTTP and CLI paths only report it)."""
        urgent = _urgent(fix, account)
        wait = contest.wait(utc_now())
        seen = replace(seen, contest=contest)
        if wait > 0 or urgent is None:
            skipped = [ActionResult(r.action, ActionStatus.SKIPPED, f"contested; not written before "
                                    f"{iso(contest.next_fix_at)}") for r in planned(fix, scope)]
            retry = wait or backoff(contest.fixes - contest.limit, self.settings.poll_interval_seconds)
            return replace(seen, verdict=Verdict(Outcome.CONTESTED, contest.reason, retry_after=retry),
                           actions=_actions_json(skipped))
        # Sent once, built from the read just before: a rebuild after a wait would re-plan the whole PATCH, and a
        # stale one could undo a rule a person changed meanwhile. A busy account defers it (a work item again).
        applied = self._applier(scope, None).apply(urgent)
        if applied.failed or applied.busy:
            return replace(seen, verdict=verdicts.judged(urgent, applied), actions=_actions_json(applied.results))
        # Everything else the plan would do waits (the whole PATCH too, when it also holds IP rules and the like).
        later = [ActionResult(a, ActionStatus.SKIPPED, "contested; waits until the fixes slow down")
                 for a in fix.actions if a.body != urgent.actions[0].body and not a.blocked]
        after = backoff(contest.fixes + 1 - contest.limit, self.settings.poll_interval_seconds) if later else None
        return replace(seen, verdict=Verdict(Outcome.CONTESTED, contest.reason, retry_after=after),
                       actions=_actions_json([*applied.results, *later]), after=_after(account, applied))

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


URGENT = (FindingCode.PUBLIC_NETWORK_ACCESS_ENABLED, FindingCode.NETWORK_DEFAULT_ACTION_ALLOW)


def _urgent(fix: Plan, account: Account) -> Plan | None:
    """The part of a plan that closes the account's exposure: public access and the default action, in one PATCH
    of those two properties only (existing rules kept as they are); None when neither is wrong."""
    findings = tuple(f for f in fix.findings if f.code in URGENT)
    if not findings:
        return None
    patch: dict[str, Any] = {}
    if any(f.code is FindingCode.PUBLIC_NETWORK_ACCESS_ENABLED for f in findings):
        patch["publicNetworkAccess"] = "Disabled"
    if any(f.code is FindingCode.NETWORK_DEFAULT_ACTION_ALLOW for f in findings):
        patch["networkAcls"] = {**(account.network_acls or {}), "defaultAction": "Deny"}
    return Plan(findings, (Action(ActionKind.PATCH_ACCOUNT_NETWORK, account.id, {"properties": patch}),))


def _exempt(seen: _Run, fix: Plan, scope: WriteScope, exempt: Exemption) -> _Run:
    """An exempt account's record: what was found and what enforce mode would do, nothing written. Drift on an
    exempt account is worth a look (the exemption may be the way it was opened): a warning here, an event out."""
    skipped = [ActionResult(r.action, ActionStatus.SKIPPED, r.error or "exempt; not written")
               for r in planned(fix, scope)]
    if fix.findings:
        log.warning("exempt account %s has drift, not fixed (exempt by %s%s): %s", scope.account_id, exempt.by,
                    f" until {exempt.until}" if exempt.until else "", ", ".join(f.code.value for f in fix.findings))
    return replace(seen, verdict=Verdict(Outcome.EXEMPT), actions=_actions_json(skipped))


def _read_failed(error: Exception) -> Verdict:
    unavailable = classify(error) is ErrorKind.UNAVAILABLE
    return Verdict(Outcome.FAILED, describe(error), Failure.ARM_UNAVAILABLE if unavailable else Failure.ARM_ERROR)


def _after(account: Account, applied: ApplyResult) -> dict[str, Any]:
    """The governed properties after the writes, from what was sent and what ARM answered (no extra read)."""
    governed = account.governed()
    for result in applied.results:
        if result.status is not ActionStatus.SUCCEEDED or result.action.kind is not ActionKind.PATCH_ACCOUNT_NETWORK:
            continue
        governed.update(result.action.body["properties"])  # what we sent, accepted
        answer = result.resource.get("properties") if isinstance(result.resource, dict) else None
        if isinstance(answer, dict):  # what ARM says it holds now, when the operation returned it
            governed.update({k: answer[k] for k in ("publicNetworkAccess", "networkAcls", "disableLocalAuth")
                             if k in answer})
    connections = governed["privateEndpointConnections"]
    for result in applied.results:
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


def _finding_json(finding: Any) -> dict[str, Any]:
    data = {"code": finding.code.value, "property": finding.property, "actual": finding.actual,
            "expected": finding.expected}
    if finding.target:
        data["target"] = finding.target
    return data


def _actions_json(results: Sequence[ActionResult]) -> list[dict[str, Any]]:
    return [_action_json(r) for r in results]


def _action_json(result: ActionResult) -> dict[str, Any]:
    return {"name": result.action.kind.value, "target": str(result.action.target), "status": result.status.value,
            "error": result.error}


__all__ = ["Failure", "ReconcileResult", "Remediator"]
