"""Management locks (`Microsoft.Authorization/locks`) and the requests Resource Manager refuses because of them.

Evidence (research notes of this project, each source named where it is used):
- Shape: `{"properties": {"level"[, "notes"][, "owners"]}, "id", "type": "Microsoft.Authorization/locks", "name"}`,
  in that order, nothing else when unset; the id keeps the scope as the client spelt it (a lower-case
  `resourcegroups` stays lower-case). Azure/azure-cli recording
  `command_modules/resource/tests/latest/recordings/test_cannotdelete_resource_lock.yaml` @045b6e1a (api-version
  2016-09-01; PUT 201 when new, 200 on update) and the 2020-05-01 spec example
  `ManagementLocks_ListAtSubscriptionLevel.json` @cfc781db (azure-rest-api-specs
  `specification/resources/resource-manager/Microsoft.Authorization/locks/stable/2020-05-01/locks.json`).
- Levels: "CanNotDelete means authorized users can read and modify a resource, but they can't delete it";
  "ReadOnly means authorized users can read a resource, but they can't delete or update it"; a lock at a parent
  scope holds for everything in it, resources added later included (MicrosoftDocs/azure-docs
  `articles/azure-resource-manager/management/lock-resources.md` @03adcc30). POST actions count as writes ("Locks
  prevent the POST method from sending data": listKeys, VM start/restart there; a CanNotDelete lock on a VM also
  refused its stop in MicrosoftDocs/azure-docs#50385). Deleting a child of a locked resource is a delete under the
  lock (Azure/azure-cli#28242: a federated credential of a locked identity; Azure/terraform-azurerm-lz-vending#496:
  a subnet under a locked resource group).
- The refusal: 409 `{"error":{"code":"ScopeLocked","message":"The scope '<target>' cannot perform write|delete
  operation because following scope(s) are locked: '<locked scope>'. Please remove the lock and try again."}}`,
  naming the scope the lock sits on, never the lock (Azure/azure-sdk-for-java#2560: listKeys under a ReadOnly
  resource group lock; terraform-azurerm-lz-vending#496: a subnet delete). How several locked scopes are listed
  is unevidenced (no sample names more than one): here each in quotes, joined by ", ", top scope first.
- Lists: without a filter, the locks at, above and below the scope; `$filter=atScope()` keeps those at or above
  it (Azure PowerShell `Get-AzResourceLock -AtScope` help and `GetAzureResourceLockCmdlet.cs` @4113b810; the CLI
  recording's subscription list includes resource- and subnet-level locks).
- Writing and deleting locks is not itself refused by locks: inferred (Learn tells users to remove a lock with
  `az lock delete`; no statement found either way).

Linked resources, where nothing was found (research-locks-limits §1.6, §6), are choices behind
`EmulatorConfig` switches, each documented there: `lock_pe_subnet`, `lock_pe_target`, `lock_connection_approval`.
"""
from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from typing import Any

from .errors import ArmError
from .names import LOCK_TYPE

LEVELS = {"cannotdelete": "CanNotDelete", "readonly": "ReadOnly"}
_LOCKS_SEGMENT = re.compile(r"/providers/microsoft\.authorization/locks(?:/|$)", re.IGNORECASE)
# Spec 2020-05-01: "a maximum of 260 characters. It cannot contain <, > %, &, :, \\, ?, /, or any control characters."
_BAD_NAME = re.compile(r"[<>%&:\\?/\x00-\x1f\x7f]")


def within(scope: str, ancestor: str) -> bool:
    """True when `scope` is `ancestor` or below it."""
    s, a = scope.rstrip("/").lower(), ancestor.rstrip("/").lower()
    return s == a or s.startswith(a + "/")


def lock_scope(path: str) -> str:
    """The scope a lock URL is written at: the path before `/providers/Microsoft.Authorization/locks`."""
    return _LOCKS_SEGMENT.split(path, maxsplit=1)[0].rstrip("/")


@dataclass
class Lock:
    id: str                     # as the client wrote it
    level: str                  # CanNotDelete | ReadOnly
    notes: str | None = None
    owners: list[Any] | None = field(default=None)

    @property
    def name(self) -> str:
        return self.id.rstrip("/").rsplit("/", 1)[-1]

    @property
    def scope(self) -> str:
        return lock_scope(self.id)

    def to_arm(self) -> dict[str, Any]:
        props: dict[str, Any] = {"level": self.level}
        if self.notes is not None:
            props["notes"] = self.notes
        if self.owners is not None:
            props["owners"] = self.owners
        return {"properties": props, "id": self.id, "type": LOCK_TYPE, "name": self.name}


def scope_locked(target: str, operation: str, scopes: list[str], via: str | None = None) -> ArmError:
    """409 ScopeLocked (evidence in the module docstring). `via`: the provider whose call failed, when the lock
    stopped a linked write of another resource provider (hashicorp/terraform-provider-azurerm#17478: "Call to
    Microsoft.Storage/storageAccounts failed. Error message: The scope '…' cannot perform delete operation…")."""
    message = (f"The scope '{target}' cannot perform {operation} operation because following scope(s) are "
               f"locked: {', '.join(repr_scope(s) for s in scopes)}. Please remove the lock and try again.")
    if via:
        message = f"Call to {via} failed. Error message: {message}"
    return ArmError(409, "ScopeLocked", message)


def repr_scope(scope: str) -> str:
    return f"'{scope}'"


def validate(name: str, body: Any) -> tuple[str, str | None, list[Any] | None]:
    """(level, notes, owners) of a lock PUT body; 400 for what the spec forbids (codes and texts unevidenced)."""
    if len(name) > 260 or _BAD_NAME.search(name):
        raise ArmError(400, "InvalidLockName", f"The lock name '{name}' is invalid. It can have at most 260 "
                       "characters and cannot contain <, >, %, &, :, \\, ?, / or control characters.")
    props = body.get("properties") if isinstance(body, dict) else None
    if not isinstance(props, dict):
        raise ArmError(400, "InvalidRequestContent",
                       "The request content was invalid and could not be deserialized: 'Missing properties.'")
    level = LEVELS.get(str(props.get("level") or "").lower())
    if level is None:
        raise ArmError(400, "InvalidLockLevel",
                       f"The lock level '{props.get('level')}' is invalid. Allowed values: CanNotDelete, ReadOnly.")
    notes = props.get("notes")
    if notes is not None and (not isinstance(notes, str) or len(notes) > 512):   # spec: "Maximum of 512 characters."
        raise ArmError(400, "InvalidLockNotes", "The lock notes must be a string of at most 512 characters.")
    owners = props.get("owners")
    return level, notes, list(owners) if isinstance(owners, list) else None


class Locks:
    """The locks of one emulator, and the decision whether a write or delete at a scope is locked."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._locks: dict[str, Lock] = {}

    def clear(self) -> None:
        with self._lock:
            self._locks.clear()

    def put(self, lock_id: str, level: str, notes: str | None = None,
            owners: list[Any] | None = None) -> tuple[Lock, bool]:
        """Create or replace a lock; returns (lock, created). An update keeps the id as first written."""
        key = lock_id.rstrip("/").lower()
        with self._lock:
            existing = self._locks.get(key)
            lock = Lock(existing.id if existing else lock_id.rstrip("/"), level, notes, owners)
            self._locks[key] = lock
            return lock, existing is None

    def get(self, lock_id: str) -> Lock | None:
        with self._lock:
            return self._locks.get(lock_id.rstrip("/").lower())

    def delete(self, lock_id: str) -> Lock | None:
        with self._lock:
            return self._locks.pop(lock_id.rstrip("/").lower(), None)

    def all(self) -> list[Lock]:
        with self._lock:
            return list(self._locks.values())

    def listed(self, scope: str, at_scope_only: bool) -> list[Lock]:
        """Locks at or above `scope`, and below it unless `at_scope_only` (`$filter=atScope()`)."""
        return [lock for lock in self.all()
                if within(scope, lock.scope) or (not at_scope_only and within(lock.scope, scope))]

    def locked_scopes(self, target: str, operation: str) -> list[str]:
        """Scopes whose locks refuse `operation` ("write" or "delete") on `target`, top scope first."""
        levels = {"ReadOnly"} if operation == "write" else {"ReadOnly", "CanNotDelete"}
        scopes: dict[str, str] = {}
        for lock in self.all():
            if lock.level in levels and within(target, lock.scope):
                scopes.setdefault(lock.scope.lower(), lock.scope)
        return sorted(scopes.values(), key=lambda s: s.count("/"))

    def refusal(self, target: str, operation: str, via: str | None = None) -> ArmError | None:
        scopes = self.locked_scopes(target, operation)
        return scope_locked(target, operation, scopes, via) if scopes else None


def request_target(method: str, path: str, is_collection: bool) -> str:
    """The scope a request acts on, as it spelt it: its path, without the action of a POST
    (`…/storageAccounts/x/listKeys` acts on `…/storageAccounts/x`, Azure/azure-sdk-for-java#2560)."""
    segments = [s for s in path.split("/") if s]
    if method == "POST" and is_collection and len(segments) > 2:
        segments = segments[:-1]
    return "/" + "/".join(segments)
