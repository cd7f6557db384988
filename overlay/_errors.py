"""The overlay's exceptions. Every error the overlay raises is one of these.

    CRMError                          anything the overlay raises
    ├── ConfigurationError            no API key or base URL, or an unsupported setting
    ├── ClientClosedError             a client used after close()
    ├── InvalidArgumentError          an argument the overlay cannot turn into a request
    │   ├── QuerySyntaxError          a text query that does not parse (overlay._dsl.text)
    │   ├── FileFormatError           a file that cannot be read as its format (.path)
    │   └── MappingError              a column that maps to no attribute (.column)
    ├── BulkError                     a bulk run with raise_on_error had failures (.report)
    ├── ResponseParseError            a body that is not JSON or does not fit its model
    ├── MirrorError                   a mirror's database is unreachable, of an unknown kind, or edited
    ├── SandboxError                  the sandbox could not start
    ├── RateLimitStoreError           a shared rate limit's Redis failed (with on_unavailable="raise")
    ├── SeenStoreError                a webhook seen store failed (its file or its Redis)
    ├── WebhookVerificationError      a webhook delivery that cannot be trusted (.code)
    │   ├── MissingHeaderError        a signature header is absent
    │   ├── MalformedHeaderError      a header that does not have its documented form
    │   ├── InvalidTimestampError     webhook-timestamp is not Unix seconds
    │   ├── TimestampOutsideWindowError  signed too long ago, or in the future
    │   ├── SignatureMismatchError    no signature matches any of the secrets
    │   └── ReplayedMessageError      this exact signed message was already accepted
    └── APIError                      talking to the API failed
        ├── APIConnectionError        no response: refused, reset, DNS, TLS
        │   └── APITimeoutError       no response in time
        └── APIStatusError            the API answered with an error status
            ├── BadRequestError       400, 413, 422
            ├── AuthenticationError   401
            ├── PermissionDeniedError 403
            ├── NotFoundError         404
            ├── ConflictError         409
            ├── CursorExpiredError    410: a feed cursor past the retention period
            ├── RateLimitError        429
            └── InternalServerError   5xx

Status errors carry ``status``, ``type``, ``code``, ``message``, ``request_id``, the
decoded ``body`` and, when the API named an unknown attribute, option or object, the
nearest known slug as ``suggestion``. None of them holds the request, so no token can
leak through them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any


class CRMError(Exception):
    """The root of every exception the overlay raises."""


class ConfigurationError(CRMError):
    """The client is missing a setting (API key, base URL) or was given one it cannot use."""


class ClientClosedError(CRMError, RuntimeError):
    """The client was used after ``close()`` (or after its ``with`` block ended)."""


class InvalidArgumentError(CRMError, ValueError):
    """An argument the overlay cannot turn into a request; the message names the argument."""


class FileFormatError(InvalidArgumentError):
    """A file that cannot be read (or written) as its format: empty, corrupt, an unknown
    extension, a header that repeats a name. ``path`` names the file."""

    def __init__(self, path: Any, message: str) -> None:
        self.path = str(path)
        super().__init__(f"{self.path}: {message}")


class MappingError(InvalidArgumentError):
    """An import column that maps to no attribute, or a mapping that names an unknown one.
    ``column`` names the column; the message suggests the nearest attribute."""

    def __init__(self, column: str | None, message: str) -> None:
        self.column = column
        super().__init__(message)


class BulkError(CRMError):
    """A bulk run with ``raise_on_error`` had failures; ``report`` is its ``BulkReport``."""

    def __init__(self, report: Any, message: str) -> None:
        self.report = report
        super().__init__(message)


class ResponseParseError(CRMError):
    """A response body that is not JSON, or whose JSON does not fit the expected model.

    ``model`` names the model, ``reason`` says what did not fit, and ``request_id`` is the
    ``x-request-id`` of the response when the body came from one.
    """

    def __init__(self, model: str, reason: str, *, request_id: str | None = None) -> None:
        self.model = model
        self.reason = reason
        self.request_id = request_id
        where = f" (request {request_id})" if request_id else ""
        super().__init__(f"cannot read the body as {model}: {reason}{where}")

    @classmethod
    def from_exception(
        cls, model: str, exc: Exception, *, request_id: str | None = None
    ) -> ResponseParseError:
        """The error for what the generated ``from_dict`` raised (``KeyError``: a missing field)."""
        from ._logging import redact_text

        if isinstance(exc, KeyError):
            reason = f"missing field {exc.args[0]!r}" if exc.args else "a missing field"
        else:
            reason = str(exc) or type(exc).__name__
        return cls(model, redact_text(reason), request_id=request_id)


class MirrorError(CRMError):
    """The mirror cannot go on: its database is unreachable, of an unknown kind, or was
    edited by hand; or the client's API version has no change feed."""


class SandboxError(CRMError):
    """The sandbox could not start (for example, its optional dependencies are missing)."""


class RateLimitStoreError(CRMError):
    """The Redis of a shared rate limit (``RedisRateLimit(on_unavailable="raise")``) did not
    answer, or answered with an error; the message names its URL, password redacted."""


class SeenStoreError(CRMError):
    """A store of webhook message ids (``SQLiteSeenStore``, or your own) failed: its file is
    read-only, locked, corrupt or gone. ``verify()`` raises it; a ``Router`` answers 503 with
    ``Retry-After``, so the sender retries. ``path`` names the store's file, when it has one."""

    def __init__(self, message: str, *, path: str | None = None) -> None:
        self.path = path
        super().__init__(message)


class WebhookVerificationError(CRMError):
    """A webhook delivery that cannot be trusted; the message says why, ``code`` names it.

    Raised by ``overlay.webhooks.verify``; the message never holds a secret or a signature.
    """

    code = "verification_failed"


class MissingHeaderError(WebhookVerificationError):
    """A header the signature scheme needs is absent or empty."""

    code = "missing_header"


class MalformedHeaderError(WebhookVerificationError):
    """A header that does not have its documented form."""

    code = "malformed_header"


class InvalidTimestampError(WebhookVerificationError):
    """``webhook-timestamp`` is not a whole number of Unix seconds."""

    code = "invalid_timestamp"


class TimestampOutsideWindowError(WebhookVerificationError):
    """The message was signed longer ago than the tolerance allows, or in the future."""

    code = "timestamp_outside_window"


class SignatureMismatchError(WebhookVerificationError):
    """No signature in the header matches the body under any of the secrets."""

    code = "signature_mismatch"


class ReplayedMessageError(WebhookVerificationError):
    """This exact signed message (id and timestamp) was already accepted: a replay."""

    code = "replayed"


class APIError(CRMError):
    """Talking to the API failed. ``request_id`` is set when the API answered."""

    request_id: str | None = None


class APIConnectionError(APIError):
    """No response arrived: the connection was refused, reset or never made."""

    def __init__(self, message: str = "Could not connect to the API.") -> None:
        super().__init__(message)


class APITimeoutError(APIConnectionError):
    """No response arrived in time."""

    def __init__(self, message: str = "The request timed out.") -> None:
        super().__init__(message)


class APIStatusError(APIError):
    """The API answered with an error status."""

    def __init__(
        self,
        status: int,
        *,
        type: str,
        code: str,
        message: str,
        request_id: str | None,
        body: Any,
    ) -> None:
        self.status = status
        self.type = type
        self.code = code
        self.message = message
        self.request_id = request_id
        self.body = body
        self.suggestion: str | None = None
        super().__init__()

    def __str__(self) -> str:
        hint = ""
        if self.suggestion and "did you mean" not in self.message.lower():
            hint = f" Did you mean {self.suggestion!r}?"
        where = f" (request {self.request_id})" if self.request_id else ""
        return f"{self.status} {self.code}: {self.message}{hint}{where}"


class BadRequestError(APIStatusError):
    """400, 413 or 422: the request is malformed or breaks a rule."""


class AuthenticationError(APIStatusError):
    """401: the token is missing, malformed or revoked."""


class PermissionDeniedError(APIStatusError):
    """403: the token lacks a scope the operation needs."""


class NotFoundError(APIStatusError):
    """404: something named in the request does not exist."""


class ConflictError(APIStatusError):
    """409: the write conflicts with the current state."""


class CursorExpiredError(APIStatusError):
    """410: the feed cursor is older than the retention period (or from another workspace):
    read everything again, then follow from the new cursor."""


class RateLimitError(APIStatusError):
    """429: the token's rate limit is spent."""


class InternalServerError(APIStatusError):
    """5xx: the API failed."""


_BY_STATUS: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    410: CursorExpiredError,
    413: BadRequestError,
    422: BadRequestError,
    429: RateLimitError,
}


def _text(fields: Mapping[str, Any], name: str) -> str | None:
    """A field of an error body when it is non-empty text (a list or an object is not a code)."""
    value = fields.get(name)
    return value if isinstance(value, str) and value else None


def error_for_status(status: int, headers: Mapping[str, str], content: bytes) -> APIStatusError:
    """The exception for an error response, whatever shape (or lack of one) its body has."""
    request_id = headers.get("x-request-id")
    fallback = f"HTTP {status}"
    try:
        body: Any = json.loads(content) if content else None
    except RecursionError:
        body, fallback = None, f"HTTP {status} (a body nested too deeply to read)"
    except ValueError:
        body = content.decode("utf-8", "replace")[:2000]
    fields = body if isinstance(body, dict) else {}
    cls = _BY_STATUS.get(status, InternalServerError if status >= 500 else APIStatusError)
    default_type = "api_error" if status >= 500 else "invalid_request_error"
    return cls(
        status,
        type=_text(fields, "type") or default_type,
        code=_text(fields, "code") or f"http_{status}",
        message=_text(fields, "message") or (body if isinstance(body, str) and body else fallback),
        request_id=request_id,
        body=body,
    )
