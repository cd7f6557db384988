"""Reading tables row by row: CSV, JSON lines, Excel and Parquet files, and rows in memory.

Every reader streams: it holds one row (or one Parquet batch) at a time. A row it cannot
split into columns (ragged, not JSON, bytes the encoding cannot read) still comes out,
with ``problem`` saying why, so the importer can put it in the error file: no row is
dropped on the way. Row numbers are what the user sees: for CSV and Excel the sheet row
(the header is row 1), for JSON lines the line, for Parquet and rows in memory the
position (1 is the first).
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import itertools
import json
import math
import os
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from .._errors import ConfigurationError, FileFormatError

FORMATS = ("csv", "jsonl", "xlsx", "parquet")
SUFFIXES = {
    ".csv": "csv",
    ".tsv": "csv",
    ".txt": "csv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".xlsx": "xlsx",
    ".xlsm": "xlsx",
    ".parquet": "parquet",
    ".pq": "parquet",
}
# Columns the importer itself adds to an error file; reading that file back ignores them.
ROW_COLUMN, ERROR_COLUMN = "_row", "_error"
SAMPLE_BYTES = 64 * 1024
# Cells may be large (a pasted document); the importer refuses those over its own limit
# with a row-level error instead of letting the csv module stop the whole file.
csv.field_size_limit(max(csv.field_size_limit(), 1 << 30))
_UNDECODABLE = re.compile("[\udc80-\udcff]")


def require(module: str, extra: str, purpose: str) -> Any:
    """An optional dependency, or a ``ConfigurationError`` naming the extra that installs it."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise ConfigurationError(
            f"{purpose} needs {module.partition('.')[0]}: pip install 'crm-sdk[{extra}]'."
        ) from None


def format_of(path: str | os.PathLike[str], given: str | None = None) -> tuple[str, bool]:
    """The format of a file (from ``given`` or its extension) and whether it is gzipped."""
    name = Path(path).name.lower()
    gzipped = name.endswith(".gz")
    if given is not None:
        if given not in FORMATS:
            raise FileFormatError(path, f"unknown format {given!r}; formats: {', '.join(FORMATS)}.")
        return given, gzipped
    suffix = Path(name.removesuffix(".gz")).suffix
    found = SUFFIXES.get(suffix)
    if found is None or (gzipped and found not in ("csv", "jsonl")):
        known = ", ".join(sorted(SUFFIXES)) + " (and .csv.gz, .jsonl.gz)"
        hint = (
            " A .json file is one document; write one object per line as .jsonl." if suffix == ".json" else ""
        )
        raise FileFormatError(
            path, f"cannot tell the format from {suffix or 'no extension'!r}; known: {known}.{hint}"
        )
    return found, gzipped


def column_letter(index: int) -> str:
    """``0`` → ``A``, ``26`` → ``AA``: how a spreadsheet names a column."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


@dataclass(slots=True)
class Row:
    """One input row: its number, its cells by column, and what it was in the file.

    ``raw`` is what the error file writes back (the cells as read, or the line that was
    not JSON). ``problem`` is set when the row cannot be read as cells; ``cells`` is then
    ``None``.
    """

    number: int
    cells: dict[str, Any] | None
    raw: Any
    problem: str | None = None
    column: str | None = None


@dataclass
class Table:
    """An open source of rows: ``columns`` and an iterator of ``Row``."""

    name: str
    format: str
    columns: list[str]
    rows: Iterator[Row]
    encoding: str | None = None
    delimiter: str | None = None
    gzipped: bool = False
    schema: Any = None  # the Parquet schema, so an error file keeps the column types
    size_hint: int | None = None  # about how many rows (for a progress bar), when cheap to know
    _closers: list[Any] = field(default_factory=list)

    def __iter__(self) -> Iterator[Row]:
        return self.rows

    def close(self) -> None:
        for closer in self._closers:
            closer.close()

    def __enter__(self) -> Table:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_table(
    path: str | os.PathLike[str],
    format: str | None = None,
    *,
    encoding: str | None = None,
    delimiter: str | None = None,
    sheet: str | None = None,
) -> Table:
    """Open a file for reading rows; the format comes from its extension unless given."""
    kind, gzipped = format_of(path, format)
    if not Path(path).is_file():
        raise FileFormatError(path, "no such file.")
    try:
        if kind == "csv":
            return _csv_table(path, gzipped, encoding, delimiter)
        if kind == "jsonl":
            return _jsonl_table(path, gzipped, encoding)
        if kind == "xlsx":
            return _xlsx_table(path, sheet)
        return _parquet_table(path)
    except (OSError, EOFError, UnicodeError, csv.Error) as exc:
        raise FileFormatError(path, f"cannot be read as {kind}: {exc}") from None


# ---------------------------------------------------------------------------- CSV


def detect_encoding(sample: bytes) -> str:
    """The encoding of a text sample: a byte-order mark; else UTF-16 if every other byte is
    zero; else UTF-8 if it holds as many valid UTF-8 sequences as bytes UTF-8 cannot read
    (so one stray byte rejects its row instead of garbling the file); else Windows-1252,
    what Excel writes."""
    for bom, name in (
        (codecs.BOM_UTF32_LE, "utf-32"),
        (codecs.BOM_UTF32_BE, "utf-32"),
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if sample.startswith(bom):
            return name
    if len(sample) >= 4:
        even, odd = sample[0::2].count(0), sample[1::2].count(0)
        if odd > len(sample) // 4 and even == 0:
            return "utf-16-le"
        if even > len(sample) // 4 and odd == 0:
            return "utf-16-be"
    text = codecs.getincrementaldecoder("utf-8")("surrogateescape").decode(sample, final=False)
    unreadable = len(_UNDECODABLE.findall(text))
    if sum(ord(c) > 0x7F for c in text) - unreadable >= unreadable:  # valid sequences win ties
        return "utf-8"
    return "cp1252"


def _binary(path: str | os.PathLike[str], gzipped: bool) -> IO[bytes]:
    """The file's bytes (decompressed when gzipped); the caller closes it."""
    if gzipped:
        return gzip.open(path, "rb")  # type: ignore[return-value]
    return open(path, "rb")


def _csv_table(
    path: str | os.PathLike[str], gzipped: bool, encoding: str | None, delimiter: str | None
) -> Table:
    with _binary(path, gzipped) as head:
        sample = head.read(SAMPLE_BYTES)
    encoding = encoding or detect_encoding(sample)
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise FileFormatError(path, f"unknown encoding {encoding!r}.") from None
    if delimiter is None:
        default = "\t" if str(path).lower().removesuffix(".gz").endswith(".tsv") else ","
        delimiter = sniff_delimiter(sample.decode(encoding, errors="replace"), default)
    text = io.TextIOWrapper(_binary(path, gzipped), encoding=encoding, errors="surrogateescape", newline="")
    reader = csv.reader(text, delimiter=delimiter)
    header: list[str] | None = None
    number = 0
    for cells in reader:
        number += 1
        if any(cell.strip() for cell in cells):
            header = cells
            break
    if header is None:
        text.close()
        raise FileFormatError(path, "is empty: there is no header row.")
    columns = _header(path, header, number)
    return Table(
        str(path),
        "csv",
        columns,
        _csv_rows(reader, columns, number, encoding),
        encoding=encoding,
        delimiter=delimiter,
        gzipped=gzipped,
        size_hint=None if gzipped else max(0, _count_lines(path) - number),
        _closers=[text],
    )


def _count_lines(path: str | os.PathLike[str]) -> int:
    """Line breaks in a file (a quoted line break counts too: a hint, not a count)."""
    lines, last = 0, b"\n"
    with open(path, "rb") as binary:
        for block in iter(lambda: binary.read(1 << 20), b""):
            lines += block.count(b"\n")
            last = block[-1:]
    return lines + (last != b"\n")


def sniff_delimiter(sample: str, default: str = ",") -> str:
    """The delimiter of a CSV sample: comma, semicolon, tab or pipe."""
    lines = "\n".join(sample.splitlines()[:50])
    try:
        return csv.Sniffer().sniff(lines, delimiters=",;\t|").delimiter
    except csv.Error:
        return default


def _header(path: Any, cells: Sequence[Any], number: int) -> list[str]:
    names = [str(c).strip().lstrip("\ufeff") if c is not None else "" for c in cells]
    while names and not names[-1]:  # trailing empty header cells (a spreadsheet's habit)
        names.pop()
    seen: dict[str, int] = {}
    for index, name in enumerate(names):
        if not name:
            names[index] = name = f"column {column_letter(index)}"
        if name in seen:
            first = column_letter(seen[name])
            raise FileFormatError(
                path,
                f"the header (row {number}) names {name!r} twice: "
                f"columns {first} and {column_letter(index)}.",
            )
        seen[name] = index
    return names


def _csv_rows(reader: Iterable[list[str]], columns: list[str], number: int, encoding: str) -> Iterator[Row]:
    width = len(columns)
    for cells in reader:
        number += 1
        if not cells or (len(cells) == 1 and not cells[0]):
            continue  # a blank line
        yield _split(number, cells, columns, width, encoding)


def _split(number: int, cells: list[Any], columns: list[str], width: int, encoding: str | None) -> Row:
    """Cells by column, or the reason they cannot be: a count that differs from the header's,
    or bytes the encoding could not read."""
    if len(cells) != width:
        extra = cells[width:]
        if len(cells) < width or any(c not in ("", None) for c in extra):
            return Row(number, None, cells, f"the row has {len(cells)} cells; the header has {width}")
        cells = cells[:width]
    if encoding is not None:
        for index, cell in enumerate(cells):
            if isinstance(cell, str) and _UNDECODABLE.search(cell):
                return Row(
                    number,
                    None,
                    cells,
                    f"bytes that are not valid {encoding}; give the file's encoding",
                    columns[index],
                )
    return Row(number, dict(zip(columns, cells, strict=True)), cells)


# ---------------------------------------------------------------------------- JSON lines

HEADER_SCAN = 1000  # lines read to learn the field names


def _jsonl_table(path: str | os.PathLike[str], gzipped: bool, encoding: str | None) -> Table:
    encoding = encoding or "utf-8"
    text = io.TextIOWrapper(_binary(path, gzipped), encoding=encoding, errors="surrogateescape")
    head: list[str] = []
    for line in text:
        head.append(line)
        if len(head) >= HEADER_SCAN:
            break
    columns: dict[str, None] = {}
    for line in head:
        try:
            parsed = json.loads(line)
        except ValueError:
            continue
        if isinstance(parsed, dict):
            columns.update(dict.fromkeys(parsed))
    if not any(line.strip() for line in head):
        text.close()
        raise FileFormatError(path, "is empty: there are no lines.")

    def lines() -> Iterator[str]:
        yield from head
        yield from text

    return Table(
        str(path),
        "jsonl",
        list(columns),
        _jsonl_rows(lines(), encoding),
        encoding=encoding,
        gzipped=gzipped,
        size_hint=None if gzipped else _count_lines(path),
        _closers=[text],
    )


def _jsonl_rows(lines: Iterable[str], encoding: str) -> Iterator[Row]:
    for number, line in enumerate(lines, start=1):
        stripped = line.strip()
        if not stripped:
            continue
        if _UNDECODABLE.search(stripped):
            yield Row(number, None, stripped, f"bytes that are not valid {encoding}")
            continue
        try:
            parsed = json.loads(stripped)
        except ValueError as exc:
            yield Row(number, None, stripped, f"not JSON: {exc.args[0] if exc.args else exc}")
            continue
        if not isinstance(parsed, dict):
            yield Row(number, None, stripped, f"a line holds one JSON object, not {type(parsed).__name__}")
            continue
        yield Row(number, parsed, parsed)


# ---------------------------------------------------------------------------- Excel


def _xlsx_table(path: str | os.PathLike[str], sheet: str | None) -> Table:
    openpyxl = require("openpyxl", "xlsx", "Reading .xlsx files")
    from zipfile import BadZipFile

    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (BadZipFile, KeyError, ValueError, OSError) as exc:
        raise FileFormatError(path, f"is not an Excel workbook: {exc}") from None
    if sheet is not None and sheet not in workbook.sheetnames:
        workbook.close()
        raise FileFormatError(path, f"has no sheet {sheet!r}; sheets: {', '.join(workbook.sheetnames)}.")
    worksheet = workbook[sheet] if sheet is not None else workbook.worksheets[0]
    rows = worksheet.iter_rows(values_only=True)
    number = 0
    header: Sequence[Any] | None = None
    for cells in rows:
        number += 1
        if any(c not in (None, "") for c in cells):
            header = cells
            break
    if header is None:
        workbook.close()
        raise FileFormatError(path, "is empty: the first sheet has no header row.")
    columns = _header(path, header, number)
    hint = worksheet.max_row - number if isinstance(worksheet.max_row, int) else None
    return Table(
        str(path), "xlsx", columns, _xlsx_rows(rows, columns, number), size_hint=hint, _closers=[workbook]
    )


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
        yield _split(number, values, columns, width, None)


# ---------------------------------------------------------------------------- Parquet

PARQUET_BATCH = 4096


def _parquet_table(path: str | os.PathLike[str]) -> Table:
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


# ---------------------------------------------------------------------------- rows in memory


def rows_table(rows: Any, name: str = "rows") -> Table:
    """A table over mappings (or a pandas DataFrame): columns from the first rows' keys."""
    if hasattr(rows, "itertuples") and hasattr(rows, "columns"):
        return _frame_table(rows, name)
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
