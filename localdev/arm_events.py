"""Azure Resource Manager events for the emulator's writes, delivered the way Event Grid delivers them.

The ARM emulator calls `on_write(WriteEvent)` for every accepted write. `to_event_grid` turns one into the
`Microsoft.Resources.Resource{Write,Delete,Action}Success` event a subscription-level system topic
(`Microsoft.Resources.Subscriptions`) would publish, shaped like the documented samples; `to_cloud_event`
gives the CloudEvents 1.0 form. `EventRouter` subscribes to an emulator, filters like an event
subscription (success only, optional operation names) and hands events to a deliverer on its own thread;
`http_deliverer` POSTs them to a webhook such as the Functions host's Event Grid endpoint.

    router = EventRouter(emu, http_deliverer(DEFAULT_WEBHOOK_URL), operations=[...]).start()
    ...  # writes against the emulator
    router.drain()
"""
from __future__ import annotations

import datetime as dt
import json
import logging
import queue
import threading
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterable
from typing import Any

from localdev.arm_emulator.model import WriteEvent

log = logging.getLogger("localdev.arm_events")

DEFAULT_WEBHOOK_URL = "http://localhost:7071/runtime/webhooks/EventGrid?functionName=on_resource_event"

WRITE_SUCCESS = "Microsoft.Resources.ResourceWriteSuccess"
DELETE_SUCCESS = "Microsoft.Resources.ResourceDeleteSuccess"
ACTION_SUCCESS = "Microsoft.Resources.ResourceActionSuccess"

EVENTGRID_CONTENT_TYPE = "application/json; charset=utf-8"
CLOUDEVENT_CONTENT_TYPE = "application/cloudevents+json; charset=utf-8"

# What ARM puts in an event's `claims` for a token's short claim names (the JWT inbound claim-type map
# Resource Manager applies; samples show these long URIs). Claims not listed keep their short name.
CLAIM_URIS = {
    "oid": "http://schemas.microsoft.com/identity/claims/objectidentifier",
    "tid": "http://schemas.microsoft.com/identity/claims/tenantid",
    "upn": "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn",
    "sub": "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/nameidentifier",
    "idp": "http://schemas.microsoft.com/identity/claims/identityprovider",
    "scp": "http://schemas.microsoft.com/identity/claims/scope",
    "unique_name": "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name",
    "given_name": "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname",
    "family_name": "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/surname",
    "amr": "http://schemas.microsoft.com/claims/authnmethodsreferences",
    "acr": "http://schemas.microsoft.com/claims/authnclassreference",
}
_OID = CLAIM_URIS["oid"]
_CONTRIBUTOR_ROLE_ID = "b24988ac618042a0ab8820f7382dd24c"  # built-in Contributor, as captures write IDs (no dashes)


def _claim_value(value: Any) -> str:
    """Event claims are a string -> string map (numbers as digits, lists comma-joined like `amr`)."""
    if isinstance(value, (list, tuple)):
        return ",".join(str(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, separators=(",", ":"))
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


_CLAIM_ORDER = ("aud", "iss", "iat", "nbf", "exp")


def event_claims(token_claims: dict[str, Any]) -> dict[str, str]:
    """The caller's token claims as ARM events carry them: long URIs for oid/tid/upn/..., all strings."""
    items = [(k, v) for k, v in (token_claims or {}).items() if v is not None]
    items.sort(key=lambda kv: _CLAIM_ORDER.index(kv[0]) if kv[0] in _CLAIM_ORDER else len(_CLAIM_ORDER))
    return {CLAIM_URIS.get(k, k): _claim_value(v) for k, v in items}


def event_time(t: dt.datetime) -> str:
    """`2018-07-19T18:38:04.6117357Z`: UTC with 7 fractional digits."""
    if t.tzinfo is not None:
        t = t.astimezone(dt.UTC)
    return t.strftime("%Y-%m-%dT%H:%M:%S.%f") + "0Z"


def _subscription_id(resource_id: str) -> str:
    segs = [s for s in resource_id.split("/") if s]
    if len(segs) >= 2 and segs[0].lower() == "subscriptions":
        return segs[1]
    raise ValueError(f"not an ARM resource ID: {resource_id!r}")


def _resource_provider(resource_id: str, operation_name: str) -> str:
    segs = [s for s in resource_id.split("/") if s]
    idx = [i for i, s in enumerate(segs) if s.lower() == "providers" and i + 1 < len(segs)]
    if idx:
        return segs[idx[-1] + 1]
    return operation_name.split("/", 1)[0] if "/" in operation_name else "Microsoft.Resources"


def event_type_for(method: str, operation_name: str) -> str:
    if method.upper() == "DELETE" or operation_name.lower().endswith("/delete"):
        return DELETE_SUCCESS
    if operation_name.lower().endswith("/action"):
        return ACTION_SUCCESS
    return WRITE_SUCCESS


def _authorization(write: WriteEvent, subscription: str) -> dict[str, Any]:
    claims = write.caller_claims or {}
    oid = str(claims.get("oid") or "")
    principal_type = "User" if str(claims.get("idtyp", "")).lower() == "user" or claims.get("upn") \
        else "ServicePrincipal"
    scope = f"/subscriptions/{subscription}"
    assignment = uuid.uuid5(uuid.NAMESPACE_URL, f"roleassignment:{scope.lower()}:{oid.lower()}").hex
    return {
        "scope": write.resource_id,
        "action": write.operation_name,
        "evidence": {
            "role": "Contributor",
            "roleAssignmentScope": scope,
            "roleAssignmentId": assignment,
            "roleDefinitionId": _CONTRIBUTOR_ROLE_ID,
            "principalId": oid.replace("-", ""),
            "principalType": principal_type,
        },
    }


def _http_request(write: WriteEvent) -> dict[str, Any]:
    """Only updates and deletes carry httpRequest; a create (201) carries `{}` like a real capture."""
    if write.method.upper() == "PUT" and write.status == 201:
        return {}
    return {
        "clientRequestId": str(getattr(write, "client_request_id", None) or uuid.uuid4()),
        "clientIpAddress": write.client_ip,
        "method": write.method.upper(),
        "url": write.url,
    }


def to_event_grid(write: WriteEvent, *, topic: str | None = None) -> dict[str, Any]:
    """The Event Grid schema event ARM publishes for a successful (2xx) write."""
    if not 200 <= write.status < 300:
        raise ValueError(f"only successful writes raise Success events (status {write.status})")
    subscription = _subscription_id(write.resource_id)
    claims = write.caller_claims or {}
    return {
        "subject": write.resource_id,
        "eventType": event_type_for(write.method, write.operation_name),
        "eventTime": event_time(write.time),
        "id": str(uuid.uuid4()),
        "data": {
            "authorization": _authorization(write, subscription),
            "claims": event_claims(claims),
            "correlationId": write.correlation_id,
            "httpRequest": _http_request(write),
            "resourceProvider": _resource_provider(write.resource_id, write.operation_name),
            "resourceUri": write.resource_id,
            "operationName": write.operation_name,
            "status": "Succeeded",
            "subscriptionId": subscription,
            "tenantId": str(claims.get("tid") or ""),
        },
        "dataVersion": "2",
        "metadataVersion": "1",
        "topic": topic or f"/subscriptions/{subscription}",
    }


def to_cloud_event(event_grid_event: dict[str, Any]) -> dict[str, Any]:
    """CloudEvents 1.0 form of an Event Grid schema event (topic -> source, eventType -> type, ...)."""
    e = event_grid_event
    return {
        "subject": e.get("subject", ""),
        "source": e.get("topic", ""),
        "type": e["eventType"],
        "time": e.get("eventTime"),
        "id": e["id"],
        "data": e.get("data"),
        "specversion": "1.0",
    }


def is_cloud_event(event: dict[str, Any]) -> bool:
    return "specversion" in event


# -- delivery ---------------------------------------------------------------------------------------------

def http_deliverer(url: str = DEFAULT_WEBHOOK_URL, *, timeout: float = 10,
                   headers: dict[str, str] | None = None) -> Callable[[dict[str, Any]], None]:
    """A deliverer that POSTs one event per request like Event Grid's webhook delivery (batching off).

    Event Grid schema: `[event]` as `application/json`. CloudEvents: the event itself (structured mode)
    as `application/cloudevents+json`. Raises on anything but 200-204 (Event Grid's success codes).
    """

    def deliver(event: dict[str, Any]) -> None:
        post_events(url, [event], timeout=timeout, headers=headers)

    return deliver


def post_events(url: str, events: list[dict[str, Any]], *, event_type: str = "Notification",
                timeout: float = 10, headers: dict[str, str] | None = None,
                raise_for_status: bool = True) -> tuple[int, bytes]:
    """POST events to a webhook the way Event Grid does; returns (status, body)."""
    if not events:
        raise ValueError("no events to post")
    cloud = is_cloud_event(events[0])
    if cloud:
        payload: Any = events[0] if len(events) == 1 else events
        content_type = CLOUDEVENT_CONTENT_TYPE if len(events) == 1 else \
            "application/cloudevents-batch+json; charset=utf-8"
    else:
        payload = events
        content_type = EVENTGRID_CONTENT_TYPE
    first = events[0]
    h = {"Content-Type": content_type, "aeg-event-type": event_type, "aeg-subscription-name": "LOCALDEV",
         "aeg-delivery-count": "0", "aeg-metadata-version": "1"}
    if not cloud:
        h["aeg-data-version"] = str(first.get("dataVersion", ""))
    h.update(headers or {})
    req = urllib.request.Request(url, data=json.dumps(payload).encode("utf-8"), headers=h, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            status, body = resp.status, resp.read()
    except urllib.error.HTTPError as e:
        status, body = e.code, e.read()
    if raise_for_status and not 200 <= status <= 204:
        raise DeliveryError(status, body)
    return status, body


class DeliveryError(Exception):
    def __init__(self, status: int, body: bytes) -> None:
        super().__init__(f"webhook answered {status}: {body[:500].decode('utf-8', 'replace')}")
        self.status = status
        self.body = body


class EventRouter:
    """An Event Grid subscription on the emulator's writes: filter, convert, deliver on one thread.

    The emulator calls back on its request thread before answering, so the callback only converts and
    queues; a single background thread delivers in order. Deliver errors are counted in `failures` and
    logged; Event Grid's retries are not modelled (tests post duplicates themselves).
    """

    def __init__(self, emulator: Any, deliver: Callable[[dict[str, Any]], None], *, schema: str = "eventgrid",
                 operations: Iterable[str] | None = None, topic: str | None = None) -> None:
        if schema not in ("eventgrid", "cloudevents"):
            raise ValueError("schema must be 'eventgrid' or 'cloudevents'")
        self.emulator = emulator
        self.deliver = deliver
        self.schema = schema
        self.operations = {o.lower() for o in operations} if operations is not None else None
        self.topic = topic
        self.produced = 0
        self.delivered = 0
        self.failures = 0
        self.events: list[dict[str, Any]] = []   # every event produced, in order
        self._queue: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self._cond = threading.Condition()
        self._running = threading.Event()
        self._unpaused = threading.Event()
        self._unpaused.set()
        self._registered = False
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------------------------
    def start(self) -> EventRouter:
        if self._thread is not None:
            return self
        if not self._registered:
            self.emulator.on_write(self._on_write)   # the emulator has no unsubscribe: stop() mutes it
            self._registered = True
        self._running.set()
        self._thread = threading.Thread(target=self._run, name="arm-event-router", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 5) -> None:
        self._running.clear()
        self._unpaused.set()
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout=timeout)
            self._thread = None

    def __enter__(self) -> EventRouter:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def pause(self) -> None:
        """Hold deliveries (events keep queueing), e.g. to simulate a slow or absent subscriber."""
        self._unpaused.clear()

    def resume(self) -> None:
        self._unpaused.set()

    # -- producing ---------------------------------------------------------------------------------------
    def matches(self, write: WriteEvent) -> bool:
        if not 200 <= write.status < 300:
            return False
        return self.operations is None or write.operation_name.lower() in self.operations

    def convert(self, write: WriteEvent) -> dict[str, Any]:
        event = to_event_grid(write, topic=self.topic)
        return to_cloud_event(event) if self.schema == "cloudevents" else event

    def publish(self, event: dict[str, Any]) -> None:
        """Queue an already-built event (e.g. a duplicate) for delivery."""
        with self._cond:
            self.produced += 1
            self.events.append(event)
        self._queue.put(event)

    def _on_write(self, write: WriteEvent) -> None:
        if not self._running.is_set() or not self.matches(write):
            return
        try:
            event = self.convert(write)
        except Exception:
            log.exception("could not build an event for %s %s", write.method, write.resource_id)
            return
        self.publish(event)

    # -- delivering --------------------------------------------------------------------------------------
    def _run(self) -> None:
        while True:
            event = self._queue.get()
            if event is None:
                return
            self._unpaused.wait()
            ok = True
            try:
                self.deliver(event)
            except Exception:
                ok = False
                log.exception("event delivery failed (%s %s)", event.get("eventType") or event.get("type"),
                              event.get("subject"))
            with self._cond:
                if ok:
                    self.delivered += 1
                else:
                    self.failures += 1
                self._cond.notify_all()

    @property
    def pending(self) -> int:
        with self._cond:
            return self.produced - self.delivered - self.failures

    def drain(self, timeout: float = 10) -> bool:
        """Wait until every event produced so far was handed to the deliverer (delivered or failed)."""
        with self._cond:
            target = self.produced
            return self._cond.wait_for(lambda: self.delivered + self.failures >= target, timeout=timeout)


__all__ = ["EventRouter", "to_event_grid", "to_cloud_event", "http_deliverer", "post_events", "event_claims",
           "DeliveryError", "DEFAULT_WEBHOOK_URL", "WRITE_SUCCESS", "DELETE_SUCCESS", "ACTION_SUCCESS"]
