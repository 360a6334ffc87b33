"""Every manual fix the app can print that names a command, run as printed with the real Azure CLI against the
emulator, and checked to do what its text says.

The commands come from the app's own output (`scan`'s manual fixes, `fix`'s audit record, `report`'s ManualFix
column) and from the alert texts of infra/; only placeholders (`<account id>`, `<lock id>`) are filled in, from
the test's account and from what the printed `az lock list` found. `test_every_command_the_app_can_print_is_run`
holds the list complete: a new command anywhere in remediation/'s texts, an alert or docs/operations.md fails it
until a test here runs it.
"""
from __future__ import annotations

import ast
import re
import shlex
from typing import Any

import pytest

from localdev.arm_emulator.faults import Fault
from localdev.azcli import AzCli, AzError
from localdev.azurite import Azurite
from localdev.estate import OPENAI_ZONE, SUBSCRIPTION, Estate, account_id, rg_id, zone_id
from remediation.core.findings import FINDINGS
from remediation.core.model import ActionKind
from remediation.core.plan import OTHER_RECORD_TYPES
from tests.helpers.azcli import REPO, Remediation, seed

ACCOUNT = account_id("aoai-advice")
ZONE = zone_id(OPENAI_ZONE)
COMMAND = re.compile(r"`(az [^`]+)`")
EXPOSURE = {"PUBLIC_NETWORK_ACCESS_ENABLED", "NETWORK_DEFAULT_ACTION_ALLOW", "IP_RULE_NOT_ALLOWED"}
POLICY_DENIAL = ("Resource 'aoai-advice' was disallowed by policy. Reasons: 'Azure AI services resources should "
                 "restrict network access'. See error details for policy resource IDs.")
# Printed for a deployment in Azure (docs/operations.md, "Finding them after `azd up`"): Azure Monitor's alert
# rules, which the local stack does not deploy, so there is nothing for them to list here.
AZURE_ONLY = {"az monitor scheduled-query list", "az monitor metrics alert list"}


def commands(text: str) -> list[str]:
    """The Azure CLI commands a text names (in backticks)."""
    return COMMAND.findall(text or "")


def form(command: str) -> str:
    """A command's words before its first option: what it does, whatever it is run on."""
    words = []
    for word in shlex.split(command):
        if word.startswith("-"):
            break
        words.append(word)
    return " ".join(words)


def run_printed(az: AzCli, command: str, fill: dict[str, str] | None = None) -> Any:
    """Run a command as the app printed it, its placeholders filled (az.run adds only `--output json`)."""
    for placeholder, value in (fill or {}).items():
        command = command.replace(f"<{placeholder}>", value)
    assert not re.search(r"<[a-z ]+>", command), f"a placeholder left unfilled: {command}"
    argv = shlex.split(command)
    assert argv[0] == "az", command
    return az.run(*argv[1:])


def findings_of(remediation: Remediation, account: str = ACCOUNT) -> set[str]:
    _, report = remediation("scan")
    return {code for row in report["drifted"] if row["resourceId"].lower() == account.lower()
            for code in row["findings"]}


def action(record: dict[str, Any], name: str) -> dict[str, Any]:
    [found] = [a for a in record["actions"] if a["name"] == name]
    return found


# -- the whole list ---------------------------------------------------------------------------------------------
def product_texts() -> list[str]:
    """Every string in remediation/'s source, an f-string with `{}` for each value it formats (the texts a
    person is shown: findings, actions' manual fixes, lock advice, the planner's own findings, help)."""
    texts = []
    for path in sorted((REPO / "remediation").rglob("*.py")):
        tree = ast.parse(path.read_text())
        parts = {id(value) for node in ast.walk(tree) if isinstance(node, ast.JoinedStr) for value in node.values}
        for node in ast.walk(tree):
            if isinstance(node, ast.JoinedStr):
                texts.append("".join(v.value if isinstance(v, ast.Constant) else "{}" for v in node.values))
            elif isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in parts:
                texts.append(node.value)
    return texts


def alert_texts() -> list[str]:
    """The descriptions of the alert rules infra/ deploys (shown with each alert)."""
    bicep = (REPO / "infra" / "modules" / "alerts.bicep").read_text()
    return [match.replace("\\'", "'") for match in re.findall(r"description: '((?:[^'\\]|\\.)*)'", bicep)]


def test_every_command_the_app_can_print_is_run():
    """Every command form the product's texts, the alerts and docs/operations.md name, against the forms the
    tests here run (`az login`: tests/azcli/test_azcli_login.py)."""
    texts = product_texts() + alert_texts() + [(REPO / "docs" / "operations.md").read_text()]
    named = {form(command) for text in texts for command in commands(text)}
    run_here = {"az resource update", "az lock list", "az lock delete", "az network private-dns record-set {} delete",
                "az login"}
    assert named - AZURE_ONLY == run_here
    assert AZURE_ONLY <= named, "docs/operations.md changed: review AZURE_ONLY"
    assert {kind.lower() for kind in OTHER_RECORD_TYPES} == {"aaaa", "cname"}, "the record-set test runs each"


# -- the findings' manual fixes (scan) -------------------------------------------------------------------------
def test_the_findings_manual_fixes_do_what_they_say(emulator, az, remediation):
    seed(emulator, Estate().network().account("aoai-advice", public_network_access="Enabled",
                                              default_action="Allow"))
    az.login(emulator.operator_identity.client_id)
    status, report = remediation("scan")
    fixes = report["manualFixes"]
    with_commands = {code for code, info in FINDINGS.items() if commands(info.manual)}
    assert status == 1 and with_commands <= set(fixes), "the estate shows every finding whose fix names a command"
    for code in sorted(with_commands):
        for command in commands(fixes[code]):
            run_printed(az, command, {"account id": ACCOUNT})
        assert code not in findings_of(remediation), f"{code}: `{fixes[code]}` did not fix it"


# -- an action Azure refuses for good: its manual fix (fix) -----------------------------------------------------
@pytest.mark.parametrize("mode, account", [
    ("Disabled", {"public_network_access": "Enabled", "default_action": "Allow"}),
    ("SelectedNetworks", {"public_network_access": "Enabled", "default_action": None}),   # no networkAcls at all
    ("SelectedNetworks", {"public_network_access": "Enabled", "default_action": "Allow",
                          "ip_rules": ("198.51.100.7",)}),
], ids=["public-access", "no-network-acls", "allow-with-a-foreign-rule"])
def test_a_close_refused_by_policy_prints_a_command_that_closes_the_account(emulator, az, remediation, mode,
                                                                             account):
    seed(emulator, Estate().network().account("aoai-advice", **account))
    app = remediation.with_settings(REMEDIATION_PUBLIC_NETWORK_ACCESS=mode)
    # What the close fixes: public access in mode Disabled; in SelectedNetworks the default action and the rules.
    closes = findings_of(app) & ({"PUBLIC_NETWORK_ACCESS_ENABLED"} if mode == "Disabled" else
                                 {"NETWORK_DEFAULT_ACTION_ALLOW", "IP_RULE_NOT_ALLOWED"})
    assert closes
    emulator.add_fault(Fault(method="PATCH", path="/accounts/aoai-advice$", status=403,
                             code="RequestDisallowedByPolicy", message=POLICY_DENIAL))
    az.login(emulator.operator_identity.client_id)

    status, record = app("fix", ACCOUNT)
    close = action(record, ActionKind.CLOSE_EXPOSURE.value)
    assert (status, close["status"]) == (1, "failed") and "RequestDisallowedByPolicy" in close["error"], record
    [command] = commands(close["error"])
    run_printed(az, command)

    assert not findings_of(app) & closes, command
    shown = az.run("cognitiveservices", "account", "show", "-g", "rg-ai", "-n", "aoai-advice")["properties"]
    if mode == "Disabled":
        assert shown["publicNetworkAccess"] == "Disabled"
    else:  # the whole networkAcls the app would have written: Deny, only the allowed rules
        assert shown["networkAcls"]["defaultAction"] == "Deny" and not shown["networkAcls"].get("ipRules")


# -- a management lock: find it, remove it (fix, report, the reconcile-failed alert) ---------------------------
@pytest.mark.parametrize("scope", [f"/subscriptions/{SUBSCRIPTION}", rg_id("rg-ai"), ACCOUNT],
                         ids=["subscription", "resource-group", "account"])
def test_the_lock_advice_finds_the_lock_and_removes_it(emulator, az, remediation, azurite: Azurite, scope,
                                                       request):
    seed(emulator, Estate().network().account("aoai-advice", public_network_access="Enabled",
                                              default_action="Allow"))
    emulator.lock(scope, "ReadOnly", "freeze")
    emulator.lock(rg_id("rg-network"), "CanNotDelete", "keep-network")   # another lock the lists also show
    table = "advice" + re.sub(r"[^a-z0-9]", "", request.node.callspec.id.lower())
    app = remediation.with_settings(AzureWebJobsStorage=azurite.connection_string, REMEDIATION_AUDIT_TABLE=table)
    az.login(emulator.operator_identity.client_id)

    status, record = app("fix", ACCOUNT)
    close = action(record, ActionKind.CLOSE_EXPOSURE.value)
    assert (status, close["status"]) == (1, "failed") and "ScopeLocked" in close["error"], record

    # The reconcile-failed alert: run the report it names; its ManualFix column says what to do.
    [alert] = [text for text in alert_texts() if "reconcile ended failed" in text.lower()]
    [report_command] = re.findall(r"python -m remediation report", alert)
    status, report = app(*shlex.split(report_command)[3:], "--days", "1", out="--format=json")
    [row] = [r for r in report["needsAPerson"] if r["resourceId"].lower() == ACCOUNT.lower()]
    advice = row["manualFix"]
    assert record["error"].startswith(advice.removesuffix("..."))   # the telemetry line's first 600 characters
    listed, delete = [c for c in commands(advice) if form(c) == "az lock list"], \
        [c for c in commands(advice) if form(c) == "az lock delete"]
    assert len(listed) == 1 and len(delete) == 1, advice

    # "find it": the printed list shows the lock at the scope the message names; "remove it": the printed delete.
    locks = run_printed(az, listed[0])
    found = [lock for lock in locks if _lock_scope(lock["id"]) == scope.lower() and lock["level"] == "ReadOnly"]
    assert len(found) == 1, locks
    run_printed(az, delete[0], {"lock id": found[0]["id"]})
    assert all(lock["id"] != found[0]["id"] for lock in az.run("lock", "list", "--subscription", SUBSCRIPTION))

    # "the app closes the account on its next run"
    status, record = app("fix", ACCOUNT)
    assert record["outcome"] == "remediated", record
    assert not findings_of(app) & EXPOSURE


def _lock_scope(lock_id: str) -> str:
    return lock_id.lower().split("/providers/microsoft.authorization/locks/")[0]


# -- a record set the app reports and never deletes -------------------------------------------------------------
@pytest.mark.parametrize("record_type, add", [
    ("AAAA", ("aaaa", "add-record", "-a", "2001:db8::66")),
    ("CNAME", ("cname", "set-record", "-c", "collector.example.net")),
])
def test_a_record_set_the_app_reports_is_deleted_by_its_printed_command(emulator, az, remediation, record_type, add):
    seed(emulator, Estate().network((OPENAI_ZONE,)).locked("aoai-advice"))
    az.login(emulator.operator_identity.client_id)
    kind, verb, flag, value = add
    if record_type == "CNAME":   # a CNAME cannot sit beside other record sets of its name: it replaced the A
        az.run("network", "private-dns", "record-set", "a", "delete", "-g", "rg-dns", "-z", OPENAI_ZONE,
               "-n", "aoai-advice", "--yes")
    az.run("network", "private-dns", "record-set", kind, verb, "-g", "rg-dns", "-z", OPENAI_ZONE,
           "-n", "aoai-advice", flag, value)

    status, record = remediation("fix", ACCOUNT)
    [finding] = [f for f in record["findings"] if f["property"] == f"privateDnsZones/{record_type}"]
    assert status == 1 and record["outcome"] == "failed"
    [command] = commands(finding["manual"])
    assert form(command) == f"az network private-dns record-set {kind} delete" and command in record["error"]
    run_printed(az, command)

    with pytest.raises(AzError, match="NotFound|ResourceNotFound|was not found"):
        az.run("network", "private-dns", "record-set", kind, "show", "-g", "rg-dns", "-z", OPENAI_ZONE,
               "-n", "aoai-advice")
    assert emulator.get(f"{ZONE}/{record_type}/aoai-advice") is None
    status, record = remediation("fix", ACCOUNT)   # the A record is the app's to put back
    assert record["outcome"] in ("compliant", "remediated"), record


def test_no_wait_then_wait_ends_with_the_operation(emulator, az):
    """`--no-wait` leaves the operation unpolled; it still ends at the pace's time, so `az … wait` returns at its
    first read after that, not at the emulator's 60 s age limit."""
    seed(emulator, Estate().network().account("aoai-advice"))
    az.login(emulator.operator_identity.client_id)
    az.run("network", "private-endpoint", "create", "-g", "rg-network", "-n", "pe-advice", "--vnet-name", "vnet-hub",
           "--subnet", "snet-private-endpoints", "--private-connection-resource-id", ACCOUNT, "--group-id",
           "account", "--connection-name", "pe-advice", "--no-wait")
    az.run("network", "private-endpoint", "wait", "-g", "rg-network", "-n", "pe-advice", "--created",
           "--interval", "2", "--timeout", "60")
    waited = az.timings[-1][1]
    assert waited < 15, f"az network private-endpoint wait took {waited:.1f} s"
    shown = az.run("network", "private-endpoint", "show", "-g", "rg-network", "-n", "pe-advice")
    assert shown["provisioningState"] == "Succeeded"


def test_alert_texts_name_only_commands_that_exist():
    """The commands the alerts name besides az: the operator command's subcommands, each real."""
    from remediation.runtime.cli import main

    named = {m for text in alert_texts() for m in re.findall(r"python -m remediation (\w+)", text)}
    assert named == {"report"}
    for sub in named:
        with pytest.raises(SystemExit) as done:
            main([sub, "--help"])
        assert done.value.code == 0
