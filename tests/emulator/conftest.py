"""Fixtures for the emulator's own tests: one emulator per session, reset before each test."""
from __future__ import annotations

from collections.abc import Iterator

import pytest

from localdev.arm_emulator import ArmEmulator
from tests.helpers.emulator import _FOREIGN_ENV, Clients


@pytest.fixture(scope="session")
def arm_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ArmEmulator]:
    emu = ArmEmulator(cert_dir=tmp_path_factory.mktemp("certs"), port=0)
    emu.start()
    try:
        yield emu
    finally:
        emu.stop()


@pytest.fixture
def emu(arm_emulator: ArmEmulator) -> Iterator[ArmEmulator]:
    arm_emulator.reset()
    arm_emulator.config.lro_polls = 1
    yield arm_emulator
    arm_emulator.reset()


@pytest.fixture
def sdk_env(emu: ArmEmulator, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    for name in _FOREIGN_ENV:
        monkeypatch.delenv(name, raising=False)
    env = emu.env()
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    return env


@pytest.fixture
def clients(emu: ArmEmulator, sdk_env: dict[str, str]) -> Clients:
    return Clients(emu)
