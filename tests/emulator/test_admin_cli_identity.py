"""Token endpoint, admin API, CLI, certificates and seeding speed."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from localdev.arm_emulator import ArmEmulator
from tests.helpers.emulator import ACCOUNT, RG, Raw, base_scenario

REPO = Path(__file__).resolve().parents[2]


def test_token_endpoint(emu):
    raw = Raw(emu, token=None)
    path = "/msi/token?api-version=2019-08-01&resource=" + emu.url
    status, _, body = raw("GET", path, headers={"X-IDENTITY-HEADER": emu.identity_header}, api_version=None)
    assert status == 200
    assert set(body) == {"access_token", "expires_on", "resource", "token_type", "client_id"}
    assert body["expires_on"].isdigit() and int(body["expires_on"]) > time.time()
    claims = emu.tokens.verify(body["access_token"], emu.audiences())
    assert claims["oid"] == emu.app_identity.object_id and claims["idtyp"] == "app"
    assert claims["xms_mirid"] == emu.app_identity.mi_resource_id and claims["appidacr"] == "2"
    assert raw("GET", path, api_version=None)[0] == 400
    assert raw("GET", path, headers={"X-IDENTITY-HEADER": "wrong"}, api_version=None)[0] == 401
    assert raw("GET", path + "&client_id=someone-else", headers={"X-IDENTITY-HEADER": emu.identity_header},
               api_version=None)[0] == 400
    assert [r.kind for r in emu.requests] == ["token"] * 4


def test_admin_endpoints(emu):
    raw = Raw(emu, token=None)
    assert raw("POST", "/_emulator/seed", base_scenario(), api_version=None)[0] == 200
    status, _, body = raw("GET", "/_emulator/resources?type=Microsoft.CognitiveServices/accounts", api_version=None)
    assert [r["id"] for r in body["value"]] == [ACCOUNT]
    _, _, ident = raw("GET", "/_emulator/identity", api_version=None)
    assert ident["client_id"] == emu.app_identity.client_id and ident["identity_header"] == emu.identity_header
    _, _, tok = raw("POST", "/_emulator/token", {"name": "Sam Ops", "upn": "sam@contoso.example"}, api_version=None)
    assert raw.__class__(emu, token=tok["access_token"])("GET", ACCOUNT)[0] == 200
    assert raw("POST", "/_emulator/faults", {"method": "GET", "path": "aoai-prod$", "status": 503, "times": 1},
               api_version=None)[0] == 201
    assert Raw(emu)("GET", ACCOUNT)[0] == 503
    _, _, log = raw("GET", "/_emulator/requests", api_version=None)
    assert [(r["method"], r["status"], r["kind"]) for r in log["value"]] == [("GET", 200, "read"), ("GET", 503, "read")]
    assert log["value"][0]["caller"]["upn"] == "sam@contoso.example"
    assert raw("POST", "/_emulator/config", {"page_size": 5}, api_version=None)[2]["page_size"] == 5
    assert raw("DELETE", "/_emulator/requests", api_version=None)[0] == 204
    assert emu.requests == []
    assert raw("POST", "/_emulator/reset", api_version=None)[0] == 204
    assert emu.store.get(ACCOUNT) is None and emu.config.page_size == 100


def test_fault_reset_and_delay(emu):
    from localdev.arm_emulator import Fault
    emu.seed(base_scenario())
    emu.add_fault(Fault(path="aoai-prod$", status=None, delay_s=0.2, times=1))
    t = time.monotonic()
    assert Raw(emu)("GET", ACCOUNT)[0] == 200
    assert time.monotonic() - t >= 0.2
    emu.add_fault(Fault(path="aoai-prod$", reset=True, times=1))
    with pytest.raises((ConnectionError, OSError)):  # http.client raises RemoteDisconnected
        Raw(emu)("GET", ACCOUNT)
    assert Raw(emu)("GET", ACCOUNT)[0] == 200


def test_cli_prints_one_line_and_serves(tmp_path):
    scenario = tmp_path / "s.json"
    scenario.write_text(json.dumps(base_scenario()))
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen([sys.executable, "-m", "localdev.arm_emulator", "--port", "0", "--cert-dir",
                             str(tmp_path / "certs"), "--scenario", str(scenario)],
                            stdout=subprocess.PIPE, text=True, cwd=REPO, env=env)
    try:
        info = json.loads(proc.stdout.readline())
        assert info["url"].startswith("https://127.0.0.1:") and Path(info["ca_path"]).exists()
        assert info["identity_endpoint"] == info["url"] + "/msi/token" and info["identity_header"]
        import http.client
        import ssl
        port = int(info["url"].rsplit(":", 1)[1])
        conn = http.client.HTTPSConnection("127.0.0.1", port, timeout=5,
                                           context=ssl.create_default_context(cafile=info["ca_path"]))
        conn.request("GET", "/_emulator/resources?type=Microsoft.CognitiveServices/accounts")
        assert json.loads(conn.getresponse().read())["value"][0]["id"] == ACCOUNT
        conn.close()
    finally:
        proc.terminate()
        assert proc.wait(timeout=10) == 0


def test_certs_reused(tmp_path):
    a = ArmEmulator(cert_dir=tmp_path)
    first = Path(a.ca_path).read_bytes()
    b = ArmEmulator(cert_dir=tmp_path)
    assert Path(b.ca_path).read_bytes() == first
    (tmp_path / "server.pem").write_text("garbage")
    c = ArmEmulator(cert_dir=tmp_path)
    assert Path(c.ca_path).read_bytes() != first   # invalid pair -> regenerated


def test_seed_ten_thousand_accounts_fast(emu):
    t = time.monotonic()
    emu.seed({"resources": [
        {"id": f"{RG}/providers/Microsoft.CognitiveServices/accounts/acct-{i:05}", "kind": "OpenAI",
         "location": "eastus", "properties": {"customSubDomainName": f"acct-{i:05}"}} for i in range(10_000)]})
    assert time.monotonic() - t < 3.0
    assert len(emu.store.ids(type="Microsoft.CognitiveServices/accounts")) == 10_000
    emu.config.page_size = 1000
    raw = Raw(emu)
    path = f"{RG}/providers/Microsoft.CognitiveServices/accounts"
    t = time.monotonic()
    count, pages = 0, 0
    while path:
        _, _, body = raw("GET", path)
        count += len(body["value"])
        pages += 1
        nxt = body.get("nextLink")
        path = nxt.split(str(emu.port), 1)[1] if nxt else None
    assert (count, pages) == (10_000, 10)
    assert time.monotonic() - t < 5.0
