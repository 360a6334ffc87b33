"""The one bounded wait: try, and while the answer is not the one wanted and time is left, sleep and try again.
Pure: the clock and the sleep are passed in.

Used for a busy account (`arm.observe.wait_until_ready`), a write refused while the account is busy
(`arm.apply.Applier`) and a lease another reconcile holds (`runtime.direct.DirectReconciler`). Long-running
operations are not polled here: azure-core's pollers do that, at the operation's own Retry-After.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")
MIN_INTERVAL = 0.05  # seconds: never a busy loop, whatever the settings say


def poll_until(attempt: Callable[[], T], done: Callable[[T], bool], *, timeout: float, interval: float,
               sleep: Callable[[float], None], clock: Callable[[], float], first: Callable[[], T] | None = None) -> T:
    """The first answer `done` accepts, or the last one when `timeout` seconds have passed. `first` gives the first
    answer when it is already at hand (else `attempt` does); there is always at least one."""
    deadline = clock() + timeout
    answer = (first or attempt)()
    while not done(answer) and clock() < deadline:
        sleep(max(interval, MIN_INTERVAL))
        answer = attempt()
    return answer
