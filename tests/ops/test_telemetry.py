"""The telemetry line: what it carries of an audit record, and its bound, for the largest record the app can make."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from remediation.core.bounds import MAX_RECORD_CHARS, size
from remediation.core.findings import FindingCode
from remediation.core.model import Mode, Outcome, Trigger
from remediation.core.record import AuditRecord
from remediation.core.telemetry import (
    HEARTBEAT_FIELDS,
    HEARTBEAT_PREFIX,
    MAX_LINE_CHARS,
    RECONCILE_PREFIX,
    heartbeat_line,
    is_open,
    open_since,
    parse_line,
    reconcile_line,
)

AOAI = "/subscriptions/00000000-0000-0000-0000-00000000000a/resourceGroups/rg-ai/providers/" \
       "Microsoft.CognitiveServices/accounts/aoai-prod"
WIDE = "\u2028"  # json.dumps writes it as six characters: the worst case for a character budget


def test_the_line_carries_what_alerts_and_the_workbook_read_and_no_ip_address() -> None:
    record = AuditRecord(
        AOAI, Trigger.EVENT, Mode.ENFORCE, Outcome.REMEDIATED, kind="OpenAI", duration_ms=812, event_to_fix_ms=1930,
        event_to_closed_ms=1931, error_kind=None,
        actor={"name": "Dana Admin", "upn": "dana@contoso.example", "appId": "app", "objectId": "oid",
               "ipAddress": "203.0.113.9"},
        findings=[{"code": "PUBLIC_NETWORK_ACCESS_ENABLED"}, {"code": "PRIVATE_DNS_ZONE_LINK_MISSING", "target": "a"},
                  {"code": "PRIVATE_DNS_ZONE_LINK_MISSING", "target": "b"}],
        actions=[{"name": "patch-account-network", "status": "succeeded", "target": AOAI, "error": None},
                 {"name": "create-private-dns-zone-link", "status": "failed", "target": "x", "error": "403"}],
        contest={"fixesLastHour": 4, "limit": 3, "firstOfEpisode": True},
        exemption={"exempt": False, "by": None, "tag": "remediation-exempt", "value": "soon"})
    line = reconcile_line(record.to_json())
    fields = parse_line(line, RECONCILE_PREFIX)
    assert line.startswith(RECONCILE_PREFIX) and fields is not None
    assert fields["account"] == "aoai-prod" and fields["resourceGroup"] == "rg-ai"
    assert fields["subscription"] == "00000000-0000-0000-0000-00000000000a"
    assert fields["findings"] == ["PUBLIC_NETWORK_ACCESS_ENABLED", "PRIVATE_DNS_ZONE_LINK_MISSING"]
    assert fields["actions"] == [{"name": "patch-account-network", "status": "succeeded"},
                                 {"name": "create-private-dns-zone-link", "status": "failed"}]
    assert fields["fixKind"] == "patch-account-network"
    assert fields["eventToClosedMs"] == 1931 and fields["eventToFixMs"] == 1930 and fields["durationMs"] == 812
    assert fields["actor"] == {"name": "Dana Admin", "upn": "dana@contoso.example", "appId": "app", "objectId": "oid"}
    assert "203.0.113.9" not in line
    assert fields["fixesLastHour"] == 4 and fields["contestAlert"] is True
    assert fields["exemptUntil"] is None and fields["exemptBy"] is None  # tagged, but not exempt
    assert parse_line("sweep of …", RECONCILE_PREFIX) is None


def test_a_folded_reconcile_names_its_newest_actor() -> None:
    record = AuditRecord(AOAI, Trigger.EVENT, Mode.ENFORCE, Outcome.REMEDIATED,
                         actors=[{"name": "First", "upn": "a@x"}, {"name": "Second", "upn": "b@x"}]).to_json()
    fields = parse_line(reconcile_line(record), RECONCILE_PREFIX)
    assert fields is not None and fields["actor"]["upn"] == "b@x" and fields["actors"] == 2


def _largest_record() -> AuditRecord:
    """Every field the line reads, larger than any record the app keeps (`bounds` cuts one to 300,000 characters):
    thousands of findings and actions with codes that escape to six characters each, and an actor, a resource ID and
    an error of 40,000 such characters."""
    huge = WIDE * 40_000
    return AuditRecord(
        huge, Trigger.EVENT, Mode.ENFORCE, Outcome.FAILED, kind=huge, error=huge, error_kind=huge,
        actor={k: huge for k in ("name", "upn", "appId", "objectId", "ipAddress")},
        actors=[{"name": huge[:400]}] * 2000,
        findings=[{"code": f"{huge[:400]}{i}", "actual": huge[:400]} for i in range(2000)],
        actions=[{"name": f"{huge[:400]}{i}", "status": huge[:100], "target": huge[:400]} for i in range(2000)],
        exemption={"exempt": True, "by": huge, "until": huge}, contest={"fixesLastHour": 10**18},
        id=huge, time=datetime.now(UTC))


def test_the_largest_record_the_app_can_make_gives_a_line_within_the_bound() -> None:
    record = _largest_record()
    stored = record.to_json()  # bounded, as every sink receives it
    assert size(stored) <= MAX_RECORD_CHARS
    for data in (stored, record._json()):  # and as a record read back from elsewhere could be, unbounded
        line = reconcile_line(data)
        assert len(line) <= MAX_LINE_CHARS < 32_768
        fields = parse_line(line, RECONCILE_PREFIX)
        assert fields is not None and fields["outcome"] == "failed"
    fields = parse_line(reconcile_line(record._json()), RECONCILE_PREFIX)
    assert fields is not None and len(fields["actions"]) == 20 and fields["actionsOmitted"] == 1980
    assert fields["findingsOmitted"] == 1980 and fields["error"].endswith("...")


@settings(max_examples=60, deadline=None)
@given(st.dictionaries(st.sampled_from(["id", "time", "resourceId", "kind", "trigger", "mode", "outcome", "error",
                                        "errorKind", "actor", "actors", "findings", "actions", "exemption", "contest",
                                        "eventToFixMs", "eventToClosedMs", "durationMs"]),
                       st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=3000),
                                    lambda inner: st.lists(inner, max_size=30) | st.dictionaries(
                                        st.sampled_from(["code", "name", "status", "upn", "until", "exempt",
                                                         "fixesLastHour", "firstOfEpisode"]), inner, max_size=5)),
                       max_size=18))
def test_any_record_shape_gives_a_bounded_parsable_line(record: dict) -> None:
    line = reconcile_line(record)
    assert len(line) <= MAX_LINE_CHARS
    assert parse_line(line, RECONCILE_PREFIX) is not None


def test_the_heartbeat_line_keeps_its_fields_in_order_and_whole_numbers_only() -> None:
    line = heartbeat_line({"accountsScreened": 12, "accountsOpen": 2, "poisonQueueLength": 0,
                           "oldestOpenAccount": AOAI, "workQueueLength": "7"}, datetime(2026, 11, 26, 10, tzinfo=UTC))
    fields = parse_line(line, HEARTBEAT_PREFIX)
    assert fields is not None and list(fields) == ["schema", "time", *HEARTBEAT_FIELDS]
    assert fields["time"] == "2026-11-26T10:00:00.000Z"
    assert fields["accountsScreened"] == 12 and fields["poisonQueueLength"] == 0 and fields["accountsExempt"] is None
    assert fields["oldestOpenAccount"] == AOAI and fields["workQueueLength"] == "7"  # strings kept as given
    assert json.loads(line[len(HEARTBEAT_PREFIX):]) == fields


def test_open_means_what_close_first_closes() -> None:
    assert is_open([FindingCode.PUBLIC_NETWORK_ACCESS_ENABLED], selected_networks=False)
    assert not is_open(["NETWORK_DEFAULT_ACTION_ALLOW", "IP_RULE_NOT_ALLOWED"], selected_networks=False)
    assert is_open(["NETWORK_DEFAULT_ACTION_ALLOW"], selected_networks=True)
    assert not is_open([FindingCode.PUBLIC_NETWORK_ACCESS_ENABLED], selected_networks=True)


def _record(outcome: str, time: str, *, closed: bool = False, event_time: str | None = None) -> dict:
    return {"outcome": outcome, "time": time, "event": {"time": event_time} if event_time else None,
            "findings": [{"code": "PUBLIC_NETWORK_ACCESS_ENABLED"}],
            "actions": [{"name": "patch-account-network", "status": "succeeded" if closed else "planned"}]}


def test_an_exposure_began_with_the_oldest_record_of_the_run_that_left_it_open() -> None:
    newest_first = [_record("would-remediate", "2026-11-26T12:00:00Z"),
                    _record("failed", "2026-11-26T11:00:00Z", event_time="2026-11-26T10:59:00Z"),
                    _record("remediated", "2026-11-26T09:00:00Z", closed=True),
                    _record("would-remediate", "2026-11-26T08:00:00Z")]
    assert open_since(newest_first, selected_networks=False) == "2026-11-26T10:59:00Z"
    assert open_since(newest_first[2:], selected_networks=False) is None  # the newest record closed it
    assert open_since([], selected_networks=False) is None
