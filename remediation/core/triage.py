"""Triage: one delivered event -> the resource to reconcile, or the reason to ignore it.

Pure: no I/O, no clock, no SDK. `triage` accepts anything parsed from JSON and never raises: whatever it
cannot use becomes an `Ignored` with an `IgnoreReason`. Called by `intake.EventIntake` for every event.

Two envelopes are accepted, keys matched case-insensitively:
- Event Grid schema: `id`, `eventType`, `eventTime`, `topic`, `subject`, `data`;
- CloudEvents 1.0: `id`, `type`, `time`, `source`, `subject`, `data`, `specversion`.

Two sources are understood:
- ARM events (`Microsoft.Resources.Resource{Write,Delete}Success`): carry the caller's claims (the actor,
  and how the app recognises its own writes) but no resource body;
- Resource Notifications (`Microsoft.ResourceNotifications.Resources.*`): carry the resource body but no
  identity, so they have no actor and cannot be recognised as own writes.

An event about a private endpoint connection, zone group or zone link names its parent (the account, the
endpoint, the zone); one about an A record names the record, which maps to the account its name is the
custom subdomain of. Only account targets are scope-checked here: an endpoint or zone in a network
resource group may serve an in-scope account, which the service finds later.

An event's time is the sender's word. Given the time it arrived (`now`), triage clamps it into the window a
genuine event can have: Event Grid retries a delivery for at most 24 hours (`eventTimeToLiveInMinutes` 1440, the
default and what infra/modules/events.bicep sets; learn.microsoft.com/azure/event-grid/delivery-and-retry), so
no genuine event arrives more than MAX_EVENT_AGE after its time, nor from further ahead than MAX_EVENT_LEAD.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import Enum
from typing import Any

from remediation.core.arm_json import json_get, same_text
from remediation.core.ids import (
    ACCOUNT_TYPE,
    ResourceId,
    fold,
    try_parse_resource_id,
    within_any,
)
from remediation.core.model import Principal
from remediation.core.operations import OPERATIONS, WATCHED_OPERATIONS, TargetKind, watched

ARM_EVENT_TYPES: tuple[str, ...] = (
    "Microsoft.Resources.ResourceWriteSuccess",
    "Microsoft.Resources.ResourceDeleteSuccess",
)
NOTIFICATION_EVENT_TYPES: tuple[str, ...] = (
    "Microsoft.ResourceNotifications.Resources.CreatedOrUpdated",
    "Microsoft.ResourceNotifications.Resources.Deleted",
)
VALIDATION_EVENT_TYPE = "Microsoft.EventGrid.SubscriptionValidationEvent"

class IgnoreReason(str, Enum):
    """Every reason an event is ignored (a closed set: logs and metrics group by it)."""

    MALFORMED = "malformed"  # not an event, a required field missing or of the wrong type, an ID that does not parse
    VALIDATION = "validation"  # the Event Grid subscription validation handshake
    NOT_A_SUCCESS_EVENT = "not-a-success-event"  # an ARM Failure/Cancel event, or data.status other than Succeeded
    NOT_WATCHED = "not-watched"  # an event type this app does not handle (ARM actions, storage, health, ...)
    OPERATION_NOT_WATCHED = "operation-not-watched"  # an operation / resource type outside WATCHED_OPERATIONS
    OWN_WRITE = "own-write"  # written by this app's own identity
    OUT_OF_SCOPE = "out-of-scope"  # an account outside REMEDIATION_SCOPES
    ACCOUNT_DELETED = "account-deleted"  # a Resource Notification that an account is gone: nothing to reconcile
    # Decided by the intake, not by triage: a notification whose properties show the account locked down.
    COMPLIANT_PER_NOTIFICATION = "compliant-per-notification"


IGNORE_REASONS: frozenset[str] = frozenset(reason.value for reason in IgnoreReason)

OBJECT_ID_CLAIM = "http://schemas.microsoft.com/identity/claims/objectidentifier"
UPN_CLAIM = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn"

_DETAIL_LIMIT = 200  # characters of input quoted in Ignored.detail
_FIELD_LIMIT = 256   # characters kept of any string copied from an event (ids, names, addresses)
_NAME_LIMIT = 512    # longer event types / operation names cannot be ours and are not even lower-cased

_ARM_TYPES = {t.lower() for t in ARM_EVENT_TYPES}
_ARM_FAILURE = re.compile(r"microsoft\.resources\.resource(write|delete|action)(failure|cancel)")
_NOTIFICATION_CREATED, _NOTIFICATION_DELETED = (t.lower() for t in NOTIFICATION_EVENT_TYPES)




@dataclass(frozen=True)
class EventInfo:
    id: str
    type: str
    time: str | None  # the raw eventTime / time
    operation_name: str | None  # ARM events only
    correlation_id: str | None  # ARM events only

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "type": self.type,
            "time": self.time,
            "operationName": self.operation_name,
            "correlationId": self.correlation_id,
        }


@dataclass(frozen=True)
class Actor:
    """Who made the change, as far as the ARM claims tell: these five fields and nothing else."""

    name: str | None
    upn: str | None
    app_id: str | None
    object_id: str | None
    ip_address: str | None

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "upn": self.upn,
            "appId": self.app_id,
            "objectId": self.object_id,
            "ipAddress": self.ip_address,
        }


@dataclass(frozen=True)
class Target:
    kind: TargetKind
    resource_id: ResourceId  # ACCOUNT: the account; PRIVATE_ENDPOINT: the endpoint; DNS_ZONE: the zone;
    # DNS_RECORD: the A record set
    event: EventInfo
    actor: Actor | None  # from ARM claims; None for Resource Notifications and claim-less events
    event_time: datetime | None  # eventTime / time as an aware UTC datetime; None when absent or unreadable
    deleted: bool  # the target resource itself was deleted (not set when only a child of it was)
    # Resource Notifications CreatedOrUpdated about the target itself: data.resourceInfo (id, kind, location,
    # tags, properties), so the service can skip a read. Never the current state: reconcile re-reads before writing.
    properties: Mapping[str, Any] | None = field(default=None, hash=False)


@dataclass(frozen=True)
class Ignored:
    reason: IgnoreReason
    detail: str  # human-readable, bounded
    event_id: str | None


# --- helpers ---------------------------------------------------------------------------------------

def _text(value: Any, limit: int = _FIELD_LIMIT) -> str | None:
    """A string field copied from an event, bounded; None for anything that is not a non-empty string."""
    if not isinstance(value, str) or not value:
        return None
    return value[:limit]


def _quote(value: Any) -> str:
    """Input quoted in a detail message, never unbounded."""
    if isinstance(value, str):
        text = value[: _DETAIL_LIMIT + 1]
        return repr(text[:_DETAIL_LIMIT]) + ("..." if len(text) > _DETAIL_LIMIT else "")
    return type(value).__name__


def _ignored(reason: IgnoreReason, detail: str, event_id: str | None) -> Ignored:
    return Ignored(reason, detail[: _DETAIL_LIMIT * 2], event_id)


# A day of Event Grid retries plus an hour for Resource Manager's publishing delay and clock differences.
MAX_EVENT_AGE = timedelta(hours=25)
MAX_EVENT_LEAD = timedelta(minutes=5)  # clocks differ; an event from further ahead was not written by ARM

_TIME = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:[Zz]|([+-])(\d{2}):?(\d{2}))?"
)


def parse_event_time(value: Any, now: datetime | None = None) -> datetime | None:
    """`2018-07-19T18:38:04.6117357Z` (7 fractional digits, as ARM writes them) -> aware UTC datetime.

    Digits beyond microseconds are dropped; a time without an offset is taken as UTC; None when unreadable.
    With `now` (when the event arrived), clamped into [now - MAX_EVENT_AGE, now + MAX_EVENT_LEAD].
    """
    moment = _parse_time(value)
    if moment is None or now is None:
        return moment
    return min(max(moment, now - MAX_EVENT_AGE), now + MAX_EVENT_LEAD)


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str) or len(value) > 64:
        return None
    match = _TIME.fullmatch(value.strip())
    if match is None:
        return None
    year, month, day, hour, minute, second, fraction, sign, off_h, off_m = match.groups()
    try:
        moment = datetime(
            int(year), int(month), int(day), int(hour), int(minute), int(second),
            int((fraction or "0").ljust(6, "0")[:6]), tzinfo=UTC,
        )
        if sign is not None:
            offset = timedelta(hours=int(off_h), minutes=int(off_m))
            if offset >= timedelta(hours=24):
                return None
            moment -= offset if sign == "+" else -offset
    except (ValueError, OverflowError):
        return None
    return moment


def is_own_write(claims: Mapping[str, Any], own: Principal | None) -> bool:
    """True when the claims are those of the app's own identity (client ID or object ID, case-insensitive).

    Only the token's own claims count: `authorization.evidence.principalId` names the role assignment's
    principal, which may be a group, and is written without dashes.
    """
    if own is None or not isinstance(claims, Mapping):
        return False
    if own.client_id and any(same_text(json_get(claims, key), own.client_id) for key in ("appid", "azp")):
        return True
    if own.object_id and any(same_text(json_get(claims, key), own.object_id) for key in (OBJECT_ID_CLAIM, "oid")):
        return True
    return False


# --- the event, parsed once ---------------------------------------------------------------------------

class _Fields:
    """One JSON object's top-level keys, folded once: `get` matches a key exactly, else case-insensitively."""

    def __init__(self, value: Any) -> None:
        self.raw: Mapping[str, Any] = value if isinstance(value, Mapping) else {}
        self._folded: dict[str, Any] = {}
        for key, item in self.raw.items():
            if isinstance(key, str):
                self._folded.setdefault(fold(key), item)

    def get(self, key: str) -> Any:
        return self.raw[key] if key in self.raw else self._folded.get(fold(key))


@dataclass(frozen=True)
class Envelope:
    """The delivered event's envelope (Event Grid schema or CloudEvents 1.0), each field read once."""

    id: str | None
    type: str | None
    time: str | None  # eventTime / time, as sent
    subject: Any
    data: Any

    @classmethod
    def parse(cls, event: Mapping[str, Any]) -> Envelope:
        fields = _Fields(event)
        cloud_event = fields.get("specversion") is not None
        type_keys = ("type", "eventType") if cloud_event else ("eventType", "type")
        time_keys = ("time", "eventTime") if cloud_event else ("eventTime", "time")
        return cls(id=_text(fields.get("id")), type=_first_text(fields, type_keys),
                   time=_first_text(fields, time_keys), subject=fields.get("subject"), data=fields.get("data"))


@dataclass(frozen=True)
class ArmChange:
    """The data of a Resource Manager event: what was done, to what, by whom."""

    status: Any
    operation: Any
    resource_uri: Any
    correlation_id: str | None
    claims: Mapping[str, Any]
    client_ip: str | None

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> ArmChange:
        fields = _Fields(data)
        claims = fields.get("claims")
        return cls(status=fields.get("status"), operation=fields.get("operationName"),
                   resource_uri=fields.get("resourceUri"), correlation_id=_text(fields.get("correlationId")),
                   claims=claims if isinstance(claims, Mapping) else {},
                   client_ip=_text(json_get(fields.get("httpRequest"), "clientIpAddress")))

    def actor(self) -> Actor | None:
        claims = _Fields(self.claims)
        actor = Actor(
            name=_text(claims.get("name")),
            upn=_text(claims.get(UPN_CLAIM)) or _text(claims.get("upn")),
            app_id=_text(claims.get("appid")) or _text(claims.get("azp")),
            object_id=_text(claims.get(OBJECT_ID_CLAIM)) or _text(claims.get("oid")),
            ip_address=_text(claims.get("ipaddr")) or self.client_ip,
        )
        return None if actor == Actor(None, None, None, None, None) else actor


@dataclass(frozen=True)
class Notification:
    """The data of a Resource Notification: the resource as it is now, without who changed it."""

    info: Mapping[str, Any]  # data.resourceInfo
    declared_type: Any  # data.resourceInfo.type
    resource_id: Any  # data.resourceInfo.id
    event_time: Any  # data.operationalInfo.resourceEventTime

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> Notification:
        fields = _Fields(data)
        info = _Fields(fields.get("resourceInfo"))
        return cls(info=info.raw, declared_type=info.get("type"), resource_id=info.get("id"),
                   event_time=json_get(fields.get("operationalInfo"), "resourceEventTime"))


def _first_text(fields: _Fields, keys: Sequence[str]) -> str | None:
    return next((v for v in (fields.get(k) for k in keys) if isinstance(v, str) and v), None)


def _resource_id(primary: Any, subject: Any, what: str, event_id: str | None) -> ResourceId | Ignored:
    """The ID the event names: `primary` (resourceUri / resourceInfo.id), else the subject; they must agree."""
    if primary is None or primary == "":
        primary, what = subject, "subject"
        subject = None
    rid = try_parse_resource_id(primary)
    if rid is None:
        return _ignored(IgnoreReason.MALFORMED, f"{what} is not a resource ID: {_quote(primary)}", event_id)
    if subject not in (None, ""):
        other = try_parse_resource_id(subject)
        if other is not None and other != rid:
            return _ignored(IgnoreReason.MALFORMED, f"subject {_quote(subject)} does not match {what}", event_id)
    return rid


def _target_of(operation: str, rid: ResourceId, event_id: str | None) -> ResourceId | Ignored:
    """What an event of this watched operation about `rid` is about: the resource, or its parent."""
    if rid.resource_group is None:
        return _ignored(IgnoreReason.MALFORMED, f"unexpected resource {_quote(str(rid))}", event_id)
    return rid.parent if OPERATIONS[operation].parent else rid


def _in_scope(kind: TargetKind, rid: ResourceId, scopes: Sequence[ResourceId], event_id: str | None) -> Ignored | None:
    if kind is TargetKind.ACCOUNT and not within_any(rid, list(scopes)):
        return _ignored(IgnoreReason.OUT_OF_SCOPE, f"account {_quote(str(rid))} is outside the remediation scopes",
                        event_id)
    return None


# --- triage ----------------------------------------------------------------------------------------

def triage(event: object, *, scopes: Sequence[ResourceId], own: Principal | None,
           now: datetime | None = None) -> Target | Ignored:
    """Turn one delivered event into a Target to reconcile, or the reason to ignore it. Never raises. `now`: when
    the event arrived, to clamp its time into the window a genuine one can have."""
    try:
        return _triage(event, scopes=scopes, own=own, now=now)
    except Exception as exc:  # noqa: BLE001 - a last resort: one bad event must not fail the whole batch
        return Ignored(IgnoreReason.MALFORMED, f"unreadable event ({type(exc).__name__})", None)


def _event_time(raw: Any, now: datetime | None) -> tuple[str | None, datetime | None]:
    """The event's time as recorded (the raw text, or the clamped time when clamping moved it) and as a datetime."""
    moment = parse_event_time(raw, now)
    if moment is not None and moment != _parse_time(raw):
        return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z"), moment
    return _text(raw, 64), moment


def _triage(event: object, *, scopes: Sequence[ResourceId], own: Principal | None,
            now: datetime | None = None) -> Target | Ignored:
    if not isinstance(event, Mapping):
        return _ignored(IgnoreReason.MALFORMED, f"an event is a JSON object, not {_quote(event)}", None)
    envelope = Envelope.parse(event)
    event_id, event_type = envelope.id, envelope.type

    if event_type is None:
        return _ignored(IgnoreReason.MALFORMED, "the event has no event type", event_id)
    if len(event_type) > _NAME_LIMIT:
        return _ignored(IgnoreReason.NOT_WATCHED, f"event type {_quote(event_type)}", event_id)
    lowered = event_type.lower()
    if lowered == VALIDATION_EVENT_TYPE.lower():
        return _ignored(IgnoreReason.VALIDATION, "subscription validation is answered by the Event Grid extension",
                        event_id)
    if _ARM_FAILURE.fullmatch(lowered):
        return _ignored(IgnoreReason.NOT_A_SUCCESS_EVENT, f"event type {_quote(event_type)}", event_id)
    if lowered not in _ARM_TYPES and lowered not in (_NOTIFICATION_CREATED, _NOTIFICATION_DELETED):
        return _ignored(IgnoreReason.NOT_WATCHED, f"event type {_quote(event_type)}", event_id)

    if event_id is None:
        return _ignored(IgnoreReason.MALFORMED, "the event has no id", event_id)
    if not isinstance(envelope.data, Mapping):
        return _ignored(IgnoreReason.MALFORMED, f"the event's data is {_quote(envelope.data)}, not an object",
                        event_id)
    canonical_type = next(t for t in (*ARM_EVENT_TYPES, *NOTIFICATION_EVENT_TYPES) if t.lower() == lowered)
    envelope = Envelope(event_id, canonical_type, envelope.time, envelope.subject, envelope.data)

    if lowered in _ARM_TYPES:
        return _triage_arm(envelope, ArmChange.parse(envelope.data), scopes, own, now)
    return _triage_notification(envelope, Notification.parse(envelope.data), scopes, now)


def _triage_arm(envelope: Envelope, change: ArmChange, scopes: Sequence[ResourceId], own: Principal | None,
                now: datetime | None) -> Target | Ignored:
    event_id = envelope.id
    if change.status is not None and not same_text(change.status, "Succeeded"):
        return _ignored(IgnoreReason.NOT_A_SUCCESS_EVENT, f"status {_quote(change.status)}", event_id)
    if not isinstance(change.operation, str) or not change.operation:
        return _ignored(IgnoreReason.MALFORMED, "the event has no data.operationName", event_id)
    operation = watched(change.operation) if len(change.operation) <= _NAME_LIMIT else None
    if operation is None:
        return _ignored(IgnoreReason.OPERATION_NOT_WATCHED, f"operation {_quote(change.operation)}", event_id)
    spec = OPERATIONS[operation]

    rid = _resource_id(change.resource_uri, envelope.subject, "data.resourceUri", event_id)
    if isinstance(rid, Ignored):
        return rid
    if not rid.is_type(operation.rsplit("/", 1)[0]):
        return _ignored(IgnoreReason.MALFORMED, f"{operation} names {_quote(str(rid))}", event_id)
    target_id = _target_of(operation, rid, event_id)
    if isinstance(target_id, Ignored):
        return target_id
    if is_own_write(change.claims, own):
        return _ignored(IgnoreReason.OWN_WRITE, f"{operation} by this app's own identity", event_id)
    out = _in_scope(spec.target, target_id, scopes, event_id)
    if out is not None:
        return out

    time_text, moment = _event_time(envelope.time, now)
    info = EventInfo(id=event_id or "", type=envelope.type or "", time=time_text, operation_name=operation,
                     correlation_id=change.correlation_id)
    return Target(kind=spec.target, resource_id=target_id, event=info, actor=change.actor(), event_time=moment,
                  deleted=operation.endswith("/delete") and not spec.parent)


def _unwatched_notification(resource_type: str, verb: str, event_id: str | None) -> Ignored | None:
    if len(resource_type) > _NAME_LIMIT:
        return _ignored(IgnoreReason.OPERATION_NOT_WATCHED, f"{verb} of {_quote(resource_type)}", event_id)
    if fold(resource_type) == fold(ACCOUNT_TYPE) and verb == "delete":
        return _ignored(IgnoreReason.ACCOUNT_DELETED, "the account was deleted", event_id)
    if watched(f"{resource_type}/{verb}") is None:
        return _ignored(IgnoreReason.OPERATION_NOT_WATCHED, f"{verb} of {_quote(resource_type)}", event_id)
    return None


def _triage_notification(envelope: Envelope, notification: Notification, scopes: Sequence[ResourceId],
                         now: datetime | None) -> Target | Ignored:
    event_id = envelope.id
    deleted = envelope.type == NOTIFICATION_EVENT_TYPES[1]
    verb = "delete" if deleted else "write"
    declared = notification.declared_type
    if declared is not None and not isinstance(declared, str):
        return _ignored(IgnoreReason.MALFORMED, f"data.resourceInfo.type is {_quote(declared)}, not a string", event_id)
    if isinstance(declared, str) and declared:
        # The declared type decides first: most notifications are about types this app never handles.
        ignored = _unwatched_notification(declared, verb, event_id)
        if ignored is not None:
            return ignored

    rid = _resource_id(notification.resource_id, envelope.subject, "data.resourceInfo.id", event_id)
    if isinstance(rid, Ignored):
        return rid
    if isinstance(declared, str) and declared and not rid.is_type(declared):
        return _ignored(IgnoreReason.MALFORMED, f"data.resourceInfo.type {_quote(declared)} does not match the ID",
                        event_id)
    ignored = _unwatched_notification(rid.resource_type, verb, event_id)
    if ignored is not None:
        return ignored
    operation = watched(f"{rid.resource_type}/{verb}")
    assert operation is not None  # _unwatched_notification let it through
    spec = OPERATIONS[operation]
    target_id = _target_of(operation, rid, event_id)
    if isinstance(target_id, Ignored):
        return target_id
    out = _in_scope(spec.target, target_id, scopes, event_id)
    if out is not None:
        return out

    properties = None
    if not deleted and not spec.parent and isinstance(json_get(notification.info, "properties"), Mapping):
        properties = dict(notification.info)
    time_text, moment = _event_time(envelope.time or notification.event_time, now)
    return Target(
        kind=spec.target, resource_id=target_id,
        event=EventInfo(id=event_id or "", type=envelope.type or "", time=time_text, operation_name=None,
                        correlation_id=None),
        actor=None, event_time=moment, deleted=deleted and not spec.parent, properties=properties)


__all__ = [
    "ARM_EVENT_TYPES",
    "IGNORE_REASONS",
    "IgnoreReason",
    "MAX_EVENT_AGE",
    "MAX_EVENT_LEAD",
    "NOTIFICATION_EVENT_TYPES",
    "WATCHED_OPERATIONS",
    "Actor",
    "EventInfo",
    "Ignored",
    "Target",
    "TargetKind",
    "is_own_write",
    "parse_event_time",
    "triage",
]
