"""The composition root: every part of the app, built once from the settings and handed to whoever needs it.

Called by `function_app.py` on first use, by the operator command, by the local stack and by the tests. Nothing
else builds clients, storage or the engine, so each part receives exactly what it uses.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from remediation.arm.clients import ArmClients
from remediation.core.ids import ResourceId
from remediation.core.settings import Settings
from remediation.engine.breaker import CircuitBreaker
from remediation.engine.reconcile import Remediator
from remediation.engine.sinks import Auditor, AuditSink, EventGridSink, LogSink
from remediation.runtime.direct import DirectReconciler
from remediation.runtime.intake import EventIntake
from remediation.runtime.owners import Owners
from remediation.runtime.worker import LEASE_SECONDS, Worker
from remediation.store.audit import AuditTable
from remediation.store.fanout import FanoutGate
from remediation.store.index import ServingIndex
from remediation.store.leases import AccountLeases
from remediation.store.mailbox import Mailbox
from remediation.store.queue import WorkQueue
from remediation.store.storage import Storage


@dataclass
class Stored:
    """The parts that live in the storage account (AzureWebJobsStorage)."""

    storage: Storage
    table: AuditTable
    queue: WorkQueue
    intake: EventIntake
    worker: Worker
    direct: DirectReconciler  # POST /api/remediate: the worker's lease, waited for


@dataclass
class App:
    settings: Settings
    clients: ArmClients
    remediator: Remediator
    stored: Stored | None  # None without AzureWebJobsStorage (the operator command): records go to the log only

    def history(self, account_id: ResourceId, top: int) -> list[dict[str, Any]]:
        """The account's audit records, newest first (none without storage)."""
        return self.stored.table.history(account_id, top) if self.stored else []

    def close(self) -> None:
        self.clients.close()


def build(settings: Settings, *, sleep: Callable[[float], None] = time.sleep,
          clock: Callable[[], float] = time.monotonic) -> App:
    """Every part for these settings; SDK clients are built on first use."""
    clients = ArmClients(settings)
    sinks: list[AuditSink] = [LogSink()]
    storage = table = breaker = index = None
    if settings.storage_connection or settings.storage_account_name:
        storage = Storage(settings)
        table = AuditTable(storage)
        breaker = CircuitBreaker(table, settings.max_fixes_per_hour, settings.poll_interval_seconds)
        index = ServingIndex(storage)
        sinks.append(table)
    if settings.eventgrid_topic_endpoint:
        sinks.append(EventGridSink(settings.eventgrid_topic_endpoint, lambda: clients.credential))
    remediator = Remediator(settings, clients, Auditor(sinks), breaker=breaker, index=index, sleep=sleep, clock=clock)
    stored = None
    if storage is not None and table is not None and index is not None:
        stored = _stored(settings, clients, remediator, storage, table, index)
    return App(settings, clients, remediator, stored)


def _stored(settings: Settings, clients: ArmClients, remediator: Remediator, storage: Storage, table: AuditTable,
            index: ServingIndex) -> Stored:
    queue, mailbox = WorkQueue(storage), Mailbox(storage)
    leases = AccountLeases(storage, ttl_seconds=LEASE_SECONDS)
    worker = Worker(remediator, queue, leases, Owners(clients, index, settings.scopes), mailbox, FanoutGate(storage))
    intake = EventIntake(settings, queue, index, clients.own_principal, mailbox)
    direct = DirectReconciler(remediator, leases, wait_seconds=settings.ready_timeout_seconds)
    return Stored(storage, table, queue, intake, worker, direct)
