"""infra/ against what Azure publishes: every resource type and API version exists in Azure's Bicep type data,
every property the templates set exists there with a compatible type and is not read-only, and every operation
the Event Grid filter names is one its provider publishes (roles.json's actions: test_roles.py)."""

from __future__ import annotations

import copy
import hashlib
import json

from localdev.arm_emulator.operations import catalogue
from tests.infra.bicep import tree
from tests.infra.bicep_types import TYPES, Declared, check, declarations, resource_types
from tests.infra.test_event_grid import _subscription

DECLARED = list(declarations())


def test_the_type_data_is_upstream_unchanged() -> None:
    sources = json.loads((TYPES / "sources.json").read_text(encoding="utf-8"))
    copied = sorted(p.relative_to(TYPES).as_posix() for p in TYPES.rglob("types.json"))
    assert copied == sorted(f["local"] for f in sources["files"])
    for source in sources["files"]:
        data = (TYPES / source["local"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == source["sha256"], f"{source['local']} differs from upstream"


def test_every_resource_type_and_api_version_exists() -> None:
    assert len(DECLARED) >= 20, "pycep found fewer resource declarations than infra/ holds"
    missing = [f"{d.file}: {d.symbol} {d.type}@{d.api_version}" for d in DECLARED
               if f"{d.type}@{d.api_version}".lower() not in resource_types()]
    assert missing == [], "not in tests/fixtures/bicep-types (unknown to Azure, or copy its types.json)"


def test_every_property_set_exists_with_a_compatible_type_and_is_writable() -> None:
    problems = [str(p) for d in DECLARED for p in check(d)]
    assert problems == []


def _declared(symbol: str) -> Declared:
    return next(d for d in DECLARED if d.symbol == symbol)


def test_the_walk_reports_unknown_read_only_and_mistyped_properties() -> None:
    """The check itself: a copy of real declarations with one fault each is caught, with file and path."""
    storage = copy.deepcopy(_declared("storage"))
    storage.body["properties"]["allowBlobPublicAccesss"] = False                 # misspelt
    storage.body["properties"]["provisioningState"] = "Succeeded"                # read-only
    storage.body["properties"]["accessTier"] = "Warm"                            # outside a closed enum
    storage.body["properties"]["supportsHttpsTrafficOnly"] = "yes"               # a string for a boolean
    storage.body["sku"] = ["Standard_LRS"]                                       # an array for an object
    found = {p.path: p.message for p in check(storage)}
    assert set(found) == {"storage.properties.allowBlobPublicAccesss", "storage.properties.provisioningState",
                          "storage.properties.accessTier", "storage.properties.supportsHttpsTrafficOnly",
                          "storage.sku"}
    assert found["storage.properties.provisioningState"].startswith("read-only")
    assert all(p.file == "infra/modules/app.bicep" for p in check(storage))
    role = copy.deepcopy(_declared("accountsRole"))
    role.body["properties"]["permissions"][0]["actions"]["config"] = {"action": "x"}  # for-expression items: strings
    assert [p.path for p in check(role)] == ["accountsRole.properties.permissions[0].actions[]"]


def test_event_grid_filter_names_published_operations() -> None:
    events = tree("infra/modules/events.bicep")
    (advanced,) = _subscription()["properties"]["filter"]["advancedFilters"]
    values = advanced["values"]
    operations = events["variables"][values]["value"] if isinstance(values, str) else values
    unpublished = [op for op in operations if catalogue().published(op) is None]
    assert operations and unpublished == []
