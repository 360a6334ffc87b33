"""Azure's pace: operations that take as long as Azure's (pace.py), scaled by one clock setting."""
from __future__ import annotations

import time

import pytest
from azure.core.exceptions import HttpResponseError, ResourceExistsError
from azure.mgmt.cognitiveservices.models import Account, AccountProperties

from localdev.arm_emulator import EmulatorConfig
from localdev.arm_emulator.pace import DURATIONS
from tests.helpers.emulator import ACCOUNT, SUBNET, Raw, base_scenario

SCALE = 0.01   # 1:100: an account update runs 0.3 s, then reads Accepted for another 0.3 s
PE_NAME = "pe-aoai-prod"


def pe_body() -> dict:
    return {"location": "eastus", "properties": {"subnet": {"id": SUBNET}, "privateLinkServiceConnections": [
        {"name": "aoai-prod", "properties": {"privateLinkServiceId": ACCOUNT, "groupIds": ["account"]}}]}}


def azure_pace(emu, scale: float = SCALE) -> None:
    emu.config.update(EmulatorConfig.azure_pace(scale))


def poll_until_done(raw: Raw, emu, url: str, limit_s: float = 10.0) -> tuple[float, dict]:
    """Poll an operation URL until it leaves InProgress; returns (seconds it took, final body)."""
    started = time.monotonic()
    path = url.split(str(emu.port), 1)[1]
    while time.monotonic() - started < limit_s:
        status, _, body = raw("GET", path, api_version=None)
        if body and body.get("status") not in ("InProgress", "Accepted", "Creating", "Updating"):
            return time.monotonic() - started, body
        time.sleep(0.02)
    raise AssertionError(f"operation still running after {limit_s} s")


def test_poll_pace_stays_the_default():
    config = EmulatorConfig()
    assert config.pace == "polls" and config.lro_polls == 1


def test_account_update_takes_its_duration_then_settles(emu):
    emu.seed(base_scenario())
    azure_pace(emu)
    raw = Raw(emu)
    started = time.monotonic()
    status, headers, body = raw("PATCH", ACCOUNT, {"properties": {"publicNetworkAccess": "Disabled"}})
    assert status == 202 and body["properties"]["provisioningState"] == "Accepted"
    took, op = poll_until_done(raw, emu, headers["azure-asyncoperation"])
    expected = DURATIONS["account/update"].seconds * SCALE
    assert op["status"] == "Succeeded"
    assert time.monotonic() - started >= expected - 0.01
    # Done, yet the account still reads Accepted for its settle time, and refuses writes meanwhile.
    assert raw("GET", ACCOUNT)[2]["properties"]["provisioningState"] == "Accepted"
    assert raw("PATCH", ACCOUNT, {"properties": {"disableLocalAuth": True}})[2]["error"]["code"] == "RequestConflict"
    time.sleep(DURATIONS["account/update"].settle_s * SCALE + 0.05)
    assert raw("GET", ACCOUNT)[2]["properties"]["provisioningState"] == "Succeeded"


def test_an_operation_nobody_polls_still_finishes_on_time(emu):
    emu.seed(base_scenario())
    azure_pace(emu)
    emu.config.durations = {"account/update:settle": 0}
    raw = Raw(emu)
    raw("PATCH", ACCOUNT, {"properties": {"publicNetworkAccess": "Disabled"}})
    assert emu.get(ACCOUNT)["properties"]["provisioningState"] == "Accepted"
    time.sleep(DURATIONS["account/update"].seconds * SCALE + 0.05)
    assert emu.get(ACCOUNT)["properties"]["provisioningState"] == "Succeeded"


def test_sdk_waits_the_whole_duration_at_any_scale(emu, clients):
    """The real SDK client (polling_interval 0) polls until Azure's duration has passed, at any scale: the wall
    time follows the scale from below (above it, a loaded machine only adds)."""
    emu.seed(base_scenario())
    lockdown = Account(properties=AccountProperties(public_network_access="Disabled"))
    for scale in (0.005, 0.01):
        azure_pace(emu, scale)
        emu.config.durations = {"account/update:settle": 0}
        started = time.monotonic()
        clients.cog.accounts.begin_update("rg-ai", "aoai-prod", lockdown).result()
        assert time.monotonic() - started >= DURATIONS["account/update"].seconds * scale - 0.01


def test_write_to_the_busy_account_is_refused_as_azure_does(emu, clients):
    emu.seed(base_scenario())
    azure_pace(emu)
    Raw(emu)("PATCH", ACCOUNT, {"properties": {"publicNetworkAccess": "Disabled"}})
    with pytest.raises(ResourceExistsError) as conflict:
        clients.cog.accounts.begin_update("rg-ai", "aoai-prod", Account(properties=AccountProperties(
            disable_local_auth=True))).result()
    assert conflict.value.status_code == 409 and conflict.value.error.code == "RequestConflict"
    with pytest.raises(HttpResponseError) as invalid:
        clients.net.private_endpoints.begin_create_or_update("rg-net", PE_NAME, pe_body()).result()
    assert invalid.value.status_code == 400 and invalid.value.error.code == "AccountProvisioningStateInvalid"
    assert invalid.value.error.message.endswith("in state Accepted")


def test_private_endpoint_runs_its_duration_reading_updating(emu, clients):
    emu.seed(base_scenario())
    azure_pace(emu)
    raw = Raw(emu)
    pe_path = (f"/subscriptions/{ACCOUNT.split('/')[2]}/resourceGroups/rg-net/providers/Microsoft.Network/"
               f"privateEndpoints/{PE_NAME}")
    started = time.monotonic()
    status, headers, body = raw("PUT", pe_path, pe_body(), api_version="2026-03-01")
    assert status == 201 and body["properties"]["provisioningState"] == "Updating"
    assert raw("GET", pe_path, api_version="2026-03-01")[2]["properties"]["provisioningState"] == "Updating"
    took, op = poll_until_done(raw, emu, headers["azure-asyncoperation"])
    assert op["status"] == "Succeeded"
    assert time.monotonic() - started >= DURATIONS["privateEndpoint/create"].seconds * SCALE - 0.01
    assert raw("GET", pe_path, api_version="2026-03-01")[2]["properties"]["provisioningState"] == "Succeeded"


def test_private_dns_writes_answer_202_and_take_their_duration(emu, clients):
    emu.seed(base_scenario())
    azure_pace(emu)
    started = time.monotonic()
    zone = clients.dns.private_zones.begin_create_or_update(
        "rg-dns", "privatelink.cognitiveservices.azure.com", {"location": "global"}).result()
    assert zone.properties.provisioning_state == "Succeeded"
    assert time.monotonic() - started >= DURATIONS["privateDnsZone/write"].seconds * SCALE - 0.01
    put = next(r for r in emu.requests if r.method == "PUT")
    assert put.status == 202
    polls = [r for r in emu.requests if r.kind == "poll" and "privateDnsOperationStatuses" in r.path]
    assert len(polls) >= 2   # 202 InProgress answers, then the 200 Succeeded one


def test_connection_approval_answers_200_after_its_duration(emu, clients):
    from azure.mgmt.cognitiveservices.models import (
        PrivateEndpointConnection,
        PrivateEndpointConnectionProperties,
        PrivateLinkServiceConnectionState,
    )
    emu.seed(base_scenario())
    body = pe_body()
    body["properties"]["manualPrivateLinkServiceConnections"] = body["properties"].pop("privateLinkServiceConnections")
    clients.net.private_endpoints.begin_create_or_update("rg-net", PE_NAME, body).result()
    [conn] = clients.cog.private_endpoint_connections.list("rg-ai", "aoai-prod").value
    azure_pace(emu)
    approve = PrivateEndpointConnection(properties=PrivateEndpointConnectionProperties(
        private_link_service_connection_state=PrivateLinkServiceConnectionState(status="Approved")))
    started = time.monotonic()
    result = clients.cog.private_endpoint_connections.begin_create_or_update(
        "rg-ai", "aoai-prod", conn.name, approve).result()
    took = time.monotonic() - started
    assert result.properties.private_link_service_connection_state.status == "Approved"
    assert took >= DURATIONS["connection/update"].seconds * SCALE - 0.01
    put = [r for r in emu.requests if r.method == "PUT"][-1]
    assert "privateEndpointConnections" in put.path and put.status == 200   # synchronous, only slow
    started = time.monotonic()   # approving it again changes nothing and is quick
    clients.cog.private_endpoint_connections.begin_create_or_update("rg-ai", "aoai-prod", conn.name, approve).result()
    assert time.monotonic() - started < DURATIONS["connection/update"].seconds * SCALE


def test_tags_only_patch_is_done_at_once_and_leaves_the_account_ready(emu):
    emu.seed(base_scenario())
    azure_pace(emu)
    raw = Raw(emu)
    status, headers, _ = raw("PATCH", ACCOUNT, {"tags": {"team": "ml", "cost": "1"}})
    assert status == 202   # asynchronous, as the Cognitive Services RP answers it (pace.py)
    took, op = poll_until_done(raw, emu, headers["azure-asyncoperation"], limit_s=1.0)
    assert op["status"] == "Succeeded"
    assert raw("GET", ACCOUNT)[2]["properties"]["provisioningState"] == "Succeeded"
    emu.config.tags_patch_sync = True
    status, _, body = raw("PATCH", ACCOUNT, {"tags": {"team": "ai"}})
    assert status == 200 and body["tags"] == {"team": "ai"} and body["properties"]["provisioningState"] == "Succeeded"


def test_one_retry_after_for_every_operation_when_asked_for_is_scaled(emu):
    """`lro_retry_after_s` replaces the types' own values (the Azure CLI tests use it); scaled below a second it goes
    as retry-after-ms, since the private DNS SDK parses Retry-After as an int (pace.retry_after)."""
    emu.seed(base_scenario())
    raw = Raw(emu)
    for scale, expected in ((0.02, ("retry-after-ms", "200")), (1.0, ("retry-after", "10"))):
        emu.reset()
        emu.seed(base_scenario())
        emu.config.update({**EmulatorConfig.azure_pace(scale), "lro_retry_after_s": 10})
        _, headers, _ = raw("PATCH", ACCOUNT, {"properties": {"publicNetworkAccess": "Disabled"}})
        assert headers[expected[0]] == expected[1]


def test_config_rejects_an_unknown_pace():
    with pytest.raises(ValueError):
        EmulatorConfig().update({"pace": "fast"})
    with pytest.raises(ValueError):
        EmulatorConfig().update({"clock_scale": 0})


def test_an_operation_nobody_polls_ends_at_the_configured_pace(emu):
    """Azure's operations end on their own, and `az … wait` reads the resource, never the operation URL
    (research-pace-rendering §5: recorded endTimes precede the client's polls; azure-cli-core WaitCommandOperation
    calls the getter). In the poll pace with a Retry-After, an operation nobody polls ends when its polls would have
    been due, not at the 60 s age limit: `az … --no-wait` then `az … wait` no longer waits a minute."""
    emu.seed(base_scenario())
    emu.config.update({"lro_retry_after_s": 0.2, "lro_polls": 1})
    raw = Raw(emu)
    pe_path = f"/subscriptions/{ACCOUNT.split('/')[2]}/resourceGroups/rg-net/providers/Microsoft.Network/" \
              f"privateEndpoints/{PE_NAME}"
    started = time.monotonic()
    assert raw("PUT", pe_path, pe_body(), api_version="2026-03-01")[0] == 201   # --no-wait: no poll follows
    state = "Updating"
    while state == "Updating" and time.monotonic() - started < 10:
        state = raw("GET", pe_path, api_version="2026-03-01")[2]["properties"]["provisioningState"]
        time.sleep(0.05)
    took = time.monotonic() - started
    assert state == "Succeeded" and 0.2 <= took < 5
    assert emu.config.lro_max_age_s == 60   # the age limit is not what ended it
