"""The Functions host's side of the worker protocol, for tests that run function_app.py through the real worker
library: azure-functions-runtime (the library the host's Python 3.13 proxy worker loads) in .venv313.

`WorkerHost` starts tests/helpers/worker_proxy.py on Python 3.13 in the app's directory, with the app's settings in
its environment (the emulator's and Azurite's, from the pytest process: loopback only), and speaks to it as the host
does: worker init (the library indexes the app there), function metadata, one function load per function, then
invocation requests built as the host builds them for each trigger (the builders below, each with its source).
It reads back invocation responses and `RpcLog` messages, and keeps the logs the host keeps:

- the host dispatches a User (or CustomMetric) RpcLog to the invocation whose id it carries while that invocation
  is executing, and otherwise ignores it ("Ignoring RpcLog from invocation '…' because there is no matching
  ScriptInvocationContext"); System RpcLogs go to the worker channel's own logger, not to any function
  (Azure/azure-functions-host, src/WebJobs.Script.Grpc/Channel/GrpcWorkerChannel.cs `DispatchMessage`, `Log`,
  `SystemLog`, and GrpcWorkerChannel.Log.cs event 822, at 89dc438d476542786f2fc4070f553423213a6223). An invocation
  executes from the request the host sends until its response arrives (`_executingInvocations`: added when the
  request is sent, removed when the response is received). The stream is ordered, so a log written before the
  response reaches the host before it.

Messages travel as proto3 JSON (json_format), one per line; the proxy parses each into the protobuf message it
stands for, so the library sees real messages. The gRPC transport itself is not modelled.
"""
from __future__ import annotations

import base64
import itertools
import json
import os
import subprocess
import threading
import uuid
from collections.abc import Iterable
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

REPO = Path(__file__).resolve().parents[2]
PYTHON313 = REPO / ".venv313" / "bin" / "python"
PROXY = Path(__file__).resolve().with_name("worker_proxy.py")
HOST_JSON = json.loads((REPO / "host.json").read_text())
QUEUES = HOST_JSON["extensions"]["queues"]

# What the host sends in WorkerInitRequest: the library reads only `function_app_directory` and the
# FunctionDataCache capability (handle_event.py `worker_init_request`); the host version is a placeholder.
HOST_VERSION = "4.0.0-worker-harness"


class WorkerStartError(RuntimeError):
    """The worker process could not be started or answered worker init with a failure."""


@dataclass
class Invocation:
    """One invocation's outcome, as the host sees it."""

    invocation_id: str
    function: str
    response: dict[str, Any] = field(default_factory=dict)
    logs: list[dict[str, Any]] = field(default_factory=list)  # the User logs the host kept for it, in order

    @property
    def status(self) -> str:
        return str(self.response["result"]["status"])

    @property
    def exception(self) -> dict[str, Any]:
        return dict(self.response["result"].get("exception") or {})

    @property
    def return_value(self) -> dict[str, Any]:
        return dict(self.response.get("return_value") or {})

    def http(self) -> tuple[int, dict[str, str], bytes]:
        """(status, headers, body) of an HTTP function's `$return`."""
        http = self.return_value["http"]
        body = http.get("body") or {}
        raw = base64.b64decode(body["bytes"]) if "bytes" in body else (body.get("string") or "").encode()
        return int(http["status_code"]), dict(http.get("headers") or {}), raw

    def messages(self) -> list[str]:
        return [log["message"] for log in self.logs]


class WorkerHost:
    def __init__(self, env: dict[str, str], app_dir: Path = REPO, threads: int = 24,
                 stderr: IO[str] | None = None) -> None:
        self.app_dir = app_dir
        self.env = {**os.environ, **env, "PYTHON_THREADPOOL_THREAD_COUNT": str(threads)}
        self.env.pop("PYTHONPATH", None)  # .venv313 sees its own packages and the app only
        self.stderr = stderr
        self.process: subprocess.Popen[str] | None = None
        self._lock = threading.Lock()
        self._send_lock = threading.Lock()
        self._ids = itertools.count(1)
        self._pending: dict[str, Future[dict[str, Any]]] = {}
        self._executing: dict[str, Invocation] = {}
        self.system_logs: list[dict[str, Any]] = []
        self.ignored_logs: list[dict[str, Any]] = []  # User logs the host would drop: no executing invocation
        self.functions: dict[str, dict[str, Any]] = {}  # name -> RpcFunctionMetadata (proto3 JSON)
        self._reader: threading.Thread | None = None

    # -- the stream ---------------------------------------------------------------------------------------
    def start(self) -> WorkerHost:
        if not PYTHON313.exists():
            raise WorkerStartError(f"{PYTHON313} is missing: run `make deps`")
        self.process = subprocess.Popen([str(PYTHON313), str(PROXY)], cwd=self.app_dir, env=self.env, text=True,
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.stderr,
                                        encoding="utf-8")
        self._reader = threading.Thread(target=self._read, name="worker-stream", daemon=True)
        self._reader.start()
        return self

    def _read(self) -> None:
        assert self.process is not None and self.process.stdout is not None
        for line in self.process.stdout:
            message = json.loads(line)
            if "rpc_log" in message:
                self._log(message["rpc_log"])
                continue
            if "invocation_response" in message:
                response = message["invocation_response"]
                with self._lock:  # no longer executing: a log with its id that comes later is ignored
                    self._executing.pop(response["invocation_id"], None)
                    future = self._pending.pop(response["invocation_id"], None)
            else:
                with self._lock:
                    future = self._pending.pop(message.get("request_id", ""), None)
                response = message
            if future is not None:
                future.set_result(response)
        with self._lock:  # the worker is gone: whatever waits, fails
            pending, self._pending = list(self._pending.values()), {}
        for future in pending:
            future.set_exception(WorkerStartError("the worker process exited"))

    def _log(self, log: dict[str, Any]) -> None:
        with self._lock:
            if log.get("log_category") == "System":
                self.system_logs.append(log)
                return
            invocation = self._executing.get(log.get("invocation_id") or "")
            if invocation is None:
                self.ignored_logs.append(log)
            else:
                invocation.logs.append(log)

    def _send(self, message: dict[str, Any]) -> None:
        assert self.process is not None and self.process.stdin is not None
        with self._send_lock:
            self.process.stdin.write(json.dumps(message) + "\n")
            self.process.stdin.flush()

    def _request(self, content: str, body: dict[str, Any], timeout: float = 120) -> dict[str, Any]:
        request_id = f"host-{next(self._ids)}"
        future: Future[dict[str, Any]] = Future()
        with self._lock:
            self._pending[request_id] = future
        self._send({"request_id": request_id, content: body})
        return future.result(timeout)

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.stdin is not None:
            self.process.stdin.close()  # end of stream: the proxy stops the library's thread pool and exits
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        if self._reader is not None:
            self._reader.join(timeout=10)

    # -- start-up, as the host does it --------------------------------------------------------------------
    def init(self) -> dict[str, Any]:
        """Worker init (the library indexes the app here), function metadata, then one load per function."""
        response = self._request("worker_init_request", {
            "host_version": HOST_VERSION, "capabilities": {},
            "worker_directory": str(PYTHON313.parents[1]), "function_app_directory": str(self.app_dir)},
        )["worker_init_response"]
        if response["result"]["status"] != "Success":
            raise WorkerStartError(response["result"].get("exception", {}).get("message", "worker init failed"))
        metadata = self._request("functions_metadata_request",
                                 {"function_app_directory": str(self.app_dir)})["function_metadata_response"]
        for function in metadata["function_metadata_results"]:
            loaded = self._request("function_load_request", {"function_id": function["function_id"],
                                                             "metadata": function})["function_load_response"]
            if loaded["result"]["status"] != "Success":
                raise WorkerStartError(f"function load of {function['name']} failed: {loaded}")
            self.functions[function["name"]] = function
        return response

    def trigger_name(self, function: str) -> str:
        """The parameter the function's trigger binds (the binding whose type ends in "Trigger")."""
        bindings = self.functions[function]["bindings"]
        return next(name for name, info in bindings.items() if info["type"].endswith("Trigger"))

    # -- invocations --------------------------------------------------------------------------------------
    def submit(self, function: str, data: dict[str, Any], trigger_metadata: dict[str, Any] | None = None,
               ) -> tuple[Invocation, Future[dict[str, Any]]]:
        """Send one invocation request: `data` is the trigger's TypedData; returns at once."""
        invocation = Invocation(str(uuid.uuid4()), function)
        request = {
            "invocation_id": invocation.invocation_id, "function_id": self.functions[function]["function_id"],
            "input_data": [{"name": self.trigger_name(function), "data": data}],
            "trigger_metadata": trigger_metadata or {},
            # The host always sets a trace context (from the invocation's Activity; empty here) and a retry
            # context only for a function with a retry policy, which this app does not declare
            # (ScriptInvocationContextExtensions.cs `GetRpcTraceContext`, `SetRetryContext`).
            "trace_context": {"trace_parent": "", "trace_state": "", "attributes": {}},
        }
        future: Future[dict[str, Any]] = Future()
        with self._lock:
            self._executing[invocation.invocation_id] = invocation
            self._pending[invocation.invocation_id] = future
        self._send({"request_id": f"host-{next(self._ids)}", "invocation_request": request})
        return invocation, future

    def invoke(self, function: str, data: dict[str, Any], trigger_metadata: dict[str, Any] | None = None,
               timeout: float = 120) -> Invocation:
        invocation, future = self.submit(function, data, trigger_metadata)
        invocation.response = future.result(timeout)
        return invocation

    def __enter__(self) -> WorkerHost:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


# -- what the host sends for each trigger -----------------------------------------------------------------
# The host turns each input value and each binding-data entry into TypedData with
# GrpcMessageConversionExtensions.ToRpc (Azure/azure-functions-host, src/WebJobs.Script.Grpc/MessageExtensions/
# GrpcMessageConversionExtensions.cs at 89dc438d): byte[] → bytes, JObject → json, string → string, double → double,
# anything else (a long, a DateTimeOffset, a POCO) → json via JsonConvert.SerializeObject (`ToRpcDefault`).
# Binding data become InvocationRequest.trigger_metadata, except null values, the `sys` entry, and an HttpRequest
# value when the worker declares RpcHttpTriggerMetadataRemoved, which the library does
# (src/WebJobs.Script.Grpc/Extensions/ScriptInvocationContextExtensions.cs `ToRpcInvocationRequest`,
# `ShouldSkipBindingData`).

def _json_string(value: str) -> dict[str, Any]:
    """A .NET string-like value (DateTimeOffset) serialized by JsonConvert: a JSON string."""
    return {"json": json.dumps(value)}


def event_grid(event: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(input, trigger_metadata) for one Event Grid delivery (Event Grid schema or CloudEvents).

    The Event Grid extension's trigger value is the event as a JObject (TriggerValueType JObject) and its binding
    data contract is {"data": the event's `data`} (Azure/azure-functions-eventgrid-extension,
    src/EventGridExtension/TriggerBinding/EventGridTriggerAttributeBindingProvider.cs at
    5585dda81a3def2782eb696003d5dd92d5fc1ab9): JObject → TypedData.json; `data`, a JToken, → json as well.
    That the script host hands the worker the JObject itself (not a string conversion of it) is inferred, not read
    in the host's source: the worker's converter (azure.functions EventGridEventInConverter) accepts json only, so
    every Python Event Grid function would fail otherwise.
    """
    return {"json": json.dumps(event)}, {"data": {"json": json.dumps(event.get("data"))}}


def queue_message(message: Any, text: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(input, trigger_metadata) for one queue message (an azure.storage.queue QueueMessage, `text` its content as
    the host decoded it: base64 by default, host.json has no messageEncoding).

    The trigger value: a script function's trigger without dataType binds to the type the WebJobs SDK picks for it
    (Azure/azure-functions-host, src/WebJobs.Script/Description/FunctionDescriptorProvider.cs
    `TryParseTriggerParameter`: `binding.DefaultType`), which for an input with no binding rule of its own is
    typeof(String), "common default" (Azure/azure-webjobs-sdk, JobHostMetadataProvider.GetDefaultType; read in a
    stored copy whose path and commit could not be pinned). So the message text goes as TypedData.string; the
    library's queue converter would take bytes as well. The binding data contract (Azure/azure-sdk-for-net,
    sdk/storage/Microsoft.Azure.WebJobs.Extensions.Storage.Queues/src/Triggers/QueueTriggerBinding.cs at
    724e7448e8531d4ffad1dfb4423cb090a561a4b1, `CreateBindingDataContract`): QueueTrigger string, DequeueCount long,
    ExpirationTime/InsertionTime/NextVisibleTime DateTimeOffset, Id string, PopReceipt string; a long and a
    DateTimeOffset go through ToRpcDefault (json: `5`, `"2026-01-02T03:04:05+00:00"`). Newtonsoft's ISO format
    for a DateTimeOffset keeps the offset and drops zero fractions; Storage's times are whole seconds.
    """
    def stamp(moment: Any) -> dict[str, Any] | None:
        return _json_string(moment.isoformat()) if moment is not None else None

    metadata: dict[str, Any] = {
        "QueueTrigger": {"string": text},
        "DequeueCount": {"json": json.dumps(int(message.dequeue_count))},
        "Id": {"string": message.id},
        "PopReceipt": {"string": message.pop_receipt},
        "InsertionTime": stamp(message.inserted_on),
        "ExpirationTime": stamp(message.expires_on),
        "NextVisibleTime": stamp(message.next_visible_on),
    }
    return {"string": text}, {k: v for k, v in metadata.items() if v is not None}


def http_request(method: str, path: str, body: bytes = b"", query: dict[str, str] | None = None,
                 headers: dict[str, str] | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
    """(input, trigger_metadata) for one HTTP request to the function app at http://localhost:7071.

    RpcHttp as GrpcMessageConversionExtensions.ToRpcHttp builds it for this worker (no HttpUri capability, so no
    proxying; no nullable-dictionary capability): url scheme://host + path + query string, method, headers with
    lower-cased names (empty values skipped), query parameters with a non-empty value, route parameters as params,
    and the body only when there is one: with RpcHttpBodyOnly and RawHttpBodyBytes declared (the library declares
    both) `PopulateBody` reads it as bytes. The HttpRequest binding-data entries are left out
    (RpcHttpTriggerMetadataRemoved); what else an HTTP trigger's binding data hold (query and header entries) was
    not read in the host's source, so no trigger metadata is sent; the library's HTTP converter does not read it.
    """
    query = query or {}
    headers = {k.lower(): v for k, v in {"host": "localhost:7071", **(headers or {})}.items() if v}
    query_string = "&".join(f"{k}={v}" for k, v in query.items())
    http: dict[str, Any] = {
        "method": method, "url": f"http://localhost:7071{path}" + (f"?{query_string}" if query_string else ""),
        "headers": headers, "query": {k: v for k, v in query.items() if v}, "params": {},
    }
    if body:
        http["body"] = {"bytes": base64.b64encode(body).decode()}
        headers.setdefault("content-length", str(len(body)))
    return {"http": http}, {}


def timer_tick(last: str, next_: str, past_due: bool = False) -> tuple[dict[str, Any], dict[str, Any]]:
    """(input, trigger_metadata) for one timer firing.

    The timer trigger's script binding type is TimerInfo (Azure/azure-functions-host,
    src/WebJobs.Script/Binding/CoreExtensionsScriptBindingProvider.cs `TimerTriggerScriptBinding.DefaultType`),
    which ToRpc sends through ToRpcDefault: JsonConvert's PascalCase JSON of TimerInfo's public properties
    (Schedule, ScheduleStatus {Last, Next, LastUpdated}, IsPastDue). The Schedule object's own properties depend on
    the schedule type (not read here: an empty object is sent; the library's TimerRequest passes it through).
    The timer's binding data were not read in the source either: no trigger metadata is sent.
    """
    info = {"Schedule": {}, "ScheduleStatus": {"Last": last, "Next": next_, "LastUpdated": last},
            "IsPastDue": past_due}
    return {"json": json.dumps(info)}, {}


def kept_lines(invocations: Iterable[Invocation], prefix: str) -> list[tuple[str, str]]:
    """(invocation id, message) of every kept log line that starts with `prefix`."""
    return [(i.invocation_id, m) for i in invocations for m in i.messages() if m.startswith(prefix)]


class QueueListener:
    """The host's queue trigger for one queue, around a WorkerHost: receive, invoke, then settle the message.

    Modelled on what the queue extension documents and the project's in-process host does
    (localdev/functions_host.py): a received message stays hidden while its invocation runs; a Success deletes it;
    a Failure makes it visible again after host.json's visibilityTimeout (`release_after` here, so a test need not
    wait 10 s), to be delivered with one more dequeue; a Failure on a delivery whose dequeue count has reached
    host.json's maxDequeueCount moves it to `<queue>-poison` instead ("Poison messages", Azure Queue storage trigger,
    learn.microsoft.com/azure/azure-functions/functions-bindings-storage-queue-trigger). Not modelled: the host's
    polling back-off, batching (batchSize/newBatchThreshold; the in-process LocalHost.serve models them), the lease
    renewal of a long run, and the poison message's exact form (the same content is put on the poison queue here).
    """

    HOLD = 600  # seconds a received message stays hidden while it runs (the listener's own visibility timeout)

    def __init__(self, host: WorkerHost, connection_string: str, queue: str, function: str,
                 release_after: int | None = None) -> None:
        from azure.core.exceptions import ResourceExistsError
        from azure.storage.queue import QueueClient

        self.host = host
        self.function = function
        self.queue = QueueClient.from_connection_string(connection_string, queue)
        self.poison = QueueClient.from_connection_string(connection_string, f"{queue}-poison")
        try:
            self.queue.create_queue()  # the host creates the queue a trigger listens on
        except ResourceExistsError:
            pass
        self.release_after = release_after if release_after is not None else _seconds(QUEUES["visibilityTimeout"])
        self.max_dequeue = int(QUEUES["maxDequeueCount"])
        self.invocations: list[tuple[Any, Invocation]] = []  # (the message as received, its invocation)

    def receive(self, count: int) -> list[Any]:
        """Up to `count` visible messages, hidden while they run."""
        return list(self.queue.receive_messages(max_messages=min(count, 32), visibility_timeout=self.HOLD))

    def run(self, messages: list[Any], timeout: float = 120) -> list[Invocation]:
        """Invoke the function once per message, all at once, and settle each message by its response."""
        sent = []
        for message in messages:
            data, metadata = queue_message(message, base64.b64decode(message.content).decode("utf-8"))
            sent.append((message, *self.host.submit(self.function, data, metadata)))
        done = []
        for message, invocation, future in sent:
            invocation.response = future.result(timeout)
            self._settle(message, invocation)
            self.invocations.append((message, invocation))
            done.append(invocation)
        return done

    def _settle(self, message: Any, invocation: Invocation) -> None:
        from azure.core.exceptions import ResourceExistsError

        if invocation.status == "Success":
            self.queue.delete_message(message)
        elif message.dequeue_count >= self.max_dequeue:
            try:
                self.poison.create_queue()
            except ResourceExistsError:
                pass
            self.poison.send_message(message.content)
            self.queue.delete_message(message)
        else:
            self.queue.update_message(message, visibility_timeout=self.release_after)

    def drain(self, timeout: float = 120) -> list[Invocation]:
        """Deliver until the queue holds no visible message; returns every invocation made."""
        import time

        deadline = time.monotonic() + timeout
        made: list[Invocation] = []
        while time.monotonic() < deadline:
            batch = self.receive(int(QUEUES["batchSize"]))
            if not batch:
                return made
            made += self.run(batch, timeout=max(1.0, deadline - time.monotonic()))
        raise TimeoutError(f"the queue was not drained within {timeout} s")


def _seconds(timespan: str) -> int:
    hours, minutes, seconds = (int(part) for part in timespan.split(":"))
    return hours * 3600 + minutes * 60 + seconds
