"""Self-pacing (remediation/core/pacing.py): buckets named as the answers name them, mirrored from the remaining
counts, and requests held back before the bucket runs dry, against a simulated Resource Manager bucket."""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import given, settings
from hypothesis import strategies as st

from remediation.core.pacing import Pacer, buckets_for, reported

SUB = "00000000-1111-2222-3333-444444444444"
ACCOUNT_URL = f"https://management.azure.com/subscriptions/{SUB}/resourceGroups/rg/providers/" \
              "Microsoft.CognitiveServices/accounts/a?api-version=2025-09-01"
RECORD_URL = f"https://management.azure.com/subscriptions/{SUB.upper()}/resourceGroups/rg/providers/" \
             "Microsoft.Network/privateDnsZones/privatelink.openai.azure.com/A/a?api-version=2024-06-01"


def test_buckets_are_named_as_the_answers_report_them() -> None:
    assert buckets_for("GET", ACCOUNT_URL) == [f"{SUB}:subscription-reads", f"{SUB}:subscription-global-reads"]
    assert buckets_for("PATCH", ACCOUNT_URL)[0] == f"{SUB}:subscription-writes"
    assert buckets_for("DELETE", ACCOUNT_URL)[0] == f"{SUB}:subscription-deletes"
    assert buckets_for("GET", RECORD_URL)[-1] == f"{SUB}:subscription-resource-requests:reads"
    assert buckets_for("GET", "https://management.azure.com/providers?api-version=1")[0] == "-:tenant-reads"
    headers = [("x-ms-ratelimit-remaining-subscription-reads", "249"), ("Content-Type", "application/json"),
               ("X-Ms-Ratelimit-Remaining-Subscription-Global-Reads", "3749")]
    assert reported("GET", ACCOUNT_URL, headers) == [(f"{SUB}:subscription-reads", 249),
                                                     (f"{SUB}:subscription-global-reads", 3749)]
    dns = [("x-ms-ratelimit-remaining-subscription-resource-requests", "499")]
    assert reported("GET", RECORD_URL, dns) == [(f"{SUB}:subscription-resource-requests:reads", 499)]
    assert reported("PUT", RECORD_URL, dns) == [(f"{SUB}:subscription-resource-requests:writes", 499)]
    assert reported("GET", ACCOUNT_URL, [("x-ms-ratelimit-remaining-subscription-reads", "n/a")]) == []


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_nothing_waits_until_an_answer_shows_the_bucket() -> None:
    pacer = Pacer(Clock())
    assert all(pacer.wait(buckets_for("GET", ACCOUNT_URL)) == 0 for _ in range(1000))


def test_requests_go_until_the_reserve_then_wait_for_the_refill() -> None:
    clock = Clock()
    pacer = Pacer(clock)
    bucket = f"{SUB}:subscription-reads"
    pacer.observe(bucket, 249)   # a full bucket of 250 less this answer's request
    sent = 0
    while pacer.wait([bucket]) == 0:
        sent += 1
    assert sent == 249 - 25   # a tenth of 250 is kept back
    wait = pacer.wait([bucket])
    assert 0 < wait <= 0.1   # documented refill: 250 in 10 s, so one token within 0.04 s
    clock.now += wait
    assert pacer.wait([bucket]) == 0


@dataclass
class Server:
    """Resource Manager's token bucket, as the emulator models it (throttling.py)."""

    size: int
    refill: float
    tokens: float
    at: float = 0.0

    def take(self, now: float) -> tuple[bool, int]:
        self.tokens = min(self.size, self.tokens + (now - self.at) * self.refill)
        self.at = now
        if self.tokens < 1:
            return False, 0
        self.tokens -= 1
        return True, int(self.tokens)


def run(server: Server, requests: int, latency: float, others: float = 0.0) -> tuple[int, float]:
    """`requests` sent one after another through a pacer against `server`, while other callers draw `others` tokens a
    second: (429s, seconds taken)."""
    clock = Clock()
    pacer = Pacer(clock)
    bucket = f"{SUB}:subscription-reads"
    throttled = sent = 0
    while sent < requests:
        wait = pacer.wait([bucket])
        if wait > 0:
            clock.now += wait
            continue
        clock.now += latency
        server.tokens -= others * latency
        ok, remaining = server.take(clock.now)
        pacer.observe(bucket, remaining, counted=ok)
        if ok:
            sent += 1
        else:
            throttled += 1
            clock.now += 1.0   # Retry-After
    return throttled, clock.now


@settings(max_examples=40, deadline=None)
@given(size=st.integers(20, 2000), fill_seconds=st.floats(2.0, 600.0), latency=st.floats(0.001, 0.2))
def test_a_lone_caller_slows_down_before_the_bucket_runs_dry(size: int, fill_seconds: float, latency: float) -> None:
    """Whatever the bucket's size and refill, a caller alone on it slows down before it runs dry and still gets most of
    what the refill allows. The pacer starts from the documented ratio (reads: full in 10 s): never throttled when
    the bucket refills at least that fast, a few times at most while it learns a slower one."""
    refill = size / fill_seconds
    requests = size * 3
    throttled, took = run(Server(size, refill, size), requests, latency)
    assert throttled == 0 if fill_seconds <= 10 else throttled <= 8
    least = max(0.0, requests - size) / refill   # the bucket's contents, then the refill alone
    assert took <= max(least / 0.7, requests * latency * 1.5)


def test_another_caller_draining_the_bucket_is_left_room() -> None:
    """Someone else draws half the refill: the pacer learns what is left for it, and is throttled at most a few times
    while it learns."""
    server = Server(250, 25.0, 250)
    throttled, took = run(server, 2000, 0.01, others=12.5)
    assert throttled <= 3
    assert took >= (2000 - 250) / 25.0


def test_a_refusal_alone_does_not_hold_anything_back_and_a_tiny_bucket_still_goes() -> None:
    """A 429 reports 0 left but not how big the bucket is: until an answer that drew on it says, nothing waits.
    A bucket of one token keeps no reserve: its token goes once it is back."""
    clock = Clock()
    pacer = Pacer(clock)
    bucket = f"{SUB}:subscription-writes"
    pacer.observe(bucket, 0, counted=False)
    assert pacer.wait([bucket]) == 0
    pacer.observe(bucket, 0)   # a bucket of one, just spent
    assert pacer.wait([bucket]) > 0
    clock.now += 60
    assert pacer.wait([bucket]) == 0
