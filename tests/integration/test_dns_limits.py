"""The app against Private DNS's limits per zone (learn.microsoft.com azure/dns/private-dns-privatednszone, "Limits"),
scaled down by the emulator's knobs: a repair a full zone refuses is failed for good and named, with the manual fix,
never waited for as a busy account. Azure publishes no answer past a zone's counts; the zone's own counts decide
(remediation/arm/limits.py)."""

from __future__ import annotations

from typing import Any

from localdev.arm_emulator import Fault
from localdev.estate import OPENAI_ZONE, Estate, account_id, rg_id, zone_id
from remediation.core.ids import parse_account_id
from remediation.core.model import Trigger
from tests.conftest import Stack

FAST = {"REMEDIATION_POLL_INTERVAL_SECONDS": "0.05", "REMEDIATION_READY_TIMEOUT_SECONDS": "0.5"}


def _reconcile(stack: Stack, name: str) -> dict[str, Any]:
    result = stack.remediator(**FAST).reconcile(parse_account_id(account_id(name)), Trigger.HTTP)
    assert result.audit_errors == []
    return result.record.to_json()


def _failed(record: dict[str, Any]) -> list[dict[str, Any]]:
    return [a for a in record["actions"] if a["status"] == "failed"]


def test_a_new_accounts_dns_in_a_full_zone_is_refused_for_good_and_named(stack: Stack) -> None:
    """Two accounts' records fill a zone of three record sets (the SOA counts): the next account gets its endpoint,
    and its zone group, whose record the zone cannot take, fails once, as a limit, with what to do about it."""
    stack.seed(Estate().network((OPENAI_ZONE,)).locked("aoai-0").locked("aoai-1").account("aoai-new"))
    stack.emulator.config.dns_max_record_sets = 3

    record = _reconcile(stack, "aoai-new")

    assert record["outcome"] == "failed" and record["errorKind"] == "limit"
    [failed] = _failed(record)
    assert failed["name"] == "put-private-dns-zone-group"
    assert "a limit of Azure's refuses it, not retried" in failed["error"]
    assert "ask Azure Support to raise the zone's record set limit" in failed["error"]
    groups = [w for w in stack.writes() if "/privateDnsZoneGroups/" in w.path]
    assert len(groups) == 1   # not tried again as if the account were busy


def test_a_conflict_from_a_full_zone_is_a_limit_whatever_its_words(stack: Stack) -> None:
    """The record's PUT is refused with a bare 409 Conflict (no word of a limit): the zone reads 2 of its 2 record
    sets, so the refusal is a limit, named with the zone's counts. With room in the zone, the same refusal is a
    conflict worth waiting for: retried within the ready timeout, then deferred."""
    stack.seed(Estate().network((OPENAI_ZONE,)).locked("aoai-0").locked("aoai-1"))
    stack.emulator.store.delete_raw(f"{zone_id(OPENAI_ZONE)}/A/aoai-1")   # someone removed its record
    stack.emulator.config.dns_max_record_sets = 2
    conflict = Fault(method="PUT", path=r"/A/aoai-1$", status=409, code="Conflict",
                     message="The operation could not be completed.", times=None)
    stack.emulator.add_fault(conflict)

    record = _reconcile(stack, "aoai-1")

    [failed] = _failed(record)
    assert failed["name"] == "put-private-dns-record" and record["errorKind"] == "limit"
    assert f"the private DNS zone {OPENAI_ZONE} holds 2 of its 2 record sets" in failed["error"]
    assert len([w for w in stack.writes() if w.path.endswith("/A/aoai-1")]) == 1

    stack.emulator.config.dns_max_record_sets = 100
    record = _reconcile(stack, "aoai-1")
    assert record["outcome"] == "deferred"
    assert len([w for w in stack.writes() if w.path.endswith("/A/aoai-1")]) > 2


def test_a_zone_with_its_links_full_refuses_the_hub_link_for_good(stack: Stack) -> None:
    """The zone already has its one allowed link (to someone's spoke): the app's link to the hub fails through its
    operation (a synthetic Conflict, Azure's being unpublished); the zone's link count makes it a limit, named with
    the fix (remove links no longer needed)."""
    spoke = f"{rg_id('rg-network')}/providers/Microsoft.Network/virtualNetworks/vnet-spoke"
    stack.seed(Estate().network((OPENAI_ZONE,), linked=False).locked("aoai-0")
               .add({"id": spoke, "location": "eastus", "properties": {"addressSpace": {"addressPrefixes": [
                   "10.9.0.0/16"]}}})
               .add({"id": f"{zone_id(OPENAI_ZONE)}/virtualNetworkLinks/spoke", "location": "global",
                     "properties": {"virtualNetwork": {"id": spoke}, "registrationEnabled": False}}))
    stack.emulator.config.update({"dns_max_links": 1, "dns_lro": "aao"})

    record = _reconcile(stack, "aoai-0")

    [failed] = _failed(record)
    assert failed["name"] == "create-private-dns-zone-link" and record["errorKind"] == "limit"
    assert f"the private DNS zone {OPENAI_ZONE} holds 1 of its 1 virtual network links" in failed["error"]
    assert "remove links of virtual networks that no longer need the zone" in failed["error"]

