"""The DNS server from the command line: an option of the emulator's CLI, answering for the VNet it names."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import dns.message
import dns.query
import dns.rdatatype

from localdev.estate import OPENAI_ZONE, VNET_ID, Estate

REPO = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "PYTHONPATH": str(REPO)}


def answers(address: str, name: str) -> list[tuple[str, str]]:
    host, port = address.rsplit(":", 1)
    response = dns.query.udp(dns.message.make_query(name, "A"), host, port=int(port), timeout=5)
    return [(dns.rdatatype.to_text(rrset.rdtype), rdata.to_text()) for rrset in response.answer for rdata in rrset]


def start(tmp_path: Path, *dns_args: str) -> tuple[subprocess.Popen[str], dict[str, str]]:
    scenario = tmp_path / "estate.json"
    scenario.write_text(json.dumps(Estate().network((OPENAI_ZONE,)).locked("aoai-prod").scenario()))
    proc = subprocess.Popen([sys.executable, "-m", "localdev.arm_emulator", "--port", "0", "--cert-dir",
                             str(tmp_path / "certs"), "--scenario", str(scenario), *dns_args],
                            stdout=subprocess.PIPE, text=True, cwd=REPO, env=ENV)
    assert proc.stdout is not None
    return proc, json.loads(proc.stdout.readline())


def test_the_emulator_answers_dns_for_the_vnet_it_is_given(tmp_path: Path) -> None:
    proc, info = start(tmp_path, "--dns-port", "0", "--dns-vnet", VNET_ID)
    try:
        assert info["dns_vnet"] == VNET_ID and info["dns"].startswith("127.0.0.1:")
        chain = answers(info["dns"], "aoai-prod.openai.azure.com")
        assert chain[0] == ("CNAME", "aoai-prod.privatelink.openai.azure.com.")
        assert chain[1][0] == "A" and chain[1][1].startswith("10.1.")   # the endpoint's private address
    finally:
        proc.terminate()
        assert proc.wait(timeout=10) == 0


def test_without_a_vnet_it_answers_as_public_dns(tmp_path: Path) -> None:
    proc, info = start(tmp_path, "--dns-port", "0")
    try:
        assert info["dns_vnet"] is None
        chain = answers(info["dns"], "aoai-prod.openai.azure.com")
        assert chain[0] == ("CNAME", "aoai-prod.privatelink.openai.azure.com.")
        assert chain[1][0] == "A" and chain[1][1].startswith("203.0.113.")   # no zone is linked outside a VNet
    finally:
        proc.terminate()
        assert proc.wait(timeout=10) == 0


def test_no_dns_server_unless_asked_and_a_vnet_needs_a_port(tmp_path: Path) -> None:
    proc, info = start(tmp_path)
    proc.terminate()
    assert proc.wait(timeout=10) == 0 and "dns" not in info
    refused = subprocess.run([sys.executable, "-m", "localdev.arm_emulator", "--dns-vnet", VNET_ID], cwd=REPO,
                             env=ENV, capture_output=True, text=True, timeout=30)
    assert refused.returncode == 2 and "--dns-vnet needs --dns-port" in refused.stderr


def test_the_dns_server_module_says_how_to_start_it() -> None:
    done = subprocess.run([sys.executable, "-m", "localdev.dns_server"], cwd=REPO, env=ENV, capture_output=True,
                          text=True, timeout=30)
    assert done.returncode == 2 and "python -m localdev.arm_emulator --dns-port" in done.stderr
