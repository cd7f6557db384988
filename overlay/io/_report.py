"""What an import or an export did, and the error file of rejected rows."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._bulk import BulkReport
from ._read import ERROR_COLUMN, ROW_COLUMN, Row, Table, format_of
from ._write import Writer, open_writer


@dataclass(frozen=True)
class Rejection:
    """A row that was not applied: its number, the column to blame (if one is), and why."""

    row: int
    column: str | None
    reason: str

    def __str__(self) -> str:
        return f"row {self.row}: {self.reason}"


@dataclass
class ImportReport:
    """What an import did (or, in a dry run, would do). ``accepted + rejected == total``.

    ``created`` and ``updated`` count accepted rows by what they did to the workspace
    (in a dry run: what they would do); ``already_done`` counts rows a resumed run found
    in its journal. ``rejections`` lists every rejected row; ``error_file`` holds them in
    the input's format with ``_row`` and ``_error`` columns first.
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
    rejected: int = 0
    created: int = 0
    updated: int = 0
    already_done: int = 0
    elapsed: float = 0.0
    rejections: list[Rejection] = field(default_factory=list)
    error_file: str | None = None
    bulk: BulkReport | None = None

    @property
    def ok(self) -> bool:
        return self.rejected == 0

    def __str__(self) -> str:
        verb = "would import" if self.dry_run else "imported"
        what = f"{self.created} created, {self.updated} updated" + (
            f", {self.already_done} already done" if self.already_done else ""
        )
        read = f" ({self.encoding}, {self.delimiter!r})" if self.encoding and self.delimiter else ""
        lines = [
            f"{self.source}{read} → {self.object}: {verb} {self.accepted} of {self.total} rows ({what}); "
            f"{self.rejected} rejected, in {self.elapsed:.1f} s"
        ]
        lines += [f"  {rejection}" for rejection in self.rejections[:5]]
        if self.rejected > 5:
            lines.append(f"  ... and {self.rejected - 5} more")
        if self.error_file and self.rejected:
            lines.append(f"  rejected rows: {self.error_file}")
        return "\n".join(lines)


@dataclass
class ExportReport:
    """What an export wrote: the files, the rows, and the watermark of an incremental run."""

    object: str
    format: str
    files: list[str] = field(default_factory=list)
    rows: int = 0
    pages: int = 0
    elapsed: float = 0.0
    watermark: str | None = None
    state_file: str | None = None

    def __str__(self) -> str:
        files = self.files[0] if len(self.files) == 1 else f"{len(self.files)} files"
        since = f"; changed up to {self.watermark}" if self.watermark else ""
        return (
            f"{self.object} → {files}: {self.rows} rows in {self.elapsed:.1f} s ({self.pages} pages){since}"
        )


class ErrorFile:
    """Rejected rows, in the format of ``path`` (by default the input's), each as it was read
    with ``_row`` and ``_error`` in front. Feed it back to the importer once fixed: it skips
    those two columns."""

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
            options.update(encoding=table.encoding or "utf-8", delimiter=table.delimiter or ",")
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

    def add(self, row: Row, reason: str) -> None:
        raw = row.raw
        if self.format == "jsonl":
            fields = {ROW_COLUMN: row.number, ERROR_COLUMN: reason}
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
        self.writer.write([row.number, reason, *cells])

    def close(self) -> None:
        self.writer.close()
