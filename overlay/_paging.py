"""What sync and async paging share, I/O-free: a ``Page``, the page sizes, and ``Filter``.

``overlay.Page`` is this one class, whichever client fetched the page.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from ._dsl.expr import Expr

if TYPE_CHECKING:
    import httpx

    from ._response import RawResponse

T = TypeVar("T")
Token = str | int | None  # where a page starts: an offset, a cursor, or None for the first

# What a query's filter may be: an expression, a JSON filter, or the text language.
Filter = Expr | Mapping[str, Any] | str

# The most records one query may return, and the page sizes the paginators ask for.
QUERY_LIMIT = 1000
RECORDS_PAGE = 500
CURSOR_PAGE = 100


@dataclass
class Page(Generic[T]):
    """One page: its items, where the next page starts (``None`` on the last) and its response."""

    items: list[T]
    next: Token
    raw: RawResponse[Any]

    def __len__(self) -> int:
        """How many items the page holds."""
        return len(self.items)

    @property
    def request_id(self) -> str | None:
        return self.raw.request_id

    @property
    def http_response(self) -> httpx.Response:
        return self.raw.http_response
