"""Cognitive Services accounts through the real SDK client and DefaultAzureCredential."""
from __future__ import annotations

import time

import pytest
from azure.core.exceptions import ClientAuthenticationError, ResourceExistsError
from azure.mgmt.cognitiveservices.models import Account, AccountProperties, NetworkRuleSet

from localdev.arm_emulator import Fault
from tests.helpers.emulator import ACCOUNT, RG, SUB, Raw, arm_requests, base_scenario

LOCKDOWN = Account(properties=AccountProperties(public_network_access="Disabled",
                                                network_acls=NetworkRuleSet(default_action="Deny")))


@pytest.mark.parametrize("mode", ["aao", "location", "body", "sync"])
def test_patch_each_lro_mode(emu, clients, mode):
    emu.seed(base_scenario())
    emu.config.account_lro = mode
    emu.config.lro_polls = 2
    result = clients.cog.accounts.begin_update("rg-ai", "aoai-prod", LOCKDOWN).result()
    assert result.properties.public_network_access == "Disabled"
    assert result.properties.network_acls.default_action == "Deny"
    assert result.properties.network_acls.ip_rules is None or result.properties.network_acls.ip_rules == []
    assert result.properties.provisioning_state == "Succeeded"
    reqs = arm_requests(emu)
    seq = [(r.method, r.kind, r.status) for r in reqs]
    # Every GET that continues the PATCH (same x-ms-client-request-id) is logged as a poll, final GET included.
    if mode == "aao":   # PATCH 202, AAO InProgress x2, Succeeded, final GET
        assert seq == [("PATCH", "write", 202)] + [("GET", "poll", 200)] * 4
    elif mode == "location":   # Location 202 x2 then 200 with the account; no final GET
        assert seq == [("PATCH", "write", 202), ("GET", "poll", 202), ("GET", "poll", 202), ("GET", "poll", 200)]
    elif mode == "body":   # 200 Accepted, then GETs read Accepted twice, then Succeeded
        assert seq == [("PATCH", "write", 200)] + [("GET", "poll", 200)] * 3
    else:
        assert seq == [("PATCH", "write", 200)]
    assert reqs[0].request_body == {"properties": {"networkAcls": {"defaultAction": "Deny"},
                                                   "publicNetworkAccess": "Disabled"}}
    assert reqs[0].operation == "Microsoft.CognitiveServices/accounts/write"
    assert reqs[0].caller["oid"] == emu.app_identity.object_id
    assert reqs[0].caller["appid"] == emu.app_identity.client_id
    assert all(r.api_version == "2025-09-01" for r in reqs)


def test_write_while_busy_is_409_request_conflict(emu, clients):
    emu.seed(base_scenario())
    raw = Raw(emu)
    assert raw("PATCH", ACCOUNT, {"properties": {"disableLocalAuth": True}})[0] == 202   # nobody polls
    with pytest.raises(ResourceExistsError) as err:
        clients.cog.accounts.begin_update("rg-ai", "aoai-prod", LOCKDOWN).result()
    assert err.value.status_code == 409
    assert err.value.error.code == "RequestConflict"
    assert "provisioning state is not terminal" in err.value.error.message
    assert ACCOUNT in err.value.error.message


def test_seeded_non_terminal_state_is_busy(emu, clients):
    emu.seed(base_scenario(state="Creating"))
    with pytest.raises(ResourceExistsError):
        clients.cog.accounts.begin_update("rg-ai", "aoai-prod", LOCKDOWN).result()


def test_settle_gets_after_operation(emu, clients):
    emu.seed(base_scenario())
    emu.config.account_settle_gets = 3
    emu.config.lro_polls = 0
    clients.cog.accounts.begin_update("rg-ai", "aoai-prod", LOCKDOWN).result()   # its final GET: Accepted (1)
    assert clients.cog.accounts.get("rg-ai", "aoai-prod").properties.provisioning_state == "Accepted"   # (2)
    with pytest.raises(ResourceExistsError):   # writers see the same Accepted state
        clients.cog.accounts.begin_update("rg-ai", "aoai-prod", LOCKDOWN).result()
    assert clients.cog.accounts.get("rg-ai", "aoai-prod").properties.provisioning_state == "Accepted"   # (3)
    assert clients.cog.accounts.get("rg-ai", "aoai-prod").properties.provisioning_state == "Succeeded"
    clients.cog.accounts.begin_update("rg-ai", "aoai-prod", LOCKDOWN).result()


def test_patch_merge_semantics(emu, clients):
    emu.seed(base_scenario())
    emu.config.account_lro = "sync"
    clients.cog.accounts.begin_update("rg-ai", "aoai-prod", Account(tags={"new": "1"}, properties=AccountProperties(
        disable_local_auth=True))).result()
    acct = emu.store.get(ACCOUNT)
    assert acct["tags"] == {"new": "1"}
    assert acct["properties"]["disableLocalAuth"] is True
    assert acct["properties"]["networkAcls"]["ipRules"] == [{"value": "203.0.113.0/24"}]   # untouched
    assert acct["properties"]["publicNetworkAccess"] == "Enabled"
    before = emu.get(ACCOUNT)["etag"]
    time.sleep(0.001)
    clients.cog.accounts.begin_update("rg-ai", "aoai-prod", Account(properties=AccountProperties(
        network_acls=NetworkRuleSet(default_action="Deny")))).result()
    after = emu.get(ACCOUNT)
    assert after["properties"]["networkAcls"] == {"defaultAction": "Deny"}   # replaced as a whole
    assert after["etag"] != before


def test_create_and_delete_account(emu, clients):
    emu.seed({"resourceGroups": [RG]})
    emu.config.account_lro = "aao"
    acct = clients.cog.accounts.begin_create("rg-ai", "ais-1", Account(
        kind="AIServices", location="eastus", sku={"name": "S0"},
        properties=AccountProperties(custom_sub_domain_name="ais-1"))).result()
    assert acct.properties.endpoint == "https://ais-1.cognitiveservices.azure.com/"
    plr = clients.cog.private_link_resources.list("rg-ai", "ais-1").value[0]
    assert plr.properties.required_zone_names == ["privatelink.cognitiveservices.azure.com",
                                                  "privatelink.openai.azure.com", "privatelink.services.ai.azure.com"]
    clients.cog.accounts.begin_delete("rg-ai", "ais-1").result()
    assert emu.store.get(acct.id) is None


def test_not_found_errors(emu, clients):
    from azure.core.exceptions import ResourceNotFoundError
    emu.seed(base_scenario())
    with pytest.raises(ResourceNotFoundError) as err:
        clients.cog.accounts.get("rg-ai", "nope")
    assert err.value.error.code == "ResourceNotFound"
    assert "Microsoft.CognitiveServices/accounts/nope" in err.value.error.message
    assert "under resource group 'rg-ai'" in err.value.error.message
    with pytest.raises(ResourceNotFoundError) as err:
        clients.cog.accounts.get("rg-missing", "nope")
    assert err.value.error.code == "ResourceGroupNotFound"


def test_paging_across_pages(emu, clients):
    emu.seed({"resources": [
        {"id": f"{RG}/providers/Microsoft.CognitiveServices/accounts/a{i:03}", "kind": "OpenAI", "location": "eastus",
         "properties": {"customSubDomainName": f"a{i:03}"}} for i in range(250)]})
    names = [a.name for a in clients.cog.accounts.list_by_resource_group("rg-ai")]
    assert names == [f"a{i:03}" for i in range(250)]
    lists = [r for r in arm_requests(emu) if r.path.endswith("/accounts")]
    assert len(lists) == 3
    assert len(list(clients.cog.accounts.list())) == 250


def test_throttled_then_retried(emu, clients):
    emu.seed(base_scenario())
    emu.add_fault(Fault(method="GET", path=r"/accounts/aoai-prod$", status=429, headers={"Retry-After": "1"}, times=1))
    started = time.monotonic()
    assert clients.cog.accounts.get("rg-ai", "aoai-prod").name == "aoai-prod"
    assert time.monotonic() - started >= 0.9
    gets = [r for r in arm_requests(emu) if r.path.endswith("/aoai-prod")]
    assert [r.status for r in gets] == [429, 200]
    assert gets[0].fault


def test_throttle_headers(emu):
    emu.seed(base_scenario())
    emu.add_fault(Fault(method="PATCH", path=r"/accounts/aoai-prod$", status=429, code="TooManyRequests",
                        headers={"Retry-After": "7"}, times=1))
    raw = Raw(emu)
    status, headers, body = raw("PATCH", ACCOUNT, {"properties": {}})
    assert status == 429 and headers["retry-after"] == "7"
    assert headers["x-ms-ratelimit-remaining-subscription-writes"] == "0"
    assert body["error"]["code"] == "TooManyRequests"
    status, headers, _ = raw("GET", ACCOUNT)
    assert int(headers["x-ms-ratelimit-remaining-subscription-reads"]) > 0


def test_auth_required(emu, sdk_env):
    from azure.core.credentials import AccessToken
    from azure.mgmt.cognitiveservices import CognitiveServicesManagementClient

    emu.seed(base_scenario())
    assert Raw(emu, token=None)("GET", ACCOUNT)[0] == 401
    status, headers, body = Raw(emu, token="a.b.c")("GET", ACCOUNT)
    assert status == 401 and body["error"]["code"] == "AuthenticationFailed"

    class Forged:
        def get_token(self, *scopes, **kw):
            return AccessToken(emu.app_token()[:-4] + "AAAA", int(time.time()) + 600)

    client = CognitiveServicesManagementClient(Forged(), SUB, base_url=emu.url,
                                               credential_scopes=[emu.url + "/.default"])
    with pytest.raises(ClientAuthenticationError):
        client.accounts.get("rg-ai", "aoai-prod")
    emu.config.require_auth = False
    assert Raw(emu, token=None)("GET", ACCOUNT)[0] == 200


def test_user_token_and_on_write(emu):
    emu.seed(base_scenario())
    emu.config.account_lro = "sync"
    events = []
    emu.on_write(events.append)
    try:
        raw = Raw(emu, token=emu.user_token(name="Dana Admin", upn="dana@contoso.example"))
        status, headers, _ = raw("PATCH", ACCOUNT, {"properties": {"publicNetworkAccess": "Enabled"}},
                                 headers={"x-ms-correlation-request-id": "corr-1"})
        assert status == 200 and headers["x-ms-correlation-request-id"] == "corr-1"
        raw("GET", ACCOUNT)
        assert raw("PATCH", f"{RG}/providers/Microsoft.CognitiveServices/accounts/missing", {})[0] == 404
    finally:
        emu._callbacks.clear()
    assert len(events) == 1
    ev = events[0]
    assert ev.operation_name == "Microsoft.CognitiveServices/accounts/write"
    assert ev.resource_id == ACCOUNT and ev.method == "PATCH" and ev.status == 200
    assert ev.correlation_id == "corr-1"
    assert ev.caller_claims["upn"] == "dana@contoso.example" and ev.caller_claims["idtyp"] == "user"
    assert ev.caller_claims["appid"] == "c44b4083-3bb0-49c1-b47d-974e53cbdf3c"
    rec = [r for r in emu.requests if r.method == "PATCH"][0]
    assert rec.caller == {k: ev.caller_claims[k] for k in ("oid", "appid", "name", "upn")}


def test_missing_api_version_and_unknown_types(emu):
    emu.seed(base_scenario())
    raw = Raw(emu)
    status, _, body = raw("GET", ACCOUNT, api_version=None)
    assert status == 400 and body["error"]["code"] == "MissingApiVersionParameter"
    status, _, body = raw("GET", f"{RG}/providers/Microsoft.Storage/storageAccounts/s1")
    assert status == 404 and body["error"]["code"] == "NoRegisteredProviderFound"
    status, _, body = raw("GET", f"{RG}/providers/Microsoft.CognitiveServices/widgets/w1")
    assert status == 404 and body["error"]["code"] == "InvalidResourceType"
    status, _, body = raw("GET", ACCOUNT.upper().replace("SUBSCRIPTIONS", "subscriptions"))
    assert status == 200 and body["id"] == ACCOUNT   # case-insensitive ids, stored casing returned
