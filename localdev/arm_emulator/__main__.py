"""CLI: python -m localdev.arm_emulator --port 8443 --cert-dir .localdev/certs [--scenario file.json]
                                      [--dns-port 8053 [--dns-vnet <virtual network ID>]]

Prints one JSON line (url, ca_path, identity endpoint and header, app and operator identities, the DNS
server's address when one runs), then serves until killed. `python -m localdev.azcli login` logs the Azure CLI
in to it. With `--dns-port` the same process answers DNS (UDP and TCP) as Azure's resolver answers inside
`--dns-vnet` (localdev/dns_server.py), from what the emulator holds at each query: `dig @127.0.0.1 -p 8053
<name>` is an nslookup from inside that network.
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
    ap = argparse.ArgumentParser(prog="python -m localdev.arm_emulator", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--port", type=int, default=8443)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--cert-dir", type=Path, default=DEFAULT_CERT_DIR)
    ap.add_argument("--scenario", type=Path, action="append", default=[])
    ap.add_argument("--identity-header", help="fixed IDENTITY_HEADER secret (default: random), so a "
                    "local.settings.json can name it")
    ap.add_argument("--retry-after", type=int, default=1, metavar="SECONDS",
                    help="Retry-After on running long-running operations (0: none); clients such as the "
                    "Azure CLI otherwise wait 30 s between polls")
    ap.add_argument("--dns-port", type=int, metavar="PORT",
                    help="also answer DNS on this port of --host (UDP and TCP; 0: any free port), as Azure's "
                    "resolver (168.63.129.16) answers inside --dns-vnet")
    ap.add_argument("--dns-vnet", metavar="VNET_ID",
                    help="the virtual network whose resolver the DNS server plays (default: none, so only "
                    "public answers)")
    args = ap.parse_args(argv)
    if args.dns_vnet and args.dns_port is None:
        ap.error("--dns-vnet needs --dns-port")

    emu = ArmEmulator(cert_dir=args.cert_dir, port=args.port, host=args.host)
    if args.identity_header:
        emu.identity_header = args.identity_header
    emu.config.lro_retry_after_s = args.retry_after
    emu.start()
    for scenario in args.scenario:
        emu.seed_file(scenario)
    dns = None
    if args.dns_port is not None:
        from localdev.dns_server import DnsServer

        dns = DnsServer(emu, args.dns_vnet, host=args.host, port=args.dns_port).start()
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):   # before the line: whoever read it may stop us at once
        signal.signal(sig, lambda *_: stop.set())
    print(json.dumps({"url": emu.url, "ca_path": emu.ca_path, "identity_endpoint": emu.identity_endpoint,
                      "identity_header": emu.identity_header, **emu.app_identity.to_dict(),
                      "operator": emu.operator_identity.to_dict(), "env": emu.env(),
                      **({"dns": dns.address, "dns_vnet": dns.vnet_id} if dns else {})}), flush=True)
    stop.wait()
    if dns is not None:
        dns.stop()
    emu.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
