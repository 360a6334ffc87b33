"""Builders for unit tests: ARM account bodies shaped like the reference examples, settings, observations.

The account body follows `Accounts_Get` (responses.200.body) in tests/fixtures/arm/cognitiveservices,
with the properties this project governs added (publicNetworkAccess, networkAcls, customSubDomainName,
privateEndpointConnections shaped like `PrivateEndpointConnections_Get`).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from remediation.core.desired import DesiredState, desired_state, zones_for_kind
from remediation.core.ids import ResourceId, parse_resource_id, parse_scope
from remediation.core.model import Account, Observation, PrivateEndpoint, RecordSet, Zone, ZoneGroup
from remediation.core.settings import PublicAccessMode, Settings, SubnetMap

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures"

SUB = "00000000-1111-2222-3333-444444444444"
OTHER_SUB = "99999999-8888-7777-6666-555555555555"
ACCOUNT_RG = "myResourceGroup"
ACCOUNT_ID = (f"/subscriptions/{SUB}/resourceGroups/{ACCOUNT_RG}"
              "/providers/Microsoft.CognitiveServices/accounts/myAccount")
NET_RG = f"/subscriptions/{SUB}/resourceGroups/rg-net"
VNET_ID = f"{NET_RG}/providers/Microsoft.Network/virtualNetworks/vnet-hub"
SUBNET_ID = f"{VNET_ID}/subnets/snet-pe"
OTHER_VNET_ID = f"/subscriptions/{SUB}/resourceGroups/rg-spoke/providers/Microsoft.Network/virtualNetworks/vnet-spoke"
OTHER_SUBNET_ID = f"{OTHER_VNET_ID}/subnets/snet-pe"  # allowed via REMEDIATION_PE_ALLOWED_SUBNET_IDS
FOREIGN_SUBNET_ID = (
    f"/subscriptions/{SUB}/resourceGroups/rg-foreign/providers/Microsoft.Network/virtualNetworks/vnet-x/subnets/default"
)
DNS_RG = f"/subscriptions/{SUB}/resourceGroups/rg-dns"
OTHER_DNS_RG = f"/subscriptions/{SUB}/resourceGroups/rg-central-dns"
EXISTING_PE_ID = f"{NET_RG}/providers/Microsoft.Network/privateEndpoints/petest01"
SUBDOMAIN = "myaccount"
PE_IP = "10.1.0.4"
RECORD_ETAG = "00000000-0000-0000-0000-000000000000"

# The body of Accounts_Get.2025-09-01.json (responses.200.body); kind/location are overridden per test.
_ACCOUNTS_GET_BODY: dict[str, Any] = {
    "id": f"/subscriptions/{SUB}/resourceGroups/myResourceGroup"
          "/providers/Microsoft.CognitiveServices/accounts/myAccount",
    "name": "myAccount",
    "type": "Microsoft.CognitiveServices/accounts",
    "location": "westus",
    "sku": {"name": "F0"},
    "kind": "Emotion",
    "tags": {"Owner": "felixwa", "ExpiredDate": "2017/09/01"},
    "etag": "W/\"datetime'2017-04-10T04%3A42%3A19.7067387Z'\"",
    "properties": {
        "endpoint": "https://westus.api.cognitive.microsoft.com/emotion/v1.0",
        "provisioningState": "Succeeded",
    },
}


def reference_account_body() -> dict[str, Any]:
    """The reference example itself (responses.200.body of Accounts_Get)."""
    path = FIXTURES / "arm" / "cognitiveservices" / "Accounts_Get.2025-09-01.json"
    body: dict[str, Any] = json.loads(path.read_text())["responses"]["200"]["body"]
    return body


def connection_body(pe_id: str, status: str = "Approved", name: str = "conn1", account_id: str = ACCOUNT_ID) -> dict:
    """Shaped like PrivateEndpointConnections_Get (responses.200.body)."""
    return {
        "id": f"{account_id}/privateEndpointConnections/{name}",
        "name": name,
        "type": "Microsoft.CognitiveServices/accounts/privateEndpointConnections",
        "properties": {
            "privateEndpoint": {"id": pe_id},
            "privateLinkServiceConnectionState": {"status": status, "description": "Auto-Approved",
                                                  "actionsRequired": "None"},
        },
    }


def account_body(kind: str = "OpenAI", location: str = "eastus", account_id: str = ACCOUNT_ID,
                 connections: list[dict] | None = None, **properties: Any) -> dict[str, Any]:
    """A compliant account body (before overrides): public access off, Deny, subdomain, one approved PE."""
    body = copy.deepcopy(_ACCOUNTS_GET_BODY)
    body["id"] = account_id
    body["name"] = account_id.rsplit("/", 1)[-1]
    body["kind"] = kind
    body["location"] = location
    body["sku"] = {"name": "S0"}
    body["properties"].update({
        "endpoint": "https://myaccount.openai.azure.com/",
        "customSubDomainName": "myaccount",
        "publicNetworkAccess": "Disabled",
        "disableLocalAuth": True,
        "networkAcls": {"defaultAction": "Deny", "ipRules": [], "virtualNetworkRules": []},
        "privateEndpointConnections": (
            [connection_body(EXISTING_PE_ID)] if connections is None else connections
        ),
    })
    for key, value in properties.items():
        if value is _DELETE:
            body["properties"].pop(key, None)
        else:
            body["properties"][key] = value
    return body


_DELETE = object()
DELETE = _DELETE  # pass as a property value to remove the property from the body


def make_settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "scopes": (parse_scope(f"/subscriptions/{SUB}"),),
        "storage_connection": "UseDevelopmentStorage=true",
        "pe_subnets": SubnetMap({"*": parse_resource_id(SUBNET_ID)}),
        "pe_allowed_subnet_ids": (parse_resource_id(OTHER_SUBNET_ID),),
        "dns_zone_resource_group": parse_resource_id(DNS_RG),
    }
    values.update(overrides)
    return Settings(**values)


def make_desired(settings: Settings | None = None, kind: str = "OpenAI", location: str = "eastus") -> DesiredState:
    return desired_state(settings or make_settings(), kind, location)


def zone_id(name: str, rg: str = DNS_RG) -> ResourceId:
    return parse_resource_id(f"{rg}/providers/Microsoft.Network/privateDnsZones/{name}")


def full_zone_group(kind: str, rg: str = DNS_RG, name: str = "default") -> ZoneGroup:
    return ZoneGroup(name, tuple((z.replace(".", "-"), zone_id(z, rg)) for z in zones_for_kind(kind)))


def endpoint_body(pe_id: str = EXISTING_PE_ID, subnet: str | None = SUBNET_ID, ips: tuple[str, ...] = (),
                  kind: str = "OpenAI", subdomain: str = SUBDOMAIN) -> dict[str, Any]:
    """Shaped like PrivateEndpoints_Get (responses.200.body): one `customDnsConfigs` entry per public name
    the account's kind has, each with the endpoint's IPs (none when `ips` is empty)."""
    public = [f"{subdomain}.{zone.removeprefix('privatelink.')}" for zone in zones_for_kind(kind)]
    return {
        "name": pe_id.rsplit("/", 1)[-1], "id": pe_id, "type": "Microsoft.Network/privateEndpoints",
        "location": "eastus",
        "properties": {
            "provisioningState": "Succeeded",
            "privateLinkServiceConnections": [{"id": f"{pe_id}/privateLinkServiceConnections/conn1", "properties": {
                "privateLinkServiceId": ACCOUNT_ID, "groupIds": ["account"],
                "privateLinkServiceConnectionState": {"status": "Approved", "description": "Auto-Approved",
                                                      "actionsRequired": "None"}}}],
            "manualPrivateLinkServiceConnections": [],
            **({"subnet": {"id": subnet}} if subnet else {}),
            "networkInterfaces": [{"id": f"{NET_RG}/providers/Microsoft.Network/networkInterfaces/pe.nic.abcd1234"}],
            "customDnsConfigs": [{"fqdn": fqdn, "ipAddresses": list(ips)} for fqdn in public] if ips else [],
        },
    }


def endpoint(pe_id: str = EXISTING_PE_ID, subnet: str | None = SUBNET_ID, group: ZoneGroup | None = None,
             ips: tuple[str, ...] = (), kind: str = "OpenAI") -> PrivateEndpoint:
    return PrivateEndpoint.from_arm(parse_resource_id(pe_id), endpoint_body(pe_id, subnet, ips, kind), group)


def record_id(zone: ResourceId, name: str = SUBDOMAIN) -> ResourceId:
    return zone.child("A", name)


def record_set(zone: ResourceId, ips: tuple[str, ...] = (PE_IP,), name: str = SUBDOMAIN, etag: str = RECORD_ETAG,
               ttl: int = 10, metadata: dict[str, str] | None = None) -> RecordSet:
    """Shaped like RecordSets_CreateOrUpdate_A (RecordSetAPut, responses.200.body)."""
    rid = record_id(zone, name)
    body: dict[str, Any] = {
        "id": str(rid), "etag": etag, "name": name, "type": "Microsoft.Network/privateDnsZones/A",
        "properties": {"ttl": ttl, "fqdn": f"{name}.{zone.name}.", "isAutoRegistered": False,
                       "aRecords": [{"ipv4Address": ip} for ip in ips]},
    }
    if metadata:
        body["properties"]["metadata"] = metadata
    return RecordSet.from_arm(rid, body)


def records(kind: str, ips: tuple[str, ...] = (PE_IP,), rg: str = DNS_RG) -> dict[ResourceId, RecordSet | None]:
    return {record_id(zone_id(z, rg)): record_set(zone_id(z, rg), ips) for z in zones_for_kind(kind)}


def zones(kind: str, linked: tuple[str, ...] = (VNET_ID,), exists: bool = True, rg: str = DNS_RG) -> dict:
    vnets = frozenset(parse_resource_id(v) for v in linked)
    return {zone_id(z, rg): Zone(zone_id(z, rg), exists, vnets) for z in zones_for_kind(kind)}


def compliant_observation(kind: str = "OpenAI", **properties: Any) -> Observation:
    """An account that is locked down completely, with its endpoint, zone group, zones and links."""
    account = Account.from_arm(account_body(kind=kind, **properties))
    return Observation(
        account=account,
        endpoints={parse_resource_id(EXISTING_PE_ID): endpoint(group=full_zone_group(kind), ips=(PE_IP,), kind=kind)},
        zones=zones(kind),
        records=records(kind),
    )


def observation(body: dict[str, Any], endpoints: dict | None = None, zone_map: dict | None = None,
                record_map: dict | None = None) -> Observation:
    return Observation(account=Account.from_arm(body), endpoints=endpoints or {}, zones=zone_map or {},
                       records=record_map or {})


__all__ = [
    "ACCOUNT_ID", "DELETE", "DNS_RG", "EXISTING_PE_ID", "FOREIGN_SUBNET_ID", "NET_RG", "OTHER_DNS_RG", "OTHER_SUB",
    "OTHER_SUBNET_ID", "OTHER_VNET_ID", "PE_IP", "RECORD_ETAG", "SUBDOMAIN", "PublicAccessMode", "SUB", "SUBNET_ID",
    "VNET_ID", "account_body", "compliant_observation", "connection_body", "endpoint", "endpoint_body",
    "full_zone_group", "make_desired", "make_settings", "observation", "record_id", "record_set", "records",
    "reference_account_body", "zone_id", "zones",
]
