"""The hand-written CRM SDK: ``import overlay``.

The generated low-level client lives in ``crm_client``; the overlay adds what a generator
cannot express. Its public names are listed in ``__all__`` and nowhere else. The clients
(and httpx under them) load on first use, so ``import overlay`` stays quick.
"""

import typing as _typing

from ._bulk_core.report import BulkReport, ItemError, ProgressState
from ._dsl.expr import Expr, F, Field
from ._dsl.from_json import from_filter
from ._dsl.text import QuerySyntaxError
from ._dsl.text import parse_text as from_text
from ._errors import (
    APIConnectionError,
    APIError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    BulkError,
    ClientClosedError,
    ConfigurationError,
    ConflictError,
    CRMError,
    CursorExpiredError,
    FileFormatError,
    InternalServerError,
    InvalidArgumentError,
    MappingError,
    MirrorError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    RateLimitStoreError,
    ResponseParseError,
    SandboxError,
    SeenStoreError,
)
from ._parse import parse
from ._records import Record, RecordList
from ._sandbox import Sandbox
from ._version import __version__

if _typing.TYPE_CHECKING:
    from . import io as io
    from . import migrations as migrations
    from . import webhooks as webhooks
    from ._async.client import AsyncClient
    from ._async.pagination import AsyncPaginator
    from ._async.query import AsyncQuery
    from ._paging import Page
    from ._response import RawResponse
    from ._shared_limit import RedisRateLimit
    from ._sync.client import Client
    from ._sync.pagination import Paginator
    from ._sync.query import Query

_LAZY = {
    "AsyncClient": "._async.client",
    "AsyncPaginator": "._async.pagination",
    "AsyncQuery": "._async.query",
    "Query": "._sync.query",
    "Client": "._sync.client",
    "Page": "._paging",
    "Paginator": "._sync.pagination",
    "RawResponse": "._response",
    "RedisRateLimit": "._shared_limit",
}


# Public submodules, imported on first use: ``overlay.webhooks.verify(...)``.
_SUBMODULES = frozenset({"io", "migrations", "webhooks"})


def __getattr__(name: str) -> _typing.Any:
    from importlib import import_module

    if name in _SUBMODULES:
        return import_module(f".{name}", __name__)
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'overlay' has no attribute {name!r}")
    value = getattr(import_module(module, __name__), name)
    globals()[name] = value
    return value


__all__ = [
    "APIConnectionError",
    "APIError",
    "APIStatusError",
    "APITimeoutError",
    "AsyncClient",
    "AsyncPaginator",
    "AsyncQuery",
    "AuthenticationError",
    "BadRequestError",
    "BulkError",
    "BulkReport",
    "CRMError",
    "Client",
    "ClientClosedError",
    "ConfigurationError",
    "ConflictError",
    "CursorExpiredError",
    "Expr",
    "F",
    "Field",
    "FileFormatError",
    "InternalServerError",
    "InvalidArgumentError",
    "ItemError",
    "MappingError",
    "MirrorError",
    "NotFoundError",
    "Page",
    "Paginator",
    "PermissionDeniedError",
    "ProgressState",
    "Query",
    "QuerySyntaxError",
    "RateLimitError",
    "RateLimitStoreError",
    "RawResponse",
    "Record",
    "RecordList",
    "RedisRateLimit",
    "ResponseParseError",
    "Sandbox",
    "SandboxError",
    "SeenStoreError",
    "__version__",
    "from_filter",
    "from_text",
    "parse",
]
