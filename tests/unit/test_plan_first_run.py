"""plan() with only REMEDIATION_SCOPES set (a first run): no subnet is known to be wrong, so any Approved
connection serves, the endpoint checks are off, and no endpoint is created. Never a false alarm per account."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from remediation.core.findings import FindingCode
from remediation.core.model import ActionKind
from remediation.core.plan import NO_SUBNET, Plan, plan
from remediation.core.settings import SubnetMap
from tests.helpers.arm_shapes import (
    EXISTING_PE_ID,
    account_body,
    connection_body,
    make_desired,
    make_settings,
    observation,
)

FIRST_RUN = make_desired(make_settings(pe_subnets=SubnetMap(), pe_allowed_subnet_ids=(),
                                       dns_zone_resource_group=None))


def test_an_approved_connection_from_anywhere_serves() -> None:
    obs = observation(account_body(connections=[connection_body(EXISTING_PE_ID, "Approved")]))
    assert plan(FIRST_RUN, obs) == Plan()


def test_no_approved_connection_is_reported_and_nothing_is_created() -> None:
    obs = observation(account_body(connections=[connection_body(EXISTING_PE_ID, "Pending")]))
    result = plan(FIRST_RUN, obs)
    assert [f.code for f in result.findings] == [FindingCode.PRIVATE_ENDPOINT_MISSING]
    [action] = result.actions
    assert action.kind is ActionKind.CREATE_PRIVATE_ENDPOINT and action.blocked == NO_SUBNET


def test_the_accounts_own_findings_still_count() -> None:
    obs = observation(account_body(connections=[connection_body(EXISTING_PE_ID, "Approved")],
                                   publicNetworkAccess="Enabled"))
    assert [f.code for f in plan(FIRST_RUN, obs).findings] == [FindingCode.PUBLIC_NETWORK_ACCESS_ENABLED]


@given(st.lists(st.sampled_from(["Approved", "Pending", "Rejected", "Disconnected"]), max_size=4))
def test_missing_exactly_when_nothing_is_approved(statuses: list[str]) -> None:
    connections = [connection_body(f"{EXISTING_PE_ID}{i}", status) for i, status in enumerate(statuses)]
    codes = {f.code for f in plan(FIRST_RUN, observation(account_body(connections=connections))).findings}
    assert (FindingCode.PRIVATE_ENDPOINT_MISSING in codes) == ("Approved" not in statuses)
    assert codes <= {FindingCode.PRIVATE_ENDPOINT_MISSING}
