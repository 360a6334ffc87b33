"""Management locks (`Microsoft.Authorization/locks`) as Azure serves them, and the 409 ScopeLocked they cause.

Evidence for each behaviour is in localdev/arm_emulator/locks.py; each test names the part it holds.
"""
from __future__ import annotations

import re

import pytest
from azure.core.exceptions import HttpResponseError

from localdev.arm_emulator import ArmEmulator
from localdev.arm_emulator.authorization import READER
from tests.helpers.emulator import ACCOUNT, DNS_RG, NET_RG, RG, SUB, SUBNET, VNET, ZONE, Raw, base_scenario

LOCKS = "providers/Microsoft.Authorization/locks"
CLI_API = "2016-09-01"      # what the Azure CLI sends (test_cannotdelete_resource_lock.yaml)
API = "2020-05-01"          # the latest stable api-version
PE = f"{NET_RG}/providers/Microsoft.Network/privateEndpoints/pe-aoai-prod"


def scope_locked(target: str, operation: str, locked: str) -> dict:
    """The exact 409 body (Azure/azure-sdk-for-java#2560; Azure/terraform-azurerm-lz-vending#496)."""
    return {"error": {"code": "ScopeLocked", "message": (
        f"The scope '{target}' cannot perform {operation} operation because following scope(s) are locked: "
        f"'{locked}'. Please remove the lock and try again.")}}


def put_lock(raw: Raw, scope: str, name: str, level: str, api: str = API, **props: str) -> tuple[int, dict]:
    status, _, body = raw("PUT", f"{scope}/{LOCKS}/{name}", {"properties": {"level": level, **props}}, api_version=api)
    return status, body


@pytest.fixture
def raw(emu: ArmEmulator) -> Raw:
    emu.seed(base_scenario())
    return Raw(emu)


def test_a_lock_is_created_updated_read_and_deleted_as_the_cli_recording_shows(emu: ArmEmulator, raw: Raw) -> None:
    """Azure/azure-cli test_cannotdelete_resource_lock.yaml: PUT 201 then 200, keys properties/id/type/name only,
    the id keeps the lower-case `resourcegroups` the client sent; DELETE 200, then 204 for nothing."""
    vnet = VNET.replace("/resourceGroups/", "/resourcegroups/")
    lock_id = f"{vnet}/{LOCKS}/cli-test-lock"
    assert put_lock(raw, vnet, "cli-test-lock", "CanNotDelete", CLI_API) == (201, {
        "properties": {"level": "CanNotDelete"}, "id": lock_id, "type": "Microsoft.Authorization/locks",
        "name": "cli-test-lock"})
    status, body = put_lock(raw, vnet, "cli-test-lock", "ReadOnly", CLI_API, notes="notes000004")
    assert status == 200 and list(body) == ["properties", "id", "type", "name"]
    assert body["properties"] == {"level": "ReadOnly", "notes": "notes000004"}
    assert raw("GET", lock_id, api_version=API)[2] == body
    assert raw("DELETE", lock_id, api_version=API)[0] == 200
    assert raw("DELETE", lock_id, api_version=API)[0] == 204
    assert raw("GET", lock_id, api_version=API)[0] == 404
    assert put_lock(raw, RG, "bad", "NotALevel")[0] == 400


def test_lists_hold_locks_at_above_and_below_and_at_scope_keeps_at_and_above(emu: ArmEmulator, raw: Raw) -> None:
    """Get-AzResourceLock help (Azure/azure-powershell): without -AtScope "all locks at, above, or below the scope";
    with it ($filter=atScope()) "all locks at or above"; the CLI recording's subscription list holds
    resource- and subnet-level locks."""
    subscription = f"/subscriptions/{SUB}"
    for scope, name in ((subscription, "sub"), (RG, "rg"), (ACCOUNT, "account"), (SUBNET, "subnet")):
        assert put_lock(raw, scope, name, "CanNotDelete")[0] == 201

    def names(path: str) -> list[str]:
        status, _, body = raw("GET", path, api_version=API)
        assert status == 200
        return sorted(item["name"] for item in body["value"])

    assert names(f"{subscription}/{LOCKS}") == ["account", "rg", "sub", "subnet"]
    assert names(f"{RG}/{LOCKS}") == ["account", "rg", "sub"]
    assert names(f"{RG}/{LOCKS}?$filter=atScope()") == ["rg", "sub"]
    assert names(f"{ACCOUNT}/{LOCKS}?$filter=atScope()") == ["account", "rg", "sub"]
    assert names(f"{VNET}/{LOCKS}") == ["sub", "subnet"]


def test_a_readonly_lock_refuses_the_account_patch_with_scope_locked(emu: ArmEmulator, raw: Raw, clients) -> None:
    """ReadOnly "can't delete or update" (lock-resources.md); the 409 names the locked scope as its lock's id spells
    it, never the lock (Azure/azure-sdk-for-java#2560)."""
    rg_lower = RG.replace("/resourceGroups/", "/resourcegroups/")
    assert put_lock(raw, rg_lower, "freeze", "ReadOnly")[0] == 201
    status, _, body = raw("PATCH", ACCOUNT, {"properties": {"publicNetworkAccess": "Disabled"}})
    assert (status, body) == (409, scope_locked(ACCOUNT, "write", rg_lower))
    with pytest.raises(HttpResponseError) as err:
        clients.cog.accounts.begin_update("rg-ai", "aoai-prod", {"properties": {"publicNetworkAccess": "Disabled"}})
    assert err.value.status_code == 409 and err.value.error.code == "ScopeLocked"
    assert emu.get(ACCOUNT)["properties"]["publicNetworkAccess"] == "Enabled"
    assert raw("GET", ACCOUNT)[0] == 200                                       # reads pass
    assert raw("DELETE", ACCOUNT)[2] == scope_locked(ACCOUNT, "delete", rg_lower)


def test_readonly_refuses_post_actions_as_writes_of_the_resource(emu: ArmEmulator, raw: Raw) -> None:
    """listKeys is a POST; under a ReadOnly lock it answers 'cannot perform write operation' naming the account,
    not the action (Azure/azure-sdk-for-java#2560; lock-resources.md "Locks prevent the POST method")."""
    emu.lock(ACCOUNT, "ReadOnly")
    status, _, body = raw("POST", f"{ACCOUNT}/listKeys", {})
    assert (status, body) == (409, scope_locked(ACCOUNT, "write", ACCOUNT))


def test_cannot_delete_lets_writes_through_and_refuses_deletes_below_it(emu: ArmEmulator, raw: Raw) -> None:
    """CanNotDelete: "can read and modify a resource, but they can't delete it"; a child's delete is refused too
    (Azure/azure-cli#28242, terraform-azurerm-lz-vending#496)."""
    record = f"{ZONE}/A/collector"
    assert raw("PUT", record, {"properties": {"ttl": 10, "aRecords": [{"ipv4Address": "10.0.1.9"}]}},
               api_version="2024-06-01")[0] == 201
    emu.lock(ZONE, "CanNotDelete", name="keep")
    assert raw("PATCH", ACCOUNT, {"properties": {"publicNetworkAccess": "Disabled"}})[0] == 202
    assert raw("PUT", record, {"properties": {"ttl": 20, "aRecords": [{"ipv4Address": "10.0.1.9"}]}},
               api_version="2024-06-01")[0] == 200
    status, _, body = raw("DELETE", record, api_version="2024-06-01")
    assert (status, body) == (409, scope_locked(record, "delete", ZONE))
    assert raw("DELETE", ZONE, api_version="2024-06-01")[2] == scope_locked(ZONE, "delete", ZONE)


def test_a_subscription_lock_holds_for_resources_made_later(emu: ArmEmulator, raw: Raw) -> None:
    """"Even resources you add later inherit the same parent lock" (lock-resources.md)."""
    subscription = f"/subscriptions/{SUB}"
    emu.lock(subscription, "ReadOnly", name="everything")
    new_zone = f"{DNS_RG}/providers/Microsoft.Network/privateDnsZones/privatelink.cognitiveservices.azure.com"
    status, _, body = raw("PUT", new_zone, {"location": "global"}, api_version="2024-06-01")
    assert (status, body) == (409, scope_locked(new_zone, "write", subscription))


def test_locks_do_not_refuse_lock_writes(emu: ArmEmulator, raw: Raw) -> None:
    """Removing a lock is how Learn says to lift it (inferred: lock writes are not refused by locks)."""
    emu.lock(RG, "ReadOnly", name="freeze")
    assert put_lock(raw, ACCOUNT, "more", "CanNotDelete")[0] == 201
    assert raw("DELETE", f"{RG}/{LOCKS}/freeze", api_version=API)[0] == 200
    assert raw("PATCH", ACCOUNT, {"properties": {"publicNetworkAccess": "Disabled"}})[0] == 202


def test_lock_actions_are_authorized_like_any_other(emu: ArmEmulator, raw: Raw) -> None:
    """Microsoft.Authorization/locks/{read,write,delete} (the provider's published operations; "only Owner and User
    Access Administrator are granted those actions" among built-in roles)."""
    emu.config.enforce_rbac = True
    rita = "7d0c1f54-0000-4000-8000-000000000001"
    reader = emu.user_token(name="Rita Reader", upn="rita@contoso.example", object_id=rita)
    emu.rbac.assign(rita, READER, f"/subscriptions/{SUB}")
    as_reader = Raw(emu, token=reader)
    status, _, body = as_reader("PUT", f"{RG}/{LOCKS}/x", {"properties": {"level": "ReadOnly"}}, api_version=API)
    assert status == 403 and body["error"]["code"] == "AuthorizationFailed"
    assert "'Microsoft.Authorization/locks/write'" in body["error"]["message"]
    emu.lock(RG, "ReadOnly", name="freeze")
    status, _, body = as_reader("GET", f"{RG}/{LOCKS}", api_version=API)
    assert status == 200 and [item["name"] for item in body["value"]] == ["freeze"]
    locker = "7d0c1f54-0000-4000-8000-000000000002"
    emu.rbac.define("Lock keeper", ["Microsoft.Authorization/locks/*"], name="5a1b9d2e-0000-4000-8000-000000000003",
                    assignable_scopes=[f"/subscriptions/{SUB}"])
    emu.rbac.assign(locker, "5a1b9d2e-0000-4000-8000-000000000003", RG)
    as_locker = Raw(emu, token=emu.user_token(name="Lee", upn="lee@contoso.example", object_id=locker))
    assert as_locker("DELETE", f"{RG}/{LOCKS}/freeze", api_version=API)[0] == 200


def test_seeded_locks_refuse_like_written_ones(emu: ArmEmulator) -> None:
    emu.seed(base_scenario())
    emu.seed({"locks": [{"id": f"{RG}/{LOCKS}/seeded", "properties": {"level": "ReadOnly", "notes": "change freeze"}}]})
    assert [lock.to_arm()["properties"] for lock in emu.locks.all()] == [
        {"level": "ReadOnly", "notes": "change freeze"}]
    status, _, body = Raw(emu)("PATCH", ACCOUNT, {"properties": {"publicNetworkAccess": "Disabled"}})
    assert (status, body) == (409, scope_locked(ACCOUNT, "write", RG))


# -- linked resources ----------------------------------------------------------------------------------------------
def pe_body() -> dict:
    return {"location": "eastus", "properties": {"subnet": {"id": SUBNET}, "privateLinkServiceConnections": [
        {"name": "aoai-prod", "properties": {"privateLinkServiceId": ACCOUNT, "groupIds": ["account"]}}]}}


def test_deleting_an_endpoint_whose_account_is_locked_fails_its_operation(emu: ArmEmulator, clients) -> None:
    """hashicorp/terraform-provider-azurerm#17478: the endpoint's delete operation fails ScopeLocked, "Call to
    Microsoft.Storage/storageAccounts failed. Error message: The scope '…/privateEndpointConnectionProxies/…'
    cannot perform delete operation…"; the endpoint stays (EmulatorConfig.lock_pe_target)."""
    emu.seed(base_scenario())
    pe = clients.net.private_endpoints.begin_create_or_update("rg-net", "pe-aoai-prod", pe_body()).result()
    emu.lock(ACCOUNT, "CanNotDelete", name="keep")
    with pytest.raises(HttpResponseError) as err:
        clients.net.private_endpoints.begin_delete("rg-net", "pe-aoai-prod").result()
    assert err.value.error.code == "ScopeLocked"
    assert re.fullmatch(
        rf"Call to Microsoft\.CognitiveServices/accounts failed\. Error message: The scope '{re.escape(ACCOUNT)}"
        rf"/privateEndpointConnectionProxies/pe-aoai-prod\.[0-9a-f-]{{36}}' cannot perform delete operation because "
        rf"following scope\(s\) are locked: '{re.escape(ACCOUNT)}'\. Please remove the lock and try again\.",
        err.value.error.message)
    assert emu.get(pe.id) is not None
    emu.config.lock_pe_target = False
    clients.net.private_endpoints.begin_delete("rg-net", "pe-aoai-prod").result()
    assert emu.get(pe.id) is None


def test_a_readonly_account_refuses_a_new_endpoint_connection(emu: ArmEmulator, raw: Raw) -> None:
    """Inferred (research-locks-limits §1.6): the connection proxy the endpoint writes on the account is a write
    under the account's ReadOnly lock; CanNotDelete lets it through. Switch: EmulatorConfig.lock_pe_target."""
    emu.lock(ACCOUNT, "CanNotDelete", name="keep")
    assert raw("PUT", PE, pe_body())[0] == 201
    raw("DELETE", PE)   # refused by the lock: its operation fails
    emu.locks.clear()
    assert raw("DELETE", PE)[0] == 202
    emu.lock(ACCOUNT, "ReadOnly", name="freeze")
    status, _, body = raw("PUT", PE, pe_body())
    assert status == 409 and body["error"]["code"] == "ScopeLocked"
    assert body["error"]["message"].startswith("Call to Microsoft.CognitiveServices/accounts failed. Error message: ")
    emu.config.lock_pe_target = False
    assert raw("PUT", PE, pe_body())[0] == 201


def test_an_endpoint_in_a_locked_vnet_is_refused_only_when_switched_on(emu: ArmEmulator, raw: Raw) -> None:
    """Unevidenced either way (research-locks-limits §6 item 2); off by default (EmulatorConfig.lock_pe_subnet)."""
    emu.lock(VNET, "ReadOnly", name="net")
    assert raw("PUT", PE, pe_body())[0] == 201
    emu.config.lock_pe_subnet = True
    other = PE + "-2"
    status, _, body = raw("PUT", other, pe_body())
    assert (status, body) == (409, scope_locked(SUBNET, "write", VNET))


def test_approving_a_connection_on_a_locked_account_is_refused_by_inheritance(emu: ArmEmulator, raw: Raw) -> None:
    """Inferred: a connection is a child of the account, so the account's ReadOnly lock refuses its PUT
    (EmulatorConfig.lock_connection_approval turns that off)."""
    emu.seed({"resources": [{**pe_body(), "id": PE, "properties": {
        "subnet": {"id": SUBNET}, "manualPrivateLinkServiceConnections": [
            {"name": "m", "properties": {"privateLinkServiceId": ACCOUNT, "groupIds": ["account"]}}]}}]})
    [connection] = emu.get(ACCOUNT)["properties"]["privateEndpointConnections"]
    approve = {"properties": {"privateLinkServiceConnectionState": {"status": "Approved", "description": "ok"}}}
    emu.lock(RG, "ReadOnly", name="freeze")
    status, _, body = raw("PUT", connection["id"], approve)
    assert (status, body) == (409, scope_locked(connection["id"], "write", RG))
    emu.config.lock_connection_approval = False
    assert raw("PUT", connection["id"], approve)[0] == 200
