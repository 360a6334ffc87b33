"""Every kind of fix at Azure's pace (scaled 1:50), with Azure's headers; drift→closed against the connections and
zones an account has; and a sweep of 10,000 accounts in one subscription against the buckets.

Azure's pace: operations take the durations in localdev/arm_emulator/pace.py (an account update 31 s and then 30 s
more in Accepted, a private endpoint 40 s, a zone 30 s, a link 60 s, a zone group 11 s), times 0.02, and answer with
Azure's Retry-After (Network 10 s, Private DNS 30 s, Cognitive Services none), scaled alike, which the app's pollers
follow; the app's own poll interval (5 s) and ready timeout (60 s) are scaled by the same factor. Resource Manager's
token buckets and the providers' own limits (Network per subscription and region, Private DNS 500 reads per 5
minutes) are on, refilling on the same scaled clock (`limits_at`). "Azure-equivalent" is the wall time divided by
the scale: what the same reconcile would take against Azure if Azure answered as fast as the emulator otherwise
does. Drift→closed is the record's `eventToClosedMs` (the drift event to the close-first PATCH's success), from a
drift event stamped as the reconcile starts.
"""

from __future__ import annotations

import datetime as dt
import os
import time
import uuid
from collections.abc import Callable
from typing import Any

from bench.rights import forbidden, grant
from localdev.arm_emulator import ArmEmulator, EmulatorConfig
from localdev.azurite import Azurite
from localdev.estate import (
    OPENAI_ZONE,
    OTHER_SUBSCRIPTION,
    SUBSCRIPTION,
    ZONES_BY_KIND,
    Estate,
    account_id,
    rg_id,
    settings_env,
)
from remediation.core.ids import parse_account_id
from remediation.core.model import Trigger
from remediation.core.settings import Settings
from remediation.runtime.wiring import build

SCALE = 0.02
POLL_INTERVAL_S, READY_TIMEOUT_S = 5.0, 60.0   # the app's production defaults
AI_ZONES = ZONES_BY_KIND["AIServices"]
AOAI = account_id("aoai")

FIXES: list[tuple[str, Callable[[], Estate]]] = [
    ("public access on (OpenAI)", lambda: Estate().network((OPENAI_ZONE,)).locked(
        "aoai", public_network_access="Enabled")),
    ("ACL default Allow (OpenAI)", lambda: Estate().network((OPENAI_ZONE,)).locked("aoai", default_action="Allow")),
    ("ACL missing (OpenAI)", lambda: Estate().network((OPENAI_ZONE,)).locked("aoai", default_action=None)),
    ("connection Pending (OpenAI)", lambda: Estate().network((OPENAI_ZONE,)).account("aoai").endpoint(
        AOAI, manual=True, zone_group=(OPENAI_ZONE,))),
    ("A record repointed (OpenAI)", lambda: Estate().network((OPENAI_ZONE,)).locked("aoai").record(
        OPENAI_ZONE, "aoai", ("10.2.0.66",))),
    ("zone link missing (OpenAI)", lambda: Estate().network((OPENAI_ZONE,), linked=False).locked("aoai")),
    ("no endpoint (OpenAI)", lambda: Estate().network((OPENAI_ZONE,)).account("aoai")),
    ("endpoint + DNS build (AIServices)", lambda: Estate().network().account("aoai", "AIServices")),
    ("open, then endpoint (AIServices)", lambda: Estate().network(AI_ZONES).account(
        "aoai", "AIServices", public_network_access="Enabled", default_action="Allow")),
]


def limits_at(emulator: ArmEmulator, scale: float) -> dict[str, str]:
    """Azure's pace times `scale`, with Resource Manager's buckets and the providers' limits on and refilling on the
    same scaled clock (sizes as Azure's, refill per second divided by the scale); the app settings that go with it."""
    defaults = EmulatorConfig()
    emulator.config.update({**EmulatorConfig.azure_pace(scale), "throttling": True, "provider_limits": True,
                            "read_refill": defaults.read_refill / scale, "write_refill": defaults.write_refill / scale,
                            "delete_refill": defaults.delete_refill / scale,
                            "provider_window_s": defaults.provider_window_s * scale})
    return {"REMEDIATION_POLL_INTERVAL_SECONDS": str(POLL_INTERVAL_S * scale),
            "REMEDIATION_READY_TIMEOUT_SECONDS": str(READY_TIMEOUT_S * scale)}


def reconcile_until_final(emulator: ArmEmulator, azurite: Azurite, overrides: dict[str, str],
                          scale: float) -> tuple[list[dict[str, Any]], float]:
    """Reconcile as the queue would until the outcome is final (a deferral waits the worker's delay, scaled); the
    records and the wall seconds. The drift event is stamped as the first reconcile starts."""
    # a table of its own per run, so earlier runs' fixes do not trip the circuit breaker
    env = {**emulator.env(), **settings_env(**overrides), "AzureWebJobsStorage": azurite.connection_string,
           "REMEDIATION_AUDIT_TABLE": f"pace{uuid.uuid4().hex[:12]}"}
    os.environ.update(emulator.env())
    grant(emulator, env)
    emulator.clear_requests()
    remediator = build(Settings.from_env(env)).remediator
    records: list[dict[str, Any]] = []
    drifted = dt.datetime.now(dt.UTC)
    started = time.perf_counter()
    try:
        for attempt in range(4):
            record = remediator.reconcile(parse_account_id(AOAI), Trigger.EVENT, event_time=drifted).record
            records.append(record.to_json())
            if record.outcome.value != "deferred":
                break
            time.sleep(POLL_INTERVAL_S * 2 ** attempt * scale)   # the worker's requeue delay, scaled
    finally:
        remediator.clients.close()
    return records, time.perf_counter() - started


def _counts(emulator: ArmEmulator) -> dict[str, int]:
    requests = [r for r in emulator.requests if r.kind in ("read", "write", "poll")]
    kinds = [r.kind for r in requests]
    return {"polls": kinds.count("poll"), "reads": kinds.count("read"), "writes": kinds.count("write"),
            "requests": len(requests), "429s": sum(1 for r in requests if r.status == 429),
            "403s": forbidden(requests, emulator)}


def _closed_s(records: list[dict[str, Any]], scale: float) -> str:
    closed = next((r["eventToClosedMs"] for r in records if r.get("eventToClosedMs") is not None), None)
    return "-" if closed is None else f"{closed / 1000 / scale:.0f}"


def fix_rows(emulator: ArmEmulator, azurite: Azurite) -> list[list[Any]]:
    rows = []
    for name, estate in FIXES:
        emulator.reset()
        emulator.seed(estate().scenario())
        overrides = limits_at(emulator, SCALE)
        records, wall = reconcile_until_final(emulator, azurite, overrides, SCALE)
        counts = _counts(emulator)
        rows.append([name, " → ".join(r["outcome"] for r in records), f"{wall / SCALE:.0f}",
                     _closed_s(records, SCALE), counts["polls"], counts["reads"], counts["writes"], counts["requests"],
                     counts["429s"], counts["403s"]])
    return rows


def with_pending_strangers(estate: Estate, count: int) -> Estate:
    """`count` Pending connection requests on the account from endpoints in another subscription (never read: they
    cannot sit in an allowed subnet), as an account shared with many requesters carries them."""
    for resource in estate.resources:
        if resource["id"] == AOAI:
            resource["properties"]["privateEndpointConnections"] = [{
                "name": f"stranger-{n}.{uuid.uuid5(uuid.NAMESPACE_URL, str(n))}", "properties": {
                    "privateEndpoint": {"id": f"{rg_id('rg-x', OTHER_SUBSCRIPTION)}/providers/Microsoft.Network/"
                                              f"privateEndpoints/stranger-{n}"},
                    "groupIds": ["account"],
                    "privateLinkServiceConnectionState": {"status": "Pending", "description": "please",
                                                          "actionsRequired": "None"}}} for n in range(count)]
    return estate


CLOSE_CASES = [(kind, zones, pending) for kind, zones in (("OpenAI", (OPENAI_ZONE,)), ("AIServices", AI_ZONES))
               for pending in (0, 100, 300)]


def closed_rows(emulator: ArmEmulator, azurite: Azurite) -> list[list[Any]]:
    """Drift→closed of a locked account opened again, by kind (1 or 3 zones) and Pending connections (0 to 300)."""
    rows = []
    for kind, zones, pending in CLOSE_CASES:
        emulator.reset()
        emulator.seed(with_pending_strangers(Estate().network(zones).locked(
            "aoai", kind, public_network_access="Enabled"), pending).scenario())
        overrides = limits_at(emulator, SCALE)
        records, wall = reconcile_until_final(emulator, azurite, overrides, SCALE)
        counts = _counts(emulator)
        rows.append([kind, len(zones), pending, records[-1]["outcome"], _closed_s(records, SCALE),
                     f"{wall / SCALE:.0f}", counts["reads"], counts["requests"], counts["429s"], counts["403s"]])
    return rows


def zone_limit_row(emulator: ArmEmulator, azurite: Azurite) -> list[Any]:
    """A zone at Azure's own limit (25,000 record sets, the SOA among them) and one more account to serve: its
    endpoint is made, the record its zone group needs is refused, and the app says so once, as a limit."""
    emulator.reset()
    built = Estate().network((OPENAI_ZONE,)).account("aoai")
    limit = emulator.config.dns_max_record_sets
    for n in range(limit - 1):   # other accounts' records, as many as the zone holds beside its SOA
        built.record(OPENAI_ZONE, f"other-{n:05d}", (f"10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}",))
    emulator.seed(built.scenario())
    overrides = limits_at(emulator, SCALE)
    records, wall = reconcile_until_final(emulator, azurite, overrides, SCALE)
    counts = _counts(emulator)
    groups = sum(1 for r in emulator.requests if r.kind == "write" and "/privateDnsZoneGroups/" in r.path)
    failed: dict[str, Any] = next((a for a in records[-1]["actions"] if a["status"] == "failed"), {})
    return [f"{limit:,}", " → ".join(r["outcome"] for r in records), records[-1].get("errorKind"),
            failed.get("name", "-"), groups, f"{wall / SCALE:.0f}", counts["requests"], counts["429s"]]


def throttled_sweep_row(emulator: ArmEmulator, size: int = 10_000) -> list[Any]:
    """A sweep of `size` accounts in one subscription with Resource Manager's buckets and the providers' limits on
    (their defaults, unscaled: the sweep takes no long-running operation)."""
    from remediation.arm.clients import ArmClients
    from remediation.runtime.sweep import Sweeper

    emulator.reset()
    built = Estate().network((OPENAI_ZONE,))
    for n in range(size):
        built.locked(f"aoai-{n:05d}", resource_group=f"rg-ai-{n % 5}",
                     public_network_access="Enabled" if n % 10 == 0 else "Disabled")
    emulator.seed(built.scenario())
    emulator.config.update({"throttling": True, "provider_limits": True})
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
    refused = forbidden(requests, emulator)
    if refused:
        raise RuntimeError(f"the sweep was refused {refused} requests (403)")
    app = emulator.app_identity.object_id
    return [f"{size:,}", len(flagged), len(requests), sum(1 for r in requests if r.status == 429), refused,
            f"{wall:.1f}", emulator.throttler.remaining(SUBSCRIPTION, app, "GET"), clients.pacer.waits]


def print_pace_table(emulator: ArmEmulator, azurite: Azurite) -> None:
    from tabulate import tabulate

    print(f"\nEach kind of fix at Azure's pace (scaled 1:{1 / SCALE:.0f}; durations, Retry-After and status words in "
          "localdev/arm_emulator/pace.py; buckets and provider limits on), reconciled as the queue would until its "
          "outcome is final\n")
    print(tabulate(fix_rows(emulator, azurite), tablefmt="github", disable_numparse=True, headers=[
        "fix", "outcomes", "Azure-equivalent s", "drift→closed s", "polls", "reads", "writes", "ARM requests",
        "429s", "403s"]))
    print("\nDrift→closed (the record's eventToClosedMs, Azure-equivalent s) of a locked account opened again, by the "
          "zones its kind needs and the Pending connection requests it carries from another subscription\n")
    print(tabulate(closed_rows(emulator, azurite), tablefmt="github", disable_numparse=True, headers=[
        "kind", "zones", "Pending connections", "outcome", "drift→closed s", "whole reconcile s", "reads",
        "ARM requests", "429s", "403s"]))
    print("\nA new account's DNS in a zone at its limit of record sets (Azure's figure; the emulator's answer past it "
          "is a labelled synthetic 409, the zone's own counts make it a limit)\n")
    print(tabulate([zone_limit_row(emulator, azurite)], tablefmt="github", disable_numparse=True, headers=[
        "record sets in the zone", "outcomes", "error kind", "failed action", "zone group PUTs", "Azure-equivalent s",
        "ARM requests", "429s"]))
    print("\nA sweep of one subscription against Resource Manager's token buckets (reads 250, refilling 25/s per "
          "principal; localdev/arm_emulator/throttling.py) and the providers' limits (provider_limits.py), "
          "self-paced\n")
    print(tabulate([throttled_sweep_row(emulator)], tablefmt="github", disable_numparse=True, headers=[
        "accounts", "queued", "ARM requests", "429s", "403s", "wall s", "reads left at the end", "requests held back"]))


if __name__ == "__main__":
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as scratch, Azurite(Path(scratch) / "azurite") as azurite_, \
            ArmEmulator(cert_dir=Path(scratch) / "certs") as emulator_:
        print_pace_table(emulator_, azurite_)
