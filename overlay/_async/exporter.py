"""Export a query's records to files (CSV, JSON lines, Excel, Parquet) or a DataFrame.

Flattening and the writers are in ``overlay.io``; this module reads the pages, keeps the
watermark (``overlay._watermark``) of an incremental export in its state file, and splits
the output into parts. Where the API version has the change feed, the state file keeps a
feed cursor too, and an incremental export ends with a tombstone row (its ``record_id`` and
``_deleted_at``) for each record deleted since the last run.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, Self

from crm_client import operations

from .._bulk_core.report import Progress, ProgressState
from .._errors import CursorExpiredError, FileFormatError, InvalidArgumentError, ResponseParseError
from .._progress import renderer
from .._records import Record
from .._watermark import ORDER, Advance, Watermark
from ..io._flatten import ExportColumn, flatten_record, plan_columns
from ..io._report import ExportReport
from ..io._table import format_of, require
from ..io._write import XLSX_MAX_ROWS, Writer, open_writer, tagged

if TYPE_CHECKING:
    from .._paging import Page
    from .metadata import AsyncMetadata


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

    @property
    def feed(self) -> AsyncFeed | None: ...


class FeedBatch(Protocol):
    """One read of the change feed (``EventBatch`` is one)."""

    @property
    def events(self) -> list[dict[str, Any]]: ...

    @property
    def cursor(self) -> str: ...

    @property
    def has_more(self) -> bool: ...


class AsyncFeed(Protocol):
    """What an incremental export reads of the change feed (``client.events`` is one)."""

    async def read(
        self, *, cursor: str | None = None, types: str | None = None, object: str | None = None
    ) -> FeedBatch: ...

    async def head(self) -> str: ...


DELETED_AT = ExportColumn("_deleted_at", "first", "timestamp")  # an incremental export's last column


async def _deleted_since(
    feed: AsyncFeed, object: str, cursor: str, state_path: Path
) -> tuple[list[tuple[str, Any]], str]:
    """The records of ``object`` deleted after ``cursor`` (id and when, oldest first) and
    the feed's cursor after the last of them."""
    deleted: list[tuple[str, Any]] = []
    try:
        while True:
            batch = await feed.read(cursor=cursor, types="record.deleted", object=object)
            deleted += [(e["id"]["record_id"], e.get("occurred_at")) for e in batch.events]
            cursor = batch.cursor
            if not batch.has_more:
                return deleted, cursor
    except CursorExpiredError as exc:
        exc.message += (
            f" The feed no longer serves the position {state_path} keeps, so the deletes since its "
            "last run are unknown: delete it to export everything again."
        )
        raise
    except (KeyError, TypeError) as exc:  # an event without the id of its record
        raise ResponseParseError.from_exception("RecordDeletedEvent", exc) from exc


def _read_state(path: Path, object: str, filter: Any) -> dict[str, Any]:
    if not path.exists():
        return {}
    try:
        state = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise FileFormatError(path, f"is not an export state file: {exc}") from None
    except RecursionError:
        raise FileFormatError(path, "is not an export state file: it nests too deeply.") from None
    if not isinstance(state, dict):
        raise FileFormatError(path, f"is not an export state file: it holds a JSON {type(state).__name__}.")
    if state.get("object") != object or state.get("filter") != filter:
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
    if split_rows is not None and (
        isinstance(split_rows, bool) or not isinstance(split_rows, int) or split_rows < 1
    ):
        raise InvalidArgumentError(f"split_rows is a whole number, 1 or more, got {split_rows!r}.")
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
    start = Watermark.of_state(saved)
    feed = query.records.feed if state_path is not None else None
    deleted: list[tuple[str, Any]] = []
    cursor: str | None = None
    if state_path is not None:
        if query.sorts:
            raise InvalidArgumentError("an incremental export reads in updated_at order; drop order_by().")
        if feed is not None:
            if "record_id" not in [c.slug for c in plan]:
                raise InvalidArgumentError(
                    "an incremental export names the records deleted since its last run by "
                    "record_id: keep record_id in columns."
                )
            plan.append(DELETED_AT)
            # The deletes come first, and the feed position is taken before the records are
            # read: a record deleted while they are read leaves in the next run.
            saved_cursor = saved.get("cursor")
            if isinstance(saved_cursor, str):
                deleted, cursor = await _deleted_since(feed, object, saved_cursor, state_path)
            elif start.at is not None:  # written by a client without the feed
                raise InvalidArgumentError(
                    f"{state_path} was written at an API version without the change feed, so the "
                    "deletes since its last run are unknown: delete it to export everything again "
                    "(from then on, deletes leave as tombstones)."
                )
            else:
                cursor = await feed.head()
        elif isinstance(saved.get("cursor"), str):
            raise InvalidArgumentError(
                f"{state_path} follows deletes through the change feed, which this client's API "
                f"version lacks: export it with a client at {operations.LIST_EVENTS.since} or later."
            )
        query = query.order_by(*ORDER)
        since = start.filter()
        if since is not None:
            query = query.where(since)

    options: dict[str, Any] = {"escape_formulas": escape_formulas, "gzipped": gzipped}
    names = [c.slug for c in plan]
    kinds = [c.kind for c in plan]
    writer: Writer | None = None
    written: list[Writer] = []
    show = renderer(progress, f"export {object} → {target.name}")
    advance = Advance(start)

    def open_part() -> Writer:
        part = len(written) + 1
        name = tagged(target, f"-{part:05d}") if numbered or part > 1 else target
        opened = open_writer(name, kind, names, kinds, **options)
        written.append(opened)
        return opened

    def writable() -> Writer:
        """The part to write the next row to: a new one when the last is full."""
        nonlocal writer
        if writer is None or (split_rows is not None and writer.rows >= split_rows):
            if writer is not None:
                writer.close()
            writer = open_part()
        return writer

    try:
        async for page in query.pages():
            report.pages += 1
            for record in page.items:
                data = record.to_dict()
                record_id, changed = data["id"]["record_id"], data.get("updated_at")
                if start.covers(record_id, changed):
                    continue  # exported by the last run
                writable().write(flatten_record(data, plan))
                report.rows += 1
                advance.read(record_id, changed)
            if show is not None:
                elapsed = time.perf_counter() - started
                show(ProgressState(report.rows, 0, None, report.rows / elapsed if elapsed else 0.0, None))
        for record_id, when in deleted:
            tombstone = {"record_id": record_id, DELETED_AT.slug: when}
            writable().write([tombstone.get(c.slug) for c in plan])
            report.deleted += 1
        if writer is None:
            writer = open_part()  # an export of nothing is still a file, with its header
        writer.close()
    except BaseException:
        for opened in written:
            opened.abort()
        raise
    report.files = [str(w.path) for w in written]
    if state_path is not None:
        newest = advance.watermark
        state_data = {
            "object": object,
            "filter": filter_json,
            **newest.state(),
            **({"cursor": cursor} if feed is not None else {}),
            "exported_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "rows": report.rows,
        }
        _write_state(state_path, state_data)
        report.watermark, report.state_file = newest.at, str(state_path)
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
