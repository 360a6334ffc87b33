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

Every URL is judged by the parser the transport connects with: requests prepares a URL with urllib3's
`parse_url` and connects to the host it finds, so `origin` asks that parser, never urllib.parse (which reads
`https://other\\@management.azure.com/` as management.azure.com, while requests connects to `other`). URLs
from settings must also have a plain shape (no user info, no backslash, no query or fragment).

Storage connection strings are read the way the two storage SDKs read them (azure-storage-queue 12.18
`_shared/base_client.py` `parse_connection_str`: keys upper-cased with str.upper, the last of a repeated key
wins, `UseDevelopmentStorage=true` means Azurite's fixed endpoints whatever follows; azure-data-tables 12.7
`_base_client.py` `parse_connection_str` with azure-core's `parse_connection_string`: keys lower-cased, repeated
keys refused, `UseDevelopmentStorage=true` only when it is the whole string), and every endpoint either SDK
would send a signed request to is checked. Keys must be plain ASCII letters and known: str.upper turns a
dotless ı into I, so `QueueEndpoınt` is QUEUEENDPOINT to one SDK and an unknown key to a check that lowers it.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

from urllib3.exceptions import LocationParseError
from urllib3.util import parse_url

ARM_HOSTS = ("management.azure.com", "management.usgovcloudapi.net", "management.chinacloudapi.cn")
EVENTGRID_SUFFIXES = ("eventgrid.azure.net", "eventgrid.azure.us", "eventgrid.azure.cn")
STORAGE_SUFFIXES = ("core.windows.net", "core.usgovcloudapi.net", "core.chinacloudapi.cn")
STORAGE_SERVICES = ("blob", "queue", "table", "file", "dfs")
DEFAULT_PORTS = {"https": 443, "http": 80}

_URL = re.compile(r"(?P<scheme>https?)://(?P<host>[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::(?P<port>[0-9]{1,5}))?"
                  r"(?P<path>/[A-Za-z0-9._~/-]*)?")
_LABEL = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?")
_STORAGE_ACCOUNT = re.compile(r"[a-z0-9]{3,24}")
_KEY = re.compile(r"[A-Za-z]+")
# Every key either storage SDK reads (upper case, as azure-storage-queue compares them); DFS uses the blob ones.
_ENDPOINT_KEYS = {service: (f"{service.upper()}ENDPOINT", f"{service.upper()}SECONDARYENDPOINT")
                  for service in ("blob", "queue", "table", "file")}
_CONNECTION_KEYS = frozenset({"DEFAULTENDPOINTSPROTOCOL", "ACCOUNTNAME", "ACCOUNTKEY", "SHAREDACCESSSIGNATURE",
                              "ENDPOINTSUFFIX", "USEDEVELOPMENTSTORAGE", *(k for pair in _ENDPOINT_KEYS.values()
                                                                          for k in pair)})


class NotAllowed(ValueError):
    """The value would send a token (or a signed request) to a host outside the known Azure clouds."""


@dataclass(frozen=True)
class Origin:
    """Where a request for a URL goes: scheme, host (lower case) and port (the scheme's default when unwritten)."""

    scheme: str
    host: str
    port: int


def origin(url: str) -> Origin | None:
    """The origin the transport connects to for `url`, by urllib3's `parse_url` (what requests prepares every URL
    with); None when it does not parse, is not http(s), or carries user info (never sent with a token)."""
    try:
        parsed = parse_url(url)
    except (LocationParseError, ValueError):
        return None
    scheme = (parsed.scheme or "").lower()
    if scheme not in DEFAULT_PORTS or not parsed.host or parsed.auth is not None:
        return None
    return Origin(scheme, parsed.host.lower(), parsed.port or DEFAULT_PORTS[scheme])


def same_origin(url: str, endpoint: str) -> bool:
    """`url` goes where `endpoint` does: same scheme, host and effective port (`https://management.azure.com:443/…`,
    as Azure writes some operation URLs, is the endpoint `https://management.azure.com`)."""
    mine, theirs = origin(url), origin(endpoint)
    return mine is not None and mine == theirs


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


def _split(url: str, what: str, *, path: bool) -> Origin:
    """A URL of a plain shape, and where the transport takes it (the two must name the same host)."""
    match = _URL.fullmatch(url)
    found = origin(url)
    if match is None or found is None or (match["path"] not in (None, "/") and not path):
        raise NotAllowed(f"is not a plain https URL of {what}")
    if found.host != match["host"].lower().strip("[]") and found.host != match["host"].lower():
        raise NotAllowed(f"is not a plain https URL of {what}")
    return found


def _checked(where: Origin, azure_host: bool, what: str) -> None:
    if is_loopback(where.host):
        return  # a local emulator or Azurite, on any port; plain http only here
    if where.scheme != "https" or not azure_host or where.port != 443:
        raise NotAllowed(f"must name {what} of a known Azure cloud (or a loopback address), over https on port 443")


def arm_endpoint(url: str) -> str:
    """`https://management.azure.com` (or a sovereign cloud's, or loopback): the value without a trailing '/'."""
    where = _split(url, "a Resource Manager endpoint", path=False)
    if where.scheme != "https":
        raise NotAllowed("is not an https:// URL")
    _checked(where, where.host in ARM_HOSTS, f"a Resource Manager host ({', '.join(ARM_HOSTS)})")
    return url.rstrip("/")


def eventgrid_topic(url: str) -> str:
    where = _split(url, "an Event Grid topic", path=True)
    if where.scheme != "https":
        raise NotAllowed("is not an https:// URL")
    _checked(where, any(_subdomain_of(where.host, s) for s in EVENTGRID_SUFFIXES),
             f"an Event Grid topic host (<topic>.<region>-1.{{{', '.join(EVENTGRID_SUFFIXES)}}})")
    return url


def storage_account_name(name: str) -> str:
    if not _STORAGE_ACCOUNT.fullmatch(name):
        raise NotAllowed("is not a storage account name (3-24 lower-case letters and digits)")
    return name


def storage_connection(text: str) -> str:
    """A storage connection string whose every endpoint, as either storage SDK derives it, is a storage host of a
    known cloud over https, or loopback. `UseDevelopmentStorage=true` alone is Azurite; with other keys, every
    endpoint they give or derive must be loopback too (the tables SDK reads them, the queue SDK does not)."""
    values = connection_values(text)
    development = values.get("USEDEVELOPMENTSTORAGE")
    if development is not None and development != "true":
        raise NotAllowed("UseDevelopmentStorage must be true (or absent)")
    if "ACCOUNTNAME" in values and development is None:
        storage_account_name(values["ACCOUNTNAME"])
    suffix = values.get("ENDPOINTSUFFIX")
    if suffix is not None and suffix.lower() not in STORAGE_SUFFIXES:
        raise NotAllowed(f"EndpointSuffix must be one of {', '.join(STORAGE_SUFFIXES)}")
    if values.get("DEFAULTENDPOINTSPROTOCOL", "https").lower() not in DEFAULT_PORTS:
        raise NotAllowed("DefaultEndpointsProtocol must be https (or http for a loopback emulator)")
    if development is not None and len(values) == 1:
        return text  # the SDKs' fixed loopback endpoints (Azurite)
    for url in storage_endpoints(values):
        where = _split(url, "a storage endpoint", path=True)
        if development is not None and not is_loopback(where.host):
            raise NotAllowed("with UseDevelopmentStorage=true every endpoint must be a loopback address")
        _checked(where, any(_subdomain_of(where.host, f"{service}.{s}") for service in STORAGE_SERVICES
                            for s in STORAGE_SUFFIXES), "a storage host (<account>.<service>.<cloud suffix>)")
    return text


def connection_values(text: str) -> dict[str, str]:
    """The connection string's `key=value` pairs, keys upper case; refused unless every key is a plain ASCII word
    the storage SDKs know, given once (ignoring case)."""
    pairs = [part.split("=", 1) for part in text.rstrip(";").split(";")]
    if any(len(pair) != 2 or not pair[1] for pair in pairs):
        raise NotAllowed("is not a connection string (key=value pairs separated by ';')")
    values: dict[str, str] = {}
    for key, value in pairs:
        if not _KEY.fullmatch(key) or key.upper() not in _CONNECTION_KEYS:
            raise NotAllowed(f"has a key the storage SDKs do not know: {key[:40]!r} (ASCII letters, e.g. "
                             "DefaultEndpointsProtocol, AccountName, AccountKey, QueueEndpoint, EndpointSuffix)")
        if key.upper() in values:
            raise NotAllowed(f"names {key} twice")
        values[key.upper()] = value
    return values


def storage_endpoints(values: dict[str, str]) -> list[str]:
    """Every URL the storage SDKs may send requests to: each endpoint the string names (a secondary without its
    primary included: the SDKs refuse it, and it is checked all the same), and for a service it names none, the one
    they derive, `<DefaultEndpointsProtocol>://<AccountName>.<service>.<EndpointSuffix>` (https and
    core.windows.net when those are not given) and its `-secondary`."""
    urls = [value for key, value in values.items() if key.endswith("ENDPOINT")]
    account, suffix = values.get("ACCOUNTNAME"), values.get("ENDPOINTSUFFIX")
    protocol = values.get("DEFAULTENDPOINTSPROTOCOL") if suffix else None
    for service in STORAGE_SERVICES:
        primary_key, _ = _ENDPOINT_KEYS["blob" if service == "dfs" else service]
        if primary_key not in values and account is not None:
            host = f"{service}.{suffix or STORAGE_SUFFIXES[0]}"
            urls += [f"{protocol or 'https'}://{account}.{host}", f"https://{account}-secondary.{host}"]
    return urls
