"""The benchmarks run the app the way a deployment does: the emulator authorizes every request, and the app's
identity holds exactly the role assignments infra/roles.json gives it for the app settings the bench uses
(localdev/rights.py, the same source as the infra and the tests).

    grant(emulator, settings)              after each emulator.reset() and seed (reset clears the grants)
    grant(emulator, settings, ("accounts",))   only some of the roles (a tool that needs less)
    forbidden(emulator.requests, emulator) the 403s the app's identity got: each bench prints them
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from localdev.rights import Grant, load, seed

if TYPE_CHECKING:
    from localdev.arm_emulator import ArmEmulator, RequestRecord


def grant(emulator: ArmEmulator, settings: Mapping[str, str], roles: Iterable[str] | None = None) -> list[Grant]:
    """Enforce RBAC, and give the app's identity exactly what a deployment with these settings assigns (only
    the named roles, when given). Assignments it held before are taken away first, so switching settings
    between runs on one estate never leaves it holding more; other principals keep theirs."""
    emulator.config.enforce_rbac = True
    app = emulator.app_identity.object_id
    for assignment in emulator.rbac.assignments(app):
        emulator.rbac.unassign(assignment.id)
    wanted = None if roles is None else set(roles)
    chosen = [role for role in load() if wanted is None or role.key in wanted]
    if wanted is not None and {role.key for role in chosen} != wanted:
        raise ValueError(f"unknown roles {sorted(wanted - {role.key for role in chosen})}")
    return seed(emulator, settings, roles=chosen)


def forbidden(requests: Iterable[RequestRecord], emulator: ArmEmulator) -> int:
    """Resource Manager requests of the app's identity answered 403 (AuthorizationFailed and its linked kind)."""
    app = emulator.app_identity.object_id
    return sum(1 for r in requests if r.status == 403 and r.kind in ("read", "write", "poll")
               and (r.caller or {}).get("oid") == app)
