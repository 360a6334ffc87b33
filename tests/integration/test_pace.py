"""The app at Azure's pace (scaled 1:50): operations take as long as Azure's, accounts settle in Accepted,
private DNS answers 202 and reports failures through its operations, Resource Manager throttles.

Each reconcile goes through the app's public entry point, `Remediator(settings).reconcile(...)`, with
the poll interval and ready timeout scaled by the same factor from the app's production defaults.
"""

from __future__ import annotations

import time
from typing import Any

from localdev.arm_emulator import EmulatorConfig
from localdev.estate import (
    DNS_RG_ID,
    OPENAI_ZONE,
    SUBNET_ID,
    VNET_ID,
    ZONES_BY_KIND,
    Estate,
    account_id,
    rg_id,
    zone_id,
)
from remediation.core.ids import parse_account_id
from remediation.core.model import Trigger
from remediation.core.naming import private_endpoint_name
from tests.conftest import Stack

SCALE = 0.02  # 1:50
# The app's production defaults (remediation/settings.py), in seconds at Azure's pace.
POLL_INTERVAL_S = 5.0
READY_TIMEOUT_S = 60.0
AOAI = account_id("aoai")
AI_ZONES = ZONES_BY_KIND["AIServices"]


def at_azure_pace(stack: Stack, scale: float = SCALE) -> dict[str, str]:
    stack.emulator.config.update(EmulatorConfig.azure_pace(scale))
    return {"REMEDIATION_POLL_INTERVAL_SECONDS": str(POLL_INTERVAL_S * scale),
            "REMEDIATION_READY_TIMEOUT_SECONDS": str(READY_TIMEOUT_S * scale)}


def converge(stack: Stack, account: str = AOAI, attempts: int = 4, **settings: str) -> list[dict[str, Any]]:
    """Reconcile until the outcome is final, waiting between deferrals as the queue would (scaled)."""
    remediator = stack.remediator(**settings)
    records = []
    for attempt in range(attempts):
        result = remediator.reconcile(parse_account_id(account), Trigger.HTTP)
        assert result.audit_errors == []
        records.append(result.record.to_json())
        if records[-1]["outcome"] != "deferred":
            break
        # the worker's requeue delay for a deferral (remediation/pipeline.py), scaled
        time.sleep(POLL_INTERVAL_S * 2 ** attempt * SCALE)
    return records


def assert_locked_with_dns(stack: Stack, account: str = AOAI) -> None:
    props = stack.resource(account)["properties"]
    assert props["provisioningState"] in ("Succeeded", "Accepted")
    [connection] = props["privateEndpointConnections"]
    assert connection["properties"]["privateLinkServiceConnectionState"]["status"] == "Approved"
    pe_id = f"{rg_id('rg-network')}/providers/Microsoft.Network/privateEndpoints/" \
            f"{private_endpoint_name(parse_account_id(account))}"
    assert connection["properties"]["privateEndpoint"]["id"].lower() == pe_id.lower()
    group = stack.resource(f"{pe_id}/privateDnsZoneGroups/default")
    assert {c["properties"]["privateDnsZoneId"].lower() for c in group["properties"]["privateDnsZoneConfigs"]} == \
        {zone_id(z).lower() for z in AI_ZONES}
    for zone in AI_ZONES:
        links = [r for r in stack.emulator.resources("Microsoft.Network/privateDnsZones/virtualNetworkLinks")
                 if r["id"].lower().startswith(zone_id(zone).lower() + "/")]
        assert [link["properties"]["virtualNetwork"]["id"] for link in links] == [VNET_ID]
        assert stack.resource(f"{zone_id(zone)}/A/aoai")["properties"]["aRecords"]


def test_full_endpoint_and_dns_build_of_an_aiservices_account_converges(stack: Stack) -> None:
    stack.seed(Estate().network().account("aoai", "AIServices"))
    settings = at_azure_pace(stack)
    started = time.monotonic()

    records = converge(stack, **settings)

    outcomes = [r["outcome"] for r in records]
    assert outcomes.count("deferred") <= 1 and outcomes[-1] == "remediated", records
    assert_locked_with_dns(stack)
    # Azure's pace really applied: three zones, three links, the endpoint and its zone group, one after another.
    floor = sum(d.seconds for k, d in _durations().items() if k in (
        "privateDnsZone/write", "virtualNetworkLink/write", "privateEndpoint/create")) * SCALE
    assert time.monotonic() - started >= floor
    writes = [r for r in stack.writes()]
    assert sorted({r.path.rsplit("/", 2)[-2] for r in writes}) == ["privateDnsZoneGroups", "privateDnsZones",
                                                                  "privateEndpoints", "virtualNetworkLinks"]
    assert [r["outcome"] for r in converge(stack, **settings)] == ["compliant"]


def test_drifted_account_settles_before_its_endpoint_is_built(stack: Stack) -> None:
    """The account's own PATCH leaves it Accepted for its duration and settle time (60 s at Azure's pace,
    as long as the app's ready timeout): the endpoint is written only once it is ready again."""
    stack.seed(Estate().network(AI_ZONES).account("aoai", "AIServices", public_network_access="Enabled",
                                                   default_action="Allow"))
    settings = at_azure_pace(stack)

    records = converge(stack, **settings)

    outcomes = [r["outcome"] for r in records]
    assert outcomes.count("deferred") <= 1 and outcomes[-1] == "remediated", records
    assert stack.resource(AOAI)["properties"]["publicNetworkAccess"] == "Disabled"
    assert_locked_with_dns(stack)
    refused = [r for r in stack.arm("write") if r.status in (400, 409)]
    assert refused == [], [(r.method, r.path, r.status) for r in refused]


def test_throttled_reads_are_waited_out_not_failed(stack: Stack, monkeypatch: Any) -> None:
    """A subscription whose read bucket is nearly empty, self-pacing off: the app's reads meet 429 with Retry-After,
    and the reconcile still finishes (azure-core honours Retry-After)."""
    import remediation.arm.clients

    monkeypatch.setattr(remediation.arm.clients, "SELF_PACING", False)
    stack.seed(Estate().network(("privatelink.openai.azure.com",)).locked("aoai"))
    stack.emulator.config.update({"read_bucket": 2, "read_refill": 2.0})
    record = stack.remediator().reconcile(parse_account_id(AOAI), Trigger.HTTP).record.to_json()
    assert record["outcome"] == "compliant"
    assert any(r.status == 429 for r in stack.arm("read"))
    assert stack.emulator.throttler.throttled >= 1


def test_self_paced_reads_slow_down_before_they_are_throttled(stack: Stack) -> None:
    """The same nearly empty bucket, self-pacing on: the first answer shows the bucket low, the app waits for its
    refill before each read, and Resource Manager never has to refuse one."""
    stack.seed(Estate().network(("privatelink.openai.azure.com",)).locked("aoai"))
    stack.emulator.config.update({"read_bucket": 4, "read_refill": 4.0})
    started = time.monotonic()
    remediator = stack.remediator()
    record = remediator.reconcile(parse_account_id(AOAI), Trigger.HTTP).record.to_json()
    assert record["outcome"] == "compliant"
    reads = stack.arm("read")
    assert len(reads) >= 5 and not any(r.status == 429 for r in reads)
    assert stack.emulator.throttler.throttled == 0 and remediator.clients.pacer.waits > 0
    assert time.monotonic() - started >= (len(reads) - 4) / 4.0 * 0.5   # held back for the refill


def _polls_per_operation(stack: Stack) -> dict[str, int]:
    """Polls of each operation's status URL, by the kind of operation (the URL's provider part)."""
    counts: dict[str, int] = {}
    for request in stack.arm("poll"):
        for marker in ("/Microsoft.Network/locations/", "/privateDnsOperationStatuses/", "/operationResults/"):
            if marker in request.path:
                counts[request.path] = counts.get(request.path, 0) + 1
    return counts


def test_operations_are_polled_at_their_retry_after_not_the_apps_interval(stack: Stack) -> None:
    """azure-core's pollers wait an operation's Retry-After when it sends one (LROBasePolling._extract_delay): with
    the app's own interval far shorter, Network's operations are polled about every 10 s (scaled) and Private DNS's
    every 30 s, so a 40 s endpoint costs 4-5 polls and a 60 s link 2-3. Cognitive Services sends none: its 31 s
    update is polled at the app's interval."""
    stack.seed(Estate().network().account("aoai", public_network_access="Enabled"))
    settings = at_azure_pace(stack)
    settings["REMEDIATION_POLL_INTERVAL_SECONDS"] = "0.05"   # 2.5 s at Azure's pace: what the pollers would use

    records = converge(stack, **settings)

    assert records[-1]["outcome"] == "remediated", records
    polls = _polls_per_operation(stack)
    by_kind = {kind: [n for path, n in polls.items() if marker in path] for kind, marker in (
        ("network", "/Microsoft.Network/locations/"), ("dns", "/privateDnsOperationStatuses/"),
        ("account", "/Microsoft.CognitiveServices/"))}
    durations = _durations()
    endpoint = durations["privateEndpoint/create"].seconds
    assert by_kind["network"] and max(by_kind["network"]) <= endpoint / 10 + 2   # not 40 / 2.5 = 16
    link = durations["virtualNetworkLink/write"].seconds
    assert by_kind["dns"] and max(by_kind["dns"]) <= link / 30 + 2               # not 60 / 2.5 = 24
    update = durations["account/update"].seconds
    assert by_kind["account"] and max(by_kind["account"]) >= update / 2.5 / 2   # the app's own interval


def test_an_account_accepted_for_minutes_converges_within_the_deferrals(stack: Stack) -> None:
    """After its close the account stays Accepted for ten minutes (the longest reported, pace.ACCEPTED_FOR_MINUTES_S),
    far past the ready timeout: each reconcile defers, the queue puts it back with the worker's growing delay
    (core/retry.py, from the 5 s poll interval: 5, 10, 20 … s), and it converges before the item would be given up.
    Scaled 1:500, the requeue delays too (the worker's one-second floor would distort them at this scale)."""
    from localdev.arm_emulator.pace import ACCEPTED_FOR_MINUTES_S
    from remediation.core.retry import MAX_ATTEMPTS, GiveUp, RequeueAfter, disposition

    scale = 0.002
    stack.seed(Estate().network((OPENAI_ZONE,)).account("aoai", public_network_access="Enabled"))
    settings = at_azure_pace(stack, scale)
    stack.emulator.config.durations = {"account/update:settle": ACCEPTED_FOR_MINUTES_S}
    remediator = stack.remediator(**settings)
    outcomes, attempt = [], 0
    while True:
        result = remediator.reconcile(parse_account_id(AOAI), Trigger.EVENT)
        outcomes.append(result.record.outcome.value)
        step = disposition(result.verdict, audit_errors=result.audit_errors, attempt=attempt, dequeue_count=1,
                           poll_interval=POLL_INTERVAL_S)
        assert not isinstance(step, GiveUp), outcomes
        if not isinstance(step, RequeueAfter):
            break
        time.sleep(step.seconds * scale)
        attempt = step.attempt
    assert outcomes[-1] == "remediated" and 4 <= outcomes.count("deferred") < MAX_ATTEMPTS, outcomes
    assert stack.resource(AOAI)["properties"]["publicNetworkAccess"] == "Disabled"
    assert [w.method for w in stack.writes()].count("PATCH") == 1   # closed once; nothing refused or repeated


def _durations() -> dict[str, Any]:
    from localdev.arm_emulator.pace import DURATIONS

    return DURATIONS


# --- errors Azure reports through a failed operation, as the app meets them at Azure's pace --------------
# (at 1:200: these need Azure's answers, not the 1:50 timing the tests above measure)
ERRORS_SCALE = 0.005

def _reconcile(stack: Stack, **settings: str) -> dict[str, Any]:
    result = stack.remediator(**settings).reconcile(parse_account_id(AOAI), Trigger.HTTP)
    assert result.audit_errors == []
    return result.record.to_json()


def _link_puts(stack: Stack) -> list[Any]:
    return [r for r in stack.writes() if r.method == "PUT" and "/virtualnetworklinks/" in r.path.lower()]


def test_vnet_linked_to_a_same_named_zone_elsewhere_fails_once_per_reconcile(stack: Stack) -> None:
    """Someone's own zone of the same name is already linked to the hub VNet: Azure fails the app's link
    operation with BadRequest ("overlapping namespaces"). The record carries Azure's message, the
    outcome is failed (not deferred as busy), and the link is tried once per reconcile, not in a loop."""
    other_zone = f"{rg_id('rg-dns-other')}/providers/Microsoft.Network/privateDnsZones/privatelink.openai.azure.com"
    stack.seed(Estate().network().account("aoai", "AIServices")
               .add({"id": other_zone, "location": "global"})
               .add({"id": f"{other_zone}/virtualNetworkLinks/theirs", "location": "global",
                     "properties": {"virtualNetwork": {"id": VNET_ID}, "registrationEnabled": False}}))
    settings = at_azure_pace(stack, ERRORS_SCALE)

    record = _reconcile(stack, **settings)

    assert record["outcome"] == "failed"
    assert "A virtual network cannot be linked to multiple zones with overlapping namespaces" in record["error"]
    failed = [a for a in record["actions"] if a["status"] == "failed"]
    assert [a["name"] for a in failed] == ["create-private-dns-zone-link"]
    assert len(_link_puts(stack)) == 3   # one per zone; the failing one is not retried within the reconcile
    assert _reconcile(stack, **settings)["outcome"] == "failed"
    assert len(_link_puts(stack)) == 4   # and once more on the next reconcile


def test_duplicate_link_conflict_is_recorded_not_deferred_as_busy(stack: Stack) -> None:
    """Someone links the hub VNet to the app's zone under another name while the app is building: Azure
    fails the app's link operation with Conflict. That is not a busy account."""
    stack.seed(Estate().network(AI_ZONES, linked=False).account("aoai", "AIServices"))
    settings = at_azure_pace(stack, ERRORS_SCALE)
    linked: list[str] = []

    def someone_links_the_vnet(event: Any) -> None:
        if not linked and event.method == "PUT":
            linked.append(event.resource_id)
            stack.emulator.seed({"resources": [{
                "id": f"{zone_id('privatelink.openai.azure.com')}/virtualNetworkLinks/someone-else",
                "location": "global",
                "properties": {"virtualNetwork": {"id": VNET_ID}, "registrationEnabled": False}}]})

    stack.emulator.on_write(someone_links_the_vnet)
    try:
        record = _reconcile(stack, **settings)
    finally:
        stack.emulator.off_write(someone_links_the_vnet)

    assert linked, "the race was not staged"
    assert record["outcome"] != "deferred"
    assert "is already linked to the virtual network" in (record["error"] or "")


def test_zone_made_by_someone_else_meanwhile_counts_as_there(stack: Stack) -> None:
    """Someone creates the zones the app is about to create: Azure fails the app's create-only PUTs'
    operations with PreconditionFailed, which means the zone is there, the state the app wants."""
    stack.seed(Estate().network().account("aoai", "AIServices"))
    settings = at_azure_pace(stack, ERRORS_SCALE)
    made: list[str] = []

    def someone_makes_the_zones(event: Any) -> None:
        if not made and event.method == "PUT" and "/privatednszones/" in event.resource_id.lower():
            made.append(event.resource_id)
            stack.emulator.seed({"resources": [{"id": zone_id(z), "location": "global"} for z in AI_ZONES[1:]]})

    stack.emulator.on_write(someone_makes_the_zones)
    try:
        record = _reconcile(stack, **settings)
    finally:
        stack.emulator.off_write(someone_makes_the_zones)

    assert made, "the race was not staged"
    assert record["outcome"] == "remediated", record["error"]


# --- nextLink with the default port spelled out -------------------------------------------------------------



def test_scan_follows_a_next_link_that_spells_out_the_default_port(emulator_on_443: Any) -> None:
    """Azure has been seen writing nextLink as https://management.azure.com:443/…: same scheme, host and
    port as the configured https://management.azure.com, so the scan must follow it."""
    import json
    import os
    import subprocess
    import sys

    from localdev.estate import SUBSCRIPTION

    estate = Estate().network(("privatelink.openai.azure.com",))
    for n in range(3):
        estate.locked(f"aoai-{n}", public_network_access="Enabled")
    emulator_on_443.seed(estate.scenario())
    emulator_on_443.config.update({"page_size": 1, "explicit_port_links": True})
    env = {**os.environ, **emulator_on_443.env(), "REMEDIATION_SCOPES": f"/subscriptions/{SUBSCRIPTION}",
           "REMEDIATION_PE_SUBNET_ID": SUBNET_ID, "REMEDIATION_DNS_ZONE_RESOURCE_GROUP_ID": DNS_RG_ID}
    assert env["REMEDIATION_ARM_ENDPOINT"] == "https://127.0.0.1"
    done = subprocess.run([sys.executable, "-m", "remediation", "scan", "--json"], env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 1, done.stderr   # drift found: every account has public access on
    assert json.loads(done.stdout)["accounts"] == 3
