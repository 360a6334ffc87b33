"""Property tests for triage: any JSON value, and real samples broken at random, give a Target or an Ignored
with a documented reason, never an exception; a Target's ID parses and an account target is in scope."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from remediation.core import triage as events
from remediation.core.ids import parse_resource_id, parse_scope
from remediation.core.operations import WATCHED_OPERATIONS, TargetKind
from remediation.core.triage import IGNORE_REASONS, Ignored, Principal, Target

SAMPLES = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "events"
SUB = "00000000-1111-2222-3333-444444444444"
RG = f"/subscriptions/{SUB}/resourceGroups/rg-ai"
ACCOUNT = f"{RG}/providers/Microsoft.CognitiveServices/accounts/aoai-prod"
SCOPES = [parse_scope(RG)]
OWN = Principal(object_id="7d2b1c4e-0b5f-4e1a-8c9d-0e1f2a3b4c5d", client_id="5a0c6f3e-8f57-4a0a-9d3b-2f8f1a2b3c4d")


def _load_samples() -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for path in sorted(SAMPLES.glob("*.json")):
        body = json.loads(path.read_text())
        found.extend(e for e in (body if isinstance(body, list) else [body]) if isinstance(e, dict))
    return found


REAL = _load_samples()


def _cognitive_variants() -> list[dict[str, Any]]:
    """Samples that do reach a target, so mutations exercise the deep paths too."""
    variants = []
    for event in REAL:
        data = event.get("data")
        if not isinstance(data, dict):
            continue
        event_type = event.get("eventType") or event.get("type")
        if "operationName" in data and event_type in events.ARM_EVENT_TYPES:
            for operation in WATCHED_OPERATIONS:
                variant = copy.deepcopy(event)
                kind = operation.rsplit("/", 1)[0]
                namespace, *types = kind.split("/")
                rid = RG + f"/providers/{namespace}" + "".join(f"/{t}/n{i}" for i, t in enumerate(types))
                variant["subject"] = rid
                variant["data"]["resourceUri"] = rid
                variant["data"]["operationName"] = operation
                variants.append(variant)
        elif "resourceInfo" in data:
            variant = copy.deepcopy(event)
            if event_type == events.NOTIFICATION_EVENT_TYPES[1]:  # a deleted account is not a target
                endpoint = RG + "/providers/Microsoft.Network/privateEndpoints/pe1"
                variant["subject"] = endpoint
                variant["data"]["resourceInfo"] = {"id": endpoint, "type": "Microsoft.Network/privateEndpoints"}
            else:
                variant["subject"] = ACCOUNT
                variant["data"]["resourceInfo"] = {"id": ACCOUNT, "type": "Microsoft.CognitiveServices/accounts",
                                                   "properties": {"publicNetworkAccess": "Enabled"}}
            variants.append(variant)
    return variants


SEEDS = REAL + _cognitive_variants()

json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=40)
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=20), children, max_size=6),
    max_leaves=30,
)
interesting_text = st.sampled_from([
    "", "Succeeded", "Failed", ACCOUNT, ACCOUNT + "/", ACCOUNT.upper(), "/subscriptions/x", "1.0",
    *events.ARM_EVENT_TYPES, *events.NOTIFICATION_EVENT_TYPES, *WATCHED_OPERATIONS,
    "Microsoft.EventGrid.SubscriptionValidationEvent", "x" * 5000,
])
replacement = json_values | interesting_text


def check(result: object, scopes: list) -> None:
    assert isinstance(result, (Target, Ignored))
    if isinstance(result, Ignored):
        assert result.reason in IGNORE_REASONS
        assert isinstance(result.detail, str) and len(result.detail) <= 450
        assert result.event_id is None or (isinstance(result.event_id, str) and len(result.event_id) <= 256)
        return
    assert parse_resource_id(str(result.resource_id)) == result.resource_id
    assert result.resource_id.resource_group is not None
    if result.kind is TargetKind.ACCOUNT:
        assert result.resource_id.is_type("Microsoft.CognitiveServices/accounts")
        assert any(result.resource_id.is_within(scope) for scope in scopes)
    json.dumps(result.event.to_json())
    if result.actor is not None:
        json.dumps(result.actor.to_json())
    if result.event_time is not None:
        assert result.event_time.tzinfo is not None


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(json_values)
def test_any_json_value(value: Any) -> None:
    check(events._triage(value, scopes=SCOPES, own=OWN), SCOPES)  # the inner function: no safety net
    check(events.triage(value, scopes=SCOPES, own=OWN), SCOPES)


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.sampled_from(["id", "eventType", "type", "specversion", "subject", "eventTime", "time",
                                        "data", "EVENTTYPE", "Data"]), replacement, max_size=8))
def test_any_envelope(value: dict[str, Any]) -> None:
    check(events._triage(value, scopes=SCOPES, own=OWN), SCOPES)


def _paths(node: Any, prefix: tuple = ()) -> list[tuple]:
    """Every key/index path into a JSON value."""
    found = []
    if isinstance(node, dict):
        for key, child in node.items():
            found.append((*prefix, key))
            found.extend(_paths(child, (*prefix, key)))
    elif isinstance(node, list):
        for index, child in enumerate(node):
            found.append((*prefix, index))
            found.extend(_paths(child, (*prefix, index)))
    return found


@st.composite
def mutated_samples(draw: st.DrawFn) -> dict[str, Any]:
    event = copy.deepcopy(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        paths = _paths(event)
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent: Any = event
        for step in path[:-1]:
            parent = parent[step]
        if draw(st.booleans()) and isinstance(parent, dict):
            del parent[path[-1]]
        else:
            parent[path[-1]] = draw(replacement)
    return event


@settings(max_examples=600, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_samples(), st.sampled_from([SCOPES, [], [parse_scope(f"/subscriptions/{SUB}")]]),
       st.sampled_from([OWN, None, Principal(None, None)]))
def test_mutated_real_samples(event: dict[str, Any], scopes: list, own: Principal | None) -> None:
    check(events._triage(event, scopes=scopes, own=own), scopes)


@settings(max_examples=200)
@given(st.sampled_from(_cognitive_variants()))
def test_unbroken_variants_reach_a_target(event: dict[str, Any]) -> None:
    result = events._triage(event, scopes=SCOPES, own=None)
    assert isinstance(result, Target), result
    check(result, SCOPES)


@settings(max_examples=300)
@given(st.dictionaries(st.text(max_size=80), json_values, max_size=8), json_values, json_values)
def test_is_own_write_never_raises(claims: dict[str, Any], object_id: Any, client_id: Any) -> None:
    own = Principal(object_id=object_id if isinstance(object_id, str) else None,
                    client_id=client_id if isinstance(client_id, str) else None)
    assert events.is_own_write(claims, own) in (True, False)
