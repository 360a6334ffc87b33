"""The Azure CLI (from PyPI, in .venv-azcli) against the ARM emulator: `make test-azcli`.

One emulator per session (the root conftest's `arm_emulator`), reset and seeded per test, with long-running
operations answered the way Azure answers them (202 + Azure-AsyncOperation for DNS and connection writes,
Retry-After on running operations). `az` runs as a subprocess logged in by managed identity: as the
emulator's operator identity (a person's tools) unless a test logs in as the app.
"""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from localdev.arm_emulator import ArmEmulator
from localdev.azcli import AzCli
from tests.helpers.azcli import AZ, Remediation, new_az


@pytest.fixture(scope="session")
def az_path() -> Path:
    if not AZ.exists():
        pytest.fail(f"no Azure CLI at {AZ}: `make test-azcli` builds .venv-azcli from requirements-azcli.txt")
    return AZ


@pytest.fixture
def emulator(arm_emulator: ArmEmulator) -> Iterator[ArmEmulator]:
    arm_emulator.reset()
    arm_emulator.config.update({"lro_retry_after_s": 1, "dns_lro": "aao", "connection_lro": "aao"})
    yield arm_emulator
    arm_emulator.reset()


@pytest.fixture
def az(emulator: ArmEmulator, az_path: Path, tmp_path: Path) -> Iterator[AzCli]:
    """az for the operator identity, in a config dir of its own; the test logs in once it has seeded its
    estate (login lists the subscriptions). Prints how long its commands took."""
    cli = new_az(emulator, az_path, tmp_path / "azure-config")
    yield cli
    slowest = sorted(cli.timings, key=lambda t: -t[1])[:3]
    print(f"\naz: {len(cli.timings)} commands, {sum(t for _, t in cli.timings):.1f} s; slowest "
          + ", ".join(f"{name} {seconds:.1f} s" for name, seconds in slowest))


@pytest.fixture
def remediation(emulator: ArmEmulator) -> Remediation:
    return Remediation(emulator)
