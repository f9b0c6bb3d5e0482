"""QingCloud API error codes and the exception the handlers raise.

Codes and meanings from content/network/vpc/api/error_code.md (yunify/qingcloud-docs):
errors travel as HTTP 200 with ``{"ret_code": N, "message": "..."}``."""

from __future__ import annotations

BAD_FORMAT = 1100          # missing parameter or malformed value
NO_SUCH_ACTION = 1101      # "请求了不存在的方法": the action does not exist
AUTH_FAILED = 1200         # unknown access_key_id or wrong signature
EXPIRED = 1300             # time_stamp older than 60 s
PERMISSION_DENIED = 1400   # resource in a state that cannot change, in use, not ours
NOT_FOUND = 2100
ALREADY_EXISTS = 2110
QUOTA = 2500
INTERNAL = 5000
BUSY = 5100
UPDATING = 5300


class ApiError(Exception):
    def __init__(self, ret_code: int, message: str) -> None:
        super().__init__(message)
        self.ret_code = ret_code
        self.message = message

    def body(self) -> dict[str, object]:
        return {"ret_code": self.ret_code, "message": self.message}


def bad(message: str) -> ApiError:
    return ApiError(BAD_FORMAT, f"InvalidParameterValue, {message}")


def denied(message: str) -> ApiError:
    return ApiError(PERMISSION_DENIED, f"PermissionDenied, {message}")


def not_found(resource_id: str) -> ApiError:
    return ApiError(NOT_FOUND, f"ResourceNotFound, resource [{resource_id}] not found")
