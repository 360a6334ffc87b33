"""`python -m remediation scan` side by side with Cloud Custodian on the same emulated estate.

The estate (localdev/estate_scale.py): two subscriptions, 10% of the OpenAI/AIServices accounts drifted
seven ways, decoy accounts of other kinds. Each tool runs as a person would run it, as a fresh process
from its own virtualenv: `python -m remediation scan --json` with the app's settings in the environment,
and `custodian run` (bench/custodian_policy.yml) through bench/custodian_launch.py, which points the public
cloud's Resource Manager endpoint at the emulator. Both authenticate through the emulator's managed
identity endpoint. Per row: wall time of the whole process (interpreter start and imports included), the
Resource Manager requests the emulator logged (token requests not counted), the process's own peak
memory (VmHWM, bench/peak.py), and what it found against the estate's truth.

At "100 ms" the emulator holds every Resource Manager request for 100 ms before answering
(EmulatorConfig.latency_ms), Azure's order of magnitude for a list page.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.rights import forbidden, grant
from localdev.arm_emulator import ArmEmulator
from localdev.estate_scale import ScaleEstate, seed_estate

REPO = Path(__file__).resolve().parents[1]
C7N_PYTHON = REPO / ".venv-c7n" / "bin" / "python"
POLICY = REPO / "bench" / "custodian_policy.yml"
SIZES = (1_000, 10_000)
LATENCIES_MS = (0, 100)
SUBSCRIPTIONS = 2


class BenchFailure(Exception):
    """A tool failed, or found something other than the truth."""


@dataclass
class Run:
    tool: str
    seconds: float
    requests: int
    peak_mib: float
    found: set[str]
    cpu_seconds: float
    forbidden: int = 0


def _timed(command: list[str], cwd: Path, env: dict[str, str]) -> tuple[subprocess.CompletedProcess[str], float, float]:
    """Run a command; its wall time and the CPU time it used (user + system, from the kernel's accounting of
    waited-for children, so other load on the machine does not inflate it)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return done, wall, (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)


def _requests(emulator: ArmEmulator) -> int:
    return sum(1 for r in emulator.requests if r.kind in ("read", "write", "poll"))


def _forbidden(emulator: ArmEmulator) -> int:
    return forbidden(emulator.requests, emulator)


def _peak(path: Path) -> float:
    return float(path.read_text().strip()) if path.exists() else float("nan")


def run_scan(emulator: ArmEmulator, estate: ScaleEstate, scratch: Path, first_run: bool = False) -> Run:
    settings = estate.settings_env()
    if first_run:  # a first run: only the scopes are known (no subnet, no DNS resource group)
        settings = {"REMEDIATION_SCOPES": settings["REMEDIATION_SCOPES"]}
    env = {k: v for k, v in os.environ.items() if not k.startswith("REMEDIATION_")}
    env.update({**emulator.env(), **settings})
    env.pop("AzureWebJobsStorage", None)  # the operator command needs no storage
    grant(emulator, settings)  # what a deployment with these settings assigns; a first run: the accounts role only
    peak = scratch / "scan.peak"
    emulator.clear_requests()
    done, seconds, cpu = _timed([sys.executable, str(REPO / "bench" / "peak.py"), str(peak), "-m", "remediation",
                                 "scan", "--json"], REPO, env)
    if done.returncode not in (0, 1):  # 1: drift found
        raise BenchFailure(f"scan failed (exit {done.returncode}): {done.stderr[-2000:]}")
    found = {row["resourceId"].lower() for row in json.loads(done.stdout)["drifted"]}
    return Run("scan, first run" if first_run else "scan", seconds, _requests(emulator), _peak(peak), found, cpu,
               _forbidden(emulator))


def run_first_scan(emulator: ArmEmulator, estate: ScaleEstate, scratch: Path) -> Run:
    return run_scan(emulator, estate, scratch, first_run=True)


def run_custodian(emulator: ArmEmulator, estate: ScaleEstate, scratch: Path) -> Run:
    if not C7N_PYTHON.exists():
        raise BenchFailure(f"{C7N_PYTHON} is missing: `make .venv-c7n/.deps-stamp` builds it")
    peak, result = scratch / "custodian.peak", scratch / "custodian.json"
    command = [str(C7N_PYTHON), str(REPO / "bench" / "peak.py"), str(peak), str(REPO / "bench" / "custodian_launch.py"),
               "--arm-endpoint", emulator.url, "--output-dir", str(scratch / "custodian-out"),
               "--result", str(result), str(POLICY)]
    for subscription in estate.subscription_ids:
        command += ["--subscription", subscription]
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    env.update(emulator.env())
    # Custodian signs in as the same managed identity; it lists accounts only, so it holds the app's accounts
    # role at the same scopes (each subscription) and nothing else.
    grant(emulator, estate.settings_env(), roles=("accounts",))
    emulator.clear_requests()
    done, seconds, cpu = _timed(command, scratch, env)
    if done.returncode:
        raise BenchFailure(f"custodian failed (exit {done.returncode}): {done.stderr[-2000:]}")
    found = {rid.lower() for rid in json.loads(result.read_text())["found"]}
    return Run("Custodian", seconds, _requests(emulator), _peak(peak), found, cpu, _forbidden(emulator))


def comparison_rows(emulator: ArmEmulator, sizes: tuple[int, ...] = SIZES,
                    latencies: tuple[int, ...] = LATENCIES_MS) -> list[list[Any]]:
    rows = []
    for size in sizes:
        emulator.reset()
        estate = ScaleEstate(accounts=size, subscriptions=SUBSCRIPTIONS)
        seed_estate(emulator, estate)
        truth = estate.truth.drifted
        for latency in latencies:
            emulator.config.update({"latency_ms": latency})
            with tempfile.TemporaryDirectory() as tmp:
                for runner in (run_scan, run_custodian, run_first_scan):
                    run = runner(emulator, estate, Path(tmp))
                    extra, missed = len(run.found - truth), len(truth - run.found)
                    if (extra or missed) and runner is not run_first_scan:
                        raise BenchFailure(f"{run.tool} at {size} accounts, {latency} ms: {missed} drifted "
                                           f"accounts missed, {extra} reported that did not drift")
                    rows.append([f"{size:,}", f"{latency}", run.tool, f"{run.seconds:.1f}", f"{run.cpu_seconds:.1f}",
                                 run.requests, run.forbidden,
                                 f"{run.peak_mib:.0f}", f"{len(run.found & truth)}/{len(truth)}", extra])
    return rows


def print_custodian_table(emulator: ArmEmulator, sizes: tuple[int, ...] = SIZES) -> None:
    from tabulate import tabulate

    print("\nScan next to Cloud Custodian: two subscriptions, 10% of the OpenAI/AIServices accounts drifted seven "
          "ways, one decoy of another kind per 20 accounts; each tool a fresh process, as a person runs it\n")
    print(tabulate(comparison_rows(emulator, sizes), tablefmt="github", disable_numparse=True,
                   headers=["accounts", "ms per request", "tool", "wall s", "CPU s", "ARM requests", "403s", "peak MiB",
                            "found/drifted", "not drifted, reported"]))
    print("\nWall time includes interpreter start and imports. Custodian runs the subscriptions one after another "
          "in one process, as `custodian run` does for a person who loops over them; c7n-org, Custodian's own "
          "runner over many subscriptions, runs them side by side in worker processes (bench/custodian_org.py "
          "compares with it). The configured scan and Custodian must find exactly "
          "the drifted accounts (the run fails otherwise); \"scan, first run\" has only REMEDIATION_SCOPES set. "
          "RBAC enforced, one identity for all three: the scan holds the roles infra/roles.json assigns for its "
          "settings (accounts on each subscription, network on the hubs' resource groups, DNS on rg-dns; a first "
          "run: the accounts role only), Custodian the accounts role on each subscription and nothing else.")


if __name__ == "__main__":
    big = "--scale" in sys.argv
    with tempfile.TemporaryDirectory() as certs, ArmEmulator(cert_dir=Path(certs)) as emu:
        print_custodian_table(emu, SIZES if big else SIZES[:1])
