"""Import files and rows into records.

The file handling, the mapping and the coercion are in ``overlay.io`` and do no I/O with
the API; this module adds what needs the API: the object's schema, record references
looked up by a unique attribute, what a dry run would create or update, and the writes,
which go through ``client.bulk`` (batches, progress, a journal to resume, each row
applied once).
"""

from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._bulk_core.keys import content_key
from .._bulk_core.report import Progress, ProgressState
from .._bulk_core.run import MAX_BATCH_ITEMS, Sourced
from .._errors import CRMError, MappingError
from .._metadata_core import AttributeInfo
from .._progress import renderer
from ..io._options import import_settings
from ..io._plan import Mapped, Plan
from ..io._report import ErrorFile, ImportReport
from ..io._table import Row, Table
from .import_rows import AsyncImportClient, RowImporter

if TYPE_CHECKING:
    pass


async def import_table(
    client: AsyncImportClient,
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
    timezone: dt.tzinfo | str | None = None,
    phone_region: str | None = None,
    decimal: str = ".",
    max_cell_chars: int = 10_000,
    batch_size: int = MAX_BATCH_ITEMS,
    total: int | None = None,
) -> ImportReport:
    """Import the rows of an open table; the table is closed at the end."""
    started = time.perf_counter()
    settings = import_settings(
        date_formats=date_formats,
        dayfirst=dayfirst,
        timezone=timezone,
        phone_region=phone_region,
        decimal=decimal,
        max_cell_chars=max_cell_chars,
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
        importer = RowImporter(client, plan, report, errors, targets)
        try:
            if dry_run:
                async for chunk in importer.chunks(table):
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


async def _write(
    client: AsyncImportClient,
    importer: RowImporter,
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
        async for chunk in importer.chunks(table):
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
    client: AsyncImportClient, infos: Mapping[str, AttributeInfo]
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
