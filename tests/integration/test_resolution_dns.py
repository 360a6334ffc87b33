"""The resolution check end to end: dnspython asks the local DNS server (Azure's resolver for the hub VNet,
reading the ARM emulator) for an account's names, and the verdict names what a person broke."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from localdev.arm_emulator import ArmEmulator
from localdev.dns_server import DnsServer, ResolverMode, public_address
from localdev.estate import OPENAI_ZONE, VNET_ID, Estate, account_id, rg_id, zone_id
from localdev.lookup import lookup, rows, serving_ips, table, zone_links
from localdev.person import write_as
from remediation.arm.resolution import Cause, Status, ZoneLink, judge, parse_resolver, public_names, resolve

DNS_API = "2024-06-01"
AI_ZONES = ("privatelink.cognitiveservices.azure.com", OPENAI_ZONE, "privatelink.services.ai.azure.com")
SPOKE_VNET = f"{rg_id('rg-spoke')}/providers/Microsoft.Network/virtualNetworks/vnet-spoke"
PROD = account_id("aoai-prod")


@pytest.fixture
def emulator(arm_emulator: ArmEmulator) -> ArmEmulator:
    arm_emulator.reset()
    return arm_emulator


@pytest.fixture
def dns(emulator: ArmEmulator) -> Iterator[DnsServer]:
    with DnsServer(emulator, VNET_ID) as server:
        yield server


def check(emulator: ArmEmulator, dns: DnsServer, account: str = PROD, *, kind: str = "OpenAI",
          subdomain: str = "aoai-prod", links: dict[str, ZoneLink] | None = None):
    """What the app does: resolve the account's names through REMEDIATION_DNS_RESOLVER, judge them."""
    answers = resolve(public_names(kind, subdomain), parse_resolver(dns.address), timeout=1, lifetime=2)
    return judge(answers, serving_ips(emulator, account), links)


def test_a_linked_zone_passes(emulator: ArmEmulator, dns: DnsServer) -> None:
    emulator.seed(Estate().network((OPENAI_ZONE,)).locked("aoai-prod").scenario())
    verdict = check(emulator, dns)
    assert verdict.ok, verdict.failures
    [name] = verdict.names
    assert name.answer.chain == ("aoai-prod.privatelink.openai.azure.com",)
    assert name.answer.addresses == tuple(serving_ips(emulator, PROD)) and name.answer.addresses[0].startswith("10.1.")


def test_an_ai_services_account_passes_on_all_three_names(emulator: ArmEmulator, dns: DnsServer) -> None:
    emulator.seed(Estate().network(AI_ZONES).locked("ais-agents", "AIServices").scenario())
    verdict = check(emulator, dns, account_id("ais-agents"), kind="AIServices", subdomain="ais-agents")
    assert verdict.ok and [n.name for n in verdict.names] == list(public_names("AIServices", "ais-agents"))


def test_an_unlinked_zone_fails_with_the_zone_not_linked(emulator: ArmEmulator, dns: DnsServer) -> None:
    emulator.seed(Estate().network((OPENAI_ZONE,), linked=False).locked("aoai-prod").scenario())
    verdict = check(emulator, dns, links=zone_links(emulator, VNET_ID))
    [name] = verdict.failures
    assert name.causes == (Cause.ZONE_NOT_LINKED,)
    assert name.answer.addresses == (public_address("aoai-prod.openai.azure.com"),)
    assert name.answer.chain == ("aoai-prod.privatelink.openai.azure.com",)
    # Without knowing the link, both causes of a public answer are named.
    assert check(emulator, dns).names[0].causes == (Cause.ZONE_NOT_LINKED, Cause.RESOLVER_NOT_FORWARDING)


def test_a_zone_linked_to_another_vnet_only_fails_from_this_one(emulator: ArmEmulator, dns: DnsServer) -> None:
    emulator.seed(Estate().network((OPENAI_ZONE,)).locked("aoai-prod").scenario())
    dns.vnet_id = SPOKE_VNET   # the app sits in a spoke the zone is not linked to
    verdict = check(emulator, dns, links=zone_links(emulator, SPOKE_VNET))
    assert verdict.names[0].causes == (Cause.ZONE_NOT_LINKED,)
    dns.vnet_id = VNET_ID
    assert check(emulator, dns, links=zone_links(emulator, VNET_ID)).ok


def test_a_resolver_that_answers_publicly_fails_with_the_resolver_as_cause(emulator: ArmEmulator,
                                                                           dns: DnsServer) -> None:
    emulator.seed(Estate().network((OPENAI_ZONE,)).locked("aoai-prod").scenario())
    dns.mode = ResolverMode.PUBLIC_ONLY
    verdict = check(emulator, dns, links=zone_links(emulator, VNET_ID))
    [name] = verdict.failures
    assert name.causes == (Cause.RESOLVER_NOT_FORWARDING,)
    assert name.answer.addresses == (public_address("aoai-prod.openai.azure.com"),)
    assert "168.63.129.16" in name.reason


def test_a_deleted_record_fails_with_the_record_missing(emulator: ArmEmulator, dns: DnsServer) -> None:
    emulator.seed(Estate().network((OPENAI_ZONE,)).locked("aoai-prod").scenario())
    assert check(emulator, dns).ok
    write_as(emulator, "DELETE", f"{zone_id(OPENAI_ZONE)}/A/aoai-prod", api_version=DNS_API)
    [name] = check(emulator, dns, links=zone_links(emulator, VNET_ID)).failures
    assert name.answer.status is Status.NXDOMAIN and name.causes == (Cause.RECORD_MISSING,)


def test_a_deleted_record_behind_fallback_to_internet_still_fails(emulator: ArmEmulator, dns: DnsServer) -> None:
    emulator.seed(Estate().network().zone(OPENAI_ZONE, linked=False).locked("aoai-prod").add(
        {"id": f"{zone_id(OPENAI_ZONE)}/virtualNetworkLinks/hub", "location": "global",
         "properties": {"virtualNetwork": {"id": VNET_ID}, "resolutionPolicy": "NxDomainRedirect"}}).scenario())
    write_as(emulator, "DELETE", f"{zone_id(OPENAI_ZONE)}/A/aoai-prod", api_version=DNS_API)
    links = zone_links(emulator, VNET_ID)
    assert links[OPENAI_ZONE] is ZoneLink.LINKED_WITH_FALLBACK
    [name] = check(emulator, dns, links=links).failures
    assert name.answer.status is Status.ANSWERED   # the public answer hides the missing record
    assert name.causes == (Cause.RECORD_MISSING, Cause.RESOLVER_NOT_FORWARDING)


def test_a_repointed_record_fails_with_the_address_it_points_at(emulator: ArmEmulator, dns: DnsServer) -> None:
    emulator.seed(Estate().network((OPENAI_ZONE,)).locked("aoai-prod").scenario())
    write_as(emulator, "PUT", f"{zone_id(OPENAI_ZONE)}/A/aoai-prod",
             {"properties": {"ttl": 10, "aRecords": [{"ipv4Address": "10.2.0.50"}]}}, api_version=DNS_API)
    [name] = check(emulator, dns).failures
    assert name.causes == (Cause.RECORD_POINTS_ELSEWHERE,) and name.unexpected == ("10.2.0.50",)
    assert serving_ips(emulator, PROD)[0] in name.reason


def test_an_address_added_beside_the_endpoints_fails(emulator: ArmEmulator, dns: DnsServer) -> None:
    emulator.seed(Estate().network((OPENAI_ZONE,)).locked("aoai-prod").scenario())
    endpoint = serving_ips(emulator, PROD)[0]
    write_as(emulator, "PUT", f"{zone_id(OPENAI_ZONE)}/A/aoai-prod",
             {"properties": {"ttl": 10, "aRecords": [{"ipv4Address": endpoint}, {"ipv4Address": "10.2.0.50"}]}},
             api_version=DNS_API)
    [name] = check(emulator, dns).failures
    assert set(name.answer.addresses) == {endpoint, "10.2.0.50"} and name.causes == (Cause.RECORD_POINTS_ELSEWHERE,)


def test_an_account_with_no_endpoint_has_no_privatelink_alias(emulator: ArmEmulator, dns: DnsServer) -> None:
    emulator.seed(Estate().network((OPENAI_ZONE,)).account("aoai-prod").scenario())
    [name] = check(emulator, dns).failures
    assert name.answer.chain == () and name.causes == (Cause.NO_PRIVATELINK_ALIAS,)


def test_each_account_answers_its_own_endpoint(emulator: ArmEmulator, dns: DnsServer) -> None:
    emulator.seed(Estate().network((OPENAI_ZONE,)).locked("aoai-prod").locked("aoai-chat").scenario())
    chat = account_id("aoai-chat")
    assert serving_ips(emulator, PROD) != serving_ips(emulator, chat)
    assert check(emulator, dns).ok and check(emulator, dns, chat, subdomain="aoai-chat").ok
    # One account's address is not another's: judged against the wrong endpoint, the answer fails.
    [name] = judge(resolve(["aoai-chat.openai.azure.com"], parse_resolver(dns.address)),
                   serving_ips(emulator, PROD)).failures
    assert name.causes == (Cause.RECORD_POINTS_ELSEWHERE,)


# -- the resolver does not answer ---------------------------------------------------------------------------------
def test_a_resolver_that_does_not_answer_is_a_bounded_failure(emulator: ArmEmulator, dns: DnsServer) -> None:
    emulator.seed(Estate().network((OPENAI_ZONE,)).locked("aoai-prod").scenario())
    address = parse_resolver(dns.address)
    dns.stop()   # nothing listens there now
    started = time.monotonic()
    answers = resolve(public_names("AIServices", "aoai-prod"), address, timeout=0.3, lifetime=0.5)
    took = time.monotonic() - started
    assert all(a.status in (Status.TIMEOUT, Status.ERROR) and a.resolver == str(address) for a in answers)
    assert took < 3 * 0.5 + 1   # each name bounded by its lifetime
    verdict = judge(answers, serving_ips(emulator, PROD))
    assert {c for n in verdict.names for c in n.causes} == {Cause.RESOLVER_FAILED}


def test_the_system_resolver_is_read_from_resolv_conf(emulator: ArmEmulator, dns: DnsServer, tmp_path: Path) -> None:
    emulator.seed(Estate().network((OPENAI_ZONE,)).locked("aoai-prod").scenario())
    conf = tmp_path / "resolv.conf"
    conf.write_text("nameserver 127.0.0.1\n")   # loopback, port 53: nobody there in the test
    [answer] = resolve(["aoai-prod.openai.azure.com"], resolv_conf=str(conf), timeout=0.3, lifetime=0.5)
    assert answer.resolver == "127.0.0.1:53" and answer.status in (Status.TIMEOUT, Status.ERROR)
    empty = tmp_path / "empty.conf"
    empty.write_text("# no nameserver\n")
    [answer] = resolve(["aoai-prod.openai.azure.com"], resolv_conf=str(empty))
    assert answer.status is Status.ERROR and "resolver" in answer.detail
    [answer] = resolve(["aoai-prod.openai.azure.com"], resolv_conf=str(tmp_path / "missing.conf"))
    assert answer.status is Status.ERROR


# -- the demo's lookup table ----------------------------------------------------------------------------------------
def test_the_lookup_table_before_and_after_a_person_breaks_dns(emulator: ArmEmulator, dns: DnsServer) -> None:
    emulator.seed(Estate().network((OPENAI_ZONE,)).locked("aoai-prod").scenario())
    before = lookup(emulator, dns, PROD)
    assert before.ok and rows(before)[0][2] == "yes"
    write_as(emulator, "PUT", f"{zone_id(OPENAI_ZONE)}/A/aoai-prod",
             {"properties": {"ttl": 10, "aRecords": [{"ipv4Address": "10.2.0.50"}]}}, api_version=DNS_API)
    after = lookup(emulator, dns, PROD)
    assert rows(after) == [["aoai-prod.openai.azure.com", "→ aoai-prod.privatelink.openai.azure.com\n→ 10.2.0.50",
                            "no: record-points-elsewhere"]]
    assert "10.2.0.50" in table(after) and "private?" in table(after)
    write_as(emulator, "DELETE", f"{zone_id(OPENAI_ZONE)}/virtualNetworkLinks/hub", api_version=DNS_API)
    assert rows(lookup(emulator, dns, PROD))[0][2] == "no: zone-not-linked"


def test_the_lookup_of_an_account_without_subdomain(emulator: ArmEmulator, dns: DnsServer) -> None:
    emulator.seed(Estate().network((OPENAI_ZONE,)).account("aoai-bare", subdomain=False).scenario())
    verdict = lookup(emulator, dns, account_id("aoai-bare"))
    assert not verdict.ok and verdict.names == () and "no custom subdomain" in table(verdict)
