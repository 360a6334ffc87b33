"""How long Azure takes: operation durations per type, scaled by one clock setting.

The emulator has two paces (`EmulatorConfig.pace`):
- "polls" (default): an operation finishes after `lro_polls` polls, however fast the client is;
  deterministic and instant, what most tests want;
- "time": an operation finishes `duration × clock_scale` seconds after it started, whoever polls it,
  and an account still reads `Accepted` for its settle time afterwards. `clock_scale` 1.0 is Azure's
  own pace; 0.02 runs everything 50 times faster with the same ratios.

The list below is what the time pace uses (seconds at Azure's pace). Where a number is measured,
`source` says where; where it is not, `source` says so. `EmulatorConfig.durations` overrides any
entry (same keys, seconds at Azure's pace).

- account/create: 60 s, settle 60 s. Azure/azure-cli recording test_cognitiveservices_aiservices.yaml (AIServices
  create: operation 13:50:40 → 13:51:39); settle: microsoft-foundry/foundry-samples PR #746 waits 60 s after create
  to avoid AccountProvisioningStateInvalid
- account/update: 30 s, settle 30 s. issue 10 ("a network PATCH of an account takes about 30 s");
  hashicorp/terraform-provider-azurerm #31712 (account PUT → Succeeded in 17 s, still `Accepted` to the Network RP
  0.4 s later); settle length unevidenced (#31712, #15152 and PR #31751 show it exists)
- account/tags: 0 s, settle 0 s. a tags-only PATCH: Azure/azure-rest-api-specs #28209 shows the RP answering it
  asynchronously (202 + Location); its length is unevidenced, modelled as done at once
- account/delete: 30 s, settle 0 s. unevidenced
- connection/update: 22 s, settle 0 s. Azure/azure-cli recording
  test_cognitiveservices_private_endpoint_connection.yaml: a connection state change (reject) answered 200
  synchronously after 21958 ms (x-envoy-upstream-service-time); an unchanged state took 64 ms
- privateEndpoint/create: 40 s, settle 0 s. same recording: PE PUT 13:17:28, AAO InProgress at 13:17:49, Succeeded
  at 13:18:09 (21–41 s)
- privateEndpoint/update: 20 s, settle 0 s. unevidenced
- privateEndpoint/delete: 30 s, settle 0 s. unevidenced
- zoneGroup/write: 20 s, settle 0 s. unevidenced (a Network RP AAO like the endpoint's)
- zoneGroup/delete: 20 s, settle 0 s. unevidenced
- privateDnsZone/write: 30 s, settle 0 s. Azure/azure-cli recordings
  test_PutZone_ZoneExistsIfNoneMatchFailure_ExpectError.yaml,
  test_PutLink_LinkNotExistsWithoutRegistration_ExpectLinkCreated.yaml: first poll 30–31 s after the PUT already
  Succeeded (an upper bound)
- virtualNetworkLink/write: 28 s, settle 0 s. test_PutLink_LinkNotExistsWithoutRegistration_ExpectLinkCreated.yaml:
  PUT 11:08:22, the link's etag carries 0x66c327c2 = 11:08:50, InProgress at 11:08:52, Succeeded at 11:09:23

Retry-After: the Azure CLI's recordings drop the header (its test harness filters `retry-after`), so they
cannot tell. Azure PowerShell's keep it: Network sends `Retry-After: 10` on a private endpoint's or zone group's
PUT and DELETE (TestPrivateEndpointCRUD.json, TestPrivateDnsZoneGroupCRUD.json, 2020), Private DNS `30` on a
zone PUT (2020 and 2024) and its InProgress polls repeat it; Cognitive Services sends none on an account PUT or
its poll (TestDefenderForAISetting.json, 2024). The emulator sends one only when `EmulatorConfig.lro_retry_after_s`
says (Azure seconds, scaled like durations; written with decimals below one second, which azure-core parses as a
float; azure-core treats `Retry-After: 0` as absent and falls back to `polling_interval`); in the poll pace it also
ends an operation nobody polls once its polls would have been due (`unpolled`).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from .model import EmulatorConfig


@dataclass(frozen=True)
class Pace:
    seconds: float      # how long the operation runs at Azure's pace
    settle_s: float     # how long the resource still reads its transitional state once it is done
    source: str


DURATIONS: dict[str, Pace] = {
    "account/create": Pace(60, 60, "azure-cli recording test_cognitiveservices_aiservices.yaml; "
                                   "foundry-samples PR #746"),
    "account/update": Pace(30, 30, "issue 10; terraform-provider-azurerm #31712; settle length unevidenced"),
    "account/tags": Pace(0, 0, "azure-rest-api-specs #28209 (async answer); length unevidenced"),
    "account/delete": Pace(30, 0, "unevidenced"),
    "connection/update": Pace(22, 0, "azure-cli recording test_cognitiveservices_private_endpoint_connection.yaml"),
    "privateEndpoint/create": Pace(40, 0, "azure-cli recording "
                                          "test_cognitiveservices_private_endpoint_connection.yaml"),
    "privateEndpoint/update": Pace(20, 0, "unevidenced"),
    "privateEndpoint/delete": Pace(30, 0, "unevidenced"),
    "zoneGroup/write": Pace(20, 0, "unevidenced"),
    "zoneGroup/delete": Pace(20, 0, "unevidenced"),
    "privateDnsZone/write": Pace(30, 0, "azure-cli privatedns recordings (upper bound)"),
    "virtualNetworkLink/write": Pace(28, 0, "azure-cli recording "
                                            "test_PutLink_LinkNotExistsWithoutRegistration_ExpectLinkCreated.yaml"),
}


def timed(config: EmulatorConfig) -> bool:
    return config.pace == "time"


def duration(config: EmulatorConfig, key: str) -> float | None:
    """Seconds (scaled) the operation runs in the time pace; None in the poll pace."""
    if not timed(config):
        return None
    seconds = config.durations.get(key, DURATIONS[key].seconds)
    return max(0.0, float(seconds) * float(config.clock_scale))


def settle(config: EmulatorConfig, key: str) -> float:
    """Seconds (scaled) the resource still reads its transitional state after the operation."""
    if not timed(config):
        return 0.0
    seconds = config.durations.get(f"{key}:settle", DURATIONS[key].settle_s)
    return max(0.0, float(seconds) * float(config.clock_scale))


def unpolled(config: EmulatorConfig) -> float | None:
    """Poll pace: seconds after which an operation ends even if nobody polls it, the time its `lro_polls` polls
    take at the configured Retry-After (None without one: then only the age limit ends it)."""
    if timed(config) or config.lro_retry_after_s is None or float(config.lro_retry_after_s) <= 0:
        return None
    return max(1, int(config.lro_polls)) * float(config.lro_retry_after_s)


def retry_after(config: EmulatorConfig) -> dict[str, str]:
    """The Retry-After header for long-running answers, or none (Azure's answers carry none)."""
    seconds = config.lro_retry_after_s
    if seconds is None:
        return {}
    scaled = float(seconds) * (float(config.clock_scale) if timed(config) else 1.0)
    if scaled <= 0:
        return {}
    text = str(int(scaled)) if scaled >= 1 and scaled == int(scaled) else f"{scaled:.3f}".rstrip("0").rstrip(".")
    return {"Retry-After": text} if float(text) > 0 else {}
