"""Azure Functions entry point: triggers only. Parse input, call remediation, shape output."""

from __future__ import annotations

import json
import logging
from typing import Any

import azure.functions as func

from remediation import __version__
from remediation.core.ids import within_any
from remediation.core.model import Trigger
from remediation.core.settings import Settings, SettingsError
from remediation.core.verdict import Failure
from remediation.runtime import http_api as api
from remediation.runtime.sweep import run_sweep
from remediation.runtime.wiring import App, Stored, build
from remediation.store.storage import WORK_QUEUE

log = logging.getLogger("remediation")
# The Python worker sends every log record of the app's process to the host as the function's own user log
# (category `Function.<name>.User`), so host.json's "Azure.Core" level cannot hold back the SDKs' own lines:
# azure-core logs each request and response at INFO (HttpLoggingPolicy). Traces are not sampled, so those
# would all be ingested beside the one telemetry line per reconcile; the SDKs speak up from warnings on.
logging.getLogger("azure").setLevel(logging.WARNING)
app = func.FunctionApp(http_auth_level=func.AuthLevel.FUNCTION)

# Settings are validated once, at start-up. An invalid configuration is logged as one message and
# every function but `health` refuses to run with it, so `/api/health` can still say what is wrong.
try:
    SETTINGS: Settings | None = Settings.from_env()
    SETTINGS_ERROR: SettingsError | None = None
except SettingsError as settings_error:
    SETTINGS, SETTINGS_ERROR = None, settings_error
    log.error("%s", settings_error)


_app: App | None = None


def parts() -> App:
    """The app's parts, built on first use; raises the settings error (the host logs it and retries the event
    or message)."""
    global _app
    if SETTINGS is None:
        assert SETTINGS_ERROR is not None
        raise SETTINGS_ERROR
    if _app is None:
        _app = build(SETTINGS)
    return _app


def stored() -> Stored:
    """The parts that live in AzureWebJobsStorage, which the app's settings require."""
    app = parts()
    assert app.stored is not None, "AzureWebJobsStorage is required"
    return app.stored


def close() -> None:
    """Close the shared clients (tests and benchmarks that load the app more than once)."""
    global _app
    if _app is not None:
        _app.close()
        _app = None


def _event_dict(event: Any) -> dict[str, Any]:
    """The delivered event as JSON again (Event Grid schema, or CloudEvents from azure-functions 1.25)."""
    moment = getattr(event, "event_time", None) or getattr(event, "time", None)
    stamp = moment.isoformat() if moment else None
    if hasattr(event, "event_type"):
        return {"id": event.id, "topic": event.topic, "subject": event.subject, "eventType": event.event_type,
                "eventTime": stamp, "dataVersion": event.data_version, "data": event.get_json()}
    return {"id": event.id, "source": event.source, "subject": event.subject, "type": event.type, "time": stamp,
            "specversion": event.specversion, "data": event.get_json()}


def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> func.HttpResponse:
    return func.HttpResponse(json.dumps(body), status_code=status, mimetype="application/json", headers=headers)


def _error(error: api.ApiError) -> func.HttpResponse:
    return _json(error.body(), error.status)


def _settings_unavailable() -> func.HttpResponse | None:
    if SETTINGS is None:
        return _error(api.ApiError(503, "InvalidSettings", str(SETTINGS_ERROR)))
    return None


@app.function_name("on_resource_event")
@app.event_grid_trigger(arg_name="event")
def on_resource_event(event: func.EventGridEvent) -> None:
    """Azure Resource Manager events (Event Grid or CloudEvents schema): triage, then queue the work."""
    stored().intake.accept(_event_dict(event))


@app.function_name("process_work_item")
@app.queue_trigger(arg_name="message", queue_name=WORK_QUEUE, connection="AzureWebJobsStorage")
def process_work_item(message: func.QueueMessage) -> None:
    """One work item from `remediation-work`: map it to its account(s) and reconcile."""
    stored().worker.process_message(message.get_body().decode("utf-8", errors="replace"), message.dequeue_count or 1)


@app.function_name("sweep")
@app.timer_trigger(arg_name="timer", schedule="%REMEDIATION_SWEEP_SCHEDULE%", run_on_startup=False, use_monitor=True)
def sweep(timer: func.TimerRequest) -> None:
    """Every account in scope, screened with list requests; work queued only for the drifted ones."""
    run_sweep(parts().remediator, stored().queue)


@app.route(route="remediate", methods=["POST"], auth_level=func.AuthLevel.FUNCTION)
def remediate(req: func.HttpRequest) -> func.HttpResponse:
    """POST /api/remediate {"resourceId": "...", "dryRun": false} → 200 with the audit record."""
    if (unavailable := _settings_unavailable()) is not None:
        return unavailable
    try:
        request = api.parse_remediate(req.get_body())
    except api.ApiError as error:
        return _error(error)
    result = stored().direct.reconcile(request.resource_id, Trigger.HTTP, dry_run=request.dry_run)
    if result is None:
        return _json(api.RECONCILE_RUNNING.body(), 409, {"Retry-After": "5"})
    headers = {"Remediation-Audit-Error": "; ".join(result.audit_errors)[:1000]} if result.audit_errors else None
    if result.failure is Failure.OUT_OF_SCOPE:
        return _error(api.OUT_OF_SCOPE)
    if result.failure is Failure.NOT_FOUND:
        return _json(api.NOT_FOUND.body(), 404, headers)
    if result.failure is Failure.INTERNAL:
        return _json({**api.INTERNAL.body(), "record": result.record.to_json()}, 500, headers)
    if result.failure in (Failure.ARM_ERROR, Failure.ARM_UNAVAILABLE):
        arm_error = api.resource_manager_error(result.record.error, result.failure is Failure.ARM_UNAVAILABLE)
        return _json({**arm_error.body(), "record": result.record.to_json()}, arm_error.status, headers)
    return _json(result.record.to_json(), 200, headers)


@app.route(route="remediations", methods=["GET"], auth_level=func.AuthLevel.FUNCTION)
def remediations(req: func.HttpRequest) -> func.HttpResponse:
    """GET /api/remediations?resourceId=<id>&top=<n> → the account's audit records, newest first."""
    if (unavailable := _settings_unavailable()) is not None:
        return unavailable
    try:
        account_id, top = api.parse_history_query(req.params)
    except api.ApiError as error:
        return _error(error)
    if not within_any(account_id, parts().settings.scopes):
        return _error(api.OUT_OF_SCOPE)
    try:
        records = parts().history(account_id, top)
    except Exception as error:  # noqa: BLE001 - the table is down: a 503 that says so, not a stack trace
        log.error("audit history read failed: %s", type(error).__name__)
        return _error(api.ApiError(503, "AuditStoreUnavailable", "the audit table cannot be read right now"))
    return _json({"value": records})


@app.route(route="health", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
def health(req: func.HttpRequest) -> func.HttpResponse:
    """GET /api/health → status (healthy when the settings are valid) and version, nothing more: it is anonymous,
    so neither the mode nor which settings are wrong is told (the start-up log names them)."""
    if SETTINGS_ERROR is not None:
        return _json({"status": "unhealthy", "version": __version__}, 503)
    return _json({"status": "healthy", "version": __version__})
