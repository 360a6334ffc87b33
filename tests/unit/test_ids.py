"""ARM resource IDs: strict parsing, case-insensitive identity, segment-wise scope checks."""

from __future__ import annotations

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from remediation.core.ids import (
    InvalidResourceId,
    ResourceId,
    parse_account_id,
    parse_resource_id,
    parse_scope,
    within_any,
)

SUB = "00000000-1111-2222-3333-444444444444"
ACCOUNT = f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.CognitiveServices/accounts/aoai-prod"


# --- parsing and printing -------------------------------------------------------------------------

def test_parse_account_fields() -> None:
    rid = parse_resource_id(ACCOUNT)
    assert rid.subscription_id == SUB
    assert rid.resource_group == "rg"
    assert rid.namespace == "Microsoft.CognitiveServices"
    assert rid.types == ("accounts",)
    assert rid.names == ("aoai-prod",)
    assert rid.resource_type == "Microsoft.CognitiveServices/accounts"
    assert rid.name == "aoai-prod"


@pytest.mark.parametrize("text", [
    f"/subscriptions/{SUB}",
    f"/subscriptions/{SUB}/resourceGroups/rg-1",
    ACCOUNT,
    f"{ACCOUNT}/privateEndpointConnections/pec.1",
    f"/subscriptions/{SUB}/providers/Microsoft.Resources/deployments/d1",
    f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Network/privateDnsZones/privatelink.openai.azure.com",
])
def test_str_round_trip(text: str) -> None:
    assert str(parse_resource_id(text)) == text
    assert parse_resource_id(str(parse_resource_id(text))) == parse_resource_id(text)


def test_str_normalises_resource_groups_spelling() -> None:
    rid = parse_resource_id(ACCOUNT.replace("resourceGroups", "resourcegroups").replace("providers", "PROVIDERS"))
    assert str(rid) == ACCOUNT


def test_case_insensitive_equality_and_hash() -> None:
    a = parse_resource_id(ACCOUNT)
    b = parse_resource_id(
        ACCOUNT.replace("resourceGroups", "resourcegroups").upper().replace("/SUBSCRIPTIONS", "/subscriptions"))
    assert a == b
    assert hash(a) == hash(b)
    assert len({a, b}) == 1
    assert {a: 1}[b] == 1
    assert a.key == b.key == ACCOUNT.lower()


def test_different_ids_are_not_equal() -> None:
    assert parse_resource_id(ACCOUNT) != parse_resource_id(ACCOUNT + "2")
    assert parse_resource_id(ACCOUNT) != ACCOUNT  # a string is not a ResourceId


def test_trailing_slash_tolerated() -> None:
    assert parse_resource_id(ACCOUNT + "/") == parse_resource_id(ACCOUNT)
    assert str(parse_account_id(ACCOUNT + "/")) == ACCOUNT
    assert parse_scope(f"/subscriptions/{SUB}/") == parse_scope(f"/subscriptions/{SUB}")


def test_parent_child_and_resource_group_id() -> None:
    account = parse_resource_id(ACCOUNT)
    child = account.child("privateEndpointConnections", "c1")
    assert str(child) == f"{ACCOUNT}/privateEndpointConnections/c1"
    assert child.parent == account
    assert child.resource_type == "Microsoft.CognitiveServices/accounts/privateEndpointConnections"
    assert account.resource_group_id == parse_resource_id(f"/subscriptions/{SUB}/resourceGroups/rg")
    with pytest.raises(InvalidResourceId):
        _ = account.parent
    with pytest.raises(InvalidResourceId):
        _ = parse_resource_id(f"/subscriptions/{SUB}").resource_group_id


# --- rejection ------------------------------------------------------------------------------------

@pytest.mark.parametrize("text", [
    "",
    "/",
    "subscriptions/" + SUB,  # no leading slash
    f"/subscriptions/{SUB}/resourceGroups/rg/../rg2/providers/Microsoft.CognitiveServices/accounts/a",
    f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.CognitiveServices/accounts/..",
    f"/subscriptions/{SUB}/resourceGroups/./providers/Microsoft.CognitiveServices/accounts/a",
    f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.CognitiveServices/accounts/.",
    f"/subscriptions/{SUB}//resourceGroups/rg",
    f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.CognitiveServices/accounts/a//",
    f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.CognitiveServices/accounts/a%2F..%2Fb",
    f"/subscriptions/{SUB}/resourceGroups/rg%2Fother/providers/Microsoft.CognitiveServices/accounts/a",
    f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.CognitiveServices/accounts/a b",
    f" /subscriptions/{SUB}",
    f"/subscriptions/{SUB}/resourceGroups/ rg",
    f"/subscriptions/{SUB}/resourceGroups/rg\t",
    "/subscriptions/not-a-guid/resourceGroups/rg",
    "/subscriptions/00000000-1111-2222-3333-44444444444/resourceGroups/rg",  # one digit short
    f"/subscriptions/{SUB}/resourceGroups",
    f"/subscriptions/{SUB}/resourceGroups/rg.",  # ARM: a group name does not end in a period
    f"/subscriptions/{SUB}/resourceGroups/rg/providers",
    f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.CognitiveServices",
    f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.CognitiveServices/accounts",
    f"/subscriptions/{SUB}/resourceGroups/rg/providers/NotANamespace/accounts/a",
    f"/subscriptions/{SUB}/resourceGroups/rg/things/x",
    "/tenants/x/subscriptions/" + SUB,
    "/subscriptions/" + SUB + "/" + "a" * 2100,
])
def test_rejects_malformed(text: str) -> None:
    with pytest.raises(InvalidResourceId):
        parse_resource_id(text)


@pytest.mark.parametrize("text", [
    f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.CognitiveServices/accounts/a\n",
    f"/subscriptions/{SUB}/resourceGroups/rg\n",
    f"/subscriptions/{SUB}\n",
    f"/subscriptions/{SUB}/resourceGroups/rg\n/providers/Microsoft.CognitiveServices/accounts/a",
    f"/subscriptions/{SUB}\n/resourceGroups/rg/providers/Microsoft.CognitiveServices/accounts/a",
])
def test_rejects_trailing_newline(text: str) -> None:
    with pytest.raises(InvalidResourceId):
        parse_resource_id(text)


@pytest.mark.parametrize("rg", ["-rg", "(test)", "(a)b"])
def test_resource_group_may_start_with_hyphen_or_parenthesis(rg: str) -> None:
    text = f"/subscriptions/{SUB}/resourceGroups/{rg}/providers/Microsoft.CognitiveServices/accounts/a"
    assert parse_account_id(text).resource_group == rg


@pytest.mark.parametrize("value", [None, 42, b"/subscriptions/x", ["/subscriptions/" + SUB], {"id": ACCOUNT}])
def test_rejects_non_strings(value: object) -> None:
    with pytest.raises(InvalidResourceId):
        parse_resource_id(value)


def test_invalid_resource_id_is_a_value_error() -> None:
    assert issubclass(InvalidResourceId, ValueError)


@pytest.mark.parametrize("text", [
    f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Network/privateEndpoints/pe1",
    f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.CognitiveServicesX/accounts/a",
    f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.CognitiveServices/commitmentPlans/a",
    f"{ACCOUNT}/privateEndpointConnections/pec1",
    f"{ACCOUNT}/deployments/gpt-4o",
    f"/subscriptions/{SUB}/providers/Microsoft.CognitiveServices/accounts/a",  # no resource group
    f"/subscriptions/{SUB}/resourceGroups/rg",
    f"/subscriptions/{SUB}",
])
def test_parse_account_id_rejects_other_resources(text: str) -> None:
    parse_resource_id(text)  # well-formed...
    with pytest.raises(InvalidResourceId):
        parse_account_id(text)  # ...but not an account


def test_parse_account_id_accepts_any_casing() -> None:
    text = ACCOUNT.replace("Microsoft.CognitiveServices/accounts", "microsoft.cognitiveservices/Accounts")
    assert parse_account_id(text) == parse_resource_id(ACCOUNT)


@pytest.mark.parametrize("text", [ACCOUNT, f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Network/x/y"])
def test_parse_scope_refuses_resources(text: str) -> None:
    with pytest.raises(InvalidResourceId):
        parse_scope(text)


# --- scopes ---------------------------------------------------------------------------------------

def test_is_within_subscription_and_group() -> None:
    account = parse_resource_id(ACCOUNT)
    assert account.is_within(parse_scope(f"/subscriptions/{SUB}"))
    assert account.is_within(parse_scope(f"/subscriptions/{SUB.upper()}"))
    assert account.is_within(parse_scope(f"/subscriptions/{SUB}/resourcegroups/RG"))
    assert not account.is_within(parse_scope(f"/subscriptions/{SUB}/resourceGroups/rg2"))
    assert not account.is_within(parse_scope("/subscriptions/99999999-8888-7777-6666-555555555555"))


def test_is_within_is_segment_wise_not_prefix() -> None:
    in_rg2 = parse_resource_id(
        f"/subscriptions/{SUB}/resourceGroups/rg2/providers/Microsoft.CognitiveServices/accounts/a")
    assert not in_rg2.is_within(parse_scope(f"/subscriptions/{SUB}/resourceGroups/rg"))
    assert not parse_scope(f"/subscriptions/{SUB}/resourceGroups/rg2").is_within(
        parse_scope(f"/subscriptions/{SUB}/resourceGroups/rg"))
    # a subscription-level resource is not inside any resource group
    sub_level = parse_resource_id(f"/subscriptions/{SUB}/providers/Microsoft.Resources/deployments/d")
    assert not sub_level.is_within(parse_scope(f"/subscriptions/{SUB}/resourceGroups/rg"))


def test_is_within_resource_scope() -> None:
    account = parse_resource_id(ACCOUNT)
    child = account.child("privateEndpointConnections", "c")
    assert child.is_within(account)
    assert account.is_within(account)
    assert not account.is_within(child)
    sibling = parse_resource_id(ACCOUNT + "-2")
    assert not sibling.is_within(account)
    assert not sibling.child("privateEndpointConnections", "c").is_within(account)


def test_within_any() -> None:
    account = parse_resource_id(ACCOUNT)
    scopes = [parse_scope(f"/subscriptions/{SUB}/resourceGroups/other"),
              parse_scope(f"/subscriptions/{SUB}/resourceGroups/rg")]
    assert within_any(account, scopes)
    assert not within_any(account, scopes[:1])
    assert not within_any(account, ())


# --- properties -----------------------------------------------------------------------------------

guids = st.uuids().map(str)
names = st.from_regex(r"\A[A-Za-z0-9][A-Za-z0-9_-]{0,20}\Z")
# Leading '-', '(' or '.' are left out here: see test_resource_group_may_start_with_hyphen_or_parenthesis.
groups = st.from_regex(r"\A[A-Za-z0-9_][A-Za-z0-9_.()-]{0,20}[A-Za-z0-9_()-]\Z")
namespaces = st.from_regex(r"\A[A-Z][a-z]{1,8}\.[A-Z][A-Za-z]{1,12}\Z")


@st.composite
def resource_ids(draw: st.DrawFn) -> str:
    text = f"/subscriptions/{draw(guids)}"
    if draw(st.booleans()):
        text += f"/{draw(st.sampled_from(['resourceGroups', 'resourcegroups', 'RESOURCEGROUPS']))}/{draw(groups)}"
    if draw(st.booleans()):
        text += f"/{draw(st.sampled_from(['providers', 'Providers']))}/{draw(namespaces)}"
        for _ in range(draw(st.integers(1, 3))):
            text += f"/{draw(names)}/{draw(names)}"
    if draw(st.booleans()):
        text += "/"
    return text


def _random_case(draw: st.DrawFn, text: str) -> str:
    flips = draw(st.lists(st.booleans(), min_size=len(text), max_size=len(text)))
    return "".join(c.swapcase() if f else c for c, f in zip(text, flips, strict=False))


@st.composite
def mutated_ids(draw: st.DrawFn) -> str:
    """A valid ID with arbitrary text spliced in somewhere: near misses are where parsers break."""
    text = draw(resource_ids())
    at = draw(st.integers(0, len(text)))
    cut = draw(st.integers(0, 5))
    return text[:at] + draw(st.text(max_size=10)) + text[at + cut:]


@given(st.one_of(st.text(max_size=300), mutated_ids()))
def test_parse_raises_only_invalid_resource_id(text: str) -> None:
    for parser in (parse_resource_id, parse_account_id, parse_scope):
        try:
            rid = parser(text)
        except InvalidResourceId:
            continue
        assert isinstance(rid, ResourceId)
        assert parse_resource_id(str(rid)) == rid  # whatever parses, prints back to itself


@given(st.text(alphabet="/.%-_()aAsSbBrR0123456789 \t\n:.", max_size=200))
def test_parse_raises_only_invalid_resource_id_on_path_like_text(text: str) -> None:
    for parser in (parse_resource_id, parse_account_id, parse_scope):
        try:
            parser("/subscriptions/" + text)
        except InvalidResourceId:
            pass


@given(resource_ids())
def test_round_trip_and_lower_case_key(text: str) -> None:
    rid = parse_resource_id(text)
    again = parse_resource_id(str(rid))
    assert again == rid
    assert str(again) == str(rid)
    assert rid.key == str(rid).lower()
    assert rid.key == text.rstrip("/").lower()


@given(st.data(), resource_ids())
def test_equality_ignores_case(data: st.DataObject, text: str) -> None:
    rid = parse_resource_id(text)
    flipped = parse_resource_id("/subscriptions" + _random_case(data.draw, text[len("/subscriptions"):]))
    assert flipped == rid
    assert hash(flipped) == hash(rid)


@given(resource_ids())
def test_is_within_reflexive(text: str) -> None:
    rid = parse_resource_id(text)
    assert rid.is_within(rid)


@given(resource_ids(), resource_ids())
def test_is_within_implies_same_subscription(text: str, scope_text: str) -> None:
    rid, scope = parse_resource_id(text), parse_resource_id(scope_text)
    if rid.is_within(scope):
        assert rid.subscription_id.lower() == scope.subscription_id.lower()
        if scope.resource_group is not None:
            assert (rid.resource_group or "").lower() == scope.resource_group.lower()


@given(resource_ids())
def test_is_within_its_subscription_and_group(text: str) -> None:
    rid = parse_resource_id(text)
    assert rid.is_within(ResourceId(rid.subscription_id))
    if rid.resource_group is not None:
        assert rid.is_within(rid.resource_group_id)
        assert not rid.is_within(ResourceId(rid.subscription_id, rid.resource_group + "2"))


@given(guids, groups, names)
def test_prefix_group_is_never_within(sub: str, rg: str, account: str) -> None:
    assume(not rg.endswith("."))
    rid = parse_resource_id(
        f"/subscriptions/{sub}/resourceGroups/{rg}x/providers/Microsoft.CognitiveServices/accounts/{account}")
    assert not rid.is_within(parse_scope(f"/subscriptions/{sub}/resourceGroups/{rg}"))
