"""The emulator's resource-type registry (localdev/arm_emulator/registry.py): every handler is routed through a
spec, every spec routes something, and each part of a spec is used where the rest of the emulator looks for it."""
from __future__ import annotations

import inspect
import typing

import pytest

from localdev.arm_emulator import ArmEmulator, ids, names, pace, providers, registry
from localdev.arm_emulator.handlers import base
from localdev.arm_emulator.messages import Reply, Req
from localdev.arm_emulator.world import World
from tests.helpers.emulator import ACCOUNT, SUB, Raw, base_scenario


def _handlers() -> dict[str, object]:
    """Every function in the provider modules (and their shared base) that takes (World, Req) and returns a Reply."""
    found: dict[str, object] = {}
    for module in (*registry.MODULES, base):
        for name, fn in inspect.getmembers(module, inspect.isfunction):
            if fn.__module__ != module.__name__:
                continue
            hints = typing.get_type_hints(fn)
            params = [p for p in inspect.signature(fn).parameters if p != "return"]
            if hints.get("return") is Reply and [hints.get(p) for p in params] == [World, Req]:
                found[f"{module.__name__}.{name}"] = fn
    return found


def test_every_handler_is_routed_by_a_spec_and_every_spec_routes_something() -> None:
    routed = {id(fn) for spec in registry.TYPES.values() for fn in (*spec.item.values(), *spec.collection.values())}
    unrouted = [name for name, fn in _handlers().items() if id(fn) not in routed]
    assert unrouted == []
    assert [spec.type for spec in registry.TYPES.values() if not spec.item and not spec.collection] == []
    assert len(_handlers()) > 40   # the scan finds the handlers at all


def test_every_served_type_is_canonical_and_named_once() -> None:
    for spec in registry.TYPES.values():
        assert ids.canonical_type(spec.type.upper()) == spec.type
    served = {spec.type for spec in registry.TYPES.values()}
    declared = {value for key, value in vars(names).items() if key.endswith("_TYPE") or key.startswith("ROLE_")}
    assert declared - served == {names.NIC_TYPE}   # named in endpoints' bodies only


def test_every_operation_duration_belongs_to_one_type() -> None:
    keys = [key for spec in registry.TYPES.values() for key in spec.durations]
    assert sorted(keys) == sorted(pace.DURATIONS)


def test_listed_types_have_api_versions_newest_first_and_seeded_types_an_order() -> None:
    for spec in registry.TYPES.values():
        if spec.listed_as():
            assert spec.api_versions, spec.type
        stable = [v for v in spec.api_versions if not v.endswith("-preview")]
        assert stable == sorted(stable, reverse=True), spec.type
        assert (spec.seed is None) or (spec.seed_order is not None), spec.type
    listed = [(p.namespace, t.name) for p in providers.PROVIDERS for t in p.resource_types]
    assert listed == [
        ("Microsoft.CognitiveServices", "accounts"),
        ("Microsoft.CognitiveServices", "accounts/privateEndpointConnections"),
        ("Microsoft.Network", "virtualNetworks"), ("Microsoft.Network", "virtualNetworks/subnets"),
        ("Microsoft.Network", "privateEndpoints"), ("Microsoft.Network", "privateEndpoints/privateDnsZoneGroups"),
        ("Microsoft.Network", "privateDnsZones"), ("Microsoft.Network", "privateDnsZones/virtualNetworkLinks"),
        ("Microsoft.Network", "privateDnsZones/A"), ("Microsoft.Resources", "subscriptions"),
        ("Microsoft.Resources", "resourceGroups"), ("Microsoft.Resources", "subscriptions/resourceGroups")]


@pytest.mark.parametrize("type_", sorted(spec.type for spec in registry.TYPES.values()))
def test_a_request_for_each_type_reaches_its_spec(type_: str) -> None:
    spec = registry.TYPES[type_.lower()]
    for method, handler in spec.item.items():
        req = Req(method, "", {}, {}, None, "x", _path(type_, collection=False))
        assert registry.lookup(req) is handler
    for method, handler in spec.collection.items():
        req = Req(method, "", {}, {}, None, "x", _path(type_, collection=True))
        assert registry.lookup(req) is handler


def _path(type_: str, collection: bool) -> ids.ArmPath:
    namespace, *types = type_.split("/")
    if namespace.lower() == "microsoft.resources":   # Resource Manager's own paths
        path = {"subscriptions": f"/subscriptions{'' if collection else '/' + SUB}",
                "providers": f"/subscriptions/{SUB}/providers{'' if collection else '/Microsoft.Network'}",
                "resourceGroups": f"/subscriptions/{SUB}/resourceGroups{'' if collection else '/rg'}",
                "resources": f"/subscriptions/{SUB}/resources"}[types[0]]
    else:
        path = f"/subscriptions/{SUB}/resourceGroups/rg/providers/{namespace}/" + "/".join(
            f"{t}/n{i}" for i, t in enumerate(types))
        if collection:
            path = path.rsplit("/", 1)[0]
    parsed = ids.parse_path(path)
    assert parsed is not None and parsed.type.lower() == type_.lower() and parsed.is_collection == collection
    return parsed


def test_a_type_without_a_spec_is_refused_as_arm_refuses_it(emu: ArmEmulator) -> None:
    emu.seed(base_scenario())
    raw = Raw(emu)
    status, _, body = raw("GET", f"{ACCOUNT}/deployments/gpt")
    assert status == 404 and body["error"]["code"] == "InvalidResourceType"
    status, _, body = raw("GET", f"/subscriptions/{SUB}/resourceGroups/rg-ai/providers/Microsoft.Search/x/y")
    assert status == 404 and body["error"]["code"] == "NoRegisteredProviderFound"
