"""`make bench`: measured side by side in one run, printed as tables.

1. ARM requests per reconcile against the emulator: a compliant account, a public-access fix and a
   full private endpoint + DNS build, next to the least each needs.
2. Cold start: `import function_app` in a fresh interpreter (what the host does at start-up), with the
   SDKs lazy as shipped and eager, and a compliant request and event served from cold.
3. The event loop: drift-to-first-write latency, and a storm of 1,000 events (bench/events.py).
4. The sweep at 1,000 and 10,000 accounts next to the naive way (bench/sweep.py), and at scale: accounts over
   many subscriptions at 100 ms per request, throttled, at several concurrencies (bench/sweep_scale.py).
5. Every kind of fix at Azure's pace (scaled, Azure's Retry-After, buckets and provider limits on), drift→closed
   against an account's connections and zones, and a sweep against the buckets (bench/pace.py).
6. The scan next to Cloud Custodian run on one subscription after another, at 0 and 100 ms per request
   (bench/custodian.py), and next to c7n-org, Custodian's parallel runner over many subscriptions, at its
   default and its best worker count, over 2 and 20 subscriptions of 10,000 accounts (bench/custodian_org.py).
7. Seeding large estates into the emulator (bench/seeding.py).
8. A storm of fixes worked off by several worker processes, instant and at Azure's pace, and with the app's
   self-pacing off and on against the providers' limits (bench/storm.py).

Every table runs the app with RBAC enforced, its identity holding exactly the roles infra/roles.json assigns
for the settings that table uses (bench/rights.py), and counts the 403s it got.

`python -m bench` keeps the large ones small (the sweep of 10,000 accounts over 10 subscriptions at concurrency
8; 1,000 accounts beside Custodian; 10,000 seeded; storms of 200 accounts instant and 50 at Azure's pace on 1,
2 and 4 workers) so the run takes a few minutes; `python -m bench --scale` (make bench-scale) runs them at
size: the sweep of 10,000 / 100,000 accounts over 10 / 1,000 subscriptions at concurrency 1, 8 and 32,
10,000 accounts beside Custodian, 100,000 accounts over 1,000 subscriptions seeded, storms of 10,000 accounts
on 1, 2, 4 and 8 workers, and one worker with 1 to 48 threads. The c7n-org table runs at 10,000 accounts
either way. `--only sweep|custodian|c7n-org|seeding|storm` (repeatable) runs only those of them.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path
from typing import Any

from tabulate import tabulate

from bench.custodian import SIZES as CUSTODIAN_SIZES
from bench.custodian import print_custodian_table
from bench.custodian_org import print_c7n_org_table
from bench.events import print_event_tables
from bench.pace import print_pace_table
from bench.rights import forbidden, grant
from bench.seeding import SIZES as SEEDING_SIZES
from bench.seeding import print_seeding_table
from bench.storm import DEFAULT_RUNS as STORM_DEFAULT_RUNS
from bench.storm import PACING_DEFAULT, PACING_SCALE, print_pacing_table, print_storm_table, print_threads_table
from bench.storm import SCALE_RUNS as STORM_SCALE_RUNS
from bench.sweep import print_sweep_table
from bench.sweep_scale import DEFAULT_RUNS as SWEEP_DEFAULT_RUNS
from bench.sweep_scale import SCALE_RUNS as SWEEP_SCALE_RUNS
from bench.sweep_scale import print_sweep_scale_table
from localdev.arm_emulator import ArmEmulator
from localdev.azurite import Azurite
from localdev.estate import OPENAI_ZONE, Estate, account_id, settings_env
from remediation.core.ids import parse_account_id
from remediation.core.model import Trigger
from remediation.core.settings import Settings
from remediation.runtime.wiring import build

REPO = Path(__file__).resolve().parents[1]
RUNS = 7

# The least each case needs, by design: a compliant OpenAI account needs the account, its endpoint, the
# endpoint's zone group, the zone's links and the account's A record in it (AIServices: links and record
# in each of its three zones); a fix adds only its writes.
CASES = [
    ("compliant OpenAI account", Estate().network((OPENAI_ZONE,)).locked("aoai"), 5, 0),
    ("compliant AIServices account", Estate().network(
        ("privatelink.cognitiveservices.azure.com", OPENAI_ZONE, "privatelink.services.ai.azure.com"))
     .locked("aoai", "AIServices"), 9, 0),
    ("public access fix", Estate().network((OPENAI_ZONE,)).locked("aoai", public_network_access="Enabled"), 5, 1),
    ("A record repointed", Estate().network((OPENAI_ZONE,)).locked("aoai").record(OPENAI_ZONE, "aoai", ("10.2.0.66",)),
     5, 1),
    # account, zone links (404: no zone), the subnet's VNet for the endpoint's region, the new endpoint's zone
    # group read again before it is written (an earlier write came first); endpoint, zone, link, group
    ("private endpoint + DNS build", Estate().network().account("aoai"), 4, 4),
]


def load_note() -> str:
    """The machine's load when a table finished: the tables share its cores with whatever else runs."""
    one, five, fifteen = os.getloadavg()
    return f"\n(load average {one:.2f} / {five:.2f} / {fifteen:.2f} over 1 / 5 / 15 min, {os.cpu_count()} cores)"


def request_counts(emulator: ArmEmulator, azurite: Azurite) -> list[list[Any]]:
    rows = []
    for name, estate, least_reads, least_writes in CASES:
        emulator.reset()
        emulator.seed(estate.scenario())
        os.environ.update(emulator.env())
        env = {**emulator.env(), **settings_env(), "AzureWebJobsStorage": azurite.connection_string}
        grant(emulator, env)
        remediator = build(Settings.from_env(env)).remediator
        emulator.clear_requests()
        record = remediator.reconcile(parse_account_id(account_id("aoai")), Trigger.HTTP).record
        requests = [r for r in emulator.requests if r.kind in ("read", "write", "poll")]
        kinds = [r.kind for r in requests]
        rows.append([name, record.outcome.value, kinds.count("read"), kinds.count("write"), kinds.count("poll"),
                     len(requests), forbidden(requests, emulator), f"{least_reads} + {least_writes}",
                     "yes" if (kinds.count("read"), kinds.count("write")) == (least_reads, least_writes) else "no"])
        remediator.clients.close()
    return rows


COLD = {
    "azure.functions alone": "import azure.functions",
    "import function_app (SDKs lazy, as shipped)": "import function_app",
    "import function_app + every SDK eager": textwrap.dedent("""\
        import function_app, azure.identity, azure.data.tables, azure.mgmt.cognitiveservices
        import azure.mgmt.privatedns, azure.mgmt.network"""),
    "compliant request from cold": textwrap.dedent("""\
        import json, sys, azure.functions as func, function_app
        body = json.dumps({"resourceId": sys.argv[1]}).encode()
        response = function_app.remediate(func.HttpRequest(method="POST", url="/api/remediate", body=body))
        assert json.loads(response.get_body())["outcome"] == "compliant", response.get_body()
        print("network SDK imported:", "azure.mgmt.network" in sys.modules, file=sys.stderr)"""),
    # A person's write event → on_resource_event (triage, queue) → process_work_item (reconcile): both
    # functions in one cold process, as on a Consumption instance woken by the event.
    "compliant event from cold (trigger + worker)": textwrap.dedent("""\
        import base64, json, os, sys, azure.functions as func, function_app
        from azure.functions.eventgrid import EventGridEventInConverter
        from azure.functions.queue import QueueMessage
        from azure.storage.queue import QueueClient
        from remediation.store.storage import WORK_QUEUE
        event = {"id": "e1", "topic": "/subscriptions/x", "subject": sys.argv[1], "dataVersion": "2",
                 "eventType": "Microsoft.Resources.ResourceWriteSuccess", "eventTime": "2026-11-26T10:00:00Z",
                 "data": {"operationName": "Microsoft.CognitiveServices/accounts/write", "status": "Succeeded",
                          "resourceUri": sys.argv[1], "claims": {"name": "Dana Admin", "appid": "portal"}}}
        function_app.on_resource_event(EventGridEventInConverter.decode(func.meta.Datum(json.dumps(event), "json"),
                                                                        trigger_metadata=None))
        queue = QueueClient.from_connection_string(os.environ["AzureWebJobsStorage"], WORK_QUEUE)
        [message] = queue.receive_messages(max_messages=1)
        function_app.process_work_item(QueueMessage(id=message.id, body=base64.b64decode(message.content),
                                                    dequeue_count=1))
        queue.delete_message(message)
        print("network SDK imported:", "azure.mgmt.network" in sys.modules, file=sys.stderr)"""),
}

_PROBE = textwrap.dedent("""\
    import resource, subprocess, sys, time
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", sys.argv[1], *sys.argv[2:]], capture_output=True, text=True)
    wall = time.perf_counter() - started
    if done.returncode:
        sys.exit(done.stderr)
    print(wall, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, done.stderr.strip())""")


def cold_start(env: dict[str, str], account: str, emulator: ArmEmulator) -> list[list[Any]]:
    rows = []
    for name, code in COLD.items():
        walls, peaks, note = [], [], ""
        emulator.clear_requests()
        for _ in range(RUNS):
            # A fresh parent per run, so RUSAGE_CHILDREN is this one child's peak.
            out = subprocess.run([sys.executable, "-c", _PROBE, code, account], capture_output=True, text=True,
                                 cwd=REPO, env=env, check=True).stdout.split(maxsplit=2)
            walls.append(float(out[0]))
            peaks.append(int(out[1]) / 1024)
            note = out[2] if len(out) > 2 else ""
        rows.append([name, f"{statistics.median(walls) * 1000:.0f}", f"{min(walls) * 1000:.0f}",
                     f"{statistics.median(peaks):.1f}", forbidden(emulator.requests, emulator), note])
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", action="store_true", help="the large tables (tens of minutes, a few GiB)")
    parser.add_argument("--only", choices=SCALE_TABLES, action="append",
                        help="run only these of the scale tables (repeatable)")
    args = parser.parse_args(argv)
    if args.only:
        return scale_tables(args.scale, set(args.only))
    with tempfile.TemporaryDirectory() as scratch, Azurite(Path(scratch) / "azurite") as azurite, \
            ArmEmulator(cert_dir=Path(scratch) / "certs") as emulator:
        print("ARM requests per reconcile (emulator; LRO answered after 1 poll; RBAC enforced, the app holding exactly "
              "the roles infra/roles.json assigns for these settings, as in every table below)\n")
        print(tabulate(request_counts(emulator, azurite),
                       headers=["case", "outcome", "reads", "writes", "LRO polls + final GETs", "total", "403s",
                                "least (r + w)", "= least"],
                       tablefmt="github"))
        print(load_note())

        emulator.reset()
        emulator.seed(Estate().network((OPENAI_ZONE,)).locked("aoai").scenario())
        env = {**os.environ, **emulator.env(), **settings_env(), "AzureWebJobsStorage": azurite.connection_string,
               "PYTHONDONTWRITEBYTECODE": "0"}
        grant(emulator, env)
        emulator.clear_requests()
        print(f"\nCold start (fresh interpreter, median and best of {RUNS}; peak RSS; bytecode cached)\n")
        print(tabulate(cold_start(env, account_id("aoai"), emulator),
                       headers=["what", "median ms", "best ms", "peak MiB", f"403s ({RUNS} runs)", "note"],
                       tablefmt="github"))
        print("\nTargets: import function_app ≤ 350 ms / 35 MiB; a compliant event served from cold "
              "≤ 800 ms / 60 MiB without azure.mgmt.network.")
        print(load_note())

        print_event_tables(emulator, azurite)
        print(load_note())
        print_sweep_table(emulator)
        print(load_note())
        print_pace_table(emulator, azurite)
        print(load_note())
    return scale_tables(args.scale, set(SCALE_TABLES))


SCALE_TABLES = ("sweep", "custodian", "c7n-org", "seeding", "storm")


def scale_tables(scale: bool, which: set[str]) -> int:
    """The sweep at scale, Custodian side by side, seeding and the storm; on an emulator of their own."""
    with tempfile.TemporaryDirectory() as scratch, ArmEmulator(cert_dir=Path(scratch) / "certs") as emulator:
        if "sweep" in which:
            print_sweep_scale_table(emulator, SWEEP_SCALE_RUNS if scale else SWEEP_DEFAULT_RUNS)
            print(load_note())
        if "custodian" in which:
            print_custodian_table(emulator, CUSTODIAN_SIZES if scale else CUSTODIAN_SIZES[:1])
            print(load_note())
        if "c7n-org" in which:
            print_c7n_org_table(emulator)
            print(load_note())
        if "seeding" in which:
            print_seeding_table(SEEDING_SIZES if scale else SEEDING_SIZES[:1])
            print(load_note())
        if "storm" in which:
            print_storm_table(emulator, STORM_SCALE_RUNS if scale else STORM_DEFAULT_RUNS)
            print(load_note())
            print_pacing_table(emulator, *(PACING_SCALE if scale else PACING_DEFAULT))
            print(load_note())
            if scale:
                print_threads_table(emulator)
                print(load_note())
    return 0


if __name__ == "__main__":
    sys.exit(main())
