"""The local Event Grid topic: the real EventGridPublisherClient publishes to it with the emulator's identity."""
from __future__ import annotations

import http.client
import json
import ssl
from collections.abc import Iterator
from typing import Any

import pytest
from azure.core.exceptions import ClientAuthenticationError, HttpResponseError

from localdev.arm_emulator import ArmEmulator
from localdev.eventgrid_topic import LocalTopic


@pytest.fixture
def topic(emu: ArmEmulator) -> Iterator[LocalTopic]:
    with LocalTopic(emu.cert_dir, emulator=emu) as t:
        yield t


def _post(topic: LocalTopic, body: bytes, headers: dict[str, str], path: str = "/api/events?api-version=2018-01-01"
          ) -> tuple[int, Any]:
    ctx = ssl.create_default_context(cafile=topic.ca_path)
    conn = http.client.HTTPSConnection("127.0.0.1", topic.port, context=ctx, timeout=10)
    try:
        conn.request("POST", path, body=body, headers=headers)
        resp = conn.getresponse()
        raw = resp.read()
        return resp.status, json.loads(raw) if raw else None
    finally:
        conn.close()


def _event(**over: Any) -> dict[str, Any]:
    e = {"id": "e1", "subject": "/drift/aoai-prod", "eventType": "Contoso.Drift.Remediated",
         "eventTime": "2025-01-01T00:00:00.0000000Z", "dataVersion": "1.0", "data": {"ok": True}}
    e.update(over)
    return e


def test_publisher_client_sends_event_grid_event(emu, topic, sdk_env):
    from azure.eventgrid import EventGridEvent, EventGridPublisherClient
    from azure.identity import DefaultAzureCredential

    client = EventGridPublisherClient(topic.endpoint, DefaultAzureCredential())
    client.send(EventGridEvent(subject="/drift/aoai-prod", event_type="Contoso.Drift.Remediated",
                               data={"account": "aoai-prod", "changes": 2}, data_version="1.0"))
    client.close()

    [event] = topic.events
    assert event["subject"] == "/drift/aoai-prod"
    assert event["eventType"] == "Contoso.Drift.Remediated"
    assert event["data"] == {"account": "aoai-prod", "changes": 2}
    assert event["topic"] == topic.topic_id
    [req] = topic.requests
    assert req["api_version"] == "2018-01-01"
    assert req["content_type"].startswith("application/json")
    assert req["caller"]["appid"] == emu.app_identity.client_id
    assert req["caller"]["aud"].rstrip("/") == "https://eventgrid.azure.net"
    # the token came from the emulator's managed identity endpoint, for Event Grid's audience
    assert any(r.kind == "token" for r in emu.requests)


def test_publisher_client_sends_cloud_events(emu, topic, sdk_env):
    from azure.core.messaging import CloudEvent
    from azure.eventgrid import EventGridPublisherClient
    from azure.identity import DefaultAzureCredential

    client = EventGridPublisherClient(topic.endpoint, DefaultAzureCredential())
    client.send([CloudEvent(source="/drift", type="Contoso.Drift.Remediated", data={"n": 1}),
                 CloudEvent(source="/drift", type="Contoso.Drift.Remediated", data={"n": 2})])
    client.close()

    events = topic.events
    assert [e["data"] for e in events] == [{"n": 1}, {"n": 2}]
    assert all(e["specversion"] == "1.0" and e["source"] == "/drift" for e in events)
    assert topic.requests[0]["content_type"].startswith("application/cloudevents-batch+json")


def test_no_token_is_401(topic):
    status, body = _post(topic, json.dumps([_event()]).encode(), {"Content-Type": "application/json"})
    assert status == 401
    assert body["error"]["code"] == "Unauthorized"
    assert topic.events == []


def test_token_for_another_audience_is_401(emu, topic):
    arm_token = emu.app_token()   # audience: Resource Manager (the emulator), not Event Grid
    status, _ = _post(topic, json.dumps([_event()]).encode(),
                      {"Content-Type": "application/json", "Authorization": f"Bearer {arm_token}"})
    assert status == 401
    assert topic.events == []


def test_sdk_without_identity_fails_with_auth_error(emu, topic, sdk_env):
    from azure.core.credentials import AccessToken
    from azure.eventgrid import EventGridPublisherClient

    class WrongAudience:
        def get_token(self, *scopes: str, **kw: Any) -> AccessToken:
            return AccessToken(emu.app_token(), 2**31)

    client = EventGridPublisherClient(topic.endpoint, WrongAudience(), retry_total=0)
    with pytest.raises(ClientAuthenticationError):
        client.send(_event())
    client.close()


def test_bad_json_is_400(emu, topic):
    token = emu.tokens.app_token("https://eventgrid.azure.net")[0]
    status, body = _post(topic, b"[{not json", {"Content-Type": "application/json",
                                                  "Authorization": f"Bearer {token}"})
    assert status == 400
    assert body["error"]["code"] == "BadRequest"
    status, _ = _post(topic, json.dumps([{"id": "x"}]).encode(), {"Content-Type": "application/json",
                                                                   "Authorization": f"Bearer {token}"})
    assert status == 400   # required properties missing
    assert topic.events == []


def test_body_over_one_megabyte_is_413(emu, topic):
    token = emu.tokens.app_token("https://eventgrid.azure.net")[0]
    big = json.dumps([_event(data={"blob": "x" * (1024 * 1024)})]).encode()
    status, body = _post(topic, big, {"Content-Type": "application/json", "Authorization": f"Bearer {token}"})
    assert status == 413
    assert topic.events == []


def test_unverified_mode_checks_audience_only(emu, tmp_path):
    # Without an emulator the topic decodes the token's claims without checking the signature.
    with LocalTopic(emu.cert_dir) as t:
        good = emu.tokens.app_token("https://eventgrid.azure.net")[0]
        status, body = _post(t, json.dumps([_event()]).encode(),
                             {"Content-Type": "application/json", "Authorization": f"Bearer {good}"})
        assert (status, body) == (200, None)
        status, _ = _post(t, json.dumps([_event()]).encode(),
                          {"Content-Type": "application/json", "Authorization": f"Bearer {emu.app_token()}"})
        assert status == 401
        assert len(t.events) == 1
        t.clear()
        assert t.events == []


def test_sdk_error_surfaces_for_bad_event(emu, topic, sdk_env):
    from azure.eventgrid import EventGridPublisherClient
    from azure.identity import DefaultAzureCredential

    client = EventGridPublisherClient(topic.endpoint, DefaultAzureCredential())
    with pytest.raises(HttpResponseError) as info:
        client.send([{"id": "1", "subject": "s", "eventType": "t", "data": {}, "dataVersion": "1"}])  # no eventTime
    assert info.value.status_code == 400
    client.close()
