"""Import files and rows into records, and export queries to files.

The file handling, the mapping and the coercion are in ``overlay.io`` and do no I/O with
the API; this module adds what needs the API: the object's schema, record references
looked up by a unique attribute, what a dry run would create or update, and the writes,
which go through ``client.bulk`` (batches, progress, a journal to resume, each row
applied once).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import time
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, Self

from .._bulk import MAX_BATCH_ITEMS, BulkReport, Progress, ProgressState, Sourced, content_key
from .._errors import CRMError, FileFormatError, InvalidArgumentError, MappingError
from .._metadata import AttributeInfo
from .._progress import renderer
from .._records import Record
from ..io._coerce import CellError, Coercer, Lookup, Settings
from ..io._flatten import ExportColumn, flatten_record, plan_columns
from ..io._plan import Mapped, Plan, Problem, RowError
from ..io._read import open_table, rows_table
from ..io._report import ErrorFile, ExportReport, ImportReport, Rejection
from ..io._table import ROW_COLUMN, Row, Table, format_of, require
from ..io._write import XLSX_MAX_ROWS, Writer, open_writer, tagged

if TYPE_CHECKING:
    from .._ids import ObjectRef
    from .metadata import AsyncMetadata
    from .pagination import Page


class AsyncIOClient(Protocol):
    """What the importer and the exporter use of a client: its schema, bulk writes and records."""

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


class AsyncExportSource(Protocol):
    """What the exporter reads of a query (``AsyncQuery`` is one): its object, filter, order and pages."""

    @property
    def records(self) -> AsyncSchemaSource: ...

    @property
    def sorts(self) -> tuple[str, ...]: ...

    def filter_json(self) -> dict[str, Any] | None: ...

    def where(self, *filters: Any) -> Self: ...

    def order_by(self, *keys: str) -> Self: ...

    def pages(self) -> AsyncIterator[Page[Record]]: ...


class AsyncSchemaSource(Protocol):
    """The object a query reads and the metadata that describes it."""

    @property
    def object(self) -> str: ...

    @property
    def metadata(self) -> AsyncMetadata: ...


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


class _Importer:
    def __init__(
        self,
        client: AsyncIOClient,
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


def _listed(value: Any) -> list[Any]:
    """``value`` as a list when it is iterable; ``[value]`` when it is not."""
    try:
        return list(value)
    except TypeError:
        return [value]


async def import_table(
    client: AsyncIOClient,
    table: Table,
    object: str,
    *,
    match: str | None = None,
    mapping: Mapping[str, Mapped] | None = None,
    constants: Mapping[str, Any] | None = None,
    ignore: Iterable[str] = (),
    unmapped: str = "error",
    dry_run: bool = False,
    error_file: str | os.PathLike[str] | None = None,
    journal: str | os.PathLike[str] | None = None,
    progress: Progress | bool | None = None,
    date_formats: Sequence[str] = (),
    dayfirst: bool = False,
    timezone: dt.tzinfo | None = None,
    phone_region: str | None = None,
    decimal: str = ".",
    max_cell_chars: int = 10_000,
    batch_size: int = MAX_BATCH_ITEMS,
    total: int | None = None,
) -> ImportReport:
    """Import the rows of an open table; the table is closed at the end."""
    started = time.perf_counter()
    if decimal not in (".", ","):
        raise InvalidArgumentError(f"decimal is '.' or ',', got {decimal!r}.")
    if isinstance(date_formats, str) or not all(isinstance(f, str) for f in _listed(date_formats)):
        raise InvalidArgumentError(
            f"date_formats is a list of strptime formats like ['%d/%m/%Y'], got {date_formats!r}."
        )
    settings = Settings(
        tuple(date_formats), dayfirst, timezone or dt.UTC, phone_region, decimal, max_cell_chars
    )
    with table:
        infos = await client.metadata.attribute_infos(object)
        targets, unique = await _reference_targets(client, infos)
        plan = Plan.build(
            object,
            infos,
            table.columns,
            mapping=mapping,
            constants=constants,
            ignore=ignore,
            unmapped=unmapped,
            match=match,
            settings=settings,
            unique=unique,
            unescape=table.format in ("csv", "xlsx"),
        )
        if not plan.targets:
            ignored = f" (ignored: {', '.join(map(repr, plan.ignored))})" if plan.ignored else ""
            raise MappingError(
                None,
                f"{table.name}: no column maps to an attribute of {object}{ignored}; "
                "nothing would be imported. Map a column with mapping= (--map COLUMN=ATTRIBUTE).",
            )
        _check_lookups(plan, targets)
        report = ImportReport(
            table.name,
            table.format,
            object,
            match,
            dry_run,
            table.encoding,
            table.delimiter,
            plan.describe(),
            plan.ignored,
        )
        errors = ErrorFile(error_file, table) if error_file is not None else None
        report.error_file = str(error_file) if error_file is not None else None
        importer = _Importer(client, plan, report, errors, targets)
        try:
            if dry_run:
                async for chunk in _chunks(importer, table):
                    importer.check_dry(chunk, await importer.existing(chunk))
            else:
                await _write(client, importer, table, journal, progress, batch_size, total)
        finally:
            if errors is not None:
                errors.close()
    report.cp1252_rows, report.cp1252_first_rows = table.fallback.count, list(table.fallback.first)
    report.rejections.sort(key=lambda rejection: rejection.row)
    report.elapsed = time.perf_counter() - started
    return report


async def _chunks(importer: _Importer, table: Table) -> AsyncIterator[list[tuple[Row, dict[str, Any]]]]:
    """The table's rows in chunks, converted and looked up; rejected rows are left out."""
    chunk: list[_Entry] = []
    for row in table:
        chunk.append(importer.convert(row))
        if len(chunk) >= CHUNK:
            yield await importer.resolve(chunk)
            chunk = []
    if chunk:
        yield await importer.resolve(chunk)


async def _write(
    client: AsyncIOClient,
    importer: _Importer,
    table: Table,
    journal: str | os.PathLike[str] | None,
    progress: Progress | bool | None,
    batch_size: int,
    total: int | None,
) -> None:
    report, plan = importer.report, importer.plan
    show = renderer(progress, f"import {table.name} → {plan.object}")
    name = Path(table.name).name

    total = total if total is not None else table.size_hint

    def counted(state: ProgressState) -> None:  # rows rejected before sending count as failed too
        if show is not None:
            show(ProgressState(state.done, state.failed + report.failed, total, state.rate, state.eta))

    async def items() -> AsyncIterator[Sourced]:
        async for chunk in _chunks(importer, table):
            for row, values in chunk:
                key = None if plan.match else f"{name}:{row.number}:{content_key(values)}"
                yield Sourced(values, row, key)

    sent = counted if show is not None else None
    if plan.match is not None:  # rows repeating a match value are rejected, so batches may overlap
        bulk = await client.bulk.upsert(
            plan.object,
            items(),
            matching_attribute=plan.match,
            concurrency=2,
            journal=journal,
            progress=sent,
            batch_size=batch_size,
        )
    else:
        bulk = await client.bulk.create(
            plan.object, items(), journal=journal, progress=sent, batch_size=batch_size
        )
    report.bulk = bulk
    for error in bulk.errors:
        row = error.source
        reason = f"the API refused it: {error.message} ({error.code})"
        if isinstance(row, Row):
            importer.reject(row, [(None, reason)])
        else:  # not a row of ours: the bulk engine refused the item itself
            raise CRMError(f"an import item failed outside any row: {reason}")
    report.accepted = bulk.succeeded + bulk.skipped
    report.created, report.updated, report.skipped = bulk.created, bulk.updated, bulk.skipped
    report.unchanged = getattr(bulk, "unchanged", 0)
    report.replayed = bulk.replayed
    if show is not None:
        show(ProgressState(report.accepted, report.failed, report.total, bulk.throughput, 0.0))


async def _reference_targets(
    client: AsyncIOClient, infos: Mapping[str, AttributeInfo]
) -> tuple[dict[str, dict[str, AttributeInfo]], dict[str, str]]:
    """The attributes of every object a reference may point to, and each one's only unique
    attribute (what a reference cell is looked up by when its column names none)."""
    targets: dict[str, dict[str, AttributeInfo]] = {}
    unique: dict[str, str] = {}
    for info in infos.values():
        for object in info.targets:
            if object not in targets:
                targets[object] = await client.metadata.attribute_infos(object)
                uniques = [s for s, a in targets[object].items() if a.unique]
                if len(uniques) == 1:
                    unique[object] = uniques[0]
    return targets, unique


def _check_lookups(plan: Plan, targets: Mapping[str, Mapping[str, AttributeInfo]]) -> None:
    for target in plan.targets:
        info = plan.attributes[target.slug]
        if info.type != "record-reference" or not target.prop or target.prop == "record_id":
            continue
        for object in info.targets:
            found = targets.get(object, {}).get(target.prop)
            if found is None or not found.unique:
                uniques = sorted(s for s, a in targets.get(object, {}).items() if a.unique)
                lookup = f"Column {target.column!r} looks {target.slug!r} up by {target.prop!r}"
                raise MappingError(
                    target.column,
                    f"{lookup}, which is not a unique attribute of {object}; "
                    f"unique: {', '.join(uniques) or 'none'} (or record_id).",
                )


# ---------------------------------------------------------------------------- export


def _read_state(path: Path, object: str, filter: Any) -> dict[str, Any]:
    if not path.exists():
        return {}
    try:
        state = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise FileFormatError(path, f"is not an export state file: {exc}") from None
    if not isinstance(state, dict) or state.get("object") != object or state.get("filter") != filter:
        other = f"object {state.get('object')!r}, filter {state.get('filter')!r}"
        raise InvalidArgumentError(
            f"{path} is the state of another export ({other}); give each export its own state file."
        )
    return state


def _write_state(path: Path, state: Mapping[str, Any]) -> None:
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(json.dumps(state, indent=2) + "\n")
    os.replace(partial, path)


async def export_query(
    query: AsyncExportSource,
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
    """Write the query's records to ``path``; see ``AsyncQuery.export``."""
    started = time.perf_counter()
    target = Path(path)
    kind, gzipped = format_of(target, format)
    if split_rows is not None and split_rows < 1:
        raise InvalidArgumentError(f"split_rows must be 1 or more, got {split_rows}.")
    numbered = split_rows is not None  # every part numbered; else only the overflow of a full sheet
    if kind == "xlsx":
        split_rows = min(split_rows or XLSX_MAX_ROWS, XLSX_MAX_ROWS)
    object = query.records.object
    infos = await query.records.metadata.attribute_infos(object)
    plan = plan_columns(object, infos, columns, flatten)
    report = ExportReport(object, kind)

    filter_json = query.filter_json()
    state_path = Path(state) if state is not None else None
    saved = _read_state(state_path, object, filter_json) if state_path is not None else {}
    watermark: str | None = saved.get("watermark")
    at_watermark: set[str] = set(saved.get("ids_at_watermark", []))
    if state_path is not None:
        if query.sorts:
            raise InvalidArgumentError("an incremental export reads in updated_at order; drop order_by().")
        query = query.order_by("updated_at", "record_id")
        if watermark is not None:
            query = query.where({"updated_at": {"$gte": watermark}})

    options: dict[str, Any] = {"escape_formulas": escape_formulas, "gzipped": gzipped}
    names = [c.slug for c in plan]
    kinds = [c.kind for c in plan]
    writer: Writer | None = None
    written: list[Writer] = []
    show = renderer(progress, f"export {object} → {target.name}")
    newest, ids_at_newest = watermark, set(at_watermark)

    def open_part() -> Writer:
        part = len(written) + 1
        name = tagged(target, f"-{part:05d}") if numbered or part > 1 else target
        opened = open_writer(name, kind, names, kinds, **options)
        written.append(opened)
        return opened

    try:
        async for page in query.pages():
            report.pages += 1
            for record in page.items:
                data = record.to_dict()
                changed = data.get("updated_at")
                if watermark is not None and changed == watermark and data["id"]["record_id"] in at_watermark:
                    continue  # exported by the last run
                if writer is None or (split_rows is not None and writer.rows >= split_rows):
                    if writer is not None:
                        writer.close()
                    writer = open_part()
                writer.write(flatten_record(data, plan))
                report.rows += 1
                if isinstance(changed, str):
                    if newest is None or changed > newest:
                        newest, ids_at_newest = changed, {data["id"]["record_id"]}
                    elif changed == newest:
                        ids_at_newest.add(data["id"]["record_id"])
            if show is not None:
                elapsed = time.perf_counter() - started
                show(ProgressState(report.rows, 0, None, report.rows / elapsed if elapsed else 0.0, None))
        if writer is None:
            writer = open_part()  # an export of nothing is still a file, with its header
        writer.close()
    except BaseException:
        for opened in written:
            opened.abort()
        raise
    report.files = [str(w.path) for w in written]
    if state_path is not None:
        state_data = {
            "object": object,
            "filter": filter_json,
            "watermark": newest,
            "ids_at_watermark": sorted(ids_at_newest),
            "exported_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "rows": report.rows,
        }
        _write_state(state_path, state_data)
        report.watermark, report.state_file = newest, str(state_path)
    report.elapsed = time.perf_counter() - started
    if show is not None:
        show(
            ProgressState(
                report.rows, 0, report.rows, report.rows / report.elapsed if report.elapsed else 0.0, 0.0
            )
        )
    return report


async def query_frame(
    query: AsyncExportSource, columns: Sequence[str] | None, flatten: str | Mapping[str, str]
) -> Any:
    """The query's records as a pandas DataFrame, with typed columns."""
    pd = require("pandas", "pandas", "to_pandas()")
    object = query.records.object
    plan: list[ExportColumn] = plan_columns(
        object, await query.records.metadata.attribute_infos(object), columns, flatten
    )
    rows: list[list[Any]] = []
    async for page in query.pages():
        rows.extend(flatten_record(record.to_dict(), plan) for record in page.items)
    frame = pd.DataFrame.from_records(rows, columns=[c.slug for c in plan])
    for column in plan:
        if column.kind == "timestamp":
            frame[column.slug] = pd.to_datetime(frame[column.slug], utc=True, format="ISO8601")
        elif column.kind == "date":
            frame[column.slug] = pd.to_datetime(frame[column.slug], format="ISO8601").dt.date
    return frame


def open_source(
    source: Any, format: str | None, encoding: str | None, delimiter: str | None, sheet: str | None
) -> Table:
    """A table from a path, or from rows in memory (mappings, or a pandas DataFrame)."""
    if isinstance(source, str | os.PathLike):
        return open_table(source, format, encoding=encoding, delimiter=delimiter, sheet=sheet)
    return rows_table(source)
