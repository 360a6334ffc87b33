"""docs/local-stack.md's "The manual lockdown, by hand", run as written: its bash blocks, in order, in one shell
(tests/helpers/doc_shell.py), with the real Azure CLI, dig and nslookup, against the emulator the first block
starts on the documented ports. After each block the test checks what the docs say it shows and does, reading
the emulator's state through its admin API from inside the same shell."""
from __future__ import annotations

import ipaddress
import json
import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from localdev.azcli import AzError
from localdev.estate import OPENAI_ZONE, SUBNET_ID, Estate, account_id, rg_id, zone_id
from tests.helpers.azcli import REPO, seed
from tests.helpers.doc_shell import DocShell, Step, doc_blocks

DOC = REPO / "docs" / "local-stack.md"
SECTION = "## The manual lockdown, by hand"
ACCOUNT = account_id("aoai-manual")
NAME = "aoai-manual.openai.azure.com"
ALIAS = "aoai-manual.privatelink.openai.azure.com"
ENDPOINT = f"{rg_id('rg-network')}/providers/Microsoft.Network/privateEndpoints/pe-aoai-manual"
RECORD = f"{zone_id('privatelink.openai.azure.com')}/A/aoai-manual"
PUBLIC = ipaddress.ip_network("203.0.113.0/24")
# What reaches az or the app from the caller's environment and would send them elsewhere.
_KEPT_ENV = ("PATH", "LANG", "LC_ALL", "TERM", "SYSTEMROOT")


class Walk:
    """The shell, and what the checks learn on the way (the emulator's answers, the endpoint's address)."""

    def __init__(self, shell: DocShell) -> None:
        self.shell = shell
        self.seen: dict[str, Any] = {}

    def admin(self, method: str, route: str) -> Any:
        info = self.seen["emulator"]
        step = self.shell.run(f"{REPO / '.venv/bin/python'} {REPO / 'tests/azcli/emulator_probe.py'} "
                              f"{info['url']} {info['ca_path']} {method} {route}")
        assert step.status == 0 and not step.failed, step.output
        [line] = [line for line in step.lines() if line.startswith("::json:: ")]
        return json.loads(line.removeprefix("::json:: "))

    def resource(self, resource_id: str) -> dict[str, Any] | None:
        """The resource as the emulator renders it now (None: it does not exist)."""
        found = [r for r in self.admin("GET", "resources")["value"] if r["id"].lower() == resource_id.lower()]
        return found[0] if found else None


def _answers(dig: str) -> list[tuple[str, str, str]]:
    """dig +noall +answer lines: (owner, type, data)."""
    rows = []
    for line in dig.splitlines():
        parts = line.split()
        if len(parts) >= 5 and parts[2] == "IN":
            rows.append((parts[0].rstrip("."), parts[3], parts[4].rstrip(".")))
    return rows


def _lookups(step: Step) -> tuple[list[tuple[str, str, str]], str]:
    """dig's answer records, and the whole output (nslookup's part is read as text)."""
    return _answers(step.output), step.output


# -- what each block of the section shows and does -----------------------------------------------------------
def started(walk: Walk, step: Step) -> None:
    [line] = [line for line in step.lines() if line.startswith('{"url": ')]
    walk.seen["emulator"] = info = json.loads(line)
    assert info["url"] == "https://127.0.0.1:8443" and info["dns"] == "127.0.0.1:8053"
    assert info["dns_vnet"].endswith("/virtualNetworks/vnet-hub")
    assert f"logged in to https://127.0.0.1:8443 as operator (MSIClient-{info['operator']['client_id']})" \
        in step.output


def found_the_account(walk: Walk, step: Step) -> None:
    assert ACCOUNT in step.lines()
    shown = json.loads(step.output[step.output.index("{"):])
    assert shown == {"publicNetworkAccess": "Enabled", "defaultAction": "Allow"}


def resolves_publicly(walk: Walk, step: Step) -> None:
    answers, text = _lookups(step)
    [(owner, rtype, address)] = answers
    assert (owner, rtype) == (NAME, "A") and ipaddress.ip_address(address) in PUBLIC
    assert re.search(rf"Name:\s+{re.escape(NAME)}\nAddress: {re.escape(address)}", text), text
    assert "canonical name" not in text


def closed(walk: Walk, step: Step) -> None:
    assert json.loads(step.output[step.output.index("{"):]) == {"publicNetworkAccess": "Disabled",
                                                                "defaultAction": "Deny"}
    properties = (walk.resource(ACCOUNT) or {})["properties"]
    assert (properties["publicNetworkAccess"], properties["networkAcls"]["defaultAction"]) == ("Disabled", "Deny")


def has_an_endpoint(walk: Walk, step: Step) -> None:
    address, status = step.lines()[-2:]
    assert ipaddress.ip_address(address) in ipaddress.ip_network("10.1.0.0/16") and status == "Approved"
    endpoint = walk.resource(ENDPOINT) or {}
    assert endpoint["properties"]["subnet"]["id"].lower() == SUBNET_ID.lower()
    walk.seen["address"] = address


def has_private_dns(walk: Walk, step: Step) -> None:
    lines = step.lines()
    assert lines[0] == "Completed" and lines[1] == ALIAS
    rows = [line.split() for line in lines[2:] if not set(line) <= {"-", " "}]
    assert rows[0][:2] == ["Name", "RecordType"] and ["@", "Microsoft.Network/privateDnsZones/SOA"] in rows
    assert ["aoai-manual", "Microsoft.Network/privateDnsZones/A", walk.seen["address"]] in rows
    record = walk.resource(RECORD) or {}
    assert record["properties"]["aRecords"] == [{"ipv4Address": walk.seen["address"]}]


def resolves_privately(walk: Walk, step: Step) -> None:
    answers, text = _lookups(step)
    assert answers == [(NAME, "CNAME", ALIAS), (ALIAS, "A", walk.seen["address"])]
    assert f"canonical name = {ALIAS}." in text
    assert re.search(rf"Name:\s+{re.escape(ALIAS)}\nAddress: {re.escape(walk.seen['address'])}", text), text


def the_app_agrees(walk: Walk, step: Step) -> None:
    app = walk.seen["emulator"]
    assert f"signed in as object ID {app['object_id']}, application ID {app['client_id']}" in step.output
    assert "1 accounts scanned, 0 with drift" in step.output
    callers = {(r.get("caller") or {}).get("oid") for r in walk.admin("GET", "requests")["value"]
               if r["path"].startswith("/subscriptions/")}
    assert callers == {app["object_id"]}, "the scan read as the app's identity, and only as it"


def stopped(walk: Walk, step: Step) -> None:
    after = walk.shell.run("wait; jobs -r")
    assert after.status == 0 and after.lines() == [], "the emulator the first block started has ended"


CHECKS: list[Callable[[Walk, Step], None]] = [started, found_the_account, resolves_publicly, closed, has_an_endpoint,
                                              has_private_dns, resolves_privately, the_app_agrees, stopped]


@pytest.fixture
def shell(az_path: Path, tmp_path: Path) -> Iterator[DocShell]:
    if not (REPO / ".venv-azcli" / "bin" / "az").exists():   # the docs put that folder on PATH
        pytest.fail("no .venv-azcli in the repository: `make test-azcli` (or `make deps-azcli`) builds it")
    env = {k: os.environ[k] for k in _KEPT_ENV if k in os.environ}
    env.update(HOME=str(tmp_path), TMPDIR=str(tmp_path), AZURE_CORE_COLLECT_TELEMETRY="false",
               AZURE_CORE_SURVEY_MESSAGE="false", AZURE_CORE_NO_COLOR="true")
    shell = DocShell(REPO, env, tmp_path)
    yield shell
    shell.close()


def test_the_documented_walkthrough_runs_as_written(shell: DocShell):
    blocks = doc_blocks(DOC, SECTION)
    assert len(blocks) == len(CHECKS), "each block of the section has its check here"
    walk = Walk(shell)
    for number, (block, check) in enumerate(zip(blocks, CHECKS, strict=True), 1):
        step = shell.run(block)
        assert step.status == 0 and not step.failed, f"block {number} failed: {step.failed}\n{step.output}"
        check(walk, step)
        if check is resolves_privately:   # the scan's requests alone are judged in the next block
            walk.admin("DELETE", "requests")
    print(f"\nthe walkthrough's output: {shell.log}")


def test_record_set_tables_need_a_query_as_the_docs_say(emulator, az):
    """docs/local-stack.md: `record-set a list -o table` fails as against Azure (no `metadata`), with `--query` it
    works."""
    seed(emulator, Estate().network((OPENAI_ZONE,)).locked("aoai-manual"))
    az.login(emulator.operator_identity.client_id)
    listed = ("network", "private-dns", "record-set", "a", "list", "-g", "rg-dns", "-z", OPENAI_ZONE)
    with pytest.raises(AzError, match="Table output unavailable"):
        az.run(*listed, output="table")
    assert "metadata" not in az.run(*listed)[0]
    table = az.run(*listed, "--query", "[].{name: name, ip: aRecords[0].ipv4Address}", output="table")
    assert table.splitlines()[0].split() == ["Name", "Ip"] and "aoai-manual" in table.splitlines()[-1]
