"""The overlay's exceptions. Every error the overlay raises is one of these.

    CRMError                      anything the overlay raises
    └── ResponseParseError        a body that is not JSON or does not fit its model

Status errors (one class per status family) and connection errors join this tree with
the client; each will carry the request id where there was a request.
"""

from __future__ import annotations


class CRMError(Exception):
    """The root of every exception the overlay raises."""


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
