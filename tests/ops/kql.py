"""The KQL queries of infra/ as deployed, Microsoft's Kusto language service's verdict on each, and the `where`
predicates read from each query's syntax tree, applied to the telemetry lines the app wrote.

The service (tests/ops/kusto/check.js, npm @kusto/language-service-next, installed by `make deps`) parses and
binds every query against the documented columns of the workspace tables (tests/fixtures/log-analytics). Nothing
here runs a query: `matches` only applies the conditions of a query's `where` operators to one row, for the handful
of operators and functions the alert rules use, and refuses any other.
"""

from __future__ import annotations

import functools
import json
import re
import shutil
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.infra.bicep import INFRA, REPO, tree

KUSTO = REPO / "tests" / "ops" / "kusto"
TABLES = REPO / "tests" / "fixtures" / "log-analytics" / "tables.json"
ALERTS = "infra/modules/alerts.bicep"
WORKBOOK = INFRA / "workbook.json"


@dataclass(frozen=True)
class Query:
    name: str
    text: str
    rule: dict[str, Any] | None = None  # the alert rule's entry in alerts.bicep (operator, threshold…), if any


def schemas() -> dict[str, str]:
    tables = json.loads(TABLES.read_text(encoding="utf-8"))["tables"]
    return {name: "(" + ", ".join(table["columns"]) + ")" for name, table in tables.items()}


def workbook_items() -> list[dict[str, Any]]:
    def walk(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        found = []
        for item in items:
            found.append(item)
            found += walk(item.get("content", {}).get("items", []))  # groups hold items of their own
        return found
    return walk(json.loads(WORKBOOK.read_text(encoding="utf-8"))["items"])


def workbook_queries() -> list[Query]:
    return [Query(f"workbook:{item['name']}", item["content"]["query"]) for item in workbook_items()
            if item["type"] == 3]


def _default(parameter: str, module: dict[str, Any]) -> str:
    return str(module["parameters"][parameter]["default"])


def _query_text(expression: Any, module: dict[str, Any]) -> tuple[str, str]:
    """The query a rule deploys, from pycep's tree of `loadTextContent(file)` or `replace(loadTextContent(file),
    old, new)` (a `${param}` in `new` takes the parameter's default); and the .kql file's name."""
    function = expression["function"]
    if function["type"] == "load_text_content":
        path = (INFRA / "modules" / function["parameters"]["file_path"]).resolve()
        return path.read_text(encoding="utf-8"), path.name
    assert function["type"] == "replace", f"unexpected query expression {function['type']}"
    text, name = _query_text(function["parameters"]["original_string"], module)
    parameters = function["parameters"]
    new = re.sub(r"\$\{(\w+)\}", lambda m: _default(m.group(1), module), parameters["new_string"])
    assert parameters["old_string"] in text, f"{name}: replace() finds no {parameters['old_string']!r}"
    return text.replace(parameters["old_string"], new), name


def alert_queries() -> list[Query]:
    module = tree(ALERTS)
    queries = []
    for rule in module["variables"]["rules"]["value"]:
        text, file = _query_text(rule["query"], module)
        queries.append(Query(f"alert:{rule['name']}", text, {**rule, "file": file}))
    return queries


def all_queries() -> list[Query]:
    return workbook_queries() + alert_queries()


def analyse(queries: list[Query]) -> dict[str, dict[str, Any]]:
    """The language service's result per query name: diagnostics, bindings, reads, filters, operators."""
    node = shutil.which("node")
    if node is None or not (KUSTO / "node_modules" / "@kusto" / "language-service-next").is_dir():
        pytest.fail("the Kusto language service is not installed: run `make deps` (npm ci in tests/ops/kusto)")
    payload = json.dumps({"tables": schemas(), "queries": [{"name": q.name, "text": q.text} for q in queries]})
    done = subprocess.run([node, str(KUSTO / "check.js")], input=payload, capture_output=True, text=True,
                          timeout=300, check=True)
    return {result["name"]: result for result in json.loads(done.stdout)}


@functools.lru_cache(maxsize=1)
def analysed() -> dict[str, dict[str, Any]]:
    return analyse(all_queries())


def errors(result: dict[str, Any]) -> list[str]:
    return [f"{d['code']} {d['message']}" for d in result["diagnostics"] if d["severity"] == "Error"]


# --- a query's `where` conditions applied to one row -----------------------------------------------------------

class Unsupported(Exception):
    """The condition uses an operator or function this reader does not know: the test must not guess."""


@dataclass(frozen=True)
class Row:
    message: str
    time: datetime

    def column(self, name: str) -> Any:
        if name == "Message":
            return self.message
        if name == "TimeGenerated":
            return self.time
        raise Unsupported(f"column {name}")


def _timespan(text: Any) -> timedelta:
    match = re.fullmatch(r"(?:(\d+)\.)?(\d+):(\d+):(\d+)(?:\.\d+)?", str(text))
    if not match:
        raise Unsupported(f"timespan {text!r}")
    days, hours, minutes, seconds = (int(g or 0) for g in match.groups())
    return timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)


def _tostring(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


def _toint(value: Any) -> int | None:
    try:
        return int(value) if value is not None and not isinstance(value, (dict, list)) else None
    except (TypeError, ValueError):
        return None


FUNCTIONS = {
    "tostring": _tostring,
    "toint": _toint,
    "tolong": _toint,
    "tobool": lambda v: v if isinstance(v, bool) else str(v).lower() == "true" if v is not None else None,
    "array_length": lambda v: len(v) if isinstance(v, list) else None,
    "isnotempty": lambda v: v is not None and v != "",
    "isempty": lambda v: v is None or v == "",
    "isnotnull": lambda v: v is not None,
    "isnull": lambda v: v is None,
    "ago": lambda span: datetime.now(UTC) - _timespan(span),
}


def _compare(op: str, left: Any, right: Any) -> bool:
    if op in ("and", "or"):
        return bool(left and right) if op == "and" else bool(left or right)
    if left is None or right is None:
        return False  # a comparison with null is null in KQL: the row does not pass
    ops = {"==": lambda: left == right, "!=": lambda: left != right,
           "=~": lambda: str(left).lower() == str(right).lower(), "!~": lambda: str(left).lower() != str(right).lower(),
           ">": lambda: left > right, ">=": lambda: left >= right,
           "<": lambda: left < right, "<=": lambda: left <= right,
           "startswith": lambda: str(left).lower().startswith(str(right).lower()),
           "startswith_cs": lambda: str(left).startswith(str(right))}
    if op not in ops:
        raise Unsupported(f"operator {op}")
    return bool(ops[op]())


def value(expr: dict[str, Any], row: Row, bindings: dict[str, str]) -> Any:
    if "literal" in expr:
        return expr["literal"]
    if "name" in expr:
        return row.column(expr["name"])
    if "path" in expr:
        base, *members = expr["path"]
        if base not in bindings:
            raise Unsupported(f"path {'.'.join(expr['path'])}")
        prefix = bindings[base]
        current: Any = json.loads(row.message[len(prefix):]) if row.message.startswith(prefix) else None
        for member in members:
            current = current.get(member) if isinstance(current, dict) else None
        return current
    if "call" in expr:
        if expr["call"] not in FUNCTIONS:
            raise Unsupported(f"function {expr['call']}")
        return FUNCTIONS[expr["call"]](*(value(a, row, bindings) for a in expr["args"]))
    if expr.get("op") in ("in", "!in"):
        found = value(expr["left"], row, bindings) in [value(i, row, bindings) for i in expr["list"]]
        return found if expr["op"] == "in" else not found
    if "op" in expr:
        return _compare(expr["op"], value(expr["left"], row, bindings), value(expr["right"], row, bindings))
    raise Unsupported(f"{expr.get('unsupported')}: {expr.get('text')}")


def matches(result: dict[str, Any], row: Row) -> bool:
    """Whether the row passes every `where` of the query (the conditions as the syntax tree holds them)."""
    return all(value(condition, row, result["bindings"]) is True for condition in result["filters"])


def fires(query: Query, rows: list[Row]) -> bool:
    """Whether the alert rule fires on these rows: the rows that pass its conditions counted (timeAggregation
    Count) and compared with its threshold. Only for queries whose operators keep or drop whole rows."""
    assert query.rule is not None
    result = analysed()[query.name]
    counting = {"FilterOperator", "ExtendOperator", "ProjectOperator"}
    if set(result["operators"]) - counting:
        raise Unsupported(f"{query.name}: operators {sorted(set(result['operators']) - counting)} change the count")
    count = sum(matches(result, row) for row in rows)
    threshold = query.rule["threshold"]
    return {"GreaterThan": count > threshold, "GreaterThanOrEqual": count >= threshold,
            "LessThan": count < threshold, "LessThanOrEqual": count <= threshold,
            "Equal": count == threshold}[query.rule["operator"]]


def alert(name: str) -> Query:
    return next(q for q in alert_queries() if q.name == f"alert:{name}")


__all__ = ["Path", "Query", "Row", "alert", "alert_queries", "all_queries", "analyse", "analysed", "errors",
           "fires", "matches", "workbook_items", "workbook_queries"]
