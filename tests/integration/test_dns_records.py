"""The account's A records end to end (docs/findings.md, "The A records"): a record repointed, deleted or holding an
extra address is found by reconcile and by the sweep and put back with the etag read; a record someone
else added beside it is never touched; an A record event leads to the repair."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest

from localdev.arm_emulator.authorization import READER
from localdev.estate import DNS_RG_ID, OPENAI_ZONE, VNET_ID, ZONES_BY_KIND, Estate, account_id, rg_id, zone_id
from remediation.core.ids import parse_account_id
from remediation.core.model import Trigger
from tests.conftest import Stack
from tests.helpers.live import Live
from tests.helpers.sweeping import sweep

AOAI = account_id("aoai-prod")
RECORD = f"{zone_id(OPENAI_ZONE)}/A/aoai-prod"
NEIGHBOUR = f"{zone_id(OPENAI_ZONE)}/A/build-cache"  # someone else's record in the same zone
ROGUE = "10.2.0.66"  # a host in the workload subnet that would collect API keys
A_RECORD_API = "2024-06-01"


PE = f"{rg_id('rg-network')}/providers/Microsoft.Network/privateEndpoints/pe-aoai-prod-existing"


def endpoint_ip(stack: Stack) -> str:
    [config] = stack.resource(PE)["properties"]["customDnsConfigs"]
    return config["ipAddresses"][0]


def addresses(stack: Stack, record: str = RECORD) -> list[str] | None:
    found = stack.resource(record)
    return None if found is None else [a["ipv4Address"] for a in found["properties"]["aRecords"]]


def reconcile(stack: Stack, **settings: str) -> dict[str, Any]:
    result = stack.remediator(**settings).reconcile(parse_account_id(AOAI), Trigger.HTTP)
    assert result.audit_errors == []
    return result.record.to_json()


def codes(record: dict[str, Any]) -> list[str]:
    return sorted({f["code"] for f in record["findings"]})


def record_puts(stack: Stack) -> list[Any]:
    return [w for w in stack.writes() if "/A/" in w.path]


def person_sets(stack: Stack, record: str, *ips: str) -> None:
    stack.as_user("PUT", record, {"properties": {"ttl": 10, "aRecords": [{"ipv4Address": ip} for ip in ips]}},
                  api_version=A_RECORD_API)


@pytest.fixture
def locked(stack: Stack) -> Stack:
    """A locked account whose zone also holds a record of someone else's, beside the account's."""
    stack.seed(Estate().network((OPENAI_ZONE,)).locked("aoai-prod").record(OPENAI_ZONE, "build-cache", ("10.9.9.9",)))
    assert addresses(stack) == [endpoint_ip(stack)], "the zone group wrote the account's record"
    return stack


@pytest.mark.parametrize("drift", ["repointed", "extra address", "deleted", "emptied"])
def test_a_drifted_record_is_found_and_put_back_and_nothing_else_is_touched(locked: Stack, drift: str) -> None:
    stack, ip = locked, endpoint_ip(locked)
    if drift == "deleted":
        stack.as_user("DELETE", RECORD, api_version=A_RECORD_API)
    else:
        person_sets(stack, RECORD, *{"repointed": (ROGUE,), "extra address": (ip, ROGUE), "emptied": ()}[drift])
    drifted = stack.resource(RECORD)
    neighbour = stack.resource(NEIGHBOUR)

    record = reconcile(stack)

    assert record["outcome"] == "remediated", record["error"]
    assert codes(record) == ["PRIVATE_DNS_RECORD_MISMATCH"]
    [finding] = record["findings"]
    assert finding["target"].lower() == RECORD.lower() and finding["expected"] == [ip]
    [put] = stack.writes()
    assert put.method == "PUT" and put.path.split("?")[0].lower() == RECORD.lower()
    assert put.request_body == {"properties": {"ttl": 10, "aRecords": [{"ipv4Address": ip}]}}
    if drifted is None:
        assert put.headers.get("if-none-match") == "*" and "if-match" not in put.headers
    else:
        assert put.headers.get("if-match", "").strip('"') == drifted["etag"]
    assert addresses(stack) == [ip]
    assert stack.resource(NEIGHBOUR) == neighbour, "a record beside it is never touched"
    stack.emulator.clear_requests()
    again = reconcile(stack)
    assert again["outcome"] == "compliant" and stack.writes() == []


@pytest.mark.parametrize("drift", ["repointed", "extra address", "deleted"])
def test_the_sweep_finds_a_drifted_record_and_the_queued_reconcile_repairs_it(locked: Stack, drift: str) -> None:
    stack, ip = locked, endpoint_ip(locked)
    if drift == "deleted":
        stack.as_user("DELETE", RECORD, api_version=A_RECORD_API)
    else:
        person_sets(stack, RECORD, *((ROGUE,) if drift == "repointed" else (ip, ROGUE)))

    [summary], queued = sweep(stack)

    assert queued == [AOAI]
    # The lists carry no zone groups: a missing record looks like a missing group until a reconcile reads it.
    label = "PRIVATE_DNS_ZONE_GROUP_MISSING" if drift == "deleted" else "PRIVATE_DNS_RECORD_MISMATCH"
    assert dict(summary.by_finding) == {label: 1}
    assert stack.writes() == [] and not [r for r in stack.arm("read") if "/A/" in r.path]
    assert reconcile(stack)["outcome"] == "remediated" and addresses(stack) == [ip]


def test_a_sweep_of_compliant_records_queues_nothing_and_costs_no_extra_request(stack: Stack) -> None:
    zones = ZONES_BY_KIND["AIServices"]
    stack.seed(Estate().network(zones).locked("aoai-a").locked("ais-b", "AIServices")
               .record(OPENAI_ZONE, "build-cache", ("10.9.9.9",)))

    [summary], queued = sweep(stack)

    assert (summary.accounts, queued, dict(summary.by_finding)) == (2, [], {})
    record_lists = [r.path for r in stack.arm("read") if r.path.endswith("/ALL")]
    assert len(record_lists) == len(zones), "one list of record sets per zone, whatever the accounts"


def test_a_record_changed_between_the_read_and_the_write_is_not_overwritten(stack: Stack) -> None:
    """If-Match: the app's PUT lands only on the record it read; a 412 leaves the person's record in place,
    and the next reconcile reads it again."""
    stack.seed(Estate().network((OPENAI_ZONE,)).locked("aoai-prod", disable_local_auth=False)
               .record(OPENAI_ZONE, "aoai-prod", (ROGUE,)))
    app = stack.emulator.app_identity.object_id
    changed = threading.Event()

    def person_edits_the_record_meanwhile(write: Any) -> None:
        if write.caller_claims.get("oid") == app and "/accounts/" in write.resource_id and not changed.is_set():
            changed.set()  # the account's PATCH (sent after the reads) comes first; the record PUT, built on the
            person_sets(stack, RECORD, "10.2.0.67")  # read before it, after

    stack.emulator.on_write(person_edits_the_record_meanwhile)

    record = reconcile(stack, REMEDIATION_DISABLE_LOCAL_AUTH="true")

    assert changed.is_set()
    assert record["outcome"] == "failed"
    [put] = [a for a in record["actions"] if a["name"] == "put-private-dns-record"]
    assert put["status"] == "failed" and "changed since it was read" in put["error"]
    assert [w.status for w in record_puts(stack)] == [412]
    assert addresses(stack) == ["10.2.0.67"], "what the person wrote is not overwritten blindly"
    again = reconcile(stack, REMEDIATION_DISABLE_LOCAL_AUTH="true")
    assert again["outcome"] == "remediated" and addresses(stack) == [endpoint_ip(stack)]


def test_a_record_in_a_zone_outside_the_dns_resource_group_is_reported_only(stack: Stack) -> None:
    central = rg_id("rg-central-dns")
    zone = zone_id(OPENAI_ZONE, central)
    estate = (Estate().network().account("aoai-prod").endpoint(AOAI)
              .add({"id": zone, "location": "global"})
              .add({"id": f"{zone}/virtualNetworkLinks/hub", "location": "global",
                    "properties": {"virtualNetwork": {"id": VNET_ID}}})
              .add({"id": f"{PE}/privateDnsZoneGroups/default", "properties": {"privateDnsZoneConfigs": [
                  {"name": "oai", "properties": {"privateDnsZoneId": zone}}]}})
              .add({"id": f"{zone}/A/aoai-prod", "properties": {"ttl": 10, "aRecords": [{"ipv4Address": ROGUE}]}}))
    scenario = estate.scenario()
    scenario["resourceGroups"].append(central)
    stack.emulator.seed(scenario)
    stack.emulator.clear_requests()
    remediator = stack.remediator()  # its rights: those a deployment with these settings grants
    # An operator lets the app read (not write) the central zones, so it can verify and report them.
    stack.emulator.rbac.assign(stack.emulator.app_identity.object_id, READER, central.lower(),
                               principal_type="ServicePrincipal")

    record = remediator.reconcile(parse_account_id(AOAI), Trigger.HTTP).record.to_json()

    assert codes(record) == ["PRIVATE_DNS_RECORD_MISMATCH"] and record["outcome"] == "failed"
    [put] = record["actions"]
    assert put["status"] == "skipped" and "outside REMEDIATION_DNS_ZONE_RESOURCE_GROUP_ID" in put["error"]
    assert stack.writes() == [] and addresses(stack, f"{zone}/A/aoai-prod") == [ROGUE]
    assert not put["target"].lower().startswith(DNS_RG_ID.lower())


# --- events ---------------------------------------------------------------------------------------

def _seen_once(live: Live) -> None:
    """A first reconcile, so the serving index knows which zones serve the account (and its record name)."""
    import azure.functions as func

    body = json.dumps({"resourceId": AOAI}).encode()
    answer = json.loads(live.app.remediate(func.HttpRequest(method="POST", url="/api/remediate", body=body)).get_body())
    assert answer["outcome"] == "compliant"


@pytest.mark.parametrize("drift", ["deleted", "repointed"])
def test_an_a_record_event_leads_to_the_repair(locked: Stack, drift: str) -> None:
    stack, ip = locked, endpoint_ip(locked)
    live = Live(stack)
    try:
        _seen_once(live)

        if drift == "deleted":
            stack.as_user("DELETE", RECORD, api_version=A_RECORD_API)
        else:
            person_sets(stack, RECORD, ROGUE)
        live.settle()

        assert addresses(stack) == [ip]
        newest = live.history()[0]
        assert newest["outcome"] == "remediated" and newest["trigger"] == "event"
        assert [f["code"] for f in newest["findings"]] == ["PRIVATE_DNS_RECORD_MISMATCH"]
        assert newest["event"]["operationName"] == f"Microsoft.Network/privateDnsZones/A/" \
                                                   f"{'delete' if drift == 'deleted' else 'write'}"
        assert newest["actor"]["upn"] == "dana@contoso.example"
        assert len(live.history()) == 2, "the app's own record PUT came back as an event and was ignored"
    finally:
        live.close()


def test_an_event_about_someone_elses_record_reconciles_no_account(locked: Stack) -> None:
    stack = locked
    live = Live(stack)
    try:
        _seen_once(live)
        stack.emulator.clear_requests()

        person_sets(stack, NEIGHBOUR, ROGUE)
        live.settle()

        assert len(live.history()) == 1, "no reconcile: the record belongs to no managed account"
        assert [r for r in stack.arm() if r.caller and r.caller.get("oid") == stack.emulator.app_identity.object_id] \
            == []
    finally:
        live.close()


def test_the_serving_index_maps_a_record_to_the_account_it_is_named_after(stack: Stack) -> None:
    from remediation.core.ids import parse_resource_id
    from remediation.store.storage import table_key

    index = stack.remediator().index
    assert index is not None
    zone = parse_resource_id(zone_id(OPENAI_ZONE))
    prod, chat, old = (parse_account_id(account_id(n)) for n in ("aoai-prod", "aoai-chat", "aoai-old"))
    index.remember(prod, [], [zone], "AOAI-Prod")
    index.remember(chat, [], [zone], "aoai-chat")
    # a row an earlier version wrote, without the record name: it could be any record's account
    index._storage.audit_table().upsert_entity({"PartitionKey": f"zone-{table_key(zone)}", "RowKey": table_key(old),
                                                "account": str(old), "zone": str(zone)})

    assert index.accounts_of_zone(zone, "aoai-prod") == sorted([prod, old], key=lambda a: a.key)
    assert index.accounts_of_zone(zone, "build-cache") == [old]
    assert index.accounts_of_zone(zone) == sorted([prod, chat, old], key=lambda a: a.key)
