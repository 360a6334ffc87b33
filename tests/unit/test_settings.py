"""Settings from the environment (docs/configuration.md): defaults, one problem per bad setting, subnet maps."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from remediation.core.ids import parse_resource_id
from remediation.core.model import Mode
from remediation.core.settings import (
    NetworkBypass,
    PublicAccessMode,
    Settings,
    SettingsError,
    SubnetMap,
    normalize_location,
)

SUB = "00000000-1111-2222-3333-444444444444"
SUBNET = f"/subscriptions/{SUB}/resourceGroups/rg-net/providers/Microsoft.Network/virtualNetworks/vnet/subnets/pe"
SUBNET_WEST = (f"/subscriptions/{SUB}/resourceGroups/rg-net"
               "/providers/Microsoft.Network/virtualNetworks/vnet-w/subnets/pe")
VNET = f"/subscriptions/{SUB}/resourceGroups/rg-net/providers/Microsoft.Network/virtualNetworks/vnet"
REQUIRED = {"REMEDIATION_SCOPES": f"/subscriptions/{SUB}", "AzureWebJobsStorage": "UseDevelopmentStorage=true"}


def env(**values: str) -> dict[str, str]:
    return {**REQUIRED, **values}


def problems_of(environment: dict[str, str]) -> list[str]:
    with pytest.raises(SettingsError) as caught:
        Settings.from_env(environment)
    assert caught.value.problems, "a SettingsError always names at least one problem"
    for problem in caught.value.problems:
        assert problem in str(caught.value)
    return caught.value.problems


def test_defaults_are_design_defaults() -> None:
    s = Settings.from_env(REQUIRED)
    assert s.mode is Mode.REPORT
    assert s.kinds == frozenset({"openai", "aiservices"})
    assert s.public_network_access is PublicAccessMode.DISABLED
    assert s.allowed_ip_rules == ()
    assert s.allowed_vnet_subnet_ids == ()
    assert s.network_bypass is None  # not governed
    assert s.disable_local_auth is False
    assert s.pe_subnets.subnets == ()
    assert s.pe_subnets.for_location("eastus") is None
    assert s.pe_allowed_subnet_ids == ()
    assert s.dns_zone_resource_group is None
    assert s.exempt_tag == "remediation-exempt"
    assert s.max_fixes_per_hour == 3
    assert s.sweep_schedule == "0 */30 * * * *"
    assert s.arm_endpoint == "https://management.azure.com"
    assert s.arm_scope == "https://management.azure.com/.default"
    assert s.audit_table == "remediationaudit"
    assert s.eventgrid_topic_endpoint is None
    assert s.client_id is None
    assert s.scopes == (parse_resource_id(f"/subscriptions/{SUB}"),)
    assert s.storage_connection == "UseDevelopmentStorage=true"


def test_dataclass_defaults_match_from_env_defaults() -> None:
    built = Settings(scopes=(parse_resource_id(f"/subscriptions/{SUB}"),),
                     storage_connection="UseDevelopmentStorage=true")
    assert built == Settings.from_env(REQUIRED)


def test_blank_values_mean_default() -> None:
    s = Settings.from_env(env(REMEDIATION_MODE="  ", REMEDIATION_MAX_FIXES_PER_HOUR=""))
    assert s.mode is Mode.REPORT and s.max_fixes_per_hour == 3


def test_every_setting_read() -> None:
    s = Settings.from_env(env(
        REMEDIATION_MODE="Enforce",
        REMEDIATION_SCOPES=f" /subscriptions/{SUB}/resourceGroups/rg1 , /subscriptions/{SUB}/resourcegroups/RG1,"
                           f"/subscriptions/{SUB}/resourceGroups/rg2",
        REMEDIATION_KINDS="OpenAI, AIServices, CognitiveServices",
        REMEDIATION_PUBLIC_NETWORK_ACCESS="selectednetworks",
        REMEDIATION_ALLOWED_IP_RULES="203.0.113.0/24, 198.51.100.7, 2001:db8::/32",
        REMEDIATION_ALLOWED_VNET_SUBNET_IDS=f"{SUBNET}, "
                                            f"{SUBNET_WEST.upper().replace('/SUBSCRIPTIONS/', '/subscriptions/')}",
        REMEDIATION_NETWORK_BYPASS="azureservices",
        REMEDIATION_DISABLE_LOCAL_AUTH="true",
        REMEDIATION_PE_SUBNET_ID=SUBNET,
        REMEDIATION_PE_ALLOWED_SUBNET_IDS=f"{SUBNET_WEST}",
        REMEDIATION_DNS_ZONE_RESOURCE_GROUP_ID=f"/subscriptions/{SUB}/resourceGroups/rg-dns",
        REMEDIATION_EXEMPT_TAG="Lockdown-Exempt",
        REMEDIATION_MAX_FIXES_PER_HOUR="10",
        REMEDIATION_SWEEP_SCHEDULE="0 */5 * * * *",
        REMEDIATION_ARM_ENDPOINT="https://127.0.0.1:8443/",
        REMEDIATION_AUDIT_TABLE="audit2",
        REMEDIATION_EVENTGRID_TOPIC_ENDPOINT="https://topic.westus-1.eventgrid.azure.net/api/events",
        AZURE_CLIENT_ID="11111111-2222-3333-4444-555555555555",
    ))
    assert s.mode is Mode.ENFORCE
    assert s.scopes == (parse_resource_id(f"/subscriptions/{SUB}/resourceGroups/rg1"),
                        parse_resource_id(f"/subscriptions/{SUB}/resourceGroups/rg2"))  # duplicates folded
    assert s.kinds == frozenset({"openai", "aiservices", "cognitiveservices"})
    assert s.public_network_access is PublicAccessMode.SELECTED_NETWORKS
    assert s.allowed_ip_rules == (ipaddress.ip_network("203.0.113.0/24"), ipaddress.ip_network("198.51.100.7/32"),
                                  ipaddress.ip_network("2001:db8::/32"))
    assert s.allowed_vnet_subnet_ids == (parse_resource_id(SUBNET), parse_resource_id(SUBNET_WEST))
    assert s.network_bypass is NetworkBypass.AZURE_SERVICES and s.network_bypass.value == "AzureServices"
    assert s.disable_local_auth is True
    assert s.pe_subnets.for_location("anywhere") == parse_resource_id(SUBNET)
    assert s.pe_allowed_subnet_ids == (parse_resource_id(SUBNET_WEST),)
    assert s.allowed_subnets == frozenset({parse_resource_id(SUBNET), parse_resource_id(SUBNET_WEST)})
    assert s.dns_zone_resource_group == parse_resource_id(f"/subscriptions/{SUB}/resourceGroups/rg-dns")
    assert s.exempt_tag == "Lockdown-Exempt"
    assert s.max_fixes_per_hour == 10
    assert s.sweep_schedule == "0 */5 * * * *"
    assert s.arm_endpoint == "https://127.0.0.1:8443"
    assert s.arm_scope == "https://127.0.0.1:8443/.default"
    assert s.audit_table == "audit2"
    assert s.eventgrid_topic_endpoint == "https://topic.westus-1.eventgrid.azure.net/api/events"
    assert s.client_id == "11111111-2222-3333-4444-555555555555"


@pytest.mark.parametrize("endpoint, scope", [
    ("https://management.usgovcloudapi.net", "https://management.usgovcloudapi.net/.default"),
    ("https://management.chinacloudapi.cn/", "https://management.chinacloudapi.cn/.default"),
    ("https://localhost:8443", "https://localhost:8443/.default"),
])
def test_arm_scope_matches_endpoint(endpoint: str, scope: str) -> None:
    assert Settings.from_env(env(REMEDIATION_ARM_ENDPOINT=endpoint)).arm_scope == scope


def test_identity_based_storage_is_enough() -> None:
    s = Settings.from_env({"REMEDIATION_SCOPES": f"/subscriptions/{SUB}", "AzureWebJobsStorage__accountName": "st1"})
    assert s.storage_connection is None and s.storage_account_name == "st1"


# --- required settings ----------------------------------------------------------------------------

def test_nothing_set_names_both_required_settings() -> None:
    problems = problems_of({})
    assert len(problems) == 2
    assert sum(p.startswith("REMEDIATION_SCOPES") for p in problems) == 1
    assert sum(p.startswith("AzureWebJobsStorage") for p in problems) == 1


@pytest.mark.parametrize("value", [None, "", " , ,"])
def test_scopes_required(value: str | None) -> None:
    environment = {"AzureWebJobsStorage": "UseDevelopmentStorage=true"}
    if value is not None:
        environment["REMEDIATION_SCOPES"] = value
    problems = problems_of(environment)
    assert len(problems) == 1 and problems[0].startswith("REMEDIATION_SCOPES")


def test_storage_required() -> None:
    problems = problems_of({"REMEDIATION_SCOPES": f"/subscriptions/{SUB}"})
    assert len(problems) == 1 and problems[0].startswith("AzureWebJobsStorage")


# --- one problem per bad setting ------------------------------------------------------------------

BAD_VALUES = [
    ("REMEDIATION_MODE", "fix"),
    ("REMEDIATION_SCOPES", "/subscriptions/not-a-guid"),
    ("REMEDIATION_SCOPES", f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.CognitiveServices/accounts/a"),
    ("REMEDIATION_SCOPES", f"/subscriptions/{SUB}, /subscriptions/{SUB}/resourceGroups/../x"),
    ("REMEDIATION_KINDS", " , "),
    ("REMEDIATION_PUBLIC_NETWORK_ACCESS", "Enabled"),
    ("REMEDIATION_ALLOWED_IP_RULES", "10.0.0.1/8"),
    ("REMEDIATION_ALLOWED_IP_RULES", "10.0.0.0/8, example.com"),
    ("REMEDIATION_ALLOWED_VNET_SUBNET_IDS", f"{SUBNET}, {VNET}"),
    ("REMEDIATION_NETWORK_BYPASS", "Everything"),
    ("REMEDIATION_DISABLE_LOCAL_AUTH", "maybe"),
    ("REMEDIATION_PE_SUBNET_ID", VNET),
    ("REMEDIATION_PE_SUBNET_ID", "{not json"),
    ("REMEDIATION_PE_SUBNET_ID", "{}"),
    ("REMEDIATION_PE_SUBNET_ID", '{"eastus": 5}'),
    ("REMEDIATION_PE_SUBNET_ID", '{"eastus": "/subscriptions/x"}'),
    ("REMEDIATION_PE_SUBNET_ID", f'["{SUBNET}"]'),
    ("REMEDIATION_PE_ALLOWED_SUBNET_IDS", f"{SUBNET}, {VNET}"),
    ("REMEDIATION_DNS_ZONE_RESOURCE_GROUP_ID", f"/subscriptions/{SUB}"),
    ("REMEDIATION_DNS_ZONE_RESOURCE_GROUP_ID", VNET),
    ("REMEDIATION_EXEMPT_TAG", "a/b"),
    ("REMEDIATION_EXEMPT_TAG", "x" * 513),
    ("REMEDIATION_MAX_FIXES_PER_HOUR", "0"),
    ("REMEDIATION_MAX_FIXES_PER_HOUR", "three"),
    ("REMEDIATION_MAX_FIXES_PER_HOUR", "2.5"),
    ("REMEDIATION_SWEEP_SCHEDULE", "*/5 * * * *"),
    ("REMEDIATION_SWEEP_SCHEDULE", "0 */5 * * * * *"),
    ("REMEDIATION_SWEEP_SCHEDULE", "0 */5 * * * ;"),
    ("REMEDIATION_ARM_ENDPOINT", "http://management.azure.com"),
    ("REMEDIATION_ARM_ENDPOINT", "https://management.azure.com/subscriptions"),
    ("REMEDIATION_ARM_ENDPOINT", "management.azure.com"),
    ("REMEDIATION_AUDIT_TABLE", "ab"),
    ("REMEDIATION_AUDIT_TABLE", "audit-table"),
    ("REMEDIATION_AUDIT_TABLE", "1audit"),
    ("REMEDIATION_EVENTGRID_TOPIC_ENDPOINT", "http://topic.example/api/events"),
    ("AZURE_CLIENT_ID", "my-identity"),
]


@pytest.mark.parametrize("name, value", BAD_VALUES)
def test_bad_value_is_one_problem_naming_the_setting(name: str, value: str) -> None:
    problems = problems_of(env(**{name: value}))
    assert len(problems) == 1, problems
    assert problems[0].startswith(f"{name}:")


def test_several_bad_settings_one_problem_each() -> None:
    bad = {"REMEDIATION_MODE": "fix", "REMEDIATION_KINDS": ",", "REMEDIATION_MAX_FIXES_PER_HOUR": "-1",
           "REMEDIATION_AUDIT_TABLE": "a", "AZURE_CLIENT_ID": "x", "REMEDIATION_PE_SUBNET_ID": VNET}
    problems = problems_of(env(**bad))
    assert len(problems) == len(bad)
    for name in bad:
        assert sum(p.startswith(f"{name}:") for p in problems) == 1, (name, problems)


def test_all_bad_values_at_once_plus_missing_required() -> None:
    bad = {name: value for name, value in reversed(BAD_VALUES)}  # one bad value per setting
    bad.pop("REMEDIATION_SCOPES")
    problems = problems_of({**bad})  # AzureWebJobsStorage and REMEDIATION_SCOPES missing too
    assert len(problems) == len(bad) + 2
    for name in [*bad, "REMEDIATION_SCOPES", "AzureWebJobsStorage"]:
        assert sum(p.startswith(f"{name}:") for p in problems) == 1, (name, problems)


def test_deeply_nested_subnet_json_is_a_settings_error() -> None:
    problems = problems_of(env(REMEDIATION_PE_SUBNET_ID='{"a":' * 100_000 + '"x"' + "}" * 100_000))
    assert len(problems) == 1 and problems[0].startswith("REMEDIATION_PE_SUBNET_ID:")


@given(st.sampled_from(sorted({name for name, _ in BAD_VALUES} | {"REMEDIATION_EXEMPT_TAG"})),
       st.text(max_size=60))
@hsettings(max_examples=300)
def test_any_text_is_a_value_or_one_problem(name: str, value: str) -> None:
    try:
        Settings.from_env(env(**{name: value}))
    except SettingsError as error:
        assert len(error.problems) == 1
        assert error.problems[0].startswith(f"{name}:")


# --- private endpoint subnets ---------------------------------------------------------------------

def test_plain_subnet_id_serves_every_location() -> None:
    s = Settings.from_env(env(REMEDIATION_PE_SUBNET_ID=SUBNET))
    assert s.pe_subnets.for_location("eastus") == parse_resource_id(SUBNET)
    assert s.pe_subnets.for_location("West Europe") == parse_resource_id(SUBNET)
    assert s.pe_subnets.subnets == (parse_resource_id(SUBNET),)


def test_location_map_with_fallback_and_normalisation() -> None:
    mapping = f'{{"East US": "{SUBNET}", "westeurope": "{SUBNET_WEST}", "*": "{SUBNET_WEST}"}}'
    s = Settings.from_env(env(REMEDIATION_PE_SUBNET_ID=mapping))
    assert s.pe_subnets.for_location("eastus") == parse_resource_id(SUBNET)
    assert s.pe_subnets.for_location("East US") == parse_resource_id(SUBNET)
    assert s.pe_subnets.for_location("EASTUS") == parse_resource_id(SUBNET)
    assert s.pe_subnets.for_location("West Europe") == parse_resource_id(SUBNET_WEST)
    assert s.pe_subnets.for_location("japaneast") == parse_resource_id(SUBNET_WEST)  # '*'
    assert set(s.pe_subnets.subnets) == {parse_resource_id(SUBNET), parse_resource_id(SUBNET_WEST)}
    assert len(s.pe_subnets.subnets) == 2  # no duplicates
    assert s.allowed_subnets == frozenset({parse_resource_id(SUBNET), parse_resource_id(SUBNET_WEST)})


def test_location_map_without_fallback() -> None:
    s = Settings.from_env(env(REMEDIATION_PE_SUBNET_ID=f'{{"eastus": "{SUBNET}"}}'))
    assert s.pe_subnets.for_location("East US") == parse_resource_id(SUBNET)
    assert s.pe_subnets.for_location("westus") is None


@pytest.mark.parametrize("raw, expected", [("East US", "eastus"), ("eastus", "eastus"), ("West Europe", "westeurope"),
                                           ("  UK South ", "uksouth")])
def test_normalize_location(raw: str, expected: str) -> None:
    assert normalize_location(raw) == expected


def test_subnet_map_direct() -> None:
    subnet = parse_resource_id(SUBNET)
    assert SubnetMap().for_location("eastus") is None
    assert SubnetMap({"*": subnet}).for_location("anything") == subnet


@pytest.mark.parametrize("value, expected", [("true", True), ("TRUE", True), ("1", True), ("yes", True),
                                             ("false", False), ("0", False), ("No", False)])
def test_disable_local_auth_booleans(value: str, expected: bool) -> None:
    assert Settings.from_env(env(REMEDIATION_DISABLE_LOCAL_AUTH=value)).disable_local_auth is expected


@pytest.mark.parametrize("value, expected", [("None", NetworkBypass.NONE), ("none", NetworkBypass.NONE),
                                             ("AzureServices", NetworkBypass.AZURE_SERVICES), ("", None)])
def test_network_bypass_none_is_enforced_and_unset_is_not_governed(value: str, expected: NetworkBypass | None) -> None:
    assert Settings.from_env(env(REMEDIATION_NETWORK_BYPASS=value)).network_bypass is expected
