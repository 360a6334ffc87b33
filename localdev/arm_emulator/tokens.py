"""Bearer tokens: HS256 JWTs shaped like Entra ID tokens for Resource Manager.

Real ARM tokens are RS256 from Entra ID; the app never validates them itself, it only reads claims
(object ID, app ID) from them. HS256 with an emulator-only secret keeps verification in the stdlib.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

PORTAL_APP_ID = "c44b4083-3bb0-49c1-b47d-974e53cbdf3c"  # Azure portal, what user writes carry as appid
TOKEN_LIFETIME_S = 3600


class TokenError(Exception):
    """Token missing, malformed, badly signed, expired, or meant for another audience."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class AppIdentity:
    """The user-assigned managed identity the emulator's token endpoint serves."""

    client_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    object_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    tenant_id: str = "72f988bf-86f1-41af-91ab-2d7cd011db47"
    mi_resource_id: str = ("/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-remediation"
                           "/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-remediation")

    def to_dict(self) -> dict[str, str]:
        return {"client_id": self.client_id, "object_id": self.object_id, "tenant_id": self.tenant_id,
                "mi_resource_id": self.mi_resource_id}


def user_object_id(upn: str) -> str:
    """The object ID the emulator gives a person (stable per sign-in name), as in their tokens' `oid`."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"user:{upn.lower()}"))


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class TokenIssuer:
    """Mints and verifies the emulator's tokens."""

    def __init__(self, identity: AppIdentity, secret: bytes | None = None) -> None:
        self.identity = identity
        self._secret = secret or secrets.token_bytes(32)

    @property
    def issuer(self) -> str:
        return f"https://sts.windows.net/{self.identity.tenant_id}/"

    def _sign(self, claims: dict[str, Any]) -> str:
        header = _b64(json.dumps({"typ": "JWT", "alg": "HS256", "kid": "arm-emulator"}).encode())
        payload = _b64(json.dumps(claims, separators=(",", ":")).encode())
        sig = hmac.new(self._secret, f"{header}.{payload}".encode(), hashlib.sha256).digest()
        return f"{header}.{payload}.{_b64(sig)}"

    def _base(self, audience: str, now: int) -> dict[str, Any]:
        return {"aud": audience, "iss": self.issuer, "iat": now, "nbf": now, "exp": now + TOKEN_LIFETIME_S,
                "tid": self.identity.tenant_id, "ver": "1.0", "uti": _b64(secrets.token_bytes(16))}

    def app_token(self, audience: str, identity: AppIdentity | None = None) -> tuple[str, int]:
        """Token for a managed identity (the app's unless another is named), as Entra ID issues it for
        ARM. Returns (token, expires_on)."""
        now = int(time.time())
        ident = identity or self.identity
        claims = self._base(audience, now)
        claims.update({"appid": ident.client_id, "appidacr": "2", "idp": self.issuer, "idtyp": "app",
                       "oid": ident.object_id, "sub": ident.object_id, "xms_mirid": ident.mi_resource_id,
                       "xms_tcdt": 1600000000})
        return self._sign(claims), claims["exp"]

    def user_token(self, audience: str, name: str, upn: str, object_id: str | None = None,
                   ipaddr: str = "203.0.113.10") -> str:
        """Token for a named person signed in through the portal."""
        now = int(time.time())
        oid = object_id or user_object_id(upn)
        claims = self._base(audience, now)
        claims.update({"appid": PORTAL_APP_ID, "appidacr": "2", "idtyp": "user", "oid": oid, "sub": oid,
                       "name": name, "upn": upn, "unique_name": upn, "ipaddr": ipaddr,
                       "amr": ["pwd", "mfa"], "scp": "user_impersonation",
                       "given_name": name.split(" ")[0], "family_name": name.split(" ")[-1]})
        return self._sign(claims)

    def verify(self, token: str, audiences: set[str]) -> dict[str, Any]:
        """Return the claims of a valid token, else raise TokenError with ARM's error codes."""
        parts = token.split(".")
        if len(parts) != 3:
            raise TokenError("InvalidAuthenticationToken", "The access token is invalid.")
        expected = hmac.new(self._secret, f"{parts[0]}.{parts[1]}".encode(), hashlib.sha256).digest()
        try:
            ok = hmac.compare_digest(expected, _unb64(parts[2]))
            claims = json.loads(_unb64(parts[1]))
        except Exception:  # noqa: BLE001  # whatever is wrong with it, the token is invalid
            raise TokenError("InvalidAuthenticationToken", "The access token is invalid.") from None
        if not ok:
            raise TokenError("InvalidAuthenticationToken",
                             "The access token has an invalid signature.")
        now = time.time()
        if claims.get("exp", 0) < now:
            raise TokenError("ExpiredAuthenticationToken",
                             "The access token expiry UTC time is earlier than current UTC time.")
        if claims.get("nbf", 0) > now + 300:
            raise TokenError("InvalidAuthenticationToken", "The access token is not yet valid.")
        if str(claims.get("aud", "")).rstrip("/").lower() not in audiences:
            raise TokenError("InvalidAuthenticationTokenAudience",
                             f"The access token has been obtained for wrong audience or resource "
                             f"'{claims.get('aud')}'. It should exactly match with one of the allowed audiences.")
        return dict(claims)
