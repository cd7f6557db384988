"""The rows of one import on their way to records: converted, their references looked up
through the API, checked for a dry run. ``importer.py`` drives them and writes them."""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from .._bulk_core.report import BulkReport, Progress
from .._metadata_core import AttributeInfo
from .._records import Record
from ..io._cells import CellError, Lookup
from ..io._coerce import Coercer
from ..io._plan import Plan, Problem, RowError
from ..io._report import ErrorFile, ImportReport, Rejection
from ..io._table import ROW_COLUMN, Row, Table

if TYPE_CHECKING:
    from .._ids import ObjectRef
    from .metadata import AsyncMetadata


class AsyncImportClient(Protocol):
    """What an import uses of a client: its schema, bulk writes and the records it looks up."""

    @property
    def metadata(self) -> AsyncMetadata: ...

    @property
    def bulk(self) -> AsyncBulkWrites: ...

    def records(self, object: ObjectRef) -> AsyncLookupSource: ...


class AsyncBulkWrites(Protocol):
    """The bulk writes an import sends its rows through (``client.bulk`` is one)."""

    async def create(
        self,
        object: str,
        items: AsyncIterable[Any],
        *,
        journal: str | os.PathLike[str] | None = None,
        progress: Progress | bool | None = None,
        batch_size: int = ...,
    ) -> BulkReport: ...

    async def upsert(
        self,
        object: str,
        items: AsyncIterable[Any],
        *,
        matching_attribute: str,
        journal: str | os.PathLike[str] | None = None,
        progress: Progress | bool | None = None,
        batch_size: int = ...,
        concurrency: int = ...,
    ) -> BulkReport: ...


class AsyncLookupSource(Protocol):
    """The records of one object, as the importer looks up references in them."""

    def query(self, filter: Any = None, *, page_size: int = ...) -> AsyncIterable[Record]: ...


CHUNK = 500  # rows converted, looked up and checked together
LOOKUP_BATCH = 200  # values per look-up query


def _needs(missing: list[str]) -> str:
    return f"a new record needs {', '.join(map(repr, missing))}, which the row has no value for"


def _key(info: AttributeInfo, value: Any) -> str:
    """A value as the API compares it for matching: addresses and domains ignore case."""
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)
    return text.lower() if info.type in ("email-address", "domain") else text


@dataclass
class _Entry:
    """A row on its way: its values so far and every problem found in it."""

    row: Row
    values: dict[str, Any]
    problems: list[Problem]


def _source_row(row: Row) -> int | None:
    """The row of the original file, when this file is an error file fed back (its ``_row``)."""
    cell = row.cells.get(ROW_COLUMN) if row.cells is not None else None
    if isinstance(cell, float) and cell.is_integer():
        cell = int(cell)
    if isinstance(cell, str) and cell.strip().isdigit():
        cell = int(cell.strip())
    return cell if isinstance(cell, int) and not isinstance(cell, bool) and cell > 0 else None


class RowImporter:
    """Converts rows to values, resolves references by a unique attribute, and checks a dry run."""

    def __init__(
        self,
        client: AsyncImportClient,
        plan: Plan,
        report: ImportReport,
        errors: ErrorFile | None,
        targets: dict[str, dict[str, AttributeInfo]],
    ) -> None:
        self.client = client
        self.plan = plan
        self.report = report
        self.errors = errors
        self.targets = targets  # the attributes of each object a reference may point to
        self.seen: dict[str, int] = {}  # match value → the row that has it
        self.found: dict[tuple[str, str, str], str | None] = {}  # look-up → record id
        self.required = [s for s, a in plan.attributes.items() if a.required]

    def reject(self, row: Row, problems: list[Problem]) -> None:
        error = RowError.of(problems)
        source = _source_row(row)
        self.report.failed += 1
        self.report.rejections.append(
            Rejection(row.number, error.column, error.reason, tuple(error.problems), source)
        )
        if self.errors is not None:
            self.errors.add(row, error.reason, source)

    async def chunks(self, table: Table) -> AsyncIterator[list[tuple[Row, dict[str, Any]]]]:
        """The table's rows in chunks, converted and looked up; rejected rows are left out."""
        chunk: list[_Entry] = []
        for row in table:
            chunk.append(self.convert(row))
            if len(chunk) >= CHUNK:
                yield await self.resolve(chunk)
                chunk = []
        if chunk:
            yield await self.resolve(chunk)

    def convert(self, row: Row) -> _Entry:
        """The row's values and every problem of its cells (a required value missing too,
        when the row can only create)."""
        self.report.total += 1
        values, problems = self.plan.convert(row)
        if row.cells is None:
            return _Entry(row, values, problems)
        blamed = {column for column, _ in problems}
        match = self.plan.match
        if match is not None and match not in values:
            column = next((t.column for t in self.plan.targets if t.slug == match), None)
            if column not in blamed:
                problems.append((column, f"no value for {match!r}, the attribute rows are matched on"))
        if match is None:
            missing = [
                slug for slug in self.required if slug not in values and not self._blamed(slug, blamed)
            ]
            if missing:
                problems.append((None, _needs(missing)))
        return _Entry(row, values, problems)

    def _blamed(self, slug: str, blamed: set[str | None]) -> bool:
        return any(t.slug == slug and t.column in blamed for t in self.plan.targets)

    def settle(self, chunk: list[_Entry]) -> list[tuple[Row, dict[str, Any]]]:
        """In row order: reject the rows with problems and those repeating an earlier match
        value; the others go on."""
        kept: list[tuple[Row, dict[str, Any]]] = []
        match = self.plan.match
        for entry in chunk:
            if entry.problems:
                self.reject(entry.row, entry.problems)
                continue
            if match is not None:
                value = entry.values[match]
                keys = [
                    _key(self.plan.attributes[match], v)
                    for v in (value if isinstance(value, list) else [value])
                ]
                earlier = next((self.seen[k] for k in keys if k in self.seen), None)
                if earlier is not None:
                    reason = f"the same {match} as row {earlier}, which is imported instead"
                    self.reject(entry.row, [(None, reason)])
                    continue
                for key in keys:
                    self.seen[key] = entry.row.number
            kept.append((entry.row, entry.values))
        return kept

    async def resolve(self, chunk: list[_Entry]) -> list[tuple[Row, dict[str, Any]]]:
        """Replace each ``Lookup`` by the record it finds (a look-up that finds none is a
        problem of its row), then settle the chunk."""
        wanted: dict[tuple[str, str], set[str]] = {}
        for entry in chunk:
            for value in entry.values.values():
                for item in value if isinstance(value, list) else [value]:
                    if (
                        isinstance(item, Lookup)
                        and (item.object, item.attribute, item.value) not in self.found
                    ):
                        wanted.setdefault((item.object, item.attribute), set()).add(item.value)
        for (object, attribute), raw in wanted.items():
            await self._look_up(object, attribute, raw)
        for entry in chunk:
            for slug, value in list(entry.values.items()):
                try:
                    entry.values[slug] = self._resolved(slug, value)
                except RowError as exc:
                    entry.problems.append((exc.column, exc.reason))
            entry.problems.sort(key=lambda problem: self.plan.position(problem[0]))
        return self.settle(chunk)

    async def _look_up(self, object: str, attribute: str, raw: set[str]) -> None:
        info = self.targets[object][attribute]
        normal: dict[str, list[str]] = {}
        for text in raw:
            try:
                value = Coercer(info, self.plan.settings).one(text, {})
            except CellError:
                self.found[object, attribute, text] = None
                continue
            normal.setdefault(_key(info, value), []).append(text)
        async for record in self._having(object, attribute, sorted(normal)):
            for value in record.all(attribute):
                for text in normal.get(_key(info, value), ()):
                    self.found[object, attribute, text] = record.id
        for texts in normal.values():
            for text in texts:
                self.found.setdefault((object, attribute, text), None)

    def _resolved(self, slug: str, value: Any) -> Any:
        if isinstance(value, list):
            return [self._resolved(slug, v) for v in value]
        if not isinstance(value, Lookup):
            return value
        record_id = self.found.get(value.key)
        if record_id is None:
            column = next((t.column for t in self.plan.targets if t.slug == slug), None)
            missing = f"no {value.object} record has {value.attribute} = {value.value!r}"
            raise RowError(column, f"column {column!r} ({slug}): {missing}")
        return {"target_object": value.object, "target_record_id": record_id}

    async def existing(self, chunk: list[tuple[Row, dict[str, Any]]]) -> set[str]:
        """The match keys of this chunk that already belong to a record (for a dry run)."""
        match = self.plan.match
        if match is None:
            return set()
        info = self.plan.attributes[match]
        keys: list[str] = []
        for _, values in chunk:
            value = values[match]
            keys += [
                v if isinstance(v, str) else json.dumps(v)
                for v in (value if isinstance(value, list) else [value])
            ]
        found: set[str] = set()
        async for record in self._having(self.plan.object, match, keys):
            found.update(_key(info, v) for v in record.all(match))
        return found

    async def _having(self, object: str, attribute: str, values: list[Any]) -> AsyncIterator[Record]:
        """The records of ``object`` whose ``attribute`` has any of ``values``, a query per 200."""
        for start in range(0, len(values), LOOKUP_BATCH):
            batch = values[start : start + LOOKUP_BATCH]
            async for record in self.client.records(object).query(
                {attribute: {"$in": batch}}, page_size=1000
            ):
                yield record

    def check_dry(self, chunk: list[tuple[Row, dict[str, Any]]], existing: set[str]) -> None:
        """Count what each row would do; a new record must have every required attribute."""
        match = self.plan.match
        required = [s for s, a in self.plan.attributes.items() if a.required]
        for row, values in chunk:
            if match is not None:
                info = self.plan.attributes[match]
                value = values[match]
                keys = {_key(info, v) for v in (value if isinstance(value, list) else [value])}
                if keys & existing:
                    self.report.accepted += 1
                    self.report.updated += 1
                    continue
            missing = [slug for slug in required if slug not in values]
            if missing:
                self.reject(row, [(None, _needs(missing))])
                continue
            self.report.accepted += 1
            self.report.created += 1
