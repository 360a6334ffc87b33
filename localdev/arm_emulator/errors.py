"""ARM error bodies: every failure answers {"error": {"code", "message"}} like Resource Manager."""
from __future__ import annotations

from typing import Any


class ArmError(Exception):
    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None,
                 details: list[dict[str, Any]] | None = None) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}
        self.details = details

    def body(self) -> dict[str, Any]:
        err: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details:
            err["details"] = self.details
        return {"error": err}


def not_found(resource_type: str, name: str, resource_group: str | None) -> ArmError:
    where = f" under resource group '{resource_group}'" if resource_group else ""
    return ArmError(404, "ResourceNotFound",
                    f"The Resource '{resource_type}/{name}'{where} was not found. "
                    "For more details please go to https://aka.ms/ARMResourceNotFoundFix")


def parent_not_found(parent_type: str, name: str, resource_group: str | None) -> ArmError:
    return ArmError(404, "ParentResourceNotFound",
                    f"Can not perform requested operation on nested resource. Parent resource "
                    f"'{name}' of type '{parent_type}' under resource group '{resource_group}' not found.")


def rg_not_found(resource_group: str) -> ArmError:
    return ArmError(404, "ResourceGroupNotFound", f"Resource group '{resource_group}' could not be found.")


def bad_request(message: str, code: str = "InvalidRequestContent") -> ArmError:
    return ArmError(400, code, message)


def conflict_busy(resource_id: str) -> ArmError:
    return ArmError(409, "RequestConflict",
                    f"Cannot modify resource with id '{resource_id}' because the resource entity provisioning "
                    "state is not terminal. Please wait for the provisioning state to become terminal and then "
                    "retry the request.")
