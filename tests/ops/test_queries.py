"""Every KQL query of the workbook and the alert rules, checked offline with Microsoft's Kusto language service
against the documented columns of the tables it reads; and every field it reads from a telemetry line is one the
app writes."""

from __future__ import annotations

import json

import pytest

from remediation.core.settings import Settings
from remediation.core.telemetry import HEARTBEAT_FIELDS, HEARTBEAT_PREFIX, RECONCILE_PREFIX, reconcile_fields
from tests.infra.bicep import INFRA, tree
from tests.ops.kql import Query, alert_queries, all_queries, analyse, analysed, errors, workbook_items

# The fields each line carries, as the app builds them (a record with nothing in it still has every key).
WRITTEN = {
    RECONCILE_PREFIX: set(reconcile_fields({})) | {"actor.name", "actor.upn", "actor.appId", "actor.objectId"},
    HEARTBEAT_PREFIX: {"schema", "time", *HEARTBEAT_FIELDS},
}
QUERIES = all_queries()


@pytest.mark.parametrize("query", QUERIES, ids=lambda q: q.name)
def test_the_kusto_language_service_accepts_the_query(query: Query) -> None:
    assert errors(analysed()[query.name]) == []


@pytest.mark.parametrize("query", QUERIES, ids=lambda q: q.name)
def test_every_field_the_query_reads_from_a_telemetry_line_is_one_the_app_writes(query: Query) -> None:
    result = analysed()[query.name]
    assert set(result["bindings"].values()) <= set(WRITTEN), f"{query.name} parses a line the app does not write"
    unknown = [".".join(path) for path in result["reads"]
               if ".".join(path[1:]) not in WRITTEN[result["bindings"][path[0]]]]
    assert unknown == []


def test_the_check_fails_on_an_unknown_table_column_function_or_field() -> None:
    """The checks above can fail: the service names each fault, and a misspelt field is not among those written."""
    broken = [Query("table", "AppTrace | take 1"), Query("column", "AppTraces | where Messages has 'x'"),
              Query("function", "AppTraces | extend x = parse_jsn(Message)"),
              Query("field", f'AppTraces | extend t = parse_json(substring(Message, strlen("{RECONCILE_PREFIX}")))'
                             "| where tostring(t.outcomes) == 'failed'")]
    results = analyse(broken)
    assert all(errors(results[name]) for name in ("table", "column", "function"))
    assert errors(results["field"]) == [] and results["field"]["reads"] == [["t", "outcomes"]]
    assert "outcomes" not in WRITTEN[RECONCILE_PREFIX]


def test_the_workbook_has_the_tiles_and_parameters_operators_need() -> None:
    items = {item["name"]: item for item in workbook_items()}
    assert {"locked-vs-open", "exposure-durations", "top-actors", "reopening-accounts", "needs-a-person",
            "last-sweep", "queues", "eventgrid-delivery"} <= set(items)
    (parameters,) = [i for i in items.values() if i["type"] == 9]
    assert [p["name"] for p in parameters["content"]["parameters"]] == ["TimeRange", "Subscription", "Account"]
    for name in ("exposure-durations", "top-actors", "reopening-accounts", "needs-a-person"):
        assert "{Subscription}" in items[name]["content"]["query"] and "{Account}" in items[name]["content"]["query"]
    assert all(i["content"].get("timeContextFromParameter") == "TimeRange" for i in items.values() if i["type"] == 3)
    metrics = items["eventgrid-delivery"]["content"]
    names = {m["metric"].split("--")[1] for m in metrics["metrics"]}
    published = json.loads((INFRA.parent / "tests/fixtures/log-analytics/eventgrid-systemtopics-metrics.json")
                           .read_text())["metrics"]
    assert {"DeadLetteredCount", "DroppedEventCount", "DeliveryAttemptFailCount"} <= names <= set(published)
    assert metrics["resourceIds"] == "__SYSTEM_TOPIC_IDS__"  # filled in by infra/modules/workbook.bicep
    workbook = tree("infra/modules/workbook.bicep")
    assert "__SYSTEM_TOPIC_IDS__" in json.dumps(workbook["variables"]["serialized"])


def test_every_alert_rule_runs_a_checked_query_file_and_says_what_to_do() -> None:
    rules = [q.rule for q in alert_queries()]
    assert {r["name"] for r in rules} == {"reconcile-failed", "contested", "exempt-drift", "poison", "no-heartbeat",
                                          "function-failures"}
    assert {r["file"] for r in rules} == {p.name for p in (INFRA / "alerts").glob("*.kql")}
    for rule in rules:
        assert 0 <= rule["severity"] <= 4 and len(rule["description"]) > 150, rule["name"]


def test_the_no_heartbeat_window_is_three_sweep_periods_by_default() -> None:
    main = tree("infra/main.bicep")["parameters"]
    window = int(main["SWEEP_ALERT_WINDOW_MINUTES"]["default"])
    schedule = Settings.from_env({"REMEDIATION_SCOPES": "/subscriptions/00000000-0000-0000-0000-000000000001",
                                  "AzureWebJobsStorage": "UseDevelopmentStorage=true"}).sweep_schedule
    assert schedule == main["REMEDIATION_SWEEP_SCHEDULE"]["default"] == "0 */30 * * * *"
    assert window == 3 * 30
    query = next(q for q in alert_queries() if q.name == "alert:no-heartbeat")
    assert f"ago({window}m)" in query.text and query.rule["override"] == "P2D"  # the query's window, not the rule's
