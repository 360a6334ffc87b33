"""REMEDIATION_RESOLUTION_CHECK=on in a reconcile: the account's public names resolved through the local DNS
server (Azure's resolver for the hub VNet, reading the emulator) and judged against the serving endpoints'
IPs. Reported only: the record says what was answered and the likely cause."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from localdev.dns_server import DnsServer, ResolverMode
from localdev.estate import OPENAI_ZONE, VNET_ID, Estate, account_id, zone_id
from remediation.core.ids import parse_account_id
from remediation.core.model import Trigger
from tests.conftest import Stack

AOAI = account_id("aoai-prod")
CODE = "PRIVATE_DNS_RESOLUTION_NOT_PRIVATE"


@pytest.fixture
def dns(stack: Stack) -> Iterator[DnsServer]:
    with DnsServer(stack.emulator, VNET_ID) as server:
        yield server


def reconcile(stack: Stack, dns: DnsServer, **settings: str) -> dict[str, Any]:
    remediator = stack.remediator(REMEDIATION_RESOLUTION_CHECK="on", REMEDIATION_DNS_RESOLVER=dns.address,
                                  **settings)
    return remediator.reconcile(parse_account_id(AOAI), Trigger.HTTP).record.to_json()


def resolution_findings(record: dict[str, Any]) -> list[dict[str, Any]]:
    return [f for f in record["findings"] if f["code"] == CODE]


def test_a_linked_zone_answering_the_endpoint_passes(stack: Stack, dns: DnsServer) -> None:
    stack.seed(Estate().network((OPENAI_ZONE,)).locked("aoai-prod"))
    record = reconcile(stack, dns)
    assert record["outcome"] == "compliant", record
    assert resolution_findings(record) == []


def test_an_unlinked_zone_answers_publicly_and_says_so(stack: Stack, dns: DnsServer) -> None:
    stack.seed(Estate().network((OPENAI_ZONE,), linked=False).locked("aoai-prod"))
    record = reconcile(stack, dns, REMEDIATION_MODE="report")
    [finding] = resolution_findings(record)
    assert finding["property"] == "dns:aoai-prod.openai.azure.com"
    assert "aoai-prod.privatelink.openai.azure.com" in finding["actual"]["answered"]
    assert "is not linked to the resolver's virtual network" in finding["actual"]["likelyCause"]
    assert "does not forward" not in finding["actual"]["likelyCause"]
    assert finding["expected"] and all(ip.startswith("10.1.") for ip in finding["expected"])
    assert CODE in (record["error"] or "")


def test_a_resolver_that_answers_publicly_is_named_as_the_cause(stack: Stack, dns: DnsServer) -> None:
    stack.seed(Estate().network((OPENAI_ZONE,)).locked("aoai-prod"))
    dns.mode = ResolverMode.PUBLIC_ONLY  # a custom DNS server that forwards the privatelink zone to public DNS
    record = reconcile(stack, dns)
    [finding] = resolution_findings(record)
    assert "custom DNS server that does not forward" in finding["actual"]["likelyCause"]
    assert record["outcome"] == "failed" and stack.writes() == []  # reported only: nothing to write


def test_a_record_repointed_is_found_by_value_and_by_name(stack: Stack, dns: DnsServer) -> None:
    stack.seed(Estate().network((OPENAI_ZONE,)).locked("aoai-prod"))
    stack.as_user("PUT", f"{zone_id(OPENAI_ZONE)}/A/aoai-prod",
                  {"properties": {"ttl": 10, "aRecords": [{"ipv4Address": "10.2.0.9"}]}}, api_version="2024-06-01")
    record = reconcile(stack, dns, REMEDIATION_MODE="report")
    [finding] = resolution_findings(record)
    assert "10.2.0.9" in finding["actual"]["answered"]
    assert "the record points elsewhere" in finding["actual"]["likelyCause"]
    assert any(f["code"] == "PRIVATE_DNS_RECORD_MISMATCH" for f in record["findings"])
