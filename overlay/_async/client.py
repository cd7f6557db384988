"""``overlay.AsyncClient``: settings, the transport stack, and the one request path."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from types import ModuleType, SimpleNamespace, TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

import httpx
from crm_client import models

from .. import _logging
from .._config import LATEST_VERSION, METADATA_TTL, Hook, Options, async_event_hooks, resolve
from .._errors import APIConnectionError, APIStatusError, APITimeoutError, ConfigurationError
from .._metadata import SUGGESTIBLE, Names, TTLCache
from .._ratelimit import RateLimiter
from .._response import NOT_GIVEN, RawResponse, build_body, data_of, decode, decode_page, op, request_kwargs
from .._retry import RetryPolicy
from .._transport import AsyncAPITransport, AsyncClientTransport, AsyncMigratingTransport, Stack
from .bulk import AsyncBulk
from .metadata import AsyncMetadata
from .resources import (
    AsyncAttributes,
    AsyncEntries,
    AsyncLists,
    AsyncNotes,
    AsyncObjects,
    AsyncRecords,
    AsyncTasks,
    AsyncWebhooks,
)

if TYPE_CHECKING:
    from crm_client.models import SearchResult, TokenInfo

    from ..io._plan import Mapped
    from ..io._report import ImportReport

T = TypeVar("T")
# What the generated parsers want of a client: only whether to raise on undocumented statuses.
PARSER_SETTINGS = SimpleNamespace(raise_on_unexpected_status=False)
Cast = Callable[[Any, str | None], T]


class _Shared:
    """What copies made by ``with_options`` share: the connection pool, the rate limiter,
    the metadata cache. The pool is closed when the last copy is."""

    def __init__(self, transport: httpx.AsyncBaseTransport, metadata_ttl: float) -> None:
        self.transport = transport
        self.limiter = RateLimiter()
        self.cache = TTLCache(metadata_ttl)
        self.users = 0


class AsyncClient:
    """The CRM API. ``overlay.Client`` and ``overlay.AsyncClient`` have the same methods.

    >>> async with overlay.AsyncClient(api_key=..., base_url=...) as crm:
    ...     async for person in crm.records("people").query({"name": "Ada"}):
    ...         print(person["name"])

    Settings not given are read from ``CRM_API_KEY``, ``CRM_BASE_URL``, ``CRM_VERSION`` and
    ``CRM_LOG``. ``transport`` replaces the innermost transport (the overlay's retries,
    pacing and logging still wrap it); ``http_client`` sends through a client you
    configured and still own. ``api_version`` pins an older API version: the transport
    rewrites requests for it and answers back to the latest, so the code and the types
    stay those of the latest version.
    """

    def __init__(
        self,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        api_version: str | None = None,
        timeout: float | httpx.Timeout | None = None,
        max_retries: int | None = None,
        rate_limit: bool = True,
        idempotency_keys: bool = True,
        log: str | None = None,
        metadata_ttl: float = METADATA_TTL,
        on_request: Sequence[Hook] = (),
        on_response: Sequence[Hook] = (),
        http_client: httpx.AsyncClient | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        options = resolve(
            api_key=api_key,
            base_url=base_url,
            version=api_version,
            log=log,
            timeout=timeout,
            max_retries=max_retries,
            rate_limit=rate_limit,
            idempotency_keys=idempotency_keys,
            metadata_ttl=metadata_ttl,
            on_request=on_request,
            on_response=on_response,
        )
        if http_client is not None and transport is not None:
            raise ConfigurationError("Pass http_client or transport, not both.")
        if http_client is not None:
            inner: httpx.AsyncBaseTransport = AsyncClientTransport(http_client)
        else:
            inner = transport or httpx.AsyncHTTPTransport()
        self._setup(options, _Shared(inner, metadata_ttl))

    def _setup(self, options: Options, shared: _Shared) -> None:
        _logging.setup(options.log)
        self._options = options
        self._shared = shared
        shared.users += 1
        stack = Stack(
            RetryPolicy(max_retries=options.max_retries),
            shared.limiter if options.rate_limit else None,
            options.idempotency_keys,
        )
        transport: httpx.AsyncBaseTransport = AsyncAPITransport(shared.transport, stack, owns_inner=False)
        if options.version != LATEST_VERSION:
            from ..migrations._http import VersionMigration

            transport = AsyncMigratingTransport(transport, VersionMigration(options.version, shared.cache))
        self._http = httpx.AsyncClient(
            base_url=options.base_url,
            headers=options.headers(),
            timeout=options.timeout,
            transport=transport,
            event_hooks=async_event_hooks(options),
        )
        self.metadata = AsyncMetadata(self, shared.cache)
        self.objects = AsyncObjects(self)
        self.attributes = AsyncAttributes(self)
        self.lists = AsyncLists(self)
        self.notes = AsyncNotes(self)
        self.tasks = AsyncTasks(self)
        self.webhooks = AsyncWebhooks(self)
        self.bulk = AsyncBulk(self)

    def __repr__(self) -> str:
        return (
            f"<overlay.AsyncClient base_url={self._options.base_url!r} api_version={self._options.version}>"
        )

    @property
    def options(self) -> Options:
        """The settings in force (the API key is left out of its repr)."""
        return self._options

    def with_options(
        self,
        *,
        timeout: float | httpx.Timeout | None = None,
        max_retries: int | None = None,
        api_version: str | None = None,
        rate_limit: bool | None = None,
        idempotency_keys: bool | None = None,
        log: str | None = None,
    ) -> AsyncClient:
        """A copy with some settings changed, sharing this client's connections and caches."""
        changes: dict[str, Any] = {
            "timeout": timeout,
            "max_retries": max_retries,
            "version": api_version,
            "rate_limit": rate_limit,
            "idempotency_keys": idempotency_keys,
            "log": log,
        }
        copy = object.__new__(type(self))
        copy._setup(self._options.updated(**changes), self._shared)
        return copy

    def records(self, object: str) -> AsyncRecords:
        """The records of one object, by slug: ``crm.records("people")``."""
        return AsyncRecords(self, object)

    def entries(self, list: str) -> AsyncEntries:
        """The entries of one list, by slug."""
        return AsyncEntries(self, list)

    async def import_file(
        self,
        path: str | os.PathLike[str],
        object: str,
        *,
        match: str | None = None,
        mapping: Mapping[str, Mapped] | None = None,
        dry_run: bool = False,
        error_file: str | os.PathLike[str] | None = None,
        format: str | None = None,
        encoding: str | None = None,
        delimiter: str | None = None,
        sheet: str | None = None,
        **options: Any,
    ) -> ImportReport:
        """Import a CSV, JSON lines, Excel or Parquet file into ``object``'s records.

        Columns map to attributes by header unless ``mapping`` says otherwise; cells are
        coerced by each attribute's type. With ``match`` (a unique attribute) rows upsert,
        else they create; a repeated ``match`` value is rejected. ``dry_run`` checks every
        row against the schema and counts what would be created and updated, writing
        nothing. Rejected rows go to ``error_file`` (in the input's format, with ``_row``
        and ``_error`` columns) and to the report: ``accepted + rejected == total``.

        Further options: ``constants``, ``ignore``, ``unmapped="ignore"``, ``journal``,
        ``progress``, ``date_formats``, ``dayfirst``, ``timezone``, ``phone_region``,
        ``decimal``, ``max_cell_chars``, ``batch_size``.
        """
        from .io import import_table, open_source

        table = open_source(path, format, encoding, delimiter, sheet)
        return await import_table(
            self,
            table,
            object,
            match=match,
            mapping=mapping,
            dry_run=dry_run,
            error_file=error_file,
            **options,
        )

    async def import_rows(
        self, rows: Iterable[Mapping[str, Any]] | Any, object: str, **options: Any
    ) -> ImportReport:
        """Import mappings of column to value, or a pandas DataFrame, as ``import_file`` does a file."""
        from .io import import_table, open_source

        return await import_table(self, open_source(rows, None, None, None, None), object, **options)

    async def search(
        self, query: str, *, objects: Sequence[str] = NOT_GIVEN, limit: int = NOT_GIVEN
    ) -> list[SearchResult]:
        """Records whose name, email, domain or other text matches ``query``, best first."""
        body = build_body(
            models.SearchRequest, {"query": query, "objects": objects, "limit": limit}, wrap=False
        )
        results: list[SearchResult] = await self._call(op("search.search_records"), body=body, cast=data_of)
        return results

    async def whoami(self) -> TokenInfo:
        """The token in use: its workspace, scopes and default API version."""
        info: TokenInfo = await self._call(op("self_.get_self"), cast=data_of)
        return info

    # ------------------------------------------------------------------ the request path

    async def _send(self, endpoint: ModuleType, *args: Any, **kwargs: Any) -> httpx.Response:
        """Send one generated endpoint's request through the stack; transport errors become ours."""
        try:
            return await self._http.request(**request_kwargs(endpoint, args, kwargs))
        except httpx.TimeoutException as exc:
            raise APITimeoutError(f"The request timed out: {type(exc).__name__}.") from exc
        except httpx.HTTPError as exc:
            raise APIConnectionError(f"Could not reach the API: {exc or type(exc).__name__}.") from exc

    async def _fetch(
        self, endpoint: ModuleType, *args: Any, names: Names | None = None, parse: bool = True, **kwargs: Any
    ) -> tuple[Any, httpx.Response]:
        """The endpoint's typed result (or, unless ``parse``, a page's unparsed ``data`` list)
        and its response; errors name the nearest known slug."""
        response = await self._send(endpoint, *args, **kwargs)
        try:
            if not parse:
                return decode_page(endpoint, response), response
            return decode(endpoint, response, PARSER_SETTINGS), response
        except APIStatusError as error:
            if names is not None and error.code in SUGGESTIBLE:
                error.suggestion = await self.metadata.suggest(error.code, names)
            raise

    async def _call(
        self,
        endpoint: ModuleType,
        *args: Any,
        cast: Cast[T],
        raw: bool = False,
        names: Names | None = None,
        **kwargs: Any,
    ) -> Any:
        """``cast`` of the typed result, or the raw response (whose ``parse()`` casts) when ``raw``."""
        parsed, response = await self._fetch(endpoint, *args, names=names, **kwargs)
        request_id = response.headers.get("x-request-id")
        if raw:
            return RawResponse(response, lambda: cast(parsed, request_id))
        return cast(parsed, request_id)

    # ------------------------------------------------------------------ lifetime

    async def close(self) -> None:
        """Close this client; the connections close with the last copy of it."""
        if self._http.is_closed:
            return
        await self._http.aclose()
        self._shared.users -= 1
        if self._shared.users == 0:
            await self._shared.transport.aclose()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()
