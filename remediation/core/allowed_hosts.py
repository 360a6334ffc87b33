"""Where the app's tokens may go: hosts of the known Azure clouds, or a loopback address. Pure.

Every setting that receives the identity's tokens (the Resource Manager endpoint, the Event Grid topic,
the storage account) is checked here at start-up, so an app setting can never send a token elsewhere.

The hosts, per cloud (public, US Government, China):
- Resource Manager: `management.azure.com`, `management.usgovcloudapi.net`, `management.chinacloudapi.cn`
  (azure-mgmt-core `azure/mgmt/core/tools.py`, `get_arm_endpoints`);
- Event Grid topics: `<topic>.<region>-1.eventgrid.azure.net`, `…eventgrid.azure.us`, `…eventgrid.azure.cn`
  (the Event Grid on IoT Edge docs list these three as the cloud's endpoints, "Forward events to Event Grid
  cloud", outbound__eventgrid__allowInvalidHostnames; the audiences in Azure/azure-iot-ops-cli-extension
  `azext_edge/edge/util/cloud_config.py`);
- Storage: `<account>.<service>.core.windows.net`, `…core.usgovcloudapi.net`, `…core.chinacloudapi.cn`
  (the same cloud_config.py, `storage_suffix`); account names are 3-24 lower-case letters and digits
  (Azure's naming rules for Microsoft.Storage/storageAccounts).

URLs are matched whole against a strict pattern (no user info, no backslash, no query or fragment), so a
parser that reads the host differently (`https://a\\@b`) never gets a say.
"""

from __future__ import annotations

import ipaddress
import re

ARM_HOSTS = ("management.azure.com", "management.usgovcloudapi.net", "management.chinacloudapi.cn")
EVENTGRID_SUFFIXES = ("eventgrid.azure.net", "eventgrid.azure.us", "eventgrid.azure.cn")
STORAGE_SUFFIXES = ("core.windows.net", "core.usgovcloudapi.net", "core.chinacloudapi.cn")
STORAGE_SERVICES = ("blob", "queue", "table", "file", "dfs")

_URL = re.compile(r"(?P<scheme>https?)://(?P<host>[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::(?P<port>[0-9]{1,5}))?"
                  r"(?P<path>/[A-Za-z0-9._~/-]*)?")
_LABEL = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?")
_STORAGE_ACCOUNT = re.compile(r"[a-z0-9]{3,24}")


class NotAllowed(ValueError):
    """The value would send a token (or a signed request) to a host outside the known Azure clouds."""


def is_loopback(host: str) -> bool:
    host = host.strip("[]").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _subdomain_of(host: str, suffix: str) -> bool:
    """`x.suffix` with every label before the suffix a plain DNS label (never the suffix itself)."""
    host = host.lower()
    if not host.endswith("." + suffix):
        return False
    return all(_LABEL.fullmatch(label) for label in host[: -len(suffix) - 1].split("."))


def _split(url: str, what: str, *, path: bool) -> tuple[str, str, int | None]:
    match = _URL.fullmatch(url)
    if match is None or (match["path"] not in (None, "/") and not path):
        raise NotAllowed(f"is not a plain https URL of {what}")
    port = int(match["port"]) if match["port"] else None
    return match["scheme"], match["host"], port


def _checked(scheme: str, host: str, port: int | None, azure_host: bool, what: str) -> None:
    if is_loopback(host):
        return  # a local emulator or Azurite, on any port; plain http only here
    if scheme != "https" or not azure_host or port not in (None, 443):
        raise NotAllowed(f"must name {what} of a known Azure cloud (or a loopback address), over https on port 443")


def arm_endpoint(url: str) -> str:
    """`https://management.azure.com` (or a sovereign cloud's, or loopback): the value without a trailing '/'."""
    scheme, host, port = _split(url, "a Resource Manager endpoint", path=False)
    if scheme != "https":
        raise NotAllowed("is not an https:// URL")
    _checked(scheme, host, port, host.lower() in ARM_HOSTS, f"a Resource Manager host ({', '.join(ARM_HOSTS)})")
    return url.rstrip("/")


def eventgrid_topic(url: str) -> str:
    scheme, host, port = _split(url, "an Event Grid topic", path=True)
    if scheme != "https":
        raise NotAllowed("is not an https:// URL")
    _checked(scheme, host, port, any(_subdomain_of(host, s) for s in EVENTGRID_SUFFIXES),
             f"an Event Grid topic host (<topic>.<region>-1.{{{', '.join(EVENTGRID_SUFFIXES)}}})")
    return url


def storage_account_name(name: str) -> str:
    if not _STORAGE_ACCOUNT.fullmatch(name):
        raise NotAllowed("is not a storage account name (3-24 lower-case letters and digits)")
    return name


def storage_connection(text: str) -> str:
    """A storage connection string whose every endpoint is a storage host of a known cloud, or loopback.

    Read the way the storage SDKs read it (`k=v` pairs split at ';', keys case-insensitive): the account
    name and endpoint suffix make a host (`<AccountName>.table.<EndpointSuffix>`), and explicit endpoints
    name theirs; a SAS token is sent to that host and a key signs requests for it."""
    pairs = [part.split("=", 1) for part in text.strip().rstrip(";").split(";")]
    if any(len(pair) != 2 for pair in pairs):
        raise NotAllowed("is not a connection string (key=value pairs separated by ';')")
    values = {key.strip().lower(): value.strip() for key, value in pairs}
    if values.get("usedevelopmentstorage", "").lower() == "true":
        if "developmentstorageproxyuri" in values:
            raise NotAllowed("DevelopmentStorageProxyUri is not supported")
        return text  # the SDKs' fixed loopback endpoints (Azurite)
    if "accountname" in values:
        storage_account_name(values["accountname"])
    suffix = values.get("endpointsuffix")
    if suffix is not None and suffix.lower() not in STORAGE_SUFFIXES:
        raise NotAllowed(f"EndpointSuffix must be one of {', '.join(STORAGE_SUFFIXES)}")
    for key, value in values.items():
        if key.endswith("endpoint") and key != "endpointsuffix":
            scheme, host, port = _split(value, "a storage endpoint", path=True)
            azure = any(_subdomain_of(host, f"{service}.{s}") for service in STORAGE_SERVICES
                        for s in STORAGE_SUFFIXES)
            _checked(scheme, host, port, azure, "a storage host (<account>.<service>.<cloud suffix>)")
    return text
