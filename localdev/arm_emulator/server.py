"""HTTPS front door: parse, authenticate, inject faults, dispatch, log, answer like Resource Manager."""
from __future__ import annotations

import json
import logging
import socket
import ssl
import time
import uuid
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

from . import handlers, ids, rbac
from .errors import ArmError
from .handlers.base import Reply, Req
from .model import RequestRecord, WriteEvent, utcnow
from .tokens import TokenError
from ..tls_server import TLSRequestHandler, TLSServer

if TYPE_CHECKING:
    from .emulator import ArmEmulator

log = logging.getLogger("localdev.arm_emulator")
CALLER_KEYS = ("oid", "appid", "name", "upn")
# Request headers kept in the log: conditions that change what a write means (never credentials).
RECORDED_HEADERS = ("if-match", "if-none-match", "x-ms-client-request-id")


class EmulatorHTTPServer(TLSServer):
    def __init__(self, addr: tuple[str, int], emu: "ArmEmulator", ctx: ssl.SSLContext) -> None:
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
    def _serve(self) -> None:
        emu = self.server.emu
        split = urlsplit(self.path)
        path = split.path
        query = dict(parse_qsl(split.query, keep_blank_values=True))
        headers = {k.lower(): v for k, v in self.headers.items()}
        length = int(headers.get("content-length") or 0)
        raw = self.rfile.read(length) if length else b""
        correlation = headers.get("x-ms-correlation-request-id") or str(uuid.uuid4())
        body: Any = None
        body_error = False
        if raw.strip():
            try:
                body = json.loads(raw)
            except ValueError:
                body_error = True

        if path.startswith("/_emulator/"):
            if self.client_address[0] not in ("127.0.0.1", "::1"):
                return self._send(Reply(403, {"error": {"code": "Forbidden", "message": "loopback only"}}), correlation)
            from .admin import handle_admin
            return self._send(handle_admin(emu, self.command, path, query, body), correlation)

        if path.rstrip("/").lower() == "/msi/token":
            kind = "token"
        else:
            arm = ids.parse_path(path)
            kind = "read"
            if arm is not None:
                req = Req(self.command, path, query, headers, body, query.get("api-version"), arm)
                request_id = self.headers.get("x-ms-client-request-id")
                if handlers.is_poll(req):
                    kind = "poll"
                elif self.command in ("PUT", "PATCH", "DELETE", "POST"):
                    kind = "write"
                    emu.note_write_request(request_id)
                elif emu.follows_write(request_id):
                    kind = "poll"  # the SDK's final GET of a long-running operation reuses the write's request ID

        rbac_actions: tuple[str, ...] = ()
        linked: list[tuple[str, str]] = []
        if kind != "token" and arm is not None and not handlers.is_poll(req):
            primary = rbac.primary_action(self.command, arm)
            linked = rbac.linked_actions(self.command, arm, body)
            rbac_actions = tuple(a for a in (primary, *(action for action, _ in linked)) if a)

        caller_claims: dict[str, Any] | None = None
        reply: Reply
        operation: str | None = None
        fault_hit = False
        try:
            if kind == "token":
                from .identity import token_reply
                reply = token_reply(emu, query, headers)
            else:
                caller_claims = self._authenticate(headers)
                fault = emu.faults.take(self.command, path, kind)
                if fault is not None:
                    fault_hit = True
                    if fault.delay_s:
                        time.sleep(fault.delay_s)
                    if fault.reset:
                        self._record(path, query, kind, 0, body, caller_claims, None, correlation, True,
                                     rbac_actions, linked)
                        self._drop()
                        return
                    if fault.status is not None:
                        raise ArmError(fault.status, fault.error_code(), fault.error_message(), self._fault_headers(fault))
                if arm is None:
                    raise ArmError(404, "InvalidRequestUri", f"The request URI '{path}' is not a valid Resource Manager URI.")
                if body_error:
                    raise ArmError(400, "InvalidRequestContent",
                                   "The request content was invalid and could not be deserialized.")
                if not req.api_version:
                    raise ArmError(400, "MissingApiVersionParameter",
                                   "The api-version query parameter (?api-version=) is required for all requests.")
                handler = handlers.lookup(req)
                with emu.world.lock:
                    reply = handler(emu.world, req)
                if kind == "write" and 200 <= reply.status < 300:
                    verb = "delete" if self.command == "DELETE" else "write"
                    operation = f"{arm.type}/{verb}"
        except ArmError as e:
            reply = Reply(e.status, e.body(), dict(e.headers))
            if e.status == 401:
                reply.headers["WWW-Authenticate"] = (
                    'Bearer authorization_uri="https://login.microsoftonline.com/common", error="invalid_token", '
                    f'error_description="{e.message}"')
        except Exception as e:  # a bug in a handler must still answer like ARM, and be visible
            log.exception("emulator handler failed")
            reply = Reply(500, {"error": {"code": "InternalServerError", "message": f"{type(e).__name__}: {e}"}})

        self._add_ratelimit(reply, kind, arm if kind != "token" else None)
        self._record(path, query, kind, reply.status, body, caller_claims, operation, correlation, fault_hit,
                     rbac_actions, linked)
        if operation is not None:
            event = WriteEvent(operation_name=operation, resource_id=reply.resource_id or arm.resource_id,
                               method=self.command, status=reply.status, caller_claims=dict(caller_claims or {}),
                               correlation_id=correlation, time=utcnow(), url=f"{emu.url}{self.path}",
                               client_ip=self.client_address[0], api_version=req.api_version, request_body=body)
            emu._emit_write(event)
        self._send(reply, correlation)

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
            which = "reads" if self.command == "GET" else "writes"
            h.setdefault(f"x-ms-ratelimit-remaining-subscription-{which}", "0")
        return h

    def _add_ratelimit(self, reply: Reply, kind: str, arm: Any) -> None:
        if kind not in ("read", "write") or arm is None:
            return
        which = "reads" if self.command == "GET" else "writes"
        name = f"x-ms-ratelimit-remaining-subscription-{which}"
        if not any(k.lower() == name for k in reply.headers):
            reply.headers[name] = str(self.server.emu.ratelimit_remaining(arm.subscription, which))

    def _record(self, path: str, query: dict[str, str], kind: str, status: int, body: Any,
                claims: dict[str, Any] | None, operation: str | None, correlation: str, fault: bool,
                actions: tuple[str, ...] = (), linked: list[tuple[str, str]] | None = None) -> None:
        caller = {k: claims[k] for k in CALLER_KEYS if k in claims} if claims else None
        self.server.emu._record(RequestRecord(
            method=self.command, path=path, query=query, api_version=query.get("api-version"), status=status,
            request_body=body, caller=caller, time=utcnow(), operation=operation, kind=kind,
            correlation_id=correlation, fault=fault,
            headers={k.lower(): v for k, v in self.headers.items() if k.lower() in RECORDED_HEADERS},
            actions=actions, linked_operations=tuple(a for a, _ in linked or ()),
            linked_scopes=tuple(scope for _, scope in linked or ())))

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
