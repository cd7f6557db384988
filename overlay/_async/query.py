"""``records("people").where(...).order_by(...).limit(n)``: an immutable query of records.

Each method returns a new query; nothing is sent until the query is iterated or asked for
``first()``, ``exists()``, ``count()``, ``pluck()``, ``to_list()`` or ``aggregate()``. Then,
before the first request, the filter, sort keys, ``include`` slugs and the attributes read
by ``pluck`` and ``aggregate`` are checked against the cached metadata.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from .._dsl.aggregate import Aggregator
from .._dsl.check import check_readable
from .._dsl.expr import Expr, as_filter
from .._dsl.from_json import from_filter
from .._dsl.sorts import sorts_of
from .._errors import InvalidArgumentError
from .._paging import Filter, Page
from .._records import Record, RecordList
from ..io._keywords import checked_keywords
from .pagination import AsyncPaginator

if TYPE_CHECKING:
    from .._bulk_core.report import Progress
    from ..io._report import ExportReport
    from .exporter import AsyncFeed
    from .metadata import AsyncMetadata


class AsyncQueryRecords(Protocol):
    """What a query uses of ``client.records(object)``: the object, its schema and the list call."""

    object: str

    @property
    def metadata(self) -> AsyncMetadata: ...

    @property
    def feed(self) -> AsyncFeed | None: ...

    async def count(self, filter: Filter | None = None, *, check: bool = True) -> int: ...

    def query(
        self,
        filter: Filter | None = None,
        *,
        sorts: Sequence[Mapping[str, Any]] | None = None,
        include: Sequence[str] = (),
        page_size: int = ...,
        max_items: int | None = None,
        check: bool = True,
    ) -> AsyncPaginator[Record]: ...


@dataclasses.dataclass(frozen=True)
class AsyncQuery:
    """A query of one object's records: filter, order, limit, included references, page size."""

    records: AsyncQueryRecords
    filter: Expr | None = None
    sorts: tuple[str, ...] = ()
    max_items: int | None = None
    includes: tuple[str, ...] = ()
    per_page: int = 500

    def __repr__(self) -> str:
        parts = [f"records({self.records.object!r})"]
        if self.filter is not None:
            parts.append(f"where({self.filter!r})")
        if self.sorts:
            parts.append(f"order_by({', '.join(map(repr, self.sorts))})")
        if self.max_items is not None:
            parts.append(f"limit({self.max_items})")
        if self.includes:
            parts.append(f"include({', '.join(map(repr, self.includes))})")
        if self.per_page != AsyncQuery.per_page:
            parts.append(f"page_size({self.per_page})")
        return ".".join(parts)

    def where(self, *filters: Filter) -> AsyncQuery:
        """Narrow the query: ``F`` expressions, text (``"rating >= 3"``) or filter JSON, all ANDed."""
        combined = self.filter
        for given in filters:
            expr = _expr(given)
            combined = expr if combined is None else combined & expr
        return dataclasses.replace(self, filter=combined)

    def order_by(self, *keys: str) -> AsyncQuery:
        """Sort by ``"slug"``, ``"-slug"`` (descending) or ``"slug.property"``, in turn."""
        sorts_of(keys)  # refuse a bad key now, not at the first page
        return dataclasses.replace(self, sorts=self.sorts + tuple(keys))

    def limit(self, n: int) -> AsyncQuery:
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise InvalidArgumentError(f"limit() takes a whole number, 0 or more, got {n!r}.")
        return dataclasses.replace(self, max_items=n)

    def include(self, *slugs: str) -> AsyncQuery:
        """Fetch the records these reference attributes point to: ``rec["company"]`` is then a
        ``Record`` (``None`` if it was deleted) instead of the target's record id."""
        for slug in slugs:
            if not isinstance(slug, str) or not slug:
                raise InvalidArgumentError(f"include() takes attribute slugs, got {slug!r}.")
        return dataclasses.replace(self, includes=self.includes + slugs)

    def page_size(self, n: int) -> AsyncQuery:
        """Ask for ``n`` records a request (1 to 1000; 500 unless set)."""
        if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= 1000:
            raise InvalidArgumentError(f"page_size() takes 1 to 1000, got {n!r}.")
        return dataclasses.replace(self, per_page=n)

    def _paginator(
        self, max_items: int | None = None, page_size: int | None = None, include: bool = True
    ) -> AsyncPaginator[Record]:
        limits = [n for n in (self.max_items, max_items) if n is not None]
        return self.records.query(
            self.filter,
            sorts=sorts_of(self.sorts) or None,
            include=self.includes if include else (),
            page_size=page_size or self.per_page,
            max_items=min(limits) if limits else None,
        )

    async def _check_readable(self, slugs: Sequence[str], action: str) -> dict[str, str]:
        """The object's schema (cached), once ``slugs`` are known attributes or pseudo-attributes."""
        object = self.records.object
        schema = await self.records.metadata.schema(object)
        check_readable(slugs, object, schema, action)
        return schema

    def filter_json(self) -> dict[str, Any] | None:
        """The filter as the API receives it."""
        filter = as_filter(self.filter, self.records.object)
        return None if filter is None else dict(filter)

    async def __aiter__(self) -> AsyncIterator[Record]:
        async for record in self._paginator():
            yield record

    def pages(self) -> AsyncIterator[Page[Record]]:
        return self._paginator().pages()

    async def to_list(self) -> RecordList:
        found: RecordList = await self._paginator().to_list()  # type: ignore[assignment]
        return found

    async def first(self) -> Record | None:
        return await self._paginator(max_items=1).first()

    async def exists(self) -> bool:
        return await self.first() is not None

    async def count(self) -> int:
        """How many records match (at most ``limit()``), counted in the server at API version
        2026-12-01 and later, page by page before."""
        total = await self.records.count(self.filter)
        return total if self.max_items is None else min(total, self.max_items)

    async def pluck(self, *slugs: str) -> list[Any]:
        """The plain first value of ``slug`` of each record; tuples for several slugs.

        ``record_id``, ``created_at`` and ``updated_at`` read like attributes.
        """
        if not slugs:
            raise InvalidArgumentError("pluck() needs at least one attribute slug.")
        await self._check_readable(slugs, "pluck")
        values: list[Any] = []
        async for record in self._paginator():
            values.append(
                record.first(slugs[0]) if len(slugs) == 1 else tuple(record.first(s) for s in slugs)
            )
        return values

    @checked_keywords
    async def export(
        self,
        path: str | os.PathLike[str],
        *,
        format: str | None = None,
        columns: Sequence[str] | None = None,
        flatten: str | Mapping[str, str] = "join",
        state: str | os.PathLike[str] | None = None,
        split_rows: int | None = None,
        escape_formulas: bool = True,
        progress: Progress | bool | None = None,
    ) -> ExportReport:
        """Write the matching records to a CSV, JSON lines (``.jsonl.gz``: gzipped), Excel or
        Parquet file, page by page in constant memory.

        ``columns``: ``record_id`` and the attributes to write (default: all). ``flatten``:
        ``"first"``, ``"join"`` or ``"json"``, or a mapping of slug to mode. ``state``: a file
        that keeps the watermark, so the next run writes only the records changed since.
        ``split_rows``: at most this many rows per file (``out-00001.csv``, ...). CSV and
        Excel cells that would run as formulas get a leading ``'`` unless
        ``escape_formulas=False``.
        """
        from .exporter import export_query

        return await export_query(
            self, path, format=format, columns=columns, flatten=flatten, state=state,
            split_rows=split_rows, escape_formulas=escape_formulas, progress=progress,
        )  # fmt: skip

    @checked_keywords
    async def to_pandas(
        self, columns: Sequence[str] | None = None, flatten: str | Mapping[str, str] = "join"
    ) -> Any:
        """The matching records as a pandas DataFrame: a row per record, a column per
        attribute (flattened as ``export`` does), dates and timestamps typed."""
        from .exporter import query_frame

        return await query_frame(self, columns, flatten)

    async def aggregate(self, *specs: str, group_by: str | None = None) -> dict[str, Any]:
        """``count``, ``sum(x)``, ``avg(x)``, ``min(x)``, ``max(x)`` over every match, per group.

        The attributes are checked first (nothing is sent for an unknown one, or a sum of
        text). ``group_by`` groups by an attribute's first value; a record reference groups
        by its target's record id.
        """
        totals = Aggregator(specs, group_by)
        object = self.records.object
        totals.check(object, await self.records.metadata.schema(object))
        async for page in self._paginator(page_size=1000, include=False).pages():
            for record in page.items:
                totals.add(record)
        return totals.result()


def _expr(given: Filter) -> Expr:
    if isinstance(given, Expr):
        return given
    if isinstance(given, str):
        from .._dsl.text import parse_text

        return parse_text(given)
    if isinstance(given, Mapping):
        return from_filter(given)
    raise InvalidArgumentError(
        f"where() takes F expressions, text or filter JSON, got {type(given).__name__}."
    )
