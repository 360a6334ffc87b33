"""Every URL that receives the app's bearer token is judged by the parser the transport connects with.

Resource Manager hands the app absolute URLs it then calls with its token: a list's `nextLink`, a long-running
operation's `Azure-AsyncOperation` and `Location` (azure-core's polling follows those headers as they come, with no
check of their host: azure-core 1.41.0 `azure/core/polling/base_polling.py`, `_set_async_url_if_present` and
`request_status`). A trap listens on another loopback address, 127.0.0.2: the emulator writes its links there (in
the form `https://127.0.0.2:<trap>\\@127.0.0.1:<emulator>/…`, where urllib.parse sees the emulator and
urllib3, which requests connects with, sees the trap, or as a plain other host); no connection may reach it.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest

from localdev.arm_emulator import ArmEmulator
from localdev.estate import OPENAI_ZONE, Estate, account_id, rg_id
from remediation.arm.clients import COGNITIVE_API_VERSION, ArmClients
from remediation.core.ids import parse_account_id
from remediation.core.model import Trigger
from remediation.core.settings import Settings
from tests.conftest import Stack

AOAI = account_id("aoai-prod")


class Trap:
    """A TCP listener on 127.0.0.2 that counts the connections made to it (and closes each at once)."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.2", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self.sock.close()


@pytest.fixture
def trap() -> Iterator[Trap]:
    instance = Trap()
    yield instance
    instance.close()


def _emulator_port(emulator: ArmEmulator) -> int:
    return int(emulator.url.rsplit(":", 1)[1])


@pytest.mark.parametrize("form", ["backslash", "other-host"])
def test_a_next_link_to_another_host_is_not_followed(stack: Stack, trap: Trap, form: str,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    stack.seed(Estate().network((OPENAI_ZONE,)).locked("aoai-prod").locked("aoai-dev"))
    stack.emulator.config.page_size = 1
    hostile = {"backslash": f"https://127.0.0.2:{trap.port}\\@127.0.0.1:{_emulator_port(stack.emulator)}",
               "other-host": f"https://127.0.0.2:{trap.port}"}[form]
    monkeypatch.setattr(stack.emulator.world, "base_url", hostile)
    settings = Settings.from_env(stack.apply_env())
    clients = ArmClients(settings)
    try:
        with pytest.raises(Exception) as raised:
            list(clients.list_json(f"{rg_id('rg-ai')}/providers/Microsoft.CognitiveServices/accounts",
                                   COGNITIVE_API_VERSION))
    finally:
        clients.close()

    assert trap.connections == 0
    assert "refus" in str(raised.value)


@pytest.mark.parametrize("form", ["backslash", "other-host"])
def test_a_long_running_operation_polled_at_another_host_is_not_followed(stack: Stack, trap: Trap, form: str,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """The account PATCH answers 202 with its Azure-AsyncOperation and Location on another host: the SDK's poller
    would GET them with the token."""
    stack.seed(Estate().network((OPENAI_ZONE,)).locked("aoai-prod", public_network_access="Enabled"))
    stack.emulator.config.account_lro = "aao"
    remediator = stack.remediator()
    hostile = {"backslash": f"https://127.0.0.2:{trap.port}\\@127.0.0.1:{_emulator_port(stack.emulator)}",
               "other-host": f"https://127.0.0.2:{trap.port}"}[form]
    monkeypatch.setattr(stack.emulator.world, "base_url", hostile)

    record = remediator.reconcile(parse_account_id(AOAI), Trigger.EVENT).record.to_json()

    assert trap.connections == 0
    assert record["outcome"] != "remediated"
    assert any("refus" in (action.get("error") or "") for action in record["actions"]), record["actions"]
