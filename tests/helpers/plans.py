"""Builders and lookups the plan tests share."""

from __future__ import annotations

import ipaddress
from typing import Any

from remediation.core.findings import FindingCode
from remediation.core.ids import ResourceId, parse_resource_id
from remediation.core.model import Account, ActionKind, Observation
from remediation.core.naming import private_endpoint_id, zone_link_name
from remediation.core.plan import Action, Finding, Plan
from remediation.core.settings import PublicAccessMode
from tests.helpers.arm_shapes import (
    ACCOUNT_ID,
    EXISTING_PE_ID,
    SUBNET_ID,
    VNET_ID,
    account_body,
    make_desired,
    make_settings,
)

ACCOUNT = parse_resource_id(ACCOUNT_ID)
PE = parse_resource_id(EXISTING_PE_ID)
VNET = parse_resource_id(VNET_ID)
SUBNET = parse_resource_id(SUBNET_ID)
NEW_PE = private_endpoint_id(ACCOUNT, SUBNET)


def codes(result: Plan) -> list[FindingCode]:
    return [f.code for f in result.findings]


def only(result: Plan, code: FindingCode) -> Finding:
    found = [f for f in result.findings if f.code is code]
    assert len(found) == 1, result.findings
    return found[0]


def actions_of(result: Plan, kind: ActionKind) -> list[Action]:
    return [a for a in result.actions if a.kind is kind]


def one_action(result: Plan, kind: ActionKind) -> Action:
    found = actions_of(result, kind)
    assert len(found) == 1, result.actions
    return found[0]


def group_body(*configs: tuple[str, ResourceId]) -> dict[str, Any]:
    return {"properties": {"privateDnsZoneConfigs": [
        {"name": name, "properties": {"privateDnsZoneId": str(zone)}} for name, zone in configs]}}


def link_id(zone: ResourceId, vnet: ResourceId = VNET) -> ResourceId:
    return zone.child("virtualNetworkLinks", zone_link_name(vnet))


def link_body(vnet: ResourceId = VNET) -> dict[str, Any]:
    return {"location": "global", "properties": {"virtualNetwork": {"id": str(vnet)}, "registrationEnabled": False}}


def with_account(obs: Observation, **properties: Any) -> Observation:
    body = account_body(kind=obs.account.kind, location=obs.account.location, **properties)
    return Observation(Account.from_arm(body), obs.endpoints, obs.zones)


# --- compliant ------------------------------------------------------------------------------------

def selected(*allowed: str, **overrides: Any):
    return make_desired(make_settings(public_network_access=PublicAccessMode.SELECTED_NETWORKS,
                                      allowed_ip_rules=tuple(ipaddress.ip_network(a) for a in allowed), **overrides))
