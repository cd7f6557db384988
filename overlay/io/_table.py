"""A table being read: its rows, the formats and what each reader shares (encodings, optional modules).

Row numbers are what the user sees: for CSV and Excel the sheet row (the header is row 1),
for JSON lines the line, for Parquet and rows in memory the position (1 is the first).
"""

from __future__ import annotations

import os
import re
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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


UNDECODABLE = re.compile("[\udc80-\udcff]")
UNDECODABLE_RUN = re.compile("[\udc80-\udcff]+")
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
        return UNDECODABLE_RUN.sub(lambda run: _escaped_bytes(run.group()).decode(FALLBACK), text)
    except UnicodeError:
        return None


def _escaped_bytes(run: str) -> bytes:
    return bytes(ord(c) - 0xDC00 for c in run)


def recoded_cell(cell: Any) -> Any:
    """A cell as read if it is valid, else read again as Windows-1252 (``None``: not that either)."""
    if isinstance(cell, str) and UNDECODABLE.search(cell):
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

    def __post_init__(self) -> None:
        self.rows = _readable(self.rows, self.name)

    def __iter__(self) -> Iterator[Row]:
        return self.rows

    def close(self) -> None:
        for closer in self._closers:
            closer.close()

    def __enter__(self) -> Table:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _readable(rows: Iterator[Row], name: str) -> Iterator[Row]:
    """``rows``; a file that cannot be read further (a gzip stream cut short or corrupt, a
    read error) is a ``FileFormatError`` naming it and the last row read."""
    last = 0
    try:
        for row in rows:
            last = row.number
            yield row
    except (EOFError, OSError, zlib.error) as exc:
        raise FileFormatError(name, f"cannot be read past row {last}: {type(exc).__name__}: {exc}") from exc


HEADER_SCAN = 1000  # lines read to learn the field names


def header_names(path: Any, cells: Sequence[Any], number: int) -> list[str]:
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


def split_cells(
    number: int,
    cells: list[Any],
    columns: list[str],
    width: int,
    encoding: str | None,
    fallback: Fallback | None = None,
) -> Row:
    """Cells by column, or the reason they cannot be: a count that differs from the header's,
    or bytes the encoding (and, for UTF-8, Windows-1252) could not read."""
    if encoding is not None and any(isinstance(c, str) and UNDECODABLE.search(c) for c in cells):
        recoded = [recoded_cell(c) for c in cells] if encoding in FALLBACK_FROM else [None]
        if fallback is None or any(c is None for c in recoded):
            index = next(i for i, c in enumerate(cells) if isinstance(c, str) and UNDECODABLE.search(c))
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
