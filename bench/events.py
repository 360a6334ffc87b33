"""The event-driven loop under load, for `make bench`.

1. Drift to first write: people re-enable public access on locked accounts, one at a time per account;
   the emulator's writes become ARM events, the app triages and queues them, the in-process host's queue
   poller reconciles. Measured from the person's write in the emulator's request log to the app's first
   write to that account.
2. Event storm: 1,000 events over 200 accounts (a person's write per account, Event Grid's duplicates of
   them, the app's own writes coming back), delivered concurrently and worked off by four workers.
   Counts ARM requests and checks every account ends locked with exactly one endpoint.
"""

from __future__ import annotations

import datetime as dt
import importlib
import logging
import os
import random
import statistics
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType
from typing import Any

import requests

from bench.rights import forbidden, grant
from localdev.arm_emulator import ArmEmulator
from localdev.arm_emulator.model import WriteEvent
from localdev.arm_events import EventRouter, to_event_grid
from localdev.azurite import Azurite
from localdev.estate import OPENAI_ZONE, Estate, account_id, settings_env
from localdev.functions_host import LocalHost
from localdev.person import write_as
from remediation.core.operations import WATCHED_OPERATIONS
from remediation.core.telemetry import RECONCILE_PREFIX, parse_line

DRIFT_ACCOUNTS = 20
DRIFTS = 200
DRIFT_PEOPLE = 2          # people drifting at once, each on their own accounts (a few overlap)
HOST_POLL = 0.02          # the in-process queue poller's idle interval, seconds
FIX_TIMEOUT = 20          # seconds a drift may take to be fixed before the bench fails

STORM_ACCOUNTS = 200
STORM_EVENTS = 1000
STORM_DUPLICATES = 3      # Event Grid re-deliveries of each person's event (same event ID)
STORM_DELIVERERS = 4
STORM_WORKERS = 4

ACCOUNT_WRITE = "Microsoft.CognitiveServices/accounts/write"
PERSON = {"name": "Dana Admin", "upn": "dana@contoso.example"}


class BenchFailure(Exception):
    """The loop did not do its job; `make bench` exits non-zero."""


# --- the app under an in-process host -----------------------------------------------------------------

@contextmanager
def fresh_app(emulator: ArmEmulator, azurite: Azurite, **overrides: str) -> Iterator[ModuleType]:
    """`import function_app` afresh with the stack's settings in os.environ (restored afterwards), its identity
    holding exactly the roles a deployment with those settings assigns, enforced (bench/rights.py)."""
    saved = dict(os.environ)
    os.environ.update({**emulator.env(), **settings_env(**overrides), "AzureWebJobsStorage": azurite.connection_string,
                       "REMEDIATION_AUDIT_TABLE": f"audit{uuid.uuid4().hex[:12]}"})
    grant(emulator, os.environ)
    sys.modules.pop("function_app", None)
    app = importlib.import_module("function_app")
    try:
        yield app
    finally:
        app.close()
        sys.modules.pop("function_app", None)
        os.environ.clear()
        os.environ.update(saved)


class LogWatch(logging.Handler):
    """Audit records' telemetry lines (`remediation.audit`) and the ignored events (`remediation.events`), as the
    app logs them."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.records: list[dict[str, Any]] = []
        self.ignored: dict[str, int] = {}
        self.changed = threading.Condition()
        self._loggers = [logging.getLogger("remediation.audit"), logging.getLogger("remediation.events")]
        self._levels: list[int] = []

    def emit(self, record: logging.LogRecord) -> None:
        with self.changed:
            fields = parse_line(record.getMessage(), RECONCILE_PREFIX) if record.name == "remediation.audit" else None
            if fields is not None and record.levelno == logging.INFO:
                self.records.append(fields)  # the record's telemetry line
            elif record.name == "remediation.events" and isinstance(record.msg, str) \
                    and record.msg.startswith("event %s ignored:") and isinstance(record.args, tuple):
                reason = str(record.args[1])
                self.ignored[reason] = self.ignored.get(reason, 0) + 1
            self.changed.notify_all()

    def count(self, account: str) -> int:
        return sum(1 for r in self.records if r["resourceId"].lower() == account.lower())

    def wait(self, account: str, at_least: int, timeout: float) -> bool:
        with self.changed:
            return self.changed.wait_for(lambda: self.count(account) >= at_least, timeout=timeout)

    def __enter__(self) -> LogWatch:
        for logger in self._loggers:
            self._levels.append(logger.level)
            logger.setLevel(logging.INFO)
            logger.addHandler(self)
        return self

    def __exit__(self, *exc: Any) -> None:
        for logger, level in zip(self._loggers, self._levels, strict=True):
            logger.removeHandler(self)
            logger.setLevel(level)


def arm_path(resource_id: str) -> str:
    return resource_id.lower()


# --- 1. drift to first write ------------------------------------------------------------------------

def _drift(session: requests.Session, emulator: ArmEmulator, token: str, account: str) -> None:
    """A person re-enables public access, and waits for the operation like the portal does."""
    try:
        write_as(emulator, "PATCH", account, {"properties": {"publicNetworkAccess": "Enabled"}},
                 session=session, token=token)
    except RuntimeError as error:
        raise BenchFailure(f"the person's PATCH was refused: {error}") from None


def _throttled(emulator: ArmEmulator) -> int:
    """The app's requests Resource Manager's token buckets refused (429; azure-core waits Retry-After, whole
    seconds, and sends them again)."""
    app = emulator.app_identity.object_id
    return sum(1 for r in emulator.requests if r.status == 429 and (r.caller or {}).get("oid") == app)


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def drift_to_first_write(emulator: ArmEmulator, azurite: Azurite) -> list[list[Any]]:
    emulator.reset()
    estate = Estate().network((OPENAI_ZONE,))
    accounts = [account_id(f"drift-{i:02d}") for i in range(DRIFT_ACCOUNTS)]
    for account in accounts:
        estate.locked(account.rsplit("/", 1)[-1])
    emulator.seed(estate.scenario())
    token = emulator.user_token(**PERSON)
    app_oid = emulator.app_identity.object_id

    # Ten fixes per account within the hour: the circuit breaker (3 by default) would rightly stop them.
    with fresh_app(emulator, azurite, REMEDIATION_MAX_FIXES_PER_HOUR=str(DRIFTS)) as app, LogWatch() as watch:
        host = LocalHost(app, azurite.connection_string)
        router = EventRouter(emulator, host.deliver, operations=WATCHED_OPERATIONS).start()
        host.start(poll=HOST_POLL)
        errors: list[BaseException] = []
        try:
            with requests.Session() as session:  # warm-up, not counted: token, SDK clients, lazy imports
                _drift(session, emulator, token, accounts[0])
                if not watch.wait(accounts[0], 1, FIX_TIMEOUT):
                    raise BenchFailure(f"the warm-up drift of {accounts[0]} was not fixed in {FIX_TIMEOUT} s")
            emulator.clear_requests()

            def person(index: int) -> None:
                mine = accounts[index::DRIFT_PEOPLE]
                try:
                    with requests.Session() as session:
                        for n in range(index, DRIFTS, DRIFT_PEOPLE):
                            account = mine[(n // DRIFT_PEOPLE) % len(mine)]
                            seen = watch.count(account)
                            _drift(session, emulator, token, account)
                            if not watch.wait(account, seen + 1, FIX_TIMEOUT):  # fixed before the next drift
                                raise BenchFailure(f"drift {n} of {account} was not fixed in {FIX_TIMEOUT} s")
                except BaseException as error:  # noqa: BLE001 - reported by the main thread
                    errors.append(error)

            people = [threading.Thread(target=person, args=(i,), name=f"person-{i}") for i in range(DRIFT_PEOPLE)]
            for thread in people:
                thread.start()
            for thread in people:
                thread.join()
            if errors:
                raise errors[0]
            router.drain(FIX_TIMEOUT)
        finally:
            host.stop()
            router.stop()

    latencies: list[float] = []
    pending: dict[str, dt.datetime] = {}
    for request in emulator.requests:
        if request.kind != "write" or request.method != "PATCH" or not 200 <= request.status < 300:
            continue
        path = arm_path(request.path)
        caller = (request.caller or {}).get("oid")
        if caller == app_oid:
            if path in pending:
                latencies.append((request.time - pending.pop(path)).total_seconds() * 1000)
        elif path not in pending:
            pending[path] = request.time
    outcomes = [r["outcome"] for r in watch.records[1:]]
    if len(latencies) != DRIFTS or pending or outcomes.count("remediated") != DRIFTS:
        raise BenchFailure(f"{DRIFTS} drifts, {len(latencies)} fixes measured, {len(pending)} unanswered, "
                           f"outcomes {sorted(set(outcomes))}")
    return [[f"{DRIFTS} drifts on {DRIFT_ACCOUNTS} accounts", len(latencies),
             f"{statistics.median(latencies):.0f}", f"{_percentile(latencies, 0.90):.0f}",
             f"{_percentile(latencies, 0.99):.0f}", f"{max(latencies):.0f}", _throttled(emulator),
             forbidden(emulator.requests, emulator)]]


# --- 2. event storm ---------------------------------------------------------------------------------

def _event(account: str, claims: dict[str, Any]) -> dict[str, Any]:
    return to_event_grid(WriteEvent(operation_name=ACCOUNT_WRITE, resource_id=account, method="PATCH", status=200,
                                    caller_claims=claims, correlation_id=str(uuid.uuid4()),
                                    time=dt.datetime.now(dt.UTC)))


def _locked(resource: dict[str, Any] | None) -> bool:
    if resource is None:
        return False
    properties = resource.get("properties") or {}
    connections = properties.get("privateEndpointConnections") or []
    return properties.get("publicNetworkAccess") == "Disabled" and any(
        (c.get("properties") or {}).get("privateLinkServiceConnectionState", {}).get("status") == "Approved"
        for c in connections)


def event_storm(emulator: ArmEmulator, azurite: Azurite) -> list[list[Any]]:
    emulator.reset()
    estate = Estate().network((OPENAI_ZONE,))
    accounts = [account_id(f"storm-{i:03d}") for i in range(STORM_ACCOUNTS)]
    for i, account in enumerate(accounts):
        name = account.rsplit("/", 1)[-1]
        if i % 2:
            estate.locked(name, public_network_access="Enabled")  # drifted: one PATCH to fix
        else:
            estate.account(name)  # no private endpoint yet: endpoint and zone group to create
    emulator.seed(estate.scenario())

    person = {**PERSON, "oid": str(uuid.uuid4()), "appid": "c44b4083-3bb0-49c1-b47d-974e53cbdf3c",
              "tid": emulator.app_identity.tenant_id, "idtyp": "user"}
    own = {"oid": emulator.app_identity.object_id, "appid": emulator.app_identity.client_id,
           "tid": emulator.app_identity.tenant_id, "idtyp": "app"}
    originals = [_event(account, person) for account in accounts]
    duplicates = [dict(event) for event in originals for _ in range(STORM_DUPLICATES)]
    own_count = STORM_EVENTS - len(originals) - len(duplicates)
    if own_count < 0:
        raise BenchFailure(f"{len(originals) + len(duplicates)} person events already exceed {STORM_EVENTS}")
    own_writes = [_event(accounts[i % STORM_ACCOUNTS], own) for i in range(own_count)]
    events = originals + duplicates + own_writes
    random.Random(7).shuffle(events)

    with fresh_app(emulator, azurite) as app, LogWatch() as watch:
        host = LocalHost(app, azurite.connection_string)
        app.stored().intake.own()  # the app learns its identity at start-up, not inside the measured storm
        emulator.clear_requests()
        errors: list[BaseException] = []

        def run(target: Any) -> None:
            try:
                target()
            except BaseException as error:  # noqa: BLE001 - reported by the main thread
                errors.append(error)

        def deliverer(batch: list[dict[str, Any]]) -> Any:
            def deliver_all() -> None:
                for event in batch:
                    host.deliver(event)
            return deliver_all

        def worker() -> None:
            if not host.drain(timeout=120, poll=HOST_POLL):
                raise BenchFailure("the work queue did not empty in 120 s")

        started = time.perf_counter()
        threads = [threading.Thread(target=run, args=(deliverer(events[i::STORM_DELIVERERS]),))
                   for i in range(STORM_DELIVERERS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        delivered = time.perf_counter()
        threads = [threading.Thread(target=run, args=(worker,)) for _ in range(STORM_WORKERS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        wall = time.perf_counter() - started
        if errors:
            raise errors[0]
        reconciles = len(watch.records)
        ignored_own = watch.ignored.get("own-write", 0)
        outcomes = Counter(r["outcome"] for r in watch.records)

    kinds = [r.kind for r in emulator.requests if r.kind in ("read", "write", "poll")]
    refused, throttled = forbidden(emulator.requests, emulator), _throttled(emulator)
    unlocked = [a for a in accounts if not _locked(emulator.get(a))]
    served: dict[str, int] = {}
    for endpoint in emulator.resources("Microsoft.Network/privateEndpoints"):
        properties = endpoint.get("properties") or {}
        for link in [*(properties.get("privateLinkServiceConnections") or []),
                     *(properties.get("manualPrivateLinkServiceConnections") or [])]:
            target = ((link.get("properties") or {}).get("privateLinkServiceId") or "").lower()
            served[target] = served.get(target, 0) + 1
    duplicate_endpoints = sum(1 for count in served.values() if count > 1)

    deliver_s = delivered - started
    row = [len(events), len(accounts), kinds.count("read"), kinds.count("write"), kinds.count("poll"), len(kinds),
           throttled, refused, f"{len(kinds) / len(events):.2f}",
           f"{wall:.1f} ({deliver_s:.1f} + {wall - deliver_s:.1f})",
           f"{STORM_ACCOUNTS - len(unlocked)}/{STORM_ACCOUNTS}", duplicate_endpoints,
           f"{reconciles} ({', '.join(f'{n} {o}' for o, n in outcomes.most_common())})", ignored_own]
    if unlocked or duplicate_endpoints:
        from tabulate import tabulate

        print(tabulate([row], headers=STORM_HEADERS, tablefmt="github"))
        raise BenchFailure(f"{len(unlocked)} accounts not locked (e.g. {unlocked[:3]}), "
                           f"{duplicate_endpoints} accounts with more than one endpoint; outcomes {dict(outcomes)}")
    return [row]


DRIFT_HEADERS = ["case", "fixes", "median ms", "p90 ms", "p99 ms", "max ms", "429s", "403s"]
STORM_HEADERS = ["events", "accounts", "reads", "writes", "LRO polls + final GETs", "ARM total", "429s", "403s",
                 "ARM / event",
                 "wall s (deliver + drain)", "locked at end", "duplicate endpoints", "reconciles",
                 "own writes ignored"]


def print_event_tables(emulator: ArmEmulator, azurite: Azurite) -> None:
    """Both event sections, as tables; raises BenchFailure when the loop left work undone."""
    from tabulate import tabulate

    print(f"\nDrift to first write (person's PATCH accepted → the app's first PATCH of the account; "
          f"{DRIFT_PEOPLE} people drifting at once)\n")
    print(tabulate(drift_to_first_write(emulator, azurite), headers=DRIFT_HEADERS, tablefmt="github"))
    print(f"\nNote: events are delivered in-process from the emulator's writes, so Event Grid's own delivery "
          f"latency is left out, and so is the host's queue polling interval (maxPollingInterval 2 s in "
          f"host.json: up to 2 s more once the queue has been idle; the in-process poller waits "
          f"{HOST_POLL * 1000:.0f} ms). One warm-up drift is not counted; "
          f"REMEDIATION_MAX_FIXES_PER_HOUR={DRIFTS} so the circuit breaker lets the repeated drifts through. "
          "Target: under a second on the local stack. Throttling on (reads 250 per subscription and principal, "
          "refilling 25/s): a reconcile's reads (polls included) at this rate empty the app's read bucket, and "
          "each 429 adds its Retry-After (at least 1 s) to that drift.")

    print(f"\nEvent storm ({STORM_ACCOUNTS} accounts, half drifted, half without a private endpoint; a person's "
          f"write per account, {STORM_DUPLICATES} duplicates of each, the rest own writes; shuffled; "
          f"{STORM_DELIVERERS} delivering threads, {STORM_WORKERS} queue workers)\n")
    print(tabulate(event_storm(emulator, azurite), headers=STORM_HEADERS, tablefmt="github"))
