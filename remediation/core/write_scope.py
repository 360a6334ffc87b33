"""Where one reconcile may write, as rules on an action's resource type and ID. Pure.

The applier checks every write against its kind's rule (`apply.ACTIONS[kind].allowed`) right before
sending it, so a plan built from hostile input can never steer a write elsewhere: the account itself
(and its own connections) inside the scopes, this account's deterministic endpoint in a configured
subnet, zone groups of endpoints that serve it, zones and links in the DNS resource group, and there the
A record named after the account's custom subdomain.
"""

from __future__ import annotations

from dataclasses import dataclass

from remediation.core.ids import (
    CONNECTION_TYPE,
    DNS_RECORD_TYPE,
    DNS_ZONE_LINK_TYPE,
    DNS_ZONE_TYPE,
    ZONE_GROUP_TYPE,
    ResourceId,
    fold,
    parse_resource_id,
)
from remediation.core.naming import private_endpoint_id
from remediation.core.plan import Action


@dataclass(frozen=True)
class WriteScope:
    account_id: ResourceId
    account_scopes: tuple[ResourceId, ...]
    new_endpoint_subnets: frozenset[ResourceId]
    existing_endpoints: frozenset[ResourceId]  # observed endpoints that sit in an allowed subnet
    dns_resource_group: ResourceId | None
    dns_record_name: str | None = None  # the account's custom subdomain: the one A record name it may write

    @property
    def own_endpoints(self) -> frozenset[ResourceId]:
        """The endpoints this account's reconcile may create: one per configured subnet, names derived."""
        return frozenset(private_endpoint_id(self.account_id, subnet) for subnet in self.new_endpoint_subnets)


# One rule per action kind; the registry in apply.py names which.

def the_account(scope: WriteScope, action: Action) -> bool:
    return action.target == scope.account_id


def own_connection(scope: WriteScope, action: Action) -> bool:
    return action.target.is_type(CONNECTION_TYPE) and action.target.parent == scope.account_id


def own_new_endpoint(scope: WriteScope, action: Action) -> bool:
    subnet = subnet_of(action)
    return (subnet is not None and subnet in scope.new_endpoint_subnets
            and action.target == private_endpoint_id(scope.account_id, subnet))


def serving_endpoint_zone_group(scope: WriteScope, action: Action) -> bool:
    target = action.target
    return target.is_type(ZONE_GROUP_TYPE) and (target.parent in scope.existing_endpoints
                                                or target.parent in scope.own_endpoints)


def zone_in_dns_group(scope: WriteScope, action: Action) -> bool:
    return _in_dns_group(scope, action.target, DNS_ZONE_TYPE)


def link_in_dns_group(scope: WriteScope, action: Action) -> bool:
    return _in_dns_group(scope, action.target, DNS_ZONE_LINK_TYPE)


def own_record_in_dns_group(scope: WriteScope, action: Action) -> bool:
    """Only the A record named after this account's custom subdomain: every other record is someone else's."""
    return (_in_dns_group(scope, action.target, DNS_RECORD_TYPE) and scope.dns_record_name is not None
            and fold(action.target.name) == fold(scope.dns_record_name))


def _in_dns_group(scope: WriteScope, target: ResourceId, resource_type: str) -> bool:
    return (scope.dns_resource_group is not None and target.is_type(resource_type)
            and target.is_within(scope.dns_resource_group))


def subnet_of(action: Action) -> ResourceId | None:
    """The subnet a private endpoint body names, or None."""
    try:
        return parse_resource_id(action.body["properties"]["subnet"]["id"])
    except (KeyError, TypeError, ValueError):
        return None
