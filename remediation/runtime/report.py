"""`python -m remediation report`: the workbook's numbers from the audit table, locally (Azurite) or in Azure.

Exposures closed and how long each lasted, the same by kind of fix (p50/p95/max), who opened accounts, and the
accounts that need a person now (latest reconcile failed, contested, or exempt with drift), as a table, JSON or CSV.
Every record is first reduced to its telemetry fields (`telemetry.reconcile_fields`), so these are the numbers the
workbook computes from the log, from the same fields.

Durations: drift event to the account closed (`eventToClosedMs`) where the fix closed public access, else drift
event to the first fix written (`eventToFixMs`); a reconcile without a drift event (HTTP, the operator command) has
none.
"""

from __future__ import annotations

import csv
import json
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, TextIO

from remediation.core.telemetry import reconcile_fields

_ATTENTION = ("failed", "contested")
CONTESTED_FIX = ("Find who keeps opening it (Actor, and the account's activity log) and stop that template, pipeline "
                 "or person; the app keeps closing public access meanwhile")


def _seconds(ms: Any) -> float | None:
    return round(ms / 1000, 1) if isinstance(ms, int) else None


def _duration(line: Mapping[str, Any]) -> int | None:
    closed = line.get("eventToClosedMs")
    return closed if isinstance(closed, int) else line.get("eventToFixMs")


def _actor(line: Mapping[str, Any]) -> str | None:
    actor = line.get("actor") or {}
    return next((actor[k] for k in ("upn", "name", "appId", "objectId") if actor.get(k)), None)


def _percentile(values: Sequence[int], share: float) -> float | None:
    """Nearest rank, as seconds."""
    if not values:
        return None
    ordered = sorted(values)
    return _seconds(ordered[max(0, math.ceil(share * len(ordered)) - 1)])


def exposures(lines: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Each fix written after a drift event, oldest first."""
    rows = [{"time": line["time"], "account": line["account"], "fixKind": line["fixKind"], "actor": _actor(line),
             "findings": line["findings"], "closedSeconds": _seconds(line.get("eventToClosedMs")),
             "firstFixSeconds": _seconds(line.get("eventToFixMs"))}
            for line in lines if line.get("fixKind") and _duration(line) is not None]
    return sorted(rows, key=lambda row: str(row["time"]))


def by_fix_kind(lines: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    durations: dict[str, list[int]] = defaultdict(list)
    accounts: dict[str, set[str]] = defaultdict(set)
    for line in lines:
        if line.get("fixKind") and (duration := _duration(line)) is not None:
            durations[line["fixKind"]].append(duration)
            accounts[line["fixKind"]].add(str(line["resourceId"]))
    return [{"fixKind": kind, "fixes": len(values), "accounts": len(accounts[kind]),
             "p50Seconds": _percentile(values, 0.5), "p95Seconds": _percentile(values, 0.95),
             "maxSeconds": _seconds(max(values))}
            for kind, values in sorted(durations.items(), key=lambda item: -len(item[1]))]


def top_actors(lines: Iterable[Mapping[str, Any]], top: int = 20) -> list[dict[str, Any]]:
    drifts: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for line in lines:
        if line.get("findings") and (actor := _actor(line)):
            drifts[actor].append(line)
    rows = [{"actor": actor, "drifts": len(seen), "accounts": len({s["resourceId"] for s in seen}),
             "p50ClosedSeconds": _percentile([d for s in seen if (d := _duration(s)) is not None], 0.5),
             "lastSeen": max(str(s["time"]) for s in seen)} for actor, seen in drifts.items()]
    return sorted(rows, key=lambda row: (-int(row["drifts"] or 0), str(row["actor"])))[:top]


def needs_a_person(lines: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Accounts whose latest reconcile failed, was contested, or found an exempt account drifted."""
    latest: dict[str, Mapping[str, Any]] = {}
    for line in lines:
        if line.get("account") and str(line["time"]) >= str(latest.get(line["resourceId"], {}).get("time", "")):
            latest[line["resourceId"]] = line
    rows = []
    for line in latest.values():
        outcome = line["outcome"]
        if outcome in _ATTENTION or (outcome == "exempt" and line["findings"]):
            fix = (CONTESTED_FIX if outcome == "contested" else f"Exempt until {line['exemptUntil']}: review the "
                   "drift with the account's owner, or end the exemption" if outcome == "exempt" else line["error"])
            rows.append({"time": line["time"], "account": line["account"], "outcome": outcome,
                         "findings": line["findings"], "actor": _actor(line), "manualFix": fix,
                         "resourceId": line["resourceId"]})
    return sorted(rows, key=lambda row: str(row["time"]), reverse=True)


def build(records: Iterable[Mapping[str, Any]], since: datetime) -> dict[str, Any]:
    lines = [reconcile_fields(record) for record in records]
    accounts = [line for line in lines if line["account"]]  # a sweep's summary is about a scope
    return {"since": since.isoformat(), "reconciles": len(accounts), "exposuresClosed": exposures(accounts),
            "byFixKind": by_fix_kind(accounts), "topActors": top_actors(accounts),
            "needsAPerson": needs_a_person(accounts)}


SECTIONS = (  # (key, title, columns)
    ("exposuresClosed", "Exposures closed (drift event to closed, and to the first fix written)",
     ("time", "account", "fixKind", "actor", "findings", "closedSeconds", "firstFixSeconds")),
    ("byFixKind", "Their durations by kind of fix, in seconds",
     ("fixKind", "fixes", "accounts", "p50Seconds", "p95Seconds", "maxSeconds")),
    ("topActors", "Who opened accounts", ("actor", "drifts", "accounts", "p50ClosedSeconds", "lastSeen")),
    ("needsAPerson", "Accounts that need a person now (failed, contested, exempt with drift)",
     ("time", "account", "outcome", "findings", "actor", "manualFix")),
)


def _cell(value: Any) -> Any:
    if isinstance(value, list):
        return ", ".join(map(str, value))
    return "-" if value is None else value


def write(report: Mapping[str, Any], form: str, out: TextIO) -> None:
    if form == "json":
        json.dump(report, out, indent=2)
        out.write("\n")
        return
    if form == "csv":
        writer = csv.writer(out, lineterminator="\n")
        for key, _, columns in SECTIONS:
            writer.writerow(["section", *columns])
            writer.writerows([key, *(_cell(row.get(c)) for c in columns)] for row in report[key])
            writer.writerow([])
        return
    from tabulate import tabulate

    out.write(f"{report['reconciles']} reconciles since {report['since']}\n")
    for key, title, columns in SECTIONS:
        out.write(f"\n{title}\n\n")
        rows = [[_cell(row.get(c)) for c in columns] for row in report[key]]
        out.write((tabulate(rows, headers=columns, tablefmt="simple") if rows else "(none)") + "\n")
