"""HTTP request parsing (docs/http-api.md): POST /api/remediate bodies and GET /api/remediations queries."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from remediation.core.ids import ACCOUNT_TYPE, parse_resource_id
from remediation.runtime.http_api import (
    MAX_BODY_BYTES,
    NOT_FOUND,
    OUT_OF_SCOPE,
    ApiError,
    RemediateRequest,
    parse_history_query,
    parse_remediate,
    payload_too_large,
    resource_manager_error,
)

SUB = "00000000-1111-2222-3333-444444444444"
ACCOUNT = f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.CognitiveServices/accounts/aoai-prod"


def body(**fields: object) -> bytes:
    return json.dumps(fields).encode()


def error_of(call, *args) -> ApiError:
    with pytest.raises(ApiError) as caught:
        call(*args)
    error = caught.value
    assert error.body() == {"error": {"code": error.code, "message": error.message}}
    assert error.message
    return error


def test_valid_request_defaults_to_no_dry_run() -> None:
    request = parse_remediate(body(resourceId=ACCOUNT))
    assert request == RemediateRequest(parse_resource_id(ACCOUNT), False)
    assert str(request.resource_id) == ACCOUNT


@pytest.mark.parametrize("dry_run", [True, False])
def test_dry_run(dry_run: bool) -> None:
    assert parse_remediate(body(resourceId=ACCOUNT, dryRun=dry_run)).dry_run is dry_run


def test_account_id_in_other_casing_and_trailing_slash() -> None:
    request = parse_remediate(body(resourceId=ACCOUNT.replace("resourceGroups", "resourcegroups") + "/"))
    assert request.resource_id == parse_resource_id(ACCOUNT)


def test_whitespace_around_json_is_fine() -> None:
    assert parse_remediate(b"  \n" + body(resourceId=ACCOUNT) + b"\n").resource_id == parse_resource_id(ACCOUNT)


@pytest.mark.parametrize("payload", [body(), body(dryRun=True), body(resourceId=None)])
def test_missing_resource_id(payload: bytes) -> None:
    error = error_of(parse_remediate, payload)
    assert error.status == 400 and error.code == "InvalidResourceId"


@pytest.mark.parametrize("dry_run", ["true", "false", 1, 0, None, [], {}])
def test_dry_run_must_be_boolean(dry_run: object) -> None:
    error = error_of(parse_remediate, body(resourceId=ACCOUNT, dryRun=dry_run))
    assert error.status == 400 and "dryRun" in error.message


@pytest.mark.parametrize("fields", [{"dryrun": True}, {"DryRun": True}, {"resourceID": ACCOUNT}, {"mode": "enforce"}])
def test_unknown_fields_refused(fields: dict) -> None:
    error = error_of(parse_remediate, body(resourceId=ACCOUNT, **fields))
    assert error.status == 400
    for name in fields:
        assert name in error.message


@pytest.mark.parametrize("payload", [b"{", b"not json", b"{'resourceId': 'x'}", b"\xff\xfe\x00",
                                     b"[" * 60_000, b"{\"a\":" * 10_000])
def test_not_json(payload: bytes) -> None:
    error = error_of(parse_remediate, payload)
    assert error.status == 400 and error.code == "InvalidJson"


@pytest.mark.parametrize("payload", [b"", b"   ", json.dumps([{"resourceId": ACCOUNT}]).encode(), b'"text"', b"42",
                                     b"null", b"true"])
def test_not_an_object(payload: bytes) -> None:
    error = error_of(parse_remediate, payload)
    assert (error.status, error.code) == (400, "InvalidRequest")


@pytest.mark.parametrize("resource_id", [
    f"/subscriptions/{SUB}/resourceGroups/rg",
    f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Network/privateEndpoints/pe",
    f"{ACCOUNT}/privateEndpointConnections/c1",
    f"/subscriptions/{SUB}/resourceGroups/rg/../other/providers/Microsoft.CognitiveServices/accounts/a",
    "aoai-prod",
    "",
    42,
    ["x"],
])
def test_not_an_account_id(resource_id: object) -> None:
    error = error_of(parse_remediate, body(resourceId=resource_id))
    assert (error.status, error.code) == (400, "InvalidResourceId")


def test_body_over_64_kib_is_413() -> None:
    assert MAX_BODY_BYTES == 64 * 1024
    padded = json.dumps({"resourceId": ACCOUNT, "dryRun": False}).encode()
    big = padded[:-1] + b" " * (MAX_BODY_BYTES - len(padded) + 1) + b"}"
    assert len(big) == MAX_BODY_BYTES + 1
    error = error_of(parse_remediate, big)
    assert (error.status, error.code) == (413, "PayloadTooLarge")
    exact = padded[:-1] + b" " * (MAX_BODY_BYTES - len(padded)) + b"}"
    assert len(exact) == MAX_BODY_BYTES
    assert parse_remediate(exact).resource_id == parse_resource_id(ACCOUNT)  # 64 KiB itself is fine


def test_413_checked_before_parsing() -> None:
    error = error_of(parse_remediate, b"\xff" * (MAX_BODY_BYTES + 10))
    assert (error.status, error.code) == (413, "PayloadTooLarge")


def test_huge_integer_is_a_400() -> None:
    error = error_of(parse_remediate, b'{"resourceId": "x", "dryRun": ' + b"1" * 5000 + b"}")
    assert (error.status, error.code) == (400, "InvalidJson")


def test_fixed_errors() -> None:
    assert (OUT_OF_SCOPE.status, NOT_FOUND.status, payload_too_large().status) == (403, 404, 413)
    assert resource_manager_error(None, unavailable=True).status == 503
    assert resource_manager_error("boom", unavailable=False).status == 502
    assert resource_manager_error("boom", unavailable=False).message == "boom"


# --- GET /api/remediations ------------------------------------------------------------------------

def test_history_query_defaults() -> None:
    assert parse_history_query({"resourceId": ACCOUNT}) == (parse_resource_id(ACCOUNT), 20)


@pytest.mark.parametrize("top", ["1", "20", "100", "007"])
def test_history_top_in_bounds(top: str) -> None:
    assert parse_history_query({"resourceId": ACCOUNT, "top": top})[1] == int(top)


@pytest.mark.parametrize("top", ["0", "101", "-1", "1000000", "ten", "", " 5", "5.0", "1e2", "+5"])
def test_history_top_out_of_bounds(top: str) -> None:
    error = error_of(parse_history_query, {"resourceId": ACCOUNT, "top": top})
    assert error.status == 400 and "top" in error.message


@pytest.mark.parametrize("top", ["²", "①", "5²"])
def test_history_top_unicode_digits(top: str) -> None:
    error = error_of(parse_history_query, {"resourceId": ACCOUNT, "top": top})
    assert error.status == 400


@pytest.mark.parametrize("params", [{}, {"top": "5"}, {"resourceId": "x"},
                                    {"resourceId": f"/subscriptions/{SUB}/resourceGroups/rg"}])
def test_history_requires_account_id(params: dict) -> None:
    error = error_of(parse_history_query, params)
    assert (error.status, error.code) == (400, "InvalidResourceId")


# --- properties -----------------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=10), children, max_size=3),
    max_leaves=10,
)
near_bodies = st.one_of(
    st.binary(max_size=300),
    st.text(max_size=300).map(str.encode),
    json_values.map(lambda v: json.dumps(v).encode()),
    st.fixed_dictionaries({"resourceId": st.one_of(st.just(ACCOUNT), st.text(max_size=40), json_values)},
                          optional={"dryRun": json_values}).map(lambda v: json.dumps(v).encode()),
)


@settings(max_examples=400)
@given(near_bodies)
def test_parse_remediate_raises_only_api_errors(payload: bytes) -> None:
    try:
        request = parse_remediate(payload)
    except ApiError as error:
        assert error.status in (400, 413)
        return
    assert request.resource_id.is_type(ACCOUNT_TYPE)
    assert request.resource_id.resource_group is not None
    assert isinstance(request.dry_run, bool)


# ASCII only here: non-ASCII digits are test_history_top_unicode_digits (a reported code bug).
@given(st.one_of(st.none(), st.text(alphabet=st.characters(max_codepoint=127), max_size=8)))
def test_parse_history_top_is_bounded_or_400(top: str | None) -> None:
    params = {"resourceId": ACCOUNT} if top is None else {"resourceId": ACCOUNT, "top": top}
    try:
        _, value = parse_history_query(params)
    except ApiError as error:
        assert error.status == 400
        return
    assert 1 <= value <= 100
