"""Run Cloud Custodian (`c7n`, `c7n_azure`, from .venv-c7n) against the local Resource Manager emulator.

Custodian knows only Azure's named clouds (`msrestazure.azure_cloud`: AzureCloud, AzureChinaCloud, …) and
takes every Resource Manager URL from the chosen cloud's `endpoints.resource_manager`. This launcher
points the public cloud's Resource Manager endpoint at the emulator, in this process only, and then runs
`custodian run` unchanged, once per subscription, one after another in this one process, with the session
cache reset in between. (c7n-org, Custodian's runner for many subscriptions, runs them side by side in worker
processes instead: bench/c7n_org_launch.py.) Credentials: Custodian's managed identity path (`AZURE_USE_MSI`),
which is azure-identity's ManagedIdentityCredential reading IDENTITY_ENDPOINT / IDENTITY_HEADER, the
same source DefaultAzureCredential uses in the app; REQUESTS_CA_BUNDLE makes the emulator's CA trusted.
The token is asked for the public cloud's own audience (https://management.core.windows.net/), which the
emulator accepts like Resource Manager does.

    .venv-c7n/bin/python bench/custodian_launch.py --arm-endpoint https://127.0.0.1:8443 \
        --subscription <id> [--subscription <id> ...] --output-dir out --result found.json policy.yml

Writes {"found": [resource IDs], "subscriptions": n} to --result. Standard library and Custodian only:
this file runs in Custodian's own virtualenv, not the app's.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path


def point_public_cloud_at(arm_endpoint: str) -> None:
    """Custodian reads AZURE_PUBLIC_CLOUD (the same object everywhere it is imported), so one assignment
    before Custodian builds its first session moves every management client to the emulator."""
    from msrestazure.azure_cloud import AZURE_PUBLIC_CLOUD

    AZURE_PUBLIC_CLOUD.endpoints.resource_manager = arm_endpoint.rstrip("/") + "/"


def run_policy(policy: Path, subscription: str, output_dir: Path) -> list[str]:
    from c7n import cli
    from c7n.utils import reset_session_cache

    os.environ["AZURE_SUBSCRIPTION_ID"] = subscription
    reset_session_cache()
    out = output_dir / subscription
    try:
        # --cache-period 0: no resource cache, so each subscription is listed afresh (Custodian's cache key
        # does not include the subscription).
        cli.main(["run", "--cache-period", "0", "-s", str(out), str(policy)])
    except SystemExit as stop:
        if stop.code:
            raise RuntimeError(f"custodian run failed for subscription {subscription} (exit {stop.code})") from None
    found: list[str] = []
    for resources in sorted(out.glob("*/resources.json")):
        found += [r["id"] for r in json.loads(resources.read_text())]
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("policy", type=Path)
    parser.add_argument("--arm-endpoint", required=True)
    parser.add_argument("--subscription", action="append", required=True)
    parser.add_argument("--output-dir", type=Path, required=True)
    parser.add_argument("--result", type=Path, required=True)
    args = parser.parse_args(argv)

    os.environ["AZURE_USE_MSI"] = "1"
    point_public_cloud_at(args.arm_endpoint)
    logging.basicConfig(level=logging.WARNING)
    found: list[str] = []
    for subscription in args.subscription:
        found += run_policy(args.policy, subscription, args.output_dir)
    args.result.write_text(json.dumps({"found": found, "subscriptions": len(args.subscription)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
