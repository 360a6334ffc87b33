"""The benchmarks' large estates: what `ScaleEstate` says drifted is what the scan finds, and what Cloud
Custodian finds through bench/custodian_launch.py (when .venv-c7n exists)."""

from __future__ import annotations

import io
import json
import os
import subprocess
from collections import Counter
from pathlib import Path

import pytest

from localdev.estate_scale import DECOY_KINDS, DRIFTS, ScaleEstate, seed_estate
from remediation.runtime.cli import main as cli
from tests.conftest import Stack

REPO = Path(__file__).resolve().parents[2]
C7N_PYTHON = REPO / ".venv-c7n" / "bin" / "python"


def _seed(stack: Stack, estate: ScaleEstate) -> None:
    seed_estate(stack.emulator, estate)
    stack.grant_app_rights(estate.settings_env())  # the roles a deployment with these settings assigns
    stack.emulator.clear_requests()


def test_scan_finds_exactly_the_drifted_accounts_across_subscriptions(stack: Stack) -> None:
    estate = ScaleEstate(accounts=280, subscriptions=3)
    _seed(stack, estate)
    stack.apply_env(**estate.settings_env())
    out = io.StringIO()

    assert cli(["scan", "--json"], out=out) == 1

    report = json.loads(out.getvalue())
    assert report["accounts"] == estate.truth.managed == 280  # decoys are of kinds the app does not manage
    assert {row["resourceId"].lower() for row in report["drifted"]} == estate.truth.drifted
    assert set(estate.truth.by_drift) == set(DRIFTS) and len(estate.truth.drifted) == 28
    kinds = Counter(r["kind"] for r in stack.emulator.resources("Microsoft.CognitiveServices/accounts"))
    assert set(kinds) == {"OpenAI", "AIServices", *DECOY_KINDS} and estate.truth.decoys == 14
    assert stack.writes() == []


def test_estate_spreads_endpoints_over_hub_networks_within_azures_limit(stack: Stack) -> None:
    estate = ScaleEstate(accounts=2_500, subscriptions=5, drift_every=1, drifts=("public-access",))
    _seed(stack, estate)

    per_subnet = Counter(pe["properties"]["subnet"]["id"] for pe in
                         stack.emulator.resources("Microsoft.Network/privateEndpoints"))
    assert estate.hubs == 3 and set(per_subnet) == set(estate.subnet_ids)
    assert max(per_subnet.values()) <= 1_000  # private endpoints per VNet
    assert sum(per_subnet.values()) == 2_500 and len(estate.truth.drifted) == 2_500


def test_unknown_drift_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown drifts"):
        ScaleEstate(accounts=10, subscriptions=1, drifts=("public-access", "made-up"))


# `make test` builds .venv-c7n, so CI always has it and a missing one fails there instead of skipping.
@pytest.mark.skipif(not C7N_PYTHON.exists() and not os.environ.get("CI"),
                    reason="Cloud Custodian's virtualenv (.venv-c7n, `make deps`) is absent")
def test_custodian_through_the_launcher_finds_the_same_accounts(stack: Stack, tmp_path: Path) -> None:
    estate = ScaleEstate(accounts=300, subscriptions=2)
    _seed(stack, estate)
    command = [str(C7N_PYTHON), str(REPO / "bench" / "custodian_launch.py"), "--arm-endpoint", stack.emulator.url,
               "--output-dir", str(tmp_path / "out"), "--result", str(tmp_path / "found.json"),
               str(REPO / "bench" / "custodian_policy.yml")]
    for subscription in estate.subscription_ids:
        command += ["--subscription", subscription]

    done = subprocess.run(command, cwd=tmp_path, env=stack.emulator.env(), capture_output=True, text=True, timeout=120)

    assert done.returncode == 0, done.stderr[-2000:]
    assert {rid.lower() for rid in json.loads((tmp_path / "found.json").read_text())["found"]} == estate.truth.drifted
    lists = [r for r in stack.emulator.requests if r.kind == "read"]
    assert lists and all(r.path.endswith("/providers/Microsoft.CognitiveServices/accounts") for r in lists)
    assert {r.path.split("/")[2] for r in lists} == set(estate.subscription_ids)
    assert all(r.caller and r.caller["oid"] == stack.emulator.app_identity.object_id for r in lists)


@pytest.mark.skipif(not C7N_PYTHON.exists() and not os.environ.get("CI"),
                    reason="Cloud Custodian's virtualenv (.venv-c7n, `make deps`) is absent")
def test_c7n_org_through_its_launcher_runs_each_subscription_in_a_worker_and_finds_the_same_accounts(
        stack: Stack, tmp_path: Path) -> None:
    from bench.custodian_org import TreePeak, longest_chain

    estate = ScaleEstate(accounts=300, subscriptions=3)
    _seed(stack, estate)
    command = [str(C7N_PYTHON), str(REPO / "bench" / "c7n_org_launch.py"), "--arm-endpoint", stack.emulator.url,
               "--workers", "2", "--output-dir", str(tmp_path / "out"), "--result", str(tmp_path / "found.json"),
               str(REPO / "bench" / "custodian_policy.yml")]
    for subscription in estate.subscription_ids:
        command += ["--subscription", subscription]

    process = subprocess.Popen(command, cwd=tmp_path, env=stack.emulator.env(), stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    peak = TreePeak(process.pid)
    _, err = process.communicate(timeout=180)
    peak_mib = peak.stop()

    assert process.returncode == 0, err[-2000:]
    result = json.loads((tmp_path / "found.json").read_text())
    assert {rid.lower() for rid in result["found"]} == estate.truth.drifted and result["workers"] == 2
    lists = [r for r in stack.emulator.requests if r.kind == "read"]
    assert {r.path.split("/")[2] for r in lists} == set(estate.subscription_ids)
    # 100 or 105 accounts (decoys) per subscription, pages of 100: two pages each, the longest chain two
    assert longest_chain(lists)[1] == 2 and longest_chain(lists)[0].endswith("/Microsoft.CognitiveServices/accounts")
    assert peak_mib > 100, "the parent and its worker processes, summed (each imports Custodian)"
