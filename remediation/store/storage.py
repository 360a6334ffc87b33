"""Azure Storage clients for the audit table, the work queue, leases and the serving index.

`AzureWebJobsStorage` as a connection string (Azurite: `UseDevelopmentStorage=true`), or
identity-based (`AzureWebJobsStorage__accountName`) with DefaultAzureCredential, as the Functions
host itself reads it. SDKs are imported on first use.
"""

from __future__ import annotations

import hashlib
import math
import threading
from typing import Any

from remediation.core.ids import fold
from remediation.core.settings import Settings

WORK_QUEUE = "remediation-work"  # the queue trigger's queue_name; infra/modules/app.bicep creates it
POISON_QUEUE = "remediation-work-poison"  # the host's own poison queue name for WORK_QUEUE
CLOCK_SKEW_SECONDS = 300.0  # how far another instance's clock may run ahead of this one's (the times it writes)

_RETRY: dict[str, Any] = {"retry_total": 3, "retry_backoff_factor": 0.5}


class Storage:
    """Cached table and queue clients for one settings object; safe to share across threads."""

    def __init__(self, settings: Settings, credential: Any = None) -> None:
        self.settings = settings
        self._credential = credential
        self._tables: dict[str, Any] = {}
        self._queues: dict[str, Any] = {}
        self._lock = threading.RLock()

    def _identity(self) -> Any:
        if self._credential is None:
            from azure.identity import DefaultAzureCredential

            self._credential = DefaultAzureCredential()
        return self._credential

    def table(self, name: str) -> Any:
        with self._lock:
            if name not in self._tables:
                from azure.data.tables import TableServiceClient

                if self.settings.storage_connection:
                    service = TableServiceClient.from_connection_string(self.settings.storage_connection, **_RETRY)
                else:
                    service = TableServiceClient(
                        f"https://{self.settings.storage_account_name}.table.core.windows.net",
                        credential=self._identity(), **_RETRY)
                self._tables[name] = service.create_table_if_not_exists(name)
            return self._tables[name]

    def audit_table(self) -> Any:
        """The table of REMEDIATION_AUDIT_TABLE: audit records, leases and the serving index."""
        return self.table(self.settings.audit_table)

    def queue(self, name: str) -> Any:
        with self._lock:
            if name not in self._queues:
                from azure.core.exceptions import ResourceExistsError
                from azure.storage.queue import QueueClient, TextBase64EncodePolicy

                # Base64, because that is what the Functions queue trigger expects by default.
                options: dict[str, Any] = {"message_encode_policy": TextBase64EncodePolicy(), **_RETRY}
                if self.settings.storage_connection:
                    client = QueueClient.from_connection_string(self.settings.storage_connection, name, **options)
                else:
                    client = QueueClient(f"https://{self.settings.storage_account_name}.queue.core.windows.net",
                                         name, credential=self._identity(), **options)
                try:
                    client.create_queue()
                except ResourceExistsError:
                    pass
                self._queues[name] = client
            return self._queues[name]


def table_key(resource_id: object) -> str:
    """A Table key for a resource ID: keys may not hold '/', and ARM compares IDs case-insensitively (`ids.fold`:
    a look-alike ID gets its own partition, lease and index rows)."""
    return hashlib.sha256(fold(str(resource_id)).encode()).hexdigest()[:40]


def row_moment(value: object, latest: float) -> float | None:
    """A time read back from a row (seconds since 1970), trusted only as a finite number no later than `latest`;
    None for anything else. Anyone holding the storage key can write these rows, so their times are bounded."""
    try:
        moment = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return moment if math.isfinite(moment) and moment <= latest else None
