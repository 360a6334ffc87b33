"""`python -m remediation scan` next to Cloud Custodian's own multi-subscription runner, c7n-org.

The question a Custodian user asks of many subscriptions is answered by `c7n-org run`: the policy
(bench/custodian_policy.yml) once per subscription, in parallel worker processes (`C7N_ORG_PARALLEL`, by
default 4 per CPU). It is not Custodian running the subscriptions one after another. Each tool runs as a person
runs it, a fresh process from its own virtualenv, on the same emulated estate (localdev/estate_scale.py: 10% of
the OpenAI/AIServices accounts drifted seven ways, decoys of other kinds), with RBAC enforced and Resource
Manager's token buckets on:

- the scan with the documented settings (docs/configuration.md: REMEDIATION_SWEEP_CONCURRENCY 8) and the
  roles infra/roles.json assigns; it asks the whole question: account properties, endpoints and DNS;
- c7n-org with the accounts role on each subscription (it reads the account list only), at its default worker
  count and at every count from 1 up to the subscriptions, the fastest of them called its best.

Each tool must find exactly the drifted accounts (the run fails otherwise). Per run: wall time of the whole
process tree (interpreter start and imports included), the Resource Manager requests the emulator logged
(retries included), the longest chain (the list with the most pages, from the emulator's log: one list is one
path and query, its pages the nextLinks followed), 429s and 403s, and the peak memory of the process tree
(resident memory of the process and its workers, summed, sampled every 20 ms).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.rights import forbidden, grant
from localdev.arm_emulator import ArmEmulator
from localdev.estate_scale import ScaleEstate, seed_estate

REPO = Path(__file__).resolve().parents[1]
C7N_PYTHON = REPO / ".venv-c7n" / "bin" / "python"
POLICY = REPO / "bench" / "custodian_policy.yml"
ACCOUNTS = 10_000
SUBSCRIPTIONS = (2, 20)
LATENCIES_MS = (0, 100)
DEFAULT_WORKERS = 4 * (os.cpu_count() or 1)  # c7n_org.cli.WORKER_COUNT without C7N_ORG_PARALLEL


class BenchFailure(Exception):
    """A tool failed, or found something other than the truth."""


@dataclass
class Run:
    tool: str
    parallel: int  # the scan's concurrency, c7n-org's workers
    seconds: float
    requests: int
    throttled: int
    refused: int
    longest: tuple[str, int]
    peak_mib: float
    found: set[str]


class TreePeak:
    """The largest resident memory, summed over a process and its descendants, seen while it runs."""

    def __init__(self, pid: int) -> None:
        self.pid, self.peak_kib = pid, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak_kib = max(self.peak_kib, sum(_rss_kib(pid) for pid in _tree(self.pid)))
            self._stop.wait(0.02)

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        return self.peak_kib / 1024


def _tree(pid: int) -> list[int]:
    pids, todo = [], [pid]
    while todo:
        current = todo.pop()
        pids.append(current)
        for children in Path(f"/proc/{current}/task").glob("*/children"):
            try:
                todo += [int(c) for c in children.read_text().split()]
            except OSError:
                continue
    return pids


def _rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def longest_chain(requests: list[Any]) -> tuple[str, int]:
    """The list with the most pages in the emulator's log: a list is its path and query (the skip token left
    out), each of its requests answered 200 a page."""
    pages: Counter[str] = Counter()
    for r in requests:
        if r.kind == "read" and r.status == 200:
            query = "&".join(f"{k}={v}" for k, v in sorted(r.query.items()) if k.lower() != "$skiptoken")
            pages[f"{r.path}?{query}" if query else r.path] += 1
    if not pages:
        return ("", 0)
    name, count = pages.most_common(1)[0]
    return (name.split("?")[0], count)


def _measured(emulator: ArmEmulator, command: list[str], env: dict[str, str], cwd: Path, tool: str, parallel: int,
              found: Any) -> Run:
    emulator.throttler.reset()  # every run starts with full buckets
    emulator.clear_requests()
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak = TreePeak(process.pid)
    out, err = process.communicate()
    seconds = time.perf_counter() - started
    peak_mib = peak.stop()
    if process.returncode not in (0, 1):  # the scan exits 1 when it found drift
        raise BenchFailure(f"{tool} failed (exit {process.returncode}): {err[-2000:]}")
    requests = [r for r in emulator.requests if r.kind in ("read", "write", "poll")]
    return Run(tool, parallel, seconds, len(requests), sum(1 for r in requests if r.status == 429),
               forbidden(requests, emulator), longest_chain(requests), peak_mib, found(out))


def run_scan(emulator: ArmEmulator, estate: ScaleEstate, scratch: Path) -> Run:
    settings = estate.settings_env()
    grant(emulator, settings)
    env = {k: v for k, v in os.environ.items() if not k.startswith("REMEDIATION_")}
    env.update({**emulator.env(), **settings})
    env.pop("AzureWebJobsStorage", None)  # the operator command needs no storage
    concurrency = int(settings.get("REMEDIATION_SWEEP_CONCURRENCY", "8"))
    return _measured(emulator, [sys.executable, "-m", "remediation", "scan", "--json"], env, REPO, "scan",
                     concurrency, lambda out: {row["resourceId"].lower() for row in json.loads(out)["drifted"]})


def run_c7n_org(emulator: ArmEmulator, estate: ScaleEstate, scratch: Path, workers: int) -> Run:
    if not C7N_PYTHON.exists():
        raise BenchFailure(f"{C7N_PYTHON} is missing: `make .venv-c7n/.deps-stamp` builds it")
    result = scratch / f"c7n-org-{workers}.json"
    command = [str(C7N_PYTHON), str(REPO / "bench" / "c7n_org_launch.py"), "--arm-endpoint", emulator.url,
               "--workers", str(workers), "--output-dir", str(scratch / f"c7n-org-{workers}"), "--result", str(result),
               str(POLICY)]
    for subscription in estate.subscription_ids:
        command += ["--subscription", subscription]
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH", "C7N_ORG_PARALLEL")}
    env.update(emulator.env())
    grant(emulator, estate.settings_env(), roles=("accounts",))  # it lists accounts only
    return _measured(emulator, command, env, scratch, "c7n-org", workers,
                     lambda _out: {rid.lower() for rid in json.loads(result.read_text())["found"]})


def worker_counts(subscriptions: int) -> list[int]:
    """c7n-org's default, and 1, 2, 4, … up to one worker per subscription (more never run)."""
    counts = {min(DEFAULT_WORKERS, subscriptions), subscriptions}
    counts |= {n for n in (1, 2, 4, 8, 16, 32) if n < subscriptions}
    return sorted(counts)


def comparison_rows(emulator: ArmEmulator, accounts: int = ACCOUNTS, subscriptions: tuple[int, ...] = SUBSCRIPTIONS,
                    latencies: tuple[int, ...] = LATENCIES_MS) -> list[list[Any]]:
    rows = []
    for subs in subscriptions:
        emulator.reset()
        estate = ScaleEstate(accounts=accounts, subscriptions=subs)
        seed_estate(emulator, estate)
        truth = estate.truth.drifted
        for latency in latencies:
            emulator.config.update({"latency_ms": latency})
            with tempfile.TemporaryDirectory() as tmp:
                scan = run_scan(emulator, estate, Path(tmp))
                orgs = [run_c7n_org(emulator, estate, Path(tmp), n) for n in worker_counts(subs)]
            for run in (scan, *orgs):
                if run.found != truth or run.refused:
                    raise BenchFailure(f"{run.tool} ({run.parallel}) at {subs} subscriptions, {latency} ms: "
                                       f"{len(truth - run.found)} drifted missed, {len(run.found - truth)} extra, "
                                       f"{run.refused} refused")
            best = min(orgs, key=lambda r: r.seconds)
            for run in (scan, *orgs):
                label = ("scan (documented settings)" if run is scan else
                         "c7n-org" + (", default" if run.parallel == min(DEFAULT_WORKERS, subs) else "")
                         + (", best" if run is best else ""))
                rows.append([subs, latency, label, run.parallel, f"{run.seconds:.1f}",
                             f"{best.seconds / run.seconds:.2f}×" if run is scan else "", run.requests,
                             f"{run.longest[1]} ({_short(run.longest[0])})", run.throttled, run.refused,
                             f"{run.peak_mib:.0f}", f"{len(run.found & truth):,}/{len(truth):,}"])
                print(f"  {' | '.join(map(str, rows[-1]))}", file=sys.stderr, flush=True)
    return rows


def _short(path: str) -> str:
    """A list's path, short: its last named scope and type (`rg-dns/…/privatelink.openai.azure.com/ALL`)."""
    parts = path.strip("/").split("/")
    if "privateDnsZones" in parts:
        return "/".join(parts[parts.index("privateDnsZones") + 1:])
    if "resourceGroups" in parts:
        return parts[parts.index("resourceGroups") + 1] + "/" + parts[-1]
    return f"subscription …{parts[1][-4:]}/{parts[-1]}" if len(parts) > 1 else path


HEADERS = ["subscriptions", "ms per request", "tool", "concurrency / workers", "wall s", "c7n-org best ÷ scan",
           "ARM requests", "longest chain (pages)", "429s", "403s", "peak MiB", "found/drifted"]


def print_c7n_org_table(emulator: ArmEmulator, accounts: int = ACCOUNTS) -> None:
    from tabulate import tabulate

    print(f"\nScan next to c7n-org: {accounts:,} accounts, 10% drifted seven ways, decoys; each tool a fresh process "
          "tree, RBAC enforced, Resource Manager's token buckets on\n")
    print(tabulate(comparison_rows(emulator, accounts), headers=HEADERS, tablefmt="github", disable_numparse=True))
    print("\nWall time includes interpreter start and imports (c7n-org's workers are forked processes). The scan "
          "asks the whole question (account properties, private endpoints, DNS zone links and records); c7n-org the "
          "account properties only (bench/custodian_policy.yml). Both must find exactly the drifted accounts. "
          "Page sizes: accounts and endpoints 100 (the emulator's choice: Azure documents none), private DNS 100 "
          "(the only size it documents), resource groups 100. Peak memory: the process tree's resident memory, "
          f"summed ({os.cpu_count()} cores, shared).")


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as certs, ArmEmulator(cert_dir=Path(certs)) as emu:
        print_c7n_org_table(emu)
