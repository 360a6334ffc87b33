"""A named person writing to the emulator, as someone would in the portal: the write, then waiting
for its long-running operation to finish (so the account leaves Accepted)."""

from __future__ import annotations

from typing import Any

import requests

from localdev.arm_emulator import ArmEmulator

DANA = {"name": "Dana Admin", "upn": "dana@contoso.example"}   # Owner of the estate's subscriptions (estate.py)


def write_as(emulator: ArmEmulator, method: str, path: str, body: dict[str, Any] | None = None, *,
             name: str = DANA["name"], upn: str = DANA["upn"], api_version: str = "2025-09-01",
             session: requests.Session | None = None, token: str | None = None) -> int:
    """The write and the wait; `session` and `token` let a caller making many writes reuse both."""
    http = session or requests
    headers = {"Authorization": f"Bearer {token or emulator.user_token(name=name, upn=upn)}"}
    response = http.request(method, f"{emulator.url}{path}?api-version={api_version}", json=body,
                            headers=headers, verify=emulator.ca_path, timeout=10)
    if response.status_code >= 300:
        raise RuntimeError(f"{method} {path} answered {response.status_code}: {response.text[:300]}")
    operation = response.headers.get("Azure-AsyncOperation")
    for _ in range(50):
        if not operation:
            break
        status = http.get(operation, headers=headers, verify=emulator.ca_path, timeout=10).json().get("status")
        if status in ("Succeeded", "Failed", "Canceled"):
            break
    return response.status_code
