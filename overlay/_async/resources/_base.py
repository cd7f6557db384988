"""What every resource shares: the call, raw responses, cursor and offset pages."""

from __future__ import annotations

import copy
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar, cast

from crm_client import models, operations  # models: a lazy package, each model loads on first use
from crm_client.types import UNSET

from ..._dsl.expr import as_filter
from ..._dsl.text import parse_text
from ..._errors import APIStatusError, InvalidArgumentError
from ..._metadata_core import SUGGESTIBLE, Names
from ..._paging import QUERY_LIMIT, Filter, Page, Token
from ..._response import NOT_GIVEN, RawResponse, build_body, data_of
from ..pagination import AsyncPaginator

if TYPE_CHECKING:
    import httpx
    from crm_client.operations import Operation

    from ..requester import AsyncRequester


T = TypeVar("T")
P = ParamSpec("P")
R = TypeVar("R", bound="_AsyncResource")


def raw_call(method: Callable[P, Awaitable[T]]) -> Callable[P, Awaitable[RawResponse[T]]]:
    """A raw copy's API call, typed as what it answers there: the ``RawResponse`` of ``T``."""
    return cast(Any, method)


def raw_page(method: Callable[P, AsyncPaginator[T]]) -> Callable[P, Awaitable[RawResponse[list[T]]]]:
    """A raw copy's paginated call: the ``RawResponse`` of its first page."""
    return cast(Any, method)


def _none(parsed: Any, request_id: str | None) -> None:
    return None


QUERY_OF = {
    operations.COUNT_RECORDS: operations.QUERY_RECORDS,
    operations.COUNT_ENTRIES: operations.QUERY_ENTRIES,
}


def _count_of(parsed: Any, request_id: str | None) -> int:
    return int(parsed.data.count)


def _given(value: Any) -> Any:
    """An operation's keyword: UNSET when the caller left it out."""
    return UNSET if value is NOT_GIVEN or value is None else value


class _AsyncResource:
    def __init__(self, client: AsyncRequester) -> None:
        self._client = client
        self._raw = False

    def _raw_copy(self: R) -> R:
        """This resource with its calls answering ``RawResponse``s (``with_raw_response``)."""
        raw = copy.copy(self)
        raw._raw = True
        return raw

    async def _call(
        self, operation: Operation, *args: Any, cast: Any = data_of, names: Names | None = None, **kwargs: Any
    ) -> Any:
        """The requester's ``call``; a 404 or 400 about a slug gets the nearest known one."""
        try:
            return await self._client.call(operation, *args, cast=cast, raw=self._raw, **kwargs)
        except APIStatusError as error:
            await self._suggest(error, names)
            raise

    async def _fetch(
        self, operation: Operation, *args: Any, names: Names | None = None, **kwargs: Any
    ) -> tuple[Any, httpx.Response]:
        """The requester's ``fetch``, with the suggestion ``_call`` gives."""
        try:
            return await self._client.fetch(operation, *args, **kwargs)
        except APIStatusError as error:
            await self._suggest(error, names)
            raise

    async def _suggest(self, error: APIStatusError, names: Names | None) -> None:
        if names is not None and error.code in SUGGESTIBLE:
            error.suggestion = await self._client.metadata.suggest(error.code, names)

    def _paginate(self, fetch: Any, max_items: int | None, collect: Any = list) -> Any:
        paginator: AsyncPaginator[Any] = AsyncPaginator(fetch, max_items=max_items, collect=collect)
        return self._first_raw(paginator) if self._raw else paginator

    async def _first_raw(self, paginator: AsyncPaginator[Any]) -> RawResponse[Any]:
        return (await paginator.first_page()).raw

    async def _count(
        self, operation: Operation, parent: str, filter: Filter | None, check: Any = None
    ) -> Any:
        """How many match ``filter`` by a count operation, the filter prepared as ``_offset_pages``
        prepares a query's; at an API version without the operation, every page counted."""
        if not operation.served_at(self._client.api_version) and not self._raw:
            total = 0
            query = QUERY_OF[operation]
            pages = self._offset_pages(query, parent, filter, None, QUERY_LIMIT, None, check=check)
            async for page in pages.pages():
                total += len(page.items)
            return total
        expr = parse_text(filter) if isinstance(filter, str) else filter
        json = as_filter(await check(expr) if check is not None else expr, parent)
        body = build_body(models.CountRequest, {} if json is None else {"filter": json}, wrap=False)
        return await self._call(
            operation, parent, body=body, cast=_count_of, names=Names.of_filter(parent, json, None)
        )

    def _cursor_pages(
        self, operation: Operation, *args: Any, page_size: int, max_items: int | None, **kwargs: Any
    ) -> Any:
        """A paginator over a cursor operation (``limit`` + ``cursor`` → ``pagination.next_cursor``)."""

        async def fetch(cursor: Token, want: int | None) -> Page[Any]:
            limit = min(page_size, want) if want else page_size
            parsed, response = await self._fetch(
                operation, *args, limit=limit, cursor=_given(cursor), **kwargs
            )
            request_id = response.headers.get("x-request-id")
            items = data_of(parsed, request_id)
            return Page(items, parsed.pagination.next_cursor, RawResponse(response, lambda: items))

        return self._paginate(fetch, max_items)

    def _offset_pages(
        self,
        operation: Operation,
        parent: str,
        filter: Filter | None,
        sorts: Sequence[Mapping[str, Any]] | None,
        page_size: int,
        max_items: int | None,
        *,
        items: Any = None,
        check: Any = None,
        collect: Any = list,
    ) -> Any:
        """A paginator over a query operation (``limit`` + ``offset``; a short page is the last).

        A text filter is parsed; then ``check(filter)`` (awaited, once, before the first page)
        gives the filter to send. ``items(data, request_id)`` turns a page's unparsed ``data``
        list into its items; without it, items are the operation's typed models.
        """
        if isinstance(page_size, bool) or not isinstance(page_size, int) or not 1 <= page_size <= QUERY_LIMIT:
            raise InvalidArgumentError(f"page_size takes 1 to {QUERY_LIMIT}, got {page_size!r}.")
        expr = parse_text(filter) if isinstance(filter, str) else filter
        ready: dict[str, Any] = {}

        async def prepare() -> tuple[Mapping[str, Any] | None, Names]:
            if not ready:
                final = expr
                if check is not None:
                    final = await check(final)
                json = as_filter(final, parent)
                ready["filter"], ready["names"] = json, Names.of_filter(parent, json, sorts)
            return ready["filter"], ready["names"]

        async def fetch(offset: Token, want: int | None) -> Page[Any]:
            limit = min(page_size, want) if want else page_size
            filter_json, names = await prepare()
            request = {"filter": filter_json, "sorts": sorts, "limit": limit, "offset": offset or 0}
            body = build_body(
                models.RecordQueryRequest, {k: v for k, v in request.items() if v is not None}, wrap=False
            )
            parsed, response = await self._fetch(
                operation, parent, body=body, names=names, parse=items is None
            )
            request_id = response.headers.get("x-request-id")
            found = await items(parsed, request_id) if items else data_of(parsed, request_id)
            following = int(offset or 0) + len(found) if len(found) == limit else None
            return Page(found, following, RawResponse(response, lambda: found))

        return self._paginate(fetch, max_items, collect)
