"""A storm of fixes worked off by several worker processes on one Azurite queue.

N drifted accounts (public access on, ACL allowing, ACL missing, no private endpoint, a connection
pending: every fix the worker makes) get one work item each on `remediation-work`, one in five a second
copy with the same event (Event Grid delivers at least once). The worker runs as 1, 2, 4 or 8 OS
processes (bench/storm_worker.py: `function_app` under localdev/functions_host.py's LocalHost), the way
the Functions host scales out to instances that poll the same queue, each running up to batchSize +
newBatchThreshold messages at once on PYTHON_THREADPOOL_THREAD_COUNT threads, as the deployment sets them;
account leases keep one writer per account. Every drift happened at the storm's start: that is each
item's event time, so the app's own `eventToFixMs` (event to first write) measures how long each account stayed open.

The items are fed to the queue so that it never runs dry but never holds more than `BACKLOG` of them:
Azurite sorts a queue's visible messages on every receive and counts them on every count
(LokiQueueMetadataStore.getMessages / getMessagesCount in Azurite 3.35), so a backlog of 12,000 makes
Azurite, not the app, the bottleneck (measured: 875 of 1,324 CPU seconds at 10,000 accounts). Azure's
queues do not slow down with depth, and the workers here always find work waiting.

Per row: fixes per second (accounts remediated / time from the first item queued to the queue empty),
drift→fix p50/p99, ARM writes, 429s, duplicate private endpoints and duplicate account PATCHes (both must
be 0), accounts still open afterwards (must be 0), and the CPU the emulator spent (it runs in this
process and shares the machine's cores with the workers and Azurite).

Two paces: instant (operations finish after one poll, the emulator answers at once: the app's own CPU per
fix) and Azure's pace scaled (`EmulatorConfig.azure_pace(scale)`: each operation takes Azure's duration
times `scale`, localdev/arm_emulator/pace.py; the app's poll interval and ready timeout scaled by the same
factor from their production defaults, as tests/integration/test_pace.py does). Throttling is on in both
(Resource Manager's token buckets per subscription and principal; at Azure's pace refilling on the scaled
clock, see `paced`). RBAC is enforced: the workers'
identity holds exactly the roles infra/roles.json assigns for the estate's settings, and the 403s it got
are counted.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.pace import limits_at
from bench.rights import forbidden, grant
from localdev.arm_emulator import ArmEmulator
from localdev.azurite import Azurite
from localdev.estate_scale import ScaleEstate, seed_estate
from localdev.functions_host import BATCH_SIZE, NEW_BATCH_THRESHOLD
from remediation.core.model import Trigger
from remediation.core.operations import TargetKind
from remediation.store.queue import WorkItem
from remediation.store.storage import POISON_QUEUE, WORK_QUEUE

REPO = Path(__file__).resolve().parents[1]
FIXABLE = ("public-access", "acl-allow", "acl-missing", "no-endpoint", "pending")
DUPLICATE_EVERY = 5
ENQUEUERS = 8
STORM_TIMEOUT = 3600.0
# Threads per worker process: one for each message the queue trigger runs at once (infra/modules/app.bicep's
# PYTHON_THREADPOOL_THREAD_COUNT, which tests/infra/test_app_settings.py ties to host.json).
THREADS = BATCH_SIZE + NEW_BATCH_THRESHOLD
# How often this process asks whether the queue is empty: Azurite counts a queue's messages on every ask,
# so asking ten times a second adds work that grows with the backlog.
DRAIN_POLL = 0.5
BACKLOG = 400  # at most this many items waiting on the queue (see above); the feeder tops it up
ACCOUNT_WRITE = "Microsoft.CognitiveServices/accounts/write"
POLL_INTERVAL_S, READY_TIMEOUT_S = 5.0, 60.0   # the app's production defaults (remediation/settings.py)
AZURE_SCALE = 0.02                             # Azure's pace at 1:50


class BenchFailure(Exception):
    """The storm was not worked off correctly."""


@dataclass
class StormResult:
    workers: int
    accounts: int
    items: int
    seconds: float
    fixed: int
    latencies_ms: list[int]
    closed_ms: list[int]   # drift→closed (eventToClosedMs) of the accounts a fix closed
    writes: int
    throttled: int
    provider_throttled: int   # of them, the providers' own limits' (provider_limits.py)
    forbidden: int
    duplicate_endpoints: int
    duplicate_patches: int
    still_open: int
    poisoned: int
    emulator_cpu_s: float
    workers_cpu_s: float
    azurite_cpu_s: float


def _cpu_of(pid: int) -> float:
    """User + system CPU seconds a running process has used (/proc/<pid>/stat, fields 14 and 15)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _percentile(values: list[int], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def _items(estate: ScaleEstate) -> list[WorkItem]:
    """One work item per drifted account, as the Event Grid trigger queues it; every fifth twice."""
    items = []
    for n, account in enumerate(sorted(estate.truth.drifted)):
        event_id = str(uuid.uuid4())
        event = {"id": event_id, "type": "Microsoft.Resources.ResourceWriteSuccess",
                 "operationName": ACCOUNT_WRITE, "correlationId": event_id}
        item = WorkItem(kind=TargetKind.ACCOUNT, resource_id=account, trigger=Trigger.EVENT, event=event,
                        actor={"name": "Dana Admin", "upn": "dana@contoso.example"})
        items += [item] * (2 if n % DUPLICATE_EVERY == 0 else 1)
    return items


def _enqueue(queue: Any, item: WorkItem, drifted_at: str) -> None:
    stamped = WorkItem(**{**item.__dict__, "event": {**(item.event or {}), "time": drifted_at},
                          "event_time": drifted_at})
    queue.send_message(base64.b64encode(stamped.to_message().encode()).decode())


def _feed(queue: Any, items: list[WorkItem], drifted_at: str, deadline: float) -> None:
    """Put the items on the queue, keeping at most BACKLOG waiting, until all are on; then wait for it to empty."""
    position = 0
    with ThreadPoolExecutor(ENQUEUERS) as pool:
        while True:
            waiting = queue.get_queue_properties().approximate_message_count or 0
            if position == len(items) and waiting == 0:
                return
            if time.monotonic() > deadline:
                raise BenchFailure(f"the storm was not worked off within {STORM_TIMEOUT:.0f} s")
            batch = items[position:position + max(0, BACKLOG - waiting)]
            if batch:
                list(pool.map(lambda item: _enqueue(queue, item, drifted_at), batch))
                position += len(batch)
            else:
                time.sleep(DRAIN_POLL)


def _account_state(emulator: ArmEmulator, estate: ScaleEstate) -> tuple[int, int]:
    """(accounts still open, accounts served by more than one private endpoint)."""
    still_open = 0
    endpoints: Counter[str] = Counter()
    with emulator.world.lock:
        for pe_id in emulator.store.ids("Microsoft.Network/privateEndpoints"):
            pe = emulator.store.raw(pe_id) or {}
            props = pe.get("properties") or {}
            for key in ("privateLinkServiceConnections", "manualPrivateLinkServiceConnections"):
                for connection in props.get(key) or []:
                    endpoints[connection["properties"]["privateLinkServiceId"].lower()] += 1
        for account_id in estate.truth.drifted:
            body = emulator.get(account_id) or {}
            props = body.get("properties") or {}
            approved = any(((c.get("properties") or {}).get("privateLinkServiceConnectionState") or {})
                           .get("status") == "Approved" for c in props.get("privateEndpointConnections") or [])
            locked = props.get("publicNetworkAccess") == "Disabled" and \
                (props.get("networkAcls") or {}).get("defaultAction") == "Deny"
            still_open += not (approved and locked)
    duplicates = sum(1 for account in estate.truth.drifted if endpoints[account] > 1)
    return still_open, duplicates


def paced(emulator: ArmEmulator, scale: float | None) -> dict[str, str]:
    """Put the emulator at Azure's pace times `scale` (None: instant), throttling on; the app settings that go with
    it (poll interval and ready timeout scaled from the production defaults; the estate's own otherwise).

    At Azure's pace the token buckets and the providers' own limits (Network per subscription and region, Private
    DNS 500 reads per 5 minutes) refill on the same scaled clock: their sizes stay, their refill per second is
    divided by `scale` (bench/pace.py `limits_at`). A fix sends as many requests at 1:50 as at Azure's pace, 50 times
    faster; with Azure's refill left unscaled, the buckets would allow a paced storm a fiftieth of what Resource
    Manager allows (measured: 1,000 accounts on 8 workers throttle-bound at 3.4 fixes/s, 1,639 429s). Instant runs
    keep the providers' limits off: unscaled, Private DNS's 5-minute window would hold an instant storm for minutes."""
    emulator.config.update({"throttling": True})
    if scale is None:
        return {}
    return limits_at(emulator, scale)


def run_storm(emulator: ArmEmulator, accounts: int, workers: int, scratch: Path,
              scale: float | None = None, threads: int = THREADS, pacing: bool = True) -> StormResult:
    """One storm; `pacing=False` runs the workers with the app's self-pacing off (remediation/arm/clients.py
    SELF_PACING), to measure what it saves."""
    emulator.reset()
    estate = ScaleEstate(accounts=accounts, subscriptions=max(1, accounts // 1000), drift_every=1,
                         decoy_every=0, drifts=FIXABLE)
    seed_estate(emulator, estate)
    settings = estate.settings_env(**paced(emulator, scale))
    grant(emulator, settings)
    items = _items(estate)
    with Azurite(scratch / f"azurite-{workers}") as azurite:
        from azure.storage.queue import QueueClient

        env = {**os.environ, **emulator.env(), **settings, "AzureWebJobsStorage": azurite.connection_string,
               "BENCH_SELF_PACING": "1" if pacing else "0"}
        queue = QueueClient.from_connection_string(azurite.connection_string, WORK_QUEUE)
        queue.create_queue()
        stop = scratch / f"stop-{workers}"
        assert azurite.process is not None
        children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
        procs, ready = [], []
        for i in range(workers):
            ready.append(scratch / f"ready-{workers}-{i}")
            procs.append(subprocess.Popen(
                [sys.executable, "-m", "bench.storm_worker", "--audit", str(scratch / f"audit-{workers}-{i}.jsonl"),
                 "--ready", str(ready[-1]), "--stop", str(stop), "--threads", str(threads)],
                cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=(scratch / f"worker-{workers}-{i}.log").open("w"),
                text=True))
        try:
            deadline = time.monotonic() + 60
            while not all(r.exists() for r in ready):
                if time.monotonic() > deadline or any(p.poll() is not None for p in procs):
                    raise BenchFailure(f"workers did not start; see {scratch}/worker-{workers}-*.log")
                time.sleep(0.05)
            emulator.clear_requests()
            emulator.throttler.reset()
            emulator.provider_limits.reset()
            azurite_before = _cpu_of(azurite.process.pid)
            cpu_before = resource.getrusage(resource.RUSAGE_SELF)
            started = time.perf_counter()
            drifted_at = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
            _feed(queue, items, drifted_at, time.monotonic() + STORM_TIMEOUT)
            seconds = time.perf_counter() - started
            cpu_after = resource.getrusage(resource.RUSAGE_SELF)
            azurite_cpu = _cpu_of(azurite.process.pid) - azurite_before
        finally:
            stop.touch()
            for proc in procs:
                try:
                    proc.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        children_after = resource.getrusage(resource.RUSAGE_CHILDREN)
        poison = QueueClient.from_connection_string(azurite.connection_string, POISON_QUEUE)
        try:
            poisoned = poison.get_queue_properties().approximate_message_count or 0
        except Exception:  # noqa: BLE001 - no poison queue: nothing was given up
            poisoned = 0

    records = [json.loads(line) for i in range(workers)
               for line in (scratch / f"audit-{workers}-{i}.jsonl").read_text().splitlines() if line.strip()]
    fixed = {r["resourceId"].lower() for r in records if r["outcome"] == "remediated"}
    latencies = [r["eventToFixMs"] for r in records
                 if r["outcome"] == "remediated" and r.get("eventToFixMs") is not None]
    closed = [r["eventToClosedMs"] for r in records if r.get("eventToClosedMs") is not None]
    requests = emulator.requests
    patches = Counter(r.path.lower() for r in requests if r.method == "PATCH" and r.kind == "write"
                      and "/providers/microsoft.cognitiveservices/accounts/" in r.path.lower()
                      and r.path.lower().count("/") == 8)
    still_open, duplicate_endpoints = _account_state(emulator, estate)
    return StormResult(
        workers=workers, accounts=len(estate.truth.drifted), items=len(items), seconds=seconds, fixed=len(fixed),
        latencies_ms=latencies, closed_ms=closed, writes=sum(1 for r in requests if r.kind == "write"),
        throttled=sum(1 for r in requests if r.status == 429), provider_throttled=emulator.provider_limits.throttled,
        forbidden=forbidden(requests, emulator),
        duplicate_endpoints=duplicate_endpoints,
        duplicate_patches=sum(count - 1 for count in patches.values() if count > 1), still_open=still_open,
        poisoned=poisoned,
        emulator_cpu_s=(cpu_after.ru_utime + cpu_after.ru_stime) - (cpu_before.ru_utime + cpu_before.ru_stime),
        # Workers' whole lives (start-up included), from the kernel's accounting of waited-for children.
        workers_cpu_s=(children_after.ru_utime + children_after.ru_stime)
        - (children_before.ru_utime + children_before.ru_stime),
        azurite_cpu_s=azurite_cpu)


def storm_rows(emulator: ArmEmulator, runs: tuple[tuple[float | None, int, tuple[int, ...]], ...]) -> list[list[Any]]:
    """One row per (pace, accounts, worker count): `runs` holds (scale or None for instant, accounts, counts)."""
    rows = []
    for scale, accounts, worker_counts in runs:
        for workers in worker_counts:
            with tempfile.TemporaryDirectory() as tmp:
                result = _checked(run_storm(emulator, accounts, workers, Path(tmp), scale))
            rows.append(_row(result, scale))
            print(f"  {workers} worker(s) done: {' | '.join(map(str, rows[-1]))}", file=sys.stderr, flush=True)
    return rows


def _checked(result: StormResult) -> StormResult:
    problems = [f"{label} {value}" for label, value in (
        ("duplicate endpoints", result.duplicate_endpoints), ("duplicate PATCHes", result.duplicate_patches),
        ("accounts still open", result.still_open), ("poisoned items", result.poisoned)) if value]
    if problems:
        raise BenchFailure(f"storm with {result.workers} workers: " + ", ".join(problems))
    return result


# Threads per instance: one worker process at Azure's pace, the same storm with 1 to 48 threads.
THREAD_COUNTS = (1, 8, 24, 48)
THREAD_ACCOUNTS = 200


def thread_rows(emulator: ArmEmulator) -> list[list[Any]]:
    rows = []
    for threads in THREAD_COUNTS:
        with tempfile.TemporaryDirectory() as tmp:
            result = _checked(run_storm(emulator, THREAD_ACCOUNTS, 1, Path(tmp), AZURE_SCALE, threads))
        cpu = result.workers_cpu_s + result.emulator_cpu_s + result.azurite_cpu_s
        rows.append([threads, f"{result.accounts:,}", f"{result.seconds:.1f}", f"{result.fixed / result.seconds:.1f}",
                     f"{result.fixed / result.seconds * AZURE_SCALE:.2f}",
                     f"{_percentile(result.latencies_ms, 0.5) / 1000:.1f}",
                     f"{_percentile(result.latencies_ms, 0.99) / 1000:.1f}", result.throttled, result.forbidden,
                     f"{cpu / result.fixed * 1000:.0f}"])
        print(f"  {threads} thread(s) done: {' | '.join(map(str, rows[-1]))}", file=sys.stderr, flush=True)
    return rows


def print_threads_table(emulator: ArmEmulator) -> None:
    from tabulate import tabulate

    print(f"\nThreads per instance: the storm of {THREAD_ACCOUNTS} accounts at Azure's pace (1:{1 / AZURE_SCALE:.0f}) "
          "worked off by one worker process with 1 to 48 threads (PYTHON_THREADPOOL_THREAD_COUNT; the queue "
          f"trigger hands it up to {THREADS} messages at once)\n")
    print(tabulate(thread_rows(emulator), tablefmt="github", disable_numparse=True,
                   headers=["threads", "accounts", "seconds", "fixes/s", "fixes/s at Azure's durations",
                            "drift→fix p50 s", "p99 s", "429s", "403s", "CPU ms per fix"]))
    print("\nFixes per second at Azure's durations: the measured rate times the scale, what one instance would fix "
          "if its CPU kept up (the CPU per fix says how much it needs).")


def _row(result: StormResult, scale: float | None) -> list[Any]:
    cpu = result.workers_cpu_s + result.emulator_cpu_s + result.azurite_cpu_s
    return ["instant" if scale is None else f"Azure's, 1:{1 / scale:.0f}", result.workers, f"{result.accounts:,}",
            f"{result.items:,}", f"{result.seconds:.1f}", f"{result.fixed / result.seconds:.1f}",
            f"{_percentile(result.latencies_ms, 0.5) / 1000:.1f}",
            f"{_percentile(result.latencies_ms, 0.99) / 1000:.1f}", result.writes, result.throttled, result.forbidden,
            result.duplicate_endpoints, result.duplicate_patches, result.still_open,
            f"{result.workers_cpu_s:.0f} / {result.emulator_cpu_s:.0f} / {result.azurite_cpu_s:.0f}",
            f"{cpu / result.fixed * 1000:.0f}"]


HEADERS = ["pace", "workers", "accounts", "items", "seconds", "fixes/s", "drift→fix p50 s", "p99 s", "ARM writes",
           "429s", "403s", "dup endpoints", "dup PATCHes", "still open", "CPU s: workers / emulator / Azurite",
           "CPU ms per fix"]


# What `python -m bench` runs (small) and what `--scale` runs: (scale or None for instant, accounts, workers).
DEFAULT_RUNS: tuple[tuple[float | None, int, tuple[int, ...]], ...] = (
    (None, 200, (1, 2, 4)), (AZURE_SCALE, 50, (1, 2, 4)))
# At scale only Azure's pace: an instant storm is bound by the token buckets' real-time refill, not the workers.
SCALE_RUNS: tuple[tuple[float | None, int, tuple[int, ...]], ...] = ((AZURE_SCALE, 10_000, (1, 2, 4, 8)),)


def print_storm_table(emulator: ArmEmulator,
                      runs: tuple[tuple[float | None, int, tuple[int, ...]], ...] = DEFAULT_RUNS) -> None:
    from tabulate import tabulate

    print("\nStorm: every account of the estate drifted at once (five kinds of fix), one work item each and one in "
          f"{DUPLICATE_EVERY} twice, fed to one Azurite queue {BACKLOG} at a time and worked off by worker processes; "
          "instant and at Azure's pace (scaled), throttling on, RBAC enforced\n")
    print(tabulate(storm_rows(emulator, runs), tablefmt="github", disable_numparse=True, headers=HEADERS))
    print(f"\nEach worker process runs as one host instance: up to {THREADS} messages at once (batchSize + "
          f"newBatchThreshold), each on its own thread (PYTHON_THREADPOOL_THREAD_COUNT). The emulator, Azurite "
          f"and the workers share {os.cpu_count()} cores: once they are busy, more workers "
          "cannot fix faster here, and CPU per fix is the number that carries over to real instances. At Azure's "
          "pace every operation takes its Azure duration times the scale, and so do the app's poll interval (5 s) "
          "and ready timeout (60 s), and the token buckets refill on the same clock (sizes as Azure's, refill per "
          "second divided by the scale; instant: Azure's refill). Drift→fix is the app's "
          "eventToFixMs (the drift to the app's first write) as measured here, not scaled back. The workers hold "
          "exactly the roles infra/roles.json assigns for the estate's settings; 403s must be 0.")



# Self-pacing off, then on: the same storm at Azure's pace with the providers' limits on. `python -m bench` runs it
# small; `--scale` with 10,000 accounts. At 1:10, not 1:50: the app's CPU on two shared cores fixes about 15 accounts
# a second, and at 1:50 Private DNS's 500 reads per 5 minutes allow 83 reads a second, more than that rate needs; at
# 1:10 they allow 17, and the limit binds as it does on Azure, where instances bring their own CPU.
PACING_SCALE_FACTOR = 0.1
PACING_DEFAULT = (1_000, 2)
PACING_SCALE = (10_000, 4)


def pacing_rows(emulator: ArmEmulator, accounts: int, workers: int) -> list[list[Any]]:
    rows = []
    for pacing in (False, True):
        with tempfile.TemporaryDirectory() as tmp:
            result = _checked(run_storm(emulator, accounts, workers, Path(tmp), PACING_SCALE_FACTOR, pacing=pacing))
        rows.append(["on" if pacing else "off", workers, f"{result.accounts:,}", f"{result.items:,}",
                     f"{result.seconds:.1f}", f"{result.fixed / result.seconds:.1f}",
                     f"{result.throttled - result.provider_throttled:,}", f"{result.provider_throttled:,}",
                     f"{_percentile(result.closed_ms, 0.5) / 1000 / PACING_SCALE_FACTOR:.0f}",
                     f"{_percentile(result.closed_ms, 0.99) / 1000 / PACING_SCALE_FACTOR:.0f}",
                     f"{_percentile(result.latencies_ms, 0.5) / 1000 / PACING_SCALE_FACTOR:.0f}",
                     f"{_percentile(result.latencies_ms, 0.99) / 1000 / PACING_SCALE_FACTOR:.0f}",
                     result.poisoned, result.duplicate_endpoints, result.duplicate_patches, result.still_open,
                     result.forbidden])
        print(f"  self-pacing {rows[-1][0]} done: {' | '.join(map(str, rows[-1]))}", file=sys.stderr, flush=True)
    return rows


def print_pacing_table(emulator: ArmEmulator, accounts: int, workers: int) -> None:
    from tabulate import tabulate

    print(f"\nSelf-pacing: the storm of {accounts:,} accounts at Azure's pace (1:{1 / PACING_SCALE_FACTOR:.0f}) with "
          f"Resource Manager's buckets and the providers' limits on (Private DNS 500 reads per 5 minutes, Network per "
          f"subscription and region), on {workers} worker processes, with the app's self-pacing off and on\n")
    print(tabulate(pacing_rows(emulator, accounts, workers), tablefmt="github", disable_numparse=True, headers=[
        "self-pacing", "workers", "accounts", "items", "seconds", "fixes/s", "429s (Resource Manager)",
        "429s (providers)", "drift→closed p50 s", "p99 s", "drift→fix p50 s", "p99 s", "poisoned", "dup endpoints",
        "dup PATCHes", "still open", "403s"]))
    print("\nDrift→closed and drift→fix in Azure-equivalent seconds (measured / scale). Every drift happened at the "
          "storm's start, so they include the queue's wait: how long the last account of the storm stayed open.")


if __name__ == "__main__" and sys.argv[1:2] == ["pacing"]:
    with tempfile.TemporaryDirectory() as certs, ArmEmulator(cert_dir=Path(certs)) as emu:
        print_pacing_table(emu, *(int(a) for a in sys.argv[2:4]) if len(sys.argv) > 3 else PACING_DEFAULT)
elif __name__ == "__main__" and sys.argv[1:] == ["threads"]:
    with tempfile.TemporaryDirectory() as certs, ArmEmulator(cert_dir=Path(certs)) as emu:
        print_threads_table(emu)
elif __name__ == "__main__":
    size = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    counts = tuple(int(c) for c in sys.argv[2].split(",")) if len(sys.argv) > 2 else (1, 2, 4, 8)
    paces = {"instant": (None,), "azure": (AZURE_SCALE,)}.get(sys.argv[3] if len(sys.argv) > 3 else "",
                                                              (None, AZURE_SCALE))
    with tempfile.TemporaryDirectory() as certs, ArmEmulator(cert_dir=Path(certs)) as emu:
        print_storm_table(emu, tuple((scale, size, counts) for scale in paces))
