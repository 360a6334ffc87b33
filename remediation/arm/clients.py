"""Credential, Resource Manager endpoint, retry and polling: the one place SDK clients are built, and the
one place a failed call is classified (`classify` -> `model.ErrorKind`).

SDKs are imported on first use, not at import time: the Functions host imports function_app at
start-up, and azure.mgmt.network alone costs ~0.8 s and ~50 MB. Reads of any resource therefore go
through one generic Resource Manager pipeline (`get_json`, `find_json`, `list_json`); the network SDK
is loaded only when a private endpoint or zone group has to be written.

One retry story, azure-core's, for every call (generic reads, SDK reads, writes and the polls of long-running
operations): its RetryPolicy retries 408, 429 and 5xx and waits out `Retry-After`, its pollers poll at the
operation's `Retry-After` (else `polling_interval`), and `timeout` bounds a call's retries in all. Throttling gets
more patience than failure (`ThrottledRetry`): a throttled sweep is a slower sweep, not a failed one. Before that,
`Pacing` slows each request down while the remaining counts Resource Manager reports run low (core/pacing.py), so a
storm or a sweep is slowed before it is throttled, not after: azure-core only reacts to a 429, and no azure-core or
azure-mgmt-core policy reads the `x-ms-ratelimit-remaining-*` headers (general rate limiters, such as pyrate-limiter
or limits, enforce a rate fixed in advance, not the server's count). "The account is busy" (409, 400
`AccountProvisioningStateInvalid`) needs reads of the account between tries, so it is waited for above, by the
applier (core/polling.py), and classified here as `ErrorKind.BUSY`.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from remediation.core.allowed_hosts import same_origin
from remediation.core.failures import error_kind
from remediation.core.ids import ResourceId
from remediation.core.model import ErrorKind, Principal
from remediation.core.pacing import Pacer, buckets_for, reported
from remediation.core.settings import Settings

if TYPE_CHECKING:  # pragma: no cover - typing only
    from azure.core.credentials import TokenCredential

# API versions: the defaults of the SDKs pinned in requirements.txt, so a generic read and the SDK's
# write of the same resource speak the same version.
COGNITIVE_API_VERSION = "2025-09-01"  # azure-mgmt-cognitiveservices 14.1.0 (the account PATCH goes with it)
NETWORK_API_VERSION = "2026-03-01"  # azure-mgmt-network 33.1.0
PRIVATE_DNS_API_VERSION = "2024-06-01"  # azure-mgmt-privatedns 2.0.0

# azure-core retries 408/429/500/502/503/504 and honours Retry-After. A failure is tried three more times (backoff 0,
# 1, 2 s: Resource Manager's own trouble rarely passes quicker); a throttled call waits out each Retry-After for up to
# THROTTLE_PATIENCE_SECONDS in all (the retry policy's `timeout`), whatever the count.
THROTTLE_PATIENCE_SECONDS = 300.0
_RETRY = {"retry_total": 100, "retry_status": 3, "retry_connect": 3, "retry_read": 3, "retry_backoff_factor": 0.5,
          "retry_backoff_max": 30, "timeout": THROTTLE_PATIENCE_SECONDS}
_TIMEOUTS = {"connection_timeout": 10, "read_timeout": 60}
_MAX_PAGES = 1000
SELF_PACING = True  # benchmarks switch it off to measure what it saves
PACING_PATIENCE_SECONDS = 120.0  # the longest one request is held back; then it goes, and a 429 is waited out


def raw_json(pipeline_response: Any, _deserialized: Any, _headers: Any) -> Any:
    """`cls=` hook for SDK operations: keep ARM's JSON whole (models drop fields they don't know)."""
    response = pipeline_response.http_response
    return response.json() if response.text() else None


class ArmClients:
    """Lazily built, cached SDK clients for one settings object, and a count of every request they send;
    safe to share across threads."""

    def __init__(self, settings: Settings, credential: TokenCredential | None = None) -> None:
        self.settings = settings
        self._credential = credential
        self._clients: dict[tuple[str, str], Any] = {}
        self._lock = threading.RLock()  # building a client takes the credential, under the same lock
        self._own: Principal | None = None
        self._count_lock = threading.Lock()
        self._requests = 0
        self._per_thread = threading.local()
        self.pacer = Pacer(time.monotonic)

    @property
    def request_count(self) -> int:
        """Every HTTP request sent to Resource Manager so far: reads, writes, polls and retries."""
        with self._count_lock:
            return self._requests

    @property
    def thread_request_count(self) -> int:
        """The requests this thread sent so far (a pipeline sends from the thread that calls it)."""
        return int(getattr(self._per_thread, "requests", 0))

    def _count(self) -> None:
        with self._count_lock:
            self._requests += 1
        self._per_thread.requests = self.thread_request_count + 1

    def own_principal(self) -> Principal:
        """The identity this app writes as, read from its own ARM token's claims.

        ARM events carry the writer's claims, so this is how the app recognises its own writes. The
        token itself is never logged or kept beyond this call (azure-identity caches it)."""
        if self._own is None:
            claims = _jwt_claims(self.credential.get_token(self.settings.arm_scope).token)
            self._own = Principal(object_id=claims.get("oid"), client_id=claims.get("appid") or claims.get("azp"))
        return self._own

    @property
    def credential(self) -> TokenCredential:
        if self._credential is None:
            from azure.identity import DefaultAzureCredential

            with self._lock:
                if self._credential is None:
                    self._credential = DefaultAzureCredential()
        return self._credential

    def _options(self) -> dict[str, Any]:
        return {
            "credential_scopes": [self.settings.arm_scope],
            "polling_interval": self.settings.poll_interval_seconds,
            "retry_policy": _retry_policy(),
            # After the retry and redirect policies, so every request sent (each retry, each redirect, each poll
            # of a long-running operation, each nextLink) is checked, and paced, before it leaves.
            "per_retry_policies": [_counting_policy(self._count), _origin_policy(self.settings.arm_endpoint),
                                   *_pacing_policy(self.pacer)],
            **_TIMEOUTS,
        }

    def _client(self, name: str, subscription_id: str, factory: Callable[[], Any]) -> Any:
        key = (name, subscription_id.lower())
        client = self._clients.get(key)
        if client is None:
            with self._lock:
                client = self._clients.get(key)
                if client is None:
                    client = self._clients[key] = factory()
        return client

    def cognitive(self, subscription_id: str) -> Any:
        def build() -> Any:
            from azure.mgmt.cognitiveservices import CognitiveServicesManagementClient

            return CognitiveServicesManagementClient(self.credential, subscription_id, self.settings.arm_endpoint,
                                                     **self._options())

        return self._client("cognitive", subscription_id, build)

    def private_dns(self, subscription_id: str) -> Any:
        def build() -> Any:
            from azure.mgmt.privatedns import PrivateDnsManagementClient

            return PrivateDnsManagementClient(self.credential, subscription_id, self.settings.arm_endpoint,
                                              **self._options())

        return self._client("privatedns", subscription_id, build)

    def network(self, subscription_id: str) -> Any:
        def build() -> Any:
            from azure.mgmt.network import NetworkManagementClient  # heavy: only for network writes

            return NetworkManagementClient(self.credential, subscription_id, self.settings.arm_endpoint,
                                           **self._options())

        return self._client("network", subscription_id, build)

    # --- generic reads, through one Resource Manager pipeline (same credential, retry and counting) -----

    def _arm(self) -> Any:
        def build() -> Any:
            from azure.core.pipeline import policies
            from azure.mgmt.core import ARMPipelineClient
            from azure.mgmt.core.policies import ARMChallengeAuthenticationPolicy, ARMHttpLoggingPolicy

            return ARMPipelineClient(base_url=self.settings.arm_endpoint, policies=[
                policies.RequestIdPolicy(), policies.HeadersPolicy(),
                policies.UserAgentPolicy(sdk_moniker="openai-private-network-remediation"),
                policies.ProxyPolicy(), policies.ContentDecodePolicy(), _retry_policy(),
                ARMChallengeAuthenticationPolicy(self.credential, self.settings.arm_scope),
                _counting_policy(self._count), _origin_policy(self.settings.arm_endpoint),
                *_pacing_policy(self.pacer), policies.NetworkTraceLoggingPolicy(),
                ARMHttpLoggingPolicy()], **_TIMEOUTS)

        return self._client("arm", "-", build)

    def get_json(self, resource_id: ResourceId | str, api_version: str) -> Any:
        """GET a resource; azure.core's ResourceNotFoundError when it does not exist."""
        return self._send(self._url(str(resource_id), api_version))

    def find_json(self, resource_id: ResourceId | str, api_version: str) -> Any | None:
        """GET a resource; None when it does not exist."""
        from azure.core.exceptions import ResourceNotFoundError

        try:
            return self.get_json(resource_id, api_version)
        except ResourceNotFoundError:
            return None

    def list_json(self, collection_path: str, api_version: str, top: int | None = None,
                  read_ahead: bool = False) -> Iterator[dict[str, Any]]:
        """Every item of an ARM list, following `nextLink` page by page (never the same link twice); `top`
        asks for pages that large, where the API documents `$top`. With `read_ahead` the next page is
        fetched while the caller works through this one (a long list costs its pages' latency, not
        latency plus the caller's work)."""
        pages = self._pages(collection_path, api_version, top)
        for page in (self._read_ahead(pages) if read_ahead else pages):
            yield from (item for item in page if isinstance(item, dict))

    def list_pages(self, collection_path: str, api_version: str, top: int | None = None) -> Iterator[Page]:
        """The pages of an ARM list, one at a time and in this thread (for a caller that counts or times them);
        a page's `more` says Resource Manager gave a nextLink."""
        return self._pages(collection_path, api_version, top)

    def _pages(self, collection_path: str, api_version: str, top: int | None) -> Iterator[Page]:
        from azure.core.exceptions import HttpResponseError

        url: str | None = self._url(collection_path, api_version) + (f"&$top={top}" if top else "")
        seen: set[str] = set()
        while url:
            if url in seen or len(seen) >= _MAX_PAGES:
                raise HttpResponseError(message=f"list of {collection_path} does not end (nextLink repeats)")
            seen.add(url)
            page = self._send(url)
            if not isinstance(page, dict):
                raise HttpResponseError(message=f"list of {collection_path} returned no JSON object")
            url = page.get("nextLink")
            yield Page(page.get("value") or [], more=bool(url))

    def _read_ahead(self, pages: Iterator[list[Any]]) -> Iterator[list[Any]]:
        """The pages, fetched one ahead in a thread of their own; its requests are counted as this thread's.
        A reader that stops early stops the fetching too."""
        ready: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=1)
        stopped = threading.Event()

        def hand_over(kind: str, value: Any) -> None:
            while not stopped.is_set():
                try:
                    return ready.put((kind, value), timeout=0.1)
                except queue.Full:
                    continue

        def fetch() -> None:
            before = self.thread_request_count
            try:
                for page in pages:
                    if stopped.is_set():
                        return
                    hand_over("page", page)
            except BaseException as error:  # noqa: BLE001 - handed to the reader, who raises it
                hand_over("error", error)
            finally:
                hand_over("requests", self.thread_request_count - before)

        threading.Thread(target=fetch, name="arm-read-ahead", daemon=True).start()
        failure: BaseException | None = None
        try:
            while (handed := ready.get())[0] != "requests":
                if handed[0] == "error":
                    failure = handed[1]
                else:
                    yield handed[1]
            self._per_thread.requests = self.thread_request_count + handed[1]
        finally:
            stopped.set()
        if failure is not None:
            raise failure

    def _url(self, path: str, api_version: str) -> str:
        return f"{self.settings.arm_endpoint}{path}?api-version={api_version}"

    def _send(self, url: str) -> Any:
        from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
        from azure.core.rest import HttpRequest
        from azure.mgmt.core.exceptions import ARMErrorFormat

        # nextLink is absolute; only follow it to the configured endpoint, judged as the transport parses it (the
        # pipeline's own check would refuse it too, after the retry policy; this names the list that sent it).
        if not same_origin(url, self.settings.arm_endpoint):
            raise HttpResponseError(message=f"refusing to follow a link outside {self.settings.arm_endpoint}")
        response = self._arm().send_request(HttpRequest("GET", url))
        if response.status_code == 404:
            raise ResourceNotFoundError(response=response, error_format=ARMErrorFormat)
        if response.status_code >= 400:
            raise HttpResponseError(response=response, error_format=ARMErrorFormat)
        return response.json() if response.text() else None

    def close(self) -> None:
        with self._lock:
            for client in self._clients.values():
                client.close()
            self._clients.clear()


class Page(list[Any]):
    """One page of a list's items; `more` when a nextLink follows it (an empty page may have one)."""

    def __init__(self, items: list[Any], more: bool = False) -> None:
        super().__init__(items)
        self.more = more


def _retry_policy() -> Any:
    """azure-core's RetryPolicy with `_RETRY`, except that a 429 does not use up the status retries: throttling is
    waited out for as long as `timeout` allows, failures are not."""
    from azure.core.pipeline.policies import RetryPolicy

    class ThrottledRetry(RetryPolicy):  # type: ignore[type-arg]
        def increment(self, settings: dict[str, Any], response: Any = None, error: Any = None) -> bool:
            throttled = getattr(getattr(response, "http_response", None), "status_code", None) == 429
            if throttled:
                settings["status"] += 1  # given back: RetryPolicy.increment takes one for every status retry
            return bool(super().increment(settings, response=response, error=error))

    return ThrottledRetry(**_RETRY)


def _pacing_policy(pacer: Pacer) -> list[Any]:
    """A per-try pipeline policy that holds a request back while the buckets it draws on run low, and reads the
    remaining counts of every answer (core/pacing.py); none when SELF_PACING is off."""
    from azure.core.pipeline.policies import SansIOHTTPPolicy

    if not SELF_PACING:
        return []

    class Pacing(SansIOHTTPPolicy):  # type: ignore[type-arg]
        def on_request(self, request: Any) -> None:
            http = request.http_request
            buckets, waited = buckets_for(http.method, str(http.url)), 0.0
            while waited < PACING_PATIENCE_SECONDS and (wait := pacer.wait(buckets)) > 0:
                time.sleep(wait)
                waited += wait

        def on_response(self, request: Any, response: Any) -> None:
            http, answer = request.http_request, response.http_response
            counted = answer.status_code != 429
            for bucket, remaining in reported(http.method, str(http.url), answer.headers.items()):
                pacer.observe(bucket, remaining, counted)

    return [Pacing()]


class ForeignUrlError(Exception):
    """A request for a URL outside the configured Resource Manager endpoint (a nextLink, a long-running operation's
    Azure-AsyncOperation or Location, a redirect): refused before it leaves, so the bearer token never goes there."""


def _origin_policy(endpoint: str) -> Any:
    """A pipeline policy that refuses any request whose origin (as the transport parses it) is not `endpoint`'s.

    azure-core's long-running-operation polling follows the Azure-AsyncOperation and Location headers as they come
    (azure-core 1.41.0 `azure/core/polling/base_polling.py`: `_set_async_url_if_present`, `request_status`), and
    the bearer token policy only insists on https; this is the one check of where the token goes."""
    from azure.core.pipeline.policies import SansIOHTTPPolicy

    class SameOrigin(SansIOHTTPPolicy):  # type: ignore[type-arg]
        def on_request(self, request: Any) -> None:
            url = str(request.http_request.url)
            if not same_origin(url, endpoint):
                raise ForeignUrlError(f"refusing to send a request outside {endpoint}: {url[:200]}")

    return SameOrigin()


def _counting_policy(count: Callable[[], None]) -> Any:
    """A pipeline policy that calls `count` for every request sent (retries and polls included)."""
    from azure.core.pipeline.policies import SansIOHTTPPolicy

    class CountRequests(SansIOHTTPPolicy):  # type: ignore[type-arg]
        def on_request(self, request: Any) -> None:
            count()

    return CountRequests()


def _jwt_claims(token: str) -> dict[str, Any]:
    """The payload of a JWT, unverified: only to learn our own IDs from a token we just received."""
    import base64
    import json

    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError):
        return {}
    return claims if isinstance(claims, dict) else {}


def error_code(error: BaseException) -> str:
    """ARM's error code of a failed call (lower-case), or ""."""
    return (getattr(getattr(error, "error", None), "code", None) or "").lower()


def error_message(error: BaseException) -> str:
    """ARM's error message of a failed call, or ""."""
    return str(getattr(getattr(error, "error", None), "message", None) or "")


def classify(error: BaseException) -> ErrorKind:
    """How to treat a failed call: its status and ARM's code, judged by `core.failures.error_kind`."""
    from azure.core.exceptions import HttpResponseError, ServiceRequestError, ServiceResponseError

    if isinstance(error, (ServiceRequestError, ServiceResponseError)):
        return ErrorKind.UNAVAILABLE
    if not isinstance(error, HttpResponseError):
        return ErrorKind.FAILED
    return error_kind(error.status_code or 0, error_code(error), error_message(error))


def describe(error: BaseException) -> str:
    """A one-line error for the audit record: ARM's code and message, never headers or tokens."""
    from azure.core.exceptions import HttpResponseError

    if isinstance(error, HttpResponseError):
        code = getattr(error.error, "code", None)
        message = getattr(error.error, "message", None) or error.reason or str(error).splitlines()[0]
        # A failed long-running operation's status comes from a 2xx poll: say "operation failed" instead.
        status = ("operation failed " if 200 <= (error.status_code or 0) < 300
                  else f"{error.status_code} " if error.status_code else "")
        return f"{status}{code + ': ' if code else ''}{message}"[:1000]
    return f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"[:1000]
