"""Azure Resource Manager resource IDs: parse strictly, compare case-insensitively, check scopes.

ARM treats IDs case-insensitively and real events spell them in several casings (`resourcegroups`,
`resourceGroups`), so every comparison goes through `fold` (`ResourceId.key`). Parsing is strict on purpose:
an ID that reaches a write must not be steerable with `..`, encoded characters or empty segments.

How case is ignored matters: `str.lower()` folds the Kelvin sign (U+212A) to `k`, so `rg-networK` (Kelvin),
a different resource group to Resource Manager, would pass for `rg-network`. ARM is .NET and compares with
`StringComparison.OrdinalIgnoreCase`, which upper-cases by simple case mapping and never maps a non-ASCII
character to an ASCII one (Kelvin sign and long s stay themselves: dotnet/runtime#32247, dotnet/runtime
PR #130140); what it does with other non-ASCII pairs depends on the runtime (ICU or Windows NLS,
dotnet/runtime#67873 and #133950) and its Unicode version. `fold` therefore ignores the case of ASCII letters
only and compares every other character exactly: two IDs equal here are equal to every ARM runtime, and a
look-alike is never taken for the real resource (a non-ASCII spelling ARM would fold is kept apart: out of
scope, not written). For an all-ASCII ID the key is its `lower()`, as it always was (stored keys and derived
names stay valid).
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass
from functools import cached_property

ACCOUNT_TYPE = "Microsoft.CognitiveServices/accounts"
CONNECTION_TYPE = "Microsoft.CognitiveServices/accounts/privateEndpointConnections"
PRIVATE_ENDPOINT_TYPE = "Microsoft.Network/privateEndpoints"
ZONE_GROUP_TYPE = "Microsoft.Network/privateEndpoints/privateDnsZoneGroups"
SUBNET_TYPE = "Microsoft.Network/virtualNetworks/subnets"
DNS_ZONE_TYPE = "Microsoft.Network/privateDnsZones"
DNS_ZONE_LINK_TYPE = "Microsoft.Network/privateDnsZones/virtualNetworkLinks"
DNS_RECORD_TYPE = "Microsoft.Network/privateDnsZones/A"

# Patterns are used with fullmatch: `$` would also accept a trailing newline.
_GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
# Resource group names: letters, digits, `._-()`, 1-90 chars, not ending in a period (ARM's own rule).
_RESOURCE_GROUP = re.compile(r"[\w\-.()]{0,89}[\w\-()]")
_NAMESPACE = re.compile(r"[A-Za-z][A-Za-z0-9]*(\.[A-Za-z][A-Za-z0-9]*)+")
_SEGMENT = re.compile(r"[\w\-.()]+")
_MAX_LENGTH = 2048
_ASCII_FOLD = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)


def fold(text: str) -> str:
    """The comparison form of an ID or name: ASCII letters lower-cased, every other character as it is."""
    return text.translate(_ASCII_FOLD)


class InvalidResourceId(ValueError):
    """The text is not a well-formed ARM resource ID (or not the kind of ID expected)."""


@dataclass(frozen=True)
class ResourceId:
    """A parsed ARM ID: subscription, optional resource group, optional provider and type/name pairs."""

    subscription_id: str
    resource_group: str | None = None
    namespace: str | None = None
    types: tuple[str, ...] = ()
    names: tuple[str, ...] = ()

    def __str__(self) -> str:
        return self._text

    @cached_property
    def _text(self) -> str:  # built once: IDs are compared and hashed by it all the time (the sweep, millions)
        text = f"/subscriptions/{self.subscription_id}"
        if self.resource_group is not None:
            text += f"/resourceGroups/{self.resource_group}"
        if self.namespace is not None:
            text += f"/providers/{self.namespace}"
            for type_name, name in zip(self.types, self.names, strict=True):
                text += f"/{type_name}/{name}"
        return text

    @cached_property
    def key(self) -> str:
        """Case-insensitive identity: use this for every comparison, set and dict key."""
        return fold(self._text)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ResourceId) and self.key == other.key

    def __hash__(self) -> int:
        return hash(self.key)

    @property
    def resource_type(self) -> str:
        """`Microsoft.CognitiveServices/accounts/privateEndpointConnections`, or '' for a scope."""
        if self.namespace is None:
            return ""
        return "/".join((self.namespace, *self.types))

    @property
    def name(self) -> str:
        if self.names:
            return self.names[-1]
        return self.resource_group or self.subscription_id

    @property
    def parent(self) -> ResourceId:
        """The enclosing resource (one type/name pair fewer)."""
        if len(self.types) < 2:
            raise InvalidResourceId(f"{self} has no parent resource")
        return ResourceId(self.subscription_id, self.resource_group, self.namespace, self.types[:-1], self.names[:-1])

    def child(self, type_name: str, name: str) -> ResourceId:
        return ResourceId(
            self.subscription_id, self.resource_group, self.namespace, (*self.types, type_name), (*self.names, name)
        )

    def is_type(self, resource_type: str) -> bool:
        return fold(self.resource_type) == fold(resource_type)

    @property
    def resource_group_id(self) -> ResourceId:
        if self.resource_group is None:
            raise InvalidResourceId(f"{self} is not inside a resource group")
        return ResourceId(self.subscription_id, self.resource_group)

    def is_within(self, scope: ResourceId) -> bool:
        """True when this ID is the scope itself or lies under it (segment-wise, never by string prefix)."""
        if fold(self.subscription_id) != fold(scope.subscription_id):
            return False
        if scope.resource_group is None:
            return True
        if self.resource_group is None or fold(self.resource_group) != fold(scope.resource_group):
            return False
        if scope.namespace is None:
            return True
        if self.namespace is None or fold(self.namespace) != fold(scope.namespace):
            return False
        depth = len(scope.types)
        return (
            len(self.types) >= depth
            and [fold(t) for t in self.types[:depth]] == [fold(t) for t in scope.types]
            and [fold(n) for n in self.names[:depth]] == [fold(n) for n in scope.names]
        )


def parse_resource_id(text: object) -> ResourceId:
    """Parse an ARM ID. Raises InvalidResourceId naming what is wrong."""
    if not isinstance(text, str):
        raise InvalidResourceId(f"a resource ID must be a string, not {type(text).__name__}")
    if not text:
        raise InvalidResourceId("the resource ID is empty")
    if len(text) > _MAX_LENGTH:
        raise InvalidResourceId(f"the resource ID is longer than {_MAX_LENGTH} characters")
    if not text.startswith("/"):
        raise InvalidResourceId("a resource ID starts with '/subscriptions/'")
    body = text[1:-1] if text.endswith("/") else text[1:]  # real events carry a trailing '/' at times
    segments = body.split("/")
    for segment in segments:
        if segment in ("", ".", ".."):
            raise InvalidResourceId("the resource ID has an empty, '.' or '..' segment")
        if not _SEGMENT.fullmatch(segment):
            raise InvalidResourceId(
                f"the resource ID has a segment with characters ARM does not allow: {segment[:80]!r}")

    if len(segments) < 2 or fold(segments[0]) != "subscriptions":
        raise InvalidResourceId("a resource ID starts with '/subscriptions/<subscription id>'")
    subscription_id = segments[1]
    if not _GUID.fullmatch(subscription_id):
        raise InvalidResourceId(f"{subscription_id[:80]!r} is not a subscription ID (a GUID)")
    rest = segments[2:]
    if not rest:
        return ResourceId(subscription_id)

    resource_group: str | None = None
    if fold(rest[0]) == "resourcegroups":
        if len(rest) < 2:
            raise InvalidResourceId("'resourceGroups' is not followed by a resource group name")
        resource_group = rest[1]
        if not _RESOURCE_GROUP.fullmatch(resource_group):
            raise InvalidResourceId(f"{resource_group[:80]!r} is not a valid resource group name")
        rest = rest[2:]
        if not rest:
            return ResourceId(subscription_id, resource_group)

    if fold(rest[0]) != "providers" or len(rest) < 2:
        raise InvalidResourceId("expected '/providers/<namespace>/<type>/<name>' after the scope")
    namespace = rest[1]
    if not _NAMESPACE.fullmatch(namespace):
        raise InvalidResourceId(f"{namespace[:80]!r} is not a resource provider namespace")
    pairs = rest[2:]
    if not pairs or len(pairs) % 2:
        raise InvalidResourceId("a resource ID ends with '<type>/<name>' pairs")
    return ResourceId(subscription_id, resource_group, namespace, tuple(pairs[0::2]), tuple(pairs[1::2]))


def try_parse_resource_id(text: object) -> ResourceId | None:
    """The parsed ID, or None: for IDs inside ARM payloads, where a malformed one simply matches nothing."""
    try:
        return parse_resource_id(text)
    except InvalidResourceId:
        return None


def parse_account_id(text: object) -> ResourceId:
    """Parse and require `/subscriptions/…/resourceGroups/…/providers/Microsoft.CognitiveServices/accounts/<name>`."""
    rid = parse_resource_id(text)
    if rid.resource_group is None or not rid.is_type(ACCOUNT_TYPE):
        raise InvalidResourceId(f"not a {ACCOUNT_TYPE} resource ID")
    return rid


def parse_scope(text: str) -> ResourceId:
    """A remediation scope: `/subscriptions/<id>` or `/subscriptions/<id>/resourceGroups/<rg>`."""
    rid = parse_resource_id(text)
    if rid.namespace is not None:
        raise InvalidResourceId("a scope is a subscription or a resource group, not a resource")
    return rid


def within_any(rid: ResourceId, scopes: tuple[ResourceId, ...] | list[ResourceId]) -> bool:
    return any(rid.is_within(scope) for scope in scopes)
