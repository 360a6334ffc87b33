"""HTTPS front door: parse, authenticate, inject faults, dispatch, log, answer like Resource Manager."""
from __future__ import annotations

import json
import logging
import socket
import ssl
import time
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from ..tls_server import TLSRequestHandler, TLSServer
from . import ids, pace, registry
from .admin import handle_admin
from .errors import ArmError
from .identity import token_reply
from .messages import Reply, Req, add_retry_after
from .model import RequestRecord, WriteEvent, utcnow
from .protocols import Emulator
from .provider_limits import DNS_HEADER
from .throttling import operation_type
from .tokens import TokenError

log = logging.getLogger("localdev.arm_emulator")
CALLER_KEYS = ("oid", "appid", "name", "upn")
# Request headers kept in the log: conditions that change what a write means (never credentials).
RECORDED_HEADERS = ("if-match", "if-none-match", "x-ms-client-request-id")


class _Dropped(Exception):
    """The connection was closed without an answer (an injected reset)."""


@dataclass
class Incoming:
    """One request as the stages see it; each stage fills in what it learns."""

    path: str
    query: dict[str, str]
    headers: dict[str, str]  # lower-case names
    correlation: str
    body: Any = None
    body_error: bool = False
    kind: str = "read"  # "token" | "read" | "write" | "poll"
    req: Req | None = None  # None: not a Resource Manager path
    claims: dict[str, Any] | None = None
    actions: tuple[str, ...] = ()  # RBAC: the request's own action, then its linked checks
    linked: list[tuple[str, str]] = field(default_factory=list)  # (linked action, resource it is checked on)
    operation: str | None = None  # "<type>/write|delete" once a write was accepted
    fault: bool = False
    ratelimit: dict[str, str] = field(default_factory=dict)  # remaining-quota headers from throttling


class EmulatorHTTPServer(TLSServer):
    def __init__(self, addr: tuple[str, int], emu: Emulator, ctx: ssl.SSLContext) -> None:
        self.emu = emu
        super().__init__(addr, RequestHandler, ctx)


class RequestHandler(TLSRequestHandler):
    server: EmulatorHTTPServer

    def log_message(self, format: str, *args: Any) -> None:  # quiet by default; the request log has it all
        log.debug("%s - %s", self.address_string(), format % args)

    def do_GET(self) -> None:
        self._serve()

    do_PUT = do_PATCH = do_DELETE = do_POST = do_HEAD = do_GET

    # -------------------------------------------------------------------------------------------------
    # One request, in the order Resource Manager handles it: read, authenticate, (injected faults),
    # validate, throttle, authorize, dispatch to the provider, then headers, log and the write's event.
    # Each stage is one method; the throttling and authorization stages ask the emulator (`emu.throttle`,
    # `emu.authorize`), so their models live in modules of their own.

    def _serve(self) -> None:
        emu = self.server.emu
        incoming = self._read()
        if incoming.path.startswith("/_emulator/"):
            if self.client_address[0] not in ("127.0.0.1", "::1"):
                return self._send(Reply(403, {"error": {"code": "Forbidden", "message": "loopback only"}}),
                                  incoming.correlation)
            return self._send(handle_admin(emu, self.command, incoming.path, incoming.query, incoming.body),
                              incoming.correlation)
        try:
            reply = self._answer(incoming)
        except _Dropped:
            return
        add_retry_after(reply, incoming.kind, pace.retry_after(emu.config, reply.lro))
        self._add_ratelimit(reply, incoming)
        self._record(incoming, reply.status)
        if incoming.operation is not None and incoming.req is not None:
            emu.emit_write(WriteEvent(
                operation_name=incoming.operation, resource_id=reply.resource_id or incoming.req.arm.resource_id,
                method=self.command, status=reply.status, caller_claims=dict(incoming.claims or {}),
                correlation_id=incoming.correlation, time=utcnow(), url=f"{emu.url}{self.path}",
                client_ip=self.client_address[0], api_version=incoming.req.api_version,
                request_body=incoming.body))
        self._send(reply, incoming.correlation)

    def _read(self) -> Incoming:
        """Parse the request line, headers and body, and classify it (token, read, write, poll)."""
        emu = self.server.emu
        split = urlsplit(self.path)
        headers = {k.lower(): v for k, v in self.headers.items()}
        length = int(headers.get("content-length") or 0)
        raw = self.rfile.read(length) if length else b""
        incoming = Incoming(path=split.path, query=dict(parse_qsl(split.query, keep_blank_values=True)),
                            headers=headers,
                            correlation=headers.get("x-ms-correlation-request-id") or str(uuid.uuid4()))
        if raw.strip():
            try:
                incoming.body = json.loads(raw)
            except ValueError:
                incoming.body_error = True
        if incoming.path.rstrip("/").lower() == "/msi/token":
            incoming.kind = "token"
            return incoming
        arm = ids.parse_path(incoming.path)
        if arm is None:
            return incoming
        incoming.req = Req(self.command, incoming.path, incoming.query, headers, incoming.body,
                           incoming.query.get("api-version"), arm)
        request_id = headers.get("x-ms-client-request-id")
        if registry.is_poll(incoming.req):
            incoming.kind = "poll"
        elif self.command in ("PUT", "PATCH", "DELETE", "POST"):
            incoming.kind = "write"
            emu.note_write_request(request_id)
        elif emu.follows_write(request_id):
            incoming.kind = "poll"  # the SDK's final GET of a long-running operation reuses the write's request ID
        if not registry.is_poll(incoming.req):  # the final GET of an operation is authorized like any read
            primary = registry.primary_action(self.command, arm)
            incoming.linked = [(c.action, c.scope) for c in registry.linked_checks(self.command, arm, incoming.body)]
            incoming.actions = tuple(a for a in (primary, *(action for action, _ in incoming.linked)) if a)
        return incoming

    def _answer(self, incoming: Incoming) -> Reply:
        """The reply to an ARM or token request; ArmError becomes ARM's error body."""
        emu = self.server.emu
        try:
            if incoming.kind == "token":
                return token_reply(emu, incoming.query, incoming.headers)
            if emu.config.latency_ms:  # Resource Manager's own time per request (EmulatorConfig.latency_ms)
                time.sleep(float(emu.config.latency_ms) / 1000.0)
            incoming.claims = self._authenticate(incoming.headers)
            self._inject_fault(incoming)
            req = self._validate(incoming)
            incoming.ratelimit = emu.throttle(incoming.claims, self.command, req.arm) or {}
            emu.authorize(incoming.claims, self.command, req, incoming.kind)
            emu.check_locks(self.command, req)
            incoming.ratelimit = emu.limit_provider(self.command, req, incoming.ratelimit)
            handler = registry.lookup(req)
            with emu.world.lock:
                reply = handler(emu.world, req)
            if reply.delay_s:  # a provider that answers synchronously but slowly (pace.py)
                time.sleep(reply.delay_s)
            if incoming.kind == "write" and 200 <= reply.status < 300:
                verb = "delete" if self.command == "DELETE" else "write"
                incoming.operation = f"{req.arm.type}/{verb}"
            return reply
        except ArmError as e:
            reply = Reply(e.status, e.body(), dict(e.headers))
            if e.status == 401:
                reply.headers["WWW-Authenticate"] = (
                    'Bearer authorization_uri="https://login.microsoftonline.com/common", error="invalid_token", '
                    f'error_description="{e.message}"')
            return reply
        except _Dropped:
            raise
        except Exception as e:  # a bug in a handler must still answer like ARM, and be visible
            log.exception("emulator handler failed")
            return Reply(500, {"error": {"code": "InternalServerError", "message": f"{type(e).__name__}: {e}"}})

    def _inject_fault(self, incoming: Incoming) -> None:
        """Faults a test asked for: a delay, a dropped connection, or an error instead of the answer."""
        fault = self.server.emu.faults.take(self.command, incoming.path, incoming.kind, incoming.body)
        if fault is None:
            return
        incoming.fault = True
        if fault.delay_s:
            time.sleep(fault.delay_s)
        if fault.reset:
            self._record(incoming, 0)
            self._drop()
            raise _Dropped()
        if fault.status is not None:
            raise ArmError(fault.status, fault.error_code(), fault.error_message(), self._fault_headers(fault))

    def _validate(self, incoming: Incoming) -> Req:
        if incoming.req is None:
            raise ArmError(404, "InvalidRequestUri",
                           f"The request URI '{incoming.path}' is not a valid Resource Manager URI.")
        if incoming.body_error:
            raise ArmError(400, "InvalidRequestContent",
                           "The request content was invalid and could not be deserialized.")
        if not incoming.req.api_version:
            raise ArmError(400, "MissingApiVersionParameter",
                           "The api-version query parameter (?api-version=) is required for all requests.")
        registry.check_api_version(self.server.emu.world, incoming.req)
        return incoming.req

    def _authenticate(self, headers: dict[str, str]) -> dict[str, Any] | None:
        emu = self.server.emu
        auth = headers.get("authorization", "")
        token = auth[7:].strip() if auth.lower().startswith("bearer ") else ""
        if not token:
            if emu.config.require_auth:
                raise ArmError(401, "AuthenticationFailed",
                               "Authentication failed. The 'Authorization' header is missing.")
            return None
        try:
            return emu.tokens.verify(token, emu.audiences())
        except TokenError as e:
            if emu.config.require_auth:
                raise ArmError(401, "AuthenticationFailed" if e.code == "InvalidAuthenticationToken" else e.code,
                               f"Authentication failed. {e.message}") from None
            return None

    def _fault_headers(self, fault: Any) -> dict[str, str]:
        h = dict(fault.headers or {})
        if fault.status == 429:
            h.setdefault(f"x-ms-ratelimit-remaining-subscription-{operation_type(self.command)}", "0")
        return h

    def _add_ratelimit(self, reply: Reply, incoming: Incoming) -> None:
        """The remaining-quota headers throttling computed, on every answer to a request it counted. A provider
        that keeps its own count (Private DNS) has it sent instead of Resource Manager's (provider_limits.py)."""
        present = {k.lower() for k in reply.headers}
        instead = DNS_HEADER in present or DNS_HEADER in incoming.ratelimit
        for name, value in incoming.ratelimit.items():
            if name.lower() not in present and (not instead or name == DNS_HEADER):
                reply.headers[name] = value

    def _record(self, incoming: Incoming, status: int) -> None:
        claims = incoming.claims
        caller = {k: claims[k] for k in CALLER_KEYS if k in claims} if claims else None
        self.server.emu.record(RequestRecord(
            method=self.command, path=incoming.path, query=incoming.query,
            api_version=incoming.query.get("api-version"), status=status, request_body=incoming.body,
            caller=caller, time=utcnow(), operation=incoming.operation, kind=incoming.kind,
            correlation_id=incoming.correlation, fault=incoming.fault,
            headers={k: v for k, v in incoming.headers.items() if k in RECORDED_HEADERS},
            actions=incoming.actions, linked_operations=tuple(a for a, _ in incoming.linked),
            linked_scopes=tuple(scope for _, scope in incoming.linked)))

    def _drop(self) -> None:
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def _send(self, reply: Reply, correlation: str) -> None:
        payload = b"" if reply.body is None or reply.status == 204 else json.dumps(reply.body).encode()
        self.send_response(reply.status)
        self.send_header("x-ms-request-id", str(uuid.uuid4()))
        self.send_header("x-ms-correlation-request-id", correlation)
        if payload:
            self.send_header("Content-Type", "application/json; charset=utf-8")
        for k, v in reply.headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if payload and self.command != "HEAD":
            self.wfile.write(payload)
