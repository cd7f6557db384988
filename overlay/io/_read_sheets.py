"""Reading Excel workbooks and Parquet files (the optional ``xlsx`` and ``parquet`` extras)."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from .._errors import FileFormatError
from ._table import (
    Row,
    Table,
    header_names,
    require,
    split_cells,
)

# ---------------------------------------------------------------------------- Excel


# Errors of a workbook's XML: malformed, or refused by defusedxml (entity expansion, a DTD).
XML_ERRORS = (SyntaxError, ValueError, KeyError, TypeError, EOFError)
SHEET_ROWS, SHEET_COLUMNS = 1_048_576, 16_384  # a whole sheet: a dimension that says nothing


def xlsx_table(path: str | os.PathLike[str], sheet: str | None) -> Table:
    openpyxl = require("openpyxl", "xlsx", "Reading .xlsx files")
    from zipfile import BadZipFile

    from openpyxl.utils.exceptions import InvalidFileException

    # From an open file, so format="xlsx" reads a workbook whatever its name ends with.
    handle = open(path, "rb")  # noqa: SIM115 (closed with the table, or below)
    try:
        workbook = openpyxl.load_workbook(handle, read_only=True, data_only=True)
    except (BadZipFile, OSError, SyntaxError, ValueError, KeyError, TypeError, EOFError,
            InvalidFileException) as exc:  # fmt: skip
        handle.close()
        raise FileFormatError(path, f"is not an Excel workbook: {_xml_reason(exc)}") from None
    if sheet is not None and sheet not in workbook.sheetnames:
        workbook.close()
        handle.close()
        raise FileFormatError(path, f"has no sheet {sheet!r}; sheets: {', '.join(workbook.sheetnames)}.")
    worksheet = workbook[sheet] if sheet is not None else workbook.worksheets[0]
    # The sheet's <dimension> is what the writer claims, and openpyxl pads every row to it: a
    # claim of A1:XFD1048576 would walk 16,384 cells a row. Rows are read as they are instead.
    claimed_rows, claimed_columns = worksheet.max_row, worksheet.max_column
    worksheet.reset_dimensions()
    rows = _xlsx_cells(path, worksheet.iter_rows(values_only=True))
    number = 0
    header: Sequence[Any] | None = None
    try:
        for cells in rows:
            number += 1
            if any(c not in (None, "") for c in cells):
                header = cells
                break
    except FileFormatError:
        workbook.close()
        handle.close()
        raise
    if header is None:
        workbook.close()
        handle.close()
        raise FileFormatError(path, "is empty: the first sheet has no header row.")
    columns = header_names(path, header, number)
    plausible = isinstance(claimed_rows, int) and claimed_rows < SHEET_ROWS
    plausible = plausible and isinstance(claimed_columns, int) and claimed_columns < SHEET_COLUMNS
    hint = claimed_rows - number if plausible else None
    return Table(
        str(path),
        "xlsx",
        columns,
        _xlsx_rows(rows, columns, number),
        size_hint=hint,
        _closers=[workbook, handle],
    )


def _xml_reason(exc: BaseException) -> str:
    """Why a workbook cannot be read, from the exception or the ones it was raised from."""
    cause: BaseException | None = exc
    while cause is not None:
        if type(cause).__name__ in ("EntitiesForbidden", "DTDForbidden", "ExternalReferenceForbidden"):
            return "its XML declares entities, which are refused (as in an entity-expansion attack)."
        cause = cause.__cause__ or cause.__context__
    return f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"


def _xlsx_cells(path: str | os.PathLike[str], rows: Iterator[Sequence[Any]]) -> Iterator[Sequence[Any]]:
    """The sheet's rows; XML the parser refuses or cannot read is a ``FileFormatError``."""
    number = 0
    while True:
        try:
            cells = next(rows)
        except StopIteration:
            return
        except XML_ERRORS as exc:
            raise FileFormatError(path, f"cannot be read after row {number}: {_xml_reason(exc)}") from None
        number += 1
        yield cells


def _xlsx_rows(rows: Iterable[Sequence[Any]], columns: list[str], number: int) -> Iterator[Row]:
    width = len(columns)
    for cells in rows:
        number += 1
        values = list(cells)
        while values and values[-1] in (None, ""):
            values.pop()
        if not values:
            continue
        values += [None] * (width - len(values))
        yield split_cells(number, values, columns, width, None)


# ---------------------------------------------------------------------------- Parquet

PARQUET_BATCH = 4096


def parquet_table(path: str | os.PathLike[str]) -> Table:
    pq = require("pyarrow.parquet", "parquet", "Reading Parquet")
    from pyarrow import ArrowException

    try:
        parquet = pq.ParquetFile(path)
    except (ArrowException, OSError) as exc:
        raise FileFormatError(path, f"is not a Parquet file: {exc}") from None

    def rows() -> Iterator[Row]:
        number = 0
        try:
            for batch in parquet.iter_batches(batch_size=PARQUET_BATCH):
                for record in batch.to_pylist():
                    number += 1
                    yield Row(number, record, record)
        except ArrowException as exc:
            raise FileFormatError(path, f"cannot be read after row {number}: {exc}") from None

    return Table(
        str(path),
        "parquet",
        list(parquet.schema_arrow.names),
        rows(),
        schema=parquet.schema_arrow,
        size_hint=parquet.metadata.num_rows,
        _closers=[parquet],
    )
