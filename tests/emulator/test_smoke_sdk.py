"""Quick end-to-end: DefaultAzureCredential through the token endpoint, then an account GET."""
from __future__ import annotations

from tests.helpers.emulator import ACCOUNT, base_scenario


def test_default_credential_and_account_get(emu, clients):
    emu.seed(base_scenario())
    acct = clients.cog.accounts.get("rg-ai", "aoai-prod")
    assert acct.id == ACCOUNT
    assert acct.properties.provisioning_state == "Succeeded"
    assert acct.properties.endpoint == "https://aoai-prod.openai.azure.com/"
    kinds = [r.kind for r in emu.requests]
    assert kinds == ["token", "read"]
    assert emu.requests[1].caller["oid"] == emu.app_identity.object_id
