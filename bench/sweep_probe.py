"""One sweep in a fresh process, for bench/sweep_scale.py: `Sweeper(ArmClients(settings), settings).run(enqueue=None)`
with the app's settings from the environment, as the operator's `scan` runs it.

    python bench/peak.py PEAK -m bench.sweep_probe FOUND

Every account the sweep reports drifted (findings, not exempt) is appended to FOUND as it streams past, so
this process holds nothing per account; the last line of stdout is a JSON summary.
"""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any


def main() -> int:
    from remediation.arm.clients import ArmClients
    from remediation.core.settings import Settings
    from remediation.runtime.sweep import Sweeper

    found = Path(sys.argv[1])
    settings = Settings.from_env(require_storage=False)
    clients = ArmClients(settings)
    counts = {"screened": 0, "drifted": 0, "needs_work": 0}
    with found.open("w") as out:
        def each(screened: Any) -> None:
            counts["screened"] += 1
            if screened.findings and not screened.exemption.exempt:
                counts["drifted"] += 1
                out.write(f"{screened.account.id}\n")
            counts["needs_work"] += screened.needs_work

        started = time.perf_counter()
        summaries = Sweeper(clients, settings).run(enqueue=None, each=each)
        seconds = time.perf_counter() - started
    clients.close()
    print(json.dumps({**counts, "seconds": seconds, "accounts": sum(s.accounts for s in summaries),
                      "scopes": len(summaries), "arm_requests": sum(s.arm_requests for s in summaries),
                      "concurrency": settings.sweep_concurrency}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
