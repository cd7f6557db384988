"""Iterate every item of a paginated endpoint, offset or cursor, page by page.

A resource gives the paginator one function, ``fetch(token, want)``, that gets the page at
``token`` (``None`` for the first) holding at most ``want`` items (``None``: any number)
and says where the next page starts. Everything else is here, once.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Generic, TypeVar

from .._errors import InvalidArgumentError
from .._paging import Page, Token

T = TypeVar("T")


Fetch = Callable[[Token, int | None], Awaitable[Page[T]]]


class AsyncPaginator(Generic[T]):
    """``async for item in paginator``, ``async for page in paginator.pages()``, and
    ``await paginator.to_list()`` (or ``first()``).

    Stops after ``max_items`` items when given. Nothing is fetched until iteration starts,
    and each iteration starts again from the first page. ``pages()`` yields an empty page
    only when there are no items at all.
    """

    def __init__(
        self,
        fetch: Fetch[T],
        *,
        max_items: int | None = None,
        collect: Callable[[list[T]], list[T]] = list,
    ) -> None:
        if max_items is not None and (
            isinstance(max_items, bool) or not isinstance(max_items, int) or max_items < 0
        ):
            raise InvalidArgumentError(f"max_items is a whole number, 0 or more, got {max_items!r}.")
        self._fetch = fetch
        self._max_items = max_items
        self._collect = collect

    async def pages(self) -> AsyncIterator[Page[T]]:
        token: Token = None
        seen = 0
        while True:
            want = None if self._max_items is None else self._max_items - seen
            if want is not None and want <= 0:
                return
            page = await self._fetch(token, want)
            if want is not None and len(page.items) > want:
                page = Page(page.items[:want], None, page.raw)
            if page.items or not seen:  # an empty page only when nothing matched
                yield page
            seen += len(page.items)
            if page.next is None or not page.items:
                return
            token = page.next

    async def __aiter__(self) -> AsyncIterator[T]:
        async for page in self.pages():
            for item in page.items:
                yield item

    async def to_list(self) -> list[T]:
        """Every item (up to ``max_items``); records come as a ``RecordList``."""
        items: list[T] = []
        async for page in self.pages():
            items.extend(page.items)
        return self._collect(items)

    async def first(self) -> T | None:
        """The first item, fetching a page of one; ``None`` when there is none."""
        page = await self._fetch(None, 1)
        return page.items[0] if page.items else None

    async def first_page(self) -> Page[T]:
        return await self._fetch(None, self._max_items)
