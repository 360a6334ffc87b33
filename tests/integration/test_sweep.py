"""The sweep and the operator command: list requests, not reads per account, and work only where needed."""

from __future__ import annotations

import base64
import io
import json
import time
from typing import Any

import pytest
from azure.storage.queue import QueueClient

from localdev.arm_emulator import Fault
from localdev.estate import OPENAI_ZONE, OTHER_SUBNET_ID, OTHER_SUBSCRIPTION, SUBSCRIPTION, Estate, account_id, rg_id
from remediation.core.ids import parse_resource_id
from remediation.runtime.cli import main as cli
from remediation.runtime.sweep import SweepIncomplete, run_sweep
from remediation.store.storage import WORK_QUEUE
from tests.conftest import Stack
from tests.helpers.estates import FINDINGS  # the same estates, one per finding
from tests.helpers.sweeping import sweep

AOAI = account_id("aoai-prod")


# In these estates the account's DNS problem is the shared zone's, so a compliant neighbour shares it.
SHARED_DNS = {"PRIVATE_DNS_ZONE_LINK_MISSING", "PRIVATE_DNS_ZONE_MISSING"}
# A compliant neighbour under that finding's settings.
NEIGHBOUR = {"NETWORK_BYPASS_NOT_ALLOWED": {"bypass": "None"}}


@pytest.mark.parametrize("code", sorted(FINDINGS))
def test_sweep_finds_every_finding_and_queues_only_what_a_reconcile_can_fix(stack: Stack, code: str) -> None:
    estate, settings = FINDINGS[code]
    neighbour = NEIGHBOUR.get(code, {})
    stack.seed(estate() if code in SHARED_DNS else estate().locked("aoai-ok", disable_local_auth=True, **neighbour))

    [summary], queued = sweep(stack, **settings)

    assert summary.accounts == (1 if code in SHARED_DNS else 2)
    assert summary.by_finding[code] == 1
    assert queued == ([] if code == "CUSTOM_SUBDOMAIN_MISSING" else [AOAI])
    assert stack.writes() == []
    reads = [r for r in stack.arm("read") if "/accounts/" in r.path and "/providers/" in r.path]
    assert reads == [], "no read per account: accounts come from the list"


def test_compliant_estate_queues_nothing(stack: Stack) -> None:
    zones = ("privatelink.cognitiveservices.azure.com", OPENAI_ZONE, "privatelink.services.ai.azure.com")
    stack.seed(Estate().network(zones).locked("aoai-a").locked("aoai-b").locked("ais-c", "AIServices"))

    [summary], queued = sweep(stack)

    assert (summary.accounts, summary.queued, queued, dict(summary.by_finding)) == (3, 0, [], {})


def test_paging_across_pages_and_subscriptions(stack: Stack) -> None:
    estate = Estate().network((OPENAI_ZONE,))
    for n in range(7):
        estate.locked(f"aoai-{n}")
    for n in range(5):
        estate.account(f"aoai-x{n}", subscription=OTHER_SUBSCRIPTION, public_network_access="Enabled")
    stack.seed(estate)
    stack.emulator.config.page_size = 3

    # One list at a time: the subscription's list is read whole (not per resource group, as with idle threads).
    summaries, queued = sweep(stack, REMEDIATION_SCOPES=f"{rg_id('rg-ai')},/subscriptions/{OTHER_SUBSCRIPTION}",
                              REMEDIATION_SWEEP_CONCURRENCY="1")

    assert [s.accounts for s in summaries] == [7, 5]
    assert queued == sorted(account_id(f"aoai-x{n}", subscription=OTHER_SUBSCRIPTION) for n in range(5))
    lists = [r for r in stack.arm("read") if r.path.endswith("/Microsoft.CognitiveServices/accounts")]
    assert len(lists) == 3 + 2, "7 accounts in 3 pages, 5 in 2"


def test_resource_group_scope_never_lists_outside_it(stack: Stack) -> None:
    stack.seed(Estate().network((OPENAI_ZONE,)).locked("aoai-prod", public_network_access="Enabled")
               .account("aoai-else", resource_group="rg-other", public_network_access="Enabled"))

    [summary], queued = sweep(stack)

    assert summary.accounts == 1 and queued == [AOAI]
    account_lists = [r.path for r in stack.arm("read") if r.path.endswith("/accounts")]
    assert account_lists and all(p.lower().startswith(rg_id("rg-ai").lower() + "/") for p in account_lists)


def test_a_throttled_list_resumes_and_completes(stack: Stack) -> None:
    estate = Estate().network((OPENAI_ZONE,))
    for n in range(6):
        estate.locked(f"aoai-{n}", public_network_access="Enabled" if n % 2 else "Disabled")
    stack.seed(estate)
    stack.emulator.config.page_size = 2
    stack.emulator.add_fault(Fault(method="GET", path=r"/Microsoft\.CognitiveServices/accounts$", status=429,
                                   code="TooManyRequests", headers={"Retry-After": "1"}, times=1))

    [summary], queued = sweep(stack)

    assert summary.accounts == 6 and len(queued) == 3
    statuses = [r.status for r in stack.arm("read") if r.path.endswith("/accounts")]
    assert statuses == [429, 200, 200, 200]


def test_the_sweep_function_records_a_summary(stack: Stack) -> None:
    import importlib
    import sys

    from azure.functions.timer import TimerRequest

    stack.seed(Estate().network((OPENAI_ZONE,)).locked("aoai-prod", public_network_access="Enabled").locked("aoai-ok"))
    stack.apply_env()
    sys.modules.pop("function_app", None)
    app = importlib.import_module("function_app")
    stack.apps.append(app.parts())

    app.sweep(TimerRequest(past_due=False))

    [record] = app.parts().history(parse_resource_id(rg_id("rg-ai")), 5)
    assert record["trigger"] == "sweep" and record["outcome"] == "deferred"
    assert record["after"]["accountsSeen"] == 2 and record["after"]["workItemsQueued"] == 1
    assert record["findings"] == [{"code": "PUBLIC_NETWORK_ACCESS_ENABLED", "property": "accounts", "actual": 1,
                                   "expected": 0}]


def test_scan_prints_drift_and_exits_non_zero(stack: Stack) -> None:
    stack.seed(Estate().network((OPENAI_ZONE,)).locked("aoai-prod", public_network_access="Enabled").locked("aoai-ok"))
    stack.apply_env()
    out = io.StringIO()

    assert cli(["scan"], out=out) == 1

    text = out.getvalue()
    assert "aoai-prod" in text and "PUBLIC_NETWORK_ACCESS_ENABLED" in text and "aoai-ok" not in text
    assert "2 accounts scanned, 1 with drift" in text
    assert stack.writes() == []


def test_scan_json_and_exit_zero_when_all_is_locked(stack: Stack) -> None:
    stack.seed(Estate().network((OPENAI_ZONE,)).locked("aoai-ok"))
    stack.apply_env()
    out = io.StringIO()

    assert cli(["scan", "--json", "--scope", rg_id("rg-ai")], out=out) == 0

    assert json.loads(out.getvalue())["drifted"] == [] and json.loads(out.getvalue())["accounts"] == 1


def test_fix_honours_the_mode_and_reports_by_exit_status(stack: Stack) -> None:
    stack.seed(Estate().network((OPENAI_ZONE,)).locked("aoai-prod", public_network_access="Enabled"))
    stack.apply_env()
    out = io.StringIO()

    assert cli(["fix", AOAI, "--dry-run"], out=out) == 1
    assert "would-remediate" in out.getvalue() and stack.writes() == []
    assert cli(["fix", AOAI, "--json"], out=out) == 0
    assert stack.resource(AOAI)["properties"]["publicNetworkAccess"] == "Disabled"
    assert cli(["fix", "/subscriptions/not-a-guid"], out=out) == 2


def test_scan_without_scopes_is_a_settings_error(stack: Stack, capsys: pytest.CaptureFixture[str]) -> None:
    stack.apply_env(REMEDIATION_SCOPES="")
    assert cli(["scan"], out=io.StringIO()) == 2
    assert "REMEDIATION_SCOPES" in capsys.readouterr().err


def test_endpoint_drift_it_cannot_fix_is_reported_but_not_queued(stack: Stack) -> None:
    stack.seed(Estate().network((OPENAI_ZONE,)).account("aoai-prod"))

    [summary], queued = sweep(stack, REMEDIATION_PE_SUBNET_ID="")

    assert summary.by_finding["PRIVATE_ENDPOINT_MISSING"] == 1
    assert queued == [], "no subnet for a new endpoint: a reconcile could only report it again"


def _many_scopes_estate() -> tuple[Estate, str, list[str]]:
    """Twelve resource groups over two subscriptions, a third of their accounts drifted."""
    estate = Estate().network((OPENAI_ZONE,))
    drifted, scopes = [], []
    for g in range(12):
        subscription = (SUBSCRIPTION, OTHER_SUBSCRIPTION)[g % 2]
        scopes.append(rg_id(f"rg-ai-{g}", subscription))
        for n in range(3):
            name = f"aoai-{g}-{n}"
            estate.locked(name, resource_group=f"rg-ai-{g}", subscription=subscription,
                          public_network_access="Enabled" if n == 0 else "Disabled")
            if n == 0:
                drifted.append(account_id(name, f"rg-ai-{g}", subscription))
    return estate, ",".join(scopes), sorted(drifted)


def test_a_concurrent_sweep_finds_exactly_what_a_serial_one_finds(stack: Stack) -> None:
    estate, scopes, drifted = _many_scopes_estate()
    stack.seed(estate)
    stack.emulator.config.page_size = 2
    runs = {}
    for concurrency in ("1", "8"):
        summaries, queued = sweep(stack, REMEDIATION_SCOPES=scopes, REMEDIATION_SWEEP_CONCURRENCY=concurrency)
        runs[concurrency] = ([(s.scope, s.accounts, s.queued, dict(s.by_finding), s.arm_requests) for s in summaries],
                             queued)
    assert runs["1"] == runs["8"]
    summaries, queued = runs["8"]
    assert queued == drifted
    assert [s[0] for s in summaries] == scopes.split(",")  # one summary per scope, in the scopes' order
    # each scope's requests are its own two pages of accounts; the shared lists are counted with the first
    assert all(s[4] == 2 for s in summaries[1:]) and summaries[0][4] > 2


def test_a_first_run_with_only_scopes_flags_exactly_the_drifted_accounts(stack: Stack) -> None:
    estate = Estate().network((OPENAI_ZONE,))
    estate.locked("aoai-locked").locked("aoai-open", public_network_access="Enabled")
    estate.account("aoai-no-endpoint")  # no connection at all: a real finding
    estate.account("aoai-spoke").endpoint(account_id("aoai-spoke"), subnet=OTHER_SUBNET_ID)  # any subnet serves
    stack.seed(estate)
    env = {"REMEDIATION_SCOPES": rg_id("rg-ai"), "REMEDIATION_PE_SUBNET_ID": "",
           "REMEDIATION_DNS_ZONE_RESOURCE_GROUP_ID": ""}

    summaries, queued = sweep(stack, **env)

    assert queued == [account_id("aoai-open")]  # endpoint findings it cannot fix are reported, not queued
    out = io.StringIO()
    assert cli(["scan", "--json"], out) == 1
    report = json.loads(out.getvalue())
    assert report["endpointChecks"] == "off"
    assert {row["resourceId"]: row["findings"] for row in report["drifted"]} == {
        account_id("aoai-open"): ["PUBLIC_NETWORK_ACCESS_ENABLED"],
        account_id("aoai-no-endpoint"): ["PRIVATE_ENDPOINT_MISSING"]}
    assert stack.writes() == [] and not any("privateEndpoints" in r.path for r in stack.arm("read"))
    text = io.StringIO()
    cli(["scan"], text)
    assert "Endpoint checks are off: no subnet is configured" in text.getvalue()


def test_a_list_read_ahead_yields_every_item_counts_its_requests_here_and_stops_when_the_reader_does(
        stack: Stack) -> None:
    import threading

    from remediation.arm.clients import COGNITIVE_API_VERSION

    estate = Estate().network((OPENAI_ZONE,))
    for n in range(9):
        estate.account(f"aoai-{n}")
    stack.seed(estate)
    stack.emulator.config.page_size = 2
    clients = stack.remediator().clients
    path = f"{rg_id('rg-ai')}/providers/Microsoft.CognitiveServices/accounts"

    before = clients.thread_request_count
    names = [a["name"] for a in clients.list_json(path, COGNITIVE_API_VERSION, read_ahead=True)]
    assert names == [a["name"] for a in clients.list_json(path, COGNITIVE_API_VERSION)]
    assert len(names) == 9
    assert clients.thread_request_count - before == 5 + 5  # five pages each way, all counted in this thread

    reader = clients.list_json(path, COGNITIVE_API_VERSION, read_ahead=True)
    next(reader)
    reader.close()  # the reader stops after one item: the fetching stops too
    deadline = time.monotonic() + 5
    while any(t.name == "arm-read-ahead" for t in threading.enumerate()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(t.name == "arm-read-ahead" for t in threading.enumerate())


@pytest.mark.parametrize("failing", ["endpoint list", "zone list"])
def test_a_failing_list_still_queues_the_open_account_and_fails_the_run_loudly(stack: Stack, failing: str) -> None:
    """A shared list that fails (a 503 past the retries) leaves the accounts screened on their own properties:
    the open one is queued, the compliant one is not judged on what the failed list would have told."""
    stack.seed(Estate().network((OPENAI_ZONE,)).locked("aoai-prod", public_network_access="Enabled")
               .locked("aoai-ok"))
    path = "/providers/Microsoft.Network/privateEndpoints$" if failing == "endpoint list" else "/virtualNetworkLinks$"
    stack.emulator.add_fault(Fault(method="GET", path=path, status=503, times=None))
    app = stack.app()
    assert app.stored is not None
    app.stored.storage.queue(WORK_QUEUE).clear_messages()  # the app's own client creates the queue
    queue = QueueClient.from_connection_string(stack.azurite.connection_string, WORK_QUEUE)

    with pytest.raises(SweepIncomplete, match="503"):
        run_sweep(app.remediator, app.stored.queue)

    queued = [json.loads(base64.b64decode(m.content))["resource_id"] for m in queue.receive_messages(max_messages=32)]
    assert queued == [AOAI]
    [record] = app.history(parse_resource_id(rg_id("rg-ai")), 5)
    assert record["outcome"] == "failed" and "503" in record["error"]


def _two_group_subscription(stack: Stack) -> list[str]:
    """Nine accounts over two resource groups of the other subscription (page size 2: five pages whole), three
    of them open; the drifted accounts' IDs."""
    estate = Estate().network((OPENAI_ZONE,))
    drifted = []
    for n in range(9):
        group = f"rg-ai-{n % 2}"
        estate.locked(f"aoai-{n}", resource_group=group, subscription=OTHER_SUBSCRIPTION,
                      public_network_access="Enabled" if n % 3 == 0 else "Disabled")
        if n % 3 == 0:
            drifted.append(account_id(f"aoai-{n}", group, OTHER_SUBSCRIPTION))
    stack.seed(estate)
    stack.emulator.config.page_size = 2
    return sorted(drifted)


def test_a_long_subscription_list_is_read_per_resource_group_side_by_side(stack: Stack) -> None:
    """Its first page has a nextLink and threads are idle: the subscription's resource groups are listed and each
    group's accounts read as a chain of its own; every account is screened once, with the app's own rights."""
    from remediation.runtime.sweep import Sweeper

    drifted = _two_group_subscription(stack)
    app = stack.app(REMEDIATION_SCOPES=f"/subscriptions/{OTHER_SUBSCRIPTION}")
    sweeper = Sweeper(app.remediator.clients, app.remediator.settings)
    seen: list[str] = []

    [summary] = sweeper.run(enqueue=None, each=lambda s: seen.append(str(s.account.id).lower()))

    assert summary.accounts == 9 and sorted(seen) == sorted(set(seen)), "every account screened once"
    assert summary.by_finding["PUBLIC_NETWORK_ACCESS_ENABLED"] == len(drifted) and summary.errors == []
    reads = [r for r in stack.arm("read") if r.caller and r.status != 404]
    assert [r.status for r in reads if r.status >= 400] == [], "the accounts role lists the resource groups"
    chains = {c.name: c.pages for c in sweeper.chains}
    subscription = f"/subscriptions/{OTHER_SUBSCRIPTION}"
    assert chains[f"accounts of {subscription}"] == 1 and chains[f"resource groups of {subscription}"] >= 1
    # rg-ai-0 holds 5 accounts (3 pages), rg-ai-1 4 (2 pages); the other groups of the estate none (1 page each)
    assert chains[f"accounts of {rg_id('rg-ai-0', OTHER_SUBSCRIPTION)}"] == 3
    assert chains[f"accounts of {rg_id('rg-ai-1', OTHER_SUBSCRIPTION)}"] == 2
    own = [r for r in stack.emulator.requests if r.kind == "read" and
           r.path.lower().endswith(("/microsoft.cognitiveservices/accounts", "/resourcegroups"))]
    assert sum(c.requests for c in sweeper.chains if not c.shared) == len(own), "each request counted once"
    assert summary.arm_requests == sum(c.requests for c in sweeper.chains)  # the first scope has the shared lists


def test_a_refused_resource_group_list_reads_the_subscription_whole(stack: Stack) -> None:
    """A deployment whose role predates `resourceGroups/read` gets a 403 for the groups: the subscription's own
    chain goes on, every account is screened, and the run is not a failed one."""
    drifted = _two_group_subscription(stack)
    stack.emulator.add_fault(Fault(method="GET", path=r"/resourcegroups$", status=403, code="AuthorizationFailed",
                                   times=None))

    summaries, queued = sweep(stack, REMEDIATION_SCOPES=f"/subscriptions/{OTHER_SUBSCRIPTION}")

    assert [s.accounts for s in summaries] == [9] and summaries[0].errors == []
    assert queued == drifted
    lists = [r for r in stack.arm("read") if r.path.endswith(f"/subscriptions/{OTHER_SUBSCRIPTION}/providers/"
                                                                 "Microsoft.CognitiveServices/accounts")]
    assert len(lists) == 5, "nine accounts in five pages, the subscription's own chain"


def test_the_heartbeat_and_the_scan_name_each_list_its_pages_and_the_longest_chain(
        stack: Stack, caplog: pytest.LogCaptureFixture) -> None:
    import logging

    from remediation.core.telemetry import HEARTBEAT_PREFIX, parse_line

    estate = Estate().network((OPENAI_ZONE,))
    for n in range(7):
        estate.locked(f"aoai-{n}")
    stack.seed(estate)
    stack.emulator.config.page_size = 2

    with caplog.at_level(logging.INFO, logger="remediation"):
        sweep(stack)
    [beat] = [f for r in caplog.records if (f := parse_line(r.getMessage(), HEARTBEAT_PREFIX))]
    # 7 accounts, their 7 endpoints and 7 A records (+ SOA) in pages of 2: each of these lists takes 4 pages
    assert beat["longestChainPages"] == 4
    assert beat["longestChain"].startswith(("accounts of", "records of", "endpoints of"))
    assert beat["longestChainMs"] >= 0 and beat["lists"] >= 4
    pages = [r for r in stack.arm("read") if r.status == 200]  # the absent zones' 404s are lists of no page
    assert beat["listPages"] == len(pages), "every page of every list, once"

    out = io.StringIO()
    cli(["scan", "--json"], out)
    report = json.loads(out.getvalue())
    chains = {c["list"]: c for c in report["chains"]}
    assert chains[f"accounts of {rg_id('rg-ai')}"]["pages"] == 4
    assert chains[f"records of {OPENAI_ZONE}"]["pages"] == 4
    assert report["longestChain"]["pages"] == 4
    assert sum(c["requests"] for c in report["chains"]) == report["armRequests"]


def test_accounts_listed_before_the_inventory_are_held_then_screened() -> None:
    """The hold: accounts wait for the inventory up to its limit; a list finding it full waits, and everything
    held is handed over once, after which accounts are screened as they come."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from remediation.runtime.sweep import SweepSummary, _Run

    summary = SweepSummary("/subscriptions/x")
    accounts: list[Any] = [object() for _ in range(5)]
    with ThreadPoolExecutor(1) as pool:
        run = _Run(pool, held=3)
        assert run.hold(summary, accounts[:3])  # held: the inventory is not complete
        blocked = threading.Thread(target=run.hold, args=(summary, accounts[3:4]))
        blocked.start()
        blocked.join(0.2)
        assert blocked.is_alive(), "a full hold waits for the inventory"
        held = run.release()
        blocked.join(2)
        assert not blocked.is_alive()
        assert [a for _, a in held] == accounts[:3]
        assert not run.hold(summary, accounts[4:]), "after the release, accounts are screened as they come"
