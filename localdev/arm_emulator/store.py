"""In-memory resource store with case-insensitive IDs and the indexes lists need.

Resources are kept as Azure-shaped dicts (what a GET would return, minus derived fields such as an
account's privateEndpointConnections). Indexes by type+scope and by parent keep lists and paging linear.
"""
from __future__ import annotations

import copy
import threading
from itertools import islice
from typing import Any, Iterator

from . import ids


class ResourceStore:
    def __init__(self, lock: threading.RLock | None = None) -> None:
        self.lock = lock or threading.RLock()
        self._items: dict[str, dict[str, Any]] = {}
        self._by_scope: dict[tuple[str, str], dict[str, None]] = {}   # (type, scope) -> ids, insertion order
        self._children: dict[str, dict[str, None]] = {}              # parent id -> child ids
        self._groups: dict[str, str] = {}                            # lower rg id -> rg id as first seen

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
        return resource

    def delete_raw(self, resource_id: str) -> bool:
        key = resource_id.lower()
        item = self._items.pop(key, None)
        if item is None:
            return False
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

    def children(self, parent_id: str, type: str | None = None) -> list[dict[str, Any]]:
        out = [self._items[k] for k in self._children.get(parent_id.lower(), {})]
        if type is not None:
            t = type.lower()
            out = [r for r in out if r["type"].lower() == t]
        return out

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
        keys = list(islice(self._scope_keys(type, scope), offset, offset + size + 1))
        return [self._items[k] for k in keys[:size]], len(keys) > size

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
            self._by_scope.clear()
            self._children.clear()
            self._groups.clear()
