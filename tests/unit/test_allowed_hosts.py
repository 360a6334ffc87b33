"""Where tokens and signed requests go, judged the way the transport and the storage SDKs read the URL or the
connection string: the hostile strings a review found, and properties that hold the check to the real parsers
(requests' own URL preparation, the storage SDKs' own connection-string parsers)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from azure.data.tables._base_client import parse_connection_str as tables_parse
from azure.storage.queue._shared.base_client import parse_connection_str as storage_parse
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from remediation.core.allowed_hosts import (
    STORAGE_SERVICES,
    STORAGE_SUFFIXES,
    NotAllowed,
    is_loopback,
    same_origin,
    storage_connection,
)
from remediation.core.settings import Settings, SettingsError

ARM = "https://management.azure.com"
KEY = "a2V5"
AZURITE_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


def connects_to(url: str) -> tuple[str, str, int]:
    """Scheme, host and port requests connects to for `url`: its own preparation, then the adapter's urlparse."""
    prepared = requests.Request("GET", url).prepare()
    parts = urlsplit(prepared.url or "")
    scheme = parts.scheme.lower()
    return scheme, (parts.hostname or "").lower(), parts.port or {"https": 443, "http": 80}.get(scheme, 0)


# --- URLs that carry the bearer token ---------------------------------------------------------------

@pytest.mark.parametrize("url", [
    "https://other\\@management.azure.com/subscriptions?api-version=1",
    "https://user@management.azure.com/subscriptions",
    "https://other.example?@management.azure.com/",
    "https://other.example#@management.azure.com/",
    "https://management.azure.com.other.example/",
    "https://management.azure.com:8443/",
    "http://management.azure.com/",
    "https://management.azure.com\t/",
    "https://[::1]/",
    "//management.azure.com/",
    "",
])
def test_a_url_the_transport_would_take_elsewhere_is_not_the_endpoint(url: str) -> None:
    assert not same_origin(url, ARM)


@pytest.mark.parametrize("url", [
    "https://management.azure.com/subscriptions/x?api-version=1&$skipToken=2",
    "https://management.azure.com\\.other.example/subscriptions",  # a backslash ends the host: a path here
    "https://management.azure.com:443/subscriptions/x/operationStatuses/1?api-version=1",  # as Azure writes AAO URLs
    "https://MANAGEMENT.azure.com/subscriptions",
])
def test_a_url_on_the_endpoint_is_the_endpoint(url: str) -> None:
    assert same_origin(url, ARM)


_HOSTS = st.sampled_from(["other.example", "management.azure.com", "", "user:pw", "127.0.0.1", "[::1]",
                          "management.azure.com.other.example", "MANAGEMENT.AZURE.COM"])
_SEPARATORS = st.sampled_from(["\\@", "@", "\\", "?@", "#@", "/", "%5C@", "%40", ".", ":443@", ":443\\@", "\\\\@",
                               "/@", ";@", "", "\t@", " @", "\\:443@"])
_PORTS = st.sampled_from(["", ":443", ":8443", ":0443", ":", ":443:443"])


@hypothesis_settings(max_examples=600, deadline=None)
@given(scheme=st.sampled_from(["https://", "http://", "HTTPS://", "https:/", "https:\\\\"]), first=_HOSTS,
       separator=_SEPARATORS, second=_HOSTS, port=_PORTS)
def test_same_origin_agrees_with_where_requests_connects(scheme: str, first: str, separator: str, second: str,
                                                         port: str) -> None:
    """Whenever the check says "the endpoint", requests connects to the endpoint's host and port (or refuses the
    URL outright)."""
    url = f"{scheme}{first}{separator}{second}{port}/subscriptions?api-version=1"
    if not same_origin(url, ARM):
        return
    try:
        where = connects_to(url)
    except requests.RequestException:
        return  # requests will not send it at all
    assert where == ("https", "management.azure.com", 443)


# --- storage connection strings -------------------------------------------------------------------------

HOSTILE = [
    "UseDevelopmentStorage=true;TableEndpoint=https://elsewhere.example",
    f"UseDevelopmentStorage=true;AccountName=devstoreaccount1;AccountKey={AZURITE_KEY};"
    "TableEndpoint=https://elsewhere.example/devstoreaccount1",
    "UseDevelopmentStorage=true;QueueEndpoint=http://elsewhere.example:10001/devstoreaccount1",
    f"UseDevelopmentStorage=true;AccountName=st1;AccountKey={KEY}",
    "UseDevelopmentStorage=true;DevelopmentStorageProxyUri=http://elsewhere.example",
    "UseDevelopmentStorage=True;TableEndpoint=https://elsewhere.example",
    f"DefaultEndpointsProtocol=https;AccountName=st1;AccountKey={KEY};QueueEndp\u0131int=https://elsewhere.example/",
    f"DefaultEndpointsProtocol=https;AccountName=st1;AccountKey={KEY};QueueEndpo\u0131nt=https://elsewhere.example/",
    f"DefaultEndpointsProtocol=https;AccountName=st1;AccountKey={KEY};EndpointSuff\u0131x=elsewhere.example",
    f"DefaultEndpoint\u017fProtocol=https;AccountName=st1;AccountKey={KEY};EndpointSuffix=core.windows.net",
    "U\u017feDevelopmentStorage=true;TableEndpoint=https://elsewhere.example",
    f"DefaultEndpointsProtocol=https://elsewhere.example/#;AccountName=st1;AccountKey={KEY};"
    "EndpointSuffix=core.windows.net",
    f"DefaultEndpointsProtocol=http;AccountName=st1;AccountKey={KEY};EndpointSuffix=core.windows.net",
    f"AccountName=st1;AccountKey={KEY};QueueEndpoint=https://st1.queue.core.windows.net/;"
    "QUEUEENDPOINT=https://elsewhere.example/",
    f"AccountName=st1;AccountKey={KEY};QueueEndpoint=https://elsewhere.example\\@st1.queue.core.windows.net/",
    f"AccountName=st1;AccountKey={KEY};QueueEndpoint=https://st1.queue.core.windows.net@elsewhere.example/",
    f"AccountName=st1;AccountKey={KEY};QueueEndpoint=https://st1.queue.core.windows.net/;"
    "QueueSecondaryEndpoint=https://elsewhere.example/",
    f"AccountName=st1;AccountKey={KEY};BlobEndpoint=https://elsewhere.example/",  # the DFS client's too
    "AccountName=st1;SharedAccessSignature=sv=1&sig=x;TableSecondaryEndpoint=https://elsewhere.example/",
    f"AccountName=st1;AccountKey={KEY}; QueueEndpoint=https://elsewhere.example/",
    f"AccountName=st1;AccountKey={KEY};Extra=1",
    "AccountName=st1;AccountKey=",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_a_connection_string_that_sends_signed_requests_elsewhere_is_refused(text: str) -> None:
    with pytest.raises(NotAllowed):
        storage_connection(text)
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({"REMEDIATION_SCOPES": "/subscriptions/00000000-0000-0000-0000-000000000001",
                           "AzureWebJobsStorage": text})
    assert [p.split(":", 1)[0] for p in caught.value.problems] == ["AzureWebJobsStorage"]


@pytest.mark.parametrize("text", [
    "UseDevelopmentStorage=true",
    "UseDevelopmentStorage=true;TableEndpoint=http://127.0.0.1:10002/devstoreaccount1",
    f"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={AZURITE_KEY};"
    "BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;QueueEndpoint=http://127.0.0.1:10001/devstoreaccount1;"
    "TableEndpoint=http://127.0.0.1:10002/devstoreaccount1;",
    f"DefaultEndpointsProtocol=https;AccountName=st1;AccountKey={KEY};EndpointSuffix=core.windows.net",
    f"defaultendpointsprotocol=https;accountname=st1;accountkey={KEY};endpointsuffix=core.usgovcloudapi.net",
    f"AccountName=st1;AccountKey={KEY}",
    "BlobEndpoint=https://st1.blob.core.windows.net/;QueueEndpoint=https://st1.queue.core.windows.net/;"
    "FileEndpoint=https://st1.file.core.windows.net/;TableEndpoint=https://st1.table.core.windows.net/;"
    "SharedAccessSignature=sv=2022-11-02&ss=bqt&srt=sco&sp=rwdlacup&se=2030-01-01T00:00:00Z&sig=abc%3D",
])
def test_connection_strings_of_known_clouds_and_azurite_are_accepted(text: str) -> None:
    assert storage_connection(text) == text


def _allowed(url: str) -> bool:
    """Independent of the code under test: loopback on any port, or https on 443 to <x>.<service>.<cloud suffix>."""
    if "://" not in url:  # a secondary host the SDK writes without a scheme; it is reached over https
        url = "https://" + url
    scheme, host, port = connects_to(url)
    if is_loopback(host):
        return True
    return scheme == "https" and port == 443 and any(
        host.endswith(f".{service}.{suffix}") for service in STORAGE_SERVICES for suffix in STORAGE_SUFFIXES)


def _sdk_endpoints(text: str) -> list[str]:
    """Every endpoint the storage SDKs derive from the string (blob, queue, file and DFS clients, and tables)."""
    urls: list[str] = []
    for service in ("blob", "queue", "file", "dfs"):
        try:
            primary, secondary, _ = storage_parse(text, None, service)
        except (ValueError, KeyError):
            continue
        urls += [primary, *([secondary] if secondary else [])]
    options: dict[str, Any] = {}
    try:
        urls.append(tables_parse(text, None, options)[0])
    except (ValueError, KeyError):
        pass
    return urls + ([options["secondary_hostname"]] if options.get("secondary_hostname") else [])


_KEYS = st.sampled_from([
    "DefaultEndpointsProtocol", "AccountName", "AccountKey", "SharedAccessSignature", "EndpointSuffix",
    "UseDevelopmentStorage", "BlobEndpoint", "QueueEndpoint", "TableEndpoint", "FileEndpoint",
    "QueueSecondaryEndpoint", "TableSecondaryEndpoint", "BlobSecondaryEndpoint",
    "QUEUEENDPOINT", "tableendpoint", "QueueEndpo\u0131nt", "TableEndpo\u0131nt", "EndpointSuff\u0131x",
    "U\u017feDevelopmentStorage", "Default\u0130ndpointsProtocol", "DevelopmentStorageProxyUri", " TableEndpoint"])
_VALUES = st.sampled_from([
    "true", "True", "https", "http", "st1", "devstoreaccount1", KEY, "sv=1&sig=a%3D", "core.windows.net",
    "core.chinacloudapi.cn", "elsewhere.example", "https://st1.queue.core.windows.net/",
    "https://st1.table.core.windows.net", "http://127.0.0.1:10002/devstoreaccount1", "https://elsewhere.example/",
    "https://elsewhere.example\\@st1.table.core.windows.net/", "https://st1.table.core.windows.net@elsewhere.example",
    "http://st1.blob.core.windows.net/", "https://st1.blob.core.windows.net:8443/", "https://elsewhere.example/#"])


@hypothesis_settings(max_examples=1500, deadline=None)
@given(pairs=st.lists(st.tuples(_KEYS, _VALUES), min_size=1, max_size=6))
def test_an_accepted_connection_string_sends_nothing_outside_the_known_clouds(pairs: list[tuple[str, str]]) -> None:
    """Whatever the check accepts, every endpoint the storage SDKs' own parsers derive from it is a storage host of
    a known cloud over https, or loopback."""
    text = ";".join(f"{key}={value}" for key, value in pairs)
    try:
        storage_connection(text)
    except NotAllowed:
        return
    endpoints = _sdk_endpoints(text)
    assert all(_allowed(url) for url in endpoints), endpoints
