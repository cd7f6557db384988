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
_UNDECODABLE_RUN = re.compile("[\udc80-\udcff]+")
FALLBACK = "cp1252"  # what a row of a UTF-8 file that is not UTF-8 is read as
FALLBACK_FROM = ("utf-8", "utf-8-sig")
FIRST_ROWS = 10  # row numbers kept to name in a report


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
    if Path(path).is_dir():
        raise FileFormatError(path, "is a directory, not a file.")
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
class Fallback:
    """Rows of a UTF-8 file that were not UTF-8 and were read as Windows-1252."""

    encoding: str = FALLBACK
    count: int = 0
    first: list[int] = field(default_factory=list)

    def add(self, number: int) -> None:
        self.count += 1
        if len(self.first) < FIRST_ROWS:
            self.first.append(number)


def recode(text: str) -> str | None:
    """Text read with ``surrogateescape``, its unreadable bytes read again as Windows-1252
    (the rest stays as read); ``None`` when those bytes are not Windows-1252 either."""
    try:
        return _UNDECODABLE_RUN.sub(lambda run: _escaped_bytes(run.group()).decode(FALLBACK), text)
    except UnicodeError:
        return None


def _escaped_bytes(run: str) -> bytes:
    return bytes(ord(c) - 0xDC00 for c in run)


def _recoded(cell: Any) -> Any:
    """A cell as read if it is valid, else read again as Windows-1252 (``None``: not that either)."""
    if isinstance(cell, str) and _UNDECODABLE.search(cell):
        return recode(cell)
    return cell


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
    fallback: Fallback = field(default_factory=Fallback)
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
    except (OSError, EOFError, UnicodeError, csv.Error, RecursionError) as exc:
        raise FileFormatError(path, f"cannot be read as {kind}: {exc}") from None


# ---------------------------------------------------------------------------- CSV


def detect_encoding(sample: bytes) -> str:
    """The encoding of a text sample: a byte-order mark; else UTF-16 if every other byte is
    zero; else UTF-8 if it holds any valid UTF-8 sequence beyond ASCII, or nothing UTF-8
    cannot read (the rows that are not UTF-8 are read as Windows-1252 one by one); else
    Windows-1252, what Excel writes."""
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
    if not unreadable or sum(ord(c) > 0x7F for c in text) > unreadable:  # one valid sequence is enough
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
        if cells and cells != [""]:  # the first line that is not blank
            header = cells
            break
    if header is None:
        text.close()
        raise FileFormatError(path, "is empty: there is no header row.")
    fallback = Fallback()
    if encoding in FALLBACK_FROM and any(_UNDECODABLE.search(name) for name in header):
        recoded = [_recoded(name) for name in header]
        if any(name is None for name in recoded):
            text.close()
            raise FileFormatError(path, f"the header (row {number}) holds bytes that are not {encoding}.")
        header = [name for name in recoded if name is not None]
        fallback.add(number)
    columns = _header(path, header, number)
    return Table(
        str(path),
        "csv",
        columns,
        _csv_rows(reader, columns, number, encoding, fallback),
        encoding=encoding,
        delimiter=delimiter,
        gzipped=gzipped,
        size_hint=None if gzipped else max(0, _count_lines(path) - number),
        fallback=fallback,
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
    if not names:
        raise FileFormatError(path, f"the header (row {number}) names no column: every name is empty.")
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


def _csv_rows(
    reader: Iterable[list[str]], columns: list[str], number: int, encoding: str, fallback: Fallback
) -> Iterator[Row]:
    width = len(columns)
    for cells in reader:
        number += 1
        if not cells or (len(cells) == 1 and not cells[0]):
            continue  # a blank line
        yield _split(number, cells, columns, width, encoding, fallback)


def _split(
    number: int,
    cells: list[Any],
    columns: list[str],
    width: int,
    encoding: str | None,
    fallback: Fallback | None = None,
) -> Row:
    """Cells by column, or the reason they cannot be: a count that differs from the header's,
    or bytes the encoding (and, for UTF-8, Windows-1252) could not read."""
    if encoding is not None and any(isinstance(c, str) and _UNDECODABLE.search(c) for c in cells):
        recoded = [_recoded(c) for c in cells] if encoding in FALLBACK_FROM else [None]
        if fallback is None or any(c is None for c in recoded):
            index = next(i for i, c in enumerate(cells) if isinstance(c, str) and _UNDECODABLE.search(c))
            also = f" nor {FALLBACK}" if encoding in FALLBACK_FROM else ""
            return Row(
                number,
                None,
                cells,
                f"bytes that are not valid {encoding}{also}; give the file's encoding",
                columns[index] if index < len(columns) else None,
            )
        cells = recoded
        fallback.add(number)
    if len(cells) != width:
        extra = cells[width:]
        if len(cells) < width or any(c not in ("", None) for c in extra):
            return Row(number, None, cells, f"the row has {len(cells)} cells; the header has {width}")
        cells = cells[:width]
    return Row(number, dict(zip(columns, cells, strict=True)), cells)


# ---------------------------------------------------------------------------- JSON lines

HEADER_SCAN = 1000  # lines read to learn the field names
DEEP = "over a thousand levels"  # where json.loads gives up (Python's recursion limit)


def _jsonl_table(path: str | os.PathLike[str], gzipped: bool, encoding: str | None) -> Table:
    encoding = encoding or "utf-8"
    text = io.TextIOWrapper(_binary(path, gzipped), encoding=encoding, errors="surrogateescape")
    head: list[str] = []
    for line in text:
        head.append(line)
        if len(head) >= HEADER_SCAN:
            break
    columns: dict[str, None] = {}
    first_problem: Row | None = None
    for row in _jsonl_rows(head, encoding, Fallback()):
        if row.cells is not None:
            columns.update(dict.fromkeys(row.cells))
        elif first_problem is None:
            first_problem = row
    if not any(line.strip() for line in head):
        text.close()
        raise FileFormatError(path, "is empty: there are no lines.")
    if not columns and first_problem is not None:  # not one object: this is not JSON Lines
        text.close()
        where = f"line {first_problem.number}: {first_problem.problem}"
        raise FileFormatError(path, f"is not JSON Lines (one JSON object per line): {where}")

    def lines() -> Iterator[str]:
        yield from head
        yield from text

    fallback = Fallback()
    return Table(
        str(path),
        "jsonl",
        list(columns),
        _jsonl_rows(lines(), encoding, fallback),
        encoding=encoding,
        gzipped=gzipped,
        size_hint=None if gzipped else _count_lines(path),
        fallback=fallback,
        _closers=[text],
    )


def _jsonl_rows(lines: Iterable[str], encoding: str, fallback: Fallback) -> Iterator[Row]:
    for number, line in enumerate(lines, start=1):
        stripped = line.strip()
        if not stripped:
            continue
        if _UNDECODABLE.search(stripped):
            recoded = recode(stripped) if encoding in FALLBACK_FROM else None
            if recoded is None:
                also = f" nor {FALLBACK}" if encoding in FALLBACK_FROM else ""
                yield Row(number, None, stripped, f"bytes that are not valid {encoding}{also}")
                continue
            stripped = recoded
            fallback.add(number)
        try:
            parsed = json.loads(stripped)
        except json.JSONDecodeError as exc:  # its own line and column would always say line 1
            yield Row(number, None, stripped, f"not JSON: {exc.msg} at column {exc.colno}")
            continue
        except ValueError as exc:
            yield Row(number, None, stripped, f"not JSON: {exc}")
            continue
        except RecursionError:
            yield Row(number, None, stripped, f"the line is JSON nested too deeply to read ({DEEP})")
            continue
        if not isinstance(parsed, dict):
            yield Row(number, None, stripped, f"a line holds one JSON object, not {type(parsed).__name__}")
            continue
        yield Row(number, parsed, parsed)


# ---------------------------------------------------------------------------- Excel


# Errors of a workbook's XML: malformed, or refused by defusedxml (entity expansion, a DTD).
XML_ERRORS = (SyntaxError, ValueError, KeyError, TypeError, EOFError)
SHEET_ROWS, SHEET_COLUMNS = 1_048_576, 16_384  # a whole sheet: a dimension that says nothing


def _xlsx_table(path: str | os.PathLike[str], sheet: str | None) -> Table:
    openpyxl = require("openpyxl", "xlsx", "Reading .xlsx files")
    from zipfile import BadZipFile

    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (BadZipFile, OSError, SyntaxError, ValueError, KeyError, TypeError, EOFError) as exc:
        raise FileFormatError(path, f"is not an Excel workbook: {_xml_reason(exc)}") from None
    if sheet is not None and sheet not in workbook.sheetnames:
        workbook.close()
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
        raise
    if header is None:
        workbook.close()
        raise FileFormatError(path, "is empty: the first sheet has no header row.")
    columns = _header(path, header, number)
    plausible = isinstance(claimed_rows, int) and claimed_rows < SHEET_ROWS
    plausible = plausible and isinstance(claimed_columns, int) and claimed_columns < SHEET_COLUMNS
    hint = claimed_rows - number if plausible else None
    return Table(
        str(path), "xlsx", columns, _xlsx_rows(rows, columns, number), size_hint=hint, _closers=[workbook]
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
