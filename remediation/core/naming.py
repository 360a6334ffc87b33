"""Deterministic names for what the app creates: the same account always gets the same endpoint, link and
config names, so a repeated or concurrent create is the same PUT, never a second resource."""

from __future__ import annotations

import hashlib

from remediation.core.ids import ResourceId, fold


def _short_hash(text: str) -> str:
    return hashlib.sha256(fold(text).encode()).hexdigest()[:8]


def private_endpoint_name(account_id: ResourceId) -> str:
    """Derived from the account ID, so a repeated or concurrent create is the same PUT (max 80 chars)."""
    return f"pe-{account_id.name[:64].lower()}-{_short_hash(account_id.key)}"


def private_endpoint_id(account_id: ResourceId, subnet_id: ResourceId) -> ResourceId:
    """New endpoints live beside their virtual network: same subscription and resource group as the subnet."""
    return ResourceId(
        subnet_id.subscription_id, subnet_id.resource_group, "Microsoft.Network", ("privateEndpoints",),
        (private_endpoint_name(account_id),),
    )


def zone_link_name(vnet_id: ResourceId) -> str:
    return f"link-{vnet_id.name[:60].lower()}-{_short_hash(vnet_id.key)}"


def zone_config_name(zone_name: str) -> str:
    return zone_name.replace(".", "-")
