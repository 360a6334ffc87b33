"""Errors Azure gives when the estate changed under a reconcile, as the app meets them: recorded with
Azure's message and what a person must do, never retried as busy (the next event or sweep starts afresh)."""

from __future__ import annotations

import threading
import time
from typing import Any

from localdev.arm_emulator import Fault
from localdev.estate import OPENAI_ZONE, SUBNET_ID, Estate, account_id, rg_id, zone_id
from remediation.core.ids import parse_account_id
from remediation.core.model import Trigger
from tests.conftest import Stack

AOAI = account_id("aoai-prod")
PE = f"{rg_id('rg-network')}/providers/Microsoft.Network/privateEndpoints/pe-aoai-prod-existing"


def _when_the_app_patches(stack: Stack, person_writes: Any) -> list[str]:
    """Run `person_writes` once, right after Resource Manager accepts the app's account PATCH."""
    app = stack.emulator.app_identity.object_id
    done: list[str] = []

    def hook(write: Any) -> None:
        if not done and write.method == "PATCH" and write.caller_claims.get("oid") == app:
            done.append(write.resource_id)
            person_writes()

    stack.emulator.on_write(hook)
    return done


def test_a_zone_group_someone_adds_meanwhile_is_not_overwritten_nor_retried(stack: Stack) -> None:
    # Local auth on: its PATCH is sent after the reads, before the zone group PUT built on them.
    estate = Estate().network((OPENAI_ZONE,)).account("aoai-prod", disable_local_auth=False)
    stack.seed(estate.endpoint(AOAI))  # served, but no zone group yet
    raced = _when_the_app_patches(stack, lambda: stack.as_user("PUT", f"{PE}/privateDnsZoneGroups/theirs", {
        "properties": {"privateDnsZoneConfigs": [{"name": "openai",
                                                  "properties": {"privateDnsZoneId": zone_id(OPENAI_ZONE)}}]}},
        api_version="2024-05-01"))
    remediator = stack.remediator(REMEDIATION_DISABLE_LOCAL_AUTH="true")

    result = remediator.reconcile(parse_account_id(AOAI), Trigger.HTTP)

    assert raced
    record = result.record.to_json()
    failed = [a for a in record["actions"] if a["status"] == "failed"]
    assert [a["name"] for a in failed] == ["put-private-dns-zone-group"]
    assert "MoreThanOnePrivateDnsZoneGroupPerPrivateEndpointNotAllowed" in failed[0]["error"]
    assert "refused for good, not retried" in failed[0]["error"] and "by hand" in failed[0]["error"]
    assert record["outcome"] == "failed" and result.failure is None  # not a failure a retry can change
    assert stack.resource(f"{PE}/privateDnsZoneGroups/theirs") is not None
    # the next reconcile reads their group, which already names the zone: nothing left to do
    assert remediator.reconcile(parse_account_id(AOAI), Trigger.HTTP).record.outcome.value == "compliant"


def test_a_connection_deleted_before_its_approval_is_not_retried(stack: Stack) -> None:
    estate = Estate().network((OPENAI_ZONE,)).account("aoai-prod")
    stack.seed(estate.endpoint(AOAI, manual=True, zone_group=(OPENAI_ZONE,)))  # a Pending connection
    [connection] = stack.resource(AOAI)["properties"]["privateEndpointConnections"]
    # The app's approval is held back a little; once the app has read what it needs, the owner deletes
    # the connection, so the approval arrives for a connection that is gone.
    stack.emulator.add_fault(Fault(method="PUT", path=r"/privateEndpointConnections/", status=None, delay_s=0.6))
    raced: list[int] = []

    def owner_deletes_it() -> None:
        deadline = time.monotonic() + 10
        while not any("/virtualNetworkLinks" in r.path for r in stack.emulator.requests):
            if time.monotonic() > deadline:
                return
            time.sleep(0.005)
        raced.append(stack.as_user("DELETE", connection["id"]))

    remediator = stack.remediator(REMEDIATION_PE_SUBNET_ID=SUBNET_ID)
    owner = threading.Thread(target=owner_deletes_it)
    owner.start()
    result = remediator.reconcile(parse_account_id(AOAI), Trigger.HTTP)
    owner.join()

    assert raced
    record = result.record.to_json()
    approve = next(a for a in record["actions"] if a["name"] == "approve-private-endpoint-connection")
    assert approve["status"] == "failed" and "405 MethodNotAllowed" in approve["error"]
    assert "refused for good" in approve["error"]
    assert result.failure is None
    assert len([w for w in stack.writes() if "privateEndpointConnections" in w.path]) == 1
