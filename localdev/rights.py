"""The app's Resource Manager rights, from the same data the infra deploys (infra/roles.json), so the identity
in every test, in `make demo` and in `bench/` holds exactly what a deployment grants, at the same scopes.

    roles = load()
    grants(roles, settings)          -> [Grant("accounts", "/subscriptions/…/resourcegroups/rg-ai"), …]
    seed(emulator, settings)         the three custom roles, assigned to the emulator's app identity
    enforce(emulator, settings)      the same, with the emulator authorizing every request
    python -m localdev.rights --table   the rights table in docs/deploying.md

`grants` derives the scopes the way infra/main.bicep does (its variables scopeList, peSubnets,
allowedSubnets, networkGroups, dnsGroup), including its lower-casing and its silence on a scope that is
neither a subscription nor a resource group.
"""
from __future__ import annotations

import argparse
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from localdev.arm_emulator import ArmEmulator

ROLES_FILE = Path(__file__).resolve().parents[1] / "infra" / "roles.json"
# Where main.bicep assigns a role, by the `assignedAt` value in roles.json.
ASSIGNED_AT = {
    "scopes": "each `REMEDIATION_SCOPES` scope",
    "subnetResourceGroups": "resource group of each subnet in `REMEDIATION_PE_SUBNET_ID` / "
                            "`REMEDIATION_PE_ALLOWED_SUBNET_IDS`",
    "dnsResourceGroup": "`REMEDIATION_DNS_ZONE_RESOURCE_GROUP_ID`",
}


@dataclass(frozen=True)
class Action:
    action: str
    why: str


@dataclass(frozen=True)
class Role:
    key: str             # "accounts" | "network" | "dns"
    role_name: str
    description: str
    assigned_at: str     # a key of ASSIGNED_AT
    actions: tuple[Action, ...]


@dataclass(frozen=True)
class Grant:
    role: str            # Role.key
    scope: str           # as main.bicep spells it (lower case)


def load(path: Path = ROLES_FILE) -> list[Role]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    roles = []
    for key, body in data.items():
        if key.startswith("$"):
            continue
        if body["assignedAt"] not in ASSIGNED_AT:
            raise ValueError(f"{path}: role {key!r} has an unknown assignedAt {body['assignedAt']!r}")
        roles.append(Role(key, body["roleName"], body["description"], body["assignedAt"],
                          tuple(Action(a["action"], a["why"]) for a in body["actions"])))
    return roles


def _split(value: str) -> list[str]:
    return value.split(",")


def _group_of(resource_id: str) -> str:
    """main.bicep: toLower(join(take(split(s, '/'), 5), '/'))."""
    return "/".join(resource_id.split("/")[:5]).lower()


def _resource_group(group: str) -> str:
    """main.bicep: resourceGroup(split(g, '/')[2], split(g, '/')[4]), as an ID."""
    parts = group.split("/")
    if len(parts) < 5:
        raise ValueError(f"{group!r} is no resource group: main.bicep's deployment would fail")
    return f"/subscriptions/{parts[2]}/resourceGroups/{parts[4]}".lower()


def subnets(settings: Mapping[str, str]) -> list[str]:
    """main.bicep's `subnets`: the PE subnet (or each value of its location map), then the allowed subnets."""
    pe = settings.get("REMEDIATION_PE_SUBNET_ID", "").strip()
    if not pe:
        pe_subnets: list[str] = []
    elif pe.startswith("{"):
        pe_subnets = [str(v) for v in json.loads(pe).values()]
    else:
        pe_subnets = [pe]
    allowed_raw = settings.get("REMEDIATION_PE_ALLOWED_SUBNET_IDS", "")
    allowed = [] if not allowed_raw.strip() else [s.strip() for s in _split(allowed_raw)]
    return pe_subnets + allowed


def grants(roles: list[Role], settings: Mapping[str, str]) -> list[Grant]:
    """(role, scope) for every role assignment main.bicep makes for these app settings."""
    out: list[Grant] = []
    for role in roles:
        if role.assigned_at == "scopes":
            for scope in (s.strip().lower() for s in _split(settings.get("REMEDIATION_SCOPES", ""))):
                parts = scope.split("/")
                if len(parts) == 3:        # accountsAtSubscription
                    out.append(Grant(role.key, f"/subscriptions/{parts[2]}"))
                elif len(parts) == 5:      # accountsAtGroup
                    out.append(Grant(role.key, _resource_group(scope)))
        elif role.assigned_at == "subnetResourceGroups":
            groups = list(dict.fromkeys(_group_of(s) for s in subnets(settings)))   # union(networkGroupList, [])
            out.extend(Grant(role.key, _resource_group(g)) for g in groups)
        elif role.assigned_at == "dnsResourceGroup":
            dns = settings.get("REMEDIATION_DNS_ZONE_RESOURCE_GROUP_ID", "").strip().lower()
            if dns:
                out.append(Grant(role.key, _resource_group(dns)))
    return out


def target_subscriptions(settings: Mapping[str, str]) -> list[str]:
    """main.bicep's `targetSubscriptions`: where the roles are assignable (and events are watched)."""
    found = [s.strip().lower().split("/")[2] for s in _split(settings.get("REMEDIATION_SCOPES", ""))
             if len(s.strip().split("/")) > 2]
    found += [_group_of(s).split("/")[2] for s in subnets(settings) if len(s.split("/")) > 2]
    dns = settings.get("REMEDIATION_DNS_ZONE_RESOURCE_GROUP_ID", "").strip().lower()
    if dns:
        found.append(dns.split("/")[2])
    return list(dict.fromkeys(found))


def role_guid(role: Role) -> str:
    """A stable role definition name per role (the deployment's is guid(subscription, env, …))."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"openai-remediation-{role.key}"))


def seed(emulator: ArmEmulator, settings: Mapping[str, str], principal_id: str | None = None,
         roles: list[Role] | None = None) -> list[Grant]:
    """Define the custom roles in the emulator (validated against the published operations, as ARM does) and
    assign them to the app's identity exactly where a deployment with these settings would."""
    roles = roles if roles is not None else load()
    principal = principal_id or emulator.app_identity.object_id
    scopes = [f"/subscriptions/{s}" for s in target_subscriptions(settings)] or ["/"]
    made = grants(roles, settings)
    for role in roles:
        emulator.rbac.define(role.role_name, [a.action for a in role.actions], assignable_scopes=scopes,
                             description=role.description, name=role_guid(role))
    for grant in made:
        role = next(r for r in roles if r.key == grant.role)
        emulator.rbac.assign(principal, role_guid(role), grant.scope)
    return made


def enforce(emulator: ArmEmulator, settings: Mapping[str, str]) -> list[Grant]:
    """Authorize every request as Resource Manager does, the app's identity holding what a deployment
    with these settings grants (the demo and the benchmarks run the app this way, as the tests do)."""
    emulator.config.enforce_rbac = True
    return seed(emulator, settings)


def markdown_table(roles: list[Role] | None = None) -> str:
    """The table of the app's rights in docs/deploying.md: role (where assigned), action, why."""
    lines = ["| role (assigned at) | action | why |", "|---|---|---|"]
    for role in roles if roles is not None else load():
        for i, action in enumerate(role.actions):
            label = f" {role.key} ({ASSIGNED_AT[role.assigned_at]}) " if i == 0 else " "
            lines.append(f"|{label}| `{action.action}` | {action.why} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m localdev.rights", description=__doc__.split("\n\n")[0])
    parser.add_argument("--table", action="store_true", help="print the rights table of docs/deploying.md")
    args = parser.parse_args()
    if args.table:
        print(markdown_table(), end="")
    else:
        for role in load():
            print(role.key, role.assigned_at, *(a.action for a in role.actions), sep="\n  ")


if __name__ == "__main__":
    main()
