"""What an import or an export did, and the error file of rejected rows."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._bulk_core.report import BulkReport
from ._table import ERROR_COLUMN, ROW_COLUMN, Row, Table, format_of
from ._write import Writer, open_writer


@dataclass(frozen=True)
class Rejection:
    """A row that was not applied: its number, the column to blame (if one is), and why.

    ``problems`` lists every problem of the row as (column, reason); ``reason`` joins them.
    ``source_row`` is the row of the original file when this one is an error file fed back.
    """

    row: int
    column: str | None
    reason: str
    problems: tuple[tuple[str | None, str], ...] = ()
    source_row: int | None = None

    def __str__(self) -> str:
        original = f" (row {self.source_row} of the original file)" if self.source_row is not None else ""
        return f"row {self.row}{original}: {self.reason}"


@dataclass
class ImportReport:
    """What an import did (or, in a dry run, would do). ``accepted + failed == total``.

    The counts are a bulk report's: accepted rows ``created`` a record, ``updated`` one,
    left one ``unchanged`` (its values were those stored), or were ``skipped`` (applied by
    an earlier attempt of this run, per its journal); ``replayed`` says how many of them
    the API answered from its idempotency store. In a dry run, ``created`` and ``updated``
    count what would happen; a row matching a record counts as ``updated`` even when its
    values are those stored (the API tells ``unchanged`` apart when it writes). ``failed``
    rows are in ``rejections`` and in ``error_file``
    (in the input's format, always UTF-8, with ``_row`` and ``_error`` columns first).
    ``cp1252_rows`` counts rows of a UTF-8 file that were not UTF-8 and were read as
    Windows-1252 (``cp1252_first_rows`` names the first).
    """

    source: str
    format: str
    object: str
    match: str | None = None
    dry_run: bool = False
    encoding: str | None = None
    delimiter: str | None = None
    mapping: dict[str, str] = field(default_factory=dict)
    ignored: list[str] = field(default_factory=list)
    total: int = 0
    accepted: int = 0
    failed: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    replayed: int = 0
    skipped: int = 0
    cp1252_rows: int = 0
    cp1252_first_rows: list[int] = field(default_factory=list)
    elapsed: float = 0.0
    rejections: list[Rejection] = field(default_factory=list)
    error_file: str | None = None
    bulk: BulkReport | None = None

    @property
    def ok(self) -> bool:
        return self.failed == 0

    @property
    def rejected(self) -> int:
        """The rows not applied: ``failed``."""
        return self.failed

    @property
    def already_done(self) -> int:
        """The rows an earlier attempt of this run applied: ``skipped``."""
        return self.skipped

    def __str__(self) -> str:
        verb = "would import" if self.dry_run else "imported"
        what = f"{self.created} created, {self.updated} updated, {self.unchanged} unchanged"
        what += f", {self.skipped} skipped" if self.skipped else ""
        what += f"; {self.replayed} replayed" if self.replayed else ""
        read = f" ({self.encoding}, {self.delimiter!r})" if self.encoding and self.delimiter else ""
        lines = [
            f"{self.source}{read} → {self.object}: {verb} {self.accepted} of {self.total} rows ({what}); "
            f"{self.failed} failed, in {self.elapsed:.1f} s"
        ]
        if self.cp1252_rows:
            first = ", ".join(map(str, self.cp1252_first_rows))
            more = ", ..." if self.cp1252_rows > len(self.cp1252_first_rows) else ""
            lines.append(
                f"  {self.cp1252_rows} rows were not {self.encoding} and were read as Windows-1252"
                f" (rows {first}{more})"
            )
        lines += [f"  {rejection}" for rejection in self.rejections[:5]]
        if self.failed > 5:
            lines.append(f"  ... and {self.failed - 5} more")
        if self.error_file and self.failed:
            lines.append(f"  rejected rows: {self.error_file}")
        return "\n".join(lines)


@dataclass
class ExportReport:
    """What an export wrote: the files, the rows, and the watermark of an incremental run."""

    object: str
    format: str
    files: list[str] = field(default_factory=list)
    rows: int = 0
    deleted: int = 0  # tombstones of an incremental export: records deleted since its last run
    pages: int = 0
    elapsed: float = 0.0
    watermark: str | None = None
    state_file: str | None = None

    def __str__(self) -> str:
        files = self.files[0] if len(self.files) == 1 else f"{len(self.files)} files"
        since = f"; changed up to {self.watermark}" if self.watermark else ""
        gone = f" and {self.deleted} deleted" if self.deleted else ""
        return (
            f"{self.object} → {files}: {self.rows} row{'' if self.rows == 1 else 's'}{gone} in "
            f"{self.elapsed:.1f} s ({self.pages} page{'' if self.pages == 1 else 's'}){since}"
        )


_SURROGATES = re.compile("[\ud800-\udfff]")


def valid_text(value: Any) -> Any:
    """A cell with no lone surrogates (they become U+FFFD), so it can be written as UTF-8."""
    if isinstance(value, str):
        return _SURROGATES.sub("\ufffd", value)
    if isinstance(value, dict):
        return {valid_text(k): valid_text(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [valid_text(v) for v in value]
    return value


class ErrorFile:
    """Rejected rows, in the format of ``path`` (by default the input's), each as it was read
    with ``_row`` and ``_error`` in front, always in UTF-8. Feed it back to the importer once
    fixed: it skips those two columns, and its ``_row`` stays the row of the original file."""

    def __init__(self, path: str | os.PathLike[str], table: Table) -> None:
        self.path = str(path)
        self.columns = [c for c in table.columns if c not in (ROW_COLUMN, ERROR_COLUMN)]
        self._drop = [i for i, c in enumerate(table.columns) if c in (ROW_COLUMN, ERROR_COLUMN)]
        self.table = table
        kind, gzipped = format_of(path)
        self.format = kind
        header = [ROW_COLUMN, ERROR_COLUMN, *self.columns]
        options: dict[str, Any] = {"escape_formulas": False, "gzipped": gzipped}
        if kind == "csv" and table.format == "csv":
            options.update(delimiter=table.delimiter or ",")
        if kind == "parquet":
            options["schema"] = self._parquet_schema()
        self.writer: Writer = open_writer(Path(path), kind, header, (), **options)

    def _parquet_schema(self) -> Any:
        import pyarrow as pa

        source = self.table.schema
        fields = [pa.field(ROW_COLUMN, pa.int64()), pa.field(ERROR_COLUMN, pa.string())]
        for name in self.columns:
            kept = source.field(name) if source is not None and name in source.names else None
            fields.append(kept if kept is not None else pa.field(name, pa.string()))
        return pa.schema(fields)

    def add(self, row: Row, reason: str, source_row: int | None = None) -> None:
        raw, reason = valid_text(row.raw), valid_text(reason)
        number = source_row if source_row is not None else row.number
        if self.format == "jsonl":
            fields = {ROW_COLUMN: number, ERROR_COLUMN: reason}
            if isinstance(raw, dict):
                fields.update({k: v for k, v in raw.items() if k not in (ROW_COLUMN, ERROR_COLUMN)})
            else:
                fields["_line"] = raw if isinstance(raw, str) else repr(raw)
            self.writer.write_object(fields)  # type: ignore[attr-defined]
            return
        if isinstance(raw, dict):
            cells = [raw.get(c) for c in self.columns]
        elif isinstance(raw, list | tuple):
            cells = [c for i, c in enumerate(raw) if i not in self._drop]
        else:
            cells = [raw]
        if self.format == "parquet":
            cells = (cells + [None] * len(self.columns))[: len(self.columns)]
        self.writer.write([number, reason, *cells])

    def close(self) -> None:
        self.writer.close()
