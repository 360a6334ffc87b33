"""The local DNS server answers as Azure's resolver would for one VNet, from what the emulator holds now."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import dns.flags
import dns.message
import dns.opcode
import dns.query
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import pytest

from localdev.arm_emulator import ArmEmulator
from localdev.dns_server import DnsServer, ResolverMode, public_address
from localdev.estate import OPENAI_ZONE, VNET_ID, Estate, rg_id, zone_id
from localdev.person import write_as

OTHER_VNET = f"{rg_id('rg-spoke')}/providers/Microsoft.Network/virtualNetworks/vnet-spoke"
DNS_API = "2024-06-01"


@pytest.fixture
def server(emu: ArmEmulator) -> Iterator[DnsServer]:
    with DnsServer(emu, VNET_ID) as dns_server:
        yield dns_server


def seed(emu: ArmEmulator, estate: Estate) -> None:
    emu.seed(estate.scenario())


def ask(server: DnsServer, name: str, rdtype: str = "A", *, tcp: bool = False) -> dns.message.Message:
    query = dns.message.make_query(name, rdtype)
    send = dns.query.tcp if tcp else dns.query.udp
    return send(query, server.host, port=server.port, timeout=2)


def records(response: dns.message.Message) -> list[tuple[str, str, str]]:
    return [(rrset.name.to_text(omit_final_dot=True), dns.rdatatype.to_text(rrset.rdtype), rdata.to_text())
            for rrset in response.answer for rdata in rrset]


def endpoint_ip(emu: ArmEmulator, account: str) -> str:
    pe = emu.get(f"{rg_id('rg-network')}/providers/Microsoft.Network/privateEndpoints/pe-{account}-existing")
    assert pe is not None
    return pe["properties"]["customDnsConfigs"][0]["ipAddresses"][0]


def test_a_linked_zone_answers_the_endpoint_through_the_privatelink_cname(emu: ArmEmulator, server: DnsServer) -> None:
    seed(emu, Estate().network((OPENAI_ZONE,)).locked("aoai-prod"))
    ip = endpoint_ip(emu, "aoai-prod")
    for tcp in (False, True):
        response = ask(server, "AOAI-prod.openai.azure.com", tcp=tcp)
        assert response.rcode() == dns.rcode.NOERROR
        # The owner name keeps the question's case (resolvers echo it; clients compare case-insensitively).
        assert records(response) == [("AOAI-prod.openai.azure.com", "CNAME", "aoai-prod.privatelink.openai.azure.com."),
                                     ("aoai-prod.privatelink.openai.azure.com", "A", ip)]
        assert response.flags & dns.flags.RA and response.flags & dns.flags.QR and not response.flags & dns.flags.AA
        assert [rrset.ttl for rrset in response.answer] == [60, 10]   # public CNAME, the zone group's record TTL
    assert [(q.name, q.rdtype, q.transport) for q in server.queries] == [
        ("AOAI-prod.openai.azure.com", "A", "udp"), ("AOAI-prod.openai.azure.com", "A", "tcp")]


def test_an_account_without_a_private_endpoint_answers_publicly_without_the_alias(emu: ArmEmulator,
                                                                                  server: DnsServer) -> None:
    seed(emu, Estate().network((OPENAI_ZONE,)).account("aoai-open"))
    response = ask(server, "aoai-open.openai.azure.com")
    assert records(response) == [("aoai-open.openai.azure.com", "A", public_address("aoai-open.openai.azure.com"))]
    assert ipaddress.ip_address(records(response)[0][2]) in ipaddress.ip_network("203.0.113.0/24")
    assert ask(server, "aoai-open.privatelink.openai.azure.com").rcode() == dns.rcode.NXDOMAIN


def test_names_exist_only_for_accounts_and_their_kinds(emu: ArmEmulator, server: DnsServer) -> None:
    seed(emu, Estate().network(("privatelink.cognitiveservices.azure.com", OPENAI_ZONE,
                                "privatelink.services.ai.azure.com"))
              .locked("aoai-prod").locked("ais-agents", "AIServices"))
    assert ask(server, "nobody.openai.azure.com").rcode() == dns.rcode.NXDOMAIN
    assert ask(server, "aoai-prod.services.ai.azure.com").rcode() == dns.rcode.NXDOMAIN   # an OpenAI account
    for suffix in ("openai.azure.com", "cognitiveservices.azure.com", "services.ai.azure.com"):
        answer = records(ask(server, f"ais-agents.{suffix}"))
        assert answer[0] == (f"ais-agents.{suffix}", "CNAME", f"ais-agents.privatelink.{suffix}.")


def test_a_zone_not_linked_to_this_vnet_answers_publicly_through_the_cname(emu: ArmEmulator, server: DnsServer) -> None:
    seed(emu, Estate().network((OPENAI_ZONE,), linked=False).locked("aoai-prod"))
    public = public_address("aoai-prod.openai.azure.com")
    assert records(ask(server, "aoai-prod.openai.azure.com")) == [
        ("aoai-prod.openai.azure.com", "CNAME", "aoai-prod.privatelink.openai.azure.com."),
        ("aoai-prod.privatelink.openai.azure.com", "A", public)]
    # A person links the zone: the next answer is private.
    write_as(emu, "PUT", f"{zone_id(OPENAI_ZONE)}/virtualNetworkLinks/hub",
             {"location": "global", "properties": {"virtualNetwork": {"id": VNET_ID}, "registrationEnabled": False}},
             api_version=DNS_API)
    assert records(ask(server, "aoai-prod.openai.azure.com"))[-1][2] == endpoint_ip(emu, "aoai-prod")


def test_the_vnet_it_serves_can_change(emu: ArmEmulator, server: DnsServer) -> None:
    seed(emu, Estate().network((OPENAI_ZONE,)).locked("aoai-prod"))
    server.vnet_id = OTHER_VNET
    assert records(ask(server, "aoai-prod.openai.azure.com"))[-1][2] == public_address("aoai-prod.openai.azure.com")
    server.vnet_id = VNET_ID.upper()   # resource IDs compare case-insensitively
    assert records(ask(server, "aoai-prod.openai.azure.com"))[-1][2] == endpoint_ip(emu, "aoai-prod")


def test_a_missing_record_in_a_linked_zone_is_nxdomain_after_the_cname(emu: ArmEmulator, server: DnsServer) -> None:
    seed(emu, Estate().network((OPENAI_ZONE,)).locked("aoai-prod"))
    write_as(emu, "DELETE", f"{zone_id(OPENAI_ZONE)}/A/aoai-prod", api_version=DNS_API)
    response = ask(server, "aoai-prod.openai.azure.com")
    assert response.rcode() == dns.rcode.NXDOMAIN
    assert records(response) == [("aoai-prod.openai.azure.com", "CNAME", "aoai-prod.privatelink.openai.azure.com.")]


def test_fallback_to_internet_answers_a_missing_record_publicly(emu: ArmEmulator, server: DnsServer) -> None:
    seed(emu, Estate().network((OPENAI_ZONE,)).locked("aoai-prod"))
    write_as(emu, "DELETE", f"{zone_id(OPENAI_ZONE)}/A/aoai-prod", api_version=DNS_API)
    write_as(emu, "PUT", f"{zone_id(OPENAI_ZONE)}/virtualNetworkLinks/hub",
             {"location": "global", "properties": {"virtualNetwork": {"id": VNET_ID}, "registrationEnabled": False,
                                                   "resolutionPolicy": "NxDomainRedirect"}}, api_version=DNS_API)
    response = ask(server, "aoai-prod.openai.azure.com")
    assert response.rcode() == dns.rcode.NOERROR
    assert records(response) == [("aoai-prod.openai.azure.com", "CNAME", "aoai-prod.privatelink.openai.azure.com."),
                                 ("aoai-prod.privatelink.openai.azure.com", "A",
                                  public_address("aoai-prod.openai.azure.com"))]


def test_fallback_leaves_records_that_exist_alone(emu: ArmEmulator, server: DnsServer) -> None:
    seed(emu, Estate().network().zone(OPENAI_ZONE, linked=False).locked("aoai-prod")
         .add({"id": f"{zone_id(OPENAI_ZONE)}/virtualNetworkLinks/hub", "location": "global",
               "properties": {"virtualNetwork": {"id": VNET_ID}, "resolutionPolicy": "NxDomainRedirect"}}))
    assert records(ask(server, "aoai-prod.openai.azure.com"))[-1][2] == endpoint_ip(emu, "aoai-prod")


def test_a_repointed_record_answers_at_once(emu: ArmEmulator, server: DnsServer) -> None:
    seed(emu, Estate().network((OPENAI_ZONE,)).locked("aoai-prod"))
    write_as(emu, "PUT", f"{zone_id(OPENAI_ZONE)}/A/aoai-prod",
             {"properties": {"ttl": 30, "aRecords": [{"ipv4Address": "10.2.0.50"}, {"ipv4Address": "10.2.0.51"}]}},
             api_version=DNS_API)
    response = ask(server, "aoai-prod.openai.azure.com")
    assert sorted(r[2] for r in records(response) if r[1] == "A") == ["10.2.0.50", "10.2.0.51"]
    assert response.answer[-1].ttl == 30


def test_a_name_holding_other_types_only_answers_no_data(emu: ArmEmulator, server: DnsServer) -> None:
    seed(emu, Estate().network((OPENAI_ZONE,)).locked("aoai-prod"))
    write_as(emu, "DELETE", f"{zone_id(OPENAI_ZONE)}/A/aoai-prod", api_version=DNS_API)
    write_as(emu, "PUT", f"{zone_id(OPENAI_ZONE)}/TXT/aoai-prod",
             {"properties": {"ttl": 30, "txtRecords": [{"value": ["note"]}]}}, api_version=DNS_API)
    response = ask(server, "aoai-prod.openai.azure.com")
    assert response.rcode() == dns.rcode.NOERROR and [r[1] for r in records(response)] == ["CNAME"]


def test_the_zone_answers_for_every_name_it_holds(emu: ArmEmulator, server: DnsServer) -> None:
    seed(emu, Estate().network((OPENAI_ZONE,)).add(
        {"id": f"{zone_id(OPENAI_ZONE)}/A/collector",
         "properties": {"ttl": 5, "aRecords": [{"ipv4Address": "10.2.0.66"}]}}))
    assert records(ask(server, "collector.privatelink.openai.azure.com")) == [
        ("collector.privatelink.openai.azure.com", "A", "10.2.0.66")]
    assert ask(server, "nothing.privatelink.openai.azure.com").rcode() == dns.rcode.NXDOMAIN


def test_a_custom_dns_server_that_forwards_everything_never_sees_the_private_zone(emu: ArmEmulator,
                                                                                  server: DnsServer) -> None:
    seed(emu, Estate().network((OPENAI_ZONE,)).locked("aoai-prod"))
    server.mode = ResolverMode.PUBLIC_ONLY
    assert records(ask(server, "aoai-prod.openai.azure.com")) == [
        ("aoai-prod.openai.azure.com", "CNAME", "aoai-prod.privatelink.openai.azure.com."),
        ("aoai-prod.privatelink.openai.azure.com", "A", public_address("aoai-prod.openai.azure.com"))]
    server.mode = ResolverMode.AZURE
    assert records(ask(server, "aoai-prod.openai.azure.com"))[-1][2] == endpoint_ip(emu, "aoai-prod")


def test_other_query_types(emu: ArmEmulator, server: DnsServer) -> None:
    seed(emu, Estate().network((OPENAI_ZONE,)).locked("aoai-prod"))
    aaaa = ask(server, "aoai-prod.openai.azure.com", "AAAA")
    assert aaaa.rcode() == dns.rcode.NOERROR and [r[1] for r in records(aaaa)] == ["CNAME"]
    assert [r[1] for r in records(ask(server, "aoai-prod.openai.azure.com", "CNAME"))] == ["CNAME"]


def test_names_it_does_not_model_are_refused(emu: ArmEmulator, server: DnsServer) -> None:
    assert ask(server, "example.com").rcode() == dns.rcode.REFUSED
    query = dns.message.make_query("aoai-prod.openai.azure.com", "A", rdclass=dns.rdataclass.CH)
    assert dns.query.udp(query, server.host, port=server.port, timeout=2).rcode() == dns.rcode.REFUSED
    notify = dns.message.make_query("aoai-prod.openai.azure.com", "A")
    notify.set_opcode(dns.opcode.NOTIFY)
    assert dns.query.udp(notify, server.host, port=server.port, timeout=2).rcode() == dns.rcode.NOTIMP


def test_a_garbled_packet_gets_formerr(server: DnsServer) -> None:
    import socket
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(2)
        sock.sendto(b"\x12\x34" + b"\xff" * 14, (server.host, server.port))
        reply, _ = sock.recvfrom(512)
    response = dns.message.from_wire(reply)
    assert response.id == 0x1234 and response.rcode() == dns.rcode.FORMERR


def test_a_large_answer_is_truncated_over_udp_and_whole_over_tcp(emu: ArmEmulator, server: DnsServer) -> None:
    many = [{"ipv4Address": f"10.3.0.{i}"} for i in range(1, 61)]
    seed(emu, Estate().network((OPENAI_ZONE,)).add(
        {"id": f"{zone_id(OPENAI_ZONE)}/A/big", "properties": {"ttl": 5, "aRecords": many}}))
    query = dns.message.make_query("big.privatelink.openai.azure.com", "A")   # no EDNS: 512 bytes over UDP
    udp = dns.query.udp(query, server.host, port=server.port, timeout=2)
    assert udp.flags & dns.flags.TC and not udp.answer
    response, used_tcp = dns.query.udp_with_fallback(query, server.host, port=server.port, timeout=2)
    assert used_tcp and len(response.answer[0]) == 60


def test_parallel_queries_each_get_their_answer(emu: ArmEmulator, server: DnsServer) -> None:
    names = [f"aoai-{i}" for i in range(8)]
    estate = Estate().network((OPENAI_ZONE,))
    for name in names:
        estate.locked(name)
    seed(emu, estate.account("aoai-open"))
    expected = {f"{n}.openai.azure.com": endpoint_ip(emu, n) for n in names}
    expected["aoai-open.openai.azure.com"] = public_address("aoai-open.openai.azure.com")
    with ThreadPoolExecutor(8) as pool:
        got = list(pool.map(lambda n: (n, records(ask(server, n, tcp=hash(n) % 2 == 0))[-1][2]), list(expected) * 5))
    assert all(expected[name] == ip for name, ip in got) and len(got) == 45


def test_it_reads_the_emulator_it_was_given(emu: ArmEmulator) -> None:
    seed(emu, Estate().network((OPENAI_ZONE,)).locked("aoai-prod"))
    with DnsServer(emu.world, VNET_ID) as by_world:   # a World works as well as the emulator
        assert records(ask(by_world, "aoai-prod.openai.azure.com"))[-1][2] == endpoint_ip(emu, "aoai-prod")


# -- AAAA and CNAME record sets in a linked zone (RFC 1034 §4.3.2; the record types Learn lists for private zones) --
def test_an_aaaa_record_at_the_account_name_answers_aaaa_questions(emu: ArmEmulator, server: DnsServer) -> None:
    seed(emu, Estate().network((OPENAI_ZONE,)).locked("aoai-prod"))
    write_as(emu, "PUT", f"{zone_id(OPENAI_ZONE)}/AAAA/aoai-prod",
             {"properties": {"ttl": 20, "aaaaRecords": [{"ipv6Address": "2001:db8::66"}]}}, api_version=DNS_API)
    for tcp in (False, True):
        response = ask(server, "aoai-prod.openai.azure.com", "AAAA", tcp=tcp)
        assert response.rcode() == dns.rcode.NOERROR
        assert records(response) == [("aoai-prod.openai.azure.com", "CNAME", "aoai-prod.privatelink.openai.azure.com."),
                                     ("aoai-prod.privatelink.openai.azure.com", "AAAA", "2001:db8::66")]
        assert response.answer[-1].ttl == 20
    # The A question still answers the endpoint's address alone.
    answers = [r[1:] for r in records(ask(server, "aoai-prod.openai.azure.com"))]
    assert answers[-1] == ("A", endpoint_ip(emu, "aoai-prod"))


def test_a_cname_record_in_the_privatelink_zone_is_followed(emu: ArmEmulator, server: DnsServer) -> None:
    seed(emu, Estate().network((OPENAI_ZONE,)).locked("aoai-prod").account("aoai-open").add(
        {"id": f"{zone_id(OPENAI_ZONE)}/A/collector",
         "properties": {"ttl": 5, "aRecords": [{"ipv4Address": "10.2.0.66"}]}}))
    zone = zone_id(OPENAI_ZONE)
    write_as(emu, "DELETE", f"{zone}/A/aoai-prod", api_version=DNS_API)
    write_as(emu, "PUT", f"{zone}/CNAME/aoai-prod",
             {"properties": {"ttl": 15, "cnameRecord": {"cname": "collector.privatelink.openai.azure.com"}}},
             api_version=DNS_API)
    response = ask(server, "aoai-prod.openai.azure.com")
    assert records(response) == [
        ("aoai-prod.openai.azure.com", "CNAME", "aoai-prod.privatelink.openai.azure.com."),
        ("aoai-prod.privatelink.openai.azure.com", "CNAME", "collector.privatelink.openai.azure.com."),
        ("collector.privatelink.openai.azure.com", "A", "10.2.0.66")]
    assert [rrset.ttl for rrset in response.answer] == [60, 15, 5]
    assert [r[1] for r in records(ask(server, "aoai-prod.openai.azure.com", "CNAME"))] == ["CNAME"]
    # An alias to a public name: answered as public DNS answers it.
    write_as(emu, "PUT", f"{zone}/CNAME/aoai-prod", {"properties": {"ttl": 15, "cnameRecord": {
        "cname": "aoai-open.openai.azure.com"}}}, api_version=DNS_API)
    assert records(ask(server, "aoai-prod.openai.azure.com"))[-1] == (
        "aoai-open.openai.azure.com", "A", public_address("aoai-open.openai.azure.com"))
    # An alias out of what the emulator models: the chain so far, SERVFAIL.
    write_as(emu, "PUT", f"{zone}/CNAME/aoai-prod", {"properties": {"ttl": 15, "cnameRecord": {
        "cname": "exfil.example.net"}}}, api_version=DNS_API)
    response = ask(server, "aoai-prod.openai.azure.com")
    assert response.rcode() == dns.rcode.SERVFAIL and records(response)[-1][2] == "exfil.example.net."


def test_a_link_whose_operation_failed_links_nothing(emu: ArmEmulator, server: DnsServer) -> None:
    """The link stays with provisioningState Failed (EmulatorConfig.failed_link_vnets; Azure/azure-powershell#9537);
    the VNet then resolves as if unlinked (inferred)."""
    seed(emu, Estate().network().zone(OPENAI_ZONE, linked=False).locked("aoai-prod"))
    emu.config.failed_link_vnets = [VNET_ID]
    write_as(emu, "PUT", f"{zone_id(OPENAI_ZONE)}/virtualNetworkLinks/hub",
             {"location": "global", "properties": {"virtualNetwork": {"id": VNET_ID}, "registrationEnabled": False}},
             api_version=DNS_API)
    link = emu.get(f"{zone_id(OPENAI_ZONE)}/virtualNetworkLinks/hub")
    assert link is not None and link["properties"]["provisioningState"] == "Failed"
    assert records(ask(server, "aoai-prod.openai.azure.com"))[-1][2] == public_address("aoai-prod.openai.azure.com")
