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
    CONNECTION_TYPE,
    DNS_RECORD_TYPE,
    DNS_ZONE_LINK_TYPE,
    DNS_ZONE_TYPE,
    PRIVATE_ENDPOINT_TYPE,
    ZONE_GROUP_TYPE,
    ResourceId,
    fold,
    try_parse_resource_id,
    within_any,
)
from remediation.core.model import Principal

# The one list of ARM operations the app reacts to: infra subscribes to exactly these, tests read them.
WATCHED_OPERATIONS: tuple[str, ...] = (
    "Microsoft.CognitiveServices/accounts/write",
    "Microsoft.CognitiveServices/accounts/privateEndpointConnections/write",
    "Microsoft.CognitiveServices/accounts/privateEndpointConnections/delete",
    "Microsoft.Network/privateEndpoints/write",
    "Microsoft.Network/privateEndpoints/delete",
    "Microsoft.Network/privateEndpoints/privateDnsZoneGroups/write",
    "Microsoft.Network/privateEndpoints/privateDnsZoneGroups/delete",
    "Microsoft.Network/privateDnsZones/virtualNetworkLinks/delete",
    "Microsoft.Network/privateDnsZones/delete",
    "Microsoft.Network/privateDnsZones/A/write",
    "Microsoft.Network/privateDnsZones/A/delete",
)
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


class TargetKind(str, Enum):
    ACCOUNT = "account"
    PRIVATE_ENDPOINT = "private-endpoint"
    DNS_ZONE = "dns-zone"
    DNS_RECORD = "dns-record"  # an A record: mapped to the account whose custom subdomain names it


@dataclass(frozen=True)
class _Rule:
    resource_type: str  # the type of the ID the event names
    kind: TargetKind
    parent: bool        # the target is the parent of the named resource


# resource type (lower) -> what an event about it is about. The watched verbs per type are in WATCHED_OPERATIONS.
_RULES: dict[str, _Rule] = {
    fold(rule.resource_type): rule
    for rule in (
        _Rule(ACCOUNT_TYPE, TargetKind.ACCOUNT, parent=False),
        _Rule(CONNECTION_TYPE, TargetKind.ACCOUNT, parent=True),
        _Rule(PRIVATE_ENDPOINT_TYPE, TargetKind.PRIVATE_ENDPOINT, parent=False),
        _Rule(ZONE_GROUP_TYPE, TargetKind.PRIVATE_ENDPOINT, parent=True),
        _Rule(DNS_ZONE_TYPE, TargetKind.DNS_ZONE, parent=False),
        _Rule(DNS_ZONE_LINK_TYPE, TargetKind.DNS_ZONE, parent=True),
        _Rule(DNS_RECORD_TYPE, TargetKind.DNS_RECORD, parent=False),
    )
}
_WATCHED = {fold(op) for op in WATCHED_OPERATIONS}
assert all(op.rsplit("/", 1)[0] in _RULES for op in _WATCHED), "every watched operation has a rule"


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


def _actor(data: Mapping[str, Any]) -> Actor | None:
    claims = json_get(data, "claims")
    claims = claims if isinstance(claims, Mapping) else {}
    actor = Actor(
        name=_text(json_get(claims, "name")),
        upn=_text(json_get(claims, UPN_CLAIM)) or _text(json_get(claims, "upn")),
        app_id=_text(json_get(claims, "appid")) or _text(json_get(claims, "azp")),
        object_id=_text(json_get(claims, OBJECT_ID_CLAIM)) or _text(json_get(claims, "oid")),
        ip_address=_text(json_get(claims, "ipaddr")) or _text(json_get(data, "httpRequest", "clientIpAddress")),
    )
    return None if actor == Actor(None, None, None, None, None) else actor


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


def _target_of(rid: ResourceId, event_id: str | None) -> tuple[_Rule, ResourceId] | Ignored:
    rule = _RULES.get(fold(rid.resource_type))
    if rule is None or rid.resource_group is None:
        return _ignored(IgnoreReason.MALFORMED, f"unexpected resource {_quote(str(rid))}", event_id)
    return rule, rid.parent if rule.parent else rid


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
    event_id = _text(json_get(event, "id"))

    cloud_event = json_get(event, "specversion") is not None
    type_keys = ("type", "eventType") if cloud_event else ("eventType", "type")
    time_keys = ("time", "eventTime") if cloud_event else ("eventTime", "time")
    event_type = next((v for v in (json_get(event, k) for k in type_keys) if isinstance(v, str) and v), None)
    raw_time = next((v for v in (json_get(event, k) for k in time_keys) if isinstance(v, str) and v), None)

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
    data = json_get(event, "data")
    if not isinstance(data, Mapping):
        return _ignored(IgnoreReason.MALFORMED, f"the event's data is {_quote(data)}, not an object", event_id)
    subject = json_get(event, "subject")
    canonical_type = next(t for t in (*ARM_EVENT_TYPES, *NOTIFICATION_EVENT_TYPES) if t.lower() == lowered)

    if lowered in _ARM_TYPES:
        return _triage_arm(event_id, canonical_type, raw_time, data, subject, scopes, own, now)
    return _triage_notification(event_id, canonical_type, raw_time, data, subject, scopes, now)


def _triage_arm(
    event_id: str, event_type: str, raw_time: str | None, data: Mapping[str, Any], subject: Any,
    scopes: Sequence[ResourceId], own: Principal | None, now: datetime | None,
) -> Target | Ignored:
    status = json_get(data, "status")
    if status is not None and not same_text(status, "Succeeded"):
        return _ignored(IgnoreReason.NOT_A_SUCCESS_EVENT, f"status {_quote(status)}", event_id)

    operation = json_get(data, "operationName")
    if not isinstance(operation, str) or not operation:
        return _ignored(IgnoreReason.MALFORMED, "the event has no data.operationName", event_id)
    if len(operation) > _NAME_LIMIT or fold(operation) not in _WATCHED:
        return _ignored(IgnoreReason.OPERATION_NOT_WATCHED, f"operation {_quote(operation)}", event_id)
    operation = next(op for op in WATCHED_OPERATIONS if fold(op) == fold(operation))
    resource_type, verb = operation.rsplit("/", 1)

    rid = _resource_id(json_get(data, "resourceUri"), subject, "data.resourceUri", event_id)
    if isinstance(rid, Ignored):
        return rid
    if not rid.is_type(resource_type):
        return _ignored(IgnoreReason.MALFORMED, f"{operation} names {_quote(str(rid))}", event_id)
    found = _target_of(rid, event_id)
    if isinstance(found, Ignored):
        return found
    rule, target_id = found

    claims = json_get(data, "claims")
    if isinstance(claims, Mapping) and is_own_write(claims, own):
        return _ignored(IgnoreReason.OWN_WRITE, f"{operation} by this app's own identity", event_id)
    out = _in_scope(rule.kind, target_id, scopes, event_id)
    if out is not None:
        return out

    time_text, moment = _event_time(raw_time, now)
    info = EventInfo(
        id=event_id,
        type=event_type,
        time=time_text,
        operation_name=operation,
        correlation_id=_text(json_get(data, "correlationId")),
    )
    return Target(
        kind=rule.kind,
        resource_id=target_id,
        event=info,
        actor=_actor(data),
        event_time=moment,
        deleted=verb == "delete" and not rule.parent,
    )


def _unwatched_notification(resource_type: str, verb: str, event_id: str | None) -> Ignored | None:
    if len(resource_type) > _NAME_LIMIT:
        return _ignored(IgnoreReason.OPERATION_NOT_WATCHED, f"{verb} of {_quote(resource_type)}", event_id)
    if fold(resource_type) == fold(ACCOUNT_TYPE) and verb == "delete":
        return _ignored(IgnoreReason.ACCOUNT_DELETED, "the account was deleted", event_id)
    if fold(f"{resource_type}/{verb}") not in _WATCHED:
        return _ignored(IgnoreReason.OPERATION_NOT_WATCHED, f"{verb} of {_quote(resource_type)}", event_id)
    return None


def _triage_notification(
    event_id: str, event_type: str, raw_time: str | None, data: Mapping[str, Any], subject: Any,
    scopes: Sequence[ResourceId], now: datetime | None,
) -> Target | Ignored:
    deleted = event_type == NOTIFICATION_EVENT_TYPES[1]
    info_body = json_get(data, "resourceInfo")
    info_body = info_body if isinstance(info_body, Mapping) else {}

    verb = "delete" if deleted else "write"
    declared = json_get(info_body, "type")
    if declared is not None and not isinstance(declared, str):
        return _ignored(IgnoreReason.MALFORMED, f"data.resourceInfo.type is {_quote(declared)}, not a string", event_id)
    if isinstance(declared, str) and declared:
        # The declared type decides first: most notifications are about types this app never handles.
        ignored = _unwatched_notification(declared, verb, event_id)
        if ignored is not None:
            return ignored

    rid = _resource_id(json_get(info_body, "id"), subject, "data.resourceInfo.id", event_id)
    if isinstance(rid, Ignored):
        return rid
    if isinstance(declared, str) and declared and not rid.is_type(declared):
        return _ignored(IgnoreReason.MALFORMED, f"data.resourceInfo.type {_quote(declared)} does not match the ID",
                        event_id)
    ignored = _unwatched_notification(rid.resource_type, verb, event_id)
    if ignored is not None:
        return ignored
    found = _target_of(rid, event_id)
    if isinstance(found, Ignored):
        return found
    rule, target_id = found
    out = _in_scope(rule.kind, target_id, scopes, event_id)
    if out is not None:
        return out

    properties = None
    if not deleted and not rule.parent and isinstance(json_get(info_body, "properties"), Mapping):
        properties = dict(info_body)
    time_text, moment = _event_time(raw_time or json_get(data, "operationalInfo", "resourceEventTime"), now)
    return Target(
        kind=rule.kind,
        resource_id=target_id,
        event=EventInfo(id=event_id, type=event_type, time=time_text, operation_name=None, correlation_id=None),
        actor=None,
        event_time=moment,
        deleted=deleted and not rule.parent,
        properties=properties,
    )


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
