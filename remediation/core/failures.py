"""How a failed Resource Manager call is treated, decided by its status and ARM's error code. Pure: the SDK's
exception is taken apart at the edge (`arm.clients.classify`), the decision is made here.

The status alone misleads: a 409 is a busy account (RequestConflict), a management lock (ScopeLocked), a taken
name (CustomDomainInUse), or a limit; only the first is worth waiting for. Sources, one per code:
- ScopeLocked, 409: "The scope '…' cannot perform write operation because following scope(s) are locked: '…'.
  Please remove the lock and try again." (learn.microsoft.com, azure-resource-manager/management/lock-resources,
  "Considerations before applying your locks"; the message as Azure/azure-cli#21469 and
  hashicorp/terraform-provider-azurerm#16290 quote it).
- RequestConflict, 409: a write while the provisioning state is not terminal (Azure/bicep-types-az#2419 for
  OpenAI accounts); AccountProvisioningStateInvalid, 400: Network's call into an account in Accepted
  (hashicorp/terraform-provider-azurerm#15152); AnotherOperationInProgress / RetryableErrorDueToAnotherOperation:
  Network while another operation runs (learn.microsoft.com request-limits-and-throttling, "Error code").
- RequestDisallowedByPolicy, 403 (learn.microsoft.com, governance/policy/troubleshoot/general).
- Limits: Private DNS answers 409 `Conflict` "A virtual network can only be linked to 1 Private DNS zone(s) with
  auto-registration enabled" (Azure/terraform-azurerm-caf-enterprise-scale#157), and a 409 without an error
  body for a record set over 20 records (hashicorp/terraform-provider-azurerm#12406); no published code was
  found for the zone's record-set and link counts, so any code naming a quota or limit counts as one.
"""

from __future__ import annotations

import re

from remediation.core.model import ErrorKind

_BUSY_CODES = frozenset({"requestconflict", "accountprovisioningstateinvalid", "retryableerrorduetoanotheroperation",
                         "anotheroperationinprogress", "conflictingoperationinprogress"})
_LIMIT = re.compile(r"quota|limit|exceed|can only be linked to \d+", re.IGNORECASE)
_LOCKED_SCOPES = re.compile(r"following scope\(s\) are locked: '([^']{1,2000})'")


def error_kind(status: int, code: str, message: str = "") -> ErrorKind:
    """The treatment of a failed call: `status` as answered (0: none; a 2xx for a long-running operation that
    ended Failed), `code` ARM's error code in any case, `message` its message."""
    code = code.lower()
    if status == 0 or status in (429, 500, 502, 503, 504):
        return ErrorKind.UNAVAILABLE
    if status == 404:
        return ErrorKind.NOT_FOUND
    if code == "scopelocked":
        return ErrorKind.LOCKED
    if code == "requestdisallowedbypolicy":
        return ErrorKind.POLICY
    if status in (401, 403):
        return ErrorKind.FORBIDDEN
    if code in _BUSY_CODES or (code == "conflict" and status == 409 and not _LIMIT.search(message)):
        return ErrorKind.BUSY
    if _LIMIT.search(code) or (status in (400, 409) and _LIMIT.search(message)):
        return ErrorKind.LIMIT
    if status == 409 and not code:
        return ErrorKind.LIMIT  # Private DNS's answer for a record set over its 20 records carries no body
    # 405: a PUT of a connection that is gone (the Cognitive Services RP answers MethodNotAllowed).
    if status in (400, 405, 409) or (200 <= status < 300 and code in ("conflict", "badrequest")):
        return ErrorKind.REFUSED
    return ErrorKind.FAILED


def locked_scopes(message: str) -> list[str]:
    """The scopes a ScopeLocked message names (where the locks sit), in its order."""
    found = _LOCKED_SCOPES.search(message or "")
    return [scope.strip() for scope in found.group(1).split(",") if scope.strip()] if found else []


def lock_advice(message: str, target: str) -> str:
    """What a person does about a lock: find it where the message says it sits, and remove it (or ask its owner).
    The list commands name the scopes (Azure's message, which names them too, follows in the record's error)."""
    scopes = locked_scopes(message) or [target]
    found = "; ".join(_list_locks(scope) for scope in scopes)
    return (f"a management lock refuses every change under it: find it ({found}), then remove it "
            "(`az lock delete --ids <lock id>`) or ask its owner to; the app closes the account on its next run")


def _list_locks(scope: str) -> str:
    """The Azure CLI command that lists the locks that apply at a scope (subscription, group or resource)."""
    parts = scope.strip("/").split("/")
    if len(parts) == 2:
        return f"`az lock list --subscription {parts[1]}`"
    if len(parts) == 4:
        return f"`az lock list --subscription {parts[1]} --resource-group {parts[3]}`"
    return f"`az lock list --resource {scope}`"
