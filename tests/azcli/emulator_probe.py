"""Asks a running emulator's admin API from inside the walkthrough's shell (its own network namespace):

    python tests/azcli/emulator_probe.py https://127.0.0.1:8443 .localdev/certs/ca.pem GET resources

prints `::json:: <answer>` on one line (DELETE prints `::json:: null`)."""
from __future__ import annotations

import json
import ssl
import sys
import urllib.request


def main(url: str, ca_path: str, method: str, route: str) -> int:
    context = ssl.create_default_context(cafile=ca_path)
    request = urllib.request.Request(f"{url}/_emulator/{route}", method=method)
    with urllib.request.urlopen(request, context=context, timeout=10) as answer:
        body = answer.read()
    print("::json::", json.dumps(json.loads(body) if body else None), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:5]))
