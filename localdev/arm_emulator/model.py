"""Plain records shared across the emulator: configuration, request log entries, write events."""
from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from typing import Any

ACCOUNT_LRO_MODES = ("aao", "location", "body", "sync")
PACES = ("polls", "time")


@dataclass
class EmulatorConfig:
    """Behaviour switches; mutate freely between requests (emu.reset() restores the defaults)."""

    page_size: int = 100
    lro_polls: int = 1              # InProgress answers (or Accepted GETs in "body" mode) before Succeeded
    account_lro: str = "aao"        # "aao" | "location" | "body" | "sync" for account PUT/PATCH
    account_settle_gets: int = 0    # GETs that still read "Accepted" after an account operation finished
    require_auth: bool = True
    connection_lro: str = "sync"    # private endpoint connection PUT: "sync" (200) | "aao" (202 + AAO)
    dns_lro: str = "sync"           # private DNS zone/link PUT: "sync" (201/200) | "aao" (202 + AAO/Location)
    lro_max_age_s: float = 60.0     # an operation nobody polls finishes on its own after this long
    # Azure's pace (pace.py): "polls" finishes an operation after lro_polls polls; "time" after the
    # duration pace.DURATIONS gives its type, times clock_scale (1.0 = Azure's pace, 0.02 = 1:50).
    pace: str = "polls"
    clock_scale: float = 1.0
    durations: dict[str, float] = field(default_factory=dict)   # overrides, seconds at Azure's pace
    # Retry-After on a long-running operation's first answer and on each poll that finds it running (pace.py):
    # "azure" sends each operation type's own (Network 10 s, Private DNS 30 s, Cognitive Services none), "none"
    # sends none, so clients wait their own polling interval (azure-core: 30 s unless the client sets one, as the
    # Azure CLI does not; see messages.add_retry_after). `lro_retry_after_s`, when set, is sent instead of either.
    # Both are scaled by clock_scale in the time pace.
    retry_after: str = "none"
    lro_retry_after_s: float | None = None
    latency_ms: float = 0.0         # added to every ARM request (not the token endpoint, not /_emulator/)
    # Throttling (throttling.py): token buckets per subscription, principal and operation type, plus a
    # subscription-wide bucket `throttle_global_factor` times larger. Sizes and refills per second.
    throttling: bool = True
    read_bucket: int = 250
    read_refill: float = 25.0
    write_bucket: int = 200
    write_refill: float = 10.0
    delete_bucket: int = 200
    delete_refill: float = 10.0
    throttle_global_factor: int = 15
    # Resource providers' own limits beside Resource Manager's buckets (provider_limits.py), off unless asked for:
    # Microsoft.Network per subscription and region, Private DNS per subscription, each `limit` requests per
    # `provider_window_s` (300 s, "per 5 minutes" in the documentation; a token bucket refilling limit/window a
    # second here). Benchmarks at a scaled clock scale the window with it.
    provider_limits: bool = False
    provider_window_s: float = 300.0
    network_read_limit: int = 10_000
    network_write_limit: int = 1_000
    dns_read_limit: int = 500
    dns_write_limit: int = 12_000
    # Links the emulator writes (nextLink, private DNS operation URLs) with the port spelled out even
    # when it is the default one, as Azure has been seen to do (https://management.azure.com:443/...).
    explicit_port_links: bool = False
    # Largest $top honoured where the API documents $top (private DNS zones, links, record sets; resource groups):
    # a larger one is cut to it. 100 is the only size private DNS documents ("If not specified, returns up to 100
    # record sets", azure-rest-api-specs privatedns RecordSet.tsp @1a77e8ba); its maximum is unpublished (public
    # DNS's "between '1' and '1000'", MicrosoftDocs/feedback#1111, is another service's), so nothing larger is
    # assumed.
    max_top: int = 100
    tags_patch_sync: bool = False   # answer a tags-only account PATCH 200 at once (ARM convention)
    enforce_rbac: bool = False      # authorize every token's oid against its role assignments, as ARM does
    # Management locks on linked resources (locks.py), where Azure's behaviour is unevidenced:
    # - lock_pe_subnet: a ReadOnly lock over a private endpoint's subnet (its VNet, resource group or
    #   subscription) refuses the endpoint's PUT, as if joining the subnet were a write of it. Off: the one
    #   indirect hint (Azure/sap-automation PR #176 moved to private endpoints because a locked VNet refused
    #   subnet writes) suggests endpoints could still be made in a locked VNet.
    # - lock_pe_target: a private endpoint writes and deletes a `privateEndpointConnectionProxies` child of its
    #   target account, so a ReadOnly lock over the account refuses a new connection (409 at the PUT; inferred)
    #   and any lock over it fails the endpoint's delete operation (evidenced for a storage target:
    #   hashicorp/terraform-provider-azurerm#17478, MicrosoftDocs/azure-docs#116983).
    # - lock_connection_approval: a PUT or DELETE of an account's private endpoint connection is a write or
    #   delete under the account, so the account's locks refuse it by inheritance (inferred; no recorded answer).
    lock_pe_subnet: bool = False
    lock_pe_target: bool = True
    lock_connection_approval: bool = True
    # Virtual network IDs whose private DNS links fail: a link PUT to one is accepted (202) and its operation
    # ends Failed with Conflict "Virtual network resource identity '<vnet>' already in use. This is possible in
    # case the virtual network was moved, or re-created. Please contact support." (Azure/azure-powershell#9537);
    # the link is kept with provisioningState Failed (that it stays is unevidenced).
    failed_link_vnets: list[str] = field(default_factory=list)
    # An account's networkAcls.virtualNetworkRules naming a subnet the emulator does not hold: "accept" stores the
    # rule (the only report, hashicorp/terraform-provider-azurerm#13108, has the RP "neither fail nor apply"), "refuse"
    # answers 400 (code and text unevidenced for Cognitive Services; Storage's refusal of an unusable subnet,
    # NetworkAclsValidationFailure in terraform-provider-azurerm#16547, is borrowed).
    acl_missing_subnet: str = "accept"
    # Private DNS limits per zone (learn.microsoft.com azure/dns/private-dns-privatednszone "Limits", and the zone's
    # own maxNumberOfRecordSets / maxNumberOfVirtualNetworkLinks): record sets (the SOA counts), virtual network
    # links, records in one record set. Azure's defaults; tests scale them down (handlers/privatedns.py answers).
    dns_max_record_sets: int = 25_000
    dns_max_links: int = 1_000
    dns_max_records: int = 20

    def update(self, values: dict[str, Any]) -> None:
        for k, v in values.items():
            if k not in self.__dataclass_fields__:
                raise ValueError(f"unknown config field {k!r}")
            setattr(self, k, v)
        if self.account_lro not in ACCOUNT_LRO_MODES:
            raise ValueError(f"account_lro must be one of {ACCOUNT_LRO_MODES}")
        if self.pace not in PACES:
            raise ValueError(f"pace must be one of {PACES}")
        if self.acl_missing_subnet not in ("accept", "refuse"):
            raise ValueError("acl_missing_subnet must be 'accept' or 'refuse'")
        if float(self.clock_scale) <= 0:
            raise ValueError("clock_scale must be positive")
        if self.retry_after not in ("azure", "none"):
            raise ValueError("retry_after must be 'azure' or 'none'")

    @staticmethod
    def azure_pace(scale: float = 1.0) -> dict[str, Any]:
        """Settings that answer every write the way Azure does, at `scale` times Azure's pace, Retry-After and
        status words included (pace.py)."""
        return {"pace": "time", "clock_scale": scale, "account_lro": "aao", "connection_lro": "sync",
                "dns_lro": "aao", "retry_after": "azure"}

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def iso(t: dt.datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S.%f") + "Z"


@dataclass
class RequestRecord:
    method: str
    path: str
    query: dict[str, str]
    api_version: str | None
    status: int
    request_body: Any
    caller: dict[str, Any] | None     # oid, appid, name, upn of the token's subject; never the token
    time: dt.datetime
    operation: str | None             # e.g. "Microsoft.CognitiveServices/accounts/write" for writes
    kind: str                         # "read" | "write" | "poll" | "token" | "admin"
    correlation_id: str | None = None
    fault: bool = False
    headers: dict[str, str] = field(default_factory=dict)  # conditional headers only; never Authorization
    # RBAC: the action Resource Manager authorizes for this request (reads included; none for operation
    # polls) followed by the linked actions; `linked_operations` alone, with the resource each is checked on.
    actions: tuple[str, ...] = ()
    linked_operations: tuple[str, ...] = ()
    linked_scopes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["time"] = iso(self.time)
        return d


@dataclass
class WriteEvent:
    """An accepted write, as Event Grid would learn of it (emitted when ARM accepts the request)."""

    operation_name: str
    resource_id: str
    method: str
    status: int
    caller_claims: dict[str, Any]     # all claims of the caller's token (Event Grid events carry them)
    correlation_id: str
    time: dt.datetime
    url: str = ""
    client_ip: str = ""
    api_version: str | None = None
    request_body: Any = None

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["time"] = iso(self.time)
        return d
