"""The HTTP API's requests and errors (docs/http-api.md), independent of azure.functions.

Parsing is strict: unknown fields are refused rather than ignored, because a mistyped `dryrun`
silently ignored in enforce mode would change resources the caller meant only to inspect.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from remediation.core.ids import InvalidResourceId, ResourceId, parse_account_id

MAX_BODY_BYTES = 64 * 1024
DEFAULT_TOP = 20
MAX_TOP = 100


@dataclass(frozen=True)
class ApiError(Exception):
    status: int
    code: str
    message: str

    def body(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message}}


def payload_too_large() -> ApiError:
    return ApiError(413, "PayloadTooLarge", f"the request body is larger than {MAX_BODY_BYTES // 1024} KiB")


INTERNAL = ApiError(500, "InternalError", "the reconcile failed unexpectedly; see the audit record and the logs")
OUT_OF_SCOPE = ApiError(403, "OutOfScope", "the account is outside REMEDIATION_SCOPES")
NOT_FOUND = ApiError(404, "AccountNotFound", "the account does not exist")
RECONCILE_RUNNING = ApiError(409, "ReconcileInProgress",
                             "another reconcile of the account is running (an event or the sweep); try again shortly")


def resource_manager_error(message: str | None, unavailable: bool) -> ApiError:
    if unavailable:
        return ApiError(503, "ResourceManagerUnavailable", message or "Azure Resource Manager is unavailable")
    return ApiError(502, "ResourceManagerError", message or "Azure Resource Manager returned an error")


@dataclass(frozen=True)
class RemediateRequest:
    resource_id: ResourceId
    dry_run: bool = False


def parse_remediate(body: bytes) -> RemediateRequest:
    """`{"resourceId": "<account id>", "dryRun": false}` → RemediateRequest, or an ApiError."""
    if len(body) > MAX_BODY_BYTES:
        raise payload_too_large()
    try:
        data = json.loads(body.decode("utf-8"), object_pairs_hook=_unique_keys) if body.strip() else None
    except RepeatedKey as repeated:
        raise ApiError(400, "InvalidJson", f"the key {str(repeated)[:100]!r} appears more than once") from None
    except (ValueError, RecursionError):  # bad UTF-8, bad JSON, or an integer too long to convert
        raise ApiError(400, "InvalidJson", "the request body is not valid JSON") from None
    if not isinstance(data, dict):
        raise ApiError(400, "InvalidRequest", 'expected a JSON object {"resourceId": "<account id>", "dryRun": false}')
    unknown = sorted(set(data) - {"resourceId", "dryRun"})
    if unknown:
        raise ApiError(400, "InvalidRequest", f"unknown field(s): {', '.join(map(repr, unknown))[:200]}")
    dry_run = data.get("dryRun", False)
    if not isinstance(dry_run, bool):
        raise ApiError(400, "InvalidRequest", "dryRun must be true or false")
    return RemediateRequest(_account_id(data.get("resourceId")), dry_run)


class RepeatedKey(ValueError):
    """A JSON object names one key twice: parsers disagree on which value wins, so none is chosen."""


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for key, value in pairs:
        if key in data:
            raise RepeatedKey(key)
        data[key] = value
    return data


def parse_history_query(params: Mapping[str, str]) -> tuple[ResourceId, int]:
    """`?resourceId=<account id>&top=<n>` → (account ID, top)."""
    raw_top = params.get("top")
    top = DEFAULT_TOP
    if raw_top is not None:
        if not (raw_top.isascii() and raw_top.isdigit()) or not 1 <= int(raw_top) <= MAX_TOP:
            raise ApiError(400, "InvalidRequest", f"top must be a whole number from 1 to {MAX_TOP}")
        top = int(raw_top)
    return _account_id(params.get("resourceId")), top


def _account_id(value: object) -> ResourceId:
    if value is None:
        raise ApiError(400, "InvalidResourceId", "resourceId is required")
    try:
        return parse_account_id(value)
    except InvalidResourceId as error:
        raise ApiError(400, "InvalidResourceId", f"resourceId: {error}") from None
