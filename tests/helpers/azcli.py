"""Helpers for the Azure CLI tests (a unique module name: other test folders have conftests)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from localdev.arm_emulator import ArmEmulator
from localdev.azcli import DEFAULT_AZ, AzCli
from localdev.estate import Estate, settings_env

REPO = Path(__file__).resolve().parents[2]
AZ = Path(os.environ.get("AZ_CLI") or DEFAULT_AZ)
# What would make the app's DefaultAzureCredential pick anything but the emulator's token endpoint.
_FOREIGN_ENV = ("AZURE_TENANT_ID", "AZURE_CLIENT_SECRET", "AZURE_CLIENT_CERTIFICATE_PATH", "AZURE_USERNAME",
                "AZURE_PASSWORD", "AZURE_FEDERATED_TOKEN_FILE", "MSI_ENDPOINT", "MSI_SECRET", "IMDS_ENDPOINT",
                "IDENTITY_SERVER_THUMBPRINT", "AZURE_AUTHORITY_HOST", "AzureWebJobsStorage", "AZURE_CONFIG_DIR")


def new_az(emulator: ArmEmulator, az_path: Path, config_dir: Path) -> AzCli:
    return AzCli(emulator.url, emulator.ca_path, emulator.identity_header, config_dir, az=az_path)


def seed(emulator: ArmEmulator, estate: Estate) -> None:
    emulator.seed(estate.scenario())
    emulator.clear_requests()


@dataclass
class Remediation:
    """`python -m remediation` as an operator runs it, with the app's settings and the app's identity
    (no AzureWebJobsStorage unless `settings` name one: the audit record then goes to the log only)."""

    emulator: ArmEmulator
    settings: dict[str, str] = field(default_factory=dict)   # on top of the estate's (settings_env)

    def with_settings(self, **settings: str) -> Remediation:
        return Remediation(self.emulator, {**self.settings, **settings})

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in _FOREIGN_ENV}
        env.update(self.emulator.env())
        env.update(settings_env(REMEDIATION_READY_TIMEOUT_SECONDS="30", **self.settings))
        return env

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "remediation", *args], cwd=REPO, env=self.env(),
                              capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)

    def __call__(self, *args: str, out: str = "--json") -> tuple[int, Any]:
        done = self.run(*args, out)
        assert done.returncode in (0, 1), f"remediation {args} exited {done.returncode}: {done.stderr}"
        return done.returncode, json.loads(done.stdout)
