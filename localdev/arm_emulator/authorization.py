"""Azure RBAC as Resource Manager enforces it: role definitions, role assignments, and the decision on each
request (its own action at its scope, then the linked checks a write makes).

Rules modelled, with their evidence (Learn "Understand Azure role definitions",
articles/role-based-access-control/role-definitions.md, unless said otherwise):
- An action string may hold `*` anywhere; it matches any run of characters, `/` included ("*/read",
  "Microsoft.Network/*/read", "Microsoft.Compute/virtualMachines/*" for the VMs' child types too). Names
  compare case-insensitively.
- A role's effective actions are `actions` minus `notActions`; notActions is not a deny, so a second role that
  grants the action restores it.
- An assignment at a scope holds at every scope below it (subscription -> resource group -> resource -> child).
- A role definition naming an action, or a wildcard, that its provider does not publish is refused whole:
  400 `InvalidActionOrNotAction` "'<action>' does not match any of the actions supported by the providers."
  (hashicorp/terraform-provider-azurerm#4594; Azure/azure-cli#31926, 2025; LeanerCloud/CUDly#1794, 2026: "Azure
  rejects the whole role definition over that one entry"). An action of a provider Resource Manager does not
  know: "The resource provider referenced in the action is not returned in the list of providers from Azure
  Resource Manager." (Azure/azure-powershell#9800); here the known providers are those in data/rbac. For
  dataActions the code is `InvalidDataActionOrNotDataAction` (hashicorp/terraform-provider-azurerm#24576); its
  message is worded here like the actions' one, which is not evidenced.
- 403 `AuthorizationFailed`: "The client '<name>' with object id '<oid>' does not have authorization to perform
  action '<action>' over scope '<scope>' or the scope is invalid. If access was recently granted, please refresh
  your credentials." (Azure/ARO-RP#66; microsoft/foundry-dev-tools#555, 2026, for
  `Microsoft.CognitiveServices/accounts/read`). '<name>' is the person's sign-in name (`unique_name`, e.g.
  'live.com#x@outlook.com' in microsoft/microsoft-foundry-for-vscode#445) or, for an application, its object
  ID again (ARO-RP#66 shows the same GUID twice).
- 403 `LinkedAuthorizationFailed`: "The client '<name>' with object id '<oid>' has permission to perform action
  '<action>' on scope '<scope>'; however, it does not have permission to perform action '<linked action>' on the
  linked scope(s) '<linked scope>' or the linked scope(s) are invalid." (microsoft/planetary-computer-hub#25;
  Azure/data-landing-zone#203; MicrosoftDocs/azure-docs#96892). The message names the first failing check;
  how Azure words several failing checks at once is not evidenced.
- Role assignments are unique per (scope, principal, role): another name for the same triple is 409
  `RoleAssignmentExists` "The role assignment already exists." (Azure/bicep#11367, #19936).

Not modelled: deny assignments, conditions (ABAC), a role's assignableScopes as a limit on where it may be
assigned, management groups, and authorization of operation-status polls. Whether and with which action ARM
authorizes a poll of `Azure-AsyncOperation`/`Location` URLs is unclear: some providers' polls are refused with
the provider's own `locations/.../read` action (Azure/azure-rest-api-specs#13700 for Microsoft.Sql;
Azure-Samples/azure-search-openai-demo#848 for deployments), and Learn's "Track asynchronous Azure operations"
asks for permission above the resource; no evidence was found for the Cognitive Services, Network and private
DNS polls the app makes, so polls pass here.
"""
from __future__ import annotations

import datetime as dt
import threading
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from .errors import ArmError
from .names import ROLE_ASSIGNMENTS, ROLE_DEFINITIONS
from .operations import Catalogue, catalogue, pattern, provider_of
from .rbac import LinkedCheck

# Built-in roles (Learn, built-in-roles: Owner "Grants full access to manage all resources", actions ["*"];
# Reader "View all resources", actions ["*/read"]). IDs are the same in every cloud.
OWNER = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"
READER = "acdd72a7-3385-48ef-bd42-f606fba81ae7"


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def within(scope: str, ancestor: str) -> bool:
    """True when `scope` is `ancestor` or below it (an assignment at `ancestor` holds there)."""
    s, a = scope.rstrip("/").lower(), ancestor.rstrip("/").lower()
    return a == "" or s == a or s.startswith(a + "/")


@dataclass(frozen=True)
class Permission:
    actions: tuple[str, ...] = ()
    not_actions: tuple[str, ...] = ()
    data_actions: tuple[str, ...] = ()
    not_data_actions: tuple[str, ...] = ()

    def allows(self, action: str) -> bool:
        return (any(pattern(a).match(action) for a in self.actions)
                and not any(pattern(n).match(action) for n in self.not_actions))

    @classmethod
    def from_arm(cls, body: Any) -> Permission:
        if not isinstance(body, dict):
            raise ArmError(400, "InvalidRequestContent", "Each entry of 'permissions' must be an object.")

        def strings(key: str) -> tuple[str, ...]:
            value = body.get(key) or []
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ArmError(400, "InvalidRequestContent", f"'{key}' must be an array of strings.")
            return tuple(value)

        return cls(strings("actions"), strings("notActions"), strings("dataActions"), strings("notDataActions"))

    def to_arm(self) -> dict[str, list[str]]:
        return {"actions": list(self.actions), "notActions": list(self.not_actions),
                "dataActions": list(self.data_actions), "notDataActions": list(self.not_data_actions)}


@dataclass
class RoleDefinition:
    name: str                              # the role's GUID
    role_name: str
    permissions: tuple[Permission, ...]
    assignable_scopes: tuple[str, ...] = ("/",)
    description: str = ""
    role_type: str = "CustomRole"
    scope: str = ""                        # where it was written ("" for built-in roles)
    created_on: str = field(default_factory=_now)
    updated_on: str = field(default_factory=_now)

    @property
    def id(self) -> str:
        return f"{self.scope}/providers/{ROLE_DEFINITIONS}/{self.name}"

    def allows(self, action: str) -> bool:
        return any(p.allows(action) for p in self.permissions)

    def to_arm(self, scope: str | None = None) -> dict[str, Any]:
        at = self.scope if scope is None else scope
        return {"id": f"{at}/providers/{ROLE_DEFINITIONS}/{self.name}", "type": ROLE_DEFINITIONS,
                "name": self.name, "properties": {
                    "roleName": self.role_name, "type": self.role_type, "description": self.description,
                    "assignableScopes": list(self.assignable_scopes),
                    "permissions": [p.to_arm() for p in self.permissions],
                    "createdOn": self.created_on, "updatedOn": self.updated_on}}


@dataclass(frozen=True)
class RoleAssignment:
    name: str
    scope: str
    role: str                  # the role definition's GUID, lower case
    role_definition_id: str    # as written
    principal_id: str
    principal_type: str = "ServicePrincipal"
    created_on: str = field(default_factory=_now, compare=False)

    @property
    def id(self) -> str:
        return f"{self.scope.rstrip('/')}/providers/{ROLE_ASSIGNMENTS}/{self.name}"

    def to_arm(self) -> dict[str, Any]:
        return {"id": self.id, "type": ROLE_ASSIGNMENTS, "name": self.name, "properties": {
            "roleDefinitionId": self.role_definition_id, "principalId": self.principal_id,
            "principalType": self.principal_type, "scope": self.scope, "condition": None,
            "conditionVersion": None, "createdOn": self.created_on, "updatedOn": self.created_on}}


def _builtins() -> dict[str, RoleDefinition]:
    roles = [RoleDefinition(OWNER, "Owner", (Permission(actions=("*",)),), ("/",),
                            "Grants full access to manage all resources, including the ability to assign roles "
                            "in Azure RBAC.", "BuiltInRole"),
             RoleDefinition(READER, "Reader", (Permission(actions=("*/read",)),), ("/",),
                            "View all resources, but does not allow you to make any changes.", "BuiltInRole")]
    return {r.name: r for r in roles}


def _guid(text: str) -> str:
    """The GUID at the end of a role definition ID (or the GUID itself), lower case."""
    return text.rstrip("/").rsplit("/", 1)[-1].lower()


class Authorization:
    """Role definitions and assignments of one emulator, and the authorization decision on a request."""

    def __init__(self, operations: Catalogue | None = None) -> None:
        self.catalogue = operations or catalogue()
        self._lock = threading.RLock()
        self._definitions: dict[str, RoleDefinition] = _builtins()
        self._assignments: dict[str, RoleAssignment] = {}

    def clear(self) -> None:
        """Custom roles and every assignment go; the built-in roles stay."""
        with self._lock:
            self._definitions = _builtins()
            self._assignments.clear()

    # -- role definitions ----------------------------------------------------------------------------
    def validate(self, permissions: Iterable[Permission]) -> None:
        """Refuse, as Resource Manager does, any action or notAction its provider does not publish."""
        for permission in permissions:
            for text in (*permission.actions, *permission.not_actions):
                self._check_published(text, data=False)
            for text in (*permission.data_actions, *permission.not_data_actions):
                self._check_published(text, data=True)

    def _check_published(self, text: str, data: bool) -> None:
        code = "InvalidDataActionOrNotDataAction" if data else "InvalidActionOrNotAction"
        provider = provider_of(text)
        if provider and provider not in self.catalogue.providers:
            raise ArmError(400, code, "The resource provider referenced in the action is not returned in the list "
                                      "of providers from Azure Resource Manager.")
        if not self.catalogue.matching(text, data):
            kind = "data actions" if data else "actions"
            raise ArmError(400, code, f"'{text}' does not match any of the {kind} supported by the providers.")

    def define(self, role_name: str, actions: Iterable[str] = (), not_actions: Iterable[str] = (), *,
               data_actions: Iterable[str] = (), not_data_actions: Iterable[str] = (),
               assignable_scopes: Iterable[str] = ("/",), description: str = "", name: str | None = None,
               scope: str | None = None) -> RoleDefinition:
        """Create or replace a custom role (validated like a PUT); `name` is its GUID (new one if omitted)."""
        permission = Permission(tuple(actions), tuple(not_actions), tuple(data_actions), tuple(not_data_actions))
        scopes = tuple(assignable_scopes)
        if scope is None:  # written at its first assignable subscription, as Bicep's roles.bicep does
            scope = next((s for s in scopes if s.lower().startswith("/subscriptions/")), "")
        return self.put_definition(name or str(uuid.uuid4()), role_name, (permission,), scopes, description, scope)

    def put_definition(self, name: str, role_name: str, permissions: tuple[Permission, ...],
                       assignable_scopes: tuple[str, ...], description: str, scope: str) -> RoleDefinition:
        key = _guid(name)
        self.validate(permissions)
        with self._lock:
            existing = self._definitions.get(key)
            if existing is not None and existing.role_type == "BuiltInRole":
                # The emulator's own refusal: what Azure answers a PUT on a built-in role's ID is not evidenced.
                raise ArmError(400, "InvalidRoleDefinitionId", f"The role definition ID '{key}' is not valid.")
            role = RoleDefinition(key, role_name, permissions, assignable_scopes, description, "CustomRole",
                                  scope.rstrip("/"),
                                  created_on=existing.created_on if existing else _now())
            self._definitions[key] = role
            return role

    def role(self, reference: str) -> RoleDefinition | None:
        """A role by GUID, by role definition ID (any scope prefix), or by role name."""
        with self._lock:
            found = self._definitions.get(_guid(reference))
            if found is not None:
                return found
            return next((r for r in self._definitions.values() if r.role_name.lower() == reference.lower()), None)

    def definitions(self) -> list[RoleDefinition]:
        with self._lock:
            return list(self._definitions.values())

    def delete_definition(self, name: str) -> RoleDefinition | None:
        with self._lock:
            role = self._definitions.get(_guid(name))
            if role is None or role.role_type == "BuiltInRole":
                return None
            return self._definitions.pop(role.name)

    # -- role assignments ----------------------------------------------------------------------------
    def assign(self, principal_id: str, role: str, scope: str, *, name: str | None = None,
               principal_type: str = "ServicePrincipal") -> RoleAssignment:
        """Assign `role` (GUID, role definition ID or role name) to a principal at `scope`."""
        definition = self.role(role)
        if definition is None:
            # Code as Resource Manager names it (JulianHayward/AzAPICall#23); the message wording is not evidenced.
            raise ArmError(400, "RoleDefinitionDoesNotExist",
                           f"The specified role definition with ID '{_guid(role)}' does not exist.")
        sub = scope.split("/")[2] if scope.lower().startswith("/subscriptions/") else None
        definition_id = (f"/subscriptions/{sub}/providers/{ROLE_DEFINITIONS}/{definition.name}" if sub
                         else f"/providers/{ROLE_DEFINITIONS}/{definition.name}")
        default_name = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{scope}|{principal_id}|{definition.name}".lower()))
        written_as_id = role.lower().startswith(("/subscriptions/", "/providers/"))
        assignment = RoleAssignment(name or default_name, scope.rstrip("/"), definition.name,
                                    role if written_as_id else definition_id, principal_id, principal_type)
        with self._lock:
            for other in self._assignments.values():
                if (other.name.lower() != assignment.name.lower() and other.principal_id.lower() == principal_id.lower()
                        and other.role == definition.name and other.scope.lower() == assignment.scope.lower()):
                    raise ArmError(409, "RoleAssignmentExists", "The role assignment already exists.")
            existing = self._assignments.get(assignment.id.lower())
            if existing is not None and (existing.principal_id.lower(), existing.role) != (principal_id.lower(),
                                                                                           definition.name):
                # The code Azure answers a PUT that changes an assignment (MicrosoftDocs/azure-docs#85310 names
                # it); the message is the one commonly reported with it, not captured here.
                raise ArmError(400, "RoleAssignmentUpdateNotPermitted",
                               "Tenant ID, application ID, principal ID, and scope are not allowed to be updated.")
            self._assignments[assignment.id.lower()] = existing or assignment
            return existing or assignment

    def assignment(self, assignment_id: str) -> RoleAssignment | None:
        with self._lock:
            return self._assignments.get(assignment_id.rstrip("/").lower())

    def assignments(self, principal_id: str | None = None) -> list[RoleAssignment]:
        with self._lock:
            return [a for a in self._assignments.values()
                    if principal_id is None or a.principal_id.lower() == principal_id.lower()]

    def unassign(self, assignment_id: str) -> RoleAssignment | None:
        with self._lock:
            return self._assignments.pop(assignment_id.rstrip("/").lower(), None)

    # -- the decision ----------------------------------------------------------------------------------
    def allowed(self, principal_id: str, action: str, scope: str) -> bool:
        """Does any role assigned to the principal at `scope` or above grant `action`?"""
        with self._lock:
            for assignment in self._assignments.values():
                if assignment.principal_id.lower() != principal_id.lower() or not within(scope, assignment.scope):
                    continue
                role = self._definitions.get(assignment.role)
                if role is not None and role.allows(action):
                    return True
            return False

    def allowed_at_or_below(self, principal_id: str, action: str, scope: str) -> bool:
        """Does a role assigned at, above or below `scope` grant `action` (a list filtered to what is readable)?"""
        with self._lock:
            below = [a for a in self._assignments.values()
                     if a.principal_id.lower() == principal_id.lower() and within(a.scope, scope)]
            return self.allowed(principal_id, action, scope) or any(
                (role := self._definitions.get(a.role)) is not None and role.allows(action) for a in below)

    def authorize(self, claims: dict[str, Any], action: str | None, scope: str,
                  linked: Iterable[LinkedCheck] = (), *, or_below: bool = False) -> None:
        """Raise ArmError(403) as Resource Manager would when the caller may not perform `action` at `scope`
        (rbac.primary_action, rbac.request_scope) or one of the `linked` checks its write makes. `or_below`: a
        list Resource Manager filters item by item, refused only when no assignment at, above or below grants it
        (inferred from a 403 for a principal without rights, microsoft/startstopv2-deployments#21, and lists that
        come back filtered for a principal with rights below the scope, Azure/azure-sdk-for-net#15715)."""
        oid = str(claims.get("oid") or "")
        if action is None:
            return
        client = str(claims.get("unique_name") or claims.get("upn") or oid)
        granted = self.allowed_at_or_below(oid, action, scope) if or_below else self.allowed(oid, action, scope)
        if not granted:
            raise ArmError(403, "AuthorizationFailed",
                           f"The client '{client}' with object id '{oid}' does not have authorization to perform "
                           f"action '{action}' over scope '{scope}' or the scope is invalid. If access was recently "
                           "granted, please refresh your credentials.")
        for check in linked:
            if not self.allowed(oid, check.action, check.scope):
                raise ArmError(403, "LinkedAuthorizationFailed",
                               f"The client '{client}' with object id '{oid}' has permission to perform action "
                               f"'{action}' on scope '{scope}'; however, it does not have permission to perform "
                               f"action '{check.shown_as}' on the linked scope(s) '{check.scope}' or the linked "
                               "scope(s) are invalid.")
