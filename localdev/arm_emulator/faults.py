"""Injected failures: throttling, errors, slow answers and dropped connections on chosen requests."""
from __future__ import annotations

import json
import re
import threading
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class Fault:
    """Answer matching requests with `status` (ARM error body) instead of serving them.

    method: HTTP method or None for any. path: regex searched (case-insensitively) in the URL path.
    status None means "no error": only the delay applies, then the request is served normally.
    times: how many matching requests it applies to (None = forever). delay_s: sleep first.
    reset: close the connection without answering. kind: only requests of this kind
    ("read", "write", "poll", "token"). body: regex searched in the request's JSON body (compact), for a
    refusal of one part of a write (a PATCH whose `networkAcls` Azure refuses, say).
    """

    method: str | None = None
    path: str = ""
    status: int | None = 429
    code: str | None = None
    message: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    times: int | None = 1
    delay_s: float = 0.0
    reset: bool = False
    kind: str | None = None
    body: str = ""

    def __post_init__(self) -> None:
        self._regex = re.compile(self.path, re.IGNORECASE)
        self._body = re.compile(self.body) if self.body else None

    def matches(self, method: str, path: str, kind: str, body: Any = None) -> bool:
        if self.method and self.method.upper() != method.upper():
            return False
        if self.kind and self.kind != kind:
            return False
        if self._body is not None and not self._body.search(json.dumps(body, separators=(",", ":"))):
            return False
        return bool(self._regex.search(path))

    def error_code(self) -> str:
        # Injected faults are generic unless a test names the code. 429 TooManyRequests with "The request is
        # being throttled." is what resource providers have answered (Azure/migAz #57); Resource Manager's
        # own token-bucket 429 is SubscriptionRequestsThrottled (throttling.py). 500 InternalServerError
        # appears in real failed operations (hashicorp/terraform-provider-azurerm #815); the others are
        # the HTTP reason phrases, unevidenced as Azure codes.
        if self.code:
            return self.code
        return {429: "TooManyRequests", 500: "InternalServerError", 503: "ServiceUnavailable",
                409: "Conflict", 404: "NotFound", 400: "BadRequest"}.get(self.status or 0, "InjectedFault")

    def error_message(self) -> str:
        if self.message:
            return self.message
        if self.status == 429:  # the Storage RP's wording (aka.ms/srpthrottlinglimits), used for any RP here
            return ("The request is being throttled as the limit has been reached for operation type. "
                    "For more information, see https://aka.ms/srpthrottlinglimits")
        return f"Injected fault ({self.status})."

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Fault:
        allowed = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**allowed)


class FaultSet:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def add(self, fault: Fault) -> None:
        with self._lock:
            self._faults.append(fault)

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def list(self) -> list[Fault]:
        with self._lock:
            return list(self._faults)

    def take(self, method: str, path: str, kind: str, body: Any = None) -> Fault | None:
        """First matching fault, consuming one of its uses."""
        with self._lock:
            for f in self._faults:
                if f.matches(method, path, kind, body):
                    if f.times is not None:
                        f.times -= 1
                        if f.times <= 0:
                            self._faults.remove(f)
                    return f
        return None
