"""localdev/functions_host.py runs the queue the way one host instance does (bench/storm.py's workers use it):
a batch fetched whenever no more than newBatchThreshold run, each message on its own thread, a message whose
function raised delivered again with one more dequeue."""
from __future__ import annotations

import base64
import threading
from types import SimpleNamespace
from typing import Any

from azure.functions.queue import QueueMessage
from azure.storage.queue import QueueClient

from localdev.azurite import Azurite
from localdev.functions_host import BATCH_SIZE, NEW_BATCH_THRESHOLD, LocalHost
from remediation.store.storage import WORK_QUEUE


class Recorder:
    """Stands in for function_app: notes how many invocations run at once and fails one message once.

    No invocation ends before the host has shown what it does: the first batch's invocations wait until the whole
    batch runs at once; the long ones (reconciles waiting on Resource Manager) and the next batch's wait until more
    run at once than one batch holds, which the host allows only by fetching again while no more than
    newBatchThreshold run. What is measured is the host's batching, not how long a pause lasted."""

    def __init__(self) -> None:
        self.lock = threading.Condition()
        self.running = 0
        self.most = 0
        self.seen: list[tuple[str, int]] = []
        self.first_batch_ran = False

    def process_work_item(self, message: QueueMessage) -> None:
        body = message.get_body().decode()
        with self.lock:
            self.running += 1
            self.most = max(self.most, self.running)
            self.seen.append((body, message.dequeue_count or 0))
            self.lock.notify_all()
            if not self.first_batch_ran:
                assert self.lock.wait_for(lambda: self.running >= BATCH_SIZE or self.first_batch_ran, 30)
                self.first_batch_ran = True
                long = body.startswith(("long", "fails"))
            else:
                long = True  # the next batch stays until it has joined the long ones
            if long:
                assert self.lock.wait_for(lambda: self.most > BATCH_SIZE, 30)
        try:
            if body == "fails once" and message.dequeue_count == 1:
                raise RuntimeError("Resource Manager was busy")
        finally:
            with self.lock:
                self.running -= 1
                self.lock.notify_all()


def test_serve_runs_a_batch_at_once_and_delivers_a_failed_message_again(azurite: Azurite) -> None:
    queue = QueueClient.from_connection_string(azurite.connection_string, WORK_QUEUE)
    host = LocalHost(SimpleNamespace(), azurite.connection_string)  # creates the queue
    queue.clear_messages()
    recorder = Recorder()
    host.app = recorder  # type: ignore[assignment]
    # The first batch: 8 long runs and 8 short ones; once the short ones end, 8 run and the next batch comes.
    bodies = ["fails once"] + [f"long {n}" for n in range(7)] + [f"item {n}" for n in range(22)]
    for body in bodies:
        queue.send_message(base64.b64encode(body.encode()).decode())

    def done() -> bool:
        return len(recorder.seen) == len(bodies) + 1

    finished = threading.Event()
    threading.Thread(target=lambda: (host.serve(threads=BATCH_SIZE + NEW_BATCH_THRESHOLD, done=done, poll=0.05),
                                     finished.set()), daemon=True).start()
    assert finished.wait(60)

    # The first batch of 16 ran at once; more were fetched once no more than 8 ran; never over 24 at once.
    assert BATCH_SIZE < recorder.most <= BATCH_SIZE + NEW_BATCH_THRESHOLD
    deliveries: dict[str, list[int]] = {}
    for body, count in recorder.seen:
        deliveries.setdefault(body, []).append(count)
    assert deliveries.pop("fails once") == [1, 2]
    assert all(counts == [1] for counts in deliveries.values()) and len(deliveries) == 29
    assert (host.processed, host.failures) == (31, 1)
    properties: Any = queue.get_queue_properties()
    assert properties.approximate_message_count == 0
