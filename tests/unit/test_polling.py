"""The one bounded wait (remediation/core/polling.py), with a fake clock."""

from __future__ import annotations

from remediation.core.polling import MIN_INTERVAL, poll_until


class Clock:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_tries_until_the_answer_is_the_one_wanted() -> None:
    clock, answers = Clock(), iter(["Accepted", "Accepted", "Succeeded", "never asked"])
    got = poll_until(lambda: next(answers), lambda a: a == "Succeeded", timeout=60, interval=5, sleep=clock.sleep,
                     clock=clock)
    assert got == "Succeeded" and clock.slept == [5, 5]


def test_gives_the_last_answer_once_the_time_is_up() -> None:
    clock = Clock()
    tries: list[float] = []
    got = poll_until(lambda: tries.append(clock.now) or len(tries), lambda a: False, timeout=12, interval=5,
                     sleep=clock.sleep, clock=clock)
    assert got == 4 and tries == [0, 5, 10, 15]   # the try at 15 s is the one that found the time up


def test_an_answer_at_hand_is_judged_first_and_nothing_waits_below_the_floor() -> None:
    clock = Clock()
    assert poll_until(lambda: "read", lambda a: True, timeout=0, interval=0, sleep=clock.sleep, clock=clock,
                      first=lambda: "at hand") == "at hand"
    answers = iter([False, True])
    assert poll_until(lambda: next(answers), bool, timeout=1, interval=0, sleep=clock.sleep, clock=clock) is True
    assert clock.slept == [MIN_INTERVAL]
