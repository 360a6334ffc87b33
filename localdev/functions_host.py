"""What the Functions host does around our triggers, in-process, for tests and the demo.

Event Grid events are decoded with azure.functions' own converter (the one the worker uses) and
handed to `on_resource_event`; the `remediation-work` queue is polled like the queue trigger does:
base64 messages, a visibility timeout while a message runs, a retry when the function raises, and
the message given to the function with its dequeue count.
"""

from __future__ import annotations

import base64
import json
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from pathlib import Path
from types import ModuleType
from typing import Any

import azure.functions as func
from azure.core.exceptions import ResourceExistsError
from azure.functions.eventgrid import EventGridEventInConverter
from azure.functions.queue import QueueMessage  # what the worker builds, dequeue count included
from azure.storage.queue import QueueClient

from remediation.store.storage import WORK_QUEUE

log = logging.getLogger("localdev.functions_host")


def _seconds(timespan: str) -> int:
    """host.json's `hh:mm:ss` as seconds."""
    hours, minutes, seconds = (int(part) for part in timespan.split(":"))
    return hours * 3600 + minutes * 60 + seconds


# What the real host reads from host.json: how long a message whose function raised stays invisible, and
# how many messages one instance fetches (batchSize) and when it fetches more (newBatchThreshold).
HOST_JSON = json.loads((Path(__file__).resolve().parents[1] / "host.json").read_text())
VISIBILITY_TIMEOUT = _seconds(HOST_JSON["extensions"]["queues"]["visibilityTimeout"])
BATCH_SIZE: int = HOST_JSON["extensions"]["queues"]["batchSize"]
NEW_BATCH_THRESHOLD: int = HOST_JSON["extensions"]["queues"]["newBatchThreshold"]
# The queue listener hides a message it received for ten minutes and renews that while the function runs
# (azure-webjobs-sdk QueueListener: `_visibilityTimeout = TimeSpan.FromMinutes(10)`).
LISTENER_HOLD = 600


def decode_event(event: dict[str, Any]) -> Any:
    """The trigger argument the worker would build for this event (EventGridEvent or CloudEvent)."""
    return EventGridEventInConverter.decode(func.meta.Datum(json.dumps(event), "json"), trigger_metadata=None)


class LocalHost:
    def __init__(self, app: ModuleType, storage_connection: str) -> None:
        self.app = app
        self.queue = QueueClient.from_connection_string(storage_connection, WORK_QUEUE)
        try:
            self.queue.create_queue()  # the host creates the queue a trigger listens on
        except ResourceExistsError:
            pass
        self.processed = 0
        self.failures = 0
        self._count_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def deliver(self, event: dict[str, Any]) -> None:
        """Event Grid → the webhook → the worker → on_resource_event."""
        self.app.on_resource_event(decode_event(event))

    def run_once(self, max_messages: int = 16) -> int:
        """Receive and run what is visible now; returns how many messages ran."""
        ran = 0
        for message in self.queue.receive_messages(max_messages=max_messages, visibility_timeout=VISIBILITY_TIMEOUT):
            body = base64.b64decode(message.content)
            item = QueueMessage(id=message.id, body=body, dequeue_count=message.dequeue_count,
                                     pop_receipt=message.pop_receipt)
            try:
                self.app.process_work_item(item)
            except Exception as error:  # noqa: BLE001 - the host leaves it on the queue to retry
                self.failures += 1
                log.info("work item %s failed (%s); it becomes visible again", message.id, type(error).__name__)
            else:
                self.queue.delete_message(message)
            ran += 1
            self.processed += 1
        return ran

    def serve(self, threads: int, done: Callable[[], bool], poll: float = 0.1) -> None:
        """Run the queue the way one host instance does, until the queue is idle and `done()` says stop.

        The host's queue listener fetches `batchSize` messages whenever no more than `newBatchThreshold` of
        its messages are running (host.json; Microsoft.Azure.WebJobs.Extensions.Storage QueueListener), so up
        to batchSize + newBatchThreshold run at once; a sync Python function runs on the worker's thread pool
        of PYTHON_THREADPOOL_THREAD_COUNT threads (`threads` here). A received message stays hidden for ten
        minutes while it runs (the listener's own visibility timeout); one whose function raised is made
        visible again after host.json's visibilityTimeout, when the next delivery counts one more dequeue.
        """
        running: set[Future[None]] = set()
        with ThreadPoolExecutor(threads, thread_name_prefix="python-worker") as pool:
            while True:
                running = {job for job in running if not job.done()}
                if len(running) > NEW_BATCH_THRESHOLD:
                    wait(running, return_when=FIRST_COMPLETED)
                    continue
                batch = list(self.queue.receive_messages(max_messages=BATCH_SIZE, visibility_timeout=LISTENER_HOLD))
                running |= {pool.submit(self._invoke, message) for message in batch}
                if not batch:
                    if not running and done():
                        return
                    time.sleep(poll)

    def _invoke(self, message: Any) -> None:
        item = QueueMessage(id=message.id, body=base64.b64decode(message.content),
                            dequeue_count=message.dequeue_count, pop_receipt=message.pop_receipt)
        try:
            self.app.process_work_item(item)
        except Exception as error:  # noqa: BLE001 - the host makes it visible again to retry
            log.info("work item %s failed (%s); it becomes visible again", message.id, type(error).__name__)
            self.queue.update_message(message, visibility_timeout=VISIBILITY_TIMEOUT)
            with self._count_lock:
                self.failures += 1
        else:
            self.queue.delete_message(message)
        with self._count_lock:
            self.processed += 1

    def drain(self, timeout: float = 30, poll: float = 0.05) -> bool:
        """Run work until the queue is empty, delayed messages included; False on timeout."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.run_once() == 0:
                if self.queue.get_queue_properties().approximate_message_count == 0:
                    return True
                time.sleep(poll)
        return False

    def start(self, poll: float = 0.05) -> LocalHost:
        """Poll the queue in the background, as the host does (maxPollingInterval 2 s; faster here)."""
        def loop() -> None:
            while not self._stop.is_set():
                try:
                    ran = self.run_once()
                except Exception:  # noqa: BLE001 - storage hiccup: the host keeps polling too
                    log.exception("polling %s failed", WORK_QUEUE)
                    ran = 0
                if ran == 0:
                    self._stop.wait(poll)

        self._thread = threading.Thread(target=loop, name="queue-trigger", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=10)
