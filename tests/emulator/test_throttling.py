"""Resource Manager's token buckets: per subscription, principal and operation type (throttling.py)."""
from __future__ import annotations

import time

import pytest

from localdev.arm_emulator import EmulatorConfig
from localdev.arm_emulator.errors import ArmError
from localdev.arm_emulator.throttling import Throttler
from tests.helpers.emulator import ACCOUNT, RG, SUB, Raw, base_scenario

OTHER_SUB = "99999999-1111-2222-3333-444444444444"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_bucket_empties_then_refills_at_its_rate():
    clock = FakeClock()
    throttler = Throttler(EmulatorConfig(), clock)
    for _n in range(250):
        headers = throttler.take(SUB, "oid-a", "GET")
    assert headers["x-ms-ratelimit-remaining-subscription-reads"] == "0"
    assert headers["x-ms-ratelimit-remaining-subscription-global-reads"] == str(250 * 15 - 250)
    with pytest.raises(ArmError) as err:
        throttler.take(SUB, "oid-a", "GET")
    assert err.value.status == 429 and err.value.code == "SubscriptionRequestsThrottled"
    assert err.value.headers["Retry-After"] == "1"   # 25 tokens a second: the next one is back within a second
    assert f"subscription '{SUB}' actor 'oid-a'" in err.value.message
    assert "Number of 'read' requests" in err.value.message
    clock.now += 2.0   # 50 tokens back
    for _ in range(50):
        throttler.take(SUB, "oid-a", "GET")
    with pytest.raises(ArmError):
        throttler.take(SUB, "oid-a", "GET")
    assert throttler.throttled == 2


def test_buckets_are_per_principal_subscription_and_operation_type():
    clock = FakeClock()
    throttler = Throttler(EmulatorConfig(), clock)
    for _ in range(200):
        throttler.take(SUB, "oid-a", "PUT")
    with pytest.raises(ArmError):
        throttler.take(SUB, "oid-a", "PATCH")   # writes share one bucket
    assert throttler.take(SUB, "oid-b", "PUT")["x-ms-ratelimit-remaining-subscription-writes"] == "199"
    assert throttler.take(OTHER_SUB, "oid-a", "PUT")["x-ms-ratelimit-remaining-subscription-writes"] == "199"
    assert throttler.take(SUB, "oid-a", "GET")["x-ms-ratelimit-remaining-subscription-reads"] == "249"
    deletes = throttler.take(SUB, "oid-a", "DELETE")   # deletes have a bucket (and headers) of their own
    assert deletes == {"x-ms-ratelimit-remaining-subscription-deletes": "199",
                       "x-ms-ratelimit-remaining-subscription-global-deletes": str(200 * 15 - 1)}
    assert throttler.remaining(SUB, "oid-a", "DELETE") == 199


def test_the_subscription_wide_bucket_caps_many_principals():
    clock = FakeClock()
    config = EmulatorConfig(read_bucket=10, read_refill=0.0, throttle_global_factor=3)
    throttler = Throttler(config, clock)
    for principal in ("a", "b", "c"):
        for _ in range(10):
            throttler.take(SUB, principal, "GET")
    with pytest.raises(ArmError) as err:
        throttler.take(SUB, "d", "GET")   # d's own bucket is full, the subscription's is empty
    assert err.value.status == 429


def test_switched_off_nothing_is_counted():
    throttler = Throttler(EmulatorConfig(throttling=False), FakeClock())
    for _ in range(1000):
        assert throttler.take(SUB, "a", "GET") == {}


def test_every_answer_carries_the_remaining_quota(emu):
    emu.seed(base_scenario())
    emu.config.read_refill = 0.0   # nothing comes back during the test, so every count is exact
    raw = Raw(emu)
    assert raw("GET", ACCOUNT)[1]["x-ms-ratelimit-remaining-subscription-reads"] == "249"
    _, headers, _ = raw("GET", ACCOUNT)
    assert headers["x-ms-ratelimit-remaining-subscription-reads"] == "248"
    assert headers["x-ms-ratelimit-remaining-subscription-global-reads"] == str(250 * 15 - 2)
    status, headers, _ = raw("PATCH", ACCOUNT, {"properties": {"disableLocalAuth": True}})
    assert status == 202 and headers["x-ms-ratelimit-remaining-subscription-writes"] == "199"
    # A poll of the operation is a GET and counts as a read (throttling.py).
    _, poll_headers, _ = raw("GET", headers["azure-asyncoperation"].split(str(emu.port), 1)[1], api_version=None)
    assert poll_headers["x-ms-ratelimit-remaining-subscription-reads"] == "247"
    _, headers, _ = raw("DELETE", f"{RG}/providers/Microsoft.CognitiveServices/accounts/gone")
    assert headers["x-ms-ratelimit-remaining-subscription-deletes"] == "199"
    # The token endpoint is not Resource Manager: no quota spent, no headers.
    assert emu.throttler.remaining(SUB, emu.app_identity.object_id, "GET") == 247


def test_429_is_answered_like_resource_manager_and_the_sdk_waits_it_out(emu, clients):
    emu.seed(base_scenario())
    emu.config.read_bucket = 3
    emu.config.read_refill = 2.0   # a token every 0.5 s
    raw = Raw(emu)
    for _ in range(3):
        assert raw("GET", ACCOUNT)[0] == 200
    status, headers, body = raw("GET", ACCOUNT)
    assert status == 429 and headers["retry-after"] == "1"
    assert body["error"]["code"] == "SubscriptionRequestsThrottled"
    assert headers["x-ms-ratelimit-remaining-subscription-reads"] == "0"
    started = time.monotonic()
    assert clients.cog.accounts.get("rg-ai", "aoai-prod").name == "aoai-prod"   # azure-core honours Retry-After
    assert time.monotonic() - started >= 0.9
    statuses = [r.status for r in emu.requests if r.path.endswith("/aoai-prod") and r.kind != "token"]
    assert statuses[-2:] == [429, 200]
