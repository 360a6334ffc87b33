"""reconcile(): the one code path every trigger ends in. Observe, plan, apply, record.

Like a controller's reconcile loop it acts on the state it reads now, never on what an event
claimed, and running it twice on a fixed account writes nothing the second time.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import Enum
from typing import Any, Callable, Mapping

from .apply import ActionResult, Applier, ApplyResult, WriteScope, planned
from .audit import AuditRecord, Auditor, EventGridSink, LogSink, TableSink, utc_now
from .coordination import ServingIndex
from .clients import ArmClients, ErrorKind, classify, describe
from .desired import DesiredState, desired_state, exempt_until
from .ids import ResourceId, within_any
from .model import Account, ActionKind, ActionStatus, FindingCode, Mode, Observation, Outcome, Trigger
from .observe import observe, read_account, wait_until_ready
from .plan import Plan, plan
from .settings import Settings
from .storage import Storage


log = logging.getLogger("remediation")


class Failure(str, Enum):
    """Why a reconcile could not do its job; the HTTP layer maps each to a status code."""

    OUT_OF_SCOPE = "out-of-scope"
    NOT_FOUND = "not-found"
    ARM_UNAVAILABLE = "arm-unavailable"
    ARM_ERROR = "arm-error"
    INTERNAL = "internal"


@dataclass
class ReconcileResult:
    record: AuditRecord
    failure: Failure | None = None
    audit_errors: list[str] = field(default_factory=list)


class Remediator:
    def __init__(self, settings: Settings, clients: ArmClients | None = None, auditor: Auditor | None = None,
                 *, sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.monotonic) -> None:
        self.settings = settings
        self.clients = clients or ArmClients(settings)
        self.storage = Storage(settings)
        self.table = TableSink(self.storage)
        self.index = ServingIndex(self.storage)
        # The operator command may run with an Azure login alone: then records go to the log only, and
        # the circuit breaker and the endpoint index (which live in the table) are left out.
        self.has_storage = bool(settings.storage_connection or settings.storage_account_name)
        sinks: list[Any] = [LogSink(), self.table] if self.has_storage else [LogSink()]
        if settings.eventgrid_topic_endpoint:
            sinks.append(EventGridSink(settings.eventgrid_topic_endpoint, lambda: self.clients.credential))
        self.auditor = auditor or Auditor(sinks)
        self.sleep = sleep
        self.clock = clock

    def reconcile(self, account_id: ResourceId, trigger: Trigger, *, dry_run: bool = False,
                  event: Mapping[str, Any] | None = None, actor: Mapping[str, Any] | None = None,
                  event_time: datetime | None = None) -> ReconcileResult:
        started = self.clock()
        mode = Mode.REPORT if dry_run else self.settings.mode
        record = AuditRecord(str(account_id), trigger, mode, Outcome.SKIPPED, event=event, actor=actor)
        if not within_any(account_id, self.settings.scopes):
            record.error = "the account is outside REMEDIATION_SCOPES"
            return ReconcileResult(record, Failure.OUT_OF_SCOPE)  # not ours: nothing read, nothing recorded

        failure = self._run(account_id, mode, record, event_time)
        record.duration_ms = int((self.clock() - started) * 1000)
        return ReconcileResult(record, failure, self.auditor.record(record))

    def history(self, account_id: ResourceId, top: int) -> list[dict[str, Any]]:
        """The account's audit records, newest first."""
        return self.table.history(account_id, top)

    def _run(self, account_id: ResourceId, mode: Mode, record: AuditRecord, event_time: datetime | None) -> Failure | None:
        settings = self.settings
        try:
            account = read_account(self.clients, account_id)
        except Exception as error:  # noqa: BLE001 - every read failure becomes a recorded outcome
            if classify(error) == ErrorKind.NOT_FOUND:
                record.error = "the account does not exist"
                return Failure.NOT_FOUND
            return _read_failed(record, error)
        record.kind = account.kind
        if account.kind.lower() not in settings.kinds:
            record.error = f"kind {account.kind!r} is not in REMEDIATION_KINDS"
            return None
        if exempt_until(dict(account.tags), settings.exempt_tag, utc_now()):
            record.outcome = Outcome.EXEMPT
            return None
        try:
            account = wait_until_ready(self.clients, account, settings.ready_timeout_seconds,
                                       settings.poll_interval_seconds, self.sleep, self.clock)
            desired = desired_state(settings, account.kind, account.location)
            observation = observe(self.clients, desired, account)
        except Exception as error:  # noqa: BLE001
            return _read_failed(record, error)

        try:
            return self._plan_and_apply(account, desired, observation, mode, record, event_time)
        except Exception as error:  # noqa: BLE001 - a surprise in our own code still yields a record
            record.outcome = Outcome.FAILED
            record.error = f"internal error: {describe(error)}"
            log.exception("reconcile of %s failed", account.id)
            return Failure.INTERNAL

    def _plan_and_apply(self, account: Account, desired: DesiredState, observation: Observation, mode: Mode,
                        record: AuditRecord,
                        event_time: datetime | None) -> Failure | None:
        the_plan = plan(desired, observation)
        self._remember(account.id, observation, desired, ())
        record.before = account.governed()
        record.findings = [_finding_json(f) for f in the_plan.findings]
        if the_plan.not_ready:
            record.outcome = Outcome.DEFERRED
            record.error = f"provisioningState is {account.provisioning_state!r}; not written, retry later"
            return None
        if not the_plan.findings:
            record.outcome = Outcome.COMPLIANT
            return None
        scope = self._write_scope(account.id, observation.endpoints, desired.serving_subnets)
        if mode is Mode.REPORT:
            results = planned(the_plan, scope)
            record.actions = [_action_json(r) for r in results]
            open_items = _open_items(the_plan, results)
            runnable = any(r.status is ActionStatus.PLANNED for r in results)
            record.outcome = Outcome.WOULD_REMEDIATE if runnable else Outcome.FAILED
            if open_items:
                record.error = ("would not fix: " if runnable else "cannot fix: ") + "; ".join(open_items)
            return None

        if self._contested(account.id, record):
            record.actions = [_action_json(ActionResult(r.action, ActionStatus.SKIPPED, "contested; not written"))
                              for r in planned(the_plan, scope)]
            return None
        applied = Applier(self.clients, scope, ready_timeout=self.settings.ready_timeout_seconds,
                          poll_interval=self.settings.poll_interval_seconds, sleep=self.sleep,
                          clock=self.clock).apply(the_plan)
        record.actions = [_action_json(r) for r in applied.results]
        record.after = _after(account, applied)
        self._remember(account.id, observation, desired, [r.action.target for r in applied.results if
                                                          r.status is ActionStatus.SUCCEEDED and
                                                          r.action.kind is ActionKind.CREATE_PRIVATE_ENDPOINT])
        if applied.first_write_at and event_time:
            record.event_to_fix_ms = max(0, int((applied.first_write_at - event_time.timestamp()) * 1000))
        return _judge(record, the_plan, applied)

    def _contested(self, account_id: ResourceId, record: AuditRecord) -> bool:
        """Circuit breaker: past REMEDIATION_MAX_FIXES_PER_HOUR fixes in an hour, someone keeps undoing
        them (another automation, a template redeployed): stop fighting, say so once, write nothing."""
        if not self.has_storage:
            return False
        try:
            recent = self.table.since(account_id, utc_now() - timedelta(hours=1))
        except Exception as error:  # noqa: BLE001 - without history the fix goes ahead: that is the job
            log.warning("circuit breaker could not read the audit history of %s: %s", account_id,
                        type(error).__name__)
            return False
        fixes = sum(1 for r in recent if r.get("outcome") == Outcome.REMEDIATED.value)
        limit = self.settings.max_fixes_per_hour
        if fixes < limit:
            return False
        record.outcome = Outcome.CONTESTED
        record.error = (f"{fixes} fixes in the last hour reached REMEDIATION_MAX_FIXES_PER_HOUR={limit}: something "
                        "keeps undoing them; no more writes until the hour has passed")
        if not any(r.get("outcome") == Outcome.CONTESTED.value for r in recent):
            log.error("account %s is contested: %s", account_id, record.error)
        return True

    def _remember(self, account_id: ResourceId, observation: Observation, desired: DesiredState,
                  created: Any) -> None:
        """Record which endpoints and zones serve the account, so their delete events map back to it."""
        if not self.has_storage:
            return
        endpoints = [e.id for e in observation.endpoints.values() if e.subnet_id in desired.serving_subnets]
        try:
            self.index.remember(account_id, [*endpoints, *created], observation.zones)
        except Exception as error:  # noqa: BLE001 - the index only helps map future events
            log.warning("could not update the endpoint index for %s: %s", account_id, type(error).__name__)

    def _write_scope(self, account_id: ResourceId, endpoints: Mapping[ResourceId, Any],
                     serving_subnets: frozenset[ResourceId]) -> WriteScope:
        settings = self.settings
        return WriteScope(
            account_id=account_id,
            account_scopes=settings.scopes,
            new_endpoint_subnets=frozenset(settings.pe_subnets.subnets),
            existing_endpoints=frozenset(e.id for e in endpoints.values() if e.subnet_id in serving_subnets),
            dns_resource_group=settings.dns_zone_resource_group,
        )


def _read_failed(record: AuditRecord, error: Exception) -> Failure:
    record.outcome = Outcome.FAILED
    record.error = describe(error)
    return Failure.ARM_UNAVAILABLE if classify(error) == ErrorKind.UNAVAILABLE else Failure.ARM_ERROR


def _open_items(the_plan: Plan, results: list[ActionResult]) -> list[str]:
    """What this reconcile leaves open, one line each: actions not done, and findings no action can fix."""
    items = [f"{r.action.kind.value} {r.action.target}: {r.error}" for r in results
             if r.status in (ActionStatus.FAILED, ActionStatus.SKIPPED)]
    if any(f.code is FindingCode.CUSTOM_SUBDOMAIN_MISSING for f in the_plan.findings):
        items.append("CUSTOM_SUBDOMAIN_MISSING: the account has no custom subdomain, so no private endpoint "
                      "can serve it; recreate it with one")
    return items


def _judge(record: AuditRecord, the_plan: Plan, applied: ApplyResult) -> Failure | None:
    """The outcome says whether the account is locked down now; `error` says what is still open and why."""
    if applied.busy:
        record.outcome = Outcome.DEFERRED
        record.error = "the account stayed busy; the rest is deferred"
        return None
    open_items = _open_items(the_plan, applied.results)
    if not open_items:
        record.outcome = Outcome.REMEDIATED
        return None
    record.outcome = Outcome.FAILED
    record.error = "not fixed: " + "; ".join(open_items)
    if applied.unavailable:
        return Failure.ARM_UNAVAILABLE
    return Failure.ARM_ERROR if applied.failed else None


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
                if connection["name"].lower() == result.action.target.name.lower():
                    connection["status"] = "Approved"
        elif result.action.kind is ActionKind.CREATE_PRIVATE_ENDPOINT:
            if all((c["privateEndpoint"] or "").lower() != result.action.target.key for c in connections):
                connections.append({"name": result.action.target.name, "privateEndpoint": str(result.action.target),
                                    "status": "Approved"})  # apply fails the action unless it came back Approved
    return governed


def _finding_json(finding: Any) -> dict[str, Any]:
    data = {"code": finding.code.value, "property": finding.property, "actual": finding.actual,
            "expected": finding.expected}
    if finding.target:
        data["target"] = finding.target
    return data


def _action_json(result: ActionResult) -> dict[str, Any]:
    return {"name": result.action.kind.value, "target": str(result.action.target), "status": result.status.value,
            "error": result.error}
