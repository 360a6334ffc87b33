"""No secret leaves the app in a log line or an audit record, and the HTTP functions that change things
need a function key.

A representative set of flows (HTTP remediate, the event loop, the sweep) runs with a handler on the root
logger capturing every record at DEBUG from every logger (what the app, the SDKs and azure-core log by
default at that level; no `logging_enable`). Every captured line and every audit row written meanwhile must
be free of: the emulator's access tokens (anything shaped like a JWT), the Azurite account key, the managed
identity endpoint's IDENTITY_HEADER secret, and claim-set keys such as the objectidentifier claim URI.

Then one regression test (or a few) per defect that a review reading the code as an attacker would found;
each failed before its fix:

1. the exemption is not self-service: permanent only through REMEDIATION_EXEMPT_ACCOUNT_IDS, tag dates at most
   REMEDIATION_EXEMPT_MAX_DAYS ahead, other values named in the record; an exempt account is observed and planned,
   its drift logged and published: test_a_tag_an_account_owner_sets_does_not_exempt_beyond_the_rule,
   test_an_exempt_account_is_observed_planned_and_its_drift_reported
2. the circuit breaker limits the rate of fixes, not the fix: public access and the default action are closed
   again after a growing delay, by a work item queued for the end of each back-off, one alert per episode; and
   POST /api/remediate takes the worker's lease:
   test_the_circuit_breaker_slows_fixes_down_but_never_leaves_the_account_open,
   test_an_http_call_and_a_queue_item_never_both_remediate_one_drift
3. the audit trail under pressure: records are bounded, the current record is written first and the backlog
   best-effort, a record refused for good is dropped with one error log, every record the buffer drops is logged:
   test_an_account_with_a_thousand_leftover_connections_is_recorded_and_does_not_block_later_records,
   test_a_record_the_table_refuses_for_good_is_dropped_with_one_error_and_later_records_are_written,
   test_every_record_the_unwritten_buffer_drops_is_logged
4. look-alike IDs (the Kelvin sign in `rg-networK`) are different IDs: only ASCII letters' case is ignored, as
   every ARM runtime does; records carry the ID Resource Manager returns, and nothing is written when it differs
   from the ID the lease was taken on: test_a_look_alike_resource_group_is_a_different_resource_group,
   test_an_event_about_a_look_alike_account_is_out_of_scope,
   test_a_pending_connection_from_a_look_alike_subnet_is_not_approved,
   test_ids_that_differ_by_a_unicode_case_pair_are_different (property),
   test_ids_that_differ_by_ascii_case_only_are_the_same (property),
   test_remediate_refuses_a_look_alike_of_an_in_scope_id,
   test_a_record_is_kept_under_the_id_resource_manager_returns_and_nothing_is_written_when_it_differs
5. events folded into one reconcile: the record lists each event's actor and operation (`actors`, oldest first)
   and marks which actor's change produced which finding (`causedBy`) where that can be told:
   test_events_folded_into_one_reconcile_name_each_actor_and_what_each_changed
6. the Resource Notification shortcut (skip the read) runs for account notifications only:
   test_a_private_endpoint_notification_with_a_kind_is_queued_not_dropped_unread
7. settings that receive the identity's tokens name hosts of known Azure clouds or loopback only:
   test_a_setting_that_would_send_a_token_elsewhere_is_invalid, test_hosts_of_known_azure_clouds_and_loopback_are_valid
8. HTTP: a repeated key in the body is refused; the anonymous health answer says status and version only:
   test_a_repeated_key_is_refused_not_read_as_its_last_value, test_health_answers_status_and_version_only
9. the local CA's key is created 0600, never world-readable in between:
   test_the_local_ca_key_is_created_private_not_chmod_ed_afterwards
10. `scan`, the sweep and `fix` apply one exemption rule (desired.exemption):
   test_scan_and_the_sweep_apply_the_same_exemption_rule_as_fix
"""

from __future__ import annotations

import base64
import importlib
import io
import json
import logging
import os
import re
import socket
import stat
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import azure.functions as func
import pytest
from azure.core.exceptions import ServiceRequestError
from azure.data.tables import TableClient
from azure.storage.queue import QueueClient
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from localdev.arm_emulator import Fault
from localdev.arm_emulator.authorization import OWNER
from localdev.arm_emulator.certs import ensure_certs
from localdev.arm_emulator.tokens import user_object_id
from localdev.azurite import ACCOUNT_KEY
from localdev.estate import OPENAI_ZONE, SUBNET_ID, Estate, account_id, rg_id
from localdev.eventgrid_topic import LocalTopic
from remediation.arm.apply import refusal
from remediation.arm.clients import ArmClients
from remediation.core.desired import desired_state
from remediation.core.findings import FindingCode
from remediation.core.ids import parse_account_id, parse_resource_id
from remediation.core.model import Account, ActionKind, Mode, Observation, Outcome, PrivateEndpoint, Trigger
from remediation.core.naming import private_endpoint_id
from remediation.core.plan import Action, plan
from remediation.core.record import AuditRecord
from remediation.core.settings import Settings, SettingsError
from remediation.core.triage import Ignored, IgnoreReason, triage
from remediation.core.write_scope import WriteScope
from remediation.runtime import http_api as api
from remediation.runtime.cli import main as cli_main
from remediation.runtime.intake import QUEUED
from remediation.runtime.sweep import Sweeper
from remediation.store import audit
from remediation.store.audit import AuditTable
from remediation.store.queue import WorkItem
from remediation.store.storage import WORK_QUEUE, Storage, table_key
from tests.conftest import Stack
from tests.helpers.live import Live, lease_taken, wait_until

AOAI = account_id("aoai-prod")
JWT = re.compile(r"eyJ[\w-]+\.eyJ[\w-]+\.[\w-]+")
CLAIM_KEYS = ("http://schemas.microsoft.com/identity/claims/objectidentifier",
              "http://schemas.microsoft.com/identity/claims/tenantid",
              "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn",
              "http://schemas.microsoft.com/claims/authnmethodsreferences")


class Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = record.getMessage()
        except Exception:  # noqa: BLE001 - a record whose arguments do not format: keep them raw
            text = f"{record.msg!r} {record.args!r}"
        if record.exc_info:
            text += "\n" + logging.Formatter().formatException(record.exc_info)
        self.lines.append(f"{record.name}: {text}")


@pytest.fixture
def captured() -> Iterator[Capture]:
    handler = Capture()
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def _secrets(stack: Stack) -> dict[str, str]:
    return {"Azurite account key": ACCOUNT_KEY, "IDENTITY_HEADER": stack.emulator.identity_header,
            "the app's access token": stack.emulator.app_token(),
            "a person's access token": stack.emulator.user_token()}


def _audit_rows(stack: Stack) -> list[str]:
    table = TableClient.from_connection_string(stack.azurite.connection_string, stack.table)
    return [json.dumps(dict(entity), default=str) for entity in table.list_entities()]


def _leaks(text: str, secrets: dict[str, str]) -> list[str]:
    found = [name for name, value in secrets.items() if value and value in text]
    found += [f"JWT {m[:16]}..." for m in JWT.findall(text)]
    found += [key for key in CLAIM_KEYS if key in text]
    return found


def test_no_token_key_or_claim_set_in_any_log_line_or_audit_record(stack: Stack, captured: Capture) -> None:
    stack.seed(Estate().network((OPENAI_ZONE,)).locked("aoai-prod")
               .account("aoai-dev", public_network_access="Enabled", default_action="Allow"))
    live = Live(stack)
    sdk = logging.getLogger("azure")
    assert sdk.level == logging.WARNING, "the app keeps the SDKs' request lines out of its log"
    sdk.setLevel(logging.DEBUG)  # the worst case: someone turned the SDKs' logging on
    try:
        # HTTP remediate: a fix, through a throttled read and a failed write on the way
        stack.emulator.add_fault(Fault(method="GET", path=r"/accounts/aoai-dev$", status=429,
                                       headers={"retry-after-ms": "10"}, times=1))
        stack.emulator.add_fault(Fault(method="PUT", path=r"/privateEndpoints/", status=500,
                                       headers={"retry-after-ms": "10"}, times=1))
        request = func.HttpRequest(method="POST", url="/api/remediate",
                                   body=json.dumps({"resourceId": account_id("aoai-dev")}).encode())
        assert live.app.remediate(request).status_code == 200
        history = func.HttpRequest(method="GET", url="/api/remediations", params={"resourceId": AOAI}, body=b"")
        assert live.app.remediations(history).status_code == 200
        # the event loop: a person's write (an event carrying their whole claim set), queued, reconciled
        stack.as_user("PATCH", AOAI, {"properties": {"publicNetworkAccess": "Enabled"}})
        live.settle()
        assert stack.resource(AOAI)["properties"]["publicNetworkAccess"] == "Disabled"
        # the sweep, and its work
        stack.as_user("PATCH", AOAI, {"properties": {"networkAcls": {"defaultAction": "Allow"}}})
        live.capture_only = True
        live.app.sweep(None)
        live.settle()
    finally:
        live.close()
        sdk.setLevel(logging.WARNING)

    secrets = _secrets(stack)
    assert len(captured.lines) > 50, "the flows logged (at DEBUG, every logger)"
    loggers = {line.split(":", 1)[0] for line in captured.lines}
    assert {"remediation.events", "azure.core.pipeline.policies.http_logging_policy"} <= loggers
    assert any(name.startswith("remediation.audit") for name in loggers), "audit records go to the log too"
    leaking_lines = {line[:300]: _leaks(line, secrets) for line in captured.lines if _leaks(line, secrets)}
    assert leaking_lines == {}
    rows = _audit_rows(stack)
    assert len(rows) >= 3
    leaking_rows = {row[:300]: _leaks(row, secrets) for row in rows if _leaks(row, secrets)}
    assert leaking_rows == {}


def test_the_http_functions_that_change_or_show_things_need_a_function_key(stack: Stack) -> None:
    stack.apply_env()
    sys.modules.pop("function_app", None)
    app = importlib.import_module("function_app").app
    functions = {f.get_function_name(): f for f in app.get_functions()}  # once per import of the module

    def auth_level(name: str) -> str | None:
        [trigger] = [b for b in json.loads(functions[name].get_function_json())["bindings"]
                     if b["type"] == "httpTrigger"]
        return trigger.get("authLevel")

    assert auth_level("remediate") == "FUNCTION"
    assert auth_level("remediations") == "FUNCTION"
    assert auth_level("health") == "ANONYMOUS"  # tells only whether the settings are valid


# --- Defect 9: the local CA's key ----------------------------------------------------------------

def test_the_local_ca_key_is_created_private_not_chmod_ed_afterwards(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """A key written with the umask's mode and chmod-ed afterwards is world-readable in between; with chmod
    doing nothing, the key files must still be 0600 (created so)."""
    monkeypatch.setattr(os, "chmod", lambda *args, **kwargs: None)
    previous = os.umask(0o022)
    try:
        paths = ensure_certs(tmp_path / "certs")
    finally:
        os.umask(previous)
    assert stat.S_IMODE(paths.ca_key.stat().st_mode) == 0o600
    assert stat.S_IMODE(paths.server_key.stat().st_mode) == 0o600
    assert stat.S_IMODE(paths.ca_cert.stat().st_mode) == 0o644  # the certificates are public


# --- Defect 8: HTTP ------------------------------------------------------------------------------

def _fresh_app(stack: Stack, **settings: str) -> ModuleType:
    return stack.load_app(**settings)


def test_a_repeated_key_is_refused_not_read_as_its_last_value(stack: Stack) -> None:
    """`{"dryRun": true, "dryRun": false}` meant a dry run to whoever read the first key, and ran in enforce mode."""
    stack.seed(Estate().network((OPENAI_ZONE,)).locked("aoai-prod", public_network_access="Enabled"))
    app = _fresh_app(stack)
    body = (f'{{"resourceId": "{AOAI}", "dryRun": true, "dryRun": false}}').encode()

    response = app.remediate(func.HttpRequest(method="POST", url="/api/remediate", body=body))

    assert response.status_code == 400
    assert json.loads(response.get_body())["error"]["code"] == "InvalidJson"
    assert stack.writes() == [] and stack.arm() == []
    nested = b'{"resourceId": {"a": 1, "a": 2}}'
    with pytest.raises(api.ApiError) as caught:
        api.parse_remediate(nested)
    assert caught.value.status == 400


@pytest.mark.parametrize("settings", [{}, {"REMEDIATION_MODE": "sometimes"}], ids=["valid", "invalid"])
def test_health_answers_status_and_version_only(stack: Stack, settings: dict[str, str]) -> None:
    """Anonymous: it must not tell whether the app enforces, nor which settings are wrong."""
    app = _fresh_app(stack, **settings)

    response = app.health(func.HttpRequest(method="GET", url="/api/health", body=b""))

    body = json.loads(response.get_body())
    assert set(body) == {"status", "version"}
    assert (response.status_code, body["status"]) == ((200, "healthy") if not settings else (503, "unhealthy"))


# --- Defect 6: the Resource Notification shortcut --------------------------------------------------

def test_a_private_endpoint_notification_with_a_kind_is_queued_not_dropped_unread(stack: Stack) -> None:
    """The shortcut judges an account's own properties; an endpoint's notification naming any `kind` outside
    REMEDIATION_KINDS was taken for 'not ours' and dropped without a read."""
    stack.seed(Estate().network((OPENAI_ZONE,)).locked("aoai-prod"))
    app = stack.app()
    assert app.stored is not None
    intake = app.stored.intake
    endpoint = f"{rg_id('rg-network')}/providers/Microsoft.Network/privateEndpoints/pe-aoai-prod-existing"
    notification = {
        "id": "notification-1", "topic": "/subscriptions/00000000-0000-0000-0000-000000000001",
        "subject": endpoint, "eventType": "Microsoft.ResourceNotifications.Resources.CreatedOrUpdated",
        "eventTime": "2026-11-26T10:00:00Z", "dataVersion": "1",
        "data": {"resourceInfo": {"id": endpoint, "name": "pe-aoai-prod-existing",
                                  "type": "Microsoft.Network/privateEndpoints", "location": "eastus",
                                  "kind": "anything", "properties": {"subnet": {"id": SUBNET_ID}}},
                 "operationalInfo": {"resourceEventTime": "2026-11-26T10:00:00Z"}},
    }

    assert intake.accept(notification) == QUEUED
    queue = app.stored.storage.queue(WORK_QUEUE)
    mine = [(m, item) for m in queue.receive_messages(max_messages=32)
            if (item := _work_item(m.content)) is not None and item.resource_id == endpoint]
    assert [item.kind for _, item in mine] == ["private-endpoint"]
    queue.delete_message(mine[0][0])


def _work_item(content: str) -> WorkItem | None:
    """A queued message as the queue trigger decodes it (base64), or None for another test's leftover."""
    try:
        return WorkItem.from_message(base64.b64decode(content).decode())
    except ValueError:
        return None


# --- Defect 7: settings that receive the identity's tokens -------------------------------------------

_REQUIRED = {"REMEDIATION_SCOPES": "/subscriptions/00000000-0000-0000-0000-000000000001",
             "AzureWebJobsStorage": "UseDevelopmentStorage=true"}


@pytest.mark.parametrize("name, value", [
    ("REMEDIATION_EVENTGRID_TOPIC_ENDPOINT", "https://attacker.example/api/events"),
    ("REMEDIATION_EVENTGRID_TOPIC_ENDPOINT", "https://topic.westus2-1.eventgrid.azure.net@attacker.example/api/events"),
    ("REMEDIATION_EVENTGRID_TOPIC_ENDPOINT", "https://attacker.example\\@topic.westus2-1.eventgrid.azure.net/api/events"),
    ("REMEDIATION_EVENTGRID_TOPIC_ENDPOINT", "https://eventgrid.azure.net.attacker.example/api/events"),
    ("REMEDIATION_EVENTGRID_TOPIC_ENDPOINT", "https://10.0.0.5/api/events"),
    ("REMEDIATION_ARM_ENDPOINT", "https://attacker.example"),
    ("REMEDIATION_ARM_ENDPOINT", "https://management.azure.com.attacker.example"),
    ("REMEDIATION_ARM_ENDPOINT", "https://management.azure.com:8443"),
    ("AzureWebJobsStorage__accountName", "attacker.example/#"),
    ("AzureWebJobsStorage__accountName", "Stexample"),
    ("AzureWebJobsStorage__accountName", "st"),
    ("AzureWebJobsStorage", "DefaultEndpointsProtocol=https;AccountName=st1;SharedAccessSignature=sv=x;"
                            "TableEndpoint=https://attacker.example/;QueueEndpoint=https://attacker.example/"),
    ("AzureWebJobsStorage", "DefaultEndpointsProtocol=https;AccountName=attacker.example/#;AccountKey=a2V5"),
    ("AzureWebJobsStorage", "DefaultEndpointsProtocol=https;AccountName=st1;AccountKey=a2V5;"
                            "EndpointSuffix=attacker.example"),
])
def test_a_setting_that_would_send_a_token_elsewhere_is_invalid(name: str, value: str) -> None:
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({**_REQUIRED, name: value})
    assert [p.split(":", 1)[0] for p in caught.value.problems] == [name]


@pytest.mark.parametrize("name, value", [
    ("REMEDIATION_EVENTGRID_TOPIC_ENDPOINT", "https://topic.westus2-1.eventgrid.azure.net/api/events"),
    ("REMEDIATION_EVENTGRID_TOPIC_ENDPOINT", "https://topic.usgovvirginia-1.eventgrid.azure.us/api/events"),
    ("REMEDIATION_EVENTGRID_TOPIC_ENDPOINT", "https://topic.chinanorth3-1.eventgrid.azure.cn/api/events"),
    ("REMEDIATION_EVENTGRID_TOPIC_ENDPOINT", "https://127.0.0.1:9443/api/events"),
    ("REMEDIATION_ARM_ENDPOINT", "https://management.usgovcloudapi.net"),
    ("REMEDIATION_ARM_ENDPOINT", "https://management.chinacloudapi.cn/"),
    ("REMEDIATION_ARM_ENDPOINT", "https://localhost:8443"),
    ("REMEDIATION_ARM_ENDPOINT", "https://[::1]:8443"),
    ("AzureWebJobsStorage__accountName", "stremediation01"),
    ("AzureWebJobsStorage", "DefaultEndpointsProtocol=https;AccountName=st1;AccountKey=a2V5;"
                            "EndpointSuffix=core.chinacloudapi.cn"),
    ("AzureWebJobsStorage", "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=a2V5;"
                            "TableEndpoint=http://127.0.0.1:10002/devstoreaccount1;"),
])
def test_hosts_of_known_azure_clouds_and_loopback_are_valid(name: str, value: str) -> None:
    Settings.from_env({**_REQUIRED, name: value})


# --- Defect 4: look-alike IDs ---------------------------------------------------------------------

KELVIN = "\u212a"  # KELVIN SIGN: str.lower() folds it to 'k'; ARM (.NET OrdinalIgnoreCase) does not
SUB = "00000000-0000-0000-0000-000000000001"
REAL_SUBNET = SUBNET_ID  # …/resourceGroups/rg-network/…/subnets/snet-private-endpoints
LOOKALIKE_SUBNET = SUBNET_ID.replace("rg-network", "rg-networ" + KELVIN)


def _settings(**values: str) -> Settings:
    return Settings.from_env({**_REQUIRED, "REMEDIATION_PE_SUBNET_ID": REAL_SUBNET,
                              "REMEDIATION_DNS_ZONE_RESOURCE_GROUP_ID": rg_id("rg-dns"), **values})


def test_a_look_alike_resource_group_is_a_different_resource_group() -> None:
    real, lookalike = parse_resource_id(REAL_SUBNET), parse_resource_id(LOOKALIKE_SUBNET)
    assert real != lookalike and real.key != lookalike.key
    assert not lookalike.is_within(real.resource_group_id)
    assert table_key(lookalike) != table_key(real)  # audit partition, lease row, serving index
    account = parse_account_id(account_id("aoai-work", "rg-network"))
    twin = parse_account_id(account_id("aoai-work", "rg-networ" + KELVIN))
    assert private_endpoint_id(account, real) != private_endpoint_id(twin, real)


def test_an_event_about_a_look_alike_account_is_out_of_scope() -> None:
    twin = account_id("aoai-work", "rg-networ" + KELVIN)
    event = {"id": "e1", "topic": f"/subscriptions/{SUB}", "subject": twin, "dataVersion": "2",
             "eventType": "Microsoft.Resources.ResourceWriteSuccess", "eventTime": "2026-11-26T10:00:00Z",
             "data": {"operationName": "Microsoft.CognitiveServices/accounts/write", "status": "Succeeded",
                      "resourceUri": twin}}
    result = triage(event, scopes=[parse_resource_id(rg_id("rg-network"))], own=None)
    assert isinstance(result, Ignored) and result.reason is IgnoreReason.OUT_OF_SCOPE


def test_a_pending_connection_from_a_look_alike_subnet_is_not_approved() -> None:
    """Any tenant can request a connection to the account; one from a subnet that only looks like the allowed
    one must neither count as serving nor be approved."""
    account_body = {"id": account_id("aoai-prod"), "kind": "OpenAI", "location": "eastus", "properties": {
        "provisioningState": "Succeeded", "publicNetworkAccess": "Disabled", "customSubDomainName": "aoai-prod",
        "networkAcls": {"defaultAction": "Deny"}, "privateEndpointConnections": [{
            "id": account_id("aoai-prod") + "/privateEndpointConnections/foreign",
            "name": "foreign", "properties": {
                "privateEndpoint": {"id": LOOKALIKE_PE},
                "privateLinkServiceConnectionState": {"status": "Pending"}}}]}}
    account = Account.from_arm(account_body)
    endpoint = PrivateEndpoint(parse_resource_id(LOOKALIKE_PE), parse_resource_id(LOOKALIKE_SUBNET), None)
    desired = desired_state(_settings(), "OpenAI", "eastus")

    fix = plan(desired, Observation(account, {endpoint.id: endpoint}, {}))

    assert ActionKind.APPROVE_CONNECTION not in {a.kind for a in fix.actions}
    assert FindingCode.PRIVATE_ENDPOINT_MISSING in {f.code for f in fix.findings}
    scope = WriteScope(account.id, (parse_resource_id(rg_id("rg-ai")),), frozenset({parse_resource_id(REAL_SUBNET)}),
                       frozenset({parse_resource_id(REAL_PE)}), parse_resource_id(rg_id("rg-dns")))
    group = Action(ActionKind.PUT_DNS_ZONE_GROUP, parse_resource_id(LOOKALIKE_PE + "/privateDnsZoneGroups/default"), {})
    assert refusal(scope, group) is not None


REAL_PE = f"{rg_id('rg-network')}/providers/Microsoft.Network/privateEndpoints/pe-aoai-prod-existing"
LOOKALIKE_PE = REAL_PE.replace("rg-network", "rg-networ" + KELVIN)


def _case_pairs() -> st.SearchStrategy[tuple[str, str]]:
    """Two different characters that some Unicode case operation maps to each other (or to one form),
    at least one of them outside ASCII: Kelvin sign and k, long s and S, dotless i and I, À and à…

    ARM keeps the first kind apart (.NET's OrdinalIgnoreCase never folds a non-ASCII character to ASCII) and,
    depending on its runtime's tables, may fold the second; the app compares non-ASCII characters exactly, so
    it never takes two IDs for one that ARM keeps apart (it may keep apart two that ARM folds: out of scope,
    not written)."""
    def related(c: str) -> list[str]:
        forms = {c.lower(), c.upper(), c.casefold(), c.title(), c.swapcase()}
        return sorted(f for f in forms if len(f) == 1 and f != c and not (f.isascii() and c.isascii())
                      and _SEGMENT_CHAR.fullmatch(f) and _SEGMENT_CHAR.fullmatch(c))

    pairs = [(chr(cp), other) for cp in range(0x80, 0x2000) if _SEGMENT_CHAR.fullmatch(chr(cp))
             for other in related(chr(cp))]
    pairs += [(KELVIN, "k"), (KELVIN, "K"), ("\u017f", "s"), ("\u017f", "S"), ("\u0131", "i"), ("\u0131", "I")]
    return st.sampled_from(pairs)


_SEGMENT_CHAR = re.compile(r"[\w\-.()]")


@given(_case_pairs(), st.sampled_from(["resource_group", "name"]))
@hypothesis_settings(max_examples=300, deadline=None)
def test_ids_that_differ_by_a_unicode_case_pair_are_different(pair: tuple[str, str], where: str) -> None:
    a, b = pair
    make = (lambda c: account_id("aoai", f"rg-{c}x")) if where == "resource_group" else \
        (lambda c: account_id(f"aoai-{c}x"))
    first, second = parse_account_id(make(a)), parse_account_id(make(b))
    assert first != second and first.key != second.key and table_key(first) != table_key(second)
    assert not first.is_within(second.resource_group_id) or where == "name"


@given(st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.()", min_size=1,
               max_size=20).filter(lambda s: not s.endswith(".")))
@hypothesis_settings(max_examples=200, deadline=None)
def test_ids_that_differ_by_ascii_case_only_are_the_same(name: str) -> None:
    lower = parse_account_id(account_id("aoai", name.lower()))
    upper = parse_account_id(account_id("aoai", name.upper()))
    assert lower == upper and lower.key == upper.key and table_key(lower) == table_key(upper)
    assert lower.is_within(upper.resource_group_id)


def test_remediate_refuses_a_look_alike_of_an_in_scope_id(stack: Stack) -> None:
    """The emulator, like any str.lower() comparison, takes `rg-networK` (Kelvin) for `rg-network` and would answer
    with the real account; Resource Manager would not. The app must not treat it as in scope at all."""
    stack.seed(Estate().network((OPENAI_ZONE,)).account("aoai-work", resource_group="rg-network",
                                                         public_network_access="Enabled"))
    app = _fresh_app(stack, REMEDIATION_SCOPES=rg_id("rg-network"))
    twin = account_id("aoai-work", "rg-networ" + KELVIN)

    response = app.remediate(func.HttpRequest(method="POST", url="/api/remediate",
                                              body=json.dumps({"resourceId": twin}).encode()))

    assert response.status_code == 403
    assert stack.arm() == []


def test_a_record_is_kept_under_the_id_resource_manager_returns_and_nothing_is_written_when_it_differs(
        stack: Stack) -> None:
    """Leases, partitions and de-duplication are keyed on the ID asked for; a reconcile writes only when the ID
    Resource Manager returns is that same ID, and records the returned spelling. Here the emulator is made to
    answer `aoai-work` with `aoai-wörk` (as ARM would answer `café` with `CAFÉ`, folding a case the app keeps
    apart): nothing may be written under the key of `aoai-work`."""
    stack.seed(Estate().network((OPENAI_ZONE,)).locked("aoai-work", public_network_access="Enabled")
               .locked("aoai-other", public_network_access="Enabled"))
    stack.emulator.store.raw(account_id("aoai-work"))["id"] = account_id("aoai-w\u00f6rk")
    remediator = stack.remediator()

    result = remediator.reconcile(parse_account_id(account_id("aoai-work")), Trigger.HTTP)
    assert stack.writes() == []
    assert result.record.outcome is Outcome.SKIPPED and "aoai-w\u00f6rk" in (result.record.error or "")

    spelled = parse_account_id(account_id("AOAI-OTHER").replace("rg-ai", "RG-AI"))
    record = remediator.reconcile(spelled, Trigger.HTTP).record
    assert record.outcome is Outcome.REMEDIATED
    assert record.resource_id == account_id("aoai-other")  # as Resource Manager spells it


# --- Defects 1 and 10: exemptions ----------------------------------------------------------------

def _in_days(days: int) -> str:
    return (datetime.now(UTC).date() + timedelta(days=days)).isoformat()


@pytest.mark.parametrize("value, reason", [
    ("9999-12-31", "more than 90 days ahead"),
    ("true", "not an ISO date"),
    ("2000-01-01", "passed"),
])
def test_a_tag_an_account_owner_sets_does_not_exempt_beyond_the_rule(stack: Stack, value: str, reason: str) -> None:
    """Whoever opens an account can add the tag in the same PATCH: a date beyond REMEDIATION_EXEMPT_MAX_DAYS, or any
    other value, does not exempt, and the record names it."""
    stack.seed(Estate().network((OPENAI_ZONE,)).locked("aoai-prod", public_network_access="Enabled",
                                                        tags={"remediation-exempt": value}))

    record = stack.remediator().reconcile(parse_account_id(AOAI), Trigger.EVENT).record.to_json()

    assert record["outcome"] == "remediated"
    assert record["exemption"]["exempt"] is False and record["exemption"]["value"] == value
    assert reason in record["exemption"]["reason"]
    assert stack.resource(AOAI)["properties"]["publicNetworkAccess"] == "Disabled"


@pytest.mark.parametrize("how", ["tag", "setting"])
def test_an_exempt_account_is_observed_planned_and_its_drift_reported(stack: Stack, how: str,
                                                                     caplog: pytest.LogCaptureFixture) -> None:
    tags = {"remediation-exempt": _in_days(30)} if how == "tag" else {}
    stack.seed(Estate().network((OPENAI_ZONE,)).locked("aoai-prod", public_network_access="Enabled", tags=tags))
    settings = {"REMEDIATION_EXEMPT_ACCOUNT_IDS": AOAI.upper()} if how == "setting" else {}
    with LocalTopic(cert_dir=stack.emulator.cert_dir) as topic, caplog.at_level(logging.WARNING, "remediation"):
        remediator = stack.remediator(REMEDIATION_EVENTGRID_TOPIC_ENDPOINT=topic.endpoint, **settings)
        record = remediator.reconcile(parse_account_id(AOAI), Trigger.EVENT).record.to_json()
        published = topic.events

    assert record["outcome"] == "exempt" and stack.writes() == []
    assert "PUBLIC_NETWORK_ACCESS_ENABLED" in [f["code"] for f in record["findings"]]
    assert record["before"]["publicNetworkAccess"] == "Enabled"
    assert record["exemption"]["exempt"] is True
    assert record["exemption"]["by"] == ("REMEDIATION_EXEMPT_ACCOUNT_IDS" if how == "setting" else "tag")
    assert {a["status"] for a in record["actions"]} == {"skipped"}
    assert any(r.levelno == logging.WARNING and "exempt" in r.getMessage() and AOAI in r.getMessage()
               for r in caplog.records)
    assert [e["eventType"] for e in published] == ["OpenAIPrivateNetwork.Remediation.ExemptAccountDrifted"]


def test_scan_and_the_sweep_apply_the_same_exemption_rule_as_fix(stack: Stack) -> None:
    """An exempt account with drift is not drifted for `scan` (its exit status gates pipelines) and is not queued
    by the sweep, while `fix` answers `exempt`; an account whose tag does not exempt is drifted for all three."""
    stack.seed(Estate().network((OPENAI_ZONE,))
               .locked("aoai-lab", public_network_access="Enabled", tags={"remediation-exempt": _in_days(10)})
               .locked("aoai-self", public_network_access="Enabled", tags={"remediation-exempt": "9999-12-31"}))
    stack.apply_env(AzureWebJobsStorage="", REMEDIATION_MODE="report")
    lab, self_service = account_id("aoai-lab"), account_id("aoai-self")

    out = io.StringIO()
    assert cli_main(["scan", "--json"], out) == 1
    scanned = json.loads(out.getvalue())
    assert [row["resourceId"] for row in scanned["drifted"]] == [self_service]
    assert [row["resourceId"] for row in scanned["exempt"]] == [lab]

    queued: list[str] = []
    settings = Settings.from_env(stack.env(), require_storage=False)
    clients = ArmClients(settings)
    try:
        Sweeper(clients, settings).run(lambda account: queued.append(str(account.id)))
    finally:
        clients.close()
    assert queued == [self_service]

    out = io.StringIO()
    assert cli_main(["fix", lab, "--json"], out) == 0
    assert json.loads(out.getvalue())["outcome"] == "exempt"
    stack.emulator.reset()  # now only the exempt account, drifted: nothing for a pipeline to stop on
    stack.seed(Estate().network((OPENAI_ZONE,))
               .locked("aoai-lab", public_network_access="Enabled", tags={"remediation-exempt": _in_days(10)}))
    out = io.StringIO()
    assert cli_main(["scan", "--json"], out) == 0


# --- Defect 3: the audit trail under pressure --------------------------------------------------------

FOREIGN_SUB = "99999999-9999-9999-9999-999999999999"  # another tenant's subscription
LEFTOVERS = 1250


def _leftover_connections(account: str, count: int) -> list[dict[str, Any]]:
    """What any tenant can leave on an account: connections requested and their endpoints deleted (Disconnected),
    with names as long as Azure allows (endpoints 80 characters, resource groups 90)."""
    return [{"name": f"conn-{i:04d}-" + "x" * 70,
             "properties": {"privateEndpoint": {"id": f"/subscriptions/{FOREIGN_SUB}/resourceGroups/{'r' * 90}"
                                                      "/providers/Microsoft.Network/privateEndpoints/"
                                                      f"pe-{i:04d}-{'y' * 70}"},
                            "privateLinkServiceConnectionState": {"status": "Disconnected",
                                                                  "description": "z" * 200}}}
            for i in range(count)]


def test_an_account_with_a_thousand_leftover_connections_is_recorded_and_does_not_block_later_records(
        stack: Stack) -> None:
    estate = Estate().network((OPENAI_ZONE,)).account("aoai-big", public_network_access="Enabled") \
        .locked("aoai-prod", public_network_access="Enabled")
    big = account_id("aoai-big")
    # Azure counts a Table entity's strings in UTF-16 (two bytes a character) and refuses one over 1 MiB: ~1,000 such
    # connections are too many. Azurite counts the request's UTF-8 bytes, so here it takes a quarter more.
    next(r for r in estate.resources if r["id"] == big)["properties"]["privateEndpointConnections"] = \
        _leftover_connections(big, LEFTOVERS)
    stack.seed(estate)
    app = stack.app()
    remediator = app.remediator

    first = remediator.reconcile(parse_account_id(big), Trigger.EVENT)
    second = remediator.reconcile(parse_account_id(AOAI), Trigger.EVENT)

    assert first.audit_errors == [] and second.audit_errors == []
    [stored] = app.history(parse_account_id(big), 5)
    assert stored["outcome"] == "remediated"
    connections = stored["before"]["privateEndpointConnections"]
    assert 0 < len(connections) <= 50
    assert stored["before"]["privateEndpointConnectionsOmitted"] == LEFTOVERS - len(connections)
    assert len(json.dumps(stored)) < 256 * 1024
    assert [r["outcome"] for r in app.history(parse_account_id(AOAI), 5)] == ["remediated"]


def test_a_record_the_table_refuses_for_good_is_dropped_with_one_error_and_later_records_are_written(
        stack: Stack, caplog: pytest.LogCaptureFixture) -> None:
    app = stack.app()
    assert app.stored is not None
    table = app.stored.table
    now = datetime.now(UTC)
    huge = AuditRecord(AOAI, Trigger.EVENT, Mode.ENFORCE, Outcome.FAILED, time=now - timedelta(seconds=1)).to_json()
    huge["before"] = {"padding": ["p" * 1000] * 1200}  # as a sink sees a record nobody bounded: over 1 MiB
    small = AuditRecord(AOAI, Trigger.EVENT, Mode.ENFORCE, Outcome.COMPLIANT, time=now).to_json()

    with caplog.at_level(logging.ERROR, logger="remediation.audit"):
        table.write(huge)  # refused for good: dropped, not raised, not kept
        table.write(small)

    assert [r["id"] for r in app.history(parse_account_id(AOAI), 5)] == [small["id"]]
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and huge["id"] in errors[0]


def test_every_record_the_unwritten_buffer_drops_is_logged(caplog: pytest.LogCaptureFixture,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """The table unreachable (nothing listens on the port): records are kept to be written later, and when the
    buffer is full each one it lets go of is logged, never dropped silently."""
    monkeypatch.setattr(audit, "_MAX_UNWRITTEN", 1)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again before use: connections are refused
    connection = ("DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=a2V5;"
                  f"TableEndpoint=http://127.0.0.1:{port}/devstoreaccount1;")
    table = AuditTable(Storage(Settings.from_env({**_REQUIRED, "AzureWebJobsStorage": connection})))
    records = [AuditRecord(AOAI, Trigger.EVENT, Mode.ENFORCE, Outcome.COMPLIANT).to_json() for _ in range(3)]

    with caplog.at_level(logging.ERROR, logger="remediation.audit"):
        for record in records:
            with pytest.raises(ServiceRequestError):  # nothing listens: the connection is refused
                table.write(record)

    dropped = [r.getMessage() for r in caplog.records if "dropped" in r.getMessage()]
    assert len(dropped) == 2
    assert records[0]["id"] in dropped[0] and records[1]["id"] in dropped[1]


# --- Defect 2: the circuit breaker never stops the fix; the HTTP path takes the lease --------------------------

def test_the_circuit_breaker_slows_fixes_down_but_never_leaves_the_account_open(
        stack: Stack, caplog: pytest.LogCaptureFixture) -> None:
    """Past REMEDIATION_MAX_FIXES_PER_HOUR, each re-opening is still closed: after a growing delay, by a work item the
    app puts on the queue for the end of the back-off (not by a sweep an hour later). One alert per episode."""
    stack.seed(Estate().network((OPENAI_ZONE,)).locked("aoai-prod"))
    caplog.set_level(logging.ERROR, logger="remediation")
    with LocalTopic(cert_dir=stack.emulator.cert_dir) as topic:
        live = Live(stack, REMEDIATION_MAX_FIXES_PER_HOUR="1", REMEDIATION_EVENTGRID_TOPIC_ENDPOINT=topic.endpoint)
        try:
            for _ in range(3):
                stack.as_user("PATCH", AOAI, {"properties": {"publicNetworkAccess": "Enabled"}})
                live.settle()
                assert stack.resource(AOAI)["properties"]["publicNetworkAccess"] == "Disabled"
            records = live.history()
        finally:
            live.close()
        published = [e["eventType"].rsplit(".", 1)[-1] for e in topic.events]

    outcomes = [r["outcome"] for r in reversed(records)]
    assert outcomes[0] == "remediated" and set(outcomes[1:]) == {"contested"}
    fixes = [r for r in records if any(a["status"] == "succeeded" for a in r["actions"])]
    assert len(fixes) == 3
    later = sorted(datetime.fromisoformat(r["time"].replace("Z", "+00:00")) for r in fixes)
    assert (later[2] - later[1]) >= timedelta(seconds=2) * 0.9  # the back-off grows: 1 s, then 2 s
    assert published.count("Contested") == 1
    assert len([r for r in caplog.records if r.levelno == logging.ERROR and "contested" in r.getMessage()]) == 1


def test_an_http_call_and_a_queue_item_never_both_remediate_one_drift(stack: Stack) -> None:
    stack.seed(Estate().network((OPENAI_ZONE,)).locked("aoai-prod", public_network_access="Enabled"))
    app = _fresh_app(stack)
    # The fix takes a second to be answered (applied after the wait), so without a lease the second reconcile reads
    # the account still open and fixes it again.
    stack.emulator.add_fault(Fault(method="PATCH", path=r"/accounts/aoai-prod$", status=None, delay_s=1.0, times=2))
    item = json.dumps({"kind": "account", "resource_id": AOAI, "trigger": "event"})
    queued = threading.Thread(target=app.stored().worker.process_message, args=(item,))

    queued.start()
    assert wait_until(lambda: lease_taken(stack, AOAI)), "the queued reconcile took the account's lease first"
    response = app.remediate(func.HttpRequest(method="POST", url="/api/remediate",
                                              body=json.dumps({"resourceId": AOAI}).encode()))
    queued.join(30)

    assert response.status_code == 200
    outcomes = sorted(r["outcome"] for r in app.parts().history(parse_account_id(AOAI), 10))
    assert outcomes == ["compliant", "remediated"]
    assert len([w for w in stack.writes() if w.method == "PATCH"]) == 1


# --- Defect 5: the record names every actor whose change it fixed ----------------------------------------

ALICE = {"name": "Alice Network", "upn": "alice@contoso.example"}
BOB = {"name": "Bob Builder", "upn": "bob@contoso.example"}
ENDPOINT = f"{rg_id('rg-network')}/providers/Microsoft.Network/privateEndpoints/pe-aoai-prod-existing"


def test_events_folded_into_one_reconcile_name_each_actor_and_what_each_changed(stack: Stack) -> None:
    """Alice deletes the account's private endpoint, then Bob turns public access on. The reconcile that runs
    first sees both changes: its record must not blame the first event's actor for the second's change."""
    scenario = Estate().network((OPENAI_ZONE,)).locked("aoai-prod").scenario()
    scenario["roleAssignments"] += [{"principalId": user_object_id(person["upn"]), "role": OWNER,
                                     "scope": f"/subscriptions/{SUB}", "principalType": "User"}
                                    for person in (ALICE, BOB)]  # both may write, as Owners
    stack.emulator.seed(scenario)
    live = Live(stack)  # its host creates the queue
    QueueClient.from_connection_string(stack.azurite.connection_string, WORK_QUEUE).clear_messages()
    try:
        assert live.app.parts().remediator.reconcile(parse_account_id(AOAI), Trigger.SWEEP).record.outcome \
            is Outcome.COMPLIANT  # the serving index now maps the endpoint to the account
        live.capture_only = True
        stack.as_user("DELETE", ENDPOINT, **ALICE)
        stack.as_user("PATCH", AOAI, {"properties": {"publicNetworkAccess": "Enabled"}}, **BOB)
        assert live.router.drain(10)
        events = [e for e in live.captured if e["data"]["claims"].get("name") in (ALICE["name"], BOB["name"])]
        assert [e["data"]["claims"]["name"] for e in events] == [ALICE["name"], BOB["name"]]
        for event in events:  # both delivered before a worker runs: a busy moment, a slow queue
            live.host.deliver(event)
        assert live.host.drain(30)
        records = [r for r in live.history() if r["trigger"] == "event"]
    finally:
        live.close()

    [fixed] = [r for r in records if r["findings"]]
    assert [(a["upn"], a["operationName"]) for a in fixed["actors"]] == [
        (ALICE["upn"], "Microsoft.Network/privateEndpoints/delete"),
        (BOB["upn"], "Microsoft.CognitiveServices/accounts/write")]
    caused = {f["code"]: fixed["actors"][f["causedBy"]]["upn"] for f in fixed["findings"] if "causedBy" in f}
    assert caused["PUBLIC_NETWORK_ACCESS_ENABLED"] == BOB["upn"]
    assert caused["PRIVATE_ENDPOINT_MISSING"] == ALICE["upn"]
    assert all(r is fixed or not r["findings"] for r in records)  # the other event found nothing left to fix
