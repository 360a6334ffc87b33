"""How long Azure takes, and what it says meanwhile: per operation type, its duration, how long the resource still
reads its transitional state afterwards, the `Retry-After` its answers carry and the word its operation status
uses while it runs. One clock setting scales every duration and Retry-After alike.

The emulator has two paces (`EmulatorConfig.pace`):
- "polls" (default): an operation finishes after `lro_polls` polls, however fast the client is;
  deterministic and instant, what most tests want;
- "time": an operation finishes `duration × clock_scale` seconds after it started, whoever polls it,
  and an account still reads `Accepted` for its settle time afterwards. `clock_scale` 1.0 is Azure's
  own pace; 0.02 runs everything 50 times faster with the same ratios.

`EmulatorConfig.azure_pace(scale)` is the time pace with Azure's own answers: each type's Retry-After (scaled) and
status words. `EmulatorConfig.durations` overrides any duration or settle (`"<key>"`, `"<key>:settle"`, seconds at
Azure's pace); `ACCEPTED_FOR_MINUTES_S` is the longest settle reported.

Sources, by their short names below (research notes research-pace-rendering.md §1–2, research-locks-limits.md):
- PS-PE: Azure/azure-powershell `src/Network/Network.Test/SessionRecords/Commands.Network.Test.ScenarioTests.
  PrivateEndpointTests/TestPrivateEndpointCRUD.json` @246e9f0a (7 Jun 2020): endpoint PUT 201 and DELETE 202 carry
  `Retry-After: 10`; the operation polled 10 s later had Succeeded, the terminal poll without Retry-After.
- PS-ZG: same folder, `TestPrivateDnsZoneGroupCRUD.json` @179d01e5 (8 May 2020): zone group PUT 201/200 and DELETE 202
  `Retry-After: 10`, each operation Succeeded at the poll ~11 s later; a private DNS zone PUT 202 `Retry-After: 30`.
- PS-DNS-2024: `src/PrivateDns/PrivateDns.Test/SessionRecords/…LinkTests/TestCreateLinkWithNxDomainRedirectPolicy.json`
  @bdaf2458 (22 Oct 2024): a zone PUT 202 `Retry-After: 30`. PS `TestZoneCrud.json` (2019, dogfood) shows the
  InProgress polls (HTTP 202) repeating Retry-After.
- CLI-LINK: Azure/azure-cli `…/privatedns/tests/latest/recordings/test_PutLink_LinkNotExistsWithoutRegistration_
  ExpectLinkCreated.yaml` @02ca802c (19 Aug 2024): link PUT 11:08:22, InProgress at 11:08:52, Succeeded at 11:09:23
  (polls 30 s apart, as a client honouring `Retry-After: 30` polls).
- CLI-RULES: Azure/azure-cli `…/cognitiveservices/tests/latest/recordings/test_cognitiveservices_network_rules.yaml`
  @01081b34 (18 Apr 2024): account network PATCH 202 (`provisioningState: Accepted`, answered in 88 ms); its
  operation status reads `Updating` (startTime 04:34:12), then `Succeeded` with endTime 04:34:43: 31 s.
- CLI-PEC: Azure/azure-cli `…/test_cognitiveservices_private_endpoint_connection.yaml` @01691509 (12 May 2022):
  endpoint PUT 13:17:28 (201, `customDnsConfigs: []`), InProgress polls (HTTP 200) at 13:17:39 and 13:17:49,
  Succeeded at 13:18:09 (31–41 s), `customDnsConfigs` filled only then; a connection's state change answered 200
  synchronously after 21958 ms (`x-envoy-upstream-service-time`).
- CLI-AIS: Azure/azure-cli `…/test_cognitiveservices_aiservices.yaml`: AIServices create, operation 13:50:40 →
  13:51:39; status `Creating` while it runs.
- PS-CS: Azure/azure-powershell `…/CognitiveServicesAccountTests/TestDefenderForAISetting.json` @7b1372f5
  (20 Dec 2024): account PUT 201 with Azure-AsyncOperation and **no** Retry-After, its poll without one either.
- The Azure CLI's recordings cannot tell whether an answer carried Retry-After: its test harness drops the header
  from every recording it writes (`ReplayableTest.FILTER_HEADERS` in azure-cli-testsdk `scenario_tests/base.py`
  @00462cdc lists `retry-after` and `x-ms-ratelimit-remaining-subscription-reads`). Its recordings' absence of
  Retry-After was once taken here as Azure sending none; Azure PowerShell's recordings keep the header.

Slow synchronous answers: the one recorded is a connection's state change (CLI-PEC, 22 s). An account PATCH
answered after ~11.7 s was reported but not found in the recordings read (CLI-RULES: 88, 94 and 184 ms), so the
account PATCH answers at once.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from .model import EmulatorConfig

NETWORK_RETRY_AFTER_S = 10.0   # PS-PE, PS-ZG
PRIVATE_DNS_RETRY_AFTER_S = 30.0   # PS-ZG, PS-DNS-2024, CLI-LINK
# How long an account has been reported to stay Accepted after an update: hashicorp/terraform-provider-azurerm#15152
# (2022-01-27), "re-running the terraform apply 5-10 mins later completes OK" (the upper figure). Observed once at
# 0.4 s (#31712); PR #31751 (2026) adds a waiter for it. Set it as `durations["account/update:settle"]`.
ACCEPTED_FOR_MINUTES_S = 600.0


@dataclass(frozen=True)
class Pace:
    seconds: float      # how long the operation runs at Azure's pace
    settle_s: float     # how long the resource still reads its transitional state once it is done
    source: str
    retry_after_s: float | None = None   # Retry-After on its first answer and running polls (None: Azure sends none)
    status: str = "InProgress"           # its operation status while it runs


DURATIONS: dict[str, Pace] = {
    "account/create": Pace(60, 60, "CLI-AIS; settle: microsoft-foundry/foundry-samples PR #746 waits 60 s after "
                                   "create; no Retry-After: PS-CS", status="Creating"),
    "account/update": Pace(31, 30, "CLI-RULES (31 s, status Updating); settle length unevidenced (0.4 s observed in "
                                   "terraform-provider-azurerm#31712, minutes reported: ACCEPTED_FOR_MINUTES_S); "
                                   "Retry-After: none on the account PUT (PS-CS), a PATCH's unrecorded",
                           status="Updating"),
    "account/tags": Pace(0, 0, "azure-rest-api-specs #28209 (asynchronous answer); length and status word "
                               "unevidenced", status="Updating"),
    "connection/update": Pace(22, 0, "CLI-PEC (a synchronous 200 after 21958 ms); as an operation (connection_lro "
                                     "'aao') unevidenced", status="Updating"),
    "privateEndpoint/create": Pace(40, 0, "CLI-PEC (31–41 s); Retry-After PS-PE", NETWORK_RETRY_AFTER_S),
    "privateEndpoint/update": Pace(20, 0, "length unevidenced; Retry-After PS-PE", NETWORK_RETRY_AFTER_S),
    "privateEndpoint/delete": Pace(10, 0, "PS-PE (Succeeded at the poll 10 s after the DELETE)",
                                   NETWORK_RETRY_AFTER_S),
    "zoneGroup/write": Pace(11, 0, "PS-ZG (Succeeded at the poll ~11 s after the PUT)", NETWORK_RETRY_AFTER_S),
    "zoneGroup/delete": Pace(11, 0, "PS-ZG (Succeeded at the poll ~11 s after the DELETE)", NETWORK_RETRY_AFTER_S),
    "privateDnsZone/write": Pace(30, 0, "PS-ZG, PS-DNS-2024 (first poll 30 s after the PUT already Succeeded: an upper "
                                        "bound)", PRIVATE_DNS_RETRY_AFTER_S),
    "virtualNetworkLink/write": Pace(60, 0, "CLI-LINK (InProgress at +30 s, Succeeded at the +61 s poll)",
                                     PRIVATE_DNS_RETRY_AFTER_S),
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


def status(key: str | None) -> str:
    """What the operation's status URL says while it runs."""
    return DURATIONS[key].status if key in DURATIONS else "InProgress"


def retry_after_s(config: EmulatorConfig, key: str | None) -> float | None:
    """Seconds (scaled in the time pace) an answer about an operation of type `key` tells the client to wait:
    `lro_retry_after_s` when set, else the type's own with `retry_after` "azure", else none."""
    if config.lro_retry_after_s is not None:
        seconds: float | None = float(config.lro_retry_after_s)
    elif config.retry_after == "azure" and key in DURATIONS:
        seconds = DURATIONS[key].retry_after_s
    else:
        seconds = None
    if seconds is None or seconds <= 0:
        return None
    return seconds * (float(config.clock_scale) if timed(config) else 1.0)


def retry_after(config: EmulatorConfig, key: str | None) -> dict[str, str]:
    """The header telling the client when to poll an operation of type `key` again, or none.

    Azure sends `Retry-After` in whole seconds, and the private DNS SDK reads it as an int (azure-mgmt-privatedns
    2.0.0 `_deserialize("int", response.headers.get("Retry-After"))`: "0.6" raises). Scaled to a fraction of a
    second, the wait goes as `retry-after-ms` instead, which azure-core reads the same way
    (`azure.core.pipeline.policies._utils.get_retry_after`, used by its pollers and its RetryPolicy)."""
    scaled = retry_after_s(config, key)
    if scaled is None:
        return {}
    if scaled >= 1 and scaled == int(scaled):
        return {"Retry-After": str(int(scaled))}
    return {"retry-after-ms": str(max(1, round(scaled * 1000)))}


def unpolled(config: EmulatorConfig, key: str) -> float | None:
    """Poll pace: seconds after which an operation ends even if nobody polls it, the time its `lro_polls` polls
    take at its Retry-After (None without one: then only the age limit ends it)."""
    seconds = None if timed(config) else retry_after_s(config, key)
    return None if seconds is None else max(1, int(config.lro_polls)) * seconds
