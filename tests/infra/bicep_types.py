"""The infra's resource declarations checked against Azure's Bicep type data (tests/fixtures/bicep-types), the
data the Bicep compiler type-checks templates with: a walk of each resource body as pycep-parser parsed it.

What the walk can judge: object literals (every key must be a property of the type there, and not read-only),
array literals, string/number/boolean literals against the type's kind and closed enums, and the items of a
for-expression. What it cannot: the value of an expression (a parameter, a function call, a property of another
resource), which pycep gives as a name or an expression tree; those are skipped, not guessed.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.infra.bicep import REPO, parsed

TYPES = REPO / "tests" / "fixtures" / "bicep-types"
READ_ONLY = 2
# Keywords of a Bicep resource body that are not properties of the resource.
RESOURCE_KEYWORDS = {"parent", "scope", "dependsOn"}


@dataclass(frozen=True)
class Problem:
    file: str
    path: str       # resource symbol, then properties, e.g. "functionApp.properties.siteConfig.x"
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.path}: {self.message}"


@functools.cache
def _entries(path: Path) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = json.loads(path.read_text(encoding="utf-8"))
    return entries


@functools.lru_cache(maxsize=1)
def resource_types() -> dict[str, tuple[Path, int]]:
    """Lower-case `Type@api-version` -> (types.json, index of its ResourceType entry), for every copied file."""
    found = {}
    for path in sorted(TYPES.rglob("types.json")):
        for index, entry in enumerate(_entries(path)):
            if entry.get("$type") == "ResourceType":
                found[entry["name"].lower()] = (path, index)
    return found


@dataclass(frozen=True)
class Declared:
    file: str
    symbol: str
    type: str
    api_version: str
    body: dict[str, Any]
    loop_items: frozenset[str]
    symbols: frozenset[str]       # names a bare string may refer to in this file


def declarations() -> Iterator[Declared]:
    """Every `resource` declaration in infra/, its body unwrapped from a condition or a loop."""
    for file, entry in parsed().items():
        tree = entry["tree"]
        symbols = frozenset(name for section in ("parameters", "variables", "resources", "modules")
                            for name in tree.get(section, {}))
        for symbol, resource in tree.get("resources", {}).items():
            config, items = resource["config"], set()
            while isinstance(config, dict) and ("loop_type" in config or "condition" in config) and "config" in config:
                detail = (config.get("loop_type") or {}).get("detail") or {}
                items.update(v for k, v in detail.items() if k in ("item_name", "index_name") and isinstance(v, str))
                config = config["config"]
            yield Declared(file, symbol, resource["type"], resource["api_version"], config, frozenset(items), symbols)


def _is_expression(value: Any) -> bool:
    return isinstance(value, dict) and (set(value) in ({"operator"}, {"function"}) or "loop_type" in value)


class _Walk:
    def __init__(self, file: str, types: Path, symbols: frozenset[str]) -> None:
        self.file = file
        self.entries = _entries(types)
        self.symbols = symbols
        self.problems: list[Problem] = []

    def resolve(self, ref: dict[str, str]) -> dict[str, Any]:
        return self.entries[int(ref["$ref"].split("/")[-1])]

    def report(self, path: str, message: str) -> None:
        self.problems.append(Problem(self.file, path, message))

    @staticmethod
    def kinds(t: dict[str, Any], entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The type's alternatives (a union's elements, resolved), else the type itself."""
        if t["$type"] == "UnionType":
            return [entries[int(e["$ref"].split("/")[-1])] for e in t["elements"]]
        return [t]

    def value(self, ref: dict[str, str], value: Any, path: str, top: bool = False) -> None:
        t = self.resolve(ref)
        kinds = self.kinds(t, self.entries)
        names = {k["$type"] for k in kinds}
        if value is None or "AnyType" in names:
            return
        if _is_expression(value):
            operator = value.get("operator") or {}
            if "loop_type" in value:
                arrays = [k for k in kinds if k["$type"] == "ArrayType"]
                if not arrays:
                    self.report(path, f"a for-expression where the type is {sorted(names)}")
                    return
                detail = value["loop_type"].get("detail") or {}
                saved = self.symbols
                self.symbols = saved | {v for k, v in detail.items() if k in ("item_name", "index_name")}
                self.value(arrays[0]["itemType"], value.get("config"), f"{path}[]")
                self.symbols = saved
            elif operator.get("type") == "conditional":
                self.value(ref, operator["operands"]["true_value"], path)
                self.value(ref, operator["operands"]["false_value"], path)
            return
        if isinstance(value, dict):
            objects = [k for k in kinds if k["$type"] in ("ObjectType", "DiscriminatedObjectType")]
            if not objects:
                self.report(path, f"an object where the type is {sorted(names)}")
                return
            self.object(objects[0], value, path, top)
        elif isinstance(value, list):
            arrays = [k for k in kinds if k["$type"] == "ArrayType"]
            if not arrays:
                self.report(path, f"an array where the type is {sorted(names)}")
                return
            for i, item in enumerate(value):
                self.value(arrays[0]["itemType"], item, f"{path}[{i}]")
        elif isinstance(value, bool):
            if not names & {"BooleanType", "BooleanLiteralType"}:
                self.report(path, f"a boolean where the type is {sorted(names)}")
        elif isinstance(value, (int, float)):
            if not names & {"IntegerType", "IntegerLiteralType"}:
                self.report(path, f"a number where the type is {sorted(names)}")
        elif isinstance(value, str):
            self.string(kinds, names, value, path)

    def string(self, kinds: list[dict[str, Any]], names: set[str], value: str, path: str) -> None:
        if value in self.symbols:
            return  # a parameter, variable or resource: its type is not known here
        if "StringType" in names:
            return
        literals = [k["value"] for k in kinds if k["$type"] == "StringLiteralType"]
        if not literals:
            self.report(path, f"a string where the type is {sorted(names)}")
        elif "${" not in value and value.lower() not in (v.lower() for v in literals):
            self.report(path, f"'{value}' is not one of {literals}")

    def object(self, t: dict[str, Any], value: dict[str, Any], path: str, top: bool) -> None:
        properties = dict(t.get("properties") or t.get("baseProperties") or {})
        additional = t.get("additionalProperties")
        if t["$type"] == "DiscriminatedObjectType":
            field = t["discriminator"]
            chosen = value.get(field, value.get(f"'{field}'"))  # pycep keeps the quotes of a key like 'odata.type'
            for key, element in t["elements"].items():
                if not isinstance(chosen, str) or chosen in self.symbols or key.lower() == chosen.lower():
                    properties.update(self.resolve(element).get("properties") or {})
        by_name = {name.lower(): (name, prop) for name, prop in properties.items()}
        for key, item in value.items():
            if top and key in RESOURCE_KEYWORDS:
                continue
            name = key[1:-1] if len(key) > 1 and key[0] == key[-1] == "'" else key   # pycep keeps quotes
            here = f"{path}.{name}"
            found = by_name.get(name.lower())
            if found is None:
                if additional is not None:
                    self.value(additional, item, here)
                else:
                    self.report(here, f"no such property (known: {sorted(properties)})")
                continue
            prop = found[1]
            if prop.get("flags", 0) & READ_ONLY:
                self.report(here, "read-only: Azure ignores or refuses a value here")
                continue
            self.value(prop["type"], item, here)


def check(declared: Declared) -> list[Problem]:
    """Problems of one declaration against its type (existence is checked separately)."""
    path, index = resource_types()[f"{declared.type}@{declared.api_version}".lower()]
    walk = _Walk(declared.file, path, declared.symbols | declared.loop_items)
    walk.value(_entries(path)[index]["body"], declared.body, declared.symbol, top=True)
    return walk.problems
