"""Writing tables row by row: CSV, JSON lines (optionally gzipped), Excel and Parquet.

A writer writes to a temporary file beside its target and renames it into place when
closed, so a failed or interrupted export never leaves half a file under the real name.
Column kinds (``string``, ``number``, ``integer``, ``boolean``, ``date``, ``timestamp``)
give Excel and Parquet typed cells; CSV and JSON lines write dates and timestamps as ISO
8601 text.

Cells that start with ``= + - @`` (or a tab or carriage return) would run as formulas
when a spreadsheet opens the file; CSV and Excel writers prefix them with ``'`` unless
``escape_formulas=False``. The importer removes that prefix again, so text round-trips.
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import io
import json
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

from .._errors import FileFormatError
from ._table import require

_FORMULA = re.compile(r"'*[=+\-@\t\r]")
XLSX_MAX_ROWS = 1_048_575  # a sheet's 1,048,576 rows, less the header
PARQUET_ROW_GROUP = 10_000


def escape_formula(text: str) -> str:
    """``=1+1`` → ``'=1+1``; text already starting with quotes before a trigger gains one more,
    so ``unescape_formula`` always restores the original."""
    return "'" + text if _FORMULA.match(text) else text


def unescape_formula(text: str) -> str:
    return text[1:] if text.startswith("'") and _FORMULA.match(text, 1) else text


def cell_text(value: Any) -> str:
    """A value as a text cell: ``None`` → ``""``, ``True`` → ``"true"``, ``42.0`` → ``"42"``,
    a date → ISO 8601, a list or mapping → JSON."""
    if value is None:
        return ""
    if value is True or value is False:
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False, default=str)
    return str(value)


def tagged(path: str | os.PathLike[str], tag: str) -> Path:
    """``people.csv`` with ``-00002`` → ``people-00002.csv``; the whole extension
    (``.jsonl.gz``) stays last."""
    source = Path(path)
    stem, dot, rest = source.name.partition(".")
    return source.with_name(f"{stem}{tag}{dot}{rest}")


class Writer:
    """Rows (lists in column order) to one file, renamed into place by ``close()``."""

    def __init__(self, path: str | os.PathLike[str], columns: Sequence[str], kinds: Sequence[str]) -> None:
        self.path = Path(path)
        self.columns = list(columns)
        self.kinds = list(kinds) if kinds else ["string"] * len(self.columns)
        self.rows = 0
        self.closed = False
        self._partial = self.path.with_name(f".{self.path.name}.partial")

    def write(self, row: Sequence[Any]) -> None:
        raise NotImplementedError

    def _finish(self) -> None:
        raise NotImplementedError

    def close(self) -> None:
        self._finish()
        os.replace(self._partial, self.path)
        self.closed = True

    def abort(self) -> None:
        """Drop the file being written (a closed one stays)."""
        if self.closed:
            return
        try:
            self._finish()
        finally:
            self._partial.unlink(missing_ok=True)


class CsvWriter(Writer):
    def __init__(
        self,
        path: str | os.PathLike[str],
        columns: Sequence[str],
        kinds: Sequence[str] = (),
        *,
        escape_formulas: bool = True,
        encoding: str = "utf-8",
        delimiter: str = ",",
        gzipped: bool = False,
    ) -> None:
        super().__init__(path, columns, kinds)
        raw = gzip.open(self._partial, "wb") if gzipped else open(self._partial, "wb")  # noqa: SIM115
        self._file: IO[str] = io.TextIOWrapper(raw, encoding=encoding, errors="surrogateescape", newline="")
        self._csv = csv.writer(self._file, delimiter=delimiter, lineterminator="\r\n")
        self._escape = escape_formulas
        self._csv.writerow(self.columns)

    def write(self, row: Sequence[Any]) -> None:
        if self._escape:  # text only: a negative number is not a formula
            self._csv.writerow([escape_formula(v) if isinstance(v, str) else cell_text(v) for v in row])
        else:
            self._csv.writerow([cell_text(value) for value in row])
        self.rows += 1

    def _finish(self) -> None:
        self._file.close()


class JsonlWriter(Writer):
    def __init__(
        self,
        path: str | os.PathLike[str],
        columns: Sequence[str],
        kinds: Sequence[str] = (),
        *,
        gzipped: bool = False,
        **_: Any,
    ) -> None:
        super().__init__(path, columns, kinds)
        if gzipped:
            self._file: IO[str] = gzip.open(self._partial, "wt", encoding="utf-8")  # noqa: SIM115
        else:
            self._file = open(self._partial, "w", encoding="utf-8")  # noqa: SIM115
        self._dumps = json.JSONEncoder(ensure_ascii=False, default=str, separators=(",", ":")).encode

    def write(self, row: Sequence[Any]) -> None:
        self._file.write(self._dumps(dict(zip(self.columns, row, strict=True))) + "\n")
        self.rows += 1

    def write_object(self, item: dict[str, Any]) -> None:
        self._file.write(self._dumps(item) + "\n")
        self.rows += 1

    def _finish(self) -> None:
        self._file.close()


def _date(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            return value
    return value


def _timestamp(value: Any, naive: bool) -> Any:
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if naive else value
    return value


class XlsxWriter(Writer):
    """Excel in openpyxl's write-only mode: rows go to disk as they come. Timestamps are
    written in UTC without an offset (Excel has no time zones)."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        columns: Sequence[str],
        kinds: Sequence[str] = (),
        *,
        escape_formulas: bool = True,
        **_: Any,
    ) -> None:
        super().__init__(path, columns, kinds)
        openpyxl = require("openpyxl", "xlsx", "Writing .xlsx files")
        self._book = openpyxl.Workbook(write_only=True)
        self._sheet = self._book.create_sheet("records")
        self._sheet.append(self.columns)
        self._escape = escape_formulas
        from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

        self._illegal = ILLEGAL_CHARACTERS_RE

    def _cell(self, value: Any, kind: str) -> Any:
        if value is None:
            return None
        if kind == "date":
            return _date(value)
        if kind == "timestamp":
            return _timestamp(value, naive=True)
        if isinstance(value, list | dict):
            value = cell_text(value)
        if isinstance(value, str):
            if self._illegal.search(value):
                raise FileFormatError(
                    self.path, f"a cell holds control characters Excel cannot store: {value[:40]!r}"
                )
            return escape_formula(value) if self._escape and value else value
        return value

    def write(self, row: Sequence[Any]) -> None:
        if self.rows >= XLSX_MAX_ROWS:
            raise FileFormatError(
                self.path, f"a sheet holds at most {XLSX_MAX_ROWS:,} rows; split the export."
            )
        kinds = self.kinds + ["string"] * (len(row) - len(self.kinds))  # a ragged row in an error file
        self._sheet.append([self._cell(value, kind) for value, kind in zip(row, kinds, strict=False)])
        self.rows += 1

    def _finish(self) -> None:
        self._book.save(self._partial)


class ParquetWriter(Writer):
    """Parquet through pyarrow, one row group every 10,000 rows."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        columns: Sequence[str],
        kinds: Sequence[str] = (),
        *,
        schema: Any = None,
        **_: Any,
    ) -> None:
        super().__init__(path, columns, kinds)
        pq = require("pyarrow.parquet", "parquet", "Writing Parquet")
        pa = require("pyarrow", "parquet", "Writing Parquet")
        self._pa = pa
        types = {
            "string": pa.string(),
            "number": pa.float64(),
            "integer": pa.int64(),
            "boolean": pa.bool_(),
            "date": pa.date32(),
            "timestamp": pa.timestamp("us", tz="UTC"),
        }
        self.schema = schema or pa.schema(
            [(c, types.get(k, pa.string())) for c, k in zip(self.columns, self.kinds, strict=True)]
        )
        self._writer = pq.ParquetWriter(self._partial, self.schema)
        self._buffer: list[list[Any]] = [[] for _ in self.columns]
        self._kinds = [str(self.schema.field(c).type) for c in self.columns]

    def _cell(self, value: Any, kind: str) -> Any:
        if value is None:
            return None
        if kind == "date32[day]":
            return _date(value)
        if kind.startswith("timestamp"):
            return _timestamp(value, naive=False)
        if kind == "string" and not isinstance(value, str):
            return cell_text(value)
        if kind == "double" and isinstance(value, int):
            return float(value)
        return value

    def write(self, row: Sequence[Any]) -> None:
        for column, value, kind in zip(self._buffer, row, self._kinds, strict=True):
            column.append(self._cell(value, kind))
        self.rows += 1
        if len(self._buffer[0]) >= PARQUET_ROW_GROUP:
            self._flush()

    def _flush(self) -> None:
        if not self._buffer or not self._buffer[0]:
            return
        try:
            table = self._pa.Table.from_arrays(
                [
                    self._pa.array(values, type=self.schema.field(i).type)
                    for i, values in enumerate(self._buffer)
                ],
                schema=self.schema,
            )
        except (self._pa.ArrowException, TypeError, ValueError) as exc:
            raise FileFormatError(self.path, f"a value does not fit its column's type: {exc}") from None
        self._writer.write_table(table)
        self._buffer = [[] for _ in self.columns]

    def _finish(self) -> None:
        try:
            self._flush()
        finally:
            self._writer.close()


WRITERS: dict[str, type[Writer]] = {
    "csv": CsvWriter,
    "jsonl": JsonlWriter,
    "xlsx": XlsxWriter,
    "parquet": ParquetWriter,
}


def open_writer(
    path: str | os.PathLike[str],
    format: str,
    columns: Sequence[str],
    kinds: Sequence[str] = (),
    **options: Any,
) -> Writer:
    """A writer of ``format`` (``csv``, ``jsonl``, ``xlsx``, ``parquet``) to ``path``."""
    try:
        return WRITERS[format](path, columns, kinds, **options)
    except OSError as exc:
        raise FileFormatError(path, f"cannot be written: {exc}") from None
