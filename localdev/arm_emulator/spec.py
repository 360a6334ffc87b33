"""What the emulator knows about one resource type, in one place: `TypeSpec`, declared next to the type's handlers
(`handlers/<provider>.py`, `SPECS`) and gathered in `registry.TYPES`, which routing, seeding, rendering, RBAC and
the provider metadata dispatch through. See README.md, "Adding a resource type"."""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .handlers.base import Handler
from .ids import ArmPath
from .rbac import LinkedCheck
from .world import World

# Regions the emulator's estates use (display names as the provider API shows them).
REGIONS = ("East US", "East US 2", "West US", "West Europe", "North Europe", "Sweden Central")

Render = Callable[[World, dict[str, Any]], dict[str, Any]]
Seed = Callable[[World, dict[str, Any]], None]


Linked = Callable[[dict[str, Any]], list[LinkedCheck]]


@dataclass(frozen=True)
class TypeSpec:
    """One resource type. Only `type` is required; every other part is what the type has, if anything.

    - `item`, `collection`: its routes, HTTP method -> handler, for a resource (`…/{type}/{name}`) and for the
      collection (`…/{type}`).
    - `render`: a stored resource as a GET shows it (derived fields, a running operation's state); None: as stored.
    - `seed`, `seed_order`: how a scenario stores one (None: as given) and where in dependency order (lower first).
    - `linked`: the linked RBAC checks of a PUT, from the body's `properties` (rbac.py).
    - `action_type`: the type RBAC actions name, where it differs from the URL's (resource groups).
    - `api_versions` (newest first), `locations`, `provider_names`: the provider metadata. `provider_names` are
      the names listed in `GET /subscriptions/{s}/providers/{namespace}` (None: the type's own name; (): not
      listed).
    - `durations`: the pace.DURATIONS keys of its long-running operations.
    - `poll`: an operation-status URL (polls are counted and authorized apart).
    - `tracked`: a tracked resource (it has a location): `Resources - List` returns it.
    - `filtered`: a list Resource Manager filters to what the caller may read (authorized when the caller holds
      the list action at, above or below its scope; the handler leaves out the rest, `Req.can`).
    `action_type` may be a function of the request's path when one type has two action names.
    """

    type: str
    item: Mapping[str, Handler] = field(default_factory=dict)
    collection: Mapping[str, Handler] = field(default_factory=dict)
    render: Render | None = None
    seed: Seed | None = None
    seed_order: int | None = None
    linked: Linked | None = None
    action_type: str | Callable[[ArmPath], str] | None = None
    api_versions: tuple[str, ...] = ()
    locations: tuple[str, ...] = REGIONS
    provider_names: tuple[str, ...] | None = None
    durations: tuple[str, ...] = ()
    poll: bool = False
    tracked: bool = False
    filtered: bool = False

    @property
    def namespace(self) -> str:
        return self.type.split("/", 1)[0]

    @property
    def relative_name(self) -> str:
        """The type's name within its namespace, e.g. `accounts/privateEndpointConnections`."""
        return self.type.split("/", 1)[1]

    def listed_as(self) -> tuple[str, ...]:
        return (self.relative_name,) if self.provider_names is None else self.provider_names
