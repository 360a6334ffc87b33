"""bench/rights.py: the benchmarks' app holds exactly the grants a deployment makes, enforced, and the 403s it
gets are counted (a bench that counted none because nothing was enforced would prove nothing)."""
from __future__ import annotations

from bench.rights import forbidden, grant
from localdev.estate import OPENAI_ZONE, SUBSCRIPTION, Estate, account_id, settings_env
from localdev.rights import grants, load, role_guid
from remediation.core.ids import parse_account_id
from remediation.core.model import Trigger
from tests.conftest import Stack


def test_grant_gives_exactly_the_deployments_assignments_and_replaces_earlier_ones(stack: Stack) -> None:
    settings = settings_env()
    app = stack.emulator.app_identity.object_id
    grant(stack.emulator, settings, roles=("accounts",))
    grant(stack.emulator, settings)

    held = {(a.role, a.scope.lower()) for a in stack.emulator.rbac.assignments(app)}
    roles = {r.key: r for r in load()}
    assert held == {(role_guid(roles[g.role]), g.scope) for g in grants(load(), settings)}
    assert stack.emulator.config.enforce_rbac

    grant(stack.emulator, {"REMEDIATION_SCOPES": f"/subscriptions/{SUBSCRIPTION}"}, roles=("accounts",))
    assert [a.scope.lower() for a in stack.emulator.rbac.assignments(app)] == [f"/subscriptions/{SUBSCRIPTION}"]


def test_forbidden_counts_the_apps_403s_under_enforcement(stack: Stack) -> None:
    stack.seed(Estate().network((OPENAI_ZONE,)).account("aoai"))  # no endpoint yet: network and DNS writes
    remediator = stack.remediator()
    grant(stack.emulator, stack.env(), roles=("accounts",))  # the network and DNS roles taken away
    stack.emulator.clear_requests()

    remediator.reconcile(parse_account_id(account_id("aoai")), Trigger.HTTP)
    refused = forbidden(stack.emulator.requests, stack.emulator)

    assert refused >= 1
    assert refused == sum(1 for r in stack.emulator.requests if r.status == 403)

    grant(stack.emulator, stack.env())
    stack.emulator.clear_requests()
    record = remediator.reconcile(parse_account_id(account_id("aoai")), Trigger.HTTP).record
    assert record.outcome.value == "remediated" and forbidden(stack.emulator.requests, stack.emulator) == 0
