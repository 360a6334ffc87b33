"""ARM events from emulator writes: shape like the documented samples, routing, delivery and the CLI sender."""
from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from azure.mgmt.cognitiveservices.models import Account, AccountProperties, NetworkRuleSet

from localdev.arm_emulator import ArmEmulator, WriteEvent
from localdev.arm_emulator.model import utcnow
from localdev.arm_events import (
    DELETE_SUCCESS,
    WRITE_SUCCESS,
    DeliveryError,
    EventRouter,
    http_deliverer,
    to_cloud_event,
    to_event_grid,
)
from tests.helpers.emulator import ACCOUNT, RG, SUB, Raw, base_scenario

REPO = Path(__file__).resolve().parents[2]
EVENTS = REPO / "tests" / "fixtures" / "events"
OID = "http://schemas.microsoft.com/identity/claims/objectidentifier"
TID = "http://schemas.microsoft.com/identity/claims/tenantid"
UPN = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn"
LOCKDOWN = Account(properties=AccountProperties(public_network_access="Disabled",
                                                network_acls=NetworkRuleSet(default_action="Deny")))
PORTAL_APP_ID = "c44b4083-3bb0-49c1-b47d-974e53cbdf3c"


def sample(name: str) -> dict[str, Any]:
    return json.loads((EVENTS / f"{name}.json").read_text())[0]


class Router:
    """Start EventRouters on the shared emulator and unhook them afterwards (it has no unsubscribe)."""

    def __init__(self, emu: ArmEmulator) -> None:
        self.emu = emu
        self.routers: list[EventRouter] = []

    def __call__(self, deliver: Any = None, **kw: Any) -> tuple[EventRouter, list[dict[str, Any]]]:
        got: list[dict[str, Any]] = []
        router = EventRouter(self.emu, deliver or got.append, **kw).start()
        self.routers.append(router)
        return router, got

    def close(self) -> None:
        for r in self.routers:
            r.stop()
            if r._on_write in self.emu._callbacks:
                self.emu._callbacks.remove(r._on_write)


@pytest.fixture
def route(emu: ArmEmulator) -> Iterator[Router]:
    r = Router(emu)
    yield r
    r.close()


class Webhook:
    """A loopback HTTP server that records POSTs (headers, parsed body) and answers `status`."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], Any, str]] = []
        self.status = 202
        self.reply = b""
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                hook.received.append(({k.lower(): v for k, v in self.headers.items()}, json.loads(raw), self.path))
                self.send_response(hook.status)
                self.send_header("Content-Length", str(len(hook.reply)))
                self.end_headers()
                self.wfile.write(hook.reply)

            def log_message(self, *a: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = (f"http://127.0.0.1:{self.server.server_address[1]}"
                    "/runtime/webhooks/EventGrid?functionName=on_resource_event")

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def webhook() -> Iterator[Webhook]:
    w = Webhook()
    yield w
    w.close()


def _patch_as_user(emu: ArmEmulator, name: str = "Dana Admin", upn: str = "dana@contoso.example") -> str:
    token = emu.user_token(name=name, upn=upn)
    raw = Raw(emu, token=token)
    status, _, _ = raw("PATCH", ACCOUNT, {"properties": {"publicNetworkAccess": "Enabled"}},
                       headers={"x-ms-correlation-request-id": "corr-user"})
    assert status in (200, 202)
    return token


# -- shape -------------------------------------------------------------------------------------------------

def test_sdk_write_event_has_the_sample_shape_and_app_identity(emu, clients, route):
    emu.seed(base_scenario())
    router, got = route()
    clients.cog.accounts.begin_update("rg-ai", "aoai-prod", LOCKDOWN).result()
    assert router.drain()
    assert len(got) == 1 and router.delivered == 1
    event, ref = got[0], sample("arm-write-success-eventgrid")

    assert list(event) == list(ref)                       # same keys, same order
    assert set(ref["data"]) <= set(event["data"])
    assert set(event["data"]) - set(ref["data"]) == {"httpRequest"}
    assert set(event["data"]["authorization"]) >= set(ref["data"]["authorization"])
    assert event["eventType"] == WRITE_SUCCESS
    assert event["subject"] == event["data"]["resourceUri"] == ACCOUNT
    assert event["topic"] == f"/subscriptions/{SUB}"
    assert event["dataVersion"] == "2" and event["metadataVersion"] == "1"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z", event["eventTime"])
    data = event["data"]
    assert data["operationName"] == "Microsoft.CognitiveServices/accounts/write"
    assert data["authorization"]["action"] == data["operationName"]
    assert data["authorization"]["scope"] == ACCOUNT
    assert data["resourceProvider"] == "Microsoft.CognitiveServices"
    assert data["status"] == "Succeeded" and data["subscriptionId"] == SUB
    assert data["tenantId"] == emu.app_identity.tenant_id

    claims = data["claims"]
    ident = emu.app_identity
    assert claims[OID] == ident.object_id and claims["appid"] == ident.client_id
    assert claims[TID] == ident.tenant_id and claims["xms_mirid"] == ident.mi_resource_id
    assert claims["idtyp"] == "app"
    assert not {"oid", "tid", "upn", "sub"} & set(claims)          # short names are mapped, like ARM does
    assert all(isinstance(v, str) for v in claims.values())
    assert list(claims)[:5] == ["aud", "iss", "iat", "nbf", "exp"]
    assert data["authorization"]["evidence"]["principalType"] == "ServicePrincipal"
    assert data["authorization"]["evidence"]["principalId"] == ident.object_id.replace("-", "")

    http = data["httpRequest"]   # an update carries the request
    assert http["method"] == "PATCH" and http["url"].startswith(f"{emu.url}{ACCOUNT}?api-version=")
    assert http["clientIpAddress"] == "127.0.0.1" and http["clientRequestId"]
    assert data["correlationId"] == [r for r in emu.requests if r.kind == "write"][0].correlation_id


def test_user_write_carries_name_and_upn(emu, route):
    emu.seed(base_scenario())
    emu.config.account_lro = "sync"
    router, got = route()
    token = _patch_as_user(emu, name="Robin Ops", upn="robin@contoso.example")
    assert router.drain()
    [event] = got
    claims = event["data"]["claims"]
    assert claims["name"] == "Robin Ops"
    assert claims[UPN] == "robin@contoso.example"
    assert claims["appid"] == PORTAL_APP_ID and claims["idtyp"] == "user"
    assert claims["http://schemas.microsoft.com/claims/authnmethodsreferences"] == "pwd,mfa"
    assert event["data"]["correlationId"] == "corr-user"
    assert event["data"]["authorization"]["evidence"]["principalType"] == "User"
    assert token not in json.dumps(event) and token.split(".")[2] not in json.dumps(event)   # never the token


def test_create_then_delete(emu, clients, route):
    emu.seed({"resourceGroups": [RG]})
    emu.config.account_lro = "sync"
    router, got = route()
    acct = clients.cog.accounts.begin_create("rg-ai", "ais-1", Account(
        kind="AIServices", location="eastus", sku={"name": "S0"},
        properties=AccountProperties(custom_sub_domain_name="ais-1"))).result()
    clients.cog.accounts.begin_delete("rg-ai", "ais-1").result()
    assert router.drain()
    assert [e["eventType"] for e in got] == [WRITE_SUCCESS, DELETE_SUCCESS]
    create, delete = got
    assert create["data"]["httpRequest"] == {}                  # a create carries no request, like a capture
    ref = sample("arm-delete-success-eventgrid")
    assert list(delete) == list(ref)
    assert set(delete["data"]) == set(ref["data"])
    assert set(delete["data"]["httpRequest"]) == set(ref["data"]["httpRequest"])
    assert delete["data"]["httpRequest"]["method"] == "DELETE"
    assert delete["data"]["operationName"] == "Microsoft.CognitiveServices/accounts/delete"
    assert delete["subject"] == acct.id


def test_filter_by_operation_and_success_only(emu, clients, route):
    emu.seed({"resourceGroups": [RG]})
    emu.config.account_lro = "sync"
    deletes, got = route(operations=["MICROSOFT.COGNITIVESERVICES/accounts/DELETE"])
    everything, all_events = route()
    clients.cog.accounts.begin_create("rg-ai", "ais-2", Account(
        kind="AIServices", location="eastus", sku={"name": "S0"},
        properties=AccountProperties(custom_sub_domain_name="ais-2"))).result()
    clients.cog.accounts.begin_delete("rg-ai", "ais-2").result()
    # a write ARM rejects raises no event
    assert Raw(emu)("PATCH", f"{RG}/providers/Microsoft.CognitiveServices/accounts/missing", {})[0] == 404
    assert deletes.drain() and everything.drain()
    assert [e["eventType"] for e in got] == [DELETE_SUCCESS]
    assert len(all_events) == 2


def test_cloud_event_schema(emu, route):
    emu.seed(base_scenario())
    emu.config.account_lro = "sync"
    router, got = route(schema="cloudevents")
    _patch_as_user(emu)
    assert router.drain()
    [ce] = got
    ref = json.loads((EVENTS / "arm-write-success-cloudevent.json").read_text())[0]
    assert set(ce) == set(ref)
    assert ce["specversion"] == "1.0" and ce["type"] == WRITE_SUCCESS
    assert ce["source"] == f"/subscriptions/{SUB}" and ce["subject"] == ACCOUNT
    assert set(ref["data"]) <= set(ce["data"])


def test_to_cloud_event_maps_the_envelope():
    eg = sample("arm-write-success-eventgrid")
    ce = to_cloud_event(eg)
    ref = json.loads((EVENTS / "arm-write-success-cloudevent.json").read_text())[0]
    assert ce == ref


def test_only_successful_writes_convert():
    w = WriteEvent("Microsoft.CognitiveServices/accounts/write", ACCOUNT, "PUT", 409, {}, "c", utcnow())
    with pytest.raises(ValueError):
        to_event_grid(w)
    w.status = 200
    assert to_event_grid(w, topic=f"/subscriptions/{SUB}/resourceGroups/rg-ai")["topic"].endswith("/rg-ai")


# -- delivery ----------------------------------------------------------------------------------------------

def test_drain_waits_for_paused_delivery(emu, route):
    emu.seed(base_scenario())
    emu.config.account_lro = "sync"
    router, got = route()
    router.pause()
    _patch_as_user(emu)
    _patch_as_user(emu)
    assert router.drain(timeout=0.2) is False
    assert got == [] and router.pending == 2
    router.resume()
    assert router.drain()
    assert len(got) == 2 and router.delivered == 2 and router.pending == 0


def test_failing_delivery_does_not_stop_later_ones(emu, route):
    emu.seed(base_scenario())
    emu.config.account_lro = "sync"
    delivered: list[dict[str, Any]] = []
    calls = {"n": 0}

    def flaky(event: dict[str, Any]) -> None:
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("subscriber down")
        delivered.append(event)

    router, _ = route(flaky)
    _patch_as_user(emu)
    _patch_as_user(emu)
    router.publish(dict(router.events[-1]))    # a duplicate, as Event Grid may deliver
    assert router.drain()
    assert router.failures == 1 and router.delivered == 2
    assert delivered[0]["id"] == delivered[1]["id"]


def test_delivery_runs_off_the_request_thread(emu, route):
    emu.seed(base_scenario())
    emu.config.account_lro = "sync"
    gate = threading.Event()
    threads: list[str] = []

    def slow(event: dict[str, Any]) -> None:
        threads.append(threading.current_thread().name)
        gate.wait(5)

    router, _ = route(slow)
    _patch_as_user(emu)          # returns although the deliverer blocks
    gate.set()
    assert router.drain()
    assert threads == ["arm-event-router"]


def test_http_deliverer_posts_like_event_grid(webhook):
    event = sample("arm-write-success-eventgrid")
    http_deliverer(webhook.url)(event)
    headers, body, path = webhook.received[0]
    assert body == [event]
    assert headers["aeg-event-type"] == "Notification"
    assert headers["content-type"].startswith("application/json")
    assert path.endswith("/runtime/webhooks/EventGrid?functionName=on_resource_event")

    ce = to_cloud_event(event)
    http_deliverer(webhook.url)(ce)
    headers, body, _ = webhook.received[1]
    assert headers["content-type"].startswith("application/cloudevents+json")
    assert body == ce

    webhook.status = 500
    with pytest.raises(DeliveryError) as info:
        http_deliverer(webhook.url)(event)
    assert info.value.status == 500


def test_router_to_webhook_end_to_end(emu, route, webhook):
    emu.seed(base_scenario())
    emu.config.account_lro = "sync"
    router, _ = route(http_deliverer(webhook.url), operations=["Microsoft.CognitiveServices/accounts/write"])
    _patch_as_user(emu)
    assert router.drain()
    [(headers, body, _)] = webhook.received
    assert headers["aeg-event-type"] == "Notification"
    assert body[0]["subject"] == ACCOUNT and body[0]["data"]["claims"][UPN] == "dana@contoso.example"


# -- CLI -----------------------------------------------------------------------------------------------------

def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "localdev.send_event", *args], cwd=REPO, capture_output=True,
                          text=True, timeout=60)


def test_send_event_cli_sample_with_subject_and_operation(webhook):
    r = _cli("arm-write-success-eventgrid", "--url", webhook.url, "--subject", ACCOUNT,
             "--operation", "Microsoft.CognitiveServices/accounts/write")
    assert r.returncode == 0, r.stderr
    assert "202" in r.stdout
    headers, body, _ = webhook.received[0]
    assert headers["aeg-event-type"] == "Notification"
    [event] = body
    assert event["subject"] == event["data"]["resourceUri"] == ACCOUNT
    assert event["data"]["operationName"] == "Microsoft.CognitiveServices/accounts/write"
    assert event["data"]["authorization"]["scope"] == ACCOUNT
    assert event["data"]["subscriptionId"] == SUB
    assert event["id"] == sample("arm-write-success-eventgrid")["id"]   # verbatim unless --fresh


def test_send_event_cli_cloudevents_validation_and_failures(webhook, tmp_path):
    r = _cli(str(EVENTS / "arm-delete-success-eventgrid.json"), "--url", webhook.url, "--cloudevents", "--fresh")
    assert r.returncode == 0, r.stderr
    headers, body, _ = webhook.received[-1]
    assert headers["content-type"].startswith("application/cloudevents+json")
    assert body["specversion"] == "1.0" and body["type"] == DELETE_SUCCESS
    assert body["id"] != sample("arm-delete-success-eventgrid")["id"]

    webhook.status, webhook.reply = 200, b'{"validationResponse": "512d38b6"}'
    r = _cli("subscription-validation", "--url", webhook.url)
    assert r.returncode == 0 and "validationResponse" in r.stdout
    assert webhook.received[-1][0]["aeg-event-type"] == "SubscriptionValidation"

    recorded = tmp_path / "two.json"
    recorded.write_text(json.dumps([sample("arm-write-success-eventgrid"), sample("arm-delete-success-eventgrid")]))
    webhook.status, webhook.reply = 500, b"boom"
    before = len(webhook.received)
    r = _cli(str(recorded), "--url", webhook.url)
    assert r.returncode == 1
    assert len(webhook.received) == before + 2 and r.stdout.count("500") == 2   # one request per event

    assert _cli("no-such-sample", "--url", webhook.url).returncode != 0
