"""What the benchmarks at scale lean on: paging that stays right (and linear) while the store changes,
seeding that leaves garbage collection as it found it, and a full subnet answered as Azure answers."""
from __future__ import annotations

import gc

import requests

from localdev.arm_emulator import ArmEmulator
from tests.helpers.emulator import ZONE, base_scenario

A_TYPE = "Microsoft.Network/privateDnsZones/A"


def _records(emu: ArmEmulator, count: int) -> None:
    emu.seed({"resources": [{"id": f"{ZONE}/A/host{i:04d}", "properties": {"aRecords": [{"ipv4Address": "10.0.0.4"}]}}
                            for i in range(count)]})


def test_paging_sees_every_record_once_and_follows_changes(emu: ArmEmulator) -> None:
    emu.seed(base_scenario())
    emu.seed({"resources": [{"id": f"{ZONE}/virtualNetworkLinks/hub", "location": "global",
                             "properties": {"virtualNetwork": {"id": base_scenario()["resources"][1]["id"]}}}]})
    _records(emu, 250)
    store = emu.store

    first, more = store.children_page(ZONE, A_TYPE, 0, 100)
    assert more and [r["name"] for r in first] == [f"host{i:04d}" for i in range(100)]
    everything, _ = store.children_page(ZONE, None, 0, 1000,
                                        exclude_type="Microsoft.Network/privateDnsZones/virtualNetworkLinks")
    assert len(everything) == 251  # the link is left out, every record is in, and the zone's SOA at '@'

    store.delete_raw(f"{ZONE}/A/host0150")
    emu.seed({"resources": [{"id": f"{ZONE}/A/zz-new", "properties": {"aRecords": []}}]})
    rest, more = store.children_page(ZONE, A_TYPE, 100, 1000)
    names = [r["name"] for r in rest]
    assert not more and "host0150" not in names and names[-1] == "zz-new" and len(names) == 150


def test_scope_paging_follows_puts_and_deletes(emu: ArmEmulator) -> None:
    emu.seed(base_scenario())
    account = base_scenario()["resources"][0]
    scope = account["id"].split("/providers/")[0]
    accounts = "Microsoft.CognitiveServices/accounts"
    assert [a["name"] for a in emu.store.page(accounts, scope, 0, 10)[0]] == ["aoai-prod"]

    emu.seed({"resources": [{**account, "id": account["id"] + "-2"}]})
    assert [a["name"] for a in emu.store.page(accounts, scope, 0, 10)[0]] == ["aoai-prod", "aoai-prod-2"]
    emu.store.delete(account["id"])
    assert [a["name"] for a in emu.store.page(accounts, scope, 0, 10)[0]] == ["aoai-prod-2"]


def test_seeding_pauses_garbage_collection_and_restores_it(emu: ArmEmulator, monkeypatch) -> None:
    seen = []
    original = emu.world.store.put_raw
    monkeypatch.setattr(emu.world.store, "put_raw", lambda r: (seen.append(gc.isenabled()), original(r))[1])
    assert gc.isenabled()
    emu.seed(base_scenario())
    assert gc.isenabled() and seen and not any(seen)
    gc.disable()
    try:
        emu.seed({"resources": [{"id": ZONE + "/A/one", "properties": {"aRecords": []}}]})
        assert not gc.isenabled()  # left as the caller had it
    finally:
        gc.enable()


def test_a_full_subnet_refuses_a_new_endpoint_like_azure(emu: ArmEmulator) -> None:
    scenario = base_scenario()
    scenario["resources"][1]["properties"]["subnets"][0]["properties"]["addressPrefix"] = "10.0.1.0/29"  # 3 usable
    emu.seed(scenario)
    account = scenario["resources"][0]["id"]
    net = account.split("/resourceGroups/")[0] + "/resourceGroups/rg-net/providers/Microsoft.Network/privateEndpoints"
    subnet = scenario["resources"][1]["id"] + "/subnets/pe"
    statuses = []
    for i in range(4):
        response = requests.put(f"{emu.url}{net}/pe-{i}", params={"api-version": "2024-05-01"}, verify=emu.ca_path,
                                headers={"Authorization": f"Bearer {emu.app_token()}"}, timeout=10,
                                json={"location": "eastus", "properties": {"subnet": {"id": subnet},
                                      "privateLinkServiceConnections": [{"name": f"c{i}", "properties": {
                                          "privateLinkServiceId": account, "groupIds": ["account"]}}]}})
        statuses.append((response.status_code, response.json().get("error", {}).get("code")))
    assert statuses[:3] == [(201, None)] * 3
    assert statuses[3] == (400, "SubnetIsFull")
