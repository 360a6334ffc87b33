"""Desired state: settings and kind → what the account should look like; the exemption tag."""

from __future__ import annotations

import ipaddress
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from arm_shapes import DNS_RG, OTHER_SUBNET_ID, SUBNET_ID, make_settings
from remediation.desired import (
    COGNITIVE_ZONE,
    OPENAI_ZONE,
    desired_state,
    exempt_until,
    zone_config_name,
)
from remediation.ids import parse_resource_id
from remediation.settings import PublicAccessMode, SubnetMap

NOW = datetime(2026, 11, 26, 10, 0, tzinfo=timezone.utc)
TAG = "remediation-exempt"


@pytest.mark.parametrize("value", ["true", "True", "TRUE", " true "])
def test_true_exempts(value: str) -> None:
    assert exempt_until({TAG: value}, TAG, NOW)


@pytest.mark.parametrize("value, exempt", [
    ("2026-11-27", True),
    ("2027-01-01", True),
    ("2026-11-26", True),  # a date covers the whole day
    ("2026-11-25", False),
    ("2020-01-01", False),
    ("2026-11-26T10:00:01Z", True),
    ("2026-11-26T09:59:59Z", False),
    ("2026-11-26T10:00:00Z", False),  # 'until' has passed at that instant
    ("2026-11-26T12:00:00+01:00", True),
    ("2026-11-26T10:30:00+01:00", False),
    ("2026-11-26T11:00:00", True),  # no offset: UTC
    ("2026-11-26T09:00:00", False),
])
def test_dates_and_times(value: str, exempt: bool) -> None:
    assert exempt_until({TAG: value}, TAG, NOW) is exempt


@pytest.mark.parametrize("value", ["false", "yes", "1", "", "soon", "2026/12/01", "2026-13-01", "31-12-2026",
                                   "tomorrow", "2026-12-01T25:00:00Z", "∞"])
def test_garbage_does_not_exempt(value: str) -> None:
    assert exempt_until({TAG: value}, TAG, NOW) is False


def test_tag_name_is_case_insensitive() -> None:
    assert exempt_until({"Remediation-Exempt": "true"}, TAG, NOW)
    assert exempt_until({TAG: "true"}, "REMEDIATION-EXEMPT", NOW)


def test_other_tags_do_not_exempt() -> None:
    assert not exempt_until({}, TAG, NOW)
    assert not exempt_until({"remediation-exempt-not": "true", "owner": "true"}, TAG, NOW)
    assert not exempt_until(None, TAG, NOW)
    assert not exempt_until(["remediation-exempt"], TAG, NOW)


def test_custom_tag_name() -> None:
    assert exempt_until({"Lockdown-Skip": "true"}, "lockdown-skip", NOW)
    assert not exempt_until({TAG: "true"}, "lockdown-skip", NOW)


@given(st.text(max_size=40))
def test_exempt_never_raises(value: str) -> None:
    assert exempt_until({TAG: value}, TAG, NOW) in (True, False)


@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(timezone.utc)))
def test_datetime_exempts_exactly_until_then(until: datetime) -> None:
    text = until.isoformat().replace("+00:00", "Z")
    assert exempt_until({TAG: text}, TAG, NOW) is (until > NOW)
    assert exempt_until({TAG: until.date().isoformat()}, TAG, NOW) is (until.date() >= NOW.date())


def test_desired_state_from_settings() -> None:
    subnet = parse_resource_id(SUBNET_ID)
    west = parse_resource_id(OTHER_SUBNET_ID)
    s = make_settings(public_network_access=PublicAccessMode.SELECTED_NETWORKS,
                      allowed_ip_rules=(ipaddress.ip_network("10.0.0.0/8"),), disable_local_auth=True,
                      pe_subnets=SubnetMap({"eastus": subnet, "westeurope": west}), pe_allowed_subnet_ids=())
    d = desired_state(s, "OpenAI", "East US")
    assert d.public_network_access is PublicAccessMode.SELECTED_NETWORKS
    assert d.disable_local_auth is True
    assert d.dns_zones == (OPENAI_ZONE,)
    assert d.new_endpoint_subnet == subnet
    assert desired_state(s, "OpenAI", "West Europe").new_endpoint_subnet == west
    assert desired_state(s, "OpenAI", "japaneast").new_endpoint_subnet is None
    assert d.serving_subnets == frozenset({subnet, west})
    assert d.zone_id(COGNITIVE_ZONE) == parse_resource_id(
        f"{DNS_RG}/providers/Microsoft.Network/privateDnsZones/{COGNITIVE_ZONE}")
    assert desired_state(make_settings(dns_zone_resource_group=None), "OpenAI", "eastus").zone_id(OPENAI_ZONE) is None


@pytest.mark.parametrize("rule, allowed", [
    ("10.1.2.3", True), ("10.0.0.0/8", True), ("10.0.0.0/7", False), ("11.0.0.1", False),
    ("2001:db8::1", False), ("not-an-ip", False), ("", False), ("10.1.2.3/16", True),
])
def test_ip_rule_allowed_by_cidr_containment(rule: str, allowed: bool) -> None:
    d = desired_state(make_settings(allowed_ip_rules=(ipaddress.ip_network("10.0.0.0/8"),)), "OpenAI", "eastus")
    assert d.ip_rule_allowed(rule) is allowed


def test_zone_config_name() -> None:
    assert zone_config_name("privatelink.openai.azure.com") == "privatelink-openai-azure-com"


def test_exempt_with_naive_now_treated_as_utc() -> None:
    # Callers pass an aware clock; a naive one must not crash the comparison for date-only values.
    assert exempt_until({TAG: "2999-01-01"}, TAG, NOW.replace(tzinfo=None))
    assert exempt_until({TAG: "true"}, TAG, NOW - timedelta(days=1))
