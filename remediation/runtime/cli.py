"""The operator command, on the same engine as the app:

    python -m remediation scan [--scope ID ...] [--json]      which accounts are open right now? (never writes)
    python -m remediation fix <account id> [--dry-run] [--json]   reconcile one account (honours REMEDIATION_MODE)
    python -m remediation report [--days N] [--format table|json|csv]   exposures closed and how long they lasted,
        who opened accounts, which accounts need a person: from the audit table (AzureWebJobsStorage, as the app)

    python -m remediation --settings local.settings.json scan    the same, with a Functions settings file

Settings come from the environment as in the app; `--settings FILE` adds the Values of a Functions settings
file (local.settings.json), each one the environment does not already set, as `func start` applies them
(REMEDIATION_SCOPES may also be given with --scope).
Identity: DefaultAzureCredential's, in its order: a service principal or workload identity named in the
environment (AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET, ...), then a managed identity
(IDENTITY_ENDPOINT, or Azure's instance metadata service), then your own sign-in (`az login`, or another
developer tool it knows). From a workstation against Azure that is your `az login`. Against the local stack the
settings name the emulator's token endpoint (IDENTITY_ENDPOINT), so the command signs in as the app's own
managed identity (AZURE_CLIENT_ID picks one; empty: the app's). The first line on stderr names the identity.
Exit status: 0 nothing to do, 1 drift found (or not fixed), 2 bad input or settings, 3 Azure failed.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import MutableMapping
from typing import Any, TextIO

from remediation.core.findings import FINDINGS, FindingCode, Severity
from remediation.core.ids import InvalidResourceId, parse_account_id
from remediation.core.settings import Settings, SettingsError

DRIFT, BAD_INPUT, AZURE_FAILED = 1, 2, 3


class Progress:
    """A one-line counter on stderr while a long scan runs (only when stderr is a terminal)."""

    def __init__(self, stream: TextIO = sys.stderr, every: int = 50) -> None:
        self.stream, self.every, self.enabled = stream, every, stream.isatty()

    def __call__(self, seen: int) -> None:
        if self.enabled and seen % self.every == 0:
            self.stream.write(f"\rscanning… {seen} accounts")
            self.stream.flush()

    def done(self, seen: int) -> None:
        if self.enabled:
            self.stream.write(f"\rscanned {seen} accounts\n")


def apply_settings_file(path: str, environ: MutableMapping[str, str]) -> list[str]:
    """Put the Values of a Functions settings file into `environ` as `func start` does: a value the environment
    already holds (non-empty) wins, any other is set, an empty one as empty (Azure/azure-functions-core-tools,
    src/Cli/func/Actions/HostActions/StartHostAction.cs @c7dca509, UpdateEnvironmentVariables). The process's
    environment, not only the settings: the SDK reads IDENTITY_ENDPOINT and REQUESTS_CA_BUNDLE from it.
    Returns the names set."""
    try:
        with open(path, encoding="utf-8") as file:
            values = json.load(file).get("Values")
    except (OSError, ValueError, AttributeError) as error:
        raise SettingsError([f"--settings {path}: not a readable settings file ({error})"]) from error
    if not isinstance(values, dict) or not all(isinstance(v, str) for v in values.values()):
        raise SettingsError([f"--settings {path}: \"Values\" must be an object of strings"])
    applied = [name for name, value in values.items() if name and not environ.get(name)]
    for name in applied:
        environ[name] = values[name]
    return applied


def say_identity(clients: Any, err: TextIO = sys.stderr) -> None:
    """One line naming the identity this command signed in as (from its Resource Manager token's claims)."""
    try:
        principal = clients.own_principal()
    except Exception:  # noqa: BLE001 - no identity at all: the command itself reports the failure
        return
    print(f"signed in as object ID {principal.object_id}, application ID {principal.client_id}", file=err)


def _settings(args: argparse.Namespace) -> Settings:
    env = dict(os.environ)
    if getattr(args, "scope", None):
        env["REMEDIATION_SCOPES"] = ",".join(args.scope)
    return Settings.from_env(env, require_storage=False)


def _longest(chains: list[Any]) -> str:
    """`; longest chain: <list>, N pages in M ms` (the list the scan's wall time could not beat), or ""."""
    return f"; longest chain: {chains[0].name}, {chains[0].pages} pages in {chains[0].ms} ms" if chains else ""


def scan(args: argparse.Namespace, out: TextIO) -> int:
    from remediation.arm.clients import ArmClients, describe
    from remediation.runtime.sweep import Sweeper

    settings = _settings(args)
    clients = ArmClients(settings)
    say_identity(clients)
    rows: list[dict[str, Any]] = []
    exempt: list[dict[str, Any]] = []  # exempt by the rule `fix` applies: shown, never counted as drift
    progress = Progress()
    seen = 0

    def each(screened: Any) -> None:
        nonlocal seen
        seen += 1
        progress(seen)
        row = {"resourceId": str(screened.account.id), "kind": screened.account.kind,
               "findings": [code.value for code in screened.findings]}
        if screened.exemption.exempt:
            exempt.append({**row, "exemption": screened.exemption.to_json()})
        elif screened.findings:
            rows.append({**row, "severity": _severity(screened.findings)})

    try:
        summaries = (sweeper := Sweeper(clients, settings)).run(enqueue=None, each=each)
    except Exception as error:  # noqa: BLE001 - one line, not a traceback, for a person or a pipeline
        print(f"scan failed: {describe(error)}", file=sys.stderr)
        return AZURE_FAILED
    progress.done(seen)
    return _scan_results(args, out, settings, sweeper, summaries, rows, exempt)


def _scan_results(args: argparse.Namespace, out: TextIO, settings: Settings, sweeper: Any, summaries: list[Any],
                  rows: list[dict[str, Any]], exempt: list[dict[str, Any]]) -> int:
    """Print what the scan found (a table, or JSON) and name what was incomplete; the exit status."""
    accounts, requests = sum(s.accounts for s in summaries), sum(s.arm_requests for s in summaries)
    fixes = {code: FINDINGS[FindingCode(code)].manual for code in sorted({c for r in rows for c in r["findings"]})}
    endpoint_checks = "on" if settings.allowed_subnets else "off"
    errors = [error for summary in summaries for error in summary.errors]
    if args.json:
        json.dump({"accounts": accounts, "drifted": rows, "exempt": exempt, "armRequests": requests,
                   "endpointChecks": endpoint_checks, "manualFixes": fixes, "errors": errors,
                   # every list the scan read, longest chain first: the scan lasts at least as long as the first
                   "longestChain": sweeper.chains[0].to_json() if sweeper.chains else None,
                   "chains": [chain.to_json() for chain in sweeper.chains]}, out, indent=2)
        out.write("\n")
    else:
        _write_table(out, rows, fixes)
        drifted_exempt = sum(1 for e in exempt if e["findings"])
        out.write(f"{accounts} accounts scanned, {len(rows)} with drift, {len(exempt)} exempt ({drifted_exempt} of "
                  f"them drifted), {requests} Resource Manager requests{_longest(sweeper.chains)}\n")
        if endpoint_checks == "off":
            out.write(f"Endpoint checks are off: {NO_SUBNET_NOTE}\n")
    for failure in errors:  # the accounts listed were still screened on their own properties
        print(f"scan incomplete: {failure}", file=sys.stderr)
    return AZURE_FAILED if errors else DRIFT if rows else 0


NO_SUBNET_NOTE = ("no subnet is configured (REMEDIATION_PE_SUBNET_ID, REMEDIATION_PE_ALLOWED_SUBNET_IDS), so any "
                  "Approved private endpoint connection counts as serving, whatever subnet its endpoint sits in.")


def _write_table(out: TextIO, rows: list[dict[str, Any]], fixes: dict[str, str]) -> None:
    from tabulate import tabulate

    if not rows:
        return
    out.write(tabulate([[r["resourceId"].split("/providers/")[0].rsplit("/", 1)[-1], r["resourceId"].rsplit("/", 1)[-1],
                         r["kind"], r["severity"], "\n".join(r["findings"])] for r in rows],
                       headers=["resource group", "account", "kind", "severity", "findings"],
                       tablefmt="simple") + "\n\n")
    out.write("Manual fixes, where the app may not or cannot fix:\n"
              + "".join(f"  {code}: {text}\n" for code, text in fixes.items()) + "\n")


def _severity(codes: tuple[FindingCode, ...]) -> str:
    """The highest severity among an account's findings."""
    order = list(Severity)  # declared from the highest down
    return min((FINDINGS[code].severity for code in codes), key=order.index).value


def fix(args: argparse.Namespace, out: TextIO) -> int:
    from remediation.core.model import Outcome, Trigger
    from remediation.core.verdict import Failure
    from remediation.runtime.wiring import build

    try:
        account_id = parse_account_id(args.account_id)
    except InvalidResourceId as error:
        print(f"{args.account_id}: {error}", file=sys.stderr)
        return BAD_INPUT
    settings = _settings(args)
    app = build(settings)  # without AzureWebJobsStorage the record goes to the log only
    say_identity(app.clients)
    result = app.remediator.reconcile(account_id, Trigger.CLI, dry_run=args.dry_run)
    record = result.record.to_json()
    if result.failure is Failure.OUT_OF_SCOPE:
        print(f"{args.account_id}: outside REMEDIATION_SCOPES", file=sys.stderr)
        return BAD_INPUT
    if args.json:
        json.dump(record, out, indent=2)
        out.write("\n")
    else:
        out.write(f"{record['resourceId']}\noutcome: {record['outcome']}\n")
        for finding in record["findings"]:
            out.write(f"  finding  {finding['code']}: {finding['actual']!r} → {finding['expected']!r}\n")
        for action in record["actions"]:
            out.write(f"  action   {action['name']} {action['status']}"
                      f"{': ' + action['error'] if action['error'] else ''}\n")
        if record["error"]:
            out.write(f"error: {record['error']}\n")
    if result.failure in (Failure.ARM_ERROR, Failure.ARM_UNAVAILABLE, Failure.INTERNAL, Failure.NOT_FOUND):
        return AZURE_FAILED if result.failure is not Failure.NOT_FOUND else BAD_INPUT
    done = {Outcome.COMPLIANT.value, Outcome.REMEDIATED.value, Outcome.EXEMPT.value, Outcome.SKIPPED.value}
    return 0 if record["outcome"] in done else DRIFT


def report(args: argparse.Namespace, out: TextIO) -> int:
    from datetime import UTC, datetime, timedelta

    from remediation.runtime import report as reports
    from remediation.store.audit import AuditTable
    from remediation.store.storage import Storage

    settings = Settings.from_env(dict(os.environ))  # the app's own settings: its storage, its audit table
    since = datetime.now(UTC) - timedelta(days=args.days)
    try:
        records = list(AuditTable(Storage(settings)).records_since(since))
    except Exception as error:  # noqa: BLE001 - one line for a person or a pipeline
        print(f"report failed: the audit table cannot be read: {type(error).__name__}: "
              f"{str(error).splitlines()[0] if str(error) else ''}"[:500], file=sys.stderr)
        return AZURE_FAILED
    reports.write(reports.build(records, since), args.format, out)
    return 0


def main(argv: list[str] | None = None, out: TextIO = sys.stdout) -> int:
    parser = argparse.ArgumentParser(prog="python -m remediation", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--settings", metavar="FILE",
                        help="a Functions settings file (local.settings.json) whose Values fill in the environment")
    commands = parser.add_subparsers(dest="command", required=True)
    scan_cmd = commands.add_parser("scan", help="list the accounts in scope that drifted (never writes)")
    scan_cmd.add_argument("--scope", action="append", help="a subscription or resource group ID (repeatable)")
    scan_cmd.add_argument("--json", action="store_true", help="JSON instead of a table")
    fix_cmd = commands.add_parser("fix", help="reconcile one account (honours REMEDIATION_MODE)")
    fix_cmd.add_argument("account_id")
    fix_cmd.add_argument("--dry-run", action="store_true", help="plan only, whatever REMEDIATION_MODE says")
    fix_cmd.add_argument("--json", action="store_true", help="the audit record as JSON")
    report_cmd = commands.add_parser("report", help="exposures closed, their durations, who opened accounts, "
                                                    "accounts that need a person (from the audit table)")
    report_cmd.add_argument("--days", type=float, default=7.0, help="how far back (default 7)")
    report_cmd.add_argument("--format", choices=("table", "json", "csv"), default="table")
    args = parser.parse_args(argv)
    commands_by_name = {"scan": scan, "fix": fix, "report": report}
    try:
        if args.settings:
            apply_settings_file(args.settings, os.environ)
        return commands_by_name[args.command](args, out)
    except SettingsError as error:
        print(error, file=sys.stderr)
        return BAD_INPUT

