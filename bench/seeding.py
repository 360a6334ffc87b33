"""Seeding large estates into the emulator: seconds and memory, each size in a fresh interpreter.

The estate (localdev/estate_scale.py) streams in per-subscription pieces, so only the emulator's store
holds it. Per row: resources stored, seconds to seed, the memory the store added (RSS after seeding minus
before, the emulator created but empty), the process's peak (VmHWM), and the time to page through every
account and every A record as a sweep would (the store's paging must stay linear).
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
SIZES = ((10_000, 10), (100_000, 1_000))

PROBE = textwrap.dedent("""\
    import gc, json, sys, tempfile, time
    from localdev.arm_emulator import ArmEmulator
    from localdev.estate_scale import DNS_RG, ScaleEstate, seed_estate
    from localdev.estate import OPENAI_ZONE, zone_id

    def status(key):
        for line in open("/proc/self/status"):
            if line.startswith(key):
                return int(line.split()[1]) / 1024

    accounts, subscriptions = int(sys.argv[1]), int(sys.argv[2])
    emulator = ArmEmulator(cert_dir=tempfile.mkdtemp())
    estate = ScaleEstate(accounts=accounts, subscriptions=subscriptions)
    gc.collect()
    before = status("VmRSS")
    started, cpu = time.perf_counter(), time.process_time()
    given = seed_estate(emulator, estate)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    gc.collect()
    added = status("VmRSS") - before
    store, size = emulator.store, 1000
    started = time.perf_counter()
    listed = 0
    for subscription in estate.subscription_ids:
        offset, more = 0, True
        while more:
            page, more = store.page("Microsoft.CognitiveServices/accounts", f"/subscriptions/{subscription}",
                                    offset, size)
            listed, offset = listed + len(page), offset + size
    zone = zone_id(OPENAI_ZONE, DNS_RG)
    offset, more = 0, True
    while more:
        page, more = store.children_page(zone, "Microsoft.Network/privateDnsZones/A", offset, size)
        listed, offset = listed + len(page), offset + size
    paging = time.perf_counter() - started
    print(json.dumps({"given": given, "stored": len(store), "seconds": seconds, "cpu": cpu, "added_mib": added,
                      "peak_mib": status("VmHWM"), "listed": listed, "paging_s": paging,
                      "drifted": len(estate.truth.drifted), "hubs": estate.hubs}))""")


def seeding_rows(sizes: tuple[tuple[int, int], ...] = SIZES) -> list[list[Any]]:
    rows = []
    for accounts, subscriptions in sizes:
        done = subprocess.run([sys.executable, "-c", PROBE, str(accounts), str(subscriptions)], cwd=REPO,
                              capture_output=True, text=True)
        if done.returncode:
            raise RuntimeError(done.stderr[-2000:])
        r = json.loads(done.stdout.strip().splitlines()[-1])
        rows.append([f"{accounts:,}", f"{subscriptions:,}", r["hubs"], f"{r['stored']:,}", f"{r['seconds']:.1f}",
                     f"{r['cpu']:.1f}", f"{r['cpu'] / accounts * 1e6:.0f}", f"{r['added_mib']:.0f}",
                     f"{r['added_mib'] * 1024 / r['stored']:.2f}", f"{r['peak_mib']:.0f}",
                     f"{r['listed']:,} in {r['paging_s']:.2f} s"])
    return rows


def print_seeding_table(sizes: tuple[tuple[int, int], ...] = SIZES) -> None:
    from tabulate import tabulate

    print("\nSeeding estates (hub VNets of 1,000 endpoints, privatelink zones linked to each, accounts spread over "
          "the subscriptions, 10% drifted, decoys), streamed per subscription into a fresh emulator\n")
    print(tabulate(seeding_rows(sizes), tablefmt="github", disable_numparse=True,
                   headers=["accounts", "subscriptions", "hub VNets", "resources stored", "wall s", "CPU s",
                            "CPU µs per account", "store MiB", "KiB per resource", "peak MiB",
                            "paged (accounts per subscription + one zone's A records, 1,000 a page)"]))


if __name__ == "__main__":
    print_seeding_table(SIZES if "--scale" in sys.argv else SIZES[:1])
