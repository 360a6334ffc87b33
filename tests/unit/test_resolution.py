"""The resolution check's pure parts: names per kind, the resolver setting, and the verdict with its causes."""

from __future__ import annotations

import ipaddress
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from remediation.arm.resolution import (
    PRIVATE_NETWORKS,
    Answer,
    Cause,
    ResolverAddress,
    Status,
    ZoneLink,
    judge,
    parse_resolver,
    privatelink_name,
    privatelink_zone,
    public_names,
)
from remediation.core.desired import zones_for_kind

ENDPOINT = "10.1.0.4"
NAME = "aoai-prod.openai.azure.com"
ALIAS = "aoai-prod.privatelink.openai.azure.com"
ZONE = "privatelink.openai.azure.com"


def answered(*addresses: str, chain: tuple[str, ...] = (ALIAS,), name: str = NAME) -> Answer:
    return Answer(name, Status.ANSWERED, chain, addresses, "127.0.0.1:53")


def one(answer: Answer, link: ZoneLink | None = None, endpoints: tuple[str, ...] = (ENDPOINT,)):
    verdict = judge([answer], endpoints, {ZONE: link} if link else None)
    assert len(verdict.names) == 1
    return verdict.names[0]


# -- names -------------------------------------------------------------------------------------------------
def test_names_per_kind() -> None:
    assert public_names("OpenAI", "Aoai-Prod") == ("aoai-prod.openai.azure.com",)
    assert public_names("AIServices", "ais") == ("ais.openai.azure.com", "ais.cognitiveservices.azure.com",
                                                 "ais.services.ai.azure.com")
    assert public_names("TextAnalytics", "lang") == ("lang.cognitiveservices.azure.com",)
    assert public_names(None, "x") == ("x.cognitiveservices.azure.com",)


@pytest.mark.parametrize("kind", ["OpenAI", "AIServices", "SpeechServices", "openai"])
def test_names_follow_the_zones_each_kind_needs(kind: str) -> None:
    # One public name per privatelink zone of DESIGN §4, so the check looks at exactly the zones the app keeps.
    assert {privatelink_zone(n) for n in public_names(kind, "sub")} == set(zones_for_kind(kind))


def test_privatelink_name_and_zone() -> None:
    assert privatelink_name("A.services.ai.azure.com.") == "a.privatelink.services.ai.azure.com"
    assert privatelink_zone("a.cognitiveservices.azure.com") == "privatelink.cognitiveservices.azure.com"
    assert privatelink_name("example.com") is None and privatelink_zone("example.com") is None


# -- REMEDIATION_DNS_RESOLVER --------------------------------------------------------------------------------
@pytest.mark.parametrize("value, expected", [
    ("168.63.129.16", ResolverAddress("168.63.129.16", 53)),
    (" 10.0.0.4:5353 ", ResolverAddress("10.0.0.4", 5353)),
    ("::1", ResolverAddress("::1", 53)),
    ("[fd00::53]:1053", ResolverAddress("fd00::53", 1053)),
    ("[::1]", ResolverAddress("::1", 53)),
])
def test_resolver_setting(value: str, expected: ResolverAddress) -> None:
    assert parse_resolver(value) == expected
    assert parse_resolver(str(expected)) == expected


@pytest.mark.parametrize("value", ["", "dns.contoso.example", "10.0.0.4:0", "10.0.0.4:65536", "10.0.0.4:x",
                                   "[::1", "[::1]x", "300.1.1.1", "10.0.0.4:53:53"])
def test_resolver_setting_refuses(value: str) -> None:
    with pytest.raises(ValueError):
        parse_resolver(value)


# -- the verdict, one cause at a time ------------------------------------------------------------------------------
def test_the_endpoint_address_is_private() -> None:
    verdict = judge([answered(ENDPOINT)], [ENDPOINT])
    assert verdict.ok and verdict.failures == ()
    assert verdict.names[0].causes == () and verdict.names[0].unexpected == ()


def test_no_names_is_not_a_pass() -> None:
    assert not judge([], [ENDPOINT]).ok


def test_any_endpoint_of_several_will_do() -> None:
    assert judge([answered("10.9.0.5")], [ENDPOINT, "10.9.0.5"]).ok


def test_public_answer_through_the_alias_with_the_zone_not_linked() -> None:
    verdict = one(answered("203.0.113.10"), ZoneLink.NOT_LINKED)
    assert not verdict.private and verdict.causes == (Cause.ZONE_NOT_LINKED,)
    assert verdict.unexpected == ("203.0.113.10",)
    assert "203.0.113.10" in verdict.reason and ZONE in verdict.reason


def test_public_answer_through_the_alias_with_the_zone_linked_means_the_resolver_does_not_forward() -> None:
    verdict = one(answered("203.0.113.10"), ZoneLink.LINKED)
    assert verdict.causes == (Cause.RESOLVER_NOT_FORWARDING,)
    assert "168.63.129.16" in verdict.reason


def test_public_answer_with_fallback_to_internet_means_a_missing_record_first() -> None:
    verdict = one(answered("203.0.113.10"), ZoneLink.LINKED_WITH_FALLBACK)
    assert verdict.causes == (Cause.RECORD_MISSING, Cause.RESOLVER_NOT_FORWARDING)


def test_public_answer_with_nothing_known_of_the_link_names_both_causes() -> None:
    assert one(answered("203.0.113.10")).causes == (Cause.ZONE_NOT_LINKED, Cause.RESOLVER_NOT_FORWARDING)


def test_public_answer_without_the_alias() -> None:
    verdict = one(answered("203.0.113.10", chain=()), ZoneLink.LINKED)
    assert verdict.causes == (Cause.NO_PRIVATELINK_ALIAS,)


def test_nxdomain_after_the_alias_is_a_missing_record() -> None:
    verdict = one(Answer(NAME, Status.NXDOMAIN, (ALIAS,)), ZoneLink.LINKED)
    assert verdict.causes == (Cause.RECORD_MISSING,) and "NXDOMAIN" in verdict.reason


def test_nxdomain_for_the_public_name_itself() -> None:
    assert one(Answer(NAME, Status.NXDOMAIN)).causes == (Cause.NAME_NOT_FOUND,)


def test_no_data_is_a_record_without_addresses() -> None:
    assert one(Answer(NAME, Status.NODATA, (ALIAS,))).causes == (Cause.RECORD_MISSING,)


def test_a_private_address_that_is_not_the_endpoint() -> None:
    verdict = one(answered("10.2.0.50"), ZoneLink.LINKED)
    assert verdict.causes == (Cause.RECORD_POINTS_ELSEWHERE,)
    assert verdict.unexpected == ("10.2.0.50",) and ENDPOINT in verdict.reason


def test_an_address_beside_the_endpoint_fails() -> None:
    verdict = one(answered(ENDPOINT, "10.2.0.50"), ZoneLink.LINKED)
    assert not verdict.private and verdict.causes == (Cause.RECORD_POINTS_ELSEWHERE,)
    assert verdict.unexpected == ("10.2.0.50",) and "beside" in verdict.reason


@pytest.mark.parametrize("status", [Status.TIMEOUT, Status.SERVFAIL, Status.REFUSED, Status.ERROR])
def test_a_resolver_that_does_not_answer(status: Status) -> None:
    verdict = one(Answer(NAME, status, resolver="10.0.0.4:53", detail="no answer within 2 s"), ZoneLink.LINKED)
    assert verdict.causes == (Cause.RESOLVER_FAILED,)
    assert "10.0.0.4:53" in verdict.reason and status.value in verdict.reason


def test_documentation_range_counts_as_public_and_shared_space_as_private() -> None:
    # 203.0.113.0/24 is TEST-NET-3 (Python calls it private); 100.64.0.0/10 is address space a VNet may use.
    assert one(answered("203.0.113.10"), ZoneLink.NOT_LINKED).causes == (Cause.ZONE_NOT_LINKED,)
    assert one(answered("100.64.1.1"), ZoneLink.NOT_LINKED).causes == (Cause.RECORD_POINTS_ELSEWHERE,)


def test_addresses_are_compared_in_canonical_form() -> None:
    assert judge([Answer(NAME, Status.ANSWERED, (), ("fd00::0001",))], ["fd00::1"]).ok


def test_each_name_gets_its_own_zone() -> None:
    names = public_names("AIServices", "ais")
    answers = [answered("203.0.113.9", chain=(privatelink_name(n) or "",), name=n) for n in names]
    verdict = judge(answers, [ENDPOINT], {"privatelink.cognitiveservices.azure.com": ZoneLink.LINKED,
                                          "PRIVATELINK.openai.azure.com": ZoneLink.NOT_LINKED})
    assert [n.causes[0] for n in verdict.names] == [Cause.ZONE_NOT_LINKED, Cause.RESOLVER_NOT_FORWARDING,
                                                    Cause.ZONE_NOT_LINKED]
    assert len(verdict.names[2].causes) == 2   # services.ai zone: unknown
    assert not verdict.ok and len(verdict.failures) == 3


def test_record_shapes_are_json() -> None:
    data = one(answered("10.2.0.50"), ZoneLink.LINKED).to_dict()
    assert data == {"name": NAME, "status": "answered", "chain": [ALIAS], "addresses": ["10.2.0.50"],
                    "resolver": "127.0.0.1:53", "detail": "", "private": False,
                    "causes": ["record-points-elsewhere"], "reason": data["reason"], "unexpected": ["10.2.0.50"]}


# -- properties --------------------------------------------------------------------------------------------------
private_ips = st.one_of(st.ip_addresses(network="10.0.0.0/8"), st.ip_addresses(network="192.168.0.0/16"),
                        st.ip_addresses(network="172.16.0.0/12")).map(str)
public_ips = st.one_of(st.ip_addresses(network="203.0.113.0/24"), st.ip_addresses(network="20.0.0.0/8"),
                       st.ip_addresses(network="52.0.0.0/8")).map(str)
endpoint_sets = st.lists(private_ips, min_size=0, max_size=3, unique=True)
links = st.one_of(st.none(), st.sampled_from(list(ZoneLink)))
chains = st.one_of(st.just(()), st.just((ALIAS,)), st.lists(st.sampled_from(
    [ALIAS, "eastus.api.cognitive.microsoft.com", "x.trafficmanager.net"]), max_size=3).map(tuple))


@st.composite
def answers(draw: st.DrawFn, endpoints: list[str]) -> Answer:
    status = draw(st.sampled_from(list(Status)))
    pool = st.one_of(private_ips, public_ips, st.sampled_from(endpoints)) if endpoints else \
        st.one_of(private_ips, public_ips)
    addresses = tuple(draw(st.lists(pool, min_size=1, max_size=3))) if status is Status.ANSWERED else ()
    return Answer(NAME, status, draw(chains), addresses, "127.0.0.1:53", draw(st.sampled_from(["", "x"])))


@given(st.data(), endpoint_sets, links)
def test_private_exactly_when_every_address_is_an_endpoints(data: st.DataObject, endpoints: list[str],
                                                            link: ZoneLink | None) -> None:
    answer = data.draw(answers(endpoints))
    verdict = one(answer, link, tuple(endpoints))
    expected = answer.status is Status.ANSWERED and bool(answer.addresses) and set(answer.addresses) <= set(endpoints)
    assert verdict.private == expected
    assert (verdict.causes == ()) == verdict.private   # a failure always says why, a pass never does
    assert verdict.reason
    assert set(verdict.unexpected) == {a for a in answer.addresses if a not in endpoints}
    assert len(set(verdict.causes)) == len(verdict.causes)


@given(st.data(), endpoint_sets, links)
def test_causes_follow_the_answer(data: st.DataObject, endpoints: list[str], link: ZoneLink | None) -> None:
    answer = data.draw(answers(endpoints))
    causes = set(one(answer, link, tuple(endpoints)).causes)
    unexpected = [a for a in answer.addresses if a not in endpoints]
    private_elsewhere = [a for a in unexpected if any(ipaddress.ip_address(a) in n for n in PRIVATE_NETWORKS)]
    if not answer.status.resolved:
        assert causes == {Cause.RESOLVER_FAILED}
    elif answer.status is Status.NXDOMAIN:
        assert causes == ({Cause.RECORD_MISSING} if ALIAS in answer.chain else {Cause.NAME_NOT_FOUND})
    elif answer.status is Status.NODATA:
        assert causes == {Cause.RECORD_MISSING}
    elif private_elsewhere:
        assert causes == {Cause.RECORD_POINTS_ELSEWHERE}
    elif unexpected and ALIAS not in answer.chain:
        assert causes == {Cause.NO_PRIVATELINK_ALIAS}
    elif unexpected:
        assert causes == set(PUBLIC_CAUSES[link])


PUBLIC_CAUSES = {ZoneLink.LINKED: (Cause.RESOLVER_NOT_FORWARDING,), ZoneLink.NOT_LINKED: (Cause.ZONE_NOT_LINKED,),
                 ZoneLink.LINKED_WITH_FALLBACK: (Cause.RECORD_MISSING, Cause.RESOLVER_NOT_FORWARDING),
                 None: (Cause.ZONE_NOT_LINKED, Cause.RESOLVER_NOT_FORWARDING)}


@given(st.lists(public_ips, min_size=1, max_size=3), chains, links, endpoint_sets)
def test_public_answers_name_their_cause(addresses: list[str], chain: tuple[str, ...], link: ZoneLink | None,
                                         endpoints: list[str]) -> None:
    verdict = one(Answer(NAME, Status.ANSWERED, chain, tuple(addresses)), link, tuple(endpoints))
    assert not verdict.private
    assert verdict.causes == (PUBLIC_CAUSES[link] if ALIAS in chain else (Cause.NO_PRIVATELINK_ALIAS,))


@given(endpoint_sets, st.data())
def test_the_verdict_is_the_conjunction_of_its_names(endpoints: list[str], data: st.DataObject) -> None:
    batch = data.draw(st.lists(answers(endpoints), max_size=4))
    verdict = judge(batch, endpoints)
    assert [n.answer for n in verdict.names] == batch
    assert verdict.ok == (bool(batch) and all(n.private for n in verdict.names))
    assert set(verdict.failures) == {n for n in verdict.names if not n.private}


@given(st.text(max_size=40))
def test_the_resolver_setting_never_fails_in_another_way(value: str) -> None:
    try:
        parsed = parse_resolver(value)
    except ValueError:
        return
    assert ipaddress.ip_address(parsed.host) and 0 < parsed.port < 65536
    assert parse_resolver(str(parsed)) == parsed


def test_importing_the_check_loads_no_dns_library_and_no_sdk() -> None:
    # The app imports remediation at start-up (DESIGN §10 cold start): dnspython loads on the first lookup.
    code = ("import sys, remediation.arm.resolution; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('dns', 'azure', 'localdev')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[2])
    assert out.stdout.strip() == "[]"
