"""The bounds the app puts on what senders and storage tell it: event times clamped to Event Grid's retry window,
waits capped, a zone fanning out at most once a window. Pure pieces, with properties."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from remediation.core.retry import MAX_BACKOFF, capped
from remediation.core.triage import MAX_EVENT_AGE, MAX_EVENT_LEAD, parse_event_time
from remediation.engine.breaker import Contest
from remediation.store.fanout import Covered, FanOut, Wait, decide

NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
_MOMENTS = st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.just(UTC))


@given(_MOMENTS)
def test_an_event_time_is_clamped_into_the_window_a_genuine_event_can_have(moment: datetime) -> None:
    text = moment.isoformat().replace("+00:00", "Z")
    clamped = parse_event_time(text, NOW)
    assert clamped is not None
    assert NOW - MAX_EVENT_AGE <= clamped <= NOW + MAX_EVENT_LEAD
    if NOW - MAX_EVENT_AGE <= moment <= NOW + MAX_EVENT_LEAD:
        assert clamped == moment  # a time inside the window is kept as it is


def test_without_an_arrival_time_an_event_time_is_read_as_written() -> None:
    assert parse_event_time("1990-01-01T00:00:00Z") == datetime(1990, 1, 1, tzinfo=UTC)
    assert parse_event_time("1990-01-01T00:00:00Z", NOW) == NOW - MAX_EVENT_AGE
    assert parse_event_time("2200-01-01T00:00:00Z", NOW) == NOW + MAX_EVENT_LEAD
    assert parse_event_time("yesterday", NOW) is None


@given(st.floats(allow_nan=True, allow_infinity=True))
def test_no_wait_is_longer_than_the_cap(seconds: float) -> None:
    assert 1.0 <= capped(seconds) <= MAX_BACKOFF


@given(_MOMENTS)
def test_the_breakers_wait_is_capped_whatever_its_next_fix_time(next_fix_at: datetime) -> None:
    assert 0 <= Contest(5, 3, next_fix_at, False).wait(NOW) <= MAX_BACKOFF


def test_a_zone_fans_out_when_it_never_did_or_its_window_is_over() -> None:
    assert decide(None, 100.0, 100.0, 60.0) == FanOut()
    assert decide(30.0, 95.0, 100.0, 60.0) == FanOut()


def test_an_event_that_arrived_before_the_last_fan_out_is_covered_by_it() -> None:
    assert decide(90.0, 85.0, 100.0, 60.0) == Covered(90.0)


def test_an_event_that_arrived_after_a_recent_fan_out_waits_for_the_windows_end() -> None:
    assert decide(90.0, 95.0, 100.0, 60.0) == Wait(50.0)


@given(st.lists(st.floats(min_value=0, max_value=600), min_size=1, max_size=50), st.floats(min_value=1, max_value=120))
def test_arrivals_in_any_order_fan_out_at_most_once_a_window(arrivals: list[float], interval: float) -> None:
    """Run events as a worker would (each one at its arrival, a waiting one again at the end of its wait): no two
    fan-outs of one zone are closer than the window, and every event fans out or is covered by a later fan-out."""
    last: float | None = None
    fan_outs: list[float] = []
    runs = sorted((moment, moment) for moment in arrivals)  # (when it runs, when it arrived)
    while runs:
        now, arrived = runs.pop(0)
        admission = decide(last, arrived, now, interval)
        if isinstance(admission, FanOut):
            last = now
            fan_outs.append(now)
        elif isinstance(admission, Wait):
            runs = sorted([*runs, (now + admission.seconds, arrived)])
        else:
            assert admission.since > arrived
    assert all(later - earlier >= interval for earlier, later in zip(fan_outs, fan_outs[1:], strict=False))
    assert fan_outs and fan_outs[-1] >= max(arrivals)
    assert len(fan_outs) <= 2 + (max(arrivals) - min(arrivals)) / interval
