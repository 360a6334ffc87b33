"""The HTTP functions, called the way the host calls them, against the emulator and Azurite.

function_app reads its settings once at import (as the host imports it at start-up), so each test
sets the environment and then imports a fresh copy of the module.
"""

from __future__ import annotations

import json
from types import ModuleType

import azure.functions as func
import pytest

from localdev.arm_emulator import Fault
from localdev.estate import OPENAI_ZONE, Estate, account_id
from remediation.core.ids import parse_account_id
from tests.conftest import Stack

AOAI = account_id("aoai-prod")


def load_app(stack: Stack, **settings: str) -> ModuleType:
    return stack.load_app(**settings)


def post(app: ModuleType, body: bytes | dict) -> func.HttpResponse:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return app.remediate(func.HttpRequest(method="POST", url="/api/remediate", body=data))


def get(app: ModuleType, function: str, **params: str) -> func.HttpResponse:
    request = func.HttpRequest(method="GET", url=f"/api/{function}", params=params, body=b"")
    return getattr(app, function)(request)


def error_of(response: func.HttpResponse) -> tuple[int, str]:
    body = json.loads(response.get_body())
    assert set(body["error"]) == {"code", "message"} and body["error"]["message"]
    return response.status_code, body["error"]["code"]


def test_remediate_returns_the_audit_record(stack: Stack) -> None:
    stack.seed(Estate().network((OPENAI_ZONE,)).locked("aoai-prod", public_network_access="Enabled"))
    app = load_app(stack)

    response = post(app, {"resourceId": AOAI})

    assert response.status_code == 200 and response.mimetype == "application/json"
    record = json.loads(response.get_body())
    assert record["outcome"] == "remediated" and record["trigger"] == "http" and record["mode"] == "enforce"
    assert record["resourceId"] == AOAI and record["actor"] is None and record["event"] is None
    assert stack.resource(AOAI)["properties"]["publicNetworkAccess"] == "Disabled"


def test_dry_run_plans_without_writing(stack: Stack) -> None:
    stack.seed(Estate().network((OPENAI_ZONE,)).locked("aoai-prod", public_network_access="Enabled"))
    app = load_app(stack)

    response = post(app, {"resourceId": AOAI, "dryRun": True})

    assert json.loads(response.get_body())["outcome"] == "would-remediate"
    assert stack.writes() == []


def test_history_lists_records_newest_first(stack: Stack) -> None:
    stack.seed(Estate().network((OPENAI_ZONE,)).locked("aoai-prod", public_network_access="Enabled"))
    app = load_app(stack)
    first = json.loads(post(app, {"resourceId": AOAI}).get_body())
    second = json.loads(post(app, {"resourceId": AOAI}).get_body())

    response = get(app, "remediations", resourceId=AOAI.lower(), top="1")

    assert response.status_code == 200
    assert [r["id"] for r in json.loads(response.get_body())["value"]] == [second["id"]]
    everything = json.loads(get(app, "remediations", resourceId=AOAI).get_body())["value"]
    assert [r["id"] for r in everything] == [second["id"], first["id"]]


@pytest.mark.parametrize("body,code", [
    (b"{not json", "InvalidJson"),
    (b"[]", "InvalidRequest"),
    ({"resourceId": AOAI, "dryrun": True}, "InvalidRequest"),
    ({"resourceId": AOAI, "dryRun": "yes"}, "InvalidRequest"),
    ({}, "InvalidResourceId"),
    ({"resourceId": AOAI + "/privateEndpointConnections/x"}, "InvalidResourceId"),
    ({"resourceId": AOAI.replace("aoai-prod", "..")}, "InvalidResourceId"),
])
def test_bad_requests_get_400(stack: Stack, body: bytes | dict, code: str) -> None:
    app = load_app(stack)
    assert error_of(post(app, body)) == (400, code)
    assert stack.arm() == []


def test_body_over_64_kib_gets_413(stack: Stack) -> None:
    app = load_app(stack)
    body = json.dumps({"resourceId": AOAI, "padding": "x" * 70_000}).encode()
    assert error_of(post(app, body)) == (413, "PayloadTooLarge")


def test_account_outside_the_scopes_gets_403(stack: Stack) -> None:
    app = load_app(stack)
    assert error_of(post(app, {"resourceId": account_id("aoai-x", resource_group="rg-other")})) == (403, "OutOfScope")
    assert error_of(get(app, "remediations", resourceId=account_id("x", resource_group="rg-other"))) == \
        (403, "OutOfScope")
    assert stack.arm() == []


def test_missing_account_gets_404_and_is_recorded_as_skipped(stack: Stack) -> None:
    stack.seed(Estate().network())
    app = load_app(stack)
    assert error_of(post(app, {"resourceId": account_id("aoai-gone")})) == (404, "AccountNotFound")
    (record,) = app.parts().history(parse_account_id(account_id("aoai-gone")), 5)
    assert (record["outcome"], record["error"], record["trigger"]) == ("skipped", "the account does not exist", "http")
    assert stack.writes() == []


def test_resource_manager_error_gets_502_and_the_record_is_still_written(stack: Stack) -> None:
    stack.seed(Estate().network((OPENAI_ZONE,)).locked("aoai-prod"))
    stack.emulator.add_fault(Fault(method="GET", path=r"/accounts/aoai-prod$", status=403, code="AuthorizationFailed",
                                   message="The client does not have authorization to perform action."))
    app = load_app(stack)

    response = post(app, {"resourceId": AOAI})

    assert error_of(response) == (502, "ResourceManagerError")
    record = json.loads(response.get_body())["record"]
    assert record["outcome"] == "failed" and "AuthorizationFailed" in record["error"]
    history = json.loads(get(app, "remediations", resourceId=AOAI).get_body())["value"]
    assert [r["id"] for r in history] == [record["id"]]


def test_resource_manager_unavailable_gets_503(stack: Stack) -> None:
    stack.seed(Estate().network((OPENAI_ZONE,)).locked("aoai-prod"))
    stack.emulator.add_fault(Fault(method="GET", path=r"/accounts/aoai-prod$", status=503, code="ServiceUnavailable",
                                   headers={"retry-after-ms": "1"}, times=None))
    app = load_app(stack)

    response = post(app, {"resourceId": AOAI})

    assert error_of(response) == (503, "ResourceManagerUnavailable")
    assert json.loads(response.get_body())["record"]["outcome"] == "failed"


def test_health_is_anonymous_and_reports_valid_settings(stack: Stack) -> None:
    app = load_app(stack)
    response = get(app, "health")
    assert response.status_code == 200
    assert json.loads(response.get_body())["status"] == "healthy"


def test_invalid_settings_fail_every_function_and_the_start_up_log_says_which(
        stack: Stack, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level("ERROR", logger="remediation"):
        app = load_app(stack, REMEDIATION_MODE="sometimes", REMEDIATION_MAX_FIXES_PER_HOUR="0")

    health = get(app, "health")
    assert health.status_code == 503 and json.loads(health.get_body())["status"] == "unhealthy"
    [logged] = [r.getMessage() for r in caplog.records if r.name == "remediation"]
    assert "REMEDIATION_MODE" in logged and "REMEDIATION_MAX_FIXES_PER_HOUR" in logged
    assert error_of(post(app, {"resourceId": AOAI})) == (503, "InvalidSettings")  # behind the function key
    assert stack.arm() == []
