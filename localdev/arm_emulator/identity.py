"""App Service style managed identity endpoint (what IDENTITY_ENDPOINT/IDENTITY_HEADER point at).

azure-identity 1.27 hands this to MSAL's ManagedIdentityClient, which sends
GET ?api-version=2019-08-01&resource=<res>[&client_id=|mi_res_id=|object_id=] with X-IDENTITY-HEADER and
reads access_token + expires_on (epoch seconds); on failure it reports the body's statusCode and message.
"""
from __future__ import annotations

import hmac
from typing import TYPE_CHECKING, Any

from .handlers.base import Reply

if TYPE_CHECKING:
    from .emulator import ArmEmulator


def _error(status: int, message: str) -> Reply:
    return Reply(status, {"statusCode": status, "message": message,
                          "error": {"code": "BadRequest" if status == 400 else "Unauthorized", "message": message}})


def token_reply(emu: "ArmEmulator", query: dict[str, str], headers: dict[str, str]) -> Reply:
    secret = headers.get("x-identity-header")
    if secret is None:
        return _error(400, "The X-IDENTITY-HEADER header is missing.")
    if not hmac.compare_digest(secret, emu.identity_header):
        return _error(401, "The X-IDENTITY-HEADER header value is invalid.")
    resource = query.get("resource")
    if not resource:
        return _error(400, "The resource query parameter is required.")
    ident = emu.app_identity
    wanted: list[tuple[str, Any]] = [("client_id", ident.client_id), ("object_id", ident.object_id),
                                     ("principal_id", ident.object_id), ("mi_res_id", ident.mi_resource_id)]
    for param, value in wanted:
        if param in query and query[param].lower() != value.lower():
            return _error(400, f"Unable to load the proper Managed Identity. No identity with {param} "
                               f"'{query[param]}' is assigned to this app.")
    token, expires_on = emu.tokens.app_token(resource)
    return Reply(200, {"access_token": token, "expires_on": str(expires_on), "resource": resource,
                       "token_type": "Bearer", "client_id": ident.client_id})
