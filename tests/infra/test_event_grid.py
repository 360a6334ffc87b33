"""The Event Grid subscription delivers exactly the events triage handles."""

from __future__ import annotations

from remediation.core.operations import WATCHED_OPERATIONS
from remediation.core.triage import ARM_EVENT_TYPES
from tests.infra.bicep import resource_config, tree


def _subscription() -> dict:
    return resource_config(tree("infra/modules/events.bicep")["resources"]["toFunction"])


def test_filter_operations_equal_watched_operations() -> None:
    events = tree("infra/modules/events.bicep")
    (advanced,) = _subscription()["properties"]["filter"]["advancedFilters"]
    assert advanced["operatorType"] == "StringIn" and advanced["key"] == "data.operationName"
    values = advanced["values"]
    operations = events["variables"][values]["value"] if isinstance(values, str) else values
    assert sorted(operations) == sorted(WATCHED_OPERATIONS)
    assert len(operations) == len(set(operations))


def test_only_success_events_reach_the_function() -> None:
    properties = _subscription()["properties"]
    assert sorted(properties["filter"]["includedEventTypes"]) == sorted(ARM_EVENT_TYPES)
    destination = properties["destination"]
    assert destination["endpointType"] == "AzureFunction"
    assert destination["properties"]["resourceId"].endswith("/functions/on_resource_event")


def test_retries_and_dead_letters() -> None:
    properties = _subscription()["properties"]
    assert properties["retryPolicy"]["maxDeliveryAttempts"] >= 10
    dead_letter = properties["deadLetterWithResourceIdentity"]
    assert dead_letter["identity"]["type"] == "UserAssigned"
    assert dead_letter["deadLetterDestination"]["endpointType"] == "StorageBlob"


def test_system_topic_is_for_subscription_arm_events() -> None:
    topic = resource_config(tree("infra/modules/events.bicep")["resources"]["topic"])
    assert topic["location"] == "global"
    assert topic["properties"]["topicType"] == "Microsoft.Resources.Subscriptions"
