"""Does an account's public name resolve, from the app's network, to a serving endpoint's private IP?

The last step of the manual lockdown procedure is an `nslookup` from a VM in the network. This module is
that step: `resolve()` asks a resolver (REMEDIATION_DNS_RESOLVER, or the system's) for the account's public
names, and `judge()` compares the answers with the serving endpoints' IPs and names the likely cause when
they differ (finding PRIVATE_DNS_RESOLUTION_NOT_PRIVATE, report only).

`resolve()` never raises: a timeout, SERVFAIL or an unreachable resolver is an `Answer` the judge reads.
`judge()` is pure. How Azure's resolver builds the answers this reads (the `privatelink` CNAME, NXDOMAIN
for a missing record in a linked zone, public answers otherwise) is described, with sources, in
localdev/dns_server.py, which plays that resolver in tests.
"""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import Enum
from typing import Any

from remediation.core.settings import ResolverAddress, parse_resolver

# Public DNS suffix of each name an account of a kind answers on, in the order they are checked. The
# privatelink zone of each is "privatelink." + suffix (the zones of DESIGN §4).
_SUFFIXES_BY_KIND = {
    "openai": ("openai.azure.com",),
    "aiservices": ("openai.azure.com", "cognitiveservices.azure.com", "services.ai.azure.com"),
}
_DEFAULT_SUFFIXES = ("cognitiveservices.azure.com",)
_KNOWN_SUFFIXES = ("openai.azure.com", "cognitiveservices.azure.com", "services.ai.azure.com")

DEFAULT_TIMEOUT = 2.0    # seconds per query to one resolver
DEFAULT_LIFETIME = 5.0   # seconds per name, across every resolver tried

# What counts as a private answer that is not the endpoint's (a repointed record) rather than a public one:
# RFC 1918, RFC 6598 shared space (Azure VNets may use it) and IPv6 unique local addresses. Python's
# `is_private` is not used: it also calls documentation ranges such as 203.0.113.0/24 private.
PRIVATE_NETWORKS: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = tuple(
    ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "fc00::/7"))


def public_names(kind: str | None, subdomain: str) -> tuple[str, ...]:
    """The account's public names: `<subdomain>.openai.azure.com` and the kind's others."""
    suffixes = _SUFFIXES_BY_KIND.get((kind or "").lower(), _DEFAULT_SUFFIXES)
    return tuple(f"{subdomain.lower()}.{suffix}" for suffix in suffixes)


def privatelink_zone(name: str) -> str | None:
    """The privatelink zone a public name is aliased into (`privatelink.openai.azure.com`), if any."""
    for suffix in _KNOWN_SUFFIXES:
        if name.lower().rstrip(".").endswith("." + suffix):
            return f"privatelink.{suffix}"
    return None


def privatelink_name(name: str) -> str | None:
    """`a.openai.azure.com` -> `a.privatelink.openai.azure.com`."""
    clean = name.lower().rstrip(".")
    for suffix in _KNOWN_SUFFIXES:
        if clean.endswith("." + suffix):
            return f"{clean[: -len(suffix) - 1]}.privatelink.{suffix}"
    return None


# -- answers ---------------------------------------------------------------------------------------------------
class Status(str, Enum):
    ANSWERED = "answered"   # NOERROR with addresses
    NODATA = "nodata"       # NOERROR without addresses
    NXDOMAIN = "nxdomain"
    SERVFAIL = "servfail"
    REFUSED = "refused"
    TIMEOUT = "timeout"
    ERROR = "error"         # unreachable, malformed answer, no resolver configured, ...

    @property
    def resolved(self) -> bool:
        """The resolver gave an answer about the name (as opposed to failing to answer)."""
        return self in (Status.ANSWERED, Status.NODATA, Status.NXDOMAIN)


@dataclass(frozen=True)
class Answer:
    name: str
    status: Status
    chain: tuple[str, ...] = ()       # CNAME targets, in order
    addresses: tuple[str, ...] = ()   # A/AAAA addresses of the last name
    resolver: str = ""                # the resolver that answered (or the last one asked)
    detail: str = ""                  # what went wrong, for the failures

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "status": self.status.value, "chain": list(self.chain),
                "addresses": list(self.addresses), "resolver": self.resolver, "detail": self.detail}


def resolve(names: Iterable[str], resolver: ResolverAddress | None = None, *, timeout: float = DEFAULT_TIMEOUT,
            lifetime: float = DEFAULT_LIFETIME, resolv_conf: str = "/etc/resolv.conf") -> tuple[Answer, ...]:
    """Ask `resolver` (or the system's resolvers, from `resolv_conf`) for each name's A records.

    Bounded: each query waits at most `timeout`, each name at most `lifetime` over every resolver tried.
    Never raises.
    """
    names = [n.lower().rstrip(".") for n in names]
    try:
        servers = [resolver] if resolver is not None else _system_resolvers(resolv_conf)
    except Exception as error:  # noqa: BLE001  report only: a broken resolver config is an answer, not a crash
        return tuple(Answer(n, Status.ERROR, detail=f"no system resolver: {error}") for n in names)
    if not servers:
        return tuple(Answer(n, Status.ERROR, detail="no system resolver configured") for n in names)
    return tuple(_resolve_one(name, servers, timeout, lifetime) for name in names)


def _system_resolvers(resolv_conf: str) -> list[ResolverAddress]:
    import dns.resolver

    system = dns.resolver.Resolver(filename=resolv_conf)   # the file the platform writes for the network's DNS
    out = []
    for server in system.nameservers:
        try:
            out.append(ResolverAddress(str(ipaddress.ip_address(str(server))), int(system.port)))
        except ValueError:   # a DoH/DoT nameserver URL: not what the network's resolver looks like
            continue
    return out


def _resolve_one(name: str, servers: Sequence[ResolverAddress], timeout: float, lifetime: float) -> Answer:
    import dns.exception
    import dns.message
    import dns.query
    import dns.rcode
    import dns.rdatatype

    deadline = time.monotonic() + lifetime
    last = Answer(name, Status.TIMEOUT, detail="no resolver asked")
    for server in servers:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        where = str(server)
        try:
            # A and AAAA: a dual-stack client takes either, so an AAAA record at the name is an answer too.
            answers = []
            for rdtype in (dns.rdatatype.A, dns.rdatatype.AAAA):
                query = dns.message.make_query(name, rdtype)   # RD set: a recursive question
                response, _ = dns.query.udp_with_fallback(query, server.host, timeout=min(timeout, remaining),
                                                          port=server.port)
                answers.append(_read_response(name, response, where))
            answer = _merged(*answers)
        except dns.exception.Timeout:
            answer = Answer(name, Status.TIMEOUT, resolver=where,
                            detail=f"no answer within {min(timeout, remaining):g} s")
        except Exception as error:  # noqa: BLE001  unreachable, malformed, too long a chain: answers for the judge
            answer = Answer(name, Status.ERROR, resolver=where, detail=f"{type(error).__name__}: {error}")
        if answer.status.resolved:
            return answer
        last = answer   # like a stub resolver: a failing server hands over to the next one
    return last


def _merged(a: Answer, aaaa: Answer) -> Answer:
    """One answer for a name from its A and AAAA answers: the A answer, with the AAAA addresses added."""
    if not aaaa.addresses:
        return a
    if not a.addresses and a.status is not Status.NODATA:
        return a  # the A question failed: that failure is the answer
    return replace(a, status=Status.ANSWERED, chain=a.chain or aaaa.chain, addresses=(*a.addresses, *aaaa.addresses))


def _read_response(name: str, response: Any, where: str) -> Answer:
    import dns.rcode
    import dns.rdatatype

    rcode = response.rcode()
    if rcode == dns.rcode.SERVFAIL:
        return Answer(name, Status.SERVFAIL, resolver=where, detail="SERVFAIL")
    if rcode == dns.rcode.REFUSED:
        return Answer(name, Status.REFUSED, resolver=where, detail="REFUSED")
    if rcode not in (dns.rcode.NOERROR, dns.rcode.NXDOMAIN):
        return Answer(name, Status.ERROR, resolver=where, detail=dns.rcode.to_text(rcode))
    chaining = response.resolve_chaining()
    chain = tuple(rrset[0].target.to_text(omit_final_dot=True).lower() for rrset in chaining.cnames if len(rrset))
    if rcode == dns.rcode.NXDOMAIN:
        return Answer(name, Status.NXDOMAIN, chain, resolver=where)
    found = chaining.answer
    addresses = tuple(sorted(r.address for r in found)) if found is not None and \
        found.rdtype in (dns.rdatatype.A, dns.rdatatype.AAAA) else ()
    return Answer(name, Status.ANSWERED if addresses else Status.NODATA, chain, addresses, where)


# -- the verdict ---------------------------------------------------------------------------------------------
class ZoneLink(str, Enum):
    """What the caller knows of the privatelink zone and the network whose DNS the resolver serves."""

    LINKED = "linked"
    LINKED_WITH_FALLBACK = "linked-with-fallback"   # resolutionPolicy NxDomainRedirect
    NOT_LINKED = "not-linked"


class Cause(str, Enum):
    RESOLVER_FAILED = "resolver-failed"
    RESOLVER_NOT_FORWARDING = "resolver-not-forwarding-privatelink"
    ZONE_NOT_LINKED = "zone-not-linked"
    RECORD_MISSING = "record-missing"
    RECORD_POINTS_ELSEWHERE = "record-points-elsewhere"
    NO_PRIVATELINK_ALIAS = "no-privatelink-alias"
    NAME_NOT_FOUND = "name-not-found"


@dataclass(frozen=True)
class NameVerdict:
    answer: Answer
    private: bool                          # every address answered is a serving endpoint's
    causes: tuple[Cause, ...] = ()         # the likely causes, most likely first
    reason: str = ""                       # one sentence for the record
    unexpected: tuple[str, ...] = ()       # addresses answered that no serving endpoint has

    @property
    def name(self) -> str:
        return self.answer.name

    def to_dict(self) -> dict[str, Any]:
        return {**self.answer.to_dict(), "private": self.private, "causes": [c.value for c in self.causes],
                "reason": self.reason, "unexpected": list(self.unexpected)}


@dataclass(frozen=True)
class ResolutionVerdict:
    names: tuple[NameVerdict, ...] = field(default_factory=tuple)

    @property
    def ok(self) -> bool:
        return bool(self.names) and all(n.private for n in self.names)

    @property
    def failures(self) -> tuple[NameVerdict, ...]:
        return tuple(n for n in self.names if not n.private)


def judge(answers: Iterable[Answer], endpoint_ips: Iterable[str],
          zones: Mapping[str, ZoneLink] | None = None,
          private_networks: Iterable[ipaddress.IPv4Network | ipaddress.IPv6Network] = PRIVATE_NETWORKS,
          ) -> ResolutionVerdict:
    """Compare each answer with the serving endpoints' IPs.

    `zones` says, per privatelink zone name, whether it is linked to the network whose DNS the resolver
    serves; a zone left out is unknown, and then both causes of a public answer are named. An answer is
    private only when it holds addresses and every one is a serving endpoint's: a client picks any address
    it is given, so one beside the endpoint's is as bad as one instead of it.
    """
    expected = frozenset(_normal(ip) for ip in endpoint_ips)
    networks = tuple(private_networks)
    links = {k.lower(): v for k, v in (zones or {}).items()}
    return ResolutionVerdict(tuple(judge_answer(a, expected, links.get(privatelink_zone(a.name) or ""), networks)
                         for a in answers))


def judge_answer(answer: Answer, expected: frozenset[str], link: ZoneLink | None,
                 private_networks: Sequence[ipaddress.IPv4Network | ipaddress.IPv6Network] = PRIVATE_NETWORKS,
                 ) -> NameVerdict:
    name = answer.name
    alias = privatelink_name(name)
    zone = privatelink_zone(name) or "the privatelink zone"
    via_alias = alias is not None and alias in answer.chain
    shown = _shown(answer)

    if not answer.status.resolved:
        detail = f" ({answer.detail})" if answer.detail else ""
        return NameVerdict(answer, False, (Cause.RESOLVER_FAILED,),
                           f"{name}: the resolver {answer.resolver or '(none)'} gave no answer: "
                           f"{answer.status.value}{detail}")
    if answer.status is Status.NXDOMAIN:
        if via_alias:
            return NameVerdict(answer, False, (Cause.RECORD_MISSING,),
                               f"{name} → {alias}: NXDOMAIN from {zone}, which holds no record for it "
                               "(the A record is missing)")
        return NameVerdict(answer, False, (Cause.NAME_NOT_FOUND,),
                           f"{name}: NXDOMAIN before any privatelink alias (the account's subdomain is unknown to "
                           "public DNS, or the resolver holds its own zone for the public name)")
    if answer.status is Status.NODATA:
        return NameVerdict(answer, False, (Cause.RECORD_MISSING,),
                           f"{shown}: no address (the record holds none)")

    unexpected = tuple(a for a in answer.addresses if _normal(a) not in expected)
    if not unexpected:
        return NameVerdict(answer, True, (), f"{shown}: a serving endpoint's address")
    private = [a for a in unexpected if _is_private(a, private_networks)]
    if private:
        beside = " beside the endpoint's" if len(unexpected) < len(answer.addresses) else ""
        wanted = ", ".join(sorted(expected)) or "none known"
        return NameVerdict(answer, False, (Cause.RECORD_POINTS_ELSEWHERE,),
                           f"{shown}: private address {', '.join(private)}{beside} is no serving endpoint's "
                           f"({wanted}): the record points elsewhere, or another {zone} zone answers in this network",
                           unexpected)
    if not via_alias:
        return NameVerdict(answer, False, (Cause.NO_PRIVATELINK_ALIAS,),
                           f"{shown}: a public answer that does not pass through {alias or 'a privatelink alias'} "
                           "(public DNS has no private endpoint alias for the account, or the resolver overrides the "
                           "public name)", unexpected)
    causes, why = _public_via_alias(link, zone)
    return NameVerdict(answer, False, causes, f"{shown}: a public answer through {alias}: {why}", unexpected)


def _public_via_alias(link: ZoneLink | None, zone: str) -> tuple[tuple[Cause, ...], str]:
    if link is ZoneLink.LINKED:
        return ((Cause.RESOLVER_NOT_FORWARDING,),
                (f"{zone} is linked to the resolver's network, so the resolver does not ask Azure's resolver "
                f"(168.63.129.16) for it: a custom DNS server that does not forward {zone}"))
    if link is ZoneLink.LINKED_WITH_FALLBACK:
        return ((Cause.RECORD_MISSING, Cause.RESOLVER_NOT_FORWARDING),
                (f"{zone} is linked with fallback to internet (NxDomainRedirect), so a record missing from it "
                "answers publicly; or a custom DNS server does not forward it to Azure's resolver"))
    if link is ZoneLink.NOT_LINKED:
        return ((Cause.ZONE_NOT_LINKED,),
                f"{zone} is not linked to the resolver's virtual network, so Azure's resolver answers from public DNS")
    return ((Cause.ZONE_NOT_LINKED, Cause.RESOLVER_NOT_FORWARDING),
            (f"{zone} is not linked to the resolver's virtual network, or a custom DNS server does not forward it to "
            "Azure's resolver (168.63.129.16)"))


def _shown(answer: Answer) -> str:
    """`a.openai.azure.com → a.privatelink.openai.azure.com → 10.1.0.4`, the way nslookup reads."""
    steps = [answer.name, *answer.chain]
    if answer.addresses:
        steps.append(", ".join(answer.addresses))
    return " → ".join(steps)


def _normal(ip: str) -> str:
    try:
        return str(ipaddress.ip_address(ip.strip()))
    except ValueError:
        return ip.strip().lower()


def _is_private(ip: str, networks: Sequence[ipaddress.IPv4Network | ipaddress.IPv6Network]) -> bool:
    try:
        address = ipaddress.ip_address(ip.strip())
    except ValueError:
        return False
    return any(address.version == n.version and address in n for n in networks)


__all__ = [
    "DEFAULT_LIFETIME",
    "DEFAULT_TIMEOUT",
    "PRIVATE_NETWORKS",
    "Answer",
    "Cause",
    "NameVerdict",
    "ResolverAddress",
    "Status",
    "ResolutionVerdict",
    "ZoneLink",
    "judge",
    "judge_answer",
    "parse_resolver",
    "privatelink_name",
    "privatelink_zone",
    "public_names",
    "resolve",
]
