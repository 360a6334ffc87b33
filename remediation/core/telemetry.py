"""The telemetry lines: one per reconcile, one per sweep, each a fixed prefix and compact JSON. Pure.

Application Insights keeps at most 32,768 characters of a log message (trace telemetry, "Maximum length:
32,768 characters": https://learn.microsoft.com/azure/azure-monitor/app/data-model-complete#trace), and the audit
record may be up to `bounds.MAX_RECORD_CHARS` (300,000). So the log carries this summary of the record, never the
record itself; the whole record stays in the audit table. A line is at most MAX_LINE_CHARS characters whatever
the record holds: every string is cut to a fixed length and every list to a fixed number of entries, with a
count of what was cut beside it (`…Omitted`). `json.dumps` escapes every non-ASCII character, so characters are
bytes too.

The default Functions pipeline sends a Python log record to the host as its message alone (the worker's
`on_logging` builds an RpcLog of level, category, message and invocation ID: `extra=` fields never reach
`customDimensions`), so the fields travel inside the message, and every query reads them with
`parse_json(substring(Message, strlen(<prefix>)))`. docs/operations.md lists the fields; the workbook and the
alert rules read no others (tests/ops checks both).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from remediation.core.findings import FindingCode
from remediation.core.ids import ACCOUNT_TYPE, try_parse_resource_id

SCHEMA = 1
RECONCILE_PREFIX = "remediation.reconcile "
HEARTBEAT_PREFIX = "remediation.heartbeat "
MAX_LINE_CHARS = 8192  # far below Application Insights' 32,768; test_telemetry measures the largest record

_MAX_LIST = 20  # finding codes and actions kept; the rest counted
_ID_CHARS = 1024  # an ARM resource ID is at most a few hundred characters; a hostile one is cut
_TEXT_CHARS = 256  # names, UPNs
_CODE_CHARS = 48  # finding codes and action names (the longest the app has is 35 characters)
_ERROR_CHARS = 600  # the error's start: what is open and the manual fix; the record has it whole
_ACTOR_FIELDS = ("name", "upn", "appId", "objectId")  # no IP address: personal data, and no use to an alert


def _text(value: Any, limit: int = _TEXT_CHARS) -> str | None:
    """The value as a string that takes at most `limit` characters in the line's JSON (json.dumps escapes a
    non-ASCII or control character to six), cut with "..." when longer."""
    if value is None:
        return None
    text = value if isinstance(value, str) else str(value)
    if len(text) <= limit and len(json.dumps(text)) - 2 <= limit:
        return text
    kept, used = [], 0
    for char in text:
        used += len(json.dumps(char)) - 2
        if used > limit - 3:
            break
        kept.append(char)
    return "".join(kept) + "..."


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _where(resource_id: str | None) -> dict[str, str | None]:
    """Account name, subscription and resource group, when the record is about an account (a sweep's summary is
    about a scope: no account name)."""
    rid = try_parse_resource_id(resource_id)
    if rid is None:
        return {"account": None, "subscription": None, "resourceGroup": None}
    account = rid.name if rid.is_type(ACCOUNT_TYPE) else None
    return {"account": _text(account), "subscription": _text(rid.subscription_id),
            "resourceGroup": _text(rid.resource_group)}


def _codes(findings: list[Any]) -> tuple[list[str], int]:
    """The distinct finding codes in order, at most _MAX_LIST, and how many distinct codes were cut."""
    codes = list(dict.fromkeys(str(_mapping(f).get("code")) for f in findings if _mapping(f).get("code")))
    return [_text(c, _CODE_CHARS) or "" for c in codes[:_MAX_LIST]], max(0, len(codes) - _MAX_LIST)


def _actions(actions: list[Any]) -> tuple[list[dict[str, str | None]], int]:
    kept = [{"name": _text(_mapping(a).get("name"), _CODE_CHARS), "status": _text(_mapping(a).get("status"), 16)}
            for a in actions[:_MAX_LIST]]
    return kept, max(0, len(actions) - _MAX_LIST)


def _actor(record: Mapping[str, Any]) -> dict[str, str | None] | None:
    actor = _mapping(record.get("actor"))
    if not actor:  # several events folded in: the newest one's actor, as the work item carried it
        folded = [a for a in _list(record.get("actors")) if isinstance(a, Mapping)]
        actor = folded[-1] if folded else {}
    kept = {k: _text(actor.get(k)) for k in _ACTOR_FIELDS}
    return kept if any(kept.values()) else None


def _fix_kind(actions: list[Any]) -> str | None:
    """The kind of fix: the first action written (the close-first PATCH when the account was open)."""
    first = next((a for a in actions if _mapping(a).get("status") == "succeeded"), None)
    return _text(_mapping(first).get("name"), _CODE_CHARS) if first is not None else None


def reconcile_fields(record: Mapping[str, Any]) -> dict[str, Any]:
    """The telemetry line's JSON for one audit record (as `AuditRecord.to_json` or the table gives it)."""
    findings, findings_cut = _codes(_list(record.get("findings")))
    actions, actions_cut = _actions(_list(record.get("actions")))
    exemption, contest = _mapping(record.get("exemption")), _mapping(record.get("contest"))
    return {
        "schema": SCHEMA, "id": _text(record.get("id"), 64), "time": _text(record.get("time"), 40),
        "resourceId": _text(record.get("resourceId"), _ID_CHARS), **_where(record.get("resourceId")),
        "kind": _text(record.get("kind"), 64), "trigger": _text(record.get("trigger"), 16),
        "mode": _text(record.get("mode"), 16), "outcome": _text(record.get("outcome"), 32),
        "findings": findings, "findingsOmitted": findings_cut,
        "actions": actions, "actionsOmitted": actions_cut, "fixKind": _fix_kind(_list(record.get("actions"))),
        "actor": _actor(record), "actors": len(_list(record.get("actors"))),
        "eventToClosedMs": _int(record.get("eventToClosedMs")), "eventToFixMs": _int(record.get("eventToFixMs")),
        "durationMs": _int(record.get("durationMs")),
        "errorKind": _text(record.get("errorKind"), 32), "error": _text(record.get("error"), _ERROR_CHARS),
        "exemptUntil": _text(exemption.get("until"), 40) if exemption.get("exempt") else None,
        "exemptBy": _text(exemption.get("by"), 64) if exemption.get("exempt") else None,
        "fixesLastHour": _int(contest.get("fixesLastHour")),
        "contestAlert": contest.get("firstOfEpisode") is True,
    }


def reconcile_line(record: Mapping[str, Any]) -> str:
    """`remediation.reconcile {json}`, at most MAX_LINE_CHARS characters."""
    return _line(RECONCILE_PREFIX, reconcile_fields(record))


def _line(prefix: str, fields: dict[str, Any]) -> str:
    line = prefix + json.dumps(fields, separators=(",", ":"), default=str)
    if len(line) > MAX_LINE_CHARS:  # cannot happen with the limits above; kept so the bound holds by construction
        raise ValueError(f"telemetry line of {len(line)} characters exceeds {MAX_LINE_CHARS}")
    return line


def is_open(codes: Iterable[FindingCode | str], selected_networks: bool) -> bool:
    """Whether an account is open to the internet, as close-first judges it: public network access not Disabled
    (mode Disabled), or the default action not Deny (mode SelectedNetworks)."""
    wanted = (FindingCode.NETWORK_DEFAULT_ACTION_ALLOW if selected_networks
              else FindingCode.PUBLIC_NETWORK_ACCESS_ENABLED)
    return any(str(getattr(code, "value", code)) == wanted.value for code in codes)


def heartbeat_line(fields: Mapping[str, Any], now: datetime) -> str:
    """`remediation.heartbeat {json}`: one per completed sweep (HEARTBEAT_FIELDS, in that order)."""
    body: dict[str, Any] = {"schema": SCHEMA, "time": now.isoformat(timespec="milliseconds").replace("+00:00", "Z")}
    for name in HEARTBEAT_FIELDS:
        value = fields.get(name)
        body[name] = _text(value, _ID_CHARS) if isinstance(value, str) else _int(value)
    return _line(HEARTBEAT_PREFIX, body)


# The heartbeat's fields besides schema and time; every one is a whole number or null, but oldestOpenAccount and
# longestChain (the name of the list with the most pages, e.g. "records of privatelink.openai.azure.com").
HEARTBEAT_FIELDS = ("scopes", "accountsScreened", "accountsOpen", "accountsDrifted", "accountsExempt",
                    "workItemsQueued", "oldestOpenExposureMs", "oldestOpenAccount", "openSinceUnknown",
                    "workQueueLength", "poisonQueueLength", "armRequests", "durationMs", "lists", "listPages",
                    "longestChain", "longestChainPages", "longestChainMs", "listsFailed")


def parse_line(message: str, prefix: str) -> dict[str, Any] | None:
    """A telemetry line's fields, or None for any other log line (the inverse of `reconcile_line` and
    `heartbeat_line`, as the queries' `parse_json(substring(Message, strlen(prefix)))`)."""
    if not message.startswith(prefix):
        return None
    fields = json.loads(message[len(prefix):])
    return fields if isinstance(fields, dict) else None


def left_open(record: Mapping[str, Any], selected_networks: bool) -> bool:
    """Whether a reconcile found the account open and left it so (report mode, exempt, refused, contested, busy)."""
    codes = [str(_mapping(f).get("code")) for f in _list(record.get("findings"))]
    closed = any(_mapping(a).get("name") == "patch-account-network" and _mapping(a).get("status") == "succeeded"
                 for a in _list(record.get("actions")))
    return is_open(codes, selected_networks) and not closed


def open_since(history: Iterable[Mapping[str, Any]], selected_networks: bool) -> str | None:
    """When the account's current exposure began, from its audit records newest first: the drift event (else the
    record's time) of the oldest record in the unbroken run of records that left it open. None when its newest
    record did not leave it open (opened since, and no reconcile has seen it yet)."""
    since = None
    for record in history:
        if not left_open(record, selected_networks):
            break
        since = _mapping(record.get("event")).get("time") or record.get("time")
    return since if isinstance(since, str) else None
