"""Local Azure Resource Manager emulator: HTTPS, managed identity tokens, the RPs the remediator uses.

    from localdev.arm_emulator import ArmEmulator, Fault
    with ArmEmulator(cert_dir=Path(".localdev/certs")) as emu:
        emu.seed({...}); monkeypatch env from emu.env(); use the real SDK clients with base_url=emu.url
"""
from .emulator import ArmEmulator
from .faults import Fault
from .model import EmulatorConfig, RequestRecord, WriteEvent
from .tokens import AppIdentity

__all__ = ["ArmEmulator", "Fault", "EmulatorConfig", "RequestRecord", "WriteEvent", "AppIdentity"]
