"""ARM error bodies: every failure answers {"error": {"code", "message"}} like Resource Manager."""
from __future__ import annotations

from typing import Any


class ArmError(Exception):
    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None,
                 details: list[dict[str, Any]] | None = None, *, wrapped: bool = True, empty: bool = False) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}
        self.details = details
        self.wrapped = wrapped   # False: `{"code", "message"}` without the "error" envelope (Private DNS does so)
        self.empty = empty       # no body at all

    def body(self) -> dict[str, Any] | None:
        if self.empty:
            return None
        err: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details is not None:
            err["details"] = self.details
        return {"error": err} if self.wrapped else err


def not_found(resource_type: str, name: str, resource_group: str | None) -> ArmError:
    # ARM's 404 text (pulumi/pulumi-azure-native #3138 quotes it for a virtualNetworkLinks GET).
    where = f" under resource group '{resource_group}'" if resource_group else ""
    return ArmError(404, "ResourceNotFound",
                    f"The Resource '{resource_type}/{name}'{where} was not found. "
                    "For more details please go to https://aka.ms/ARMResourceNotFoundFix")


def parent_not_found(parent_type: str, name: str, resource_group: str | None) -> ArmError:
    # ARM's wording for a child of a missing parent as it is commonly quoted; not checked against a source here
    return ArmError(404, "ParentResourceNotFound",
                    f"Can not perform requested operation on nested resource. Parent resource "
                    f"'{name}' of type '{parent_type}' under resource group '{resource_group}' not found.")


def rg_not_found(resource_group: str) -> ArmError:
    # ARM's wording as it is commonly quoted; not checked against a source here
    return ArmError(404, "ResourceGroupNotFound", f"Resource group '{resource_group}' could not be found.")


def bad_request(message: str, code: str = "InvalidRequestContent") -> ArmError:
    """400 for a body the provider rejects. "InvalidRequestContent" is ARM's code for a body it cannot read;
    for the providers' own validation errors (a bad enum value, a missing property) the emulator uses it,
    or the code its caller names, without evidence of the provider's own code and text."""
    return ArmError(400, code, message)


def conflict_busy(resource_id: str) -> ArmError:
    """ARM refuses a write while the resource's provisioningState is not terminal: 409 RequestConflict,
    text verbatim from Azure/azure-rest-api-specs #7984 and Azure/bicep-types-az #2419 (an OpenAI account)."""
    return ArmError(409, "RequestConflict",
                    f"Cannot modify resource with id '{resource_id}' because the resource entity provisioning "
                    "state is not terminal. Please wait for the provisioning state to become terminal and then "
                    "retry the request.")


# Evidence for each code below is cited next to it; a message part nobody has published is marked.

def location_not_available(location: object, resource_type: str, available: str = "global") -> ArmError:
    """ARM's own check of a resource's location, before the provider sees the request. Format from real
    answers, e.g. "The provided location 'eastus' is not available for resource type
    'Microsoft.Web/staticSites'. List of available regions for the resource type is '...'." (Azure/azure-dev
    and MicrosoftDocs DevTest Labs FAQ quote it); private DNS zones and links are 'global' only."""
    return ArmError(400, "LocationNotAvailableForResourceType",
                    f"The provided location '{location}' is not available for resource type '{resource_type}'. "
                    f"List of available regions for the resource type is '{available}'.")


def connection_put_not_allowed() -> ArmError:
    """PUT of a private endpoint connection that does not exist: the Cognitive Services RP answers 405
    MethodNotAllowed (pulumi/pulumi-azure-native #2754, "cognitiveservices PrivateEndpointConnection
    MethodNotAllowed The request method 'PUT' is not allowed"); connections are created by the Network
    RP when an endpoint is made. The message's exact ending is unverified."""
    return ArmError(405, "MethodNotAllowed", "The request method 'PUT' is not allowed.")


def more_than_one_zone_group(pe_id: str, existing: str) -> ArmError:
    """A second zone group on an endpoint: 400 MoreThanOnePrivateDnsZoneGroupPerPrivateEndpointNotAllowed
    (code in public remediation scripts and Azure Policy guides that catch it from the PUT itself; text
    start from pulumi/pulumi-azure-native #2179 "Cannot create more than one private dns zone groups in
    the private endpoint"; the rest of the message is unverified)."""
    return ArmError(400, "MoreThanOnePrivateDnsZoneGroupPerPrivateEndpointNotAllowed",
                    f"Cannot create more than one private dns zone groups in the private endpoint {pe_id}. "
                    f"Existing private dns zone group: {existing}.")


def throttled(which: str, subscription: str, actor: str, seconds: int) -> ArmError:
    """ARM's token-bucket throttling: 429 SubscriptionRequestsThrottled with Retry-After, text as real
    answers give it ("Number of 'read' requests for subscription '…' actor '…' exceeded. Please try again
    after '10' seconds after additional tokens are available. Refer to https://aka.ms/arm-throttling for
    additional information." — quoted in public Azure deployment logs; code also in
    MicrosoftDocs/azure-docs #105248)."""
    return ArmError(429, "SubscriptionRequestsThrottled",
                    f"Number of '{which}' requests for subscription '{subscription}' actor '{actor}' exceeded. "
                    f"Please try again after '{seconds}' seconds after additional tokens are available. "
                    "Refer to https://aka.ms/arm-throttling for additional information.",
                    {"Retry-After": str(seconds)})


# Errors a private DNS write reports through its failed operation (Azure-AsyncOperation status Failed),
# not in the PUT's own answer: the PUT is accepted with 202.

def link_overlapping_namespace(zone_name: str) -> dict[str, str]:
    """A VNet already linked to another zone of the same name. Text and code from Azure/ARO-RP #796 (an
    ARM deployment whose link operation "completed with terminal provisioning state 'Failed'" with this
    BadRequest), MicrosoftDocs/azure-aks-docs #212 and microsoft-foundry/foundry-samples PR #214."""
    return {"code": "BadRequest",
            "message": "A virtual network cannot be linked to multiple zones with overlapping namespaces. You "
                       f"tried to link virtual network with '{zone_name}' and '{zone_name}' zones."}


def link_duplicate(zone_name: str, vnet_id: str) -> dict[str, str]:
    """A second link of the same VNet to the same zone. Text from ansible-collections/azure #813 and a public
    Terraform log: "polling after CreateOrUpdate: Code="Conflict" Message="Private zone '…' is already
    linked to the virtual network '…'."" (the failure arrives while polling the operation)."""
    return {"code": "Conflict",
            "message": f"Private zone '{zone_name}' is already linked to the virtual network '{vnet_id}'."}


# Private DNS's answers past a zone's record-set and link counts are unpublished (research-locks-limits.md §2.2:
# searched, none found; the only limit answers found are the registration-link 409 Conflict "A virtual network can
# only be linked to 1 Private DNS zone(s) with auto-registration enabled…" and a 409 without a body past 20 records
# in a set). These two are SYNTHETIC: 409 Conflict by analogy with the registration-link limit, in Private DNS's
# unwrapped body, the message saying it is the emulator's. Clients should judge them by the zone's own counts
# (`numberOfRecordSets` against `maxNumberOfRecordSets`, links likewise), which Azure does publish.
SYNTHETIC = "[emulator: synthetic answer, Azure's own is unpublished]"


def record_set_limit(zone_name: str, limit: int) -> ArmError:
    return ArmError(409, "Conflict", f"The private DNS zone '{zone_name}' already holds {limit} record sets, its limit "
                    f"(maxNumberOfRecordSets). {SYNTHETIC}", wrapped=False)


def link_limit(zone_name: str, limit: int) -> dict[str, str]:
    """Reported through the link's operation, as Private DNS reports its other refusals of a link."""
    return {"code": "Conflict", "message": f"The private DNS zone '{zone_name}' already has {limit} virtual network "
                                           f"links, its limit (maxNumberOfVirtualNetworkLinks). {SYNTHETIC}"}


def zone_exists(zone_name: str) -> dict[str, str]:
    """If-None-Match: * on an existing zone. Azure/azure-cli recording
    test_PutZone_ZoneExistsIfNoneMatchFailure_ExpectError.yaml: the PUT is answered 202 and the operation
    status reads {"error":{"code":"PreconditionFailed","message":"The Zone … exists already and hence
    cannot be created again."},"status":"Failed"}."""
    return {"code": "PreconditionFailed",
            "message": f"The Zone {zone_name} exists already and hence cannot be created again."}


def link_exists(link_name: str, zone_name: str) -> dict[str, str]:
    """If-None-Match: * on an existing link: Azure/azure-cli #28936 (the error surfaces from azure-core's
    poller: "The Virtual Network link … for the Private DNS zone … exists already and hence cannot be
    created again.", code PreconditionFailed)."""
    return {"code": "PreconditionFailed",
            "message": f"The Virtual Network link {link_name} for the Private DNS zone {zone_name} exists already "
                       "and hence cannot be created again."}


def link_identity_in_use(vnet_id: str) -> dict[str, str]:
    """A link whose operation fails although nothing conflicts in the request (EmulatorConfig.failed_link_vnets):
    Azure/azure-powershell#9537, the link's operation status read {"error":{"code":"Conflict","message":"Virtual
    network resource identity '…' already in use. This is possible in case the virtual network was moved, or
    re-created. Please contact support."},"status":"Failed"} after the VNet had been deleted and made again."""
    return {"code": "Conflict",
            "message": f"Virtual network resource identity '{vnet_id}' already in use. This is possible in case the "
                       "virtual network was moved, or re-created. Please contact support."}


def no_registered_provider(location: str, api_version: str, type_name: str, versions: tuple[str, ...],
                           locations: tuple[str, ...]) -> ArmError:
    """A resource provider's path with an api-version the provider does not serve: 400 NoRegisteredProviderFound
    (Azure/azure-cli#7075 quotes the raw body: "No registered resource provider found for location 'usgovvirginia'
    and API version '2018-03-01-preview' for type 'storageAccounts'. The supported api-versions are '2017-10-01,
    2017-06-01, …'. The supported locations are 'usgoviowa, usgovvirginia, …'."; status 400 in Azure/azure-cli#23985).
    `type` is the last type segment; lists are joined by ", " (their order varies between samples)."""
    return ArmError(400, "NoRegisteredProviderFound",
                    f"No registered resource provider found for location '{location}' and API version "
                    f"'{api_version}' for type '{type_name}'. The supported api-versions are "
                    f"'{', '.join(versions)}'. The supported locations are '{', '.join(locations)}'.")


def invalid_api_version(api_version: str, versions: tuple[str, ...]) -> ArmError:
    """Resource Manager's own endpoints (resource groups, role assignments) with an api-version they do not serve:
    400 InvalidApiVersionParameter "The api-version '2018-01-01-preview' is invalid. The supported versions are
    '2018-08-01,2018-07-01,…,2014-04'." (hashicorp/vault-plugin-secrets-azure#13; the list joined by "," alone)."""
    return ArmError(400, "InvalidApiVersionParameter",
                    f"The api-version '{api_version}' is invalid. The supported versions are '{','.join(versions)}'.")
