"""``overlay.AsyncClient``: settings, the transport stack, and the one request path."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

import httpx
from crm_client import models, operations

from .. import _logging
from .._clock import SYSTEM_CLOCK, Clock
from .._config import LATEST_VERSION, METADATA_TTL, Hook, Options, async_event_hooks, resolve
from .._errors import (
    APIConnectionError,
    APITimeoutError,
    ClientClosedError,
    CRMError,
    InvalidArgumentError,
    ResponseParseError,
)
from .._ids import path_args
from .._metadata_core import CurrencyMemo
from .._response import (
    NOT_GIVEN,
    Cast,
    RawResponse,
    build_body,
    data_of,
    decode,
    decode_page,
    path_parameters,
    request_kwargs,
    unencodable_text,
)
from .._retry import RetryPolicy
from .._transport import (
    OPERATION,
    AsyncAPITransport,
    AsyncLazyHTTPTransport,
    AsyncMigratingTransport,
    AttemptSettings,
)
from ..io._keywords import checked_keywords
from .bulk import AsyncBulk
from .metadata import AsyncMetadata
from .resources import (
    AsyncAttributes,
    AsyncEntries,
    AsyncEvents,
    AsyncLists,
    AsyncNotes,
    AsyncObjects,
    AsyncRecords,
    AsyncTasks,
    AsyncWebhooks,
)
from .shared import Shared, SharedPool, inner_transport

if TYPE_CHECKING:
    import datetime as dt

    from crm_client.models import SearchResult, TokenInfo
    from crm_client.operations import Operation

    from .._bulk_core.report import Progress
    from .._ids import ListRef, ObjectRef
    from .._shared_limit import RedisRateLimit
    from ..io._plan import Mapped
    from ..io._report import ImportReport

T = TypeVar("T")


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
    stay those of the latest version. ``on_request`` / ``on_response`` take one callable or
    a sequence of them. ``clock`` is what retries and pacing wait on (``overlay._clock``).
    """

    def __init__(
        self,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        api_version: str | None = None,
        timeout: float | httpx.Timeout | None = None,
        max_retries: int | None = None,
        rate_limit: bool | RedisRateLimit = True,
        idempotency_keys: bool = True,
        log: str | None = None,
        metadata_ttl: float = METADATA_TTL,
        on_request: Hook | Sequence[Hook] = (),
        on_response: Hook | Sequence[Hook] = (),
        http_client: httpx.AsyncClient | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Clock | None = None,
    ) -> None:
        _logging.guard_foreign_loggers()
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
        pool = SharedPool(inner_transport(http_client, transport) or AsyncLazyHTTPTransport())
        self._setup(options, Shared(pool, options.metadata_ttl, clock or SYSTEM_CLOCK))

    def _setup(self, options: Options, shared: Shared) -> None:
        _logging.set_process_level(options.log)  # process-wide: the `overlay` logger
        self._options = options
        self._shared = shared
        shared.pool.users += 1
        shared.users += 1
        attempt_settings = AttemptSettings(
            RetryPolicy(max_retries=options.max_retries),
            shared.pacer(options),
            options.idempotency_keys,
            clock=shared.clock,
        )
        transport: httpx.AsyncBaseTransport = AsyncAPITransport(
            shared.pool.transport, attempt_settings, owns_inner=False
        )
        if options.version != LATEST_VERSION:
            from ..migrations._http import VersionMigration

            memo = CurrencyMemo(shared.cache)
            migration = VersionMigration(options.version, known=memo.known, remember=memo.remember)
            transport = AsyncMigratingTransport(transport, migration)
        self._http = httpx.AsyncClient(
            base_url=options.base_url,
            headers=options.headers(),
            timeout=options.timeout,
            transport=transport,
            event_hooks=async_event_hooks(options),
        )
        self.objects = AsyncObjects(self)
        self.attributes = AsyncAttributes(self)
        self.metadata = AsyncMetadata(shared.cache, self.objects, self.attributes)
        self.lists = AsyncLists(self)
        self.notes = AsyncNotes(self)
        self.tasks = AsyncTasks(self)
        self.webhooks = AsyncWebhooks(self)
        self.events = AsyncEvents(self)
        self.bulk = AsyncBulk(self)

    @property
    def api_version(self) -> str:
        """The API version this client speaks: the pinned one, else the latest."""
        return self._options.version

    def __repr__(self) -> str:
        return (
            f"<overlay.AsyncClient base_url={_logging.redact_url(self._options.base_url)!r}"
            f" api_version={self._options.version}>"
        )

    @property
    def options(self) -> Options:
        """The settings in force (the API key is left out of its repr)."""
        return self._options

    def with_options(
        self,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        api_version: str | None = None,
        timeout: float | httpx.Timeout | None = None,
        max_retries: int | None = None,
        rate_limit: bool | RedisRateLimit | None = None,
        idempotency_keys: bool | None = None,
        log: str | None = None,
        metadata_ttl: float | None = None,
        on_request: Hook | Sequence[Hook] | None = None,
        on_response: Hook | Sequence[Hook] | None = None,
        http_client: httpx.AsyncClient | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Clock | None = None,
    ) -> AsyncClient:
        """A copy with the given settings changed (``None``: as here); it takes every argument
        the constructor does. The copy shares this client's connections, and its rate limiter
        and metadata cache unless it talks to another account (``api_key``, ``base_url``) or
        changes ``metadata_ttl`` or ``clock``; ``http_client`` or ``transport`` give it its own."""
        self._check_open()
        old = self._options
        options = old.updated(
            api_key=api_key,
            base_url=base_url,
            version=api_version,
            timeout=timeout,
            max_retries=max_retries,
            rate_limit=rate_limit,
            idempotency_keys=idempotency_keys,
            log=log,
            metadata_ttl=metadata_ttl,
            on_request=on_request,
            on_response=on_response,
        )
        inner = inner_transport(http_client, transport)
        pool = self._shared.pool if inner is None else SharedPool(inner)
        same = (options.api_key, options.base_url, options.metadata_ttl) == (
            old.api_key,
            old.base_url,
            old.metadata_ttl,
        )
        shared = self._shared
        if inner is not None or clock is not None or not same:
            shared = Shared(pool, options.metadata_ttl, clock or self._shared.clock)
        copy = object.__new__(type(self))
        copy._setup(options, shared)
        return copy

    def records(self, object: ObjectRef) -> AsyncRecords:
        """The records of one object, by slug, id or ``ObjectIdentifier``: ``crm.records("people")``."""
        return AsyncRecords(self, object)

    def entries(self, list: ListRef) -> AsyncEntries:
        """The entries of one list, by slug, id or ``ListIdentifier``."""
        return AsyncEntries(self, list)

    @checked_keywords
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
        constants: Mapping[str, Any] | None = None,
        ignore: Iterable[str] = (),
        unmapped: str = "error",
        journal: str | os.PathLike[str] | None = None,
        progress: Progress | bool | None = None,
        date_formats: Sequence[str] = (),
        dayfirst: bool = False,
        timezone: dt.tzinfo | str | None = None,
        phone_region: str | None = None,
        decimal: str = ".",
        max_cell_chars: int = 10_000,
        batch_size: int = 100,
        total: int | None = None,
    ) -> ImportReport:
        """Import a CSV, JSON lines, Excel or Parquet file into ``object``'s records.

        Columns map to attributes by header unless ``mapping`` says otherwise (``Column``,
        from ``overlay.io``, for a split or a transform); cells are coerced by each
        attribute's type. With ``match`` (a unique attribute) rows upsert, else they
        create; a repeated ``match`` value is rejected. ``dry_run`` checks every row
        against the schema and counts what would be created and updated, writing nothing.
        Rejected rows go to ``error_file`` (in the input's format, UTF-8, with ``_row`` and
        ``_error`` columns) and to the report: ``accepted + failed == total``. A misspelt
        option is a ``TypeError`` naming the nearest one.
        """
        from ..io._read import open_source, refuse_overwriting
        from .importer import import_table

        refuse_overwriting(path, error_file=error_file, journal=journal)
        table = open_source(path, format, encoding, delimiter, sheet)
        return await import_table(
            self, table, object, match=match, mapping=mapping, dry_run=dry_run, error_file=error_file,
            constants=constants, ignore=ignore, unmapped=unmapped, journal=journal, progress=progress,
            date_formats=date_formats, dayfirst=dayfirst, timezone=timezone, phone_region=phone_region,
            decimal=decimal, max_cell_chars=max_cell_chars, batch_size=batch_size, total=total,
        )  # fmt: skip

    @checked_keywords
    async def import_rows(
        self,
        rows: Iterable[Mapping[str, Any]] | Any,
        object: str,
        *,
        match: str | None = None,
        mapping: Mapping[str, Mapped] | None = None,
        dry_run: bool = False,
        error_file: str | os.PathLike[str] | None = None,
        constants: Mapping[str, Any] | None = None,
        ignore: Iterable[str] = (),
        unmapped: str = "error",
        journal: str | os.PathLike[str] | None = None,
        progress: Progress | bool | None = None,
        date_formats: Sequence[str] = (),
        dayfirst: bool = False,
        timezone: dt.tzinfo | str | None = None,
        phone_region: str | None = None,
        decimal: str = ".",
        max_cell_chars: int = 10_000,
        batch_size: int = 100,
        total: int | None = None,
    ) -> ImportReport:
        """Import mappings of column to value, or a pandas DataFrame, as ``import_file`` does a file."""
        from ..io._read import open_source
        from .importer import import_table

        return await import_table(
            self, open_source(rows, None, None, None, None), object, match=match, mapping=mapping,
            dry_run=dry_run, error_file=error_file, constants=constants, ignore=ignore, unmapped=unmapped,
            journal=journal, progress=progress, date_formats=date_formats, dayfirst=dayfirst,
            timezone=timezone, phone_region=phone_region, decimal=decimal, max_cell_chars=max_cell_chars,
            batch_size=batch_size, total=total,
        )  # fmt: skip

    async def search(
        self, query: str, *, objects: Sequence[str] = NOT_GIVEN, limit: int = NOT_GIVEN
    ) -> list[SearchResult]:
        """Records whose name, email, domain or other text matches ``query``, best first."""
        body = build_body(
            models.SearchRequest, {"query": query, "objects": objects, "limit": limit}, wrap=False
        )
        results: list[SearchResult] = await self.call(operations.SEARCH_RECORDS, body=body, cast=data_of)
        return results

    async def whoami(self) -> TokenInfo:
        """The token in use: its workspace, scopes and default API version."""
        info: TokenInfo = await self.call(operations.GET_SELF, cast=data_of)
        return info

    # ------------------------------------------------------------------ the request path

    def _check_open(self) -> None:
        if self._http.is_closed:
            raise ClientClosedError(
                "This client was closed (close() or the end of its with block); make a new one."
            )

    async def send(self, operation: Operation, *args: Any, **kwargs: Any) -> httpx.Response:
        """Send one operation's request through the stack; what goes wrong becomes an
        overlay error, its text (and that of the exception it wraps) free of secrets."""
        self._check_open()
        built: dict[str, Any] = {}
        args = path_args(operation, args)
        try:
            built = request_kwargs(operation, args, kwargs)
            request = self._http.build_request(**built, extensions={OPERATION: operation.id})
        except UnicodeEncodeError:
            problem = unencodable_text(built or {"path": path_parameters(operation, args), **kwargs})
            raise InvalidArgumentError(f"{operation.id}: {problem}") from None
        except RecursionError:
            raise InvalidArgumentError(f"{operation.id}: the body nests too deeply to send.") from None
        except (ValueError, TypeError, httpx.InvalidURL) as exc:  # NaN, a 5,000-digit int, bytes
            raise InvalidArgumentError(f"{operation.id}: the request cannot be built: {exc}") from None
        try:
            return await self._http.send(request)
        except RecursionError:
            raise ResponseParseError(operation.id, "nested too deeply to read") from None
        except httpx.TimeoutException as exc:
            _logging.redact_exception(exc, [self._options.api_key])
            raise APITimeoutError(f"The request timed out: {type(exc).__name__}.") from exc
        except httpx.HTTPError as exc:
            _logging.redact_exception(exc, [self._options.api_key])
            raise APIConnectionError(f"Could not reach the API: {exc or type(exc).__name__}.") from exc

    async def fetch(
        self, operation: Operation, *args: Any, parse: bool = True, **kwargs: Any
    ) -> tuple[Any, httpx.Response]:
        """The operation's typed result (or, unless ``parse``, a page's unparsed ``data`` list)
        and its response; an error status raises its ``APIStatusError``."""
        response = await self.send(operation, *args, **kwargs)
        if not parse:
            return decode_page(operation, response), response
        return decode(operation, response), response

    async def call(
        self, operation: Operation, *args: Any, cast: Cast[T], raw: bool = False, **kwargs: Any
    ) -> Any:
        """``cast`` of the typed result, or the raw response (whose ``parse()`` casts) when ``raw``."""
        parsed, response = await self.fetch(operation, *args, **kwargs)
        request_id = response.headers.get("x-request-id")

        def result() -> Any:
            try:
                return cast(parsed, request_id)
            except CRMError:
                raise
            except (AttributeError, KeyError, TypeError, ValueError) as exc:
                raise ResponseParseError.from_exception(operation.id, exc, request_id=request_id) from exc

        if raw:
            return RawResponse(response, result)
        return result()

    # ------------------------------------------------------------------ lifetime

    async def close(self) -> None:
        """Close this client; the connections close with the last copy of it."""
        if self._http.is_closed:
            return
        await self._http.aclose()
        shared, pool = self._shared, self._shared.pool
        shared.users -= 1
        pool.users -= 1
        try:
            if shared.users == 0:
                await shared.aclose()
        finally:
            if pool.users == 0:
                await pool.transport.aclose()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()
