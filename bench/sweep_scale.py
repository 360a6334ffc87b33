"""The sweep at scale: 10,000 and 100,000 accounts over 10 and 1,000 subscriptions, at Resource Manager's
latency, against its token buckets, with the app holding exactly the rights a deployment grants.

The estate is localdev/estate_scale.py's (a hub of private endpoint VNets and the privatelink zones in the
connectivity subscription; accounts spread over the other subscriptions; 10% drifted seven ways; decoys of
other kinds). Each sweep is `Sweeper(ArmClients(settings), settings).run(enqueue=None)` in a fresh process
(bench/sweep_probe.py, its peak memory noted by bench/peak.py), with REMEDIATION_SWEEP_CONCURRENCY at 1, 8
and 32, against the emulator answering every Resource Manager request after `LATENCY_MS` (Azure's order of
magnitude for a list page) with throttling on (reads 250 per subscription and principal, refilling 25/s;
the buckets start full for each sweep). RBAC is enforced: the app's identity holds the roles infra/roles.json
assigns for the estate's settings (accounts on each subscription, network on each hub's resource group,
DNS on the DNS resource group), and the 403s it got are counted (the run fails on one).

Per row: the sweep's wall time (inside the process, imports excluded), Resource Manager requests (the
emulator's log; retries after a 429 included) and per account, 429s, 403s, the process's peak memory
(VmHWM), and what it found against the estate's truth (the run fails unless exactly the drifted accounts).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.rights import forbidden, grant
from localdev.arm_emulator import ArmEmulator
from localdev.estate_scale import ScaleEstate, seed_estate

REPO = Path(__file__).resolve().parents[1]
LATENCY_MS = 100
# (accounts, subscriptions) and the concurrencies each runs at.
SCALE_RUNS: tuple[tuple[int, int, tuple[int, ...]], ...] = (
    (10_000, 10, (1, 8, 32)), (100_000, 1_000, (1, 8, 32)))
DEFAULT_RUNS: tuple[tuple[int, int, tuple[int, ...]], ...] = ((10_000, 10, (8,)),)


class BenchFailure(Exception):
    """The sweep failed, was refused, or found something other than the truth."""


def run_sweep(emulator: ArmEmulator, estate: ScaleEstate, concurrency: int, scratch: Path) -> dict[str, Any]:
    """One sweep of the seeded estate in a fresh process; its numbers and the emulator's."""
    settings = estate.settings_env(REMEDIATION_SWEEP_CONCURRENCY=str(concurrency))
    grant(emulator, settings)
    env = {k: v for k, v in os.environ.items() if not k.startswith("REMEDIATION_")}
    env.update({**emulator.env(), **settings})
    env.pop("AzureWebJobsStorage", None)  # the sweep's screen needs no storage
    peak, found = scratch / f"sweep-{concurrency}.peak", scratch / f"sweep-{concurrency}.found"
    emulator.throttler.reset()  # every sweep starts with full buckets, as after a quiet sweep period
    emulator.clear_requests()
    started = time.perf_counter()
    done = subprocess.run([sys.executable, str(REPO / "bench" / "peak.py"), str(peak), "-m", "bench.sweep_probe",
                           str(found)], cwd=REPO, env=env, capture_output=True, text=True)
    process_s = time.perf_counter() - started
    if done.returncode:
        raise BenchFailure(f"the sweep failed (exit {done.returncode}): {done.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    requests = [r for r in emulator.requests if r.kind in ("read", "write", "poll")]
    found_ids = {line.strip().lower() for line in found.read_text().splitlines() if line.strip()}
    result.update(process_s=process_s, requests=len(requests), throttled=sum(1 for r in requests if r.status == 429),
                  forbidden=forbidden(requests, emulator), peak_mib=float(peak.read_text()),
                  hit=len(found_ids & estate.truth.drifted), extra=len(found_ids - estate.truth.drifted))
    return result


def sweep_scale_rows(emulator: ArmEmulator, runs: tuple[tuple[int, int, tuple[int, ...]], ...] = DEFAULT_RUNS,
                     load: Any = None) -> list[list[Any]]:
    rows = []
    for accounts, subscriptions, concurrencies in runs:
        emulator.reset()
        estate = ScaleEstate(accounts=accounts, subscriptions=subscriptions)
        started = time.perf_counter()
        seed_estate(emulator, estate)
        seeded = time.perf_counter() - started
        emulator.config.update({"latency_ms": LATENCY_MS, "throttling": True})
        truth = estate.truth.drifted
        for concurrency in concurrencies:
            with tempfile.TemporaryDirectory() as tmp:
                r = run_sweep(emulator, estate, concurrency, Path(tmp))
            where = f"{accounts:,} accounts over {subscriptions:,} subscriptions at concurrency {concurrency}"
            if r["forbidden"]:
                raise BenchFailure(f"{where}: {r['forbidden']} requests refused (403)")
            if r["accounts"] != estate.truth.managed or r["hit"] != len(truth) or r["extra"]:
                raise BenchFailure(f"{where}: {r['accounts']} of {estate.truth.managed} managed accounts screened, "
                                   f"{r['hit']}/{len(truth)} drifted found, {r['extra']} reported that did not drift")
            rows.append([f"{accounts:,}", f"{subscriptions:,}", concurrency, f"{r['seconds']:.1f}", r["requests"],
                         f"{r['requests'] / accounts:.4f}", r["throttled"], r["forbidden"], f"{r['peak_mib']:.0f}",
                         f"{r['hit']:,}/{len(truth):,}", r["extra"],
                         f"{seeded:.0f}", load() if load else ""])
            print(f"  sweep {where}: {' | '.join(map(str, rows[-1]))}", file=sys.stderr, flush=True)
    return rows


HEADERS = ["accounts", "subscriptions", "concurrency", "wall s", "ARM requests", "per account", "429s", "403s",
           "peak MiB", "found/drifted", "not drifted, reported", "estate seeded in s", "load (1/5/15 min)"]


def load_average() -> str:
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


def print_sweep_scale_table(emulator: ArmEmulator,
                            runs: tuple[tuple[int, int, tuple[int, ...]], ...] = DEFAULT_RUNS) -> None:
    from tabulate import tabulate

    print(f"\nThe sweep at scale: accounts over many subscriptions (10% drifted seven ways, decoys), {LATENCY_MS} ms "
          "per Resource Manager request, throttling on, RBAC enforced; each sweep a fresh process\n")
    print(tabulate(sweep_scale_rows(emulator, runs, load_average), headers=HEADERS, tablefmt="github",
                   disable_numparse=True))
    print("\nWall time is the sweep's own (Sweeper.run, its token included; interpreter start and imports "
          "excluded). Requests include the retries after a 429 (Resource Manager's token buckets: reads 250 per "
          "subscription and principal, refilling 25/s, full at each sweep's start). The app holds the accounts "
          "role on each subscription, the network role on each hub's resource group and the DNS role on rg-dns "
          "(infra/roles.json); 403s must be 0 and the run fails otherwise. Peak memory is the sweep process's "
          "VmHWM, SDKs included; its inventory (endpoint → VNet and IPs, zone → record names and addresses) grows "
          "with the estate, the accounts stream past. Load: the machine's load average when the row finished "
          f"({os.cpu_count()} cores, shared).")


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as certs, ArmEmulator(cert_dir=Path(certs)) as emu:
        print_sweep_scale_table(emu, SCALE_RUNS if "--scale" in sys.argv else DEFAULT_RUNS)
