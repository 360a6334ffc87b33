"""A worker per test: function_app.py under azure-functions-runtime on Python 3.13 (tests/helpers/worker_host.py),
with the test's settings, against the session's emulator and Azurite."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

import pytest
from azure.core.exceptions import ResourceNotFoundError
from azure.storage.queue import QueueClient

from remediation.store.storage import POISON_QUEUE, WORK_QUEUE
from tests.conftest import Stack
from tests.helpers.worker_host import REPO, WorkerHost

StartWorker = Callable[..., WorkerHost]


@pytest.fixture
def start_worker(stack: Stack, tmp_path: Path) -> Iterator[StartWorker]:
    """start_worker(threads=24, app_dir=REPO, **settings): a started and initialized worker (indexed, every function
    loaded) whose app runs with exactly the rights a deployment with these settings grants (stack.apply_env).
    The work and poison queues start empty. The worker's stderr is in the test's tmp_path."""
    for name in (WORK_QUEUE, POISON_QUEUE):
        try:
            QueueClient.from_connection_string(stack.azurite.connection_string, name).clear_messages()
        except ResourceNotFoundError:
            pass
    hosts: list[WorkerHost] = []
    logs: list[IO[str]] = []

    def start(threads: int = 24, app_dir: Path = REPO, **settings: str) -> WorkerHost:
        env = stack.apply_env(**settings)
        stderr = (tmp_path / f"worker-{len(hosts)}.stderr").open("w")
        logs.append(stderr)
        host = WorkerHost(env, app_dir=app_dir, threads=threads, stderr=stderr).start()
        hosts.append(host)
        host.init()
        return host

    yield start
    for host in hosts:
        host.stop()
    for log in logs:
        log.close()
