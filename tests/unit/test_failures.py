"""core/failures.py: a failed call is judged by ARM's code, not its status alone; each answer's source is cited
in the module."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from remediation.core.failures import error_kind, lock_advice, locked_scopes
from remediation.core.model import PERMANENT, ErrorKind

RG = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-ai"
LOCKED = (f"The scope '{RG}/providers/Microsoft.CognitiveServices/accounts/aoai-prod' cannot perform write operation "
          f"because following scope(s) are locked: '{RG}'. Please remove the lock and try again.")


@pytest.mark.parametrize("status, code, message, kind", [
    (409, "ScopeLocked", LOCKED, ErrorKind.LOCKED),
    (409, "RequestConflict", "Cannot modify resource with id '…' because the resource entity provisioning state "
                             "is not terminal.", ErrorKind.BUSY),
    (400, "AccountProvisioningStateInvalid", "Account … in state Accepted", ErrorKind.BUSY),
    (429, "RetryableErrorDueToAnotherOperation", "", ErrorKind.UNAVAILABLE),
    (409, "AnotherOperationInProgress", "", ErrorKind.BUSY),
    (409, "Conflict", "Operation on the account is in progress.", ErrorKind.BUSY),
    (409, "Conflict", "A virtual network can only be linked to 1 Private DNS zone(s) with auto-registration "
                      "enabled; conflicting Private DNS zone is 'x'.", ErrorKind.LIMIT),
    (409, "", "", ErrorKind.LIMIT),  # Private DNS, a record set over 20 records: no body at all
    (400, "QuotaExceeded", "", ErrorKind.LIMIT),
    (403, "RequestDisallowedByPolicy", "Resource 'x' was disallowed by policy.", ErrorKind.POLICY),
    (403, "AuthorizationFailed", "", ErrorKind.FORBIDDEN),
    (401, "InvalidAuthenticationToken", "", ErrorKind.FORBIDDEN),
    (409, "CustomDomainInUse", "", ErrorKind.REFUSED),
    (409, "CannotDeleteResource", "", ErrorKind.REFUSED),
    (400, "BadRequest", "Subnet … was not found.", ErrorKind.REFUSED),
    (405, "MethodNotAllowed", "", ErrorKind.REFUSED),
    (200, "Conflict", "", ErrorKind.REFUSED),  # an operation accepted, then ended Failed
    (404, "ResourceNotFound", "", ErrorKind.NOT_FOUND),
    (503, "ServiceUnavailable", "", ErrorKind.UNAVAILABLE),
    (0, "", "", ErrorKind.UNAVAILABLE),
    (412, "PreconditionFailed", "", ErrorKind.FAILED),
])
def test_each_answer_is_judged_by_its_code(status: int, code: str, message: str, kind: ErrorKind) -> None:
    assert error_kind(status, code, message) is kind
    assert error_kind(status, code.upper(), message) is kind  # codes compare in any case


def test_a_lock_is_never_busy_and_never_retried() -> None:
    assert error_kind(409, "ScopeLocked", LOCKED) is ErrorKind.LOCKED and ErrorKind.LOCKED in PERMANENT


def test_the_lock_advice_names_where_the_lock_sits_and_how_to_find_it() -> None:
    assert locked_scopes(LOCKED) == [RG]
    advice = lock_advice(LOCKED, f"{RG}/providers/Microsoft.CognitiveServices/accounts/aoai-prod")
    assert "az lock list --subscription 00000000-0000-0000-0000-000000000001 --resource-group rg-ai" in advice
    assert "az lock delete --ids" in advice
    whole = lock_advice("The scope 'x' cannot perform write operation because following scope(s) are locked: "
                        "'/subscriptions/s1'. Please remove the lock and try again.", "x")
    assert "`az lock list --subscription s1`" in whole
    resource = f"{RG}/providers/Microsoft.Network/virtualNetworks/hub"
    assert f"`az lock list --resource {resource}`" in lock_advice(f"following scope(s) are locked: '{resource}'.", "x")


def test_without_a_named_scope_the_target_is_named() -> None:
    assert "az lock list --resource /t" in lock_advice("no scope here", "/t")


@given(st.integers(0, 599), st.text(max_size=40), st.text(max_size=200))
def test_every_answer_has_exactly_one_treatment(status: int, code: str, message: str) -> None:
    kind = error_kind(status, code, message)
    assert isinstance(kind, ErrorKind)
    if kind is ErrorKind.BUSY:
        assert code.lower() != "scopelocked"
