"""Triage: every reference sample, Cognitive Services variants of them, own writes, scopes, every watched
operation, Resource Notifications."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from remediation.core.ids import parse_resource_id, parse_scope
from remediation.core.triage import (
    ARM_EVENT_TYPES,
    IGNORE_REASONS,
    NOTIFICATION_EVENT_TYPES,
    WATCHED_OPERATIONS,
    Actor,
    EventInfo,
    Ignored,
    Principal,
    Target,
    TargetKind,
    is_own_write,
    parse_event_time,
    triage,
)

SAMPLES = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "events"
SUB = "00000000-1111-2222-3333-444444444444"
OTHER_SUB = "99999999-1111-2222-3333-444444444444"
RG = f"/subscriptions/{SUB}/resourceGroups/rg-ai"
ACCOUNT = f"{RG}/providers/Microsoft.CognitiveServices/accounts/aoai-prod"
NET_RG = f"/subscriptions/{SUB}/resourceGroups/rg-net"
ENDPOINT = f"{NET_RG}/providers/Microsoft.Network/privateEndpoints/pe-aoai-prod"
ZONE = f"{NET_RG}/providers/Microsoft.Network/privateDnsZones/privatelink.openai.azure.com"
SCOPES = [parse_scope(RG)]

APP_CLIENT_ID = "5a0c6f3e-8f57-4a0a-9d3b-2f8f1a2b3c4d"
APP_OBJECT_ID = "7d2b1c4e-0b5f-4e1a-8c9d-0e1f2a3b4c5d"
OWN = Principal(object_id=APP_OBJECT_ID, client_id=APP_CLIENT_ID)

# What each stored sample is, event by event.
EXPECTED_SAMPLES = {
    "arm-action-success-cloudevent.json": ["not-watched"],
    "arm-action-success-eventgrid.json": ["not-watched"],
    "arm-delete-success-cloudevent.json": ["operation-not-watched"],
    "arm-delete-success-eventgrid.json": ["operation-not-watched"],
    "arm-write-success-cloudevent.json": ["operation-not-watched"],
    "arm-write-success-eventgrid.json": ["operation-not-watched"],
    "arm-write-success-sdk-testdata-eventgrid.json": ["operation-not-watched"],
    "deadletter-eventgrid-schema.json": ["not-watched"],
    "resource-notifications-created-cloudevent.json": ["operation-not-watched"],
    "resource-notifications-created.json": ["operation-not-watched"],
    "resource-notifications-deleted-cloudevent.json": ["operation-not-watched"],
    "resource-notifications-deleted.json": ["operation-not-watched"],
    "subscription-validation-response.json": ["malformed"],  # our answer to the handshake, not an event
    "subscription-validation.json": ["validation"],
}


def load(name: str) -> list[dict[str, Any]]:
    body = json.loads((SAMPLES / name).read_text())
    return body if isinstance(body, list) else [body]


def sample(name: str) -> dict[str, Any]:
    return copy.deepcopy(load(name)[0])


def key_of(mapping: dict[str, Any], name: str) -> str:
    """The key spelled as the sample spells it (casing varies), or `name` when absent."""
    return next((k for k in mapping if k.lower() == name.lower()), name)


def adapt(event: dict[str, Any], resource_id: str, operation: str, **data: Any) -> dict[str, Any]:
    """A sample rewritten to be about `resource_id`: subject, resourceUri, operationName, authorization."""
    event = copy.deepcopy(event)
    event["subject"] = resource_id
    body = event["data"]
    body[key_of(body, "resourceUri")] = resource_id
    body[key_of(body, "operationName")] = operation
    body[key_of(body, "resourceProvider")] = operation.split("/")[0]
    auth = body.get(key_of(body, "authorization"))
    if isinstance(auth, dict):
        auth[key_of(auth, "scope")] = resource_id
        auth[key_of(auth, "action")] = operation
    body.update(data)
    return event


def expect_target(result: Target | Ignored) -> Target:
    assert isinstance(result, Target), result
    return result


def expect_ignored(result: Target | Ignored, reason: str) -> Ignored:
    assert isinstance(result, Ignored), result
    assert result.reason == reason, result
    assert result.reason in IGNORE_REASONS
    return result


# --- the stored samples ----------------------------------------------------------------------------

def test_every_sample_has_an_expectation() -> None:
    assert sorted(p.name for p in SAMPLES.glob("*.json")) == sorted(EXPECTED_SAMPLES)


@pytest.mark.parametrize("name", sorted(EXPECTED_SAMPLES))
def test_sample_is_triaged(name: str) -> None:
    events = load(name)
    results = [triage(e, scopes=SCOPES, own=OWN) for e in events]
    assert all(isinstance(r, Ignored) for r in results), results
    assert [r.reason for r in results] == EXPECTED_SAMPLES[name]  # type: ignore[union-attr]


# --- Cognitive Services variants of the ARM samples --------------------------------------------------

ARM_WRITE_SAMPLES = ["arm-write-success-eventgrid.json", "arm-write-success-cloudevent.json"]


@pytest.mark.parametrize("name", ARM_WRITE_SAMPLES)
def test_account_write_by_a_user(name: str) -> None:
    event = adapt(sample(name), ACCOUNT, "Microsoft.CognitiveServices/accounts/write")
    target = expect_target(triage(event, scopes=SCOPES, own=OWN))
    assert target.kind is TargetKind.ACCOUNT
    assert target.resource_id == parse_resource_id(ACCOUNT)
    assert target.deleted is False
    assert target.properties is None
    assert target.actor == Actor(name="{full-name}", upn="{user-name}", app_id="{ID}", object_id="{ID}",
                                 ip_address="{IP-address}")
    assert target.event == EventInfo(id="4db48cba-50a2-455a-93b4-de41a3b5b7f6",
                                     type="Microsoft.Resources.ResourceWriteSuccess",
                                     time="2018-07-19T18:38:04.6117357Z",
                                     operation_name="Microsoft.CognitiveServices/accounts/write",
                                     correlation_id="{ID}")
    assert target.event_time == datetime(2018, 7, 19, 18, 38, 4, 611735, tzinfo=UTC)


def test_event_and_actor_json_shapes() -> None:
    event = adapt(sample("arm-write-success-eventgrid.json"), ACCOUNT, "Microsoft.CognitiveServices/accounts/write")
    target = expect_target(triage(event, scopes=SCOPES, own=None))
    assert target.event.to_json() == {
        "id": "4db48cba-50a2-455a-93b4-de41a3b5b7f6", "type": "Microsoft.Resources.ResourceWriteSuccess",
        "time": "2018-07-19T18:38:04.6117357Z", "operationName": "Microsoft.CognitiveServices/accounts/write",
        "correlationId": "{ID}",
    }
    assert target.actor is not None
    assert target.actor.to_json() == {"name": "{full-name}", "upn": "{user-name}", "appId": "{ID}",
                                      "objectId": "{ID}", "ipAddress": "{IP-address}"}
    json.dumps(target.event.to_json())
    json.dumps(target.actor.to_json())


def test_actor_never_carries_tokens_or_authorization() -> None:
    event = adapt(sample("arm-delete-success-eventgrid.json"), ACCOUNT, "Microsoft.CognitiveServices/accounts/write")
    target = expect_target(triage(event, scopes=SCOPES, own=OWN))
    rendered = repr(target)
    for secret in ("{token}", "aio", "puid", "onprem_sid", "Subscription Admin", "evidence", "claims"):
        assert secret not in rendered


def test_actor_ip_falls_back_to_the_http_request() -> None:
    event = adapt(sample("arm-action-success-eventgrid.json"), ACCOUNT, "Microsoft.CognitiveServices/accounts/write")
    event["eventType"] = "Microsoft.Resources.ResourceWriteSuccess"
    event["data"]["httpRequest"]["clientIpAddress"] = "203.0.113.7"
    target = expect_target(triage(event, scopes=SCOPES, own=None))
    assert target.actor is not None
    assert target.actor.ip_address == "203.0.113.7"
    assert target.actor.name is None and target.actor.upn is None


def test_claimless_event_has_no_actor() -> None:
    event = adapt(sample("arm-write-success-eventgrid.json"), ACCOUNT, "Microsoft.CognitiveServices/accounts/write")
    del event["data"]["claims"]
    target = expect_target(triage(event, scopes=SCOPES, own=OWN))
    assert target.actor is None


def real_capture_style(operation: str = "Microsoft.CognitiveServices/accounts/write",
                       resource_id: str = ACCOUNT) -> dict[str, Any]:
    """The shape of the real captured event: PascalCase authorization, `resourcegroups`, trailing '/',
    empty httpRequest, a managed identity caller."""
    lower_rg = resource_id.replace("/resourceGroups/", "/resourcegroups/")
    return {
        "subject": lower_rg, "eventType": "Microsoft.Resources.ResourceWriteSuccess",
        "id": "0b8f4f4e-5a36-4c1d-9b55-6e0f7d3a2c11", "eventTime": "2024-03-01T09:15:22.1234567Z",
        "topic": f"/subscriptions/{SUB}", "dataVersion": "2", "metadataVersion": "1",
        "data": {
            "Authorization": {"Scope": lower_rg, "Action": operation,
                              "Evidence": {"Role": "Contributor", "PrincipalId": APP_OBJECT_ID.replace("-", ""),
                                           "PrincipalType": "ServicePrincipal"}},
            "Claims": {"appid": "1950a258-227b-4e31-a9cf-717495945fc2", "appidacr": "2", "idtyp": "app",
                       "http://schemas.microsoft.com/identity/claims/objectidentifier":
                           "0f0e0d0c-0b0a-0908-0706-050403020100",
                       "xms_mirid": f"{RG}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/other",
                       "ver": "1.0"},
            "CorrelationId": "corr-1", "HttpRequest": {}, "ResourceProvider": operation.split("/")[0],
            "ResourceUri": lower_rg + "/", "OperationName": operation.upper(), "Status": "succeeded",
            "SubscriptionId": SUB + "/", "TenantId": "t",
        },
    }


def test_pascal_case_keys_lowercase_resourcegroups_and_trailing_slash() -> None:
    target = expect_target(triage(real_capture_style(), scopes=SCOPES, own=OWN))
    assert target.kind is TargetKind.ACCOUNT
    assert target.resource_id == parse_resource_id(ACCOUNT)
    assert target.event.operation_name == "Microsoft.CognitiveServices/accounts/write"  # canonical spelling
    assert target.event.correlation_id == "corr-1"
    assert target.actor == Actor(None, None, "1950a258-227b-4e31-a9cf-717495945fc2",
                                 "0f0e0d0c-0b0a-0908-0706-050403020100", None)


def test_cloud_event_keys_in_any_case() -> None:
    event = adapt(sample("arm-write-success-cloudevent.json"), ACCOUNT, "Microsoft.CognitiveServices/accounts/write")
    event = {k.upper() if k in ("type", "time", "specversion") else k: v for k, v in event.items()}
    target = expect_target(triage(event, scopes=SCOPES, own=OWN))
    assert target.event.type == "Microsoft.Resources.ResourceWriteSuccess"
    assert target.event.time == "2018-07-19T18:38:04.6117357Z"


# --- own writes ------------------------------------------------------------------------------------

def managed_identity_event(claims: dict[str, Any]) -> dict[str, Any]:
    event = real_capture_style()
    event["data"]["Claims"] = claims
    return event


@pytest.mark.parametrize("claims", [
    {"appid": APP_CLIENT_ID, "idtyp": "app"},
    {"appid": APP_CLIENT_ID.upper()},
    {"APPID": APP_CLIENT_ID},
    {"http://schemas.microsoft.com/identity/claims/objectidentifier": APP_OBJECT_ID},
    {"HTTP://SCHEMAS.MICROSOFT.COM/IDENTITY/CLAIMS/OBJECTIDENTIFIER": APP_OBJECT_ID.upper()},
    {"oid": APP_OBJECT_ID},
    {"appid": "someone-else", "oid": APP_OBJECT_ID},
])
def test_own_managed_identity_write_is_ignored(claims: dict[str, Any]) -> None:
    expect_ignored(triage(managed_identity_event(claims), scopes=SCOPES, own=OWN), "own-write")
    assert is_own_write(claims, OWN)


@pytest.mark.parametrize("claims", [
    {"appid": "1950a258-227b-4e31-a9cf-717495945fc2", "oid": "0f0e0d0c-0b0a-0908-0706-050403020100"},
    {"appid": APP_OBJECT_ID},  # the object ID in the client ID claim is someone else
    {"oid": APP_CLIENT_ID},
    {"appid": ""},
    {"appid": None, "oid": 42},
    {},
])
def test_other_callers_are_not_own_writes(claims: dict[str, Any]) -> None:
    expect_target(triage(managed_identity_event(claims), scopes=SCOPES, own=OWN))
    assert not is_own_write(claims, OWN)


def test_authorization_evidence_principal_is_not_used() -> None:
    event = real_capture_style()  # Evidence.PrincipalId is the app's object ID without dashes
    event["data"]["Authorization"]["Evidence"]["PrincipalId"] = APP_OBJECT_ID
    expect_target(triage(event, scopes=SCOPES, own=OWN))


def test_no_own_principal_means_nothing_is_own() -> None:
    claims = {"appid": APP_CLIENT_ID, "oid": APP_OBJECT_ID}
    expect_target(triage(managed_identity_event(claims), scopes=SCOPES, own=None))
    expect_target(triage(managed_identity_event(claims), scopes=SCOPES, own=Principal(None, None)))
    assert not is_own_write(claims, None)
    assert is_own_write(claims, Principal(object_id=None, client_id=APP_CLIENT_ID))
    assert is_own_write(claims, Principal(object_id=APP_OBJECT_ID, client_id=None))


# --- not success, not watched ----------------------------------------------------------------------

@pytest.mark.parametrize("event_type", [
    "Microsoft.Resources.ResourceWriteFailure", "Microsoft.Resources.ResourceWriteCancel",
    "Microsoft.Resources.ResourceDeleteFailure", "Microsoft.Resources.ResourceDeleteCancel",
    "Microsoft.Resources.ResourceActionFailure", "microsoft.resources.resourcewritefailure",
])
def test_failure_and_cancel_events_are_ignored(event_type: str) -> None:
    event = adapt(sample("arm-write-success-eventgrid.json"), ACCOUNT, "Microsoft.CognitiveServices/accounts/write",
                  status="Failed")
    event["eventType"] = event_type
    expect_ignored(triage(event, scopes=SCOPES, own=OWN), "not-a-success-event")


def test_success_type_with_failed_status_is_ignored() -> None:
    event = adapt(sample("arm-write-success-eventgrid.json"), ACCOUNT, "Microsoft.CognitiveServices/accounts/write",
                  status="Failed")
    expect_ignored(triage(event, scopes=SCOPES, own=OWN), "not-a-success-event")


def test_missing_status_is_accepted() -> None:
    event = adapt(sample("arm-write-success-eventgrid.json"), ACCOUNT, "Microsoft.CognitiveServices/accounts/write")
    del event["data"]["status"]
    expect_target(triage(event, scopes=SCOPES, own=OWN))


@pytest.mark.parametrize("operation", [
    "Microsoft.CognitiveServices/accounts/delete",  # nothing left to reconcile
    "Microsoft.CognitiveServices/accounts/listKeys/action",
    "Microsoft.CognitiveServices/accounts/deployments/write",
    "Microsoft.CognitiveServices/accounts/privateEndpointConnectionProxies/write",
    "Microsoft.Network/privateDnsZones/write",
    "Microsoft.Network/privateDnsZones/AAAA/write",  # only the A records a zone group writes are watched
    "Microsoft.Network/privateDnsZones/CNAME/delete",
    "Microsoft.Resources/deployments/write",
])
def test_unwatched_operations(operation: str) -> None:
    event = adapt(sample("arm-write-success-eventgrid.json"), ACCOUNT, operation)
    expect_ignored(triage(event, scopes=SCOPES, own=OWN), "operation-not-watched")


def test_action_success_on_an_account_is_not_watched() -> None:
    event = adapt(sample("arm-action-success-eventgrid.json"), ACCOUNT,
                  "Microsoft.CognitiveServices/accounts/listKeys/action")
    expect_ignored(triage(event, scopes=SCOPES, own=OWN), "not-watched")


def test_validation_event_in_any_case() -> None:
    event = sample("subscription-validation.json")
    event["EVENTTYPE"] = event.pop("eventType").lower()
    expect_ignored(triage(event, scopes=SCOPES, own=OWN), "validation")


# --- every watched operation -----------------------------------------------------------------------

CONNECTION = f"{ACCOUNT}/privateEndpointConnections/pe-aoai-prod.1234"
ZONE_GROUP = f"{ENDPOINT}/privateDnsZoneGroups/default"
LINK = f"{ZONE}/virtualNetworkLinks/vnet-hub"
RECORD = f"{ZONE}/A/aoai-prod"
# operation -> (ID the event names, target kind, target ID, target deleted)
WATCHED_CASES = {
    "Microsoft.CognitiveServices/accounts/write": (ACCOUNT, TargetKind.ACCOUNT, ACCOUNT, False),
    "Microsoft.CognitiveServices/accounts/privateEndpointConnections/write":
        (CONNECTION, TargetKind.ACCOUNT, ACCOUNT, False),
    "Microsoft.CognitiveServices/accounts/privateEndpointConnections/delete":
        (CONNECTION, TargetKind.ACCOUNT, ACCOUNT, False),
    "Microsoft.Network/privateEndpoints/write": (ENDPOINT, TargetKind.PRIVATE_ENDPOINT, ENDPOINT, False),
    "Microsoft.Network/privateEndpoints/delete": (ENDPOINT, TargetKind.PRIVATE_ENDPOINT, ENDPOINT, True),
    "Microsoft.Network/privateEndpoints/privateDnsZoneGroups/write":
        (ZONE_GROUP, TargetKind.PRIVATE_ENDPOINT, ENDPOINT, False),
    "Microsoft.Network/privateEndpoints/privateDnsZoneGroups/delete":
        (ZONE_GROUP, TargetKind.PRIVATE_ENDPOINT, ENDPOINT, False),
    "Microsoft.Network/privateDnsZones/virtualNetworkLinks/delete": (LINK, TargetKind.DNS_ZONE, ZONE, False),
    "Microsoft.Network/privateDnsZones/delete": (ZONE, TargetKind.DNS_ZONE, ZONE, True),
    # An A record maps to the one account whose custom subdomain names it (not to every account of the zone).
    "Microsoft.Network/privateDnsZones/A/write": (RECORD, TargetKind.DNS_RECORD, RECORD, False),
    "Microsoft.Network/privateDnsZones/A/delete": (RECORD, TargetKind.DNS_RECORD, RECORD, True),
}


def test_watched_operations_are_the_documented_list() -> None:
    assert list(WATCHED_OPERATIONS) == list(WATCHED_CASES)
    assert ARM_EVENT_TYPES == ("Microsoft.Resources.ResourceWriteSuccess", "Microsoft.Resources.ResourceDeleteSuccess")
    assert NOTIFICATION_EVENT_TYPES == ("Microsoft.ResourceNotifications.Resources.CreatedOrUpdated",
                                        "Microsoft.ResourceNotifications.Resources.Deleted")


def arm_event_for(operation: str, resource_id: str, schema: str) -> dict[str, Any]:
    base = "arm-delete-success" if operation.endswith("/delete") else "arm-write-success"
    return adapt(sample(f"{base}-{schema}.json"), resource_id, operation)


@pytest.mark.parametrize("schema", ["eventgrid", "cloudevent"])
@pytest.mark.parametrize("operation", list(WATCHED_CASES))
def test_watched_operation_maps_to_its_target(operation: str, schema: str) -> None:
    named, kind, target_id, deleted = WATCHED_CASES[operation]
    target = expect_target(triage(arm_event_for(operation, named, schema), scopes=SCOPES, own=OWN))
    assert target.kind is kind
    assert target.resource_id == parse_resource_id(target_id)
    assert str(target.resource_id) == target_id
    assert target.deleted is deleted
    assert target.event.operation_name == operation
    assert target.actor is not None and target.actor.upn == "{user-name}"


@pytest.mark.parametrize("operation", list(WATCHED_CASES))
def test_operation_and_resource_type_must_agree(operation: str) -> None:
    storage = f"{RG}/providers/Microsoft.Storage/storageAccounts/st1"
    result = triage(arm_event_for(operation, storage, "eventgrid"), scopes=SCOPES, own=OWN)
    expect_ignored(result, "malformed")


def test_accounts_write_naming_a_connection_is_malformed() -> None:
    event = arm_event_for("Microsoft.CognitiveServices/accounts/write", CONNECTION, "eventgrid")
    expect_ignored(triage(event, scopes=SCOPES, own=OWN), "malformed")


def test_resource_uri_wins_over_subject_but_they_must_agree() -> None:
    event = arm_event_for("Microsoft.CognitiveServices/accounts/write", ACCOUNT, "eventgrid")
    event["subject"] = ACCOUNT.replace("aoai-prod", "aoai-other")
    expect_ignored(triage(event, scopes=SCOPES, own=OWN), "malformed")
    event["subject"] = ACCOUNT.upper().replace("SUBSCRIPTIONS", "subscriptions")  # same ID, other casing
    expect_target(triage(event, scopes=SCOPES, own=OWN))
    del event["data"]["resourceUri"]
    assert expect_target(triage(event, scopes=SCOPES, own=OWN)).resource_id == parse_resource_id(ACCOUNT)


@pytest.mark.parametrize("bad", [
    "not-an-id", "", 42, None, ACCOUNT + "/../x", ACCOUNT.replace(SUB, "sub"),
    f"/subscriptions/{SUB}/providers/Microsoft.CognitiveServices/accounts/no-rg",
    "/subscriptions/" + SUB + "/resourceGroups/rg/providers/Microsoft.CognitiveServices/accounts/" + "a" * 3000,
])
def test_unparseable_resource_ids_are_malformed(bad: Any) -> None:
    event = arm_event_for("Microsoft.CognitiveServices/accounts/write", ACCOUNT, "eventgrid")
    event["data"]["resourceUri"] = bad
    event["subject"] = bad
    result = expect_ignored(triage(event, scopes=SCOPES, own=OWN), "malformed")
    assert len(result.detail) <= 450


# --- scopes ----------------------------------------------------------------------------------------

def test_account_outside_the_scopes_is_ignored() -> None:
    outside = ACCOUNT.replace(SUB, OTHER_SUB)
    event = arm_event_for("Microsoft.CognitiveServices/accounts/write", outside, "eventgrid")
    expect_ignored(triage(event, scopes=SCOPES, own=OWN), "out-of-scope")
    other_rg = ACCOUNT.replace("rg-ai", "rg-ai-2")  # a prefix of the scope's name is not inside it
    event = arm_event_for("Microsoft.CognitiveServices/accounts/write", other_rg, "eventgrid")
    expect_ignored(triage(event, scopes=SCOPES, own=OWN), "out-of-scope")
    event = arm_event_for("Microsoft.CognitiveServices/accounts/privateEndpointConnections/write",
                          f"{outside}/privateEndpointConnections/c1", "eventgrid")
    expect_ignored(triage(event, scopes=SCOPES, own=OWN), "out-of-scope")
    expect_ignored(triage(arm_event_for("Microsoft.CognitiveServices/accounts/write", ACCOUNT, "eventgrid"),
                          scopes=[], own=OWN), "out-of-scope")


def test_scope_compare_is_case_insensitive() -> None:
    event = arm_event_for("Microsoft.CognitiveServices/accounts/write", ACCOUNT.replace("rg-ai", "RG-AI"), "eventgrid")
    expect_target(triage(event, scopes=SCOPES, own=OWN))
    expect_target(triage(event, scopes=[parse_scope(f"/subscriptions/{SUB.upper()}")], own=OWN))


@pytest.mark.parametrize("operation", [op for op in WATCHED_OPERATIONS if "CognitiveServices" not in op])
def test_endpoints_and_zones_are_not_scope_checked(operation: str) -> None:
    named = WATCHED_CASES[operation][0].replace(SUB, OTHER_SUB)
    expect_target(triage(arm_event_for(operation, named, "eventgrid"), scopes=SCOPES, own=OWN))


# --- Resource Notifications ------------------------------------------------------------------------

ACCOUNT_INFO = {
    "id": ACCOUNT, "name": "aoai-prod", "type": "Microsoft.CognitiveServices/accounts", "kind": "OpenAI",
    "location": "eastus", "tags": {"env": "prod"},
    "properties": {"publicNetworkAccess": "Enabled", "networkAcls": {"defaultAction": "Allow"},
                   "customSubDomainName": "aoai-prod", "provisioningState": "Succeeded"},
}


def notification(name: str, info: dict[str, Any]) -> dict[str, Any]:
    event = sample(name)
    event["subject"] = info["id"]
    event["data"]["resourceInfo"] = copy.deepcopy(info)
    return event


@pytest.mark.parametrize("name", ["resource-notifications-created.json",
                                  "resource-notifications-created-cloudevent.json"])
def test_notification_created_account_carries_its_body(name: str) -> None:
    target = expect_target(triage(notification(name, ACCOUNT_INFO), scopes=SCOPES, own=OWN))
    assert target.kind is TargetKind.ACCOUNT
    assert target.resource_id == parse_resource_id(ACCOUNT)
    assert target.actor is None
    assert target.deleted is False
    assert target.properties == ACCOUNT_INFO
    assert target.event == EventInfo("4eef929a-a65c-47dd-93e2-46b8c17c6c17",
                                     "Microsoft.ResourceNotifications.Resources.CreatedOrUpdated",
                                     "2023-07-28T20:13:10.8418063Z", None, None)
    assert target.event_time == datetime(2023, 7, 28, 20, 13, 10, 841806, tzinfo=UTC)
    hash(target)  # a body in properties does not make the target unhashable


def test_notification_without_envelope_time_uses_resource_event_time() -> None:
    event = notification("resource-notifications-created.json", ACCOUNT_INFO)
    del event["eventTime"]
    target = expect_target(triage(event, scopes=SCOPES, own=OWN))
    assert target.event.time == "2023-07-28T20:13:10.8418063Z"


def test_notification_created_account_out_of_scope() -> None:
    info = dict(ACCOUNT_INFO, id=ACCOUNT.replace(SUB, OTHER_SUB))
    expect_ignored(triage(notification("resource-notifications-created.json", info), scopes=SCOPES, own=OWN),
                   "out-of-scope")


@pytest.mark.parametrize("name", ["resource-notifications-deleted.json",
                                  "resource-notifications-deleted-cloudevent.json"])
def test_notification_deleted_account(name: str) -> None:
    info = {"id": ACCOUNT, "name": "aoai-prod", "type": "Microsoft.CognitiveServices/accounts"}
    expect_ignored(triage(notification(name, info), scopes=SCOPES, own=OWN), "account-deleted")


@pytest.mark.parametrize(("resource_type", "named", "created", "deleted"), [
    # type, the ID the notification names, CreatedOrUpdated -> (kind, target, deleted) | reason, Deleted -> same
    ("Microsoft.Network/privateEndpoints", ENDPOINT,
     (TargetKind.PRIVATE_ENDPOINT, ENDPOINT, False), (TargetKind.PRIVATE_ENDPOINT, ENDPOINT, True)),
    ("Microsoft.Network/privateEndpoints/privateDnsZoneGroups", ZONE_GROUP,
     (TargetKind.PRIVATE_ENDPOINT, ENDPOINT, False), (TargetKind.PRIVATE_ENDPOINT, ENDPOINT, False)),
    ("Microsoft.CognitiveServices/accounts/privateEndpointConnections", CONNECTION,
     (TargetKind.ACCOUNT, ACCOUNT, False), (TargetKind.ACCOUNT, ACCOUNT, False)),
    ("Microsoft.Network/privateDnsZones", ZONE, "operation-not-watched", (TargetKind.DNS_ZONE, ZONE, True)),
    ("Microsoft.Network/privateDnsZones/virtualNetworkLinks", LINK,
     "operation-not-watched", (TargetKind.DNS_ZONE, ZONE, False)),
    ("Microsoft.Storage/storageAccounts", f"{RG}/providers/Microsoft.Storage/storageAccounts/st1",
     "operation-not-watched", "operation-not-watched"),
])
def test_notification_types(resource_type: str, named: str, created: Any, deleted: Any) -> None:
    info = {"id": named, "name": named.rsplit("/", 1)[1], "type": resource_type}
    for name, expected in (("resource-notifications-created.json", created),
                           ("resource-notifications-deleted-cloudevent.json", deleted)):
        result = triage(notification(name, info), scopes=SCOPES, own=OWN)
        if isinstance(expected, str):
            expect_ignored(result, expected)
            continue
        target = expect_target(result)
        assert (target.kind, str(target.resource_id), target.deleted) == expected
        assert target.actor is None
        assert target.event.operation_name is None


def test_notification_type_from_the_id_when_not_declared() -> None:
    info = {k: v for k, v in ACCOUNT_INFO.items() if k != "type"}
    target = expect_target(triage(notification("resource-notifications-created.json", info), scopes=SCOPES, own=OWN))
    assert target.kind is TargetKind.ACCOUNT


def test_notification_declared_type_must_match_the_id() -> None:
    info = dict(ACCOUNT_INFO, type="Microsoft.Network/privateEndpoints")
    expect_ignored(triage(notification("resource-notifications-created.json", info), scopes=SCOPES, own=OWN),
                   "malformed")


def test_notification_endpoint_created_carries_its_body_but_zone_group_does_not() -> None:
    endpoint = {"id": ENDPOINT, "type": "Microsoft.Network/privateEndpoints", "properties": {"subnet": {"id": "x"}}}
    target = expect_target(triage(notification("resource-notifications-created.json", endpoint),
                                  scopes=SCOPES, own=OWN))
    assert target.properties == endpoint
    group = {"id": ZONE_GROUP, "type": "Microsoft.Network/privateEndpoints/privateDnsZoneGroups",
             "properties": {"privateDnsZoneConfigs": []}}
    target = expect_target(triage(notification("resource-notifications-created.json", group), scopes=SCOPES, own=OWN))
    assert target.properties is None


# --- robustness ------------------------------------------------------------------------------------

@pytest.mark.parametrize("event", [None, 1, "x", [], [{}], {}, {"eventType": 3}, {"data": {}},
                                   {"eventType": "Microsoft.Resources.ResourceWriteSuccess"},
                                   {"eventType": "Microsoft.Resources.ResourceWriteSuccess", "id": "1", "data": []}])
def test_garbage_is_malformed(event: Any) -> None:
    expect_ignored(triage(event, scopes=SCOPES, own=OWN), "malformed")


def test_details_are_bounded() -> None:
    huge = "x" * 1_000_000
    event = arm_event_for("Microsoft.CognitiveServices/accounts/write", ACCOUNT, "eventgrid")
    for field, value in (("operationName", huge), ("resourceUri", "/" + huge), ("status", huge)):
        broken = copy.deepcopy(event)
        broken["data"][field] = value
        broken["subject"] = value if field == "resourceUri" else broken["subject"]
        result = triage(broken, scopes=SCOPES, own=OWN)
        assert isinstance(result, Ignored)
        assert len(result.detail) <= 450
    big_type = dict(event, eventType=huge, id=huge)
    result = expect_ignored(triage(big_type, scopes=SCOPES, own=OWN), "not-watched")
    assert len(result.detail) <= 450 and result.event_id is not None and len(result.event_id) <= 256


def test_copied_strings_are_bounded() -> None:
    huge = "y" * 100_000
    event = arm_event_for("Microsoft.CognitiveServices/accounts/write", ACCOUNT, "eventgrid")
    event["id"] = huge
    event["data"]["correlationId"] = huge
    event["data"]["claims"]["name"] = huge
    target = expect_target(triage(event, scopes=SCOPES, own=OWN))
    assert len(target.event.id) <= 256 and len(target.event.correlation_id or "") <= 256
    assert target.actor is not None and len(target.actor.name or "") <= 256


@pytest.mark.parametrize(("text", "expected"), [
    ("2018-07-19T18:38:04.6117357Z", datetime(2018, 7, 19, 18, 38, 4, 611735, tzinfo=UTC)),
    ("2018-07-19T18:38:04Z", datetime(2018, 7, 19, 18, 38, 4, tzinfo=UTC)),
    ("2018-07-19T18:38:04.5", datetime(2018, 7, 19, 18, 38, 4, 500000, tzinfo=UTC)),
    ("2018-07-19T20:38:04.1+02:00", datetime(2018, 7, 19, 18, 38, 4, 100000, tzinfo=UTC)),
    ("2018-07-19T18:38:04-0130", datetime(2018, 7, 19, 20, 8, 4, tzinfo=UTC)),
    ("2018-13-19T18:38:04Z", None), ("yesterday", None), ("", None), (None, None), (12, None),
    ("2018-07-19T18:38:04Z" + " " * 100, None),
])
def test_parse_event_time(text: Any, expected: datetime | None) -> None:
    assert parse_event_time(text) == expected


def test_unreadable_time_is_not_fatal() -> None:
    event = arm_event_for("Microsoft.CognitiveServices/accounts/write", ACCOUNT, "eventgrid")
    event["eventTime"] = "soon"
    target = expect_target(triage(event, scopes=SCOPES, own=OWN))
    assert target.event_time is None and target.event.time == "soon"


class _Hostile(dict):
    """A mapping that fails when read: triage still answers instead of raising."""

    def __contains__(self, key: object) -> bool:
        raise RuntimeError("boom")


def test_an_unreadable_event_is_ignored_not_raised() -> None:
    result = expect_ignored(triage(_Hostile(id="1"), scopes=SCOPES, own=OWN), "malformed")
    assert "RuntimeError" in result.detail


def test_scopes_may_be_any_sequence() -> None:
    event = arm_event_for("Microsoft.CognitiveServices/accounts/write", ACCOUNT, "eventgrid")
    expect_target(triage(event, scopes=tuple(SCOPES), own=OWN))
