"""ArmEmulator: the object tests, the demo and the CLI start, query and steer."""
from __future__ import annotations

import json
import logging
import secrets
import ssl
import threading
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..tls_server import TLSServer, TlsService
from . import ids, locks, providers, rbac, registry
from . import seed as seeding
from .authorization import OWNER, Authorization
from .certs import ensure_certs
from .faults import Fault, FaultSet
from .locks import Locks
from .model import EmulatorConfig, RequestRecord, WriteEvent
from .names import LOCK_TYPE, PEC_TYPE
from .provider_limits import ProviderLimits
from .server import EmulatorHTTPServer
from .store import ResourceStore
from .throttling import Throttler
from .tokens import AppIdentity, TokenIssuer
from .world import World

log = logging.getLogger("localdev.arm_emulator")
DEFAULT_CERT_DIR = Path(".localdev/certs")
OPERATOR_MI_ID = ("/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-operators"
                  "/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-operator")


class ArmEmulator(TlsService):
    thread_name = "arm-emulator"

    def __init__(self, cert_dir: Path | str | None = None, port: int = 0, host: str = "127.0.0.1",
                 identity: AppIdentity | None = None) -> None:
        super().__init__(Path(cert_dir) if cert_dir is not None else DEFAULT_CERT_DIR, host, port)
        self.app_identity = identity or AppIdentity()
        # A second managed identity for a person's tools (the Azure CLI): its writes are not the app's.
        self.operator_identity = AppIdentity(tenant_id=self.app_identity.tenant_id, mi_resource_id=OPERATOR_MI_ID)
        self.identity_header = secrets.token_urlsafe(24)
        self.tokens = TokenIssuer(self.app_identity)
        self.config = EmulatorConfig()
        self.world = World(self.config)
        self.world.tenant_id = self.app_identity.tenant_id
        self.world.providers = providers.PROVIDERS
        self.world.catalog = registry
        self.faults = FaultSet()
        self._records: list[RequestRecord] = []
        self._records_lock = threading.Lock()
        self._write_request_ids: OrderedDict[str, None] = OrderedDict()  # recent writes' client request IDs
        self._callbacks: list[Callable[[WriteEvent], None]] = []
        self.throttler = Throttler(self.config)
        self.provider_limits = ProviderLimits(self.config)

    # -- lifecycle (TlsService) ------------------------------------------------------------------------
    def make_server(self, address: tuple[str, int], context: ssl.SSLContext) -> TLSServer:
        return EmulatorHTTPServer(address, self, context)

    def on_started(self) -> None:
        self.world.base_url = self.url

    # -- where and how to reach it -------------------------------------------------------------------
    @property
    def url(self) -> str:
        """https://host:port; on 443, https's default port, the port is left out as a client would."""
        return f"https://{self.host}" if self.port == 443 else f"https://{self.host}:{self.port}"

    @property
    def ca_path(self) -> str:
        if self._ca_path is None:
            self._ca_path = str(ensure_certs(self.cert_dir).ca_cert.resolve())
        return self._ca_path

    @property
    def identity_endpoint(self) -> str:
        return f"{self.url}/msi/token"

    def env(self) -> dict[str, str]:
        """Environment an app needs to reach this emulator through DefaultAzureCredential."""
        return {"REMEDIATION_ARM_ENDPOINT": self.url, "REQUESTS_CA_BUNDLE": self.ca_path,
                "IDENTITY_ENDPOINT": self.identity_endpoint, "IDENTITY_HEADER": self.identity_header,
                "AZURE_CLIENT_ID": self.app_identity.client_id}

    def identities(self) -> list[AppIdentity]:
        """The managed identities the token endpoint serves: the app's first, then the operator's."""
        return [self.app_identity, self.operator_identity]

    def audiences(self) -> set[str]:
        return {self.url.lower(), f"https://{self.host}:{self.port}".lower(), f"https://localhost:{self.port}",
                "https://management.azure.com", "https://management.core.windows.net"}

    def user_token(self, name: str = "Dana Admin", upn: str = "dana@contoso.example",
                   object_id: str | None = None) -> str:
        """Bearer token for a person (appid = Azure portal), for writes 'as a user'."""
        return self.tokens.user_token(self.url, name, upn, object_id)

    def app_token(self) -> str:
        return self.tokens.app_token(self.url)[0]

    # -- state ---------------------------------------------------------------------------------------
    @property
    def store(self) -> ResourceStore:
        return self.world.store

    def seed(self, scenario: dict[str, Any]) -> int:
        return seeding.seed(self.world, scenario)

    def seed_file(self, path: Path | str) -> int:
        return self.seed(json.loads(Path(path).read_text()))

    def reset(self) -> None:
        """Empty store, request log and faults; default config. Identity and callbacks stay."""
        self.world.clear()
        self.faults.clear()
        self.clear_requests()
        self.config.update(EmulatorConfig().to_dict())
        self.throttler.reset()
        self.provider_limits.reset()

    def resources(self, type: str | None = None) -> list[dict[str, Any]]:
        """Resources as a GET would return them (derived fields included)."""
        with self.world.lock:
            out = []
            for rid in self.store.ids(type=type):
                r = self.store.raw(rid)
                if r is not None:
                    out.append(self.render(r))
            return out

    def render(self, r: dict[str, Any]) -> dict[str, Any]:
        """A stored resource as a GET shows it (its type's spec, registry.render)."""
        return registry.render(self.world, r)

    def get(self, resource_id: str) -> dict[str, Any] | None:
        """Rendered resource (like an ARM GET, without moving LRO/settle counters)."""
        with self.world.lock:
            r = self.store.raw(resource_id)
            return self.render(r) if r is not None else None

    # -- request log ---------------------------------------------------------------------------------
    def record(self, rec: RequestRecord) -> None:
        with self._records_lock:
            self._records.append(rec)

    @property
    def requests(self) -> list[RequestRecord]:
        with self._records_lock:
            return list(self._records)

    def note_write_request(self, request_id: str | None) -> None:
        if not request_id:
            return
        with self._records_lock:
            self._write_request_ids[request_id] = None
            while len(self._write_request_ids) > 10_000:
                self._write_request_ids.popitem(last=False)

    def follows_write(self, request_id: str | None) -> bool:
        """True for a GET that continues a write (azure-core reuses x-ms-client-request-id while polling)."""
        with self._records_lock:
            return bool(request_id) and request_id in self._write_request_ids

    def clear_requests(self) -> None:
        with self._records_lock:
            self._records.clear()

    # -- the stages of a request that model Resource Manager's own rules -------------------------------
    def throttle(self, claims: dict[str, Any] | None, method: str, arm: ids.ArmPath) -> dict[str, str]:
        """Spend a token of the caller's buckets (throttling.py): the remaining-quota headers for the answer,
        or ArmError(429) SubscriptionRequestsThrottled with Retry-After when a bucket is empty."""
        principal = (claims or {}).get("oid")
        return self.throttler.take(arm.subscription or None, principal, method)

    def limit_provider(self, method: str, req: Any, headers: dict[str, str]) -> dict[str, str]:
        """Spend a token of the provider's own bucket (provider_limits.py) once Resource Manager let the request
        through: `headers` with the provider's remaining count added, or ArmError(429)."""
        return {**headers, **self.provider_limits.take(method, req.arm, registry.location_of(self.world, req))}

    @property
    def rbac(self) -> Authorization:
        """Role definitions and assignments (`emu.rbac.define(...)`, `emu.rbac.assign(...)`)."""
        return self.world.rbac

    @property
    def locks(self) -> Locks:
        """Management locks (`emu.locks.put(...)`, `emu.locks.all()`; locks.py)."""
        return self.world.locks

    def authorize(self, claims: dict[str, Any] | None, method: str, req: Any, kind: str) -> None:
        """Raise ArmError(403) when the caller may not make this request, with `config.enforce_rbac` on.

        Every token is subject to it by its `oid`; a request without a token (only when `require_auth` is off)
        has no principal to authorize. Operation-status polls pass (see authorization.py)."""
        if not self.config.enforce_rbac or not claims or registry.is_poll(req):
            return
        spec = registry.spec_of(req.arm.type)
        filtered = spec is not None and spec.filtered and req.arm.is_collection
        self.world.rbac.authorize(claims, registry.primary_action(method, req.arm),
                                  rbac.request_scope(req.path, req.arm),
                                  registry.linked_checks(method, req.arm, req.body), or_below=filtered)
        if filtered:
            oid = str(claims.get("oid") or "")
            req.can = lambda action, scope: self.world.rbac.allowed(oid, action, scope)

    def check_locks(self, method: str, req: Any) -> None:
        """Raise 409 ScopeLocked when a lock over the request's scope refuses it (locks.py): ReadOnly refuses
        PUT, PATCH and POST, either level refuses DELETE. Reads, operation polls and lock writes pass."""
        if method not in ("PUT", "PATCH", "POST", "DELETE") or registry.is_poll(req):
            return
        kind = req.arm.type.lower()
        if kind == LOCK_TYPE.lower() or (kind == PEC_TYPE.lower() and not self.config.lock_connection_approval):
            return
        target = locks.request_target(method, req.path, req.arm.is_collection)
        refusal = self.world.locks.refusal(target, "delete" if method == "DELETE" else "write")
        if refusal is not None:
            raise refusal

    def lock(self, scope: str, level: str = "ReadOnly", name: str = "lock", notes: str | None = None) -> dict[str, Any]:
        """Put a management lock at `scope` (as `PUT <scope>/providers/Microsoft.Authorization/locks/<name>`
        would, without authorization); returns its ARM body."""
        lock_level, lock_notes, _ = locks.validate(name, {"properties": {"level": level, "notes": notes}})
        made, _ = self.world.locks.put(f"{scope.rstrip('/')}/providers/{LOCK_TYPE}/{name}", lock_level, lock_notes)
        return made.to_arm()

    def grant_owner(self, principal_id: str, scopes: list[str], principal_type: str = "User") -> None:
        """The built-in Owner role (`*`) for a person at each scope: what someone writing "in the portal" holds."""
        for scope in scopes:
            self.world.rbac.assign(principal_id, OWNER, scope, principal_type=principal_type)

    # -- faults and hooks ----------------------------------------------------------------------------
    def add_fault(self, fault: Fault) -> None:
        self.faults.add(fault)

    def clear_faults(self) -> None:
        self.faults.clear()

    def on_write(self, callback: Callable[[WriteEvent], None]) -> None:
        """Call callback(WriteEvent) for every accepted write, before the response is sent.

        Runs on the request thread: keep it quick and hand slow work (event delivery) to another thread.
        """
        self._callbacks.append(callback)

    def off_write(self, callback: Callable[[WriteEvent], None]) -> None:
        """Stop calling a callback given to on_write."""
        if callback in self._callbacks:
            self._callbacks.remove(callback)

    def emit_write(self, event: WriteEvent) -> None:
        for cb in list(self._callbacks):
            try:
                cb(event)
            except Exception:
                log.exception("on_write callback failed")


__all__ = ["ArmEmulator", "Fault", "EmulatorConfig", "AppIdentity", "RequestRecord", "WriteEvent", "ids"]
