"""localdev/functions_host.py runs the queue the way one host instance does (bench/storm.py's workers use it):
a batch fetched whenever no more than newBatchThreshold run, each message on its own thread, a message whose
function raised delivered again with one more dequeue."""
from __future__ import annotations

import base64
import threading
import time
from types import SimpleNamespace
from typing import Any

from azure.functions.queue import QueueMessage
from azure.storage.queue import QueueClient

from localdev.azurite import Azurite
from localdev.functions_host import BATCH_SIZE, NEW_BATCH_THRESHOLD, LocalHost
from remediation.store.storage import WORK_QUEUE


class Recorder:
    """Stands in for function_app: notes how many invocations run at once and fails one message once."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.running = 0
        self.most = 0
        self.seen: list[tuple[str, int]] = []

    def process_work_item(self, message: QueueMessage) -> None:
        body = message.get_body().decode()
        with self.lock:
            self.running += 1
            self.most = max(self.most, self.running)
            self.seen.append((body, message.dequeue_count or 0))
        try:
            time.sleep(1.0 if body.startswith(("long", "fails")) else 0.2)  # reconciles waiting on Resource Manager
            if body == "fails once" and message.dequeue_count == 1:
                raise RuntimeError("Resource Manager was busy")
        finally:
            with self.lock:
                self.running -= 1


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
