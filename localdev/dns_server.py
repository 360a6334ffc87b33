"""A DNS server that answers the way Azure's resolver (168.63.129.16) answers inside one virtual network.

It reads what the ARM emulator holds at the moment of each query, so a person's change to a zone, a link
or a record in the emulator changes the next answer. UDP and TCP on a loopback port chosen at start.

    with DnsServer(emulator, vnet_id=VNET_ID) as dns:
        dns.address               # "127.0.0.1:<port>", a value for REMEDIATION_DNS_RESOLVER
        dns.vnet_id = OTHER_VNET  # the network whose resolver it plays, changeable at any time
        dns.mode = ResolverMode.PUBLIC_ONLY

From a shell, `python -m localdev.arm_emulator ... --dns-port 8053 --dns-vnet <VNet ID>` runs one in the
emulator's process (`python -m localdev.dns_server` says so), and `dig @127.0.0.1 -p 8053 <name>` asks it as
from inside that network (docs/local-stack.md, "The manual lockdown, by hand").

What it models, and the evidence for each part:

- Public names. "When you create a private endpoint, the DNS CNAME resource record for the Azure AI services
  resource is updated to an alias in a subdomain with the prefix `privatelink`" (MicrosoftDocs/azure-docs,
  articles/ai-services/cognitive-services-virtual-networks.md, "DNS changes for private endpoints"; the same
  words for Azure AI Foundry resources in MicrosoftDocs/azure-ai-docs,
  articles/ai-foundry/how-to/configure-private-link.md, "Apply DNS changes for private endpoints"). So
  `<sub>.openai.azure.com` answers a CNAME to `<sub>.privatelink.openai.azure.com` once the account has a
  private endpoint connection, and its public address directly before that. Private networks "can only
  connect to public resources if they don't have any private endpoint connections" when they use the zone
  (MicrosoftDocs/azure-docs, articles/private-link/private-endpoint-dns.md): the alias is what brings a
  name into the private zone. Resolved from a linked network the chain is
  `<sub>.openai.azure.com CNAME <sub>.privatelink.openai.azure.com` then `A <endpoint IP>` (an nslookup
  transcript from a VM in such a network, in a third-party walkthrough that follows
  zenn.dev/microsoft/articles/198989f60eba61; the docs show no Azure OpenAI transcript). The docs do not say
  whether a Pending or Rejected connection already adds the alias; the model adds it for any connection, as creating the
  endpoint is what the docs name.
- Which names an account has: the FQDNs the emulator's private endpoints carry for its kind
  (`world.account_fqdns`: OpenAI `openai.azure.com`; AIServices also `cognitiveservices.azure.com` and
  `services.ai.azure.com`; other kinds `cognitiveservices.azure.com`). Other names under those suffixes are
  NXDOMAIN, as a public zone answers a name it does not hold.
- The `privatelink` name, from a network linked to a zone of that name: the zone's A record. A name the
  zone does not hold is NXDOMAIN ("dig ...privatelink.blob.core.windows.net +short" answers nothing until
  fallback is enabled, MicrosoftDocs/azure-docs, articles/dns/private-dns-fallback.md, "Demonstrate DNS
  resolution failure"), unless the link's `resolutionPolicy` is `NxDomainRedirect`: then "the Azure
  recursive resolver retries the query ... uses the public endpoint QNAME" and the answer is public, with
  the privatelink alias still in the CNAME chain (same article, "How it works"). A name the zone holds
  with no addresses answers no data (NOERROR), which does not trigger the fallback (only NXDOMAIN does).
- Otherwise (no linked zone) public DNS answers: the account's public address. Real chains continue
  through service-owned names (the fallback article shows `blob.<cluster>.store.core.windows.net`) that
  Microsoft does not publish for Cognitive Services, so here the public A sits on the privatelink name
  itself. The public address is the emulator's own: stable per name, in 203.0.113.0/24 (TEST-NET-3).
- A link whose operation failed (provisioningState `Failed`) links nothing: the zone does not answer through it
  (inferred; Azure/azure-powershell#9537 shows the failure, not what the VNet then resolves).
- Any zone linked to the network answers for the names under it, not only the privatelink zones. Azure
  refuses a second link: "A virtual network cannot be linked to multiple zones with overlapping
  namespaces" (MicrosoftDocs/azure-aks-docs#212, microsoft-foundry/foundry-samples#214; the private link
  FAQ, MicrosoftDocs/azure-docs#122956). The emulator does not refuse it yet; should it hold two, the
  longest zone name answers, then the first stored.
- Record types served from zones: A, AAAA and CNAME. A CNAME record set at a name answers its alias and the
  resolver goes on with the alias as a recursive resolver does (RFC 1034 §3.6.2, §4.3.2: "If the data at the
  node is a CNAME, and QTYPE doesn't match CNAME, copy the CNAME RR into the answer section of the response,
  change QNAME to the canonical name in the CNAME RR, and go back to step 1"): from a zone linked to the VNet
  when the alias lies in one, else as public DNS answers it. So an AAAA or CNAME record an attacker adds at an
  account's name in a privatelink zone reaches clients in the VNet, as it would in Azure (Learn "What is an
  Azure Private DNS zone?" lists A, AAAA, CNAME, MX, PTR, SOA, SRV and TXT as the supported record types;
  learn.microsoft.com/azure/dns/private-dns-privatednszone). An alias outside the modelled zones ends the
  answer SERVFAIL with the chain so far (below). Public names have no IPv6 address here (an AAAA question
  for one answers no data): whether Azure OpenAI's public endpoints publish AAAA records is unevidenced.
- `ResolverMode.PUBLIC_ONLY` plays a custom DNS server that forwards everything to public DNS, the
  `privatelink` zones included, instead of to 168.63.129.16: it never sees a private zone. The docs'
  fix for that server is to forward or delegate the privatelink subdomain (cognitive-services-virtual-
  networks.md, "If you're using a custom DNS server...").
- Names outside the modelled public zones are REFUSED: this server does not pretend to know the internet.
- Answers carry RA (a recursive resolver's answer), not AA. TTLs: a record's own `ttl`; public answers 60 s
  (the emulator's choice; Azure does not document them).
"""

from __future__ import annotations

import enum
import hashlib
import logging
import socket
import socketserver
import struct
import sys
import threading
from dataclasses import dataclass
from typing import Any, Self

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.opcode
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rdtypes.ANY.CNAME
import dns.rdtypes.IN.A
import dns.rdtypes.IN.AAAA

from localdev.arm_emulator import ArmEmulator
from localdev.arm_emulator.world import ACCOUNT_TYPE, LINK_TYPE, PEC_TYPE, ZONE_SUFFIX, ZONE_TYPE, World, account_fqdns

log = logging.getLogger("localdev.dns_server")

PUBLIC_TTL = 60
MAX_CHAIN = 8                      # CNAME steps followed before answering SERVFAIL
PUBLIC_NET = "203.0.113."          # TEST-NET-3 (RFC 5737): never routed, safe for a fake public address
PRIVATELINK_SUFFIXES = {f"privatelink.{suffix}": suffix for suffix in ZONE_SUFFIX.values()}
FALLBACK_POLICY = "nxdomainredirect"


class ResolverMode(str, enum.Enum):
    AZURE = "azure"              # 168.63.129.16 for the VNet: zones linked to it, then public DNS
    PUBLIC_ONLY = "public-only"  # a custom DNS server that forwards everything, privatelink too, to public DNS


@dataclass(frozen=True)
class Record:
    name: str
    rdtype: dns.rdatatype.RdataType   # A, AAAA or CNAME
    ttl: int
    value: str           # an IPv4 or IPv6 address or a target name (no trailing dot)


@dataclass(frozen=True)
class Resolution:
    rcode: dns.rcode.Rcode
    answer: tuple[Record, ...] = ()
    source: str = ""     # where the final step came from: "zone <id>", "public", "fallback", ...


@dataclass(frozen=True)
class _Step:
    """One name looked up: a CNAME to follow, addresses (IPv4, IPv6), or an end without them."""
    rcode: dns.rcode.Rcode = dns.rcode.NOERROR
    cname: str | None = None
    addresses: tuple[str, ...] = ()
    ttl: int = PUBLIC_TTL
    source: str = "public"
    addresses6: tuple[str, ...] = ()
    ttl6: int = PUBLIC_TTL


def _ttl(record: dict[str, Any] | None) -> int:
    return int(((record or {}).get("properties") or {}).get("ttl", 3600))


def _values(record: dict[str, Any] | None, key: str, field: str) -> tuple[str, ...]:
    """The addresses of a record set (`aRecords`/`ipv4Address`, `aaaaRecords`/`ipv6Address`)."""
    entries = ((record or {}).get("properties") or {}).get(key) or []
    return tuple(str(e[field]) for e in entries if isinstance(e, dict) and e.get(field))


def public_address(name: str) -> str:
    """The emulator's public address for a public name: stable, in 203.0.113.0/24."""
    digest = hashlib.sha256(name.lower().encode()).digest()
    return f"{PUBLIC_NET}{1 + digest[0] % 254}"


class AzureResolverModel:
    """What 168.63.129.16 answers for one virtual network, from the emulator's store."""

    def __init__(self, world: World, vnet_id: str | None = None, mode: ResolverMode = ResolverMode.AZURE) -> None:
        self.world = world
        self.vnet_id = vnet_id
        self.mode = mode

    def resolve(self, qname: str, qtype: dns.rdatatype.RdataType) -> Resolution:
        owner = qname.rstrip(".")   # the first owner name keeps the question's case, as resolvers echo it
        name = owner.lower()
        answer: list[Record] = []
        with self.world.lock:
            for _ in range(MAX_CHAIN):
                step = self._lookup(name)
                if step.cname is not None:
                    answer.append(Record(owner, dns.rdatatype.CNAME, step.ttl, step.cname))
                    if qtype == dns.rdatatype.CNAME:
                        return Resolution(dns.rcode.NOERROR, tuple(answer), step.source)
                    name = owner = step.cname
                    continue
                if step.rcode == dns.rcode.REFUSED and answer:   # a chain that leaves the modelled zones
                    return Resolution(dns.rcode.SERVFAIL, tuple(answer), step.source)
                if qtype in (dns.rdatatype.A, dns.rdatatype.ANY):
                    answer.extend(Record(owner, dns.rdatatype.A, step.ttl, ip) for ip in step.addresses)
                if qtype in (dns.rdatatype.AAAA, dns.rdatatype.ANY):
                    answer.extend(Record(owner, dns.rdatatype.AAAA, step.ttl6, ip) for ip in step.addresses6)
                return Resolution(step.rcode, tuple(answer), step.source)
        return Resolution(dns.rcode.SERVFAIL, tuple(answer), "chain too long")

    # -- one name ------------------------------------------------------------------------------------
    def _lookup(self, name: str) -> _Step:
        if self.mode is ResolverMode.AZURE and self.vnet_id:
            linked = self._linked_zone(name)
            if linked is not None:
                zone, link = linked
                step = self._from_zone(zone, name)
                fallback = str((link.get("properties") or {}).get("resolutionPolicy", "")).lower()
                if step.rcode != dns.rcode.NXDOMAIN or fallback != FALLBACK_POLICY \
                        or zone["name"] not in PRIVATELINK_SUFFIXES:
                    return step
                public = self._public(name)          # NxDomainRedirect: retried as public DNS would answer it
                return _Step(public.rcode, public.cname, public.addresses, public.ttl, "fallback",
                             public.addresses6, public.ttl6)
        return self._public(name)

    def _linked_zone(self, name: str) -> tuple[dict[str, Any], dict[str, Any]] | None:
        """The zone linked to the VNet that holds this name (longest zone name wins), with its link."""
        vnet = (self.vnet_id or "").lower()
        best: tuple[dict[str, Any], dict[str, Any]] | None = None
        for zone_id in self.world.store.ids(ZONE_TYPE):
            zone = self.world.store.raw(zone_id)
            if zone is None:
                continue
            zname = zone["name"].lower()
            if name != zname and not name.endswith("." + zname):
                continue
            if best is not None and len(best[0]["name"]) >= len(zname):
                continue
            for link in self.world.store.children(zone["id"], LINK_TYPE):
                props = link.get("properties") or {}
                target = (props.get("virtualNetwork") or {}).get("id", "")
                if target.lower() == vnet and str(props.get("provisioningState", "")).lower() != "failed":
                    best = (zone, link)
                    break
        return best

    def _from_zone(self, zone: dict[str, Any], name: str) -> _Step:
        zname = zone["name"].lower()
        relative = "@" if name == zname else name[: -len(zname) - 1]
        source = f"zone {zone['id']}"
        store = self.world.store
        cname = store.raw(f"{zone['id']}/CNAME/{relative}")
        alias = (((cname or {}).get("properties") or {}).get("cnameRecord") or {}).get("cname")
        if cname is not None and isinstance(alias, str) and alias.strip("."):
            return _Step(cname=alias.strip(".").lower(), ttl=_ttl(cname), source=source)
        a, aaaa = store.raw(f"{zone['id']}/A/{relative}"), store.raw(f"{zone['id']}/AAAA/{relative}")
        if a is not None or aaaa is not None:
            return _Step(addresses=_values(a, "aRecords", "ipv4Address"), ttl=_ttl(a), source=source,
                         addresses6=_values(aaaa, "aaaaRecords", "ipv6Address"), ttl6=_ttl(aaaa))
        others = [c for c in store.children(zone["id"])
                  if c["type"].lower() != LINK_TYPE.lower() and c["name"].lower() == relative]
        if others:   # the name holds other record types only: no data
            return _Step(source=source)
        return _Step(rcode=dns.rcode.NXDOMAIN, source=source)

    def _public(self, name: str) -> _Step:
        for zone, suffix in PRIVATELINK_SUFFIXES.items():
            if name.endswith("." + zone):
                label = name[: -len(zone) - 1]
                account = self._account(label, suffix)
                if account is not None and self._has_endpoint(account):
                    return _Step(addresses=(public_address(f"{label}.{suffix}"),))
                return _Step(rcode=dns.rcode.NXDOMAIN)
        for suffix in PRIVATELINK_SUFFIXES.values():
            if name.endswith("." + suffix):
                label = name[: -len(suffix) - 1]
                account = self._account(label, suffix)
                if account is None:
                    return _Step(rcode=dns.rcode.NXDOMAIN)
                if self._has_endpoint(account):
                    return _Step(cname=f"{label}.privatelink.{suffix}")
                return _Step(addresses=(public_address(name),))
        return _Step(rcode=dns.rcode.REFUSED, source="not modelled")

    def _account(self, label: str, suffix: str) -> dict[str, Any] | None:
        if not label or "." in label:
            return None
        fqdn = f"{label}.{suffix}"
        store = self.world.store
        for account_id in store.ids(ACCOUNT_TYPE):   # linear: about 10 ms a query at 10,000 accounts
            account = store.raw(account_id)
            sub = ((account or {}).get("properties") or {}).get("customSubDomainName")
            if account is not None and isinstance(sub, str) and sub.lower() == label \
                    and fqdn in account_fqdns(account):
                return account
        return None

    def _has_endpoint(self, account: dict[str, Any]) -> bool:
        return bool(self.world.store.children(account["id"], PEC_TYPE))


# -- the wire --------------------------------------------------------------------------------------------
def build_response(model: AzureResolverModel, wire: bytes, max_size: int | None) -> bytes | None:
    """The response to one query in wire format; None for a packet that is not a DNS query at all."""
    try:
        query = dns.message.from_wire(wire)
    except dns.exception.DNSException:
        return _formerr(wire)
    response = dns.message.make_response(query)
    response.flags |= dns.flags.RA
    if query.opcode() != dns.opcode.QUERY:
        response.set_rcode(dns.rcode.NOTIMP)
    elif len(query.question) != 1 or query.question[0].rdclass != dns.rdataclass.IN:
        response.set_rcode(dns.rcode.REFUSED if query.question else dns.rcode.FORMERR)
    else:
        question = query.question[0]
        resolution = model.resolve(question.name.to_text(), question.rdtype)
        response.set_rcode(resolution.rcode)
        for record in resolution.answer:
            rrset = response.find_rrset(response.answer, dns.name.from_text(record.name), dns.rdataclass.IN,
                                        record.rdtype, create=True)
            if record.rdtype == dns.rdatatype.CNAME:
                rdata: Any = dns.rdtypes.ANY.CNAME.CNAME(  # type: ignore[no-untyped-call]
                    dns.rdataclass.IN, dns.rdatatype.CNAME, dns.name.from_text(record.value))
            elif record.rdtype == dns.rdatatype.AAAA:
                rdata = dns.rdtypes.IN.AAAA.AAAA(  # type: ignore[no-untyped-call]
                    dns.rdataclass.IN, dns.rdatatype.AAAA, record.value)
            else:
                rdata = dns.rdtypes.IN.A.A(dns.rdataclass.IN, dns.rdatatype.A, record.value)  # type: ignore[no-untyped-call]
            rrset.add(rdata, record.ttl)
    if max_size is None:
        return response.to_wire()
    limit = max(512, query.payload if query.edns >= 0 else 512)
    try:
        return response.to_wire(max_size=min(limit, max_size))
    except dns.exception.TooBig:   # UDP: say so, the client asks again over TCP
        truncated = dns.message.make_response(query)
        truncated.flags |= dns.flags.RA | dns.flags.TC
        truncated.set_rcode(response.rcode())
        return truncated.to_wire()


def _formerr(wire: bytes) -> bytes | None:
    if len(wire) < 12:
        return None
    (qid,) = struct.unpack("!H", wire[:2])
    # ID, QR=1 + RCODE=FORMERR, no records.
    return struct.pack("!HHHHHH", qid, 0x8000 | dns.rcode.FORMERR, 0, 0, 0, 0)


class _UDPHandler(socketserver.BaseRequestHandler):
    server: _UDPServer

    def handle(self) -> None:
        data, sock = self.request
        reply = self.server.owner.answer(data, udp=True)
        if reply is not None:
            sock.sendto(reply, self.client_address)


class _TCPHandler(socketserver.BaseRequestHandler):
    server: _TCPServer

    def handle(self) -> None:
        conn: socket.socket = self.request
        conn.settimeout(10)
        try:
            while True:   # RFC 7766: several queries may share one connection
                header = _read_exact(conn, 2)
                if header is None:
                    return
                wire = _read_exact(conn, struct.unpack("!H", header)[0])
                if wire is None:
                    return
                reply = self.server.owner.answer(wire, udp=False)
                if reply is None:
                    return
                conn.sendall(struct.pack("!H", len(reply)) + reply)
        except OSError:
            return


def _read_exact(conn: socket.socket, size: int) -> bytes | None:
    data = b""
    while len(data) < size:
        chunk = conn.recv(size - len(data))
        if not chunk:
            return None
        data += chunk
    return data


class _UDPServer(socketserver.ThreadingUDPServer):
    daemon_threads = True

    def __init__(self, addr: tuple[str, int], owner: DnsServer) -> None:
        self.owner = owner
        super().__init__(addr, _UDPHandler)


class _TCPServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, addr: tuple[str, int], owner: DnsServer) -> None:
        self.owner = owner
        super().__init__(addr, _TCPHandler)


@dataclass
class QueryRecord:
    name: str
    rdtype: str
    rcode: str
    transport: str


class DnsServer:
    """The resolver of one VNet (or a custom DNS server) on 127.0.0.1, UDP and TCP on one port.

    `vnet_id` and `mode` may be changed while it runs; each query reads them, and the emulator, afresh.
    """

    def __init__(self, emulator: ArmEmulator | World, vnet_id: str | None = None,
                 mode: ResolverMode = ResolverMode.AZURE, host: str = "127.0.0.1", port: int = 0) -> None:
        self.emulator = emulator
        self.vnet_id = vnet_id
        self.mode = mode
        self.host = host
        self.port = port
        self.queries: list[QueryRecord] = []   # the last 10,000 queries answered, for tests and the demo
        self._servers: list[socketserver.BaseServer] = []
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()

    @property
    def world(self) -> World:
        return self.emulator.world if isinstance(self.emulator, ArmEmulator) else self.emulator

    @property
    def model(self) -> AzureResolverModel:
        """A model with this server's VNet and mode as they are now."""
        return AzureResolverModel(self.world, self.vnet_id, self.mode)

    @property
    def address(self) -> str:
        """`ip:port`, the form REMEDIATION_DNS_RESOLVER takes."""
        return f"{self.host}:{self.port}"

    def start(self) -> Self:
        if self._servers:
            return self
        for _ in range(20):   # UDP picks a free port; TCP must get the same one (another process may hold it)
            udp = _UDPServer((self.host, self.port), self)
            try:
                tcp = _TCPServer((self.host, udp.server_address[1]), self)
            except OSError:
                udp.server_close()
                if self.port:
                    raise
                continue
            self.port = udp.server_address[1]
            self._servers = [udp, tcp]
            break
        else:
            raise OSError("no loopback port free for both UDP and TCP")
        for server in self._servers:
            thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1},
                                      name=f"dns-{type(server).__name__}:{self.port}", daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self) -> None:
        for server in self._servers:
            server.shutdown()
            server.server_close()
        for thread in self._threads:
            thread.join(timeout=5)
        self._servers, self._threads = [], []

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def answer(self, wire: bytes, udp: bool) -> bytes | None:
        reply = build_response(self.model, wire, 65535 if udp else None)
        if reply is not None:
            self._note(wire, reply, "udp" if udp else "tcp")
        return reply

    def _note(self, wire: bytes, reply: bytes, transport: str) -> None:
        try:
            query = dns.message.from_wire(wire)
            response = dns.message.from_wire(reply)
        except dns.exception.DNSException:
            return
        question = query.question[0] if query.question else None
        record = QueryRecord(question.name.to_text(omit_final_dot=True) if question is not None else "",
                             dns.rdatatype.to_text(question.rdtype) if question is not None else "",
                             dns.rcode.to_text(response.rcode()), transport)
        with self._lock:
            self.queries.append(record)
            del self.queries[:-10_000]


__all__ = ["AzureResolverModel", "DnsServer", "QueryRecord", "Record", "Resolution", "ResolverMode",
           "public_address"]


def main() -> int:
    """The server reads the emulator's store at each query, so it runs in the emulator's process."""
    print("the DNS server runs inside the ARM emulator's process; start it with\n"
          "  python -m localdev.arm_emulator --dns-port 8053 --dns-vnet <virtual network ID> ...\n"
          "then ask it as from inside that network: dig @127.0.0.1 -p 8053 <account>.openai.azure.com",
          file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
