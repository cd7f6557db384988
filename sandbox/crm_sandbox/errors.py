"""The API's error: raised anywhere in the sandbox, rendered as the spec's error body."""

from __future__ import annotations

from typing import Any

TYPES = {
    400: "invalid_request_error",
    401: "auth_error",
    403: "auth_error",
    404: "invalid_request_error",
    409: "invalid_request_error",
    413: "invalid_request_error",
    429: "rate_limit_error",
}


class APIError(Exception):
    """An error response: status, a stable ``code`` and a message that names the culprit."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}

    @property
    def type(self) -> str:
        return TYPES.get(self.status, "api_error" if self.status >= 500 else "invalid_request_error")

    def body(self) -> dict[str, Any]:
        return {
            "status_code": self.status,
            "type": self.type,
            "code": self.code,
            "message": self.message,
        }


def bad_request(code: str, message: str) -> APIError:
    return APIError(400, code, message)


def not_found(what: str, name: str) -> APIError:
    return APIError(404, "not_found", f"No {what} {name!r}.")


def conflict(code: str, message: str) -> APIError:
    return APIError(409, code, message)
