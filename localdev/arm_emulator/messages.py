"""A request as the handlers see it and the reply they give, and the Retry-After the front door adds to it."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .ids import ArmPath

_RUNNING = {"inprogress", "accepted", "running", "updating", "creating", "deleting"}


@dataclass
class Req:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]          # lower-case names
    body: Any
    api_version: str | None
    arm: ArmPath
    # May the caller perform (action, at scope)? Set when RBAC is enforced, for lists that leave out what the
    # caller may not read (TypeSpec.filtered); None: everything is visible.
    can: Callable[[str, str], bool] | None = None

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


@dataclass
class Reply:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    resource_id: str | None = None    # set on accepted writes: the resource the write concerns
    delay_s: float = 0.0              # answer only after this long (a slow synchronous provider, pace.py)
    lro: str | None = None            # the type (pace.DURATIONS key) of the operation it starts or reports on


def add_retry_after(reply: Reply, kind: str, retry_after: dict[str, str]) -> None:
    """Tell the client when to poll next, as Resource Manager does, on a long-running operation's first
    answer (201/202 with Azure-AsyncOperation or Location) and on each poll that finds it still running.

    "Retry-After - The number of seconds to wait before checking the status of the asynchronous
    operation" (learn.microsoft.com/azure/azure-resource-manager/management/async-operations).
    azure-core's LROBasePolling._extract_delay uses it in place of the client's polling interval
    (`get_retry_after(response)`, else `self._timeout`); a value of 0 counts as absent there, so the
    smallest useful value is above 0 (`pace.retry_after` gives the header, scaled: `retry-after-ms` below a
    whole second). The Azure CLI's own
    poller (azure-cli-core `aaz/_client.py`, `AAZBasePolling`) and its SDK clients keep azure-core's default
    of 30 s, so without this header every poll of a running operation costs an `az` command 30 s.
    """
    if not retry_after or any(k.lower() in ("retry-after", "retry-after-ms") for k in reply.headers):
        return
    headers = {k.lower() for k in reply.headers}
    started = kind == "write" and 200 <= reply.status < 300 and bool(headers & {"azure-asyncoperation", "location"})
    status = reply.body.get("status") if isinstance(reply.body, dict) else None
    running = kind == "poll" and (reply.status == 202 or str(status or "").lower() in _RUNNING)
    if started or running:
        reply.headers.update(retry_after)
