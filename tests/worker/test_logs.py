"""Which log lines reach the host: only those written inside a running invocation, with its id (the rule is
tests/helpers/worker_proxy.py's and worker_host.py's, with their sources). The audit line of every reconcile (the
`remediation.reconcile` telemetry line, remediation/engine/sinks.py) must be one of them: written from the thread that
runs the invocation, never from one the app starts without the invocation's id."""
from __future__ import annotations

import base64
import json
import textwrap
from pathlib import Path

from azure.storage.queue import QueueClient

from localdev.estate import OPENAI_ZONE, Estate, account_id
from remediation.core.model import Trigger
from remediation.core.operations import TargetKind
from remediation.core.telemetry import RECONCILE_PREFIX, parse_line
from remediation.store.queue import WorkItem
from remediation.store.storage import WORK_QUEUE
from tests.conftest import Stack
from tests.helpers.worker_host import QueueListener, http_request
from tests.worker.conftest import StartWorker

DRIFTED = [account_id(f"aoai-{n}") for n in range(3)]
CALM = account_id("aoai-calm")


def test_every_reconcile_audit_line_reaches_the_host_with_its_invocation_id(
        stack: Stack, start_worker: StartWorker) -> None:
    estate = Estate().network((OPENAI_ZONE,)).locked("aoai-calm")
    for resource_id in DRIFTED:
        estate.locked(resource_id.rsplit("/", 1)[1], public_network_access="Enabled")
    stack.seed(estate)
    host = start_worker()
    listener = QueueListener(host, stack.azurite.connection_string, WORK_QUEUE, "process_work_item")
    queue = QueueClient.from_connection_string(stack.azurite.connection_string, WORK_QUEUE)
    for resource_id in DRIFTED:
        item = WorkItem(kind=TargetKind.ACCOUNT, resource_id=resource_id, trigger=Trigger.EVENT)
        queue.send_message(base64.b64encode(item.to_message().encode()).decode())

    invocations = listener.drain()
    invocations.append(host.invoke("remediate", *http_request(
        "POST", "/api/remediate", json.dumps({"resourceId": CALM}).encode())))

    assert [i.status for i in invocations] == ["Success"] * 4
    # Every record the audit table holds, as the app's own history API answers.
    records = {}
    for resource_id in [*DRIFTED, CALM]:
        status, _, body = host.invoke("remediations", *http_request(
            "GET", "/api/remediations", query={"resourceId": resource_id})).http()
        assert status == 200
        records.update({r["id"]: r for r in json.loads(body)["value"]})
    assert len(records) == 4
    # ... each has exactly one telemetry line, kept by the host under the invocation that reconciled it.
    kept = [(i, fields) for i in invocations for m in i.messages()
            if (fields := parse_line(m, RECONCILE_PREFIX)) is not None]
    assert sorted(fields["id"] for _, fields in kept) == sorted(records)
    for invocation, fields in kept:
        assert invocation.function in ("process_work_item", "remediate")
        assert fields["resourceId"] == records[fields["id"]]["resourceId"]
    assert [log for log in host.ignored_logs if log["message"].startswith(RECONCILE_PREFIX)] == []


PROBE_APP = """
    import logging
    import threading

    import azure.functions as func

    app = func.FunctionApp()
    log = logging.getLogger("probe")


    @app.route(route="probe", auth_level=func.AuthLevel.ANONYMOUS)
    def probe(req: func.HttpRequest, context: func.Context) -> func.HttpResponse:
        log.info("on the invocation's thread")

        def started() -> None:
            log.info("on a thread the app started")

        def carried() -> None:
            context.thread_local_storage.invocation_id = context.invocation_id
            log.info("on a thread the app started, with the invocation's id")

        for target in (started, carried):
            thread = threading.Thread(target=target)
            thread.start()
            thread.join()
        return func.HttpResponse("ok")
"""


def test_the_host_drops_a_line_written_from_a_thread_without_the_invocations_id(
        stack: Stack, start_worker: StartWorker, tmp_path: Path) -> None:
    """The rule itself, on a throwaway app: what a thread the app starts writes is lost unless it carries the id."""
    app_dir = tmp_path / "app"
    app_dir.mkdir()
    (app_dir / "function_app.py").write_text(textwrap.dedent(PROBE_APP))
    host = start_worker(app_dir=app_dir)

    probe = host.invoke("probe", *http_request("GET", "/api/probe"))

    assert probe.status == "Success", probe.exception
    assert probe.messages() == ["on the invocation's thread", "on a thread the app started, with the invocation's id"]
    assert [log["message"] for log in host.ignored_logs if log["category"] == "probe"] == \
        ["on a thread the app started"]
