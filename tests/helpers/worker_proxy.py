"""The Python 3.13 proxy worker's part around azure-functions-runtime, for tests/helpers/worker_host.py.

    .venv313/bin/python tests/helpers/worker_proxy.py      (started by WorkerHost, in the app's directory)

On Python 3.13 the Functions host starts a proxy worker that owns the gRPC stream and loads the library worker,
`azure_functions_runtime`, for everything between the stream and the app (indexing, conversions, the thread pool,
return values). This process plays that proxy, and only its plumbing: each line on stdin is one host→worker
`StreamingMessage` (proto3 JSON), parsed into a real protobuf message (tests/helpers/worker_protos.py) and
handed to the library's own entry points; each response, and each log record as an `RpcLog`, goes back as one
line on a private descriptor (the process's stdout; whatever the app prints goes to stderr instead).

What it does as the proxy does (Azure/azure-functions-python-worker, workers/proxy_worker/dispatcher.py at
d9e25ebff225331dbde3bbd0e4977f8c2131bd5d, `Dispatcher`):
- every request runs as its own task on one asyncio loop (`__poll_grpc` → `_dispatch_grpc_request`), so
  invocations run side by side and their responses go out as they finish;
- before `worker_init_request` it calls the library's `start_threadpool_executor()`, and passes
  `properties={"protos": protos, "host": host}`; the other requests are passed without properties;
- a handler on the root logger (level INFO unless PYTHON_ENABLE_DEBUG_LOGGING) turns every record into an RpcLog:
  level mapped CRITICAL/ERROR/WARNING/INFO/DEBUG → Critical/Error/Warning/Information/Debug, `category` the
  logger's name, `log_category` System for names starting `proxy_worker`, `azure.functions` or
  `azure_functions_runtime` (workers/proxy_worker/logging.py `is_system_log_category`, at
  092b5ef1d6010931d6a4897f094f0b341569d633), else User, and `invocation_id` when the record was written inside
  an invocation.

Which invocation a record belongs to: the library sets two things around a sync function's call on its pool
thread (azure_functions_runtime 1.3.0, utils/executor.py `run_sync_func`): the context variable
`invocation_id_cv` and `context.thread_local_storage.invocation_id` (bindings/context.py `_invocation_id_local`, a
threading.local), and clears both afterwards. The record's id here is the context variable's value, else the
thread-local's: the order of the worker's bridge for the library (workers/r2p2/bridge/bridge.py
`_current_invocation_id`, at 03e5d49f81e6509504b7be0147bd9fcfbe86bcf4), and the rule of the classic worker the
Python 3.11 host runs (azure_functions_worker 4.34.0, azure_functions_worker/dispatcher.py
`get_current_invocation_id`, at 7e6acf36e43335ad69742923af9ff3d62b99242a: the running task's id, else the same
threading.local the function's Context exposes as `thread_local_storage`). A thread the app starts itself has
neither, so its records carry no id, unless the app copies the id into `context.thread_local_storage` there.
Not modelled: the proxy at d9e25eb also looks up a process-wide "current invocation" (the last one that started)
before those, which labels a record from any thread with whichever invocation started last; the harness keeps to
the library's own per-thread storage, the stricter rule, so a record without its own id is not rescued by a
neighbour's.
"""
from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
import threading
from pathlib import Path
from types import SimpleNamespace
from typing import Any, TextIO

sys.path.insert(0, str(Path(__file__).resolve().parent))  # worker_protos, beside this file

import worker_protos as protos  # noqa: E402
from google.protobuf import json_format  # noqa: E402

SYSTEM_PREFIXES = ("proxy_worker", "azure.functions", "azure_functions_runtime")
HOST = "127.0.0.1"


class Outbox:
    """The worker→host stream: one JSON line per StreamingMessage, in the order they are written."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._lock = threading.Lock()

    def send(self, message: Any) -> None:
        line = json.dumps(json_format.MessageToDict(message, preserving_proto_field_name=True,
                                                    always_print_fields_with_no_presence=True))
        with self._lock:
            self._stream.write(line + "\n")
            self._stream.flush()


class RpcLogHandler(logging.Handler):
    def __init__(self, outbox: Outbox, request_id: str, runtime: Any, thread_local: Any) -> None:
        super().__init__()
        self._outbox = outbox
        self._request_id = request_id
        self._runtime = runtime
        self._thread_local = thread_local

    def invocation_id(self) -> str | None:
        return self._runtime.invocation_id_cv.get() or getattr(self._thread_local, "invocation_id", None)

    def emit(self, record: logging.LogRecord) -> None:
        try:
            levels = ((logging.CRITICAL, "Critical"), (logging.ERROR, "Error"), (logging.WARNING, "Warning"),
                      (logging.INFO, "Information"), (logging.DEBUG, "Debug"))
            level = next((name for number, name in levels if record.levelno >= number), "None")
            fields: dict[str, Any] = {
                "level": getattr(protos.RpcLog, level), "message": self.format(record), "category": record.name,
                "log_category": protos.RpcLog.System if record.name.startswith(SYSTEM_PREFIXES)
                else protos.RpcLog.User}
            invocation_id = self.invocation_id()
            if invocation_id is not None:
                fields["invocation_id"] = invocation_id
            self._outbox.send(protos.StreamingMessage(request_id=self._request_id, rpc_log=protos.RpcLog(**fields)))
        except Exception:  # noqa: BLE001 - a log line must never break the invocation that wrote it
            self.handleError(record)


class Proxy:
    def __init__(self, outbox: Outbox, loop: asyncio.AbstractEventLoop) -> None:
        self.outbox = outbox
        self.loop = loop
        import azure_functions_runtime
        from azure_functions_runtime.bindings import context

        self.runtime = azure_functions_runtime
        self.handler = RpcLogHandler(outbox, "proxy", azure_functions_runtime, context._invocation_id_local)
        root = logging.getLogger()
        root.setLevel(logging.DEBUG if os.environ.get("PYTHON_ENABLE_DEBUG_LOGGING", "").lower() in ("1", "true")
                      else logging.INFO)
        root.addHandler(self.handler)

    async def dispatch(self, message: Any) -> None:
        kind = message.WhichOneof("content")
        request = SimpleNamespace(name=kind, request=message, properties=None)
        if kind == "worker_init_request":
            # The host starts the worker with the app on sys.path (the proxy's DependencyManager puts the app's
            # directory there); the library then imports `function_app` by name.
            directory = message.worker_init_request.function_app_directory
            if directory not in sys.path:
                sys.path.insert(0, directory)
            request.properties = {"protos": protos, "host": HOST}
            self.runtime.start_threadpool_executor()
            reply = {"worker_init_response": await self.runtime.worker_init_request(request)}
        elif kind == "functions_metadata_request":
            reply = {"function_metadata_response": await self.runtime.functions_metadata_request(request)}
        elif kind == "function_load_request":
            reply = {"function_load_response": await self.runtime.function_load_request(request)}
        elif kind == "invocation_request":
            reply = {"invocation_response": await self.runtime.invocation_request(request)}
        else:
            logging.getLogger("proxy_worker").error("unknown StreamingMessage content: %s", kind)
            return
        self.outbox.send(protos.StreamingMessage(request_id=message.request_id, **reply))

    def read(self, lines: TextIO, done: asyncio.Future[None]) -> None:
        """The reader thread: each line becomes a task on the loop, as the proxy's gRPC thread does."""
        for line in lines:
            if line.strip():
                message = json_format.ParseDict(json.loads(line), protos.StreamingMessage())
                self.loop.call_soon_threadsafe(self.loop.create_task, self.dispatch(message))
        self.loop.call_soon_threadsafe(done.set_result, None)


async def serve(outbox: Outbox) -> None:
    loop = asyncio.get_running_loop()
    proxy = Proxy(outbox, loop)
    done: asyncio.Future[None] = loop.create_future()
    threading.Thread(target=proxy.read, args=(sys.stdin, done), name="host-stream", daemon=True).start()
    await done
    proxy.runtime.stop_threadpool_executor()


def main() -> int:
    # The protocol gets the process's stdout to itself; fd 1 (print, C extensions) goes to stderr from here on.
    outbox = Outbox(os.fdopen(os.dup(1), "w", encoding="utf-8"))
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    asyncio.run(serve(outbox))
    return 0


if __name__ == "__main__":
    sys.exit(main())
