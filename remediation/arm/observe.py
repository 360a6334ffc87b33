"""Read the actual state of an account and everything its lockdown depends on. Reads only.

Called by `service.Remediator` (steps 1, 3 and 4 of a reconcile) and by the applier, which re-reads a busy
account. The account GET already carries its private endpoint connections, so a compliant account costs
one read for the account, then per serving endpoint one read for the endpoint and one for its zone
group, then one list of virtual network links per zone the kind needs, and one read of the account's A
record per zone its endpoints' zone groups name.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from remediation.arm.clients import (
    NETWORK_API_VERSION,
    PRIVATE_DNS_API_VERSION,
    ArmClients,
    classify,
    describe,
    raw_json,
)
from remediation.core.arm_json import json_get, same_text
from remediation.core.desired import OTHER_RECORD_TYPES, DesiredState, dns_records, dns_zone_ids
from remediation.core.ids import ResourceId, fold, try_parse_resource_id
from remediation.core.model import (
    Account,
    ErrorKind,
    Observation,
    PrivateEndpoint,
    RecordSet,
    ResolvedName,
    Unverified,
    Zone,
    ZoneGroup,
)
from remediation.core.polling import poll_until


def read_account(clients: ArmClients, account_id: ResourceId) -> Account:
    """GET the account (raises azure.core ResourceNotFoundError when it does not exist)."""
    client = clients.cognitive(account_id.subscription_id)
    body = client.accounts.get(account_id.resource_group, account_id.name, cls=raw_json)
    return Account.from_arm(body)


def wait_until_ready(clients: ArmClients, account: Account, timeout: float, interval: float,
                     sleep: Callable[[float], None] = time.sleep,
                     clock: Callable[[], float] = time.monotonic) -> Account:
    """Re-read a busy account until its provisioningState is terminal or `timeout` passes (bounded)."""
    return poll_until(lambda: read_account(clients, account.id), lambda read: read.ready, timeout=timeout,
                      interval=interval, sleep=sleep, clock=clock, first=lambda: account)


def observe(clients: ArmClients, desired: DesiredState, account: Account) -> Observation:
    """The endpoints behind the account's live connections and the zones their DNS needs, as read now.

    A read that fails, for any reason, names its resource as unverified instead of failing the reconcile: the
    account's own fixes are made before any of these reads, and never wait on them."""
    if not account.custom_subdomain or not desired.serving_subnets:
        # plan() stops before private endpoints without a subdomain; with no subnet configured the endpoint
        # checks are off (and no role lets the identity read an endpoint anyway).
        return Observation(account)

    endpoints: dict[ResourceId, PrivateEndpoint] = {}
    unverified: list[Unverified] = []
    # "The private endpoint must be deployed in the same region and subscription as the virtual network"
    # (learn.microsoft.com, azure/private-link/private-endpoint-overview): an endpoint in another subscription
    # cannot sit in an allowed subnet, so a stranger's connection request costs no read.
    subscriptions = {fold(s.subscription_id) for s in desired.serving_subnets}
    for connection in account.connections:
        endpoint_id = connection.private_endpoint_id
        if endpoint_id is None or not (connection.approved or connection.pending) \
                or fold(endpoint_id.subscription_id) not in subscriptions:
            continue
        endpoint = _read_endpoint(clients, desired, endpoint_id, unverified)
        if endpoint is not None:
            endpoints[endpoint.id] = endpoint

    serving = [e for e in endpoints.values() if e.subnet_id in desired.serving_subnets]
    wanted: dict[ResourceId, None] = {}  # zones to read, in a stable order
    for endpoint in serving:
        wanted.update(dict.fromkeys(z for z in dns_zone_ids(desired, endpoint.zone_group).values() if z))
    if not serving and desired.new_endpoint_subnet is not None:
        wanted.update(dict.fromkeys(z for z in dns_zone_ids(desired, None).values() if z))
    read = {zone_id: _read_zone(clients, zone_id, unverified) for zone_id in wanted}
    zones = {k: v for k, v in read.items() if v is not None}
    records: dict[ResourceId, RecordSet | None] = {}
    for record_id in dns_records(desired, account.custom_subdomain, serving):
        if record_id.parent in zones:
            for same_name in (record_id, *(record_id.parent.child(t, record_id.name) for t in OTHER_RECORD_TYPES)):
                record = _read_record(clients, same_name, zones[record_id.parent], unverified)
                if record is not _UNREADABLE:
                    records[same_name] = record
    resolved = _resolution(desired, account, serving, zones) if desired.resolution_check else ()
    return Observation(account, endpoints, zones, tuple(unverified), records, resolved)


def _resolution(desired: DesiredState, account: Account, serving: list[PrivateEndpoint],
                zones: dict[ResourceId, Zone]) -> tuple[ResolvedName, ...]:
    """The account's public names as the app's network resolves them, judged against the serving
    endpoints' private IPs. Which zones are linked is judged for the serving endpoints' networks, where
    the app's own network (its VNet integration) is expected to be."""
    from remediation.arm.resolution import ZoneLink, judge, public_names, resolve

    expected = sorted({ip for endpoint in serving for ips in endpoint.dns_configs.values() for ip in ips})
    if not expected or not account.custom_subdomain:
        return ()  # nothing serves with a known address: the endpoint findings say so
    vnets = {endpoint.vnet_id for endpoint in serving}
    links = {zone.id.name: ZoneLink.LINKED if zone.exists and vnets <= zone.linked_vnets else ZoneLink.NOT_LINKED
             for zone in zones.values()}
    verdict = judge(resolve(public_names(account.kind, account.custom_subdomain), desired.dns_resolver),
                    expected, links)
    return tuple(ResolvedName(n.name, n.private, _answered(n.answer), n.reason, tuple(expected))
                 for n in verdict.names)


def _answered(answer: Any) -> str:
    """What the resolver said, as nslookup shows it: the chain and the addresses, or the failure."""
    steps = [answer.name, *answer.chain, *([", ".join(answer.addresses)] if answer.addresses else [])]
    text = " → ".join(steps)
    if answer.addresses:
        return text
    return f"{text}: {answer.status.value}" + (f" ({answer.detail})" if answer.detail else "")


def _read_endpoint(clients: ArmClients, desired: DesiredState, endpoint_id: ResourceId,
                   unverified: list[Unverified]) -> PrivateEndpoint | None:
    """The endpoint and, when it sits in an allowed subnet, its zone group; None when it is gone or could not be
    read (then it is named in `unverified`)."""
    from azure.core.exceptions import AzureError

    try:
        body = clients.find_json(endpoint_id, NETWORK_API_VERSION)
        if body is None:
            return None  # a connection whose endpoint is gone serves nothing
        subnet_id = try_parse_resource_id(json_get(body, "properties", "subnet", "id"))
        group = None
        if subnet_id in desired.serving_subnets:  # zone groups only matter for endpoints that count
            groups = list(clients.list_json(f"{endpoint_id}/privateDnsZoneGroups", NETWORK_API_VERSION))
            group = ZoneGroup.from_arm(groups[0]) if groups else None  # Azure allows one group per endpoint
    except AzureError as error:
        unverified.append(_unverified(endpoint_id, error))
        return None
    return PrivateEndpoint.from_arm(endpoint_id, body, group)


def _read_zone(clients: ArmClients, zone_id: ResourceId, unverified: list[Unverified]) -> Zone | None:
    """The zone and the VNets its Succeeded links join; None when it could not be read. A link that is still
    being made, or whose operation ended Failed, does not resolve names for its VNet yet, so it does not count."""
    from azure.core.exceptions import AzureError, ResourceNotFoundError

    try:
        links = list(clients.list_json(f"{zone_id}/virtualNetworkLinks", PRIVATE_DNS_API_VERSION))
    except ResourceNotFoundError:
        return Zone(zone_id, exists=False)
    except AzureError as error:
        unverified.append(_unverified(zone_id, error))
        return None
    vnets = {try_parse_resource_id(json_get(link, "properties", "virtualNetwork", "id")) for link in links
             if same_text(json_get(link, "properties", "provisioningState") or "Succeeded", "Succeeded")}
    return Zone(zone_id, exists=True, linked_vnets=frozenset(v for v in vnets if v is not None))


_UNREADABLE = object()  # a record whose read failed: named in `unverified`, never judged


def _read_record(clients: ArmClients, record_id: ResourceId, zone: Zone, unverified: list[Unverified]) -> Any:
    """One record set of the account's name in an existing zone (one GET each: a list of the zone's records
    would cost a page per hundred records, growing with every account in a shared zone); None when absent."""
    from azure.core.exceptions import AzureError

    if not zone.exists:
        return None  # a zone that is gone holds no record; it is recreated, then the record put back
    try:
        body = clients.find_json(record_id, PRIVATE_DNS_API_VERSION)
    except AzureError as error:
        unverified.append(_unverified(record_id, error))
        return _UNREADABLE
    return RecordSet.from_arm(record_id, body) if body is not None else None


def _unverified(resource_id: ResourceId, error: BaseException) -> Unverified:
    """A failed read, named: transient when another try may get an answer (throttled, 5xx, no connection)."""
    kind = classify(error)
    return Unverified(resource_id, describe(error), transient=kind in (ErrorKind.UNAVAILABLE, ErrorKind.FAILED,
                                                                       ErrorKind.BUSY))
