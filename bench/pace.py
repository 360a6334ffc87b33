"""The same reconcile at instant and at Azure's pace (scaled 1:50), side by side; and a sweep of 10,000
accounts in one subscription against Resource Manager's token buckets.

Instant: every long-running operation is done at its first poll, the app polls without waiting.
Azure's pace: operations take the durations in localdev/arm_emulator/pace.py (a private endpoint 40 s,
a zone 30 s, a link 28 s, an account update 30 s and then 30 s more in Accepted), times 0.02; the
app's poll interval (5 s) and ready timeout (60 s) are scaled by the same factor. "Azure-equivalent"
is the wall time divided by the scale: what the same reconcile would take against Azure if Azure
answered as fast as the emulator otherwise does.
"""

from __future__ import annotations

import os
import time
import uuid
from typing import Any

from bench.rights import forbidden, grant
from localdev.arm_emulator import ArmEmulator, EmulatorConfig
from localdev.azurite import Azurite
from localdev.estate import OPENAI_ZONE, SUBSCRIPTION, ZONES_BY_KIND, Estate, account_id, settings_env
from remediation.core.ids import parse_account_id
from remediation.core.model import Trigger
from remediation.core.settings import Settings
from remediation.runtime.wiring import build

SCALE = 0.02
POLL_INTERVAL_S, READY_TIMEOUT_S = 5.0, 60.0   # the app's production defaults
AI_ZONES = ZONES_BY_KIND["AIServices"]

CASES = [
    ("endpoint + DNS build (AIServices)", lambda: Estate().network().account("aoai", "AIServices")),
    ("account drift, then endpoint (AIServices)", lambda: Estate().network(AI_ZONES).account(
        "aoai", "AIServices", public_network_access="Enabled", default_action="Allow")),
    ("public access fix (OpenAI)", lambda: Estate().network((OPENAI_ZONE,)).locked(
        "aoai", public_network_access="Enabled")),
]
PACES = {
    "instant": ({}, {"REMEDIATION_POLL_INTERVAL_SECONDS": "0", "REMEDIATION_READY_TIMEOUT_SECONDS": "5"}),
    "Azure's pace, 1:50": (EmulatorConfig.azure_pace(SCALE), {
        "REMEDIATION_POLL_INTERVAL_SECONDS": str(POLL_INTERVAL_S * SCALE),
        "REMEDIATION_READY_TIMEOUT_SECONDS": str(READY_TIMEOUT_S * SCALE)}),
}


def reconcile_until_final(emulator: ArmEmulator, azurite: Azurite, settings_overrides: dict[str, str],
                          scale: float) -> tuple[list[str], float]:
    # a table of its own per run, so earlier runs' fixes do not trip the circuit breaker
    env = {**emulator.env(), **settings_env(**settings_overrides), "AzureWebJobsStorage": azurite.connection_string,
           "REMEDIATION_AUDIT_TABLE": f"pace{uuid.uuid4().hex[:12]}"}
    os.environ.update(emulator.env())
    grant(emulator, env)
    emulator.clear_requests()
    remediator = build(Settings.from_env(env)).remediator
    outcomes: list[str] = []
    started = time.perf_counter()
    try:
        for attempt in range(4):
            record = remediator.reconcile(parse_account_id(account_id("aoai")), Trigger.HTTP).record
            outcomes.append(record.outcome.value)
            if record.outcome.value != "deferred":
                break
            time.sleep(POLL_INTERVAL_S * 2 ** attempt * scale)   # the worker's requeue delay, scaled
    finally:
        remediator.clients.close()
    return outcomes, time.perf_counter() - started


def pace_rows(emulator: ArmEmulator, azurite: Azurite) -> list[list[Any]]:
    rows = []
    for name, estate in CASES:
        for pace_name, (config, overrides) in PACES.items():
            emulator.reset()
            emulator.config.update(config)
            emulator.seed(estate().scenario())
            emulator.clear_requests()
            scale = SCALE if config else 1.0
            outcomes, wall = reconcile_until_final(emulator, azurite, overrides, scale)
            requests = [r for r in emulator.requests if r.kind in ("read", "write", "poll")]
            kinds = [r.kind for r in requests]
            refused = sum(1 for r in requests if r.kind == "write" and r.status in (400, 409))
            rows.append([name, pace_name, " → ".join(outcomes), f"{wall:.2f}",
                         f"{wall / scale:.0f}" if config else "-", kinds.count("poll"), kinds.count("read"),
                         kinds.count("write"), len(requests), refused, forbidden(requests, emulator)])
    return rows


def throttled_sweep_row(emulator: ArmEmulator, size: int = 10_000) -> list[Any]:
    """A sweep of `size` accounts in one subscription with the token buckets on (their defaults)."""
    from remediation.arm.clients import ArmClients
    from remediation.runtime.sweep import Sweeper

    emulator.reset()
    built = Estate().network((OPENAI_ZONE,))
    for n in range(size):
        built.locked(f"aoai-{n:05d}", resource_group=f"rg-ai-{n % 5}",
                     public_network_access="Enabled" if n % 10 == 0 else "Disabled")
    emulator.seed(built.scenario())
    emulator.clear_requests()
    env = {**emulator.env(), **settings_env(REMEDIATION_SCOPES=f"/subscriptions/{SUBSCRIPTION}")}
    grant(emulator, env)
    emulator.clear_requests()
    os.environ.update(emulator.env())
    settings = Settings.from_env(env, require_storage=False)
    clients = ArmClients(settings)
    flagged: list[Any] = []
    started = time.perf_counter()
    try:
        Sweeper(clients, settings).run(enqueue=flagged.append)
    finally:
        clients.close()
    wall = time.perf_counter() - started
    requests = [r for r in emulator.requests if r.kind in ("read", "write", "poll")]
    throttled = sum(1 for r in requests if r.status == 429)
    app = emulator.app_identity.object_id
    refused = forbidden(requests, emulator)
    if refused:
        raise RuntimeError(f"the sweep was refused {refused} requests (403)")
    return [f"{size:,}", len(flagged), len(requests), throttled, refused, f"{wall:.1f}",
            emulator.throttler.remaining(SUBSCRIPTION, app, "GET")]


def print_pace_table(emulator: ArmEmulator, azurite: Azurite) -> None:
    from tabulate import tabulate

    print("\nOne reconcile at instant and at Azure's pace (scaled 1:50; durations in localdev/arm_emulator/pace.py), "
          "until its outcome is final\n")
    print(tabulate(pace_rows(emulator, azurite),
                   headers=["case", "pace", "outcomes", "wall s", "Azure-equivalent s", "polls", "reads", "writes",
                            "ARM requests", "writes refused (busy)", "403s"], tablefmt="github"))
    print("\nA sweep of one subscription against Resource Manager's token buckets (reads 250, refilling 25/s per "
          "principal; localdev/arm_emulator/throttling.py)\n")
    print(tabulate([throttled_sweep_row(emulator)],
                   headers=["accounts", "queued", "ARM requests", "429s", "403s", "wall s", "reads left at the end"],
                   tablefmt="github"))


if __name__ == "__main__":
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as scratch, Azurite(Path(scratch) / "azurite") as azurite_, \
            ArmEmulator(cert_dir=Path(scratch) / "certs") as emulator_:
        print_pace_table(emulator_, azurite_)
