"""CLI: python -m localdev.arm_emulator --port 8443 --cert-dir .localdev/certs [--scenario file.json]

Prints one JSON line (url, ca_path, identity endpoint and header, app identity), then serves until killed.
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
    args = ap.parse_args(argv)

    emu = ArmEmulator(cert_dir=args.cert_dir, port=args.port, host=args.host)
    if args.identity_header:
        emu.identity_header = args.identity_header
    emu.start()
    for scenario in args.scenario:
        emu.seed_file(scenario)
    print(json.dumps({"url": emu.url, "ca_path": emu.ca_path, "identity_endpoint": emu.identity_endpoint,
                      "identity_header": emu.identity_header, **emu.app_identity.to_dict(),
                      "env": emu.env()}), flush=True)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()
    emu.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
