"""Reading tables row by row: CSV, JSON lines, Excel and Parquet files, and rows in memory.

Every reader streams: it holds one row (or one Parquet batch) at a time. A row it cannot
split into columns (ragged, not JSON, bytes no encoding can read) still comes out,
with ``problem`` saying why, so the importer can put it in the error file: no row is
dropped on the way. A cell of a UTF-8 file that is not valid UTF-8 is read as Windows-1252
(``Table.fallback`` counts the rows), the mix a file gets when rows are pasted from Excel.
Row numbers are what the user sees: for CSV and Excel the sheet row
(the header is row 1), for JSON lines the line, for Parquet and rows in memory the
position (1 is the first).
"""

from __future__ import annotations

import csv
import itertools
import math
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from .._errors import FileFormatError, InvalidArgumentError
from ._read_sheets import parquet_table, xlsx_table
from ._read_text import csv_table, jsonl_table
from ._table import (
    HEADER_SCAN,
    Row,
    Table,
    format_of,
)


def open_table(
    path: str | os.PathLike[str],
    format: str | None = None,
    *,
    encoding: str | None = None,
    delimiter: str | None = None,
    sheet: str | None = None,
) -> Table:
    """Open a file for reading rows; the format comes from its extension unless given."""
    for name, value in (("encoding", encoding), ("sheet", sheet)):
        if value is not None and not isinstance(value, str):
            raise InvalidArgumentError(f"{name} is text (str), got {type(value).__name__}.")
    if delimiter is not None and not (isinstance(delimiter, str) and len(delimiter) == 1):
        raise InvalidArgumentError(f"delimiter is one character such as ',' or '\\t', got {delimiter!r}.")
    kind, gzipped = format_of(path, format)
    if not Path(path).is_file():
        raise FileFormatError(path, "no such file.")
    try:
        if kind == "csv":
            return csv_table(path, gzipped, encoding, delimiter)
        if kind == "jsonl":
            return jsonl_table(path, gzipped, encoding)
        if kind == "xlsx":
            return xlsx_table(path, sheet)
        return parquet_table(path)
    except (OSError, EOFError, UnicodeError, csv.Error, RecursionError) as exc:
        raise FileFormatError(path, f"cannot be read as {kind}: {exc}") from None


# ---------------------------------------------------------------------------- rows in memory


def rows_table(rows: Any, name: str = "rows") -> Table:
    """A table over mappings (or a pandas DataFrame): columns from the first rows' keys."""
    if hasattr(rows, "itertuples") and hasattr(rows, "columns"):
        return _frame_table(rows, name)
    if isinstance(rows, str | bytes | Mapping) or not hasattr(rows, "__iter__"):
        raise InvalidArgumentError(
            f"rows are mappings (a list, a generator) or a DataFrame, got {type(rows).__name__}."
        )
    iterator = iter(rows)
    head: list[Any] = []
    for item in iterator:
        head.append(item)
        if len(head) >= HEADER_SCAN:
            break
    columns: dict[str, None] = {}
    for item in head:
        if isinstance(item, Mapping):
            columns.update(dict.fromkeys(str(k) for k in item))

    def each() -> Iterator[Row]:
        for number, item in enumerate(itertools.chain(head, iterator), start=1):
            if isinstance(item, Mapping):
                yield Row(number, {str(k): v for k, v in item.items()}, item)
            else:
                yield Row(
                    number, None, item, f"a row is a mapping of column to value, not {type(item).__name__}"
                )

    size = len(rows) if hasattr(rows, "__len__") else None
    return Table(name, "rows", list(columns), each(), size_hint=size)


def _frame_table(frame: Any, name: str) -> Table:
    columns = [str(c) for c in frame.columns]

    def each() -> Iterator[Row]:
        for number, values in enumerate(frame.itertuples(index=False, name=None), start=1):
            cells = {column: plain_scalar(value) for column, value in zip(columns, values, strict=True)}
            yield Row(number, cells, cells)

    return Table(name if name != "rows" else "DataFrame", "rows", columns, each(), size_hint=len(frame))


def plain_scalar(value: Any) -> Any:
    """A pandas or NumPy cell as plain Python: NaN and NaT become ``None``."""
    if value is None:
        return None
    if isinstance(value, float):
        return None if math.isnan(value) else value
    kind = type(value).__module__
    if kind.startswith(("pandas", "numpy")):
        if str(value) in ("NaT", "nan", "<NA>"):
            return None
        if hasattr(value, "to_pydatetime"):
            return value.to_pydatetime()
        if hasattr(value, "item"):
            item = value.item()
            return None if isinstance(item, float) and math.isnan(item) else item
    if isinstance(value, list | tuple) or (hasattr(value, "tolist") and not isinstance(value, str)):
        return [plain_scalar(v) for v in (value.tolist() if hasattr(value, "tolist") else value)]
    return value


def open_source(
    source: Any, format: str | None, encoding: str | None, delimiter: str | None, sheet: str | None
) -> Table:
    """A table from a path, or from rows in memory (mappings, or a pandas DataFrame)."""
    if isinstance(source, str | os.PathLike):
        return open_table(source, format, encoding=encoding, delimiter=delimiter, sheet=sheet)
    return rows_table(source)


def refuse_overwriting(source: str | os.PathLike[str], **outputs: str | os.PathLike[str] | None) -> None:
    """Refuse an output file (``error_file=``, ``journal=``, ``-o``) that is the input file."""
    for name, output in outputs.items():
        if output is None:
            continue
        try:
            same = Path(output).resolve() == Path(source).resolve()
        except (OSError, TypeError, ValueError):
            raise InvalidArgumentError(f"{name} is a file path, got {output!r}.") from None
        if same:
            raise InvalidArgumentError(f"{name} is the file being read ({source}); it would be overwritten.")
