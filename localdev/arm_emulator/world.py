"""Shared emulator state and the cross-provider rules (account readiness, FQDNs, zones, IPs).

Handlers for each provider work on this one object; rules that span providers (a private endpoint
creating a connection on an account, a zone group writing records) live here so they stay in one place.
"""
from __future__ import annotations

import copy
import ipaddress
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from . import pace
from .authorization import Authorization
from .errors import ArmError
from .locks import Locks
from .lro import Operation, OperationTracker
from .model import EmulatorConfig, iso, utcnow
from .names import A_TYPE, ACCOUNT_TYPE, LINK_TYPE, PE_TYPE, PEC_TYPE, SUBNET_TYPE, ZONE_GROUP_TYPE, ZONE_TYPE
from .store import ResourceStore

# The type names (names.py), here too for the modules outside the emulator that read them from the world.
__all__ = ["ACCOUNT_TYPE", "A_TYPE", "LINK_TYPE", "PEC_TYPE", "PE_TYPE", "SUBNET_TYPE", "ZONE_GROUP_TYPE",
           "ZONE_SUFFIX", "ZONE_TYPE", "AccountRuntime", "World", "account_endpoint", "account_etag",
           "account_fqdns", "new_etag", "pec_name", "zones_for_kind"]

TERMINAL_STATES = {"succeeded", "failed", "canceled"}
ZONE_GROUP_TTL = 10

# Zone -> the public DNS suffix it shadows. The account FQDN in that suffix gets an A record in the zone.
ZONE_SUFFIX = {
    "privatelink.openai.azure.com": "openai.azure.com",
    "privatelink.cognitiveservices.azure.com": "cognitiveservices.azure.com",
    "privatelink.services.ai.azure.com": "services.ai.azure.com",
}


def zones_for_kind(kind: str | None) -> list[str]:
    k = (kind or "").lower()
    if k == "openai":
        return ["privatelink.openai.azure.com"]
    if k == "aiservices":
        return ["privatelink.cognitiveservices.azure.com", "privatelink.openai.azure.com",
                "privatelink.services.ai.azure.com"]
    return ["privatelink.cognitiveservices.azure.com"]


def account_fqdns(account: dict[str, Any]) -> list[str]:
    """Public FQDNs a private endpoint to this account serves, one per zone the kind needs."""
    sub = (account.get("properties") or {}).get("customSubDomainName")
    if not sub:
        return []
    return [f"{sub.lower()}.{ZONE_SUFFIX[z]}" for z in zones_for_kind(account.get("kind"))]


def account_endpoint(account: dict[str, Any]) -> str:
    props = account.get("properties") or {}
    sub = props.get("customSubDomainName")
    if not sub:
        loc = str(account.get("location", "")).replace(" ", "").lower()
        return f"https://{loc}.api.cognitive.microsoft.com/"
    if str(account.get("kind", "")).lower() == "openai":
        return f"https://{sub}.openai.azure.com/"
    return f"https://{sub}.cognitiveservices.azure.com/"


def account_etag() -> str:
    stamp = utcnow().strftime("%Y-%m-%dT%H%%3A%M%%3A%S.%f") + "0Z"
    return f"W/\"datetime'{stamp}'\""


def new_etag() -> str:
    return str(uuid.uuid4())


def pec_name(pe_id: str, conn_name: str) -> str:
    """Provider-side connection name: <peName>.<guid>, stable for a given endpoint and connection."""
    pe_name = pe_id.rstrip("/").rsplit("/", 1)[-1]
    return f"{pe_name}.{uuid.uuid5(uuid.NAMESPACE_URL, pe_id.lower() + '/' + conn_name.lower())}"


@dataclass
class AccountRuntime:
    body_gets_left: int = 0     # "body" LRO mode: GETs that still read Accepted
    settle_gets_left: int = 0   # after an operation: GETs that still read Accepted
    settle_until: float = 0.0   # time pace: monotonic time until which it still reads Accepted


class World:
    def __init__(self, config: EmulatorConfig, clock: Callable[[], float] = time.monotonic) -> None:
        self.lock = threading.RLock()
        self.store = ResourceStore(self.lock)
        self.clock = clock
        self.ops = OperationTracker(lambda: float(config.lro_max_age_s), clock)
        self.config = config
        self.base_url = ""
        self.tenant_id = ""      # the tenant the emulator's subscriptions belong to (its identities' tenant)
        self.accounts: dict[str, AccountRuntime] = {}
        self.subnet_ips: dict[str, set[str]] = {}
        self.subnet_cursor: dict[str, int] = {}  # next address offset to try, per subnet
        self.group_locations: dict[str, str] = {}
        self.rbac = Authorization()  # role definitions and assignments (authorization.py)
        self.locks = Locks()         # management locks (locks.py)
        self.providers: tuple[Any, ...] = ()   # provider metadata the providers API serves (providers.py)
        self.catalog: Any = None   # the type registry (registry.py), for handlers that look across types

    def clear(self) -> None:
        with self.lock:
            self.store.clear()
            self.ops.clear()
            self.accounts.clear()
            self.subnet_ips.clear()
            self.subnet_cursor.clear()
            self.group_locations.clear()
            self.rbac.clear()
            self.locks.clear()

    @property
    def link_base(self) -> str:
        """Base URL for links the emulator writes (nextLink, private DNS operation URLs): the port
        spelled out even when it is https's default when config.explicit_port_links is set."""
        if not self.config.explicit_port_links:
            return self.base_url
        parts = urlsplit(self.base_url)
        return f"{parts.scheme}://{parts.hostname}:{parts.port or 443}"

    # -- long-running operations at the configured pace ------------------------------------------------
    def start_operation(self, resource_id: str, key: str, *, transitional_state: str = "Updating",
                        on_done: Callable[[Operation], None] | None = None, result: Callable[[], Any] | None = None,
                        fail: dict[str, str] | None = None, busy: bool = True) -> Operation:
        """An operation of type `key` (pace.DURATIONS): done after lro_polls polls, or in the time pace
        after its scaled duration."""
        return self.ops.start(resource_id, self.config.lro_polls, transitional_state=transitional_state,
                              on_done=on_done, result=result, fail=fail, busy=busy, key=key,
                              duration_s=pace.duration(self.config, key), unpolled_s=pace.unpolled(self.config, key))

    # -- accounts ------------------------------------------------------------------------------------
    def runtime(self, account_id: str) -> AccountRuntime:
        return self.accounts.setdefault(account_id.lower(), AccountRuntime())

    def account_state(self, account: dict[str, Any]) -> str:
        """provisioningState as a reader sees it now (running operation / body polling / settling)."""
        op = self.ops.running(account["id"])
        if op is not None:
            return op.transitional_state
        rt = self.accounts.get(account["id"].lower())
        if rt and (rt.body_gets_left > 0 or rt.settle_gets_left > 0 or rt.settle_until > self.clock()):
            return "Accepted"
        return str((account.get("properties") or {}).get("provisioningState", "Succeeded"))

    def account_busy(self, account: dict[str, Any]) -> bool:
        return self.account_state(account).lower() not in TERMINAL_STATES

    def note_account_get(self, account_id: str) -> None:
        """A GET of the account moves body-mode polling and settling along."""
        if self.ops.running(account_id) is not None:
            return
        rt = self.accounts.get(account_id.lower())
        if rt is None:
            return
        if rt.body_gets_left > 0:
            rt.body_gets_left -= 1
        elif rt.settle_gets_left > 0:
            rt.settle_gets_left -= 1

    def render_account(self, account: dict[str, Any]) -> dict[str, Any]:
        out = copy.deepcopy(account)
        props = out.setdefault("properties", {})
        props["provisioningState"] = self.account_state(account)
        props["endpoint"] = account_endpoint(account)
        props["privateEndpointConnections"] = [self.render_pec(c) for c in self.store.children(account["id"], PEC_TYPE)]
        return out

    def render_pec(self, pec: dict[str, Any]) -> dict[str, Any]:
        return copy.deepcopy(pec)

    # -- private endpoints ---------------------------------------------------------------------------
    def subnet(self, subnet_id: str) -> dict[str, Any] | None:
        return self.store.raw(subnet_id)

    def allocate_ip(self, subnet: dict[str, Any]) -> str:
        """Lowest free address in the subnet; Azure reserves the first four (.0-.3) and the last."""
        prefix = (subnet.get("properties") or {}).get("addressPrefix") or "10.0.0.0/24"
        net = ipaddress.ip_network(prefix, strict=False)
        key = subnet["id"].lower()
        used = self.subnet_ips.setdefault(key, set())
        # Start where the last allocation ended (released addresses move the cursor back), so filling a
        # /16 with thousands of endpoints stays linear.
        offset = max(4, self.subnet_cursor.get(key, 4))
        while offset < net.num_addresses - 1:
            host = str(net.network_address + offset)
            offset += 1
            if host not in used:
                used.add(host)
                self.subnet_cursor[key] = offset
                return host
        # Azure refuses the endpoint with 400 SubnetIsFull (the body quoted in MicrosoftDocs/azure-docs#88211:
        # "Subnet Subnet1 with address prefix 10.0.0.0/24 does not have enough capacity for 1 IP addresses.").
        raise ArmError(400, "SubnetIsFull", f"Subnet {subnet.get('name') or subnet['id'].rsplit('/', 1)[-1]} with "
                       f"address prefix {prefix} does not have enough capacity for 1 IP addresses.")

    def release_ip(self, subnet_id: str, ip: str) -> None:
        key = subnet_id.lower()
        self.subnet_ips.get(key, set()).discard(ip)
        prefix_net = None
        subnet = self.store.raw(subnet_id)
        if subnet is not None:
            prefix = (subnet.get("properties") or {}).get("addressPrefix")
            prefix_net = ipaddress.ip_network(prefix, strict=False) if prefix else None
        if prefix_net is not None:
            released = int(ipaddress.ip_address(ip)) - int(prefix_net.network_address)
            self.subnet_cursor[key] = min(self.subnet_cursor.get(key, 4), released)

    def pe_ip(self, pe: dict[str, Any]) -> str | None:
        for cfg in (pe.get("properties") or {}).get("customDnsConfigs") or []:
            if cfg.get("ipAddresses"):
                return str(cfg["ipAddresses"][0])
        ip = ((pe.get("properties") or {}).get("_emulator") or {}).get("ip")
        return str(ip) if ip else None

    def connect(self, pe: dict[str, Any], conn: dict[str, Any], manual: bool) -> dict[str, Any]:
        """Create (or keep) the provider-side connection on the account for one PE connection."""
        props = conn.get("properties") or {}
        target = self.store.raw(props["privateLinkServiceId"])
        assert target is not None   # apply_private_endpoint checked it
        pec_id = f"{target['id']}/privateEndpointConnections/{pec_name(pe['id'], conn['name'])}"
        existing = self.store.raw(pec_id)
        if existing is not None:
            return existing
        status, desc = ("Pending", props.get("requestMessage") or "Please approve my connection.") if manual \
            else ("Approved", "Auto-Approved")
        pec = {"id": pec_id, "name": pec_id.rsplit("/", 1)[-1], "type": PEC_TYPE,
               "etag": account_etag(), "location": target.get("location"),
               "properties": {"privateEndpoint": {"id": pe["id"]},
                              "privateLinkServiceConnectionState": {"status": status, "description": desc,
                                                                    "actionsRequired": "None"},
                              "groupIds": list(props.get("groupIds") or ["account"]),
                              "provisioningState": "Succeeded"}}
        return self.store.put_raw(pec)

    def pe_connections(self, pe: dict[str, Any]) -> list[tuple[dict[str, Any], bool]]:
        props = pe.get("properties") or {}
        return [(c, False) for c in props.get("privateLinkServiceConnections") or []] + \
               [(c, True) for c in props.get("manualPrivateLinkServiceConnections") or []]

    def render_pe(self, pe: dict[str, Any]) -> dict[str, Any]:
        """PE body with each connection's state mirrored from the provider side (Disconnected if removed)."""
        out = copy.deepcopy(pe)
        props = out.setdefault("properties", {})
        props.pop("_emulator", None)
        op = self.ops.running(pe["id"])
        if op is not None:
            props["provisioningState"] = op.transitional_state
            if op.key == "privateEndpoint/create":
                # The PUT's 201 and reads while it runs show no DNS configs; they are filled when the operation
                # ends (pace.py, CLI-PEC: `customDnsConfigs: []` at 13:17:28, the FQDN and IP at 13:18:10).
                props["customDnsConfigs"] = []
        for key in ("privateLinkServiceConnections", "manualPrivateLinkServiceConnections"):
            for conn in props.get(key) or []:
                cprops = conn.setdefault("properties", {})
                target = self.store.raw(cprops.get("privateLinkServiceId", ""))
                pec = self.store.raw(f"{target['id']}/privateEndpointConnections/{pec_name(pe['id'], conn['name'])}") \
                    if target else None
                if pec is not None:
                    cprops["privateLinkServiceConnectionState"] = copy.deepcopy(
                        pec["properties"]["privateLinkServiceConnectionState"])
                else:
                    cprops["privateLinkServiceConnectionState"] = {
                        "status": "Disconnected",
                        "description": "Connection was removed by the private link resource owner.",
                        "actionsRequired": "None"}
        return out

    def remove_pe_links(self, pe: dict[str, Any]) -> None:
        """Delete the provider-side connections, zone groups (and their records) and the IP of a PE."""
        for conn, _ in self.pe_connections(pe):
            target = self.store.raw((conn.get("properties") or {}).get("privateLinkServiceId", ""))
            if target:
                self.store.delete_raw(f"{target['id']}/privateEndpointConnections/{pec_name(pe['id'], conn['name'])}")
        for group in self.store.children(pe["id"], ZONE_GROUP_TYPE):
            self.remove_zone_group_records(group)
        ip = self.pe_ip(pe)
        subnet_id = ((pe.get("properties") or {}).get("subnet") or {}).get("id")
        if ip and subnet_id:
            self.release_ip(subnet_id, ip)

    def pe_fqdn_ips(self, pe: dict[str, Any]) -> list[tuple[str, list[str]]]:
        return [(c["fqdn"], list(c.get("ipAddresses") or []))
                for c in (pe.get("properties") or {}).get("customDnsConfigs") or []]

    # -- DNS zone groups -----------------------------------------------------------------------------
    def zone_group_record_sets(self, pe: dict[str, Any], zone_id: str) -> list[tuple[str, str, list[str]]]:
        """(record set name, fqdn in zone, ips) the zone should hold for this PE."""
        zone_name = zone_id.rstrip("/").rsplit("/", 1)[-1].lower()
        suffix = ZONE_SUFFIX.get(zone_name, zone_name.removeprefix("privatelink."))
        out = []
        for fqdn, ips in self.pe_fqdn_ips(pe):
            if fqdn.lower().endswith("." + suffix):
                rel = fqdn[: -len(suffix) - 1]
                out.append((rel, f"{rel}.{zone_name}", ips))
        return out

    def zone_record_sets(self, zone_id: str) -> int:
        """Record sets in a private DNS zone, its SOA included (a new zone reads numberOfRecordSets 1)."""
        return len(self.store.children(zone_id, exclude_type=LINK_TYPE))

    def zone_group_overflow(self, pe: dict[str, Any], group: dict[str, Any]) -> tuple[str, int] | None:
        """(zone name, limit) of a zone the group's new record sets would take past EmulatorConfig.dns_max_record_sets;
        None when they fit."""
        limit = self.config.dns_max_record_sets
        for cfg in (group.get("properties") or {}).get("privateDnsZoneConfigs") or []:
            zone = self.store.raw(cfg["properties"]["privateDnsZoneId"])
            if zone is None:
                continue
            new = sum(1 for rel, _, _ in self.zone_group_record_sets(pe, zone["id"])
                      if self.store.raw(f"{zone['id']}/A/{rel}") is None)
            if new and self.zone_record_sets(zone["id"]) + new > limit:
                return zone["name"], limit
        return None

    # Several endpoints of one resource whose zone groups name the same zone share one record set, and Azure
    # does not merge them: the last zone group written replaces the record's addresses with its endpoint's
    # (MicrosoftDocs/azure-docs#58044 "the record has been changed to the 10.3.1.8";
    # Azure/azure-quickstart-templates#12091 "overwriting 'A' record in the private DNS zone";
    # MicrosoftDocs/azure-docs#120062 "the PE created second will overwrite the DNS entry of the first"),
    # and removing a zone group (or its endpoint) deletes the record set, whichever endpoint it answered
    # (MicrosoftDocs/azure-docs#58044; #122192 "when we delete a private endpoint all the above mentioned
    # records get deleted as well").
    def write_zone_group_records(self, pe: dict[str, Any], group: dict[str, Any]) -> None:
        for cfg in (group.get("properties") or {}).get("privateDnsZoneConfigs") or []:
            zone = self.store.raw(cfg["properties"]["privateDnsZoneId"])
            if zone is None:
                continue
            sets = []
            for rel, fqdn, ips in self.zone_group_record_sets(pe, zone["id"]):
                rec_id = f"{zone['id']}/A/{rel}"
                rec = self.store.raw(rec_id)
                if rec is None:
                    rec = self.store.put_raw({"id": rec_id, "name": rel, "type": A_TYPE, "etag": new_etag(),
                                              "properties": {"ttl": ZONE_GROUP_TTL, "fqdn": f"{fqdn}.",
                                                             "isAutoRegistered": False, "aRecords": []}})
                rec["properties"]["aRecords"] = [{"ipv4Address": ip} for ip in ips]
                rec["etag"] = new_etag()
                sets.append({"recordType": "A", "recordSetName": rel, "fqdn": fqdn,
                             "ttl": rec["properties"].get("ttl", ZONE_GROUP_TTL),
                             "ipAddresses": ips, "provisioningState": "Succeeded"})
            cfg["properties"]["recordSets"] = sets

    def remove_zone_group_records(self, group: dict[str, Any]) -> None:
        for cfg in (group.get("properties") or {}).get("privateDnsZoneConfigs") or []:
            zone = self.store.raw(cfg["properties"].get("privateDnsZoneId", ""))
            if zone is None:
                continue
            for rs in cfg["properties"].get("recordSets") or []:
                self.store.delete_raw(f"{zone['id']}/A/{rs['recordSetName']}")

    def now(self) -> str:
        return iso(utcnow())
