"""The local stack for every test folder: the ARM emulator (HTTPS, managed identity) and Azurite,
shared per session, and a fresh estate per test (`stack`).

After every test the stack checks the invariant that matters most: no write by the app reached a
resource outside the scopes, the configured subnet's resource group or the DNS resource group.

The app's identity holds exactly the role assignments a deployment with the test's settings makes
(infra/roles.json, localdev/rights.py), seeded whenever the test puts its settings in place; the estate's
person holds Owner on its subscriptions. The emulator enforces them, as Resource Manager does
(`LOCALDEV_ENFORCE_RBAC=0` turns that off, to tell an authorization failure from another).
"""

from __future__ import annotations

import importlib
import os
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from localdev.arm_emulator import ArmEmulator
from localdev.azurite import Azurite
from localdev.estate import DNS_RG_ID, SUBNET_ID, Estate, settings_env
from localdev.person import write_as
from localdev.rights import seed as grant_app_rights
from remediation.core.ids import parse_resource_id
from remediation.core.settings import Settings
from remediation.engine.reconcile import Remediator
from remediation.runtime.wiring import App, build

REPO = Path(__file__).resolve().parents[1]
# The ARM emulator authorizes every request as Resource Manager does (localdev/arm_emulator/authorization.py).
ENFORCE_RBAC = os.environ.get("LOCALDEV_ENFORCE_RBAC", "1") == "1"

# Every RBAC action (own and linked) the app's identity needed against the emulator in this session, fed by
# the `stack` fixture; tests/infra/test_roles.py (marked `after_integration`, so it runs last) compares it
# with the custom roles in infra/.
APP_RBAC_ACTIONS: set[str] = set()
# The test folders this session collected: the comparison is only meaningful when every folder that drives the
# app against the emulator runs.
COLLECTED_FOLDERS: set[str] = set()
APP_FOLDERS = frozenset({"integration", "faults", "app", "ops"})


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "after_integration: run after every other test (reads what they recorded)")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=lambda item: item.get_closest_marker("after_integration") is not None)  # stable: order kept
    COLLECTED_FOLDERS.update(item.path.parent.name for item in items)


@pytest.fixture(scope="session")
def app_rbac_actions() -> set[str]:
    """What the app's identity was authorized for in this session; the test is skipped when the session did not
    run every folder that drives the app (it would compare the roles with a part of what the app does)."""
    missing = APP_FOLDERS - COLLECTED_FOLDERS
    if missing:
        pytest.skip(f"compares the roles with what the whole suite's app did; tests/{', tests/'.join(sorted(missing))} "
                    "did not run in this session")
    return APP_RBAC_ACTIONS


def collect_app_actions(emulator: ArmEmulator) -> None:
    app = emulator.app_identity.object_id
    for request in emulator.requests:
        if (request.caller or {}).get("oid") == app:
            APP_RBAC_ACTIONS.update(request.actions)


@pytest.fixture(scope="session")
def arm_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ArmEmulator]:
    with ArmEmulator(cert_dir=tmp_path_factory.mktemp("certs")) as emulator:
        yield emulator


@pytest.fixture(scope="session")
def azurite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Azurite]:
    with Azurite(tmp_path_factory.mktemp("azurite")) as instance:
        yield instance


@dataclass
class Stack:
    emulator: ArmEmulator
    azurite: Azurite
    monkeypatch: pytest.MonkeyPatch
    table: str = field(default_factory=lambda: f"audit{uuid.uuid4().hex[:12]}")
    apps: list[App] = field(default_factory=list)

    def seed(self, estate: Estate) -> None:
        self.emulator.seed(estate.scenario())
        self.emulator.clear_requests()

    def env(self, **overrides: str) -> dict[str, str]:
        env = {**self.emulator.env(), **settings_env(), "AzureWebJobsStorage": self.azurite.connection_string,
               "REMEDIATION_AUDIT_TABLE": self.table}
        env.update(overrides)
        return env

    def apply_env(self, **overrides: str) -> dict[str, str]:
        """Put the settings into os.environ (DefaultAzureCredential and function_app read them there), and
        give the app's identity the rights a deployment with these settings would."""
        env = self.env(**overrides)
        for name, value in env.items():
            self.monkeypatch.setenv(name, value)
        self.grant_app_rights(env)
        return env

    def grant_app_rights(self, settings: dict[str, str]) -> None:
        try:
            grant_app_rights(self.emulator, settings)
        except ValueError:
            pass  # settings main.bicep could not deploy grant nothing (the app refuses them at start-up too)

    def load_app(self, **settings: str) -> ModuleType:
        """`import function_app` afresh with these settings, as the host does at start-up."""
        self.apply_env(**settings)
        sys.modules.pop("function_app", None)
        module = importlib.import_module("function_app")
        if module.SETTINGS is not None:
            self.apps.append(module.parts())
        return module

    def app(self, **overrides: str) -> App:
        """The app's parts, built by its composition root with these settings."""
        app = build(Settings.from_env(self.apply_env(**overrides)))
        self.apps.append(app)
        return app

    def remediator(self, **overrides: str) -> Remediator:
        return self.app(**overrides).remediator

    def arm(self, kind: str | None = None) -> list[Any]:
        """ARM requests the app made (token and admin calls excluded), optionally of one kind."""
        return [r for r in self.emulator.requests if r.kind in ("read", "write", "poll")
                and (kind is None or r.kind == kind)]

    def writes(self) -> list[Any]:
        """Writes made by the app's own identity (a test may also write as a person)."""
        app = self.emulator.app_identity.object_id
        return [r for r in self.arm("write") if (r.caller or {}).get("oid") == app]

    def as_user(self, method: str, path: str, body: dict[str, Any] | None = None, **person: Any) -> int:
        """A write by a named person, straight to the emulator (what someone does in the portal)."""
        return write_as(self.emulator, method, path, body, **person)

    def resource(self, resource_id: str) -> dict[str, Any] | None:
        return self.emulator.get(resource_id)  # as a GET shows it, without moving any operation along


def assert_writes_in_scope(stack: Stack) -> None:
    """Every app write is of a type the app writes, inside the part of the estate allowed for that type."""
    network_rg = parse_resource_id(SUBNET_ID).resource_group_id
    dns_rg = parse_resource_id(DNS_RG_ID)
    scopes = [s for a in stack.apps for s in a.settings.scopes] or list(Settings.from_env(stack.env()).scopes)
    allowed = {
        "Microsoft.CognitiveServices/accounts": scopes,
        "Microsoft.CognitiveServices/accounts/privateEndpointConnections": scopes,
        "Microsoft.Network/privateEndpoints": [network_rg],
        "Microsoft.Network/privateEndpoints/privateDnsZoneGroups": [network_rg],
        "Microsoft.Network/privateDnsZones": [dns_rg],
        "Microsoft.Network/privateDnsZones/virtualNetworkLinks": [dns_rg],
        "Microsoft.Network/privateDnsZones/A": [dns_rg],
    }
    for request in stack.writes():
        rid = parse_resource_id(request.path.split("?")[0])
        where = next((v for k, v in allowed.items() if rid.is_type(k)), [])
        assert any(rid.is_within(scope) for scope in where), f"write outside the allowed scopes: {request.path}"


@pytest.fixture
def stack(arm_emulator: ArmEmulator, azurite: Azurite, monkeypatch: pytest.MonkeyPatch) -> Iterator[Stack]:
    arm_emulator.reset()
    arm_emulator.config.enforce_rbac = ENFORCE_RBAC
    the_stack = Stack(arm_emulator, azurite, monkeypatch)
    clear_requests = arm_emulator.clear_requests

    def collect_then_clear() -> None:
        collect_app_actions(arm_emulator)
        clear_requests()

    monkeypatch.setattr(arm_emulator, "clear_requests", collect_then_clear)
    yield the_stack
    collect_app_actions(arm_emulator)
    for app in the_stack.apps:
        app.close()
    assert_writes_in_scope(the_stack)


@pytest.fixture
def emulator_on_443(tmp_path: Path) -> Iterator[ArmEmulator]:
    """An emulator on https's default port, where `https://127.0.0.1` and `https://127.0.0.1:443` are the same
    place; skipped where this process may not bind port 443."""
    emulator = ArmEmulator(cert_dir=tmp_path / "certs", port=443)
    try:
        emulator.start()
    except OSError as error:
        pytest.skip(f"cannot listen on port 443 here: {error}")
    try:
        yield emulator
    finally:
        emulator.stop()
