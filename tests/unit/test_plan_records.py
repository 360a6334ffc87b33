"""plan(): PRIVATE_DNS_RECORD_MISMATCH (docs/findings.md): in each zone a serving endpoint's zone group names,
the A record named after the account's custom subdomain answers only serving endpoints' private IPs, and at
least one; the repair puts the record set back with the etag read. And `zone_group_refreshed`, the zone
group PUT rebuilt from a fresh read."""

from __future__ import annotations

from typing import Any

import pytest

from remediation.core.desired import AI_SERVICES_ZONE, COGNITIVE_ZONE, OPENAI_ZONE, dns_records, zones_for_kind
from remediation.core.findings import FindingCode
from remediation.core.ids import parse_resource_id
from remediation.core.model import ActionKind, Observation, PrivateEndpoint, Zone, ZoneGroup
from remediation.core.plan import Action, Plan, plan, zone_group_refreshed
from tests.helpers.arm_shapes import (
    DNS_RG,
    EXISTING_PE_ID,
    OTHER_DNS_RG,
    PE_IP,
    RECORD_ETAG,
    SUBDOMAIN,
    account_body,
    compliant_observation,
    connection_body,
    endpoint,
    full_zone_group,
    make_desired,
    make_settings,
    observation,
    record_id,
    record_set,
    zone_id,
    zones,
)
from tests.helpers.plans import PE, VNET, codes, one_action, only

ZONE = zone_id(OPENAI_ZONE)
RECORD = record_id(ZONE)
PE2 = parse_resource_id(EXISTING_PE_ID + "b")
PE2_IP = "10.1.0.5"
ROGUE = "10.2.0.66"  # a host in the workload subnet that would collect API keys


def with_records(obs: Observation, record_map: dict) -> Observation:
    return Observation(obs.account, obs.endpoints, obs.zones, obs.unverified, record_map)


def put_body(ips: list[str], etag: str | None = RECORD_ETAG, ttl: int = 10, **extra: Any) -> dict[str, Any]:
    return {"etag": etag, "properties": {"ttl": ttl, **extra, "aRecords": [{"ipv4Address": ip} for ip in ips]}}


@pytest.mark.parametrize("kind", ["OpenAI", "AIServices"])
def test_records_answering_the_endpoint_are_compliant(kind: str) -> None:
    assert plan(make_desired(kind=kind), compliant_observation(kind)) == Plan()


def test_repointed_record_is_put_back_with_the_etag_read() -> None:
    obs = with_records(compliant_observation(), {RECORD: record_set(ZONE, (ROGUE,), etag="etag-1")})
    result = plan(make_desired(), obs)
    finding = only(result, FindingCode.PRIVATE_DNS_RECORD_MISMATCH)
    assert (finding.property, finding.actual, finding.expected, finding.target) == (
        "privateDnsZones/A.properties.aRecords", [ROGUE], [PE_IP], str(RECORD))
    assert codes(result) == [FindingCode.PRIVATE_DNS_RECORD_MISMATCH]
    assert result.actions == (Action(ActionKind.PUT_DNS_RECORD, RECORD, put_body([PE_IP], "etag-1")),)


def test_an_extra_address_is_dropped_and_the_endpoints_kept() -> None:
    obs = with_records(compliant_observation(), {RECORD: record_set(ZONE, (PE_IP, ROGUE))})
    result = plan(make_desired(), obs)
    assert only(result, FindingCode.PRIVATE_DNS_RECORD_MISMATCH).actual == [PE_IP, ROGUE]
    assert one_action(result, ActionKind.PUT_DNS_RECORD).body == put_body([PE_IP])


@pytest.mark.parametrize("present", [False, True])
def test_a_missing_or_empty_record_is_created_create_only(present: bool) -> None:
    read = record_set(ZONE, ()) if present else None
    result = plan(make_desired(), with_records(compliant_observation(), {RECORD: read}))
    finding = only(result, FindingCode.PRIVATE_DNS_RECORD_MISMATCH)
    assert finding.actual == ([] if present else None) and finding.expected == [PE_IP]
    put = one_action(result, ActionKind.PUT_DNS_RECORD)
    assert put.body == put_body([PE_IP], RECORD_ETAG if present else None)  # None: If-None-Match: *
    assert put.blocked is None and put.requires == ()


def test_ttl_and_metadata_are_kept() -> None:
    read = record_set(ZONE, (ROGUE,), ttl=300, metadata={"owner": "dns-team"})
    put = one_action(plan(make_desired(), with_records(compliant_observation(), {RECORD: read})),
                     ActionKind.PUT_DNS_RECORD)
    assert put.body == put_body([PE_IP], ttl=300, metadata={"owner": "dns-team"})


def test_a_record_not_read_is_not_judged() -> None:
    assert plan(make_desired(), with_records(compliant_observation(), {})) == Plan()


def test_each_zone_of_an_ai_services_account_is_checked_alone() -> None:
    obs = compliant_observation("AIServices")
    cognitive = record_id(zone_id(COGNITIVE_ZONE))
    obs = with_records(obs, {**obs.records, cognitive: record_set(zone_id(COGNITIVE_ZONE), (ROGUE,))})
    result = plan(make_desired(kind="AIServices"), obs)
    assert only(result, FindingCode.PRIVATE_DNS_RECORD_MISMATCH).target == str(cognitive)
    assert [a.target for a in result.actions] == [cognitive]


# --- several serving endpoints -----------------------------------------------------------------------

def two_endpoints(record_ips: tuple[str, ...] | None) -> Observation:
    group = full_zone_group("OpenAI")
    return observation(
        account_body(connections=[connection_body(EXISTING_PE_ID), connection_body(str(PE2), name="conn2")]),
        endpoints={PE: endpoint(group=group, ips=(PE_IP,)), PE2: endpoint(str(PE2), group=group, ips=(PE2_IP,))},
        zone_map=zones("OpenAI"),
        record_map={RECORD: record_set(ZONE, record_ips) if record_ips is not None else None})


@pytest.mark.parametrize("held", [(PE2_IP,), (PE_IP,), (PE_IP, PE2_IP)])
def test_any_non_empty_subset_of_the_serving_ips_is_compliant(held: tuple[str, ...]) -> None:
    """Azure's zone groups leave the last writer's IP in a shared record: that still answers privately."""
    assert plan(make_desired(), two_endpoints(held)) == Plan()


def test_with_several_endpoints_a_foreign_address_is_dropped_and_the_rest_kept() -> None:
    result = plan(make_desired(), two_endpoints((ROGUE, PE2_IP)))
    assert only(result, FindingCode.PRIVATE_DNS_RECORD_MISMATCH).expected == [PE_IP, PE2_IP]
    assert one_action(result, ActionKind.PUT_DNS_RECORD).body == put_body([PE2_IP])


def test_with_several_endpoints_a_missing_record_gets_every_serving_ip() -> None:
    result = plan(make_desired(), two_endpoints(None))
    assert one_action(result, ActionKind.PUT_DNS_RECORD).body == put_body([PE_IP, PE2_IP], None)


def test_an_endpoint_in_another_subnet_does_not_make_its_ip_allowed() -> None:
    from tests.helpers.arm_shapes import FOREIGN_SUBNET_ID

    foreign = parse_resource_id(
        FOREIGN_SUBNET_ID.split("/providers/")[0] + "/providers/Microsoft.Network/privateEndpoints/pe-x")
    obs = observation(
        account_body(connections=[connection_body(EXISTING_PE_ID), connection_body(str(foreign), name="x")]),
        endpoints={PE: endpoint(group=full_zone_group("OpenAI"), ips=(PE_IP,)),
                   foreign: endpoint(str(foreign), FOREIGN_SUBNET_ID, full_zone_group("OpenAI"), ips=(ROGUE,))},
        zone_map=zones("OpenAI"), record_map={RECORD: record_set(ZONE, (ROGUE,))})
    result = plan(make_desired(), obs)
    assert only(result, FindingCode.PRIVATE_DNS_RECORD_MISMATCH).expected == [PE_IP]


# --- where the record is left to something else --------------------------------------------------------

def test_a_zone_group_being_written_rewrites_its_records_so_they_wait() -> None:
    """An incomplete group's PUT rewrites its records (and would change the etag under a record PUT)."""
    group = ZoneGroup("default", (("privatelink-openai-azure-com", zone_id(OPENAI_ZONE)),))
    obs = observation(account_body(kind="AIServices"), endpoints={PE: endpoint(group=group, ips=(PE_IP,),
                                                                                kind="AIServices")},
                      zone_map=zones("AIServices"), record_map={RECORD: record_set(ZONE, (ROGUE,))})
    result = plan(make_desired(kind="AIServices"), obs)
    assert codes(result) == [FindingCode.PRIVATE_DNS_ZONE_GROUP_INCOMPLETE]
    assert dns_records(make_desired(kind="AIServices"), SUBDOMAIN, obs.endpoints.values()) == {}


def test_an_endpoint_without_a_zone_group_leaves_the_record_to_the_group_it_gets() -> None:
    obs = observation(account_body(), endpoints={PE: endpoint(group=None, ips=(PE_IP,))}, zone_map=zones("OpenAI"),
                      record_map={RECORD: record_set(ZONE, (ROGUE,))})
    result = plan(make_desired(), obs)
    assert codes(result) == [FindingCode.PRIVATE_DNS_ZONE_GROUP_MISSING]


def test_unknown_endpoint_ips_leave_the_record_unjudged() -> None:
    obs = observation(account_body(), endpoints={PE: endpoint(group=full_zone_group("OpenAI"))},
                      zone_map=zones("OpenAI"), record_map={RECORD: record_set(ZONE, (ROGUE,))})
    assert dns_records(make_desired(), SUBDOMAIN, obs.endpoints.values()) == {}
    assert plan(make_desired(), obs) == Plan()


def test_ips_from_the_zone_groups_record_sets_when_the_endpoint_has_no_dns_configs() -> None:
    group = ZoneGroup.from_arm({"name": "default", "properties": {"privateDnsZoneConfigs": [{
        "name": "privatelink-openai-azure-com", "properties": {
            "privateDnsZoneId": str(ZONE), "recordSets": [{
                "recordType": "A", "recordSetName": SUBDOMAIN, "fqdn": f"{SUBDOMAIN}.{OPENAI_ZONE}",
                "ttl": 10, "ipAddresses": [PE_IP]}]}}]}})
    pe = PrivateEndpoint(PE, endpoint().subnet_id, group)
    assert pe.addresses_for(OPENAI_ZONE, SUBDOMAIN.upper()) == (PE_IP,)
    assert dns_records(make_desired(), SUBDOMAIN, [pe]) == {RECORD: frozenset({PE_IP})}


# --- where the app may write ----------------------------------------------------------------------------

def test_zone_outside_the_dns_resource_group_is_reported_only() -> None:
    central = zone_id(OPENAI_ZONE, OTHER_DNS_RG)
    group = ZoneGroup("default", (("privatelink-openai-azure-com", central),))
    obs = observation(account_body(), endpoints={PE: endpoint(group=group, ips=(PE_IP,))},
                      zone_map={central: Zone(central, True, frozenset({VNET}))},
                      record_map={record_id(central): record_set(central, (ROGUE,))})
    for settings in (make_settings(), make_settings(dns_zone_resource_group=None)):
        result = plan(make_desired(settings), obs)
        put = one_action(result, ActionKind.PUT_DNS_RECORD)
        assert (put.target == record_id(central) and put.blocked
                and "REMEDIATION_DNS_ZONE_RESOURCE_GROUP_ID" in put.blocked)


def test_a_deleted_zone_gets_its_record_back_after_it_is_created() -> None:
    zone_map = {ZONE: Zone(ZONE, exists=False)}
    obs = observation(account_body(), endpoints={PE: endpoint(group=full_zone_group("OpenAI"), ips=(PE_IP,))},
                      zone_map=zone_map, record_map={RECORD: None})
    result = plan(make_desired(), obs)
    assert codes(result) == [FindingCode.PRIVATE_DNS_ZONE_MISSING, FindingCode.PRIVATE_DNS_ZONE_LINK_MISSING,
                             FindingCode.PRIVATE_DNS_RECORD_MISMATCH]
    put = one_action(result, ActionKind.PUT_DNS_RECORD)
    assert put.requires == (ZONE,) and put.body == put_body([PE_IP], None)


def test_the_record_is_named_after_the_subdomain_in_lower_case() -> None:
    obs = compliant_observation(customSubDomainName="MyAccount")
    assert set(dns_records(make_desired(), "MyAccount", obs.endpoints.values())) == {RECORD}
    assert plan(make_desired(), obs) == Plan()


# --- zone_group_refreshed: the zone group PUT rebuilt from a fresh read ------------------------------

def group_put(*zone_names: str, kept: tuple[dict, ...] = ()) -> Action:
    configs = [*kept, *({"name": z.replace(".", "-"), "properties": {"privateDnsZoneId": str(zone_id(z))}}
                        for z in zone_names)]
    return Action(ActionKind.PUT_DNS_ZONE_GROUP, PE.child("privateDnsZoneGroups", "default"),
                  {"properties": {"privateDnsZoneConfigs": configs}})


def test_refreshed_group_keeps_what_is_there_now_and_adds_only_what_is_missing() -> None:
    desired = make_desired(kind="AIServices")
    custom = {"name": "team", "properties": {"privateDnsZoneId": str(zone_id("privatelink.blob.core.windows.net"))}}
    first = group_put(*zones_for_kind("AIServices"), kept=(custom,))
    # since the read, a person removed their own config and added the cognitive zone themselves
    fresh = ZoneGroup.from_arm({"name": "default", "properties": {"privateDnsZoneConfigs": [
        {"name": "mine", "properties": {"privateDnsZoneId": str(zone_id(COGNITIVE_ZONE))}}]}})
    rebuilt = zone_group_refreshed(desired, first, fresh)
    assert rebuilt is not None and rebuilt.target == first.target
    assert [c["name"] for c in rebuilt.body["properties"]["privateDnsZoneConfigs"]] == [
        "mine", "privatelink-openai-azure-com", "privatelink-services-ai-azure-com"]


def test_refreshed_group_is_none_when_nothing_is_missing_any_more() -> None:
    fresh = full_zone_group("OpenAI")
    assert zone_group_refreshed(make_desired(), group_put(OPENAI_ZONE), fresh) is None


def test_refreshed_group_that_is_gone_gets_the_needed_configs_only() -> None:
    custom = {"name": "team", "properties": {"privateDnsZoneId": str(zone_id("privatelink.blob.core.windows.net"))}}
    rebuilt = zone_group_refreshed(make_desired(), group_put(OPENAI_ZONE, kept=(custom,)), None)
    assert rebuilt is not None
    assert rebuilt.body == group_put(OPENAI_ZONE).body
    assert AI_SERVICES_ZONE not in str(rebuilt.body) and DNS_RG in str(rebuilt.body)
