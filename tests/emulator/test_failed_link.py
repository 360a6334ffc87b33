"""A virtual network link whose operation ends Failed: Azure/azure-powershell#9537 (a link PUT to a VNet that had
been deleted and made again; the operation status read {"error": {"code": "Conflict", "message": "Virtual network
resource identity '…' already in use. …"}, "status": "Failed"}). The emulator's switch: config.failed_link_vnets;
that the link then stays with provisioningState Failed is the emulator's choice (unevidenced)."""
from __future__ import annotations

import pytest
from azure.core.exceptions import HttpResponseError

from localdev.arm_emulator import ArmEmulator
from tests.helpers.emulator import VNET, ZONE, Raw, base_scenario

API = "2024-06-01"
LINK = f"{ZONE}/virtualNetworkLinks/hub"
MESSAGE = (f"Virtual network resource identity '{VNET}' already in use. This is possible in case the virtual network "
           "was moved, or re-created. Please contact support.")


def link_body() -> dict:
    return {"location": "global", "properties": {"virtualNetwork": {"id": VNET}, "registrationEnabled": False}}


@pytest.mark.parametrize("dns_lro", ["aao", "sync"])
def test_the_link_operation_fails_and_the_link_reads_failed(emu: ArmEmulator, clients, dns_lro: str) -> None:
    emu.seed(base_scenario())
    emu.config.dns_lro = dns_lro
    emu.config.failed_link_vnets = [VNET.upper()]   # IDs compare case-insensitively
    with pytest.raises(HttpResponseError) as err:
        clients.dns.virtual_network_links.begin_create_or_update(
            "rg-dns", "privatelink.openai.azure.com", "hub", link_body()).result()
    assert err.value.error.code == "Conflict" and err.value.error.message == MESSAGE
    link = clients.dns.virtual_network_links.get("rg-dns", "privatelink.openai.azure.com", "hub")
    assert link.provisioning_state == "Failed" and link.virtual_network.id == VNET
    assert [each.provisioning_state for each in clients.dns.virtual_network_links.list(
        "rg-dns", "privatelink.openai.azure.com")] == ["Failed"]


def test_the_operation_status_body_is_the_recorded_one(emu: ArmEmulator) -> None:
    emu.seed(base_scenario())
    emu.config.dns_lro = "aao"
    emu.config.failed_link_vnets = [VNET]
    raw = Raw(emu)
    status, headers, body = raw("PUT", LINK, link_body(), api_version=API)
    assert (status, body) == (202, {})
    operation = headers["azure-asyncoperation"].split(emu.url, 1)[1]
    while (answer := raw("GET", operation, api_version=None))[0] == 202:
        pass
    assert answer[0] == 200 and answer[2] == {"error": {"code": "Conflict", "message": MESSAGE}, "status": "Failed"}


def test_a_seeded_link_keeps_its_failed_state(emu: ArmEmulator, clients) -> None:
    emu.seed(base_scenario())
    emu.seed({"resources": [{**link_body(), "id": LINK, "properties": {
        **link_body()["properties"], "provisioningState": "Failed"}}]})
    link = clients.dns.virtual_network_links.get("rg-dns", "privatelink.openai.azure.com", "hub")
    assert link.provisioning_state == "Failed"
    emu.config.failed_link_vnets = []
    made = clients.dns.virtual_network_links.begin_create_or_update(
        "rg-dns", "privatelink.openai.azure.com", "hub", link_body()).result()
    assert made.provisioning_state == "Succeeded"
