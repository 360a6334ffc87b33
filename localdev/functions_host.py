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
from pathlib import Path
from types import ModuleType
from typing import Any

import azure.functions as func
from azure.functions.eventgrid import EventGridEventInConverter
from azure.functions.queue import QueueMessage  # what the worker builds, dequeue count included
from azure.core.exceptions import ResourceExistsError
from azure.storage.queue import QueueClient

from remediation.storage import WORK_QUEUE

log = logging.getLogger("localdev.functions_host")


def _seconds(timespan: str) -> int:
    """host.json's `hh:mm:ss` as seconds."""
    hours, minutes, seconds = (int(part) for part in timespan.split(":"))
    return hours * 3600 + minutes * 60 + seconds


# What the real host reads from host.json: how long a message whose function raised stays invisible.
HOST_JSON = json.loads((Path(__file__).resolve().parents[1] / "host.json").read_text())
VISIBILITY_TIMEOUT = _seconds(HOST_JSON["extensions"]["queues"]["visibilityTimeout"])


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
