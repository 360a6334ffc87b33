"""One queue worker instance for bench/storm.py: `import function_app`, then poll the work queue.

    python -m bench.storm_worker --audit audit-3.jsonl --ready ready-3 --stop stop [--threads 24]

Settings come from the environment, as on a Functions instance; BENCH_SELF_PACING=0 turns the app's self-pacing
off (to measure what it saves). The app's own logger writes each audit
record's telemetry line (`remediation.audit`); this process appends their fields to --audit as JSON
lines. It runs the queue with
localdev/functions_host.py's LocalHost.serve, as one host instance does (batchSize messages fetched whenever
no more than newBatchThreshold run, each on a pool of --threads threads, PYTHON_THREADPOOL_THREAD_COUNT in
the deployment; deleted once the function returns, made visible again when it raises) until the --stop file
exists and the queue is idle.
"""
from __future__ import annotations

import argparse
import importlib
import json
import logging
import os
from pathlib import Path
from typing import TextIO

from remediation.core.telemetry import RECONCILE_PREFIX, parse_line

IDLE_POLL = 0.1  # seconds between polls of an empty queue (the host backs off to maxPollingInterval, 2 s)


class AuditFile(logging.Handler):
    def __init__(self, stream: TextIO) -> None:
        super().__init__(logging.INFO)
        self.stream = stream

    def emit(self, record: logging.LogRecord) -> None:
        fields = parse_line(record.getMessage(), RECONCILE_PREFIX) if record.levelno == logging.INFO else None
        if fields is not None:  # the record's telemetry line: id, resourceId, outcome, eventToFixMs…
            self.stream.write(json.dumps(fields, separators=(",", ":")) + "\n")
            self.stream.flush()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--audit", type=Path, required=True)
    parser.add_argument("--ready", type=Path, required=True)
    parser.add_argument("--stop", type=Path, required=True)
    parser.add_argument("--threads", type=int, default=int(os.environ.get("PYTHON_THREADPOOL_THREAD_COUNT", "24")))
    args = parser.parse_args()

    from localdev.functions_host import LocalHost

    with args.audit.open("a") as audit:
        logger = logging.getLogger("remediation.audit")
        logger.setLevel(logging.INFO)
        logger.addHandler(AuditFile(audit))
        if os.environ.get("BENCH_SELF_PACING") == "0":   # bench/storm.py measures what self-pacing saves
            import remediation.arm.clients

            remediation.arm.clients.SELF_PACING = False
        app = importlib.import_module("function_app")
        host = LocalHost(app, os.environ["AzureWebJobsStorage"])
        args.ready.touch()
        host.serve(args.threads, done=args.stop.exists, poll=IDLE_POLL)
    print(json.dumps({"processed": host.processed, "failures": host.failures}), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
