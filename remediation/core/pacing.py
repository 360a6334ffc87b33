"""Self-pacing: slow down before Resource Manager throttles, from the remaining counts it reports. Pure: no I/O, the
clock is passed in; `arm.clients` calls it from a pipeline policy before each request and after each answer.

Resource Manager answers every request with what is left of the buckets it drew on: `x-ms-ratelimit-remaining-
subscription-reads` (and `-writes`, `-deletes`, the `-global-` ones, `tenant-` outside a subscription), and for a
provider with limits of its own, such as Private DNS, `x-ms-ratelimit-remaining-subscription-resource-requests`
instead (learn.microsoft.com azure-resource-manager/management/request-limits-and-throttling, "Remaining requests").
Buckets refill at a steady rate (the same page: reads 250 refilling 25 a second, writes and deletes 200 refilling 10;
Private DNS 500 reads per 5 minutes), and their sizes vary (800 writes have been seen: research-locks-limits.md §3.1).

So each bucket is mirrored here: its size is learned (the largest count seen, plus the request that drew it), its
refill rate starts from the documented ratio of size to refill time and is then learned from the answers (the rise of
the count between two answers plus the requests counted in between; other callers' draws make it lower, never
higher, which only makes this caller more careful). A request may go when the mirrored bucket would still hold more
than a reserve (a tenth of it) after it; otherwise it waits for the refill, and its token is reserved when it goes,
so the threads of one process do not all rush the last tokens. Until an answer has shown a bucket, nothing waits.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass

PREFIX = "x-ms-ratelimit-remaining-"
RESERVE = 0.1  # of a bucket's size, kept for other callers and requests already in flight
MAX_WAIT = 60.0  # seconds one wait may last before the bucket is looked at again
MIN_SPAN = 0.25  # seconds between two answers for a refill sample
# Documented seconds from empty to full: reads 250 / 25 a second, writes and deletes 200 / 10, Private DNS 5 minutes.
FILL_SECONDS = {"reads": 10.0, "writes": 20.0, "deletes": 20.0, "resource-requests": 300.0}
_SUBSCRIPTION = re.compile(r"/subscriptions/([^/?#]+)", re.IGNORECASE)
_PRIVATE_DNS = re.compile(r"/providers/microsoft\.network/privatedns", re.IGNORECASE)


def kind_of(method: str) -> str:
    method = method.upper()
    return "reads" if method in ("GET", "HEAD", "OPTIONS") else "deletes" if method == "DELETE" else "writes"


def _owner(url: str) -> tuple[str, str]:
    """(the subscription a request is counted against, or "-"; the scope its headers name: subscription or tenant)."""
    found = _SUBSCRIPTION.search(url)
    return (found.group(1).lower(), "subscription") if found else ("-", "tenant")


def _provider_side(method: str) -> str:
    """A provider's own count (`-resource-requests`) is one header for every method; its limits differ for reads and
    writes, so it is mirrored as two buckets."""
    return "reads" if kind_of(method) == "reads" else "writes"


def buckets_for(method: str, url: str) -> list[str]:
    """The buckets a request draws on, by the names its answer reports them under."""
    owner, scope = _owner(url)
    kind = kind_of(method)
    names = [f"{owner}:{scope}-{kind}", f"{owner}:{scope}-global-{kind}"]
    if _PRIVATE_DNS.search(url):
        names.append(f"{owner}:{scope}-resource-requests:{_provider_side(method)}")
    return names


def reported(method: str, url: str, headers: Iterable[tuple[str, str]]) -> list[tuple[str, int]]:
    """(bucket, remaining) for each remaining count an answer carries."""
    owner, _ = _owner(url)
    out = []
    for name, value in headers:
        name = name.lower()
        if not name.startswith(PREFIX) or not value.strip().isdigit():
            continue
        bucket = name[len(PREFIX):]
        if bucket.endswith("-resource-requests"):
            bucket += f":{_provider_side(method)}"
        out.append((f"{owner}:{bucket}", int(value)))
    return out


@dataclass
class Mirror:
    """One bucket as the answers show it."""

    remaining: float
    at: float  # when the last answer was read
    size: float
    refill: float  # tokens a second
    spent: int = 0  # requests let through since that answer
    sample_at: float = 0.0
    sample_remaining: float = 0.0
    sample_answers: int = 0
    answers: int = 0  # answers that drew on it (not 429s)

    def now(self, clock: float) -> float:
        """What the bucket holds now, as far as this caller knows."""
        return min(self.size, self.remaining + self.refill * max(0.0, clock - self.at)) - self.spent


class Pacer:
    """Mirrors of the buckets the answers report; thread-safe. `wait(buckets)` is 0 when a request may go (and
    reserves its token), else the seconds to wait before asking again."""

    def __init__(self, clock: Callable[[], float], reserve: float = RESERVE, max_wait: float = MAX_WAIT) -> None:
        self.clock = clock
        self.reserve = reserve
        self.max_wait = max_wait
        self.waits = 0  # times a request was held back (telemetry, benchmarks)
        self._lock = threading.Lock()
        self._mirrors: dict[str, Mirror] = {}

    def wait(self, buckets: Iterable[str]) -> float:
        with self._lock:
            now = self.clock()
            known = [self._mirrors[b] for b in buckets if b in self._mirrors]
            waits = [self._wait_for(m, now) for m in known]
            longest = max(waits, default=0.0)
            if longest <= 0:
                for mirror in known:
                    mirror.spent += 1
                return 0.0
            self.waits += 1
            return min(longest, self.max_wait)

    def _wait_for(self, mirror: Mirror, now: float) -> float:
        floor = min(max(1.0, self.reserve * mirror.size), mirror.size - 1)   # a tiny bucket keeps no reserve
        missing = floor + 1 - mirror.now(now)
        return 0.0 if missing <= 1e-6 else missing / mirror.refill   # (a wait's own rounding is no reason to wait)

    def observe(self, bucket: str, remaining: int, counted: bool = True) -> None:
        """An answer reported `remaining` in `bucket`; `counted`: the request drew on it (a 429 did not)."""
        with self._lock:
            now = self.clock()
            mirror = self._mirrors.get(bucket)
            if mirror is None:
                if not counted:
                    return   # a refusal says nothing of the bucket's size: wait for an answer that drew on it
                size = remaining + 1
                self._mirrors[bucket] = Mirror(remaining, now, size, _default_refill(bucket, size),
                                               sample_at=now, sample_remaining=remaining)
                return
            mirror.answers += 1 if counted else 0
            mirror.size = max(mirror.size, remaining + (1 if counted else 0))
            _learn(mirror, remaining, now)
            mirror.remaining, mirror.at, mirror.spent = remaining, now, 0


def _default_refill(bucket: str, size: float) -> float:
    name = bucket.split(":", 1)[1]
    fill = next((seconds for kind, seconds in FILL_SECONDS.items() if kind in name), FILL_SECONDS["writes"])
    return max(size, 1) / fill


def _learn(mirror: Mirror, remaining: float, now: float) -> None:
    """Refine the refill rate from the answers since the last sample, when the bucket was not full meanwhile (a full
    bucket's refill is lost, and says nothing of its rate)."""
    span = now - mirror.sample_at
    if span < MIN_SPAN:
        return
    if max(remaining, mirror.sample_remaining) < mirror.size - 1:
        drawn = mirror.answers - mirror.sample_answers
        rate = max(0.0, (remaining - mirror.sample_remaining + drawn) / span)
        mirror.refill = max(0.7 * mirror.refill + 0.3 * rate, mirror.size / 3600.0)
    mirror.sample_at, mirror.sample_remaining, mirror.sample_answers = now, remaining, mirror.answers
