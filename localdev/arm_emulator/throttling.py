"""Resource Manager's throttling: token buckets per subscription, principal and operation type.

learn.microsoft.com/azure/azure-resource-manager/management/request-limits-and-throttling (the 2024
token-bucket model): per subscription, per service principal and per operation type, reads 250
refilling 25/s, writes 200 refilling 10/s, deletes 200 refilling 10/s; "a global subscription limit
equivalent to 15 times the individual service principal limit for each operation type". An empty
bucket answers 429 with Retry-After (the seconds until a token is back).

Headers on every answer, by operation type (names from real answers):
- `x-ms-ratelimit-remaining-subscription-reads` / `-writes` / `-deletes` (docs; e.g. "…-reads: 249" in a
  2025 Terraform log, "…-deletes: 14999" in a 2021 trace), the principal's bucket;
- `x-ms-ratelimit-remaining-subscription-global-reads` / `-global-writes` / `-global-deletes` (Azure/azure-cli
  recording test_cognitiveservices_aiservices.yaml: "-global-writes: 11999", "-global-reads: 16499"; a
  public script reading "-global-deletes"), the subscription's bucket.

Polls of long-running operations are GETs and count as reads: the first operation-status poll in the
recording above (one second after the PUT, a full bucket) read `-global-reads: 16499`, one below the
bucket's size. Those polls carried no per-principal `-reads` header there; the emulator sends both.

Requests without a subscription in their path use a tenant bucket ("tenant" limits have the same sizes).
"""
from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .errors import throttled

if TYPE_CHECKING:  # pragma: no cover
    from .model import EmulatorConfig

KINDS = ("reads", "writes", "deletes")
_SINGULAR = {"reads": "read", "writes": "write", "deletes": "delete"}


def operation_type(method: str) -> str:
    if method in ("GET", "HEAD", "OPTIONS"):
        return "reads"
    return "deletes" if method == "DELETE" else "writes"


@dataclass
class TokenBucket:
    capacity: float
    refill_per_s: float
    tokens: float
    stamp: float

    def refill(self, now: float) -> None:
        if now > self.stamp:
            self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.refill_per_s)
        self.stamp = now

    def seconds_until_token(self) -> float:
        missing = 1.0 - self.tokens
        return 0.0 if missing <= 0 else missing / self.refill_per_s if self.refill_per_s > 0 else math.inf


class Throttler:
    """Buckets by (subscription, principal, operation type) and (subscription, operation type)."""

    def __init__(self, config: EmulatorConfig, clock: Callable[[], float] = time.monotonic) -> None:
        self.config = config
        self.clock = clock
        self._lock = threading.Lock()
        self._buckets: dict[tuple[str, str, str], TokenBucket] = {}
        self.throttled = 0   # 429s answered since the last reset (benchmarks report it)

    def reset(self) -> None:
        with self._lock:
            self._buckets.clear()
            self.throttled = 0

    def _limits(self, kind: str) -> tuple[float, float]:
        c = self.config
        return {"reads": (c.read_bucket, c.read_refill), "writes": (c.write_bucket, c.write_refill),
                "deletes": (c.delete_bucket, c.delete_refill)}[kind]

    def _bucket(self, key: tuple[str, str, str], capacity: float, refill: float, now: float) -> TokenBucket:
        bucket = self._buckets.get(key)
        if bucket is None or bucket.capacity != capacity or bucket.refill_per_s != refill:
            bucket = self._buckets[key] = TokenBucket(capacity, refill, capacity, now)
        bucket.refill(now)
        return bucket

    def take(self, subscription: str | None, principal: str | None, method: str) -> dict[str, str]:
        """Spend one token of the caller's and the subscription's bucket; returns the remaining-quota
        headers, or raises ArmError(429) (with those headers and Retry-After) when either is empty."""
        kind = operation_type(method)
        if not self.config.throttling:
            return {}
        scope = (subscription or "tenant").lower()
        actor = (principal or "anonymous").lower()
        size, refill = self._limits(kind)
        factor = max(1, int(self.config.throttle_global_factor))
        with self._lock:
            now = self.clock()
            own = self._bucket((scope, actor, kind), size, refill, now)
            whole = self._bucket((scope, "*", kind), size * factor, refill * factor, now)
            empty = [b for b in (own, whole) if b.tokens < 1.0]
            if not empty:
                own.tokens -= 1.0
                whole.tokens -= 1.0
            headers = self._headers(kind, scope, own, whole)
            if empty:
                self.throttled += 1
                # Retry-After in whole seconds, at least 1 (a bucket that never refills: an hour)
                wait = max(1, math.ceil(min(3600.0, max(b.seconds_until_token() for b in empty))))
        if empty:
            error = throttled(_SINGULAR[kind], subscription or "", principal or "", wait)
            error.headers.update(headers)
            raise error
        return headers

    def remaining(self, subscription: str | None, principal: str | None, method: str) -> int:
        """Whole tokens left in the caller's bucket now (without spending one)."""
        kind = operation_type(method)
        size, refill = self._limits(kind)
        with self._lock:
            bucket = self._bucket(((subscription or "tenant").lower(), (principal or "anonymous").lower(), kind),
                                  size, refill, self.clock())
            return int(bucket.tokens)

    @staticmethod
    def _headers(kind: str, scope: str, own: TokenBucket, whole: TokenBucket) -> dict[str, str]:
        prefix = "x-ms-ratelimit-remaining-tenant" if scope == "tenant" else "x-ms-ratelimit-remaining-subscription"
        return {f"{prefix}-{kind}": str(max(0, int(own.tokens))),
                f"{prefix}-global-{kind}": str(max(0, int(whole.tokens)))}
