"""Property tests for plan(): total, deterministic, writes only where allowed, converges, waits when busy."""

from __future__ import annotations

import copy
import ipaddress
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from remediation.arm.apply import ACTIONS, in_run_order
from remediation.core.desired import desired_state, zones_for_kind
from remediation.core.findings import FindingCode
from remediation.core.ids import parse_resource_id
from remediation.core.model import TERMINAL_STATES, Account, ActionKind, Observation, PrivateEndpoint, Zone, ZoneGroup
from remediation.core.plan import Plan, exposure_fix, plan
from remediation.core.settings import NetworkBypass, PublicAccessMode, SubnetMap
from tests.helpers.arm_shapes import (
    ACCOUNT_ID,
    DNS_RG,
    EXISTING_PE_ID,
    FOREIGN_SUBNET_ID,
    OTHER_DNS_RG,
    OTHER_SUBNET_ID,
    SUBNET_ID,
    account_body,
    connection_body,
    endpoint_body,
    make_settings,
    record_id,
    record_set,
    zone_id,
)

NETWORK_CODES = {FindingCode.PUBLIC_NETWORK_ACCESS_ENABLED, FindingCode.NETWORK_DEFAULT_ACTION_ALLOW,
                 FindingCode.IP_RULE_NOT_ALLOWED, FindingCode.LOCAL_AUTH_ENABLED,
                 FindingCode.VIRTUAL_NETWORK_RULE_NOT_ALLOWED, FindingCode.NETWORK_BYPASS_NOT_ALLOWED}
IP_POOL = ["10.1.0.4", "10.1.0.5", "10.2.0.66"]
SUBNETS = [SUBNET_ID, OTHER_SUBNET_ID, FOREIGN_SUBNET_ID]
PE_IDS = [EXISTING_PE_ID,
          OTHER_SUBNET_ID.split("/providers/")[0] + "/providers/Microsoft.Network/privateEndpoints/pe-team",
          FOREIGN_SUBNET_ID.split("/providers/")[0] + "/providers/Microsoft.Network/privateEndpoints/pe-other",
          EXISTING_PE_ID + "-2"]
ALL_ZONE_NAMES = sorted({*zones_for_kind("OpenAI"), *zones_for_kind("AIServices")})
ALLOWED_POOL = ["10.0.0.0/8", "203.0.113.7/32", "198.51.100.0/24", "2001:db8::/32"]
VNETS = [s.rsplit("/subnets/", 1)[0] for s in SUBNETS]

text = st.text(max_size=12)
states = st.one_of(st.sampled_from(["Succeeded", "succeeded", "Failed", "Canceled", "Accepted", "Creating",
                                    "Deleting", "Updating", "Moving", "ResolvingDNS", None]), text)
ip_values = st.one_of(
    st.sampled_from(["10.1.2.3", "10.0.0.0/16", "203.0.113.7", "198.51.100.128/25", "8.8.8.8", "0.0.0.0/0",
                     "2001:db8::1", "2001:db9::/48", "garbage", "", "10.0.0.1/8"]),
    st.builds(lambda ip, p: f"{ip}/{p}", st.ip_addresses(v=4), st.integers(0, 32)),
    st.ip_addresses().map(str),
    text,
)
ip_rules = st.one_of(st.builds(lambda v: {"value": v}, ip_values),
                     st.builds(lambda v: {"value": v, "action": "Allow"}, ip_values),
                     st.just({"action": "Allow"}))
acls = st.one_of(
    st.none(),
    st.fixed_dictionaries(
        {"defaultAction": st.one_of(st.sampled_from(["Allow", "Deny", "deny", None]), text)},
        optional={
            "ipRules": st.lists(ip_rules, max_size=5),
            "virtualNetworkRules": st.lists(st.builds(lambda s: {"id": s}, st.sampled_from(SUBNETS)), max_size=2),
            "bypass": st.sampled_from(["AzureServices", "None", "azureservices"]),
            "futureField": st.dictionaries(text, st.integers(), max_size=2),
        }),
)
connection_status = st.one_of(
    st.sampled_from(["Approved", "Pending", "Rejected", "Disconnected", "pending", None]), text)


@st.composite
def connections(draw: st.DrawFn) -> list[dict]:
    out = []
    for i in range(draw(st.integers(0, 3))):
        pe = draw(st.one_of(st.sampled_from(PE_IDS), st.just("not-an-id")))
        conn = connection_body(pe, "Approved", name=f"conn{i}")
        conn["properties"]["privateLinkServiceConnectionState"]["status"] = draw(connection_status)
        if draw(st.integers(0, 9)) == 0:
            conn.pop("id")  # a connection without an ID cannot be approved, but must not break planning
        out.append(conn)
    return out


@st.composite
def account_bodies(draw: st.DrawFn) -> dict[str, Any]:
    body = account_body(
        kind=draw(st.sampled_from(["OpenAI", "AIServices", "CognitiveServices", "openai"])),
        location=draw(st.sampled_from(["eastus", "East US", "westeurope"])),
        account_id=draw(st.sampled_from([ACCOUNT_ID, ACCOUNT_ID.replace("resourceGroups", "resourcegroups").upper()
                                         .replace("/SUBSCRIPTIONS/", "/subscriptions/")])),
        connections=draw(connections()),
    )
    props = body["properties"]
    props["provisioningState"] = draw(states)
    props["publicNetworkAccess"] = draw(st.one_of(st.sampled_from(["Enabled", "Disabled", "disabled", None]), text))
    props["networkAcls"] = draw(acls)
    props["disableLocalAuth"] = draw(st.sampled_from([True, False, None]))
    props["customSubDomainName"] = draw(st.sampled_from(["myaccount", "myaccount", "myaccount", None, ""]))
    for key in ("publicNetworkAccess", "networkAcls", "disableLocalAuth"):
        if draw(st.integers(0, 5)) == 0:
            props.pop(key)
    return body


@st.composite
def zone_groups(draw: st.DrawFn) -> ZoneGroup | None:
    if draw(st.booleans()):
        return None
    names = draw(st.lists(st.sampled_from(ALL_ZONE_NAMES), unique=True, max_size=3))
    configs = tuple((n.replace(".", "-"), zone_id(n, draw(st.sampled_from([DNS_RG, OTHER_DNS_RG])))) for n in names)
    return ZoneGroup(draw(st.sampled_from(["default", "custom"])), configs)


@st.composite
def observations(draw: st.DrawFn) -> Observation:
    account = Account.from_arm(draw(account_bodies()))
    endpoints = {}
    for pe in PE_IDS:
        if draw(st.integers(0, 4)):
            subnet = draw(st.sampled_from([*SUBNETS, None]))
            rid = parse_resource_id(pe)
            ips = tuple(draw(st.lists(st.sampled_from(IP_POOL), unique=True, max_size=2)))
            body = endpoint_body(pe, subnet, ips, draw(st.sampled_from(["OpenAI", "AIServices"])))
            endpoints[rid] = PrivateEndpoint.from_arm(rid, body, draw(zone_groups()))
    zone_map, record_map = {}, {}
    for rg in (DNS_RG, OTHER_DNS_RG):  # observe() reads every zone plan() may judge
        for name in ALL_ZONE_NAMES:
            zid = zone_id(name, rg)
            linked = draw(st.lists(st.sampled_from(VNETS), unique=True, max_size=3))
            zone_map[zid] = Zone(zid, draw(st.booleans()), frozenset(parse_resource_id(v) for v in linked))
            held = draw(st.one_of(st.none(), st.lists(st.sampled_from(IP_POOL), unique=True, max_size=3)))
            record_map[record_id(zid)] = record_set(zid, tuple(held)) if held is not None else None
    return Observation(account, endpoints, zone_map, (), record_map)


@st.composite
def app_settings(draw: st.DrawFn):
    subnet_choice = draw(st.sampled_from(["none", "plain", "map"]))
    pe_subnets = {
        "none": SubnetMap(),
        "plain": SubnetMap({"*": parse_resource_id(SUBNET_ID)}),
        "map": SubnetMap({"eastus": parse_resource_id(SUBNET_ID), "westeurope": parse_resource_id(OTHER_SUBNET_ID)}),
    }[subnet_choice]
    return make_settings(
        public_network_access=draw(st.sampled_from(list(PublicAccessMode))),
        allowed_ip_rules=tuple(ipaddress.ip_network(a)
                               for a in draw(st.lists(st.sampled_from(ALLOWED_POOL), unique=True))),
        disable_local_auth=draw(st.booleans()),
        pe_subnets=pe_subnets,
        pe_allowed_subnet_ids=draw(st.sampled_from([(), (parse_resource_id(OTHER_SUBNET_ID),)])),
        dns_zone_resource_group=draw(st.sampled_from([parse_resource_id(DNS_RG), None])),
        allowed_vnet_subnet_ids=tuple(parse_resource_id(x) for x in draw(st.lists(st.sampled_from(SUBNETS),
                                                                                  unique=True, max_size=2))),
        network_bypass=draw(st.sampled_from([None, *NetworkBypass])),
    )


def run(s, obs: Observation) -> tuple[Any, Plan]:
    desired = desired_state(s, obs.account.kind, obs.account.location)
    return desired, plan(desired, obs)


PROPS = settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])


@PROPS
@given(app_settings(), observations())
def test_plan_is_total_and_deterministic(s, obs: Observation) -> None:
    _, first = run(s, obs)
    _, second = run(s, copy.deepcopy(obs))
    assert first == second
    assert isinstance(first, Plan)


@PROPS
@given(app_settings(), observations())
def test_actions_ordered_unique_and_requirements_come_first(s, obs: Observation) -> None:
    _, result = run(s, obs)
    ordered = in_run_order(result.actions)
    kinds = [ACTIONS[a.kind].order for a in ordered]
    assert kinds == sorted(kinds)
    keys = [(a.kind, a.target) for a in result.actions]
    assert len(keys) == len(set(keys))
    for i, action in enumerate(ordered):
        earlier = {a.target for a in ordered[:i]}
        for needed in action.requires:
            assert needed in earlier, (action, needed)


@PROPS
@given(app_settings(), observations())
def test_writes_stay_in_allowed_places(s, obs: Observation) -> None:
    desired, result = run(s, obs)
    account = obs.account
    allowed_scopes = [account.id]
    allowed_scopes += [subnet.resource_group_id for subnet in s.pe_subnets.subnets]
    if s.dns_zone_resource_group is not None:
        allowed_scopes.append(s.dns_zone_resource_group)
    allowed_scopes += [pe.id for pe in obs.endpoints.values() if pe.subnet_id in desired.serving_subnets]
    for action in result.actions:
        if action.blocked:
            continue
        assert any(action.target.is_within(scope) for scope in allowed_scopes), action
        assert any(action.target.is_within(scope) for scope in s.scopes) or action.target.is_within(account.id)
        if action.kind in (ActionKind.PATCH_ACCOUNT_NETWORK, ActionKind.APPROVE_CONNECTION):
            assert action.target.is_within(account.id)
        if action.kind in (ActionKind.CREATE_DNS_ZONE, ActionKind.CREATE_DNS_ZONE_LINK):
            assert s.dns_zone_resource_group is not None and action.target.is_within(s.dns_zone_resource_group)


@PROPS
@given(app_settings(), observations())
def test_patch_holds_only_governed_properties_and_never_opens_access(s, obs: Observation) -> None:
    _, result = run(s, obs)
    for action in result.actions:
        if action.kind is not ActionKind.PATCH_ACCOUNT_NETWORK:
            continue
        assert set(action.body) == {"properties"}
        props = action.body["properties"]
        assert props and set(props) <= {"publicNetworkAccess", "networkAcls", "disableLocalAuth"}
        assert props.get("publicNetworkAccess", "Disabled") == "Disabled"
        assert props.get("disableLocalAuth", True) is True
        if "networkAcls" in props:
            acls = props["networkAcls"]
            assert acls["defaultAction"] == "Deny"
            before = obs.account.network_acls or {}
            for key, value in before.items():  # nothing but the governed fields changes
                if key not in ("defaultAction", "ipRules", "virtualNetworkRules", "bypass"):
                    assert acls[key] == value
            for rules in ("ipRules", "virtualNetworkRules"):
                if s.public_network_access is PublicAccessMode.DISABLED:
                    assert acls.get(rules) == before.get(rules)
                elif rules in acls:  # only a subset, never a new rule
                    assert all(rule in (before.get(rules) or []) for rule in acls[rules])
            assert acls.get("bypass") == (s.network_bypass.value if s.network_bypass else before.get("bypass"))


@PROPS
@given(app_settings(), observations())
def test_applying_the_patch_converges(s, obs: Observation) -> None:
    _, result = run(s, obs)
    patches = [a for a in in_run_order(result.actions) if a.kind in ACCOUNT_PATCHES]  # the close first
    if not obs.account.ready:
        return
    body = {"id": str(obs.account.id), "kind": obs.account.kind, "location": obs.account.location,
            "tags": dict(obs.account.tags), "properties": {
                "provisioningState": obs.account.provisioning_state,
                "publicNetworkAccess": obs.account.public_network_access,
                "networkAcls": copy.deepcopy(obs.account.network_acls),
                "disableLocalAuth": obs.account.disable_local_auth,
                "customSubDomainName": obs.account.custom_subdomain}}
    for patch in patches:
        body["properties"].update(copy.deepcopy(patch.body["properties"]))
    again = Observation(Account.from_arm(body), obs.endpoints, obs.zones)
    _, second = run(s, again)
    assert not (set(f.code for f in second.findings) & NETWORK_CODES), second.findings
    assert not [a for a in second.actions if a.kind in ACCOUNT_PATCHES]
    # and the network findings of the first plan are exactly the ones the patch fixed
    assert bool(patches) == bool(set(f.code for f in result.findings) & NETWORK_CODES)


ACCOUNT_PATCHES = (ActionKind.CLOSE_EXPOSURE, ActionKind.PATCH_ACCOUNT_NETWORK)


@PROPS
@given(app_settings(), observations())
def test_the_close_is_first_alone_and_leaves_nothing_open(s, obs: Observation) -> None:
    """The exposure is closed by the first write, which carries only the property that closes it; once it is
    written, the account is not open, whatever else is wrong with it."""
    desired, result = run(s, obs)
    closes = [a for a in result.actions if a.kind is ActionKind.CLOSE_EXPOSURE]
    if not obs.account.ready:
        assert result.actions == ()  # Azure refuses writes while an operation runs: the reconcile waits first
        return
    if not closes:
        assert exposure_fix(desired, obs.account) is None
        return
    (close,) = closes
    assert in_run_order(result.actions)[0] == close
    assert set(close.body["properties"]) == ({"publicNetworkAccess"} if s.public_network_access is
                                             PublicAccessMode.DISABLED else {"networkAcls"})
    body = {"id": str(obs.account.id), "kind": obs.account.kind, "properties": {
        "publicNetworkAccess": obs.account.public_network_access,
        "networkAcls": copy.deepcopy(obs.account.network_acls),
        **copy.deepcopy(close.body["properties"])}}
    assert exposure_fix(desired, Account.from_arm(body)) is None


@PROPS
@given(app_settings(), observations())
def test_busy_account_gets_no_actions(s, obs: Observation) -> None:
    _, result = run(s, obs)
    state = obs.account.provisioning_state
    terminal = not state or state.lower() in TERMINAL_STATES  # absent or empty: nothing is running
    if terminal:
        assert not result.not_ready
    else:
        assert result.actions == ()
        assert [f.code for f in result.findings] == [FindingCode.ACCOUNT_NOT_READY]


@PROPS
@given(app_settings(), observations(), st.sampled_from(["Accepted", "Creating", "Deleting", "Updating", "Moving"]))
def test_forced_busy_state_gets_no_actions(s, obs: Observation, state: str) -> None:
    busy = Account(**{**obs.account.__dict__, "provisioning_state": state})
    _, result = run(s, Observation(busy, obs.endpoints, obs.zones))
    assert result.actions == () and result.not_ready


@PROPS
@given(app_settings(), observations())
def test_one_private_endpoint_at_most_and_only_when_none_serves(s, obs: Observation) -> None:
    desired, result = run(s, obs)
    creates = [a for a in result.actions if a.kind is ActionKind.CREATE_PRIVATE_ENDPOINT]
    assert len(creates) <= 1
    serving = [c for c in obs.account.connections
               if (c.approved or (c.pending and c.id is not None)) and c.private_endpoint_id in obs.endpoints
               and obs.endpoints[c.private_endpoint_id].subnet_id in desired.serving_subnets]
    if creates:
        assert not serving
        assert FindingCode.PRIVATE_ENDPOINT_MISSING in {f.code for f in result.findings}
    if serving and obs.account.ready:
        assert FindingCode.PRIVATE_ENDPOINT_MISSING not in {f.code for f in result.findings}


@PROPS
@given(app_settings(), observations())
def test_record_puts_name_only_the_accounts_record_and_only_serving_addresses(s, obs: Observation) -> None:
    desired, result = run(s, obs)
    serving = {pe.id for pe in obs.endpoints.values() if pe.subnet_id in desired.serving_subnets}
    ips = {ip for pe in obs.endpoints.values() if pe.id in serving for pair in pe.dns_configs.values() for ip in pair}
    for action in result.actions:
        if action.kind is not ActionKind.PUT_DNS_RECORD:
            continue
        assert action.target.name == (obs.account.custom_subdomain or "").lower()
        assert action.target.is_type("Microsoft.Network/privateDnsZones/A")
        addresses = [r["ipv4Address"] for r in action.body["properties"]["aRecords"]]
        assert addresses and set(addresses) <= ips
        read = obs.records[action.target]
        assert action.body["etag"] == (read.etag if read else None)
        assert bool(action.blocked) != (s.dns_zone_resource_group is not None
                                        and action.target.is_within(s.dns_zone_resource_group))


@PROPS
@given(app_settings(), observations())
def test_putting_the_records_back_converges(s, obs: Observation) -> None:
    _, result = run(s, obs)
    records = dict(obs.records)
    for action in result.actions:
        if action.kind is ActionKind.PUT_DNS_RECORD:
            zone = action.target.parent
            addresses = tuple(r["ipv4Address"] for r in action.body["properties"]["aRecords"])
            records[action.target] = record_set(zone, addresses)
    _, second = run(s, Observation(obs.account, obs.endpoints, obs.zones, (), records))
    assert FindingCode.PRIVATE_DNS_RECORD_MISMATCH not in {f.code for f in second.findings}
