"""Resource providers' own throttling, beside Resource Manager's token buckets (throttling.py). Off unless
`EmulatorConfig.provider_limits` is on.

The limits (learn.microsoft.com azure-resource-manager/management/request-limits-and-throttling, "Network throttling";
MicrosoftDocs/azure-docs @8f5f4438, ms.date 03/02/2023, research-locks-limits.md §3.2):
- Microsoft.Network: "write / delete (PUT) 1000 per 5 minutes", "read (GET) 10000 per 5 minutes", and resource
  provider limits apply "per region of the resource";
- "Azure DNS and Azure Private DNS have a throttle limit of 500 read (GET) operations per 5 minutes". A recording
  shows the budget counting down from 500 on Private DNS GETs and from 12,000 on a zone PUT, in the header
  `x-ms-ratelimit-remaining-subscription-resource-requests` (Azure/azure-powershell PrivateDns recordings
  TestGetLinkZoneNotExistsThrow.json, TestPrivateDnsZoneGroupCRUD.json, TestListLinks.json): "Resource Manager adds
  this value instead of the subscription reads or writes" when a provider overrides the default limit (same Learn
  page, "Remaining requests"). The 12,000 writes' window is unevidenced; it is taken as the reads' 5 minutes.
  Learn's newer per-operation Private DNS table (record Get 200 a minute per zone, List 100 a minute per zone, …;
  includes/dns-limits.md, ms.date 10/08/2024) is not modelled.

Each limit is a token bucket of `limit` tokens refilling `limit / provider_window_s` a second (the documentation says
"per 5 minutes" without saying how the window moves; a bucket is the emulator's reading). Deletes count as writes.

Answers once a bucket is empty (429, with Retry-After):
- Private DNS: "Azure Private DNS Zones return an HTTP 429 response with a retry-after of 10 seconds"
  (kubernetes-sigs/external-dns#4839, 2024-10-30, a Microsoft author): Retry-After 10 s (scaled by clock_scale in the
  time pace). No 429 body was found: the body is synthetic, unwrapped like Private DNS's other errors.
- Microsoft.Network: no answer of the provider's own limit was found; Resource Manager's answer for a
  Microsoft.Network operation over its backend limit is used ("Number of requests for subscription '<sub>' and
  operation 'GET/SUBSCRIPTIONS/RESOURCEGROUPS/PROVIDERS/MICROSOFT.NETWORK/PUBLICIPADDRESSES' exceeded the backend
  storage limit. Please try again after '6' seconds.", Learn "Troubleshoot the SubscriptionRequestsThrottled error
  code (429)", ms.date 09/10/2024), with Retry-After the time until a token is back. No remaining-count header is
  evidenced for Network's own limit, so none is sent.
"""
from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from .errors import SYNTHETIC, ArmError
from .ids import ArmPath
from .throttling import TokenBucket

if TYPE_CHECKING:  # pragma: no cover
    from .model import EmulatorConfig

DNS_HEADER = "x-ms-ratelimit-remaining-subscription-resource-requests"
DNS_RETRY_AFTER_S = 10.0
_DNS_TYPES = ("microsoft.network/privatednszones", "microsoft.network/privatednsoperation")


def provider_of(arm: ArmPath) -> str | None:
    """"dns" for Private DNS (zones, links, record sets, its operations), "network" for the rest of
    Microsoft.Network, None for other providers."""
    type_ = arm.type.lower()
    if type_.startswith(_DNS_TYPES):
        return "dns"
    return "network" if type_.startswith("microsoft.network/") else None


def _kind(method: str) -> str:
    return "reads" if method in ("GET", "HEAD", "OPTIONS") else "writes"


class ProviderLimits:
    """Buckets by (provider, subscription, region, reads|writes); Private DNS's region is "global"."""

    def __init__(self, config: EmulatorConfig, clock: Callable[[], float] = time.monotonic) -> None:
        self.config = config
        self.clock = clock
        self._lock = threading.Lock()
        self._buckets: dict[tuple[str, str, str, str], TokenBucket] = {}
        self.throttled = 0   # 429s answered since the last reset

    def reset(self) -> None:
        with self._lock:
            self._buckets.clear()
            self.throttled = 0

    def _size(self, provider: str, kind: str) -> float:
        c = self.config
        return float({("dns", "reads"): c.dns_read_limit, ("dns", "writes"): c.dns_write_limit,
                      ("network", "reads"): c.network_read_limit,
                      ("network", "writes"): c.network_write_limit}[(provider, kind)])

    def take(self, method: str, arm: ArmPath, region: str) -> dict[str, str]:
        """Spend one token of the provider's bucket for this request: the headers to send with the answer (Private
        DNS's remaining count), or ArmError(429) when the bucket is empty. {} when off or not a limited provider."""
        provider = provider_of(arm)
        if not self.config.provider_limits or provider is None:
            return {}
        kind = _kind(method)
        size = self._size(provider, kind)
        refill = size / max(1e-9, float(self.config.provider_window_s))
        key = (provider, (arm.subscription or "tenant").lower(), "global" if provider == "dns" else region, kind)
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None or bucket.capacity != size or bucket.refill_per_s != refill:
                bucket = self._buckets[key] = TokenBucket(size, refill, size, self.clock())
            bucket.refill(self.clock())
            empty = bucket.tokens < 1.0
            if not empty:
                bucket.tokens -= 1.0
            else:
                self.throttled += 1
            remaining, wait = max(0, int(bucket.tokens)), bucket.seconds_until_token()
        headers = {DNS_HEADER: str(remaining)} if provider == "dns" else {}
        if empty:
            raise self._refusal(provider, method, arm, wait, headers)
        return headers

    def _refusal(self, provider: str, method: str, arm: ArmPath, wait: float, headers: dict[str, str]) -> ArmError:
        if provider == "dns":
            scale = float(self.config.clock_scale) if self.config.pace == "time" else 1.0
            seconds = DNS_RETRY_AFTER_S * scale
            return ArmError(429, "TooManyRequests", f"The request rate for Private DNS in subscription "
                            f"'{arm.subscription}' is over its limit. {SYNTHETIC}",
                            {**headers, "Retry-After": _seconds(seconds)}, wrapped=False)
        operation = f"{method}/SUBSCRIPTIONS/RESOURCEGROUPS/PROVIDERS/{arm.type.upper()}"
        text = _seconds(wait)
        return ArmError(429, "SubscriptionRequestsThrottled",
                        f"Number of requests for subscription '{arm.subscription}' and operation '{operation}' "
                        f"exceeded the backend storage limit. Please try again after '{text}' seconds.",
                        {**headers, "Retry-After": text})


def _seconds(seconds: float) -> str:
    """Whole seconds from one up; below one second with decimals (azure-core parses a float)."""
    if seconds >= 1 or seconds == math.inf:
        return str(math.ceil(min(seconds, 3600.0)))
    return f"{max(seconds, 0.001):.3f}".rstrip("0").rstrip(".")
