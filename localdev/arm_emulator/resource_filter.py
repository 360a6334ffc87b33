"""The `$filter` of `Resources - List` (`GET /subscriptions/{s}[/resourceGroups/{rg}]/resources`), parsed and applied.

The documented grammar (the api's `$filter` description, azure-mgmt-resource 23.4.0, api-version 2025-03-01; the
resource-group list has the same text without `startswith`):
- `<property> eq|ne '<value>'` on location, resourceType, name, resourceGroup, identity, identity/principalId, plan,
  plan/publisher, plan/product, plan/name, plan/version, plan/promotionCode;
- `substringof('<value>', name|resourceGroup)`;
- tags: `tagName eq '<name>'`, optionally `and tagValue eq '<value>'`, or `startswith(tagName, '<prefix>')` alone;
  "when resources are filtered by tag name and value, the original tags for each resource will not be returned";
- combined with `and` / `or`, but only "substringof() and/or resourceType, plan and plan/publisher and plan/name,
  and identity and identity/principalId" (Microsoft confirmed other combinations are refused:
  Azure/azure-rest-api-specs#21324).
Anything else is refused: 400 InvalidFilterInQueryString "Invalid $filter '<filter as received>' specified in the
query string." (Azure/azure-sdk-for-net#18748, Azure/azure-sdk-for-go#2480, Azure/azure-sdk-for-python#713).

Unevidenced choices: keywords and property names compare case-insensitively (clients send both `eq` and `EQ`);
values compare case-insensitively except tag values (tag names are case-insensitive and tag values case-sensitive:
Learn, "Use tags to organize your Azure resources", articles/azure-resource-manager/management/tag-resources.md);
`and` binds tighter than `or`; parentheses are refused; the same property repeated with `or` (e.g. two resource
types) is allowed.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .errors import ArmError

PROPERTIES = ("location", "resourcetype", "name", "resourcegroup", "identity", "identity/principalid", "plan",
              "plan/publisher", "plan/product", "plan/name", "plan/version", "plan/promotioncode")
COMBINATIONS = ({"substringof(name)", "substringof(resourcegroup)", "resourcetype"},
                {"plan", "plan/publisher", "plan/name"}, {"identity", "identity/principalid"},
                {"tagname", "tagvalue"})
_TOKEN = re.compile(r"\s*(?:(?P<string>'(?:[^']|'')*')|(?P<word>[A-Za-z][A-Za-z0-9/]*)|(?P<punct>[(),]))")

Row = dict[str, Any]
Test = Callable[[Row], bool]


def invalid(raw: str) -> ArmError:
    return ArmError(400, "InvalidFilterInQueryString", f"Invalid $filter '{raw}' specified in the query string.")


@dataclass(frozen=True)
class Condition:
    key: str     # a property, "substringof(<property>)", "tagname", "tagvalue" or "startswith(tagname)"
    test: Test


@dataclass(frozen=True)
class Filter:
    groups: tuple[tuple[Condition, ...], ...]   # or-ed groups of and-ed conditions

    @property
    def by_tag(self) -> bool:
        return any(c.key in ("tagname", "tagvalue", "startswith(tagname)") for g in self.groups for c in g)

    @property
    def substring(self) -> bool:
        return any(c.key.startswith("substringof(") for g in self.groups for c in g)

    def matches(self, row: Row) -> bool:
        return any(all(c.test(row) for c in group) for group in self.groups)


def _tokens(raw: str) -> list[str]:
    out, pos = [], 0
    while pos < len(raw.rstrip()):
        m = _TOKEN.match(raw, pos)
        if m is None or m.end() == pos:
            raise invalid(raw)
        out.append(m.group(m.lastgroup or ""))
        pos = m.end()
    return out


def _value(token: str, raw: str) -> str:
    if len(token) < 2 or not token.startswith("'"):
        raise invalid(raw)
    return token[1:-1].replace("''", "'")


def _field(row: Row, key: str) -> str:
    value: Any = row
    for part in {"resourcetype": "type", "resourcegroup": "resourceGroup", "identity": "identity/type",
                 "identity/principalid": "identity/principalId", "plan": "plan/name",
                 "plan/promotioncode": "plan/promotionCode"}.get(key, key).split("/"):
        value = value.get(part) if isinstance(value, dict) else None
    return str(value or "")


def _norm(key: str, value: str) -> str:
    return value.replace(" ", "").lower() if key == "location" else value.lower()


def _condition(tokens: list[str], raw: str) -> Condition:
    """One condition from its tokens: `p eq 'v'`, `substringof('v', p)`, `startswith(tagName, 'v')`."""
    head = tokens[0].lower()
    if head in ("substringof", "startswith") and len(tokens) == 6 and tokens[1] == "(" and tokens[3] == "," \
            and tokens[5] == ")":
        if head == "substringof" and tokens[4].lower() in ("name", "resourcegroup"):
            needle, key = _value(tokens[2], raw).lower(), tokens[4].lower()
            return Condition(f"substringof({key})", lambda r: needle in _field(r, key).lower())
        if head == "startswith" and tokens[2].lower() == "tagname":
            prefix = _value(tokens[4], raw).lower()
            return Condition("startswith(tagname)",
                             lambda r: any(k.lower().startswith(prefix) for k in (r.get("tags") or {})))
        raise invalid(raw)
    if len(tokens) != 3 or tokens[1].lower() not in ("eq", "ne"):
        raise invalid(raw)
    value, negate = _value(tokens[2], raw), tokens[1].lower() == "ne"
    if head == "tagname" and not negate:
        return Condition("tagname", lambda r: value.lower() in {k.lower() for k in (r.get("tags") or {})})
    if head == "tagvalue" and not negate:
        return Condition("tagvalue", lambda r: value in (r.get("tags") or {}).values())
    if head not in PROPERTIES:
        raise invalid(raw)
    wanted = _norm(head, value)
    return Condition(head, lambda r: (_norm(head, _field(r, head)) == wanted) != negate)


def _check(groups: list[list[Condition]], raw: str) -> None:
    keys = {c.key for group in groups for c in group}
    tag_keys = {"tagname", "tagvalue", "startswith(tagname)"}
    if keys & tag_keys:
        ok = (len(groups) == 1 and ([c.key for c in groups[0]] in (["tagname"], ["tagname", "tagvalue"],
                                                                    ["startswith(tagname)"])))
        if not ok:
            raise invalid(raw)
        return
    if len(keys) > 1 and not any(keys <= combo for combo in COMBINATIONS):
        raise invalid(raw)


def parse(raw: str) -> Filter:
    """The filter, or 400 InvalidFilterInQueryString."""
    tokens = _tokens(raw)
    if not tokens:
        raise invalid(raw)
    groups: list[list[Condition]] = [[]]
    current: list[str] = []
    depth = 0
    for token in [*tokens, "or"]:
        depth += token == "("
        depth -= token == ")"
        if depth == 0 and token.lower() in ("and", "or"):
            if not current:
                raise invalid(raw)
            groups[-1].append(_condition(current, raw))
            current = []
            if token.lower() == "or":
                groups.append([])
            continue
        current.append(token)
    groups.pop()   # the empty group the sentinel "or" opened
    _check(groups, raw)
    return Filter(tuple(tuple(g) for g in groups))
