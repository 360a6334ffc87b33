"""The app under an in-process host, fed by the emulator's events: the event loop end to end."""


from __future__ import annotations

import importlib
import sys
from types import ModuleType
from typing import Any

from azure.storage.queue import QueueClient

from localdev.arm_events import EventRouter
from localdev.estate import account_id
from localdev.functions_host import LocalHost
from remediation.core.ids import parse_account_id
from remediation.core.operations import WATCHED_OPERATIONS
from tests.conftest import Stack

AOAI = account_id("aoai-prod")


class Live:
    """The app under an in-process host, fed by the emulator's events."""

    def __init__(self, stack: Stack, schema: str = "eventgrid", **settings: str) -> None:
        self.stack = stack
        stack.apply_env(**settings)
        sys.modules.pop("function_app", None)
        self.app: ModuleType = importlib.import_module("function_app")
        stack.apps.append(self.app.parts())
        self.host = LocalHost(self.app, stack.azurite.connection_string)
        self.captured: list[dict[str, Any]] = []
        self.router = EventRouter(stack.emulator, self._deliver, schema=schema, operations=WATCHED_OPERATIONS)
        self.router.start()
        self.capture_only = False

    def _deliver(self, event: dict[str, Any]) -> None:
        self.captured.append(event)
        if not self.capture_only:
            self.host.deliver(event)

    def settle(self, timeout: float = 30) -> None:
        """Until every event is delivered and every work item has run."""
        for _ in range(5):
            assert self.router.drain(timeout)
            assert self.host.drain(timeout)
            if self.router.pending == 0:
                return

    def history(self, account: str = AOAI) -> list[dict[str, Any]]:
        return self.app.parts().history(parse_account_id(account), 50)

    def close(self) -> None:
        self.router.stop()


def queue_exists(stack: Stack, name: str) -> bool:
    """Whether the queue exists in Azurite yet (the app creates it on first use)."""
    from azure.core.exceptions import ResourceNotFoundError

    try:
        QueueClient.from_connection_string(stack.azurite.connection_string, name).get_queue_properties()
        return True
    except ResourceNotFoundError:
        return False


def wait_until(condition: Any, timeout: float = 10.0) -> bool:
    """Whether `condition()` came true within `timeout` seconds: a barrier on an observable state, not a pause."""
    import time

    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def lease_taken(stack: Stack, account_id: str) -> bool:
    """Whether a reconcile holds the account's lease now (its row in the audit table)."""
    from azure.core.exceptions import ResourceNotFoundError
    from azure.data.tables import TableClient

    from remediation.store.leases import _LOCKS
    from remediation.store.storage import table_key

    table = TableClient.from_connection_string(stack.azurite.connection_string, stack.table)
    try:
        table.get_entity(_LOCKS, table_key(account_id))
    except ResourceNotFoundError:
        return False
    return True
