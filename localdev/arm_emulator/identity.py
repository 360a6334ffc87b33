"""App Service style managed identity endpoint (what IDENTITY_ENDPOINT/IDENTITY_HEADER point at).

azure-identity 1.27 hands this to MSAL's ManagedIdentityClient, which sends
GET ?api-version=2019-08-01&resource=<res>[&client_id=|mi_res_id=|object_id=] with X-IDENTITY-HEADER and
reads access_token + expires_on (epoch seconds); on failure it reports the body's statusCode and message.

The endpoint serves every identity "assigned to the app" (`emu.identities()`): without a selector the
app's own, else the one whose client_id / object_id / mi_res_id matches. Besides the app's identity the
emulator has an operator identity, the stand-in for a person at a terminal (`az login --identity
--client-id <operator client id>`), so a person's writes are not the app's own.
"""
from __future__ import annotations

import hmac
from collections.abc import Callable

from .messages import Reply
from .protocols import Emulator
from .tokens import AppIdentity


def _error(status: int, message: str) -> Reply:
    return Reply(status, {"statusCode": status, "message": message,
                          "error": {"code": "BadRequest" if status == 400 else "Unauthorized", "message": message}})


# Query parameters that pick a user-assigned identity, and what each is matched against.
_SELECTORS: dict[str, Callable[[AppIdentity], str]] = {
    "client_id": lambda i: i.client_id, "object_id": lambda i: i.object_id, "principal_id": lambda i: i.object_id,
    "mi_res_id": lambda i: i.mi_resource_id}


def token_reply(emu: Emulator, query: dict[str, str], headers: dict[str, str]) -> Reply:
    secret = headers.get("x-identity-header")
    if secret is None:
        return _error(400, "The X-IDENTITY-HEADER header is missing.")
    if not hmac.compare_digest(secret, emu.identity_header):
        return _error(401, "The X-IDENTITY-HEADER header value is invalid.")
    resource = query.get("resource")
    if not resource:
        return _error(400, "The resource query parameter is required.")
    ident = emu.app_identity
    for param in _SELECTORS:
        if param in query:
            chosen = next((i for i in emu.identities() if query[param].lower() == _SELECTORS[param](i).lower()), None)
            if chosen is None:
                return _error(400, f"Unable to load the proper Managed Identity. No identity with {param} "
                                   f"'{query[param]}' is assigned to this app.")
            ident = chosen
    token, expires_on = emu.tokens.app_token(resource, ident)
    return Reply(200, {"access_token": token, "expires_on": str(expires_on), "resource": resource,
                       "token_type": "Bearer", "client_id": ident.client_id})
