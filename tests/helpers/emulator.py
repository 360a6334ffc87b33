"""Shared constants and helpers for the emulator tests (a unique module name: other test folders have conftests)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from localdev.arm_emulator import ArmEmulator

SUB = "00000000-1111-2222-3333-444444444444"
RG = f"/subscriptions/{SUB}/resourceGroups/rg-ai"
NET_RG = f"/subscriptions/{SUB}/resourceGroups/rg-net"
DNS_RG = f"/subscriptions/{SUB}/resourceGroups/rg-dns"
ACCOUNT = f"{RG}/providers/Microsoft.CognitiveServices/accounts/aoai-prod"
VNET = f"{NET_RG}/providers/Microsoft.Network/virtualNetworks/vnet-hub"
SUBNET = f"{VNET}/subnets/pe"
ZONE = f"{DNS_RG}/providers/Microsoft.Network/privateDnsZones/privatelink.openai.azure.com"
REFERENCE_ARM = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "arm"

# Environment that would make DefaultAzureCredential pick something other than the emulator's endpoint.
_FOREIGN_ENV = ("AZURE_TENANT_ID", "AZURE_CLIENT_SECRET", "AZURE_CLIENT_CERTIFICATE_PATH", "AZURE_USERNAME",
                "AZURE_PASSWORD", "AZURE_FEDERATED_TOKEN_FILE", "MSI_ENDPOINT", "MSI_SECRET", "IMDS_ENDPOINT",
                "IDENTITY_SERVER_THUMBPRINT", "AZURE_AUTHORITY_HOST")


def base_scenario(kind: str = "OpenAI", state: str = "Succeeded") -> dict[str, Any]:
    return {"resources": [
        {"id": ACCOUNT, "kind": kind, "location": "eastus", "sku": {"name": "S0"}, "tags": {"team": "ml"},
         "properties": {"customSubDomainName": "aoai-prod", "publicNetworkAccess": "Enabled",
                        "provisioningState": state,
                        "networkAcls": {"defaultAction": "Allow", "ipRules": [{"value": "203.0.113.0/24"}]}}},
        {"id": VNET, "location": "eastus",
         "properties": {"addressSpace": {"addressPrefixes": ["10.0.0.0/16"]},
                        "subnets": [{"name": "pe", "properties": {"addressPrefix": "10.0.1.0/24"}}]}},
        {"id": ZONE, "location": "global"},
    ]}




class Clients:
    """The real SDK clients, built the way the app builds them, pointed at the emulator."""

    def __init__(self, emu: ArmEmulator) -> None:
        from azure.identity import DefaultAzureCredential
        from azure.mgmt.cognitiveservices import CognitiveServicesManagementClient
        from azure.mgmt.network import NetworkManagementClient
        from azure.mgmt.privatedns import PrivateDnsManagementClient

        self.credential = DefaultAzureCredential()
        kw = dict(base_url=emu.url, credential_scopes=[emu.url + "/.default"], polling_interval=0,
                  retry_backoff_factor=0)
        self.cog = CognitiveServicesManagementClient(self.credential, SUB, **kw)
        self.net = NetworkManagementClient(self.credential, SUB, **kw)
        self.dns = PrivateDnsManagementClient(self.credential, SUB, **kw)


def arm_requests(emu: ArmEmulator, kinds: tuple[str, ...] = ("read", "write", "poll")) -> list[Any]:
    return [r for r in emu.requests if r.kind in kinds]


class Raw:
    """Minimal HTTPS client for wire-level assertions (status, headers, body) with an app token."""

    def __init__(self, emu: ArmEmulator, token: str | None = "app") -> None:
        import ssl

        self.emu = emu
        self.ctx = ssl.create_default_context(cafile=emu.ca_path)
        self.token = emu.app_token() if token == "app" else token

    def __call__(self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None,
                 api_version: str | None = "2025-09-01") -> tuple[int, dict[str, str], Any]:
        import http.client
        import json

        if api_version and "api-version=" not in path:
            path += ("&" if "?" in path else "?") + f"api-version={api_version}"
        h = {"Accept": "application/json"}
        if self.token:
            h["Authorization"] = f"Bearer {self.token}"
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            h["Content-Type"] = "application/json"
        h.update(headers or {})
        conn = http.client.HTTPSConnection("127.0.0.1", self.emu.port, context=self.ctx, timeout=10)
        try:
            conn.request(method, path, body=data, headers=h)
            resp = conn.getresponse()
            raw = resp.read()
            return resp.status, {k.lower(): v for k, v in resp.getheaders()}, json.loads(raw) if raw else None
        finally:
            conn.close()
