"""Constants the code shares with host.json and the infra, compared with their one source."""

from __future__ import annotations

import json
from pathlib import Path

from localdev import functions_host
from remediation.core.retry import MAX_DEQUEUE
from remediation.runtime.worker import LEASE_SECONDS
from remediation.store.storage import POISON_QUEUE, WORK_QUEUE
from tests.infra.bicep import tree

REPO = Path(__file__).resolve().parents[2]
HOST = json.loads((REPO / "host.json").read_text())


def seconds(timespan: str) -> int:
    hours, minutes, secs = (int(part) for part in timespan.split(":"))
    return hours * 3600 + minutes * 60 + secs


def test_the_worker_gives_up_on_the_hosts_last_delivery() -> None:
    assert HOST["extensions"]["queues"]["maxDequeueCount"] == MAX_DEQUEUE


def test_an_account_lease_outlives_the_longest_run_the_host_allows() -> None:
    assert seconds(HOST["functionTimeout"]) < LEASE_SECONDS


def test_the_local_host_hides_a_failed_message_as_long_as_the_real_one() -> None:
    assert functions_host.VISIBILITY_TIMEOUT == seconds(HOST["extensions"]["queues"]["visibilityTimeout"])


def test_the_infra_creates_the_queues_the_app_uses() -> None:
    variables = tree("infra/modules/app.bicep")["variables"]
    assert variables["workQueue"]["value"] == WORK_QUEUE
    assert variables["poisonQueue"]["value"] == POISON_QUEUE
    assert POISON_QUEUE == f"{WORK_QUEUE}-poison"  # the name the host gives the poison queue of WORK_QUEUE
