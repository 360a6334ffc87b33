"""The app settings in Bicep are the settings the code reads, and each parameter has the code's default."""

from __future__ import annotations

import json
import re

from remediation.core.settings import SETTINGS, Settings
from tests.infra.bicep import INFRA, tree

# Settings the Functions host and the monitoring agent read (not remediation/settings.py).
HOST_SETTINGS = {
    "AzureWebJobsStorage__credential",
    "AzureWebJobsStorage__clientId",
    "APPLICATIONINSIGHTS_CONNECTION_STRING",
    "APPLICATIONINSIGHTS_AUTHENTICATION_STRING",
    "PYTHON_THREADPOOL_THREAD_COUNT",
}


def code_settings() -> set[str]:
    """Every name remediation/settings.py reads (its SETTINGS table)."""
    return {setting.name for setting in SETTINGS}


def remediation_settings() -> set[str]:
    return {name for name in code_settings() if name.startswith("REMEDIATION_")}


def bicep_app_settings() -> set[str]:
    main = tree("infra/main.bicep")["variables"]["remediationSettings"]["value"]
    host = tree("infra/modules/app.bicep")["variables"]["hostSettings"]["value"]
    return set(main) | set(host)


def test_every_setting_the_code_reads_is_an_app_setting() -> None:
    # Identity-based storage: AzureWebJobsStorage__accountName, never a connection string with a key.
    wanted = code_settings() - {"AzureWebJobsStorage"}
    assert wanted - bicep_app_settings() == set()
    assert "AzureWebJobsStorage" not in bicep_app_settings()


def test_no_app_setting_nobody_reads() -> None:
    assert bicep_app_settings() - code_settings() - HOST_SETTINGS == set()


def test_identity_based_host_storage() -> None:
    host = tree("infra/modules/app.bicep")["variables"]["hostSettings"]["value"]
    assert host["AzureWebJobsStorage__credential"] == "managedidentity"
    client_id = host["AZURE_CLIENT_ID"]
    assert "identity" in json.dumps(client_id) and "clientId" in json.dumps(client_id)
    assert host["AzureWebJobsStorage__clientId"] == client_id


def test_each_remediation_setting_is_a_parameter_passed_through() -> None:
    main = tree("infra/main.bicep")
    passed = main["variables"]["remediationSettings"]["value"]
    assert set(passed) == remediation_settings()
    for name in remediation_settings():
        assert name in main["parameters"], f"{name} is not a parameter of main.bicep"
        assert passed[name] == name, f"{name} is not passed from the parameter of the same name"


def test_parameter_defaults_are_the_code_defaults() -> None:
    parameters = tree("infra/main.bicep")["parameters"]
    assert parameters["REMEDIATION_SCOPES"].get("default") is None, "REMEDIATION_SCOPES is required"
    required = {"REMEDIATION_SCOPES": "/subscriptions/00000000-0000-0000-0000-000000000001",
                "AzureWebJobsStorage__accountName": "stexample"}
    defaults = {name: str(parameters[name]["default"]) for name in remediation_settings()
                if name != "REMEDIATION_SCOPES"}
    assert Settings.from_env({**required, **defaults}) == Settings.from_env(required)
    # Not only equal after parsing: a non-empty default is spelled as the code documents it.
    code = Settings.from_env(required)
    assert defaults["REMEDIATION_AUDIT_TABLE"] == code.audit_table
    assert defaults["REMEDIATION_SWEEP_SCHEDULE"] == code.sweep_schedule
    assert defaults["REMEDIATION_MODE"] == code.mode.value


def test_azd_parameters_pass_each_setting_with_the_same_default() -> None:
    parameters = tree("infra/main.bicep")["parameters"]
    values = json.loads((INFRA / "main.parameters.json").read_text())["parameters"]
    for name in remediation_settings():
        value = values[name]["value"]
        match = re.fullmatch(r"\$\{" + name + r"(?:=(.*))?\}", value)
        assert match, f"{name}: {value!r} is not ${{{name}}} or ${{{name}=default}}"
        if parameters[name].get("default") is not None:
            assert (match.group(1) or "") == str(parameters[name]["default"]), name


def test_the_python_worker_has_a_thread_for_every_message_the_queue_trigger_hands_an_instance() -> None:
    # azure-functions-python-worker: unset, sync functions share ThreadPoolExecutor(max_workers=None), which is
    # min(32, cores + 4): five threads on one core, while the host runs batchSize + newBatchThreshold at once.
    queues = json.loads((INFRA.parent / "host.json").read_text())["extensions"]["queues"]
    host = tree("infra/modules/app.bicep")["variables"]["hostSettings"]["value"]
    assert int(host["PYTHON_THREADPOOL_THREAD_COUNT"]) == queues["batchSize"] + queues["newBatchThreshold"]


def test_the_apps_storage_takes_entra_tokens_only() -> None:
    """Shared keys off: only identities with a data role can write the queue and the table (the threat model's
    storage row rests on it)."""
    storage = tree("infra/modules/app.bicep")["resources"]["storage"]["config"]["properties"]
    assert storage["allowSharedKeyAccess"] is False and storage["allowBlobPublicAccess"] is False
    assert storage["defaultToOAuthAuthentication"] is True and storage["supportsHttpsTrafficOnly"] is True
