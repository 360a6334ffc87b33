"""The manual procedure's last step, automated: look the account's names up from inside the network.

`lookup(emulator, dns, account_id)` asks the local DNS server (playing Azure's resolver for one VNet) for
the account's public names, judges the answers against the endpoints that serve it, and `table()` prints
them the way a person reads nslookup: name, answer chain, private or not and why.

`python -m localdev.lookup` runs the steps on their own: an account locked down, looked up through the VNet's
resolver and through a custom DNS server that forwards everything to public DNS, then a person breaking its
DNS three ways (record repointed, record deleted, zone link deleted), with a lookup after each. Nothing
repairs anything there: the app's repair of records is not part of it.
"""

from __future__ import annotations

import sys
from pathlib import Path

from tabulate import tabulate

from localdev.arm_emulator import ArmEmulator
from localdev.arm_emulator.world import LINK_TYPE, ZONE_TYPE
from localdev.dns_server import DnsServer, ResolverMode
from localdev.estate import OPENAI_ZONE, VNET_ID, Estate, account_id, zone_id
from localdev.person import DANA, write_as
from remediation.arm.resolution import Answer, ResolutionVerdict, ZoneLink, judge, parse_resolver, public_names, resolve

STATE_DIR = Path(".localdev")
DNS_API = "2024-06-01"


def serving_ips(emulator: ArmEmulator, account: str) -> list[str]:
    """Private IPs of the endpoints with an Approved connection to the account, as their DNS configs list them."""
    rendered = emulator.get(account) or {}
    ips: list[str] = []
    for connection in (rendered.get("properties") or {}).get("privateEndpointConnections") or []:
        props = connection.get("properties") or {}
        if (props.get("privateLinkServiceConnectionState") or {}).get("status") != "Approved":
            continue
        endpoint = emulator.get((props.get("privateEndpoint") or {}).get("id", "")) or {}
        for config in (endpoint.get("properties") or {}).get("customDnsConfigs") or []:
            ips.extend(ip for ip in config.get("ipAddresses") or [] if ip not in ips)
    return ips


def zone_links(emulator: ArmEmulator, vnet_id: str | None) -> dict[str, ZoneLink]:
    """For each privatelink zone the emulator holds: is it linked to `vnet_id`, and with fallback?"""
    out: dict[str, ZoneLink] = {}
    with emulator.world.lock:
        store = emulator.world.store
        for zid in store.ids(ZONE_TYPE):
            zone = store.raw(zid)
            if zone is None or not zone["name"].startswith("privatelink."):
                continue
            state = out.get(zone["name"], ZoneLink.NOT_LINKED)
            for link in store.children(zone["id"], LINK_TYPE):
                props = link.get("properties") or {}
                if (props.get("virtualNetwork") or {}).get("id", "").lower() != (vnet_id or "").lower():
                    continue
                fallback = str(props.get("resolutionPolicy", "")).lower() == "nxdomainredirect"
                state = ZoneLink.LINKED_WITH_FALLBACK if fallback else ZoneLink.LINKED
            out[zone["name"]] = state
    return out


def lookup(emulator: ArmEmulator, dns: DnsServer, account: str, *, timeout: float = 1.0) -> ResolutionVerdict:
    """Resolve the account's public names through `dns` and judge them against its serving endpoints."""
    rendered = emulator.get(account) or {}
    subdomain = (rendered.get("properties") or {}).get("customSubDomainName")
    if not subdomain:
        return ResolutionVerdict()
    answers = resolve(public_names(rendered.get("kind"), subdomain), parse_resolver(dns.address),
                      timeout=timeout, lifetime=2 * timeout)
    # The server plays one VNet's resolver, so whether each zone is linked to that VNet is known here.
    return judge(answers, serving_ips(emulator, account), zone_links(emulator, dns.vnet_id))


def chain(answer: Answer) -> str:
    steps = [*answer.chain, ", ".join(answer.addresses) or answer.status.value.upper()]
    return "\n".join(f"→ {step}" for step in steps)


def rows(verdict: ResolutionVerdict) -> list[list[str]]:
    out = []
    for name in verdict.names:
        private = "yes" if name.private else "no: " + ", ".join(c.value for c in name.causes)
        out.append([name.name, chain(name.answer), private])
    return out


def table(verdict: ResolutionVerdict) -> str:
    if not verdict.names:
        return "(the account has no custom subdomain: no name to look up)"
    return str(tabulate(rows(verdict), headers=["name", "answer", "private?"], tablefmt="simple"))


def show(title: str, emulator: ArmEmulator, dns: DnsServer, account: str) -> ResolutionVerdict:
    verdict = lookup(emulator, dns, account)
    print(f"\n{title}\n")
    print(table(verdict))
    return verdict


# -- the steps on their own ---------------------------------------------------------------------------------
def main() -> int:
    STATE_DIR.mkdir(exist_ok=True)
    prod = account_id("aoai-prod")
    record = f"{zone_id(OPENAI_ZONE)}/A/aoai-prod"
    with ArmEmulator(cert_dir=STATE_DIR / "certs") as emulator, DnsServer(emulator, VNET_ID) as dns:
        emulator.seed(Estate().network((OPENAI_ZONE,)).locked("aoai-prod").scenario())
        print(f"The resolver of {VNET_ID.rsplit('/', 1)[-1]} on {dns.address} (UDP and TCP), reading the ARM emulator")
        show("nslookup aoai-prod.openai.azure.com from the hub network, locked down", emulator, dns, prod)

        dns.mode = ResolverMode.PUBLIC_ONLY
        show("the same, through a custom DNS server that forwards everything to public DNS", emulator, dns, prod)
        dns.mode = ResolverMode.AZURE

        print(f"\n• {DANA['name']} points the A record at 10.2.0.50, a host in the workload subnet")
        write_as(emulator, "PUT", record, {"properties": {"ttl": 10, "aRecords": [{"ipv4Address": "10.2.0.50"}]}},
                 api_version=DNS_API)
        show("after the record was repointed", emulator, dns, prod)

        print(f"\n• {DANA['name']} deletes the record")
        write_as(emulator, "DELETE", record, api_version=DNS_API)
        show("after the record was deleted", emulator, dns, prod)

        print(f"\n• {DANA['name']} deletes the zone's link to the hub network")
        write_as(emulator, "DELETE", f"{zone_id(OPENAI_ZONE)}/virtualNetworkLinks/hub", api_version=DNS_API)
        show("after the link was deleted", emulator, dns, prod)
        print(f"\n{len(dns.queries)} DNS queries answered")
    return 0


if __name__ == "__main__":
    sys.exit(main())


__all__ = ["chain", "lookup", "rows", "serving_ips", "show", "table", "zone_links"]
