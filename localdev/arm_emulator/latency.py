"""A fixed delay on every Resource Manager request, for benchmarks at Azure's own pace.

Resource Manager answers a read in tens to hundreds of milliseconds, so a tool that sends its requests
one after another is bound by that latency, not by how many requests it sends. The delay sits in the
throttling stage (after authentication, before the provider answers, outside the store's lock), so
concurrent requests wait side by side as they would against Azure. Token and admin requests are not
delayed: they never reach that stage.

    with request_latency(emulator, ms=100): ...   # or set_latency(emulator, 100) / set_latency(emulator, 0)
"""
from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .emulator import ArmEmulator

_ORIGINAL = "_throttle_without_latency"


def set_latency(emulator: ArmEmulator, ms: float) -> None:
    """Delay each Resource Manager request by `ms` milliseconds (0 removes the delay)."""
    original = emulator.__dict__.get(_ORIGINAL)
    if original is None:
        original = emulator.throttle
        setattr(emulator, _ORIGINAL, original)
    if ms <= 0:
        emulator.__dict__.pop("throttle", None)  # the class's own stage again
        emulator.latency_ms = 0.0  # type: ignore[attr-defined]
        return
    delay = ms / 1000

    def throttle(claims: dict[str, Any] | None, method: str, arm: Any) -> None:
        time.sleep(delay)
        original(claims, method, arm)

    emulator.throttle = throttle  # type: ignore[method-assign]
    emulator.latency_ms = float(ms)  # type: ignore[attr-defined]


def latency_of(emulator: ArmEmulator) -> float:
    return float(getattr(emulator, "latency_ms", 0.0))


@contextmanager
def request_latency(emulator: ArmEmulator, ms: float) -> Iterator[None]:
    before = latency_of(emulator)
    set_latency(emulator, ms)
    try:
        yield
    finally:
        set_latency(emulator, before)
