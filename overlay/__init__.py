"""The hand-written CRM SDK: ``import overlay``.

The generated low-level client lives in ``crm_client``; the overlay adds what a generator
cannot express. Its public names are listed in ``__all__`` and nowhere else.
"""

from ._errors import (
    APIConnectionError,
    APIError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    CRMError,
    InternalServerError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ResponseParseError,
    SandboxError,
)
from ._parse import parse
from ._sandbox import Sandbox

__version__ = "0.1.0"

__all__ = [
    "APIConnectionError",
    "APIError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "CRMError",
    "ConflictError",
    "InternalServerError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "ResponseParseError",
    "Sandbox",
    "SandboxError",
    "__version__",
    "parse",
]
