"""In-memory resource store with case-insensitive IDs and the indexes lists need.

Resources are kept as Azure-shaped dicts (what a GET would return, minus derived fields such as an
account's privateEndpointConnections). Indexes by type+scope and by parent keep lists linear; paging
through a list reads a snapshot of it that is kept until the store changes, so listing N resources a
page at a time costs O(N) however small the pages (a zone with 100,000 records, a subscription with
100,000 endpoints), not O(N) per page.
"""
from __future__ import annotations

import copy
import threading
import time
from collections import OrderedDict
from collections.abc import Hashable, Iterator
from typing import Any

from . import ids

_SNAPSHOTS = 16  # lists kept for paging (a sweep pages through a few lists at a time)


class ResourceStore:
    def __init__(self, lock: threading.RLock | None = None) -> None:
        self.lock = lock or threading.RLock()
        self._items: dict[str, dict[str, Any]] = {}
        self._by_scope: dict[tuple[str, str], dict[str, None]] = {}   # (type, scope) -> ids, insertion order
        self._children: dict[str, dict[str, None]] = {}              # parent id -> child ids
        self._groups: dict[str, str] = {}                            # lower rg id -> rg id as first seen
        self._times: dict[str, tuple[float, float]] = {}             # id -> (created, last changed), epoch s
        self._version = 0                                            # bumped by every put and delete
        self._snapshots: OrderedDict[Hashable, tuple[int, list[dict[str, Any]]]] = OrderedDict()

    # -- public, thread-safe, copies in and out ------------------------------------------------------
    def get(self, resource_id: str) -> dict[str, Any] | None:
        with self.lock:
            item = self._items.get(resource_id.lower())
            return copy.deepcopy(item) if item is not None else None

    def put(self, resource: dict[str, Any]) -> dict[str, Any]:
        """Insert or replace a resource as given (id required; name and type filled in from the id)."""
        with self.lock:
            return self.put_raw(copy.deepcopy(resource))

    def delete(self, resource_id: str) -> bool:
        with self.lock:
            return self.delete_raw(resource_id)

    def ids(self, type: str | None = None, scope: str | None = None) -> list[str]:
        with self.lock:
            if type is None:
                return [r["id"] for r in self._items.values()]
            return [self._items[k]["id"] for k in self._scope_keys(type, scope)]

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, resource_id: object) -> bool:
        return isinstance(resource_id, str) and resource_id.lower() in self._items

    # -- internal API for handlers (caller holds self.lock; no copies) -------------------------------
    def raw(self, resource_id: str) -> dict[str, Any] | None:
        return self._items.get(resource_id.lower())

    def put_raw(self, resource: dict[str, Any]) -> dict[str, Any]:
        rid = resource["id"]
        p = ids.parse_path(rid)
        if p is None or p.is_collection:
            raise ValueError(f"not a resource ID: {rid!r}")
        resource.setdefault("name", p.name)
        resource.setdefault("type", p.type)
        key = rid.lower()
        now = time.time()
        self._times[key] = (self._times.get(key, (now, now))[0], now)
        if key not in self._items:
            tkey = p.type.lower()
            self._by_scope.setdefault((tkey, f"/subscriptions/{p.subscription}".lower()), {})[key] = None
            if p.resource_group:
                self._by_scope.setdefault((tkey, p.scope.lower()), {})[key] = None
                self.add_group(p.scope)
            parent = ids.parent_id(rid)
            if parent:
                self._children.setdefault(parent.lower(), {})[key] = None
        self._items[key] = resource
        self._version += 1
        return resource

    def delete_raw(self, resource_id: str) -> bool:
        key = resource_id.lower()
        item = self._items.pop(key, None)
        if item is None:
            return False
        self._times.pop(key, None)
        self._version += 1
        p = ids.parse_path(item["id"])
        assert p is not None
        tkey = p.type.lower()
        self._by_scope.get((tkey, f"/subscriptions/{p.subscription}".lower()), {}).pop(key, None)
        if p.resource_group:
            self._by_scope.get((tkey, p.scope.lower()), {}).pop(key, None)
        parent = ids.parent_id(item["id"])
        if parent:
            self._children.get(parent.lower(), {}).pop(key, None)
        for child in list(self._children.pop(key, {})):   # nested resources go with their parent
            self.delete_raw(child)
        return True

    def children(self, parent_id: str, type: str | None = None, *, exclude_type: str | None = None
                 ) -> list[dict[str, Any]]:
        """Nested resources of a parent in insertion order: of one type, or of every type but one."""
        return list(self._children_snapshot(parent_id, type, exclude_type))

    def children_page(self, parent_id: str, type: str | None, offset: int, size: int, *,
                      exclude_type: str | None = None) -> tuple[list[dict[str, Any]], bool]:
        """One page of a parent's nested resources; returns (items, more)."""
        items = self._children_snapshot(parent_id, type, exclude_type)
        return items[offset:offset + size], offset + size < len(items)

    def _children_snapshot(self, parent_id: str, type: str | None, exclude_type: str | None) -> list[dict[str, Any]]:
        parent = parent_id.lower()
        t, x = (type or "").lower(), (exclude_type or "").lower()

        def build() -> list[dict[str, Any]]:
            out = [self._items[k] for k in self._children.get(parent, {})]
            if t:
                out = [r for r in out if r["type"].lower() == t]
            if x:
                out = [r for r in out if r["type"].lower() != x]
            return out

        return self._snapshot(("children", parent, t, x), build)

    def _snapshot(self, key: Hashable, build: Any) -> list[dict[str, Any]]:
        """The list `build()` gives, kept until the store next changes (callers never mutate it)."""
        cached = self._snapshots.get(key)
        if cached is not None and cached[0] == self._version:
            self._snapshots.move_to_end(key)
            return cached[1]
        items: list[dict[str, Any]] = build()
        self._snapshots[key] = (self._version, items)
        self._snapshots.move_to_end(key)
        while len(self._snapshots) > _SNAPSHOTS:
            self._snapshots.popitem(last=False)
        return items

    def _scope_keys(self, type: str, scope: str | None) -> Iterator[str]:
        tkey = type.lower()
        if scope is None:
            for (t, s), keys in list(self._by_scope.items()):
                if t == tkey and s.count("/") == 2:   # subscription-level buckets cover everything once
                    yield from keys
            return
        yield from self._by_scope.get((tkey, scope.rstrip("/").lower()), {})

    def page(self, type: str, scope: str, offset: int, size: int) -> tuple[list[dict[str, Any]], bool]:
        """One page of resources of a type in a scope; returns (items, more)."""
        items = self._snapshot(("scope", type.lower(), scope.rstrip("/").lower()),
                               lambda: [self._items[k] for k in self._scope_keys(type, scope)])
        return items[offset:offset + size], offset + size < len(items)

    def times(self, resource_id: str) -> tuple[float, float] | None:
        """(created, last changed) in epoch seconds, as the store saw them."""
        return self._times.get(resource_id.lower())

    def in_scope(self, scope: str) -> list[dict[str, Any]]:
        """Every resource under a subscription or resource group, in insertion order (a snapshot)."""
        prefix = scope.rstrip("/").lower() + "/"
        return self._snapshot(("in", prefix), lambda: [r for k, r in self._items.items() if k.startswith(prefix)])

    # -- resource groups -----------------------------------------------------------------------------
    def add_group(self, group_id: str) -> None:
        self._groups.setdefault(group_id.rstrip("/").lower(), group_id.rstrip("/"))

    def has_group(self, group_id: str) -> bool:
        return group_id.rstrip("/").lower() in self._groups

    def subscriptions(self) -> list[str]:
        """Subscription IDs the store holds resource groups in, in the order first seen."""
        with self.lock:
            seen: dict[str, str] = {}
            for group in self._groups.values():
                sub = group.split("/")[2]
                seen.setdefault(sub.lower(), sub)
            return list(seen.values())

    def groups(self, subscription: str) -> list[str]:
        prefix = f"/subscriptions/{subscription}/".lower()
        return [g for k, g in self._groups.items() if k.startswith(prefix)]

    def clear(self) -> None:
        with self.lock:
            self._items.clear()
            self._times.clear()
            self._by_scope.clear()
            self._children.clear()
            self._groups.clear()
            self._snapshots.clear()
            self._version += 1
