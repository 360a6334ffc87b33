"""CLI: python -m localdev.arm_emulator --port 8443 --cert-dir .localdev/certs [--scenario file.json]

Prints one JSON line (url, ca_path, identity endpoint and header, app and operator identities), then serves
until killed. `python -m localdev.azcli login` logs the Azure CLI in to it.
"""
from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from pathlib import Path

from .emulator import DEFAULT_CERT_DIR, ArmEmulator


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m localdev.arm_emulator", description=__doc__)
    ap.add_argument("--port", type=int, default=8443)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--cert-dir", type=Path, default=DEFAULT_CERT_DIR)
    ap.add_argument("--scenario", type=Path, action="append", default=[])
    ap.add_argument("--identity-header", help="fixed IDENTITY_HEADER secret (default: random), so a "
                    "local.settings.json can name it")
    ap.add_argument("--retry-after", type=int, default=1, metavar="SECONDS",
                    help="Retry-After on running long-running operations (0: none); clients such as the "
                    "Azure CLI otherwise wait 30 s between polls")
    args = ap.parse_args(argv)

    emu = ArmEmulator(cert_dir=args.cert_dir, port=args.port, host=args.host)
    if args.identity_header:
        emu.identity_header = args.identity_header
    emu.config.lro_retry_after_s = args.retry_after
    emu.start()
    for scenario in args.scenario:
        emu.seed_file(scenario)
    print(json.dumps({"url": emu.url, "ca_path": emu.ca_path, "identity_endpoint": emu.identity_endpoint,
                      "identity_header": emu.identity_header, **emu.app_identity.to_dict(),
                      "operator": emu.operator_identity.to_dict(), "env": emu.env()}), flush=True)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()
    emu.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
