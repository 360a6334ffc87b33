"""Desired state: settings and kind → what the account should look like; the exemption rule."""

from __future__ import annotations

import ipaddress
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from remediation.core.desired import COGNITIVE_ZONE, OPENAI_ZONE, desired_state
from remediation.core.exemption import exemption
from remediation.core.ids import parse_resource_id
from remediation.core.naming import zone_config_name
from remediation.core.settings import PublicAccessMode, Settings, SubnetMap
from tests.helpers.arm_shapes import ACCOUNT_ID as ACCOUNT
from tests.helpers.arm_shapes import DNS_RG, OTHER_SUBNET_ID, SUBNET_ID, make_settings

NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
TAG = "remediation-exempt"


def exempt(tags: object, settings: Settings | None = None, now: datetime = NOW, account: str = ACCOUNT) -> bool:
    return exemption(settings or make_settings(), parse_resource_id(account), tags, now).exempt


@pytest.mark.parametrize("value", ["true", "True", "TRUE", " true ", "yes"])
def test_true_does_not_exempt_and_says_why(value: str) -> None:
    found = exemption(make_settings(), parse_resource_id(ACCOUNT), {TAG: value}, NOW)
    assert not found.exempt and found.value == value and "ISO date" in (found.reason or "")
    assert found.to_json() == {"exempt": False, "by": None, "tag": TAG, "value": value, "reason": found.reason}


@pytest.mark.parametrize("value, is_exempt", [
    ("2026-11-27", True),
    ("2027-01-01", True),   # 36 days ahead
    ("2027-02-24", True),   # 90 days ahead: the last day allowed
    ("2027-02-25", False),  # 91 days ahead
    ("9999-12-31", False),
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
    ("2027-02-24T10:00:00Z", True),
    ("2027-02-24T10:00:01Z", False),
])
def test_dates_and_times(value: str, is_exempt: bool) -> None:
    assert exempt({TAG: value}) is is_exempt


def test_the_horizon_is_a_setting() -> None:
    assert not exempt({TAG: "2026-12-10"}, make_settings(exempt_max_days=7))
    assert exempt({TAG: "2026-12-03"}, make_settings(exempt_max_days=7))
    assert exempt({TAG: "2026-11-26"}, make_settings(exempt_max_days=0))


def test_reasons_name_what_is_wrong() -> None:
    def reason(value: str) -> str | None:
        return exemption(make_settings(), parse_resource_id(ACCOUNT), {TAG: value}, NOW).reason

    assert reason("2020-01-01") == "the date has passed"
    assert reason("9999-12-31") == "more than 90 days ahead (REMEDIATION_EXEMPT_MAX_DAYS)"
    assert reason("soon") == "not an ISO date (YYYY-MM-DD) or date-time"
    assert reason("2026-12-01") is None


@pytest.mark.parametrize("value", ["false", "yes", "1", "", "soon", "2026/12/01", "2026-13-01", "31-12-2026",
                                   "tomorrow", "2026-12-01T25:00:00Z", "∞", "2026-12-01 10:00:00"])
def test_garbage_does_not_exempt(value: str) -> None:
    assert exempt({TAG: value}) is False


def test_the_account_ids_setting_exempts_without_end_and_without_a_tag() -> None:
    settings = make_settings(exempt_account_ids=frozenset({parse_resource_id(ACCOUNT.upper())}))
    found = exemption(settings, parse_resource_id(ACCOUNT), {}, NOW)
    assert found.exempt and found.by == "REMEDIATION_EXEMPT_ACCOUNT_IDS"
    assert exemption(settings, parse_resource_id(ACCOUNT), {TAG: "2020-01-01"}, NOW).exempt
    assert not exempt({}, settings, account=ACCOUNT + "x")


def test_tag_name_is_case_insensitive() -> None:
    assert exempt({"Remediation-Exempt": "2026-12-01"})
    assert exempt({TAG: "2026-12-01"}, make_settings(exempt_tag="REMEDIATION-EXEMPT"))


def test_other_tags_do_not_exempt() -> None:
    assert not exempt({})
    assert not exempt({"remediation-exempt-not": "2026-12-01", "owner": "2026-12-01"})
    assert not exempt(None)
    assert not exempt(["remediation-exempt"])
    assert exemption(make_settings(), parse_resource_id(ACCOUNT), {}, NOW).to_json() is None


@given(st.text(max_size=80))
def test_exemption_never_raises_and_keeps_the_value_bounded(value: str) -> None:
    found = exemption(make_settings(), parse_resource_id(ACCOUNT), {TAG: value}, NOW)
    assert found.exempt in (True, False) and len(found.value or "") <= 64


@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)))
def test_datetime_exempts_until_then_within_the_horizon(until: datetime) -> None:
    text = until.isoformat().replace("+00:00", "Z")
    assert exempt({TAG: text}) is (NOW < until <= NOW + timedelta(days=90))
    days = (until.date() - NOW.date()).days
    assert exempt({TAG: until.date().isoformat()}) is (0 <= days <= 90)


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
    assert exempt({TAG: "2026-12-24"}, now=NOW.replace(tzinfo=None))
    assert not exempt({TAG: "2999-01-01"}, now=NOW.replace(tzinfo=None))
