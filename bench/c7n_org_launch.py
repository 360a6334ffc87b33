"""Run Cloud Custodian's multi-subscription runner, `c7n-org run`, against the local Resource Manager emulator.

c7n-org (tools/c7n_org in cloud-custodian; c7n-org on PyPI) reads an accounts file (`subscriptions:` for
Azure), then runs the policy once per subscription in a pool of worker processes
(`concurrent.futures.ProcessPoolExecutor`), `C7N_ORG_PARALLEL` of them (default: 4 per CPU). This launcher
points the public cloud's Resource Manager endpoint at the emulator, as bench/custodian_launch.py does, before
c7n-org starts: the workers are forked from this process and inherit it. Credentials: Custodian's managed
identity path (`AZURE_USE_MSI`), the emulator's identity endpoint.

    .venv-c7n/bin/python bench/c7n_org_launch.py --arm-endpoint https://127.0.0.1:8443 --workers 8 \
        --subscription <id> [--subscription <id> ...] --output-dir out --result found.json policy.yml

Writes {"found": [resource IDs], "subscriptions": n, "workers": n} to --result. Standard library, Custodian
and c7n-org only: this file runs in Custodian's own virtualenv.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import tempfile
from pathlib import Path

from custodian_launch import point_public_cloud_at  # this script's directory (bench/), in Custodian's virtualenv


def run(policy: Path, subscriptions: list[str], output_dir: Path) -> int:
    from c7n_org.cli import cli

    with tempfile.TemporaryDirectory() as scratch:
        accounts = Path(scratch) / "accounts.json"  # JSON is YAML: c7n-org reads it as its accounts file
        accounts.write_text(json.dumps({"subscriptions": [{"subscription_id": s, "name": s} for s in subscriptions]}))
        try:
            # --cache-period 0: every subscription listed afresh, as bench/custodian_launch.py runs Custodian.
            cli.main(["run", "-c", str(accounts), "-u", str(policy), "-s", str(output_dir), "--cache-period", "0",
                      "--cache-path", scratch], standalone_mode=False)
        except SystemExit as stop:
            return int(stop.code or 0)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("policy", type=Path)
    parser.add_argument("--arm-endpoint", required=True)
    parser.add_argument("--subscription", action="append", required=True)
    parser.add_argument("--workers", type=int, required=True)
    parser.add_argument("--output-dir", type=Path, required=True)
    parser.add_argument("--result", type=Path, required=True)
    args = parser.parse_args(argv)

    os.environ["AZURE_USE_MSI"] = "1"
    os.environ["C7N_ORG_PARALLEL"] = str(args.workers)  # read when c7n_org.cli is imported
    point_public_cloud_at(args.arm_endpoint)
    logging.basicConfig(level=logging.WARNING)
    if code := run(args.policy, args.subscription, args.output_dir):
        return code
    found = [r["id"] for path in sorted(args.output_dir.rglob("resources.json"))
             for r in json.loads(path.read_text())]
    args.result.write_text(json.dumps({"found": found, "subscriptions": len(args.subscription),
                                       "workers": args.workers}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
