"""`make demo`: the whole loop on a laptop, no Azure needed.

Starts Azurite and the ARM emulator, seeds a small estate, reconciles each account through the
HTTP function exactly as `POST /api/remediate` would, and prints what was found, what was done and
the state the accounts end in. Then the live loop: a person breaks two accounts, the emulator turns
every write into an ARM event, and the app puts both back on its own. It ends with `python -m remediation report`
on the audit table: the exposures closed and how long each lasted.
"""

from __future__ import annotations

import datetime as dt
import importlib
import json
import logging
import os
import shutil
import sys
import threading
import time
from pathlib import Path
from typing import Any

import azure.functions as func
from tabulate import tabulate

from localdev.arm_emulator import ArmEmulator
from localdev.arm_events import EventRouter
from localdev.azurite import Azurite
from localdev.dns_server import DnsServer
from localdev.estate import OPENAI_ZONE, VNET_ID, Estate, account_id, rg_id, settings_env, zone_id
from localdev.functions_host import LocalHost
from localdev.lookup import lookup, show
from localdev.person import DANA, write_as
from localdev.rights import enforce as enforce_rights
from remediation.core.ids import parse_account_id
from remediation.core.operations import WATCHED_OPERATIONS
from remediation.runtime.cli import main as report

STATE_DIR = Path(".localdev")
# within REMEDIATION_EXEMPT_MAX_DAYS
EXEMPT_UNTIL = (dt.datetime.now(dt.UTC).date() + dt.timedelta(days=30)).isoformat()

ACCOUNTS = [
    ("aoai-prod", "OpenAI drifted: public access and default Allow turned back on"),
    ("aoai-chat", "OpenAI already locked down"),
    ("ais-agents", "AIServices without a private endpoint or DNS"),
    ("aoai-lab", "OpenAI drifted, tagged remediation-exempt=<a date 30 days ahead>: recorded, not fixed"),
    ("aoai-sandbox", "OpenAI in rg-sandbox, outside REMEDIATION_SCOPES"),
]


def estate() -> Estate:
    return (Estate()
            .network((OPENAI_ZONE,))
            .locked("aoai-prod", public_network_access="Enabled", default_action="Allow", ip_rules=("203.0.113.7",))
            .locked("aoai-chat")
            .account("ais-agents", "AIServices")
            .account("aoai-lab", public_network_access="Enabled", default_action="Allow",
                     tags={"remediation-exempt": EXEMPT_UNTIL, "owner": "research"})
            .account("aoai-sandbox", resource_group="rg-sandbox", public_network_access="Enabled"))


def step(text: str) -> float:
    print(f"• {text}…", end=" ", flush=True)
    return time.monotonic()


def done(started: float, extra: str = "") -> None:
    print(f"ok ({time.monotonic() - started:.1f} s){' ' + extra if extra else ''}", flush=True)


def resource_group_of(name: str) -> str:
    return "rg-sandbox" if name == "aoai-sandbox" else "rg-ai"


def remediate(app: Any, account: str) -> tuple[int, dict[str, Any]]:
    body = json.dumps({"resourceId": account}).encode()
    response = app.remediate(func.HttpRequest(method="POST", url="/api/remediate", body=body))
    return response.status_code, json.loads(response.get_body())


def _counted(items: list[str]) -> str:
    """One line per distinct item, `×n` when it repeats (three zones, three links)."""
    counts = {item: items.count(item) for item in items}
    return "\n".join(f"{item} ×{n}" if n > 1 else item for item, n in counts.items()) or "-"


def summarize(name: str, status: int, body: dict[str, Any], writes: int) -> list[str]:
    if status != 200:
        return [name, "-", f"{status} {body['error']['code']}", "-", "-", str(writes)]
    findings = _counted([f["code"] for f in body["findings"]])
    actions = _counted([f"{a['name']}: {a['status']}" for a in body["actions"]])
    return [name, body.get("kind") or "-", body["outcome"], findings, actions, str(writes)]


def final_state(emulator: ArmEmulator) -> list[list[str]]:
    rows = []
    for name, _ in ACCOUNTS:
        account = emulator.get(account_id(name, resource_group_of(name))) or {}
        props = account.get("properties", {})
        connections = [c["properties"]["privateLinkServiceConnectionState"]["status"]
                       for c in props.get("privateEndpointConnections") or []]
        default_action = (props.get("networkAcls") or {}).get("defaultAction", "-")
        rows.append([name, props.get("publicNetworkAccess", "-"), default_action, ", ".join(connections) or "none"])
    return rows


class _Ignored(logging.Handler):
    """Counts the events the app ignored as its own writes (it logs each with its reason)."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.own_writes = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.own_writes += "ignored: own-write" in record.getMessage()


def _wait(check: Any, timeout: float = 30) -> float:
    started = time.monotonic()
    while not check():
        if time.monotonic() - started > timeout:
            raise TimeoutError("the app did not restore the account in time")
        time.sleep(0.02)
    return time.monotonic() - started


def _dns_scene(emulator: ArmEmulator, router: EventRouter, deliver: Any, holding: threading.Event,
               held: list[dict[str, Any]]) -> None:
    """The manual procedure's last step, automated: aoai-prod's name looked up from the hub network before
    a person repoints its A record, after (its event held back, as if Event Grid were slow), and after the
    app's repair."""
    prod = account_id("aoai-prod")
    record = f"{zone_id(OPENAI_ZONE)}/A/aoai-prod"
    with DnsServer(emulator, VNET_ID) as dns:
        print(f"\n  The hub network's resolver on {dns.address} (the local DNS server, reading the emulator):")
        show("  nslookup aoai-prod.openai.azure.com, locked down", emulator, dns, prod)
        print(f"\n• {DANA['name']} repoints aoai-prod's A record at 10.2.0.66, a host in the workload subnet…")
        holding.set()
        write_as(emulator, "PUT", record, {"properties": {"ttl": 10, "aRecords": [{"ipv4Address": "10.2.0.66"}]}},
                 api_version="2024-06-01")
        router.drain(10)
        show("  nslookup aoai-prod.openai.azure.com, after the change (its event not delivered yet)", emulator, dns,
             prod)
        holding.clear()
        for event in held:
            deliver(event)
        took = _wait(lambda: lookup(emulator, dns, prod).ok)
        show(f"  nslookup aoai-prod.openai.azure.com, after the app's repair ({took * 1000:.0f} ms after the event)",
             emulator, dns, prod)
        print()


def live_loop(app: Any, emulator: ArmEmulator, azurite: Azurite) -> None:
    """Event Grid → on_resource_event → remediation-work → process_work_item, with a person breaking things."""
    print("\nLive loop: Event Grid events from every write, the queue worker running\n")
    host = LocalHost(app, azurite.connection_string).start()
    held: list[dict[str, Any]] = []  # events Event Grid has not delivered yet (while `holding` is set)
    holding = threading.Event()

    def deliver(event: dict[str, Any]) -> None:
        if holding.is_set():
            held.append(event)
        else:
            host.deliver(event)

    router = EventRouter(emulator, deliver, operations=WATCHED_OPERATIONS).start()
    ignored = _Ignored()
    logging.getLogger("remediation.events").addHandler(ignored)
    logging.getLogger("remediation.events").setLevel(logging.INFO)
    prod, chat = account_id("aoai-prod"), account_id("aoai-chat")
    chat_endpoint = f"{rg_id('rg-network')}/providers/Microsoft.Network/privateEndpoints/pe-aoai-chat-existing"
    try:
        print(f"• {DANA['name']} <{DANA['upn']}> turns public network access back on for aoai-prod…", end=" ")
        write_as(emulator, "PATCH", prod, {"properties": {"publicNetworkAccess": "Enabled"}})
        took = _wait(lambda: (emulator.get(prod) or {}).get("properties", {}).get("publicNetworkAccess") == "Disabled")
        print(f"locked again {took * 1000:.0f} ms later")

        print(f"• {DANA['name']} deletes the private endpoint of aoai-chat…", end=" ")
        write_as(emulator, "DELETE", chat_endpoint, api_version="2024-05-01")
        took = _wait(lambda: any(
            c["properties"]["privateLinkServiceConnectionState"]["status"] == "Approved"
            for c in (emulator.get(chat) or {}).get("properties", {}).get("privateEndpointConnections") or []))
        print(f"a new endpoint serves it {took * 1000:.0f} ms later")
        _dns_scene(emulator, router, deliver, holding, held)
        router.drain(10)
        host.stop()
        host.drain(10)
        print(f"• The app's own fixes came back as {ignored.own_writes} events; each was ignored as its own write "
              "(no Resource Manager call)\n")
    finally:
        router.stop()
        host.stop()
        logging.getLogger("remediation.events").removeHandler(ignored)

    rows = []
    for name in ("aoai-prod", "aoai-chat"):
        for record in reversed(app.parts().history(parse_account_id(account_id(name)), 5)):
            rows.append([name, record["time"][11:23], record["trigger"], (record["actor"] or {}).get("upn", "-"),
                         _counted([f["code"] for f in record["findings"]]), record["outcome"]])
    print("Audit history (GET /api/remediations)\n")
    print(tabulate(rows, headers=["account", "time", "trigger", "actor", "findings", "outcome"], tablefmt="simple"))


def main() -> int:
    STATE_DIR.mkdir(exist_ok=True)
    print("Private network remediation: local demo\n")
    started = step("Starting Azurite (queues and tables)")
    shutil.rmtree(STATE_DIR / "azurite-demo", ignore_errors=True)  # a fresh estate has no audit history
    azurite = Azurite(STATE_DIR / "azurite-demo")
    azurite.start()
    done(started)
    started = step("Starting the ARM emulator (HTTPS, managed identity)")
    emulator = ArmEmulator(cert_dir=STATE_DIR / "certs")
    emulator.start()
    done(started, emulator.url)
    try:
        started = step("Seeding the estate")
        emulator.seed(estate().scenario())
        done(started, f"{len(ACCOUNTS)} accounts")
        for name, description in ACCOUNTS:
            print(f"    {name:<13} {description}")

        settings = {**emulator.env(), **settings_env(
            REMEDIATION_MODE="enforce", REMEDIATION_POLL_INTERVAL_SECONDS="0.2",
            REMEDIATION_READY_TIMEOUT_SECONDS="30"), "AzureWebJobsStorage": azurite.connection_string}
        grants = enforce_rights(emulator, settings)  # the app holds what a deployment grants, and no more
        print(f"    the app's identity holds {len(grants)} role assignments (infra/roles.json), enforced")
        os.environ.update(settings)
        app = importlib.import_module("function_app")
        if app.SETTINGS is None:
            print(f"settings are invalid: {app.SETTINGS_ERROR}")
            return 1

        print("\nReconciling each account through POST /api/remediate (REMEDIATION_MODE=enforce)\n")
        rows = []
        for name, _ in ACCOUNTS:
            emulator.clear_requests()
            status, body = remediate(app, account_id(name, resource_group_of(name)))
            writes = sum(1 for r in emulator.requests if r.kind == "write")
            rows.append(summarize(name, status, body, writes))
        print(tabulate(rows, headers=["account", "kind", "outcome", "findings", "actions", "ARM writes"],
                       tablefmt="simple"))

        print("\nFinal state\n")
        print(tabulate(final_state(emulator), headers=["account", "publicNetworkAccess", "networkAcls.defaultAction",
                                                       "private endpoint connections"], tablefmt="simple"))

        history = app.remediations(func.HttpRequest(method="GET", url="/api/remediations", body=b"",
                                                    params={"resourceId": account_id("aoai-prod"), "top": "1"}))
        record = json.loads(history.get_body())["value"][0]
        print("\nGET /api/remediations?resourceId=…/aoai-prod&top=1 → the stored audit record's before/after:")
        for when in ("before", "after"):
            governed = {k: record[when][k] for k in ("publicNetworkAccess", "networkAcls")}
            print(f"  {when:<6} {json.dumps(governed)}")
        live_loop(app, emulator, azurite)
        print("\npython -m remediation report: the same numbers as the workbook, from the audit table\n")
        report(["report", "--days", "1"])
        print("\nRun `make demo` again for a fresh estate.")
        return 0
    finally:
        emulator.stop()
        azurite.stop()


if __name__ == "__main__":
    sys.exit(main())
