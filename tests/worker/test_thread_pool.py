"""Queue invocations side by side on the worker library's thread pool (PYTHON_THREADPOOL_THREAD_COUNT, 24 in the
deployment: infra/modules/app.bicep, tied to host.json's batchSize + newBatchThreshold by tests/infra)."""
from __future__ import annotations

import base64
import threading

import pytest
from azure.storage.queue import QueueClient

from localdev.arm_emulator.model import WriteEvent
from localdev.estate import OPENAI_ZONE, Estate, account_id
from remediation.core.model import Trigger
from remediation.core.operations import TargetKind
from remediation.core.telemetry import RECONCILE_PREFIX, parse_line
from remediation.store.queue import WorkItem
from remediation.store.storage import WORK_QUEUE
from tests.conftest import Stack
from tests.helpers.worker_host import QueueListener
from tests.worker.conftest import StartWorker

ACCOUNTS = [account_id(f"aoai-{n:02d}") for n in range(24)]


class HeldWrites:
    """Holds every account PATCH the emulator accepts until `parties` of them wait at once (or `timeout` passes):
    the writes can only all go through if that many reconciles run side by side."""

    def __init__(self, parties: int, timeout: float) -> None:
        self.barrier = threading.Barrier(parties, timeout=timeout)
        self._lock = threading.Lock()
        self.waiting = 0
        self.most = 0

    def __call__(self, write: WriteEvent) -> None:
        if write.method != "PATCH" or write.resource_id.lower() not in {a.lower() for a in ACCOUNTS}:
            return
        with self._lock:
            self.waiting += 1
            self.most = max(self.most, self.waiting)
        try:
            self.barrier.wait()
        except threading.BrokenBarrierError:
            pass
        finally:
            with self._lock:
                self.waiting -= 1


def run_24(stack: Stack, start_worker: StartWorker, threads: int, held: HeldWrites) -> list:
    estate = Estate().network((OPENAI_ZONE,))
    for resource_id in ACCOUNTS:
        estate.locked(resource_id.rsplit("/", 1)[1], public_network_access="Enabled")
    stack.seed(estate)
    host = start_worker(threads=threads)
    listener = QueueListener(host, stack.azurite.connection_string, WORK_QUEUE, "process_work_item")
    queue = QueueClient.from_connection_string(stack.azurite.connection_string, WORK_QUEUE)
    for resource_id in ACCOUNTS:
        item = WorkItem(kind=TargetKind.ACCOUNT, resource_id=resource_id, trigger=Trigger.EVENT)
        queue.send_message(base64.b64encode(item.to_message().encode()).decode())
    messages: list = []
    while len(messages) < len(ACCOUNTS) and (batch := listener.receive(len(ACCOUNTS) - len(messages))):
        messages += batch
    assert len(messages) == len(ACCOUNTS)
    stack.emulator.on_write(held)
    try:
        return listener.run(messages)  # all 24 invocation requests at once
    finally:
        stack.emulator.off_write(held)


def test_24_queue_invocations_run_side_by_side(stack: Stack, start_worker: StartWorker) -> None:
    held = HeldWrites(len(ACCOUNTS), timeout=60)

    invocations = run_24(stack, start_worker, 24, held)

    assert not held.barrier.broken and held.most == len(ACCOUNTS)
    assert [i.status for i in invocations] == ["Success"] * len(ACCOUNTS), [i.exception for i in invocations]
    assert all(stack.resource(a)["properties"]["publicNetworkAccess"] == "Disabled" for a in ACCOUNTS)
    # One audit line per account, each kept under its own invocation.
    lines = {i.invocation_id: [f for m in i.messages() if (f := parse_line(m, RECONCILE_PREFIX))] for i in invocations}
    assert all(len(found) == 1 for found in lines.values())
    assert sorted(found[0]["resourceId"].lower() for found in lines.values()) == sorted(a.lower() for a in ACCOUNTS)


@pytest.mark.parametrize("threads", [8])
def test_a_smaller_pool_runs_no_more_than_its_threads_at_once(stack: Stack, start_worker: StartWorker,
                                                              threads: int) -> None:
    """The same 24 deliveries with PYTHON_THREADPOOL_THREAD_COUNT=8: the barrier for 24 cannot be met (it gives up
    after its timeout) and no more than 8 writes ever wait at once; every invocation still succeeds."""
    held = HeldWrites(len(ACCOUNTS), timeout=10)

    invocations = run_24(stack, start_worker, threads, held)

    assert held.barrier.broken and held.most == threads
    assert [i.status for i in invocations] == ["Success"] * len(ACCOUNTS)
