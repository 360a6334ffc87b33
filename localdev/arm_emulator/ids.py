"""ARM resource ID parsing, case-insensitive like Resource Manager itself."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from .names import NIC_TYPE, PROVIDER_TYPE, RESOURCE_GROUP_TYPE, RESOURCES_TYPE, SUBSCRIPTION_TYPE

# Canonical casing of the types the emulator knows, keyed by lower-case type: every served type (registry.py
# registers each spec's) and the types its resources name without serving them.
CANONICAL_TYPES: dict[str, str] = {t.lower(): t for t in (NIC_TYPE, "Microsoft.Network/privateDnsZones/SOA")}


def register_types(types: Iterable[str]) -> None:
    for t in types:
        CANONICAL_TYPES[t.lower()] = t


def canonical_type(t: str) -> str:
    return CANONICAL_TYPES.get(t.lower(), t)


@dataclass(frozen=True)
class ArmPath:
    """A parsed ARM URL path: a resource (names == types) or a collection (one more type than names)."""

    subscription: str
    resource_group: str | None
    namespace: str | None
    types: tuple[str, ...]
    names: tuple[str, ...]
    # An extension resource (a management lock, a role assignment) on a resource: the resource's path as the
    # request spelt it, e.g. `/subscriptions/s/resourcegroups/rg/providers/Microsoft.Network/virtualNetworks/v`
    # for `<that>/providers/Microsoft.Authorization/locks/l`. None for everything else.
    extends: str | None = None

    @property
    def is_collection(self) -> bool:
        return len(self.types) > len(self.names)

    @property
    def type(self) -> str:
        """Full type, e.g. Microsoft.Network/privateDnsZones/A (canonical casing when known)."""
        if self.namespace is None:
            if not self.subscription or not self.types:
                return SUBSCRIPTION_TYPE
            return {"providers": PROVIDER_TYPE, "resources": RESOURCES_TYPE}.get(self.types[0], RESOURCE_GROUP_TYPE)
        return canonical_type("/".join((self.namespace, *self.types)))

    @property
    def scope(self) -> str:
        if not self.subscription:
            return "/"
        s = f"/subscriptions/{self.subscription}"
        return f"{s}/resourceGroups/{self.resource_group}" if self.resource_group else s

    @property
    def resource_id(self) -> str:
        """The resource's ID (for a collection: the parent's ID, or the scope)."""
        if self.namespace is None:
            if self.type == PROVIDER_TYPE and self.names:
                return f"{self.scope}/providers/{self.names[0]}"
            return self.scope
        segs = [self.extends or self.scope, "providers", self.namespace]
        for t, n in zip(self.types, self.names, strict=False):   # a collection has one type more
            segs += [t, n]
        return "/".join(segs)

    @property
    def name(self) -> str:
        return self.names[-1] if self.names else (self.resource_group or self.subscription)


# Seeding and handlers parse the same ID several times in a row (type, scope, parent); ArmPath is frozen,
# so a bounded cache of recent answers is safe and keeps seeding a large estate linear and quick.
@lru_cache(maxsize=4096)
def parse_path(path: str) -> ArmPath | None:
    """Parse /subscriptions/{s}[/resourceGroups/{rg}][/providers/{ns}/{type}/{name}...]; None if not ARM.

    Also the Resource Manager's own collections: /subscriptions (subscription "") and a subscription's
    resource providers, /subscriptions/{s}/providers[/{namespace}] (namespace None, types ("providers",)).
    Empty segments are dropped, so `//` in a path means `/`, as Resource Manager reads it (the Azure CLI
    sends `providers/Microsoft.CognitiveServices//accounts/x` when a resource has no parent path).
    """
    segs = [s for s in path.split("/") if s]
    if not segs or segs[0].lower() != "subscriptions":
        return None
    if len(segs) == 1:
        return ArmPath("", None, None, ("subscriptions",), ())
    sub, rest = segs[1], segs[2:]
    if rest and rest[0].lower() == "providers" and len(rest) <= 2:
        return ArmPath(sub, None, None, ("providers",), tuple(rest[1:]))
    if [r.lower() for r in rest] == ["resources"]:   # a subscription's resources
        return ArmPath(sub, None, None, ("resources",), ())
    rg = None
    if rest and rest[0].lower() == "resourcegroups":
        if len(rest) == 1:
            return ArmPath(sub, None, None, ("resourceGroups",), ())
        rg, rest = rest[1], rest[2:]
    if not rest:
        return ArmPath(sub, rg, None, ("resourceGroups",) if rg else (), (rg,) if rg else ())
    if rg and [r.lower() for r in rest] == ["resources"]:   # a resource group's resources
        return ArmPath(sub, rg, None, ("resources",), ())
    if rest[0].lower() != "providers" or len(rest) < 3:
        return None
    ns, rest = rest[1], rest[2:]
    # `/providers/` again where a type belongs: an extension resource on the resource named so far.
    for i in range(2, len(rest) - 2, 2):
        if rest[i].lower() == "providers":
            extends = "/" + "/".join(segs[: len(segs) - len(rest) + i])
            ext = rest[i + 2:]
            return ArmPath(sub, rg, rest[i + 1], tuple(ext[0::2]), tuple(ext[1::2]), extends)
    return ArmPath(sub, rg, ns, tuple(rest[0::2]), tuple(rest[1::2]))


def parent_id(resource_id: str) -> str | None:
    """ID of the parent resource of a nested resource (e.g. a zone for a record set), else None."""
    p = parse_path(resource_id)
    if p is None or p.namespace is None or len(p.types) < 2:
        return None
    return ArmPath(p.subscription, p.resource_group, p.namespace, p.types[:-1], p.names[:-1]).resource_id


def rg_id(resource_id: str) -> str | None:
    p = parse_path(resource_id)
    if p is None or p.resource_group is None:
        return None
    return f"/subscriptions/{p.subscription}/resourceGroups/{p.resource_group}"


def type_of(resource_id: str) -> str:
    p = parse_path(resource_id)
    if p is None:
        raise ValueError(f"not an ARM resource ID: {resource_id!r}")
    return p.type
