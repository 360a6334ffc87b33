"""Logging the Azure CLI in to the emulator by managed identity: as the operator, as the app, and the
way docs/local-stack.md tells a person to (`python -m localdev.azcli login`, then eval its exports)."""
from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from localdev.azcli import AzError
from localdev.estate import SUBSCRIPTION, Estate
from tests.helpers.azcli import REPO, new_az, seed


def test_az_logs_in_to_the_emulator_by_managed_identity(emulator, az_path, tmp_path):
    seed(emulator, Estate().network().account("aoai-manual"))
    operator = new_az(emulator, az_path, tmp_path / "operator")
    account = operator.login(emulator.operator_identity.client_id)
    assert account["id"] == SUBSCRIPTION and account["environmentName"] == "LocalEmulator"
    assert account["tenantId"] == emulator.operator_identity.tenant_id
    assert account["user"] == {"name": "userAssignedIdentity", "type": "servicePrincipal",
                               "assignedIdentityInfo": f"MSIClient-{emulator.operator_identity.client_id}"}
    cloud = operator.run("cloud", "show")
    assert cloud["isActive"] and cloud["endpoints"]["resourceManager"] == emulator.url
    assert [s["id"] for s in operator.run("account", "list")] == [SUBSCRIPTION]
    # Without a client ID the endpoint serves the app's own identity, as App Service serves the only one.
    app = new_az(emulator, az_path, tmp_path / "app")
    assert app.login()["user"]["assignedIdentityInfo"] == "MSI"
    app.run("cognitiveservices", "account", "list")
    callers = {(r.caller or {}).get("oid") for r in emulator.requests if r.kind == "read"}
    assert callers == {emulator.operator_identity.object_id, emulator.app_identity.object_id}
    with pytest.raises(AzError, match="No identity with client_id"):
        new_az(emulator, az_path, tmp_path / "nobody").login("00000000-0000-0000-0000-00000000dead")
    # Nothing went to the person's own az configuration.
    assert (tmp_path / "operator" / "azureProfile.json").exists() and (tmp_path / "operator" / "clouds.config").exists()


def test_the_login_helper_prints_the_exports_a_shell_needs(emulator, az_path, tmp_path):
    seed(emulator, Estate().network().account("aoai-manual"))
    config_dir = tmp_path / "person"
    done = subprocess.run([sys.executable, "-m", "localdev.azcli", "login", "--emulator", emulator.url,
                           "--cert-dir", str(Path(emulator.ca_path).parent), "--config-dir", str(config_dir),
                           "--az", str(az_path)], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    exports = dict(shlex.split(line.removeprefix("export "))[0].split("=", 1) for line in done.stdout.splitlines())
    assert exports["AZURE_CONFIG_DIR"] == str(config_dir)
    assert exports["IDENTITY_ENDPOINT"] == emulator.identity_endpoint
    assert exports["REQUESTS_CA_BUNDLE"] == str(Path(emulator.ca_path).resolve())
    assert f"as operator (MSIClient-{emulator.operator_identity.client_id})" in done.stderr
    # A later az command in a shell that evaluated the exports (and nothing else of ours) reaches the emulator.
    shell = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), **exports}
    shown = subprocess.run([str(az_path), "cognitiveservices", "account", "list", "--query", "[].name", "-o", "tsv"],
                           env=shell, capture_output=True, text=True, timeout=120)
    assert (shown.returncode, shown.stdout.split()) == (0, ["aoai-manual"]), shown.stderr
    reads = [r for r in emulator.requests if r.kind == "read" and r.path.endswith("/accounts")]
    assert reads and (reads[-1].caller or {}).get("oid") == emulator.operator_identity.object_id
