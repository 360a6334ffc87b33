"""Long-running operations: a status that advances with polls (the default) or with time (pace.py).

Tying progress to polls keeps tests deterministic: with lro_polls=N the operation answers InProgress
N times, then Succeeded, however fast or slow the client is. In the time pace an operation has a due
time instead and is done once that time has passed, whether anyone polls it or not, as in Azure.
Azure's operations end on their own whoever polls them (server-side startTime/endTime precede the client's
polls in every recording; research-pace-rendering §5.1), and `az … wait` reads the resource, never the operation
URL; so in the poll pace too, when a Retry-After is configured, an operation nobody polls ends once its polls
would have been due (pace.unpolled), not only at the age limit (lro_max_age_s).
"""
from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .model import iso, utcnow


@dataclass
class Operation:
    id: str
    resource_id: str
    polls_left: int
    transitional_state: str = "Accepted"   # what the resource reads as while the operation runs
    status: str = "InProgress"
    start: Any = field(default_factory=utcnow)
    end: Any = None
    error: dict[str, str] | None = None
    on_done: Callable[[Operation], None] | None = None
    result: Callable[[], Any] | None = None   # final body for Location polling (None: empty body)
    due: float | None = None   # monotonic time it finishes (time pace); None: it finishes by polls
    deadline: float | None = None   # poll pace: monotonic time it finishes even if nobody polls it
    key: str | None = None   # its type (pace.DURATIONS), for its Retry-After and status word

    @property
    def done(self) -> bool:
        return self.status != "InProgress"

    def status_body(self, running_status: str = "InProgress") -> dict[str, Any]:
        status = running_status if self.status == "InProgress" else self.status
        body: dict[str, Any] = {"id": self.id, "name": self.id.rsplit("/", 1)[-1], "status": status,
                                "startTime": iso(self.start)}
        if self.end is not None:
            body["endTime"] = iso(self.end)
        if self.error:
            body["error"] = self.error
        return body


class OperationTracker:
    """Operations by id. An operation nobody polls still finishes after max_age_s seconds, so a client
    that gave up (polling=False, a crash) cannot leave a resource busy for the life of the emulator."""

    def __init__(self, max_age_s: Callable[[], float] = lambda: 60.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._max_age_s = max_age_s
        self._clock = clock
        self._lock = threading.RLock()
        self._ops: dict[str, Operation] = {}
        self._by_resource: dict[str, str] = {}

    def start(self, resource_id: str, polls: int, *, transitional_state: str = "Accepted",
              on_done: Callable[[Operation], None] | None = None,
              result: Callable[[], Any] | None = None, fail: dict[str, str] | None = None,
              duration_s: float | None = None, busy: bool = True, unpolled_s: float | None = None,
              key: str | None = None) -> Operation:
        """A new operation on resource_id: done after `polls` polls, or after `duration_s` seconds when
        given (the time pace). `fail` makes it end Failed with that error instead of Succeeded.
        `busy=False`: the resource does not read as busy meanwhile (a write that will only fail).
        `unpolled_s`: in the poll pace, it also finishes this long after it started, polled or not."""
        op_id = str(uuid.uuid4())
        op = Operation(op_id, resource_id, max(0, polls), transitional_state, on_done=on_done, result=result,
                       error=fail, due=None if duration_s is None else self._clock() + max(0.0, duration_s),
                       deadline=None if unpolled_s is None else self._clock() + max(0.0, unpolled_s), key=key)
        with self._lock:
            self._ops[op_id] = op
            if busy:
                self._by_resource[resource_id.lower()] = op_id
        return op

    def get(self, op_id: str) -> Operation | None:
        with self._lock:
            return self._ops.get(op_id.lower()) or self._ops.get(op_id)

    def poll(self, op_id: str) -> Operation | None:
        """Advance the operation by one poll (or check its due time); returns it (None if unknown)."""
        with self._lock:
            op = self.get(op_id)
            if op is None or op.done:
                return op
            if op.due is not None:
                if self._clock() >= op.due:
                    self._finish(op)
                return op
            if op.deadline is not None and self._clock() >= op.deadline:
                self._finish(op)
                return op
            if op.polls_left > 0:
                op.polls_left -= 1
                return op
            self._finish(op)
            return op

    def _finish(self, op: Operation) -> None:
        op.status = "Failed" if op.error else "Succeeded"
        op.end = utcnow()
        if self._by_resource.get(op.resource_id.lower()) == op.id:
            del self._by_resource[op.resource_id.lower()]
        if op.on_done:
            op.on_done(op)

    def running(self, resource_id: str) -> Operation | None:
        with self._lock:
            op_id = self._by_resource.get(resource_id.lower())
            op = self._ops.get(op_id) if op_id else None
            if op is None:
                return None
            if op.due is not None:
                if self._clock() >= op.due:
                    self._finish(op)
                    return None
                return op
            past_deadline = op.deadline is not None and self._clock() >= op.deadline
            if past_deadline or (utcnow() - op.start).total_seconds() > self._max_age_s():
                op.polls_left = 0
                self._finish(op)
                return None
            return op

    def clear(self) -> None:
        with self._lock:
            self._ops.clear()
            self._by_resource.clear()
