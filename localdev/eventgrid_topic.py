"""A local Event Grid custom topic over HTTPS: what `EventGridPublisherClient` publishes to.

    with ArmEmulator(cert_dir=d) as emu, LocalTopic(d, emulator=emu) as topic:
        client = EventGridPublisherClient(topic.endpoint, DefaultAzureCredential())   # env from emu.env()
        client.send(EventGridEvent(...)); topic.events -> [{...}]

It serves the emulator's certificate (same CA, so `REQUESTS_CA_BUNDLE=emu.ca_path` trusts both) and
behaves like a basic topic's publish endpoint `POST /api/events?api-version=2018-01-01`:
- Entra ID auth: `Authorization: Bearer <token>` whose `aud` is `https://eventgrid.azure.net` (the SDK asks
  for scope `https://eventgrid.azure.net/.default`). With `emulator=` the token's signature and expiry are
  checked by the emulator's issuer; without it the payload is decoded unverified (expiry still checked).
  Optionally an access key (`aeg-sas-key`) when `key=` is given. Otherwise 401.
- Event Grid schema (`application/json`, an array) or CloudEvents 1.0 (`application/cloudevents+json`, one
  event; `application/cloudevents-batch+json`, an array). Required fields are checked (400).
- 200 with an empty body on success; 400 invalid JSON or events; 413 for a body over 1 MB.
Received events are kept in `events` (a copy; thread-safe), with `topic` stamped like Event Grid does.
"""
from __future__ import annotations

import base64
import json
import logging
import ssl
import threading
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from localdev.tls_server import TLSRequestHandler, TLSServer, TlsService

log = logging.getLogger("localdev.eventgrid_topic")

EVENTGRID_AUDIENCE = "https://eventgrid.azure.net"
MAX_BODY = 1024 * 1024
DEFAULT_TOPIC_ID = ("/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-localdev"
                    "/providers/Microsoft.EventGrid/topics/localdev")
_EG_REQUIRED = ("id", "subject", "eventType", "eventTime")
_CE_REQUIRED = ("id", "source", "type", "specversion")


class TopicError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def unverified_claims(token: str) -> dict[str, Any]:
    """The JWT payload, signature not checked (the emulator's tokens are HS256 with its own secret)."""
    parts = token.split(".")
    if len(parts) != 3:
        raise ValueError("not a JWT")
    claims = json.loads(_unb64(parts[1]))
    if not isinstance(claims, dict):
        raise ValueError("JWT payload is not an object")
    return claims


class LocalTopic(TlsService):
    thread_name = "eventgrid-topic"

    def __init__(self, cert_dir: Path | str, port: int = 0, host: str = "127.0.0.1", *,
                 emulator: Any = None, key: str | None = None, topic_id: str = DEFAULT_TOPIC_ID,
                 max_body: int = MAX_BODY) -> None:
        super().__init__(Path(cert_dir), host, port)
        self.emulator = emulator
        self.key = key
        self.topic_id = topic_id
        self.max_body = max_body
        self._events: list[dict[str, Any]] = []
        self._requests: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    # -- lifecycle (TlsService) --------------------------------------------------------------------------
    def make_server(self, address: tuple[str, int], context: ssl.SSLContext) -> TLSServer:
        return _TopicServer(address, self, context)

    @property
    def ca_path(self) -> str | None:
        """The CA that signed the topic's certificate (None until started)."""
        return self._ca_path

    @property
    def endpoint(self) -> str:
        return f"https://{self.host}:{self.port}/api/events"

    # -- what was received -------------------------------------------------------------------------------
    @property
    def events(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._events)

    @property
    def requests(self) -> list[dict[str, Any]]:
        """Every publish attempt: status, api-version, content type, caller (appid/oid), event count."""
        with self._lock:
            return list(self._requests)

    def clear(self) -> None:
        with self._lock:
            self._events.clear()
            self._requests.clear()

    def wait_for(self, count: int, timeout: float = 10) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.events) >= count:
                return True
            time.sleep(0.02)
        return len(self.events) >= count

    # -- request handling (called from the server's threads) ---------------------------------------------
    def _authenticate(self, headers: dict[str, str]) -> dict[str, Any]:
        if self.key is not None and "aeg-sas-key" in headers:
            if headers["aeg-sas-key"] != self.key:
                raise TopicError(401, "Unauthorized", "The request authorization key is not authorized.")
            return {"auth": "key"}
        auth = headers.get("authorization", "")
        token = auth[7:].strip() if auth.lower().startswith("bearer ") else ""
        if not token:
            raise TopicError(401, "Unauthorized", "The request authorization header is missing or invalid. "
                                                  "Use an Entra ID bearer token for https://eventgrid.azure.net.")
        if self.emulator is not None:
            from localdev.arm_emulator.tokens import TokenError
            try:
                return dict(self.emulator.tokens.verify(token, {EVENTGRID_AUDIENCE}))
            except TokenError as e:
                raise TopicError(401, "Unauthorized", e.message) from None
        try:
            claims = unverified_claims(token)
        except Exception:  # noqa: BLE001 - any token that does not decode is refused as Event Grid refuses it
            raise TopicError(401, "Unauthorized", "The access token is invalid.") from None
        if str(claims.get("aud", "")).rstrip("/").lower() != EVENTGRID_AUDIENCE:
            raise TopicError(401, "Unauthorized", f"The access token audience '{claims.get('aud')}' is not "
                                                  f"valid; expected '{EVENTGRID_AUDIENCE}'.")
        if float(claims.get("exp", 0)) < time.time():
            raise TopicError(401, "Unauthorized", "The access token has expired.")
        return claims

    def _parse(self, content_type: str, raw: bytes) -> list[dict[str, Any]]:
        try:
            body = json.loads(raw)
        except ValueError:
            raise TopicError(400, "BadRequest", "The request body is not valid JSON.") from None
        ctype = content_type.split(";")[0].strip().lower()
        cloud_single = ctype == "application/cloudevents+json"
        if cloud_single:
            events = [body] if isinstance(body, dict) else body
        else:
            if not isinstance(body, list):
                raise TopicError(400, "BadRequest", "The request body must be an array of events.")
            events = body
        if not events or not all(isinstance(e, dict) for e in events):
            raise TopicError(400, "BadRequest", "The request body must contain at least one event object.")
        cloud = ctype.startswith("application/cloudevents") or all("specversion" in e for e in events)
        required = _CE_REQUIRED if cloud else _EG_REQUIRED
        for i, e in enumerate(events):
            missing = [f for f in required if e.get(f) in (None, "") and not (f == "subject" and f in e)]
            if missing:
                raise TopicError(400, "BadRequest", f"Event {i}: required property '{missing[0]}' is missing.")
            if cloud and e.get("specversion") != "1.0":
                raise TopicError(400, "BadRequest", f"Event {i}: specversion must be '1.0'.")
        stamped = []
        for e in events:
            e = dict(e)
            if cloud:
                e.setdefault("source", self.topic_id)
            else:
                e["topic"] = e.get("topic") or self.topic_id
                e.setdefault("dataVersion", "")
                e.setdefault("metadataVersion", "1")
            stamped.append(e)
        return stamped

    def handle_post(self, path: str, query: dict[str, str], headers: dict[str, str], raw: bytes | None,
                    length: int) -> tuple[int, dict[str, Any] | None]:
        record: dict[str, Any] = {"path": path, "api_version": query.get("api-version"),
                                  "content_type": headers.get("content-type"), "length": length, "count": 0}
        try:
            if path.rstrip("/").lower() != "/api/events":
                raise TopicError(404, "NotFound", f"The path '{path}' was not found.")
            claims = self._authenticate(headers)
            record["caller"] = {k: claims[k] for k in ("appid", "oid", "aud") if k in claims}
            if raw is None:
                raise TopicError(413, "PayloadTooLarge",
                                 f"The maximum size ({self.max_body}) has been exceeded.")
            if not query.get("api-version"):
                raise TopicError(400, "BadRequest", "The api-version query parameter is required.")
            events = self._parse(headers.get("content-type", "application/json"), raw)
        except TopicError as e:
            record["status"] = e.status
            with self._lock:
                self._requests.append(record)
            return e.status, {"error": {"code": e.code, "message": e.message}}
        record["status"] = 200
        record["count"] = len(events)
        with self._lock:
            self._events.extend(events)
            self._requests.append(record)
        return 200, None


class _TopicServer(TLSServer):
    def __init__(self, addr: tuple[str, int], topic: LocalTopic, ctx: ssl.SSLContext) -> None:
        self.topic = topic
        super().__init__(addr, _Handler, ctx)


class _Handler(TLSRequestHandler):
    server: _TopicServer

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s - %s", self.address_string(), format % args)

    def do_POST(self) -> None:
        split = urlsplit(self.path)
        query = dict(parse_qsl(split.query, keep_blank_values=True))
        headers = {k.lower(): v for k, v in self.headers.items()}
        try:
            length = int(headers.get("content-length") or 0)
        except ValueError:
            length = -1
        if length < 0:
            return self._answer(400, {"error": {"code": "BadRequest", "message": "Invalid Content-Length."}})
        limit = self.server.topic.max_body
        raw: bytes | None
        if length > limit:
            self._discard(length)
            raw = None
        else:
            raw = self.rfile.read(length) if length else b""
        status, body = self.server.topic.handle_post(split.path, query, headers, raw, length)
        self._answer(status, body)

    def do_GET(self) -> None:
        self._answer(405, {"error": {"code": "MethodNotAllowed", "message": "Only POST is supported."}})

    do_PUT = do_DELETE = do_PATCH = do_GET

    def _discard(self, length: int) -> None:
        left = length
        while left > 0:
            chunk = self.rfile.read(min(left, 65536))
            if not chunk:
                break
            left -= len(chunk)

    def _answer(self, status: int, body: dict[str, Any] | None) -> None:
        payload = json.dumps(body).encode() if body is not None else b""
        self.send_response(status)
        self.send_header("x-ms-request-id", str(uuid.uuid4()))
        if payload:
            self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if payload:
            self.wfile.write(payload)


__all__ = ["LocalTopic", "EVENTGRID_AUDIENCE", "unverified_claims"]
