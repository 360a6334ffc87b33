"""One sweep of the app against the stack, and the work items it queued."""


from __future__ import annotations

import base64
import json
from typing import Any

from azure.storage.queue import QueueClient

from remediation.runtime.sweep import run_sweep
from remediation.store.storage import WORK_QUEUE
from tests.conftest import Stack


def sweep(stack: Stack, **settings: str) -> tuple[Any, list[str]]:
    app = stack.app(**settings)
    queue = QueueClient.from_connection_string(stack.azurite.connection_string, WORK_QUEUE)
    try:
        queue.clear_messages()
    except Exception:  # noqa: BLE001 - the queue is created on first use
        pass
    assert app.stored is not None
    summaries = run_sweep(app.remediator, app.stored.queue)
    queued = [json.loads(base64.b64decode(m.content))["resource_id"] for m in queue.receive_messages(max_messages=32)]
    return summaries, sorted(queued)
