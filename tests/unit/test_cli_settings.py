"""`python -m remediation --settings FILE`: a Functions settings file's Values, applied as `func start` applies
them, and the help that says which identity the command signs in as."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from remediation.core.settings import SettingsError
from remediation.runtime.cli import apply_settings_file, main

REPO = Path(__file__).resolve().parents[2]


def settings_file(tmp_path: Path, values: object) -> str:
    path = tmp_path / "local.settings.json"
    path.write_text(json.dumps({"IsEncrypted": False, "Values": values}))
    return str(path)


def test_the_environment_wins_and_every_other_value_is_set(tmp_path: Path) -> None:
    path = settings_file(tmp_path, {"REMEDIATION_MODE": "report", "REMEDIATION_SCOPES": "/subscriptions/s1",
                                    "AZURE_CLIENT_ID": "", "IDENTITY_HEADER": "from-file"})
    environ = {"REMEDIATION_MODE": "enforce", "IDENTITY_HEADER": ""}
    applied = apply_settings_file(path, environ)
    # A non-empty variable is kept, an empty one is filled, a value empty in the file is set empty (as func does).
    assert environ == {"REMEDIATION_MODE": "enforce", "REMEDIATION_SCOPES": "/subscriptions/s1",
                       "AZURE_CLIENT_ID": "", "IDENTITY_HEADER": "from-file"}
    assert sorted(applied) == ["AZURE_CLIENT_ID", "IDENTITY_HEADER", "REMEDIATION_SCOPES"]


def test_the_example_settings_file_is_one_it_reads() -> None:
    environ: dict[str, str] = {}
    apply_settings_file(str(REPO / "local.settings.example.json"), environ)
    assert environ["REMEDIATION_ARM_ENDPOINT"] == "https://127.0.0.1:8443"
    assert environ["IDENTITY_ENDPOINT"] == "https://127.0.0.1:8443/msi/token"   # the app's identity, locally


@pytest.mark.parametrize("content", ["not json", json.dumps({"Values": {"A": 1}}), json.dumps(["Values"])])
def test_a_file_that_is_not_a_settings_file_is_bad_input(tmp_path: Path, content: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(SettingsError, match="--settings"):
        apply_settings_file(str(path), {})
    assert main(["--settings", str(path), "scan"]) == 2


def test_a_missing_file_is_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--settings", str(tmp_path / "nowhere.json"), "scan"]) == 2
    assert "nowhere.json" in capsys.readouterr().err


def test_the_help_names_the_settings_option_and_the_identity(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main(["--help"])
    assert done.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "--settings FILE" in text and "as `func start` applies them" in text
    assert "your own sign-in (`az login`" in text
    assert "against the local stack the settings name the emulator's token endpoint (IDENTITY_ENDPOINT), so the " \
           "command signs in as the app's own managed identity" in text.replace("Against", "against")
