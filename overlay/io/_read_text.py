"""Reading the text formats, CSV and JSON lines: encodings, delimiters, and ragged or
non-JSON lines kept as rows with a problem."""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import json
import os
import re
from collections.abc import Iterable, Iterator
from typing import IO

from .._errors import FileFormatError
from ._table import (
    FALLBACK,
    FALLBACK_FROM,
    HEADER_SCAN,
    SAMPLE_BYTES,
    UNDECODABLE,
    Fallback,
    Row,
    Table,
    header_names,
    recode,
    recoded_cell,
    split_cells,
)

# Cells may be large (a pasted document); the importer refuses those over its own limit
# with a row-level error instead of letting the csv module stop the whole file.
csv.field_size_limit(max(csv.field_size_limit(), 1 << 30))


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
    unreadable = len(UNDECODABLE.findall(text))
    if not unreadable or sum(ord(c) > 0x7F for c in text) > unreadable:  # one valid sequence is enough
        return "utf-8"
    return "cp1252"


# What a file that is not text often is, by its first bytes, to say so when it is named .csv.
SIGNATURES = {
    b"PK\x03\x04": "a zip archive (an Excel workbook? name it .xlsx or pass format='xlsx')",
    b"\xd0\xcf\x11\xe0": "an old Office file (.xls: save it as .xlsx or .csv)",
    b"PAR1": "a Parquet file (name it .parquet or pass format='parquet')",
    b"\x1f\x8b": "gzip-compressed (name it .csv.gz)",
    b"%PDF": "a PDF document",
    b"\x89PNG": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
}
# Control characters no text file holds (tab, line breaks, form feed, vertical tab and the
# DOS end-of-file mark are left out: spreadsheets and old editors write them).
BINARY_BYTES = re.compile(rb"[\x00-\x08\x0e-\x19\x1b-\x1f]")


def refuse_binary(path: str | os.PathLike[str], sample: bytes) -> None:
    """Raise ``FileFormatError`` when a sample read as UTF-8 or Windows-1252 is not text."""
    for signature, what in SIGNATURES.items():
        if sample.startswith(signature):
            raise FileFormatError(path, f"is not a text file: it is {what}.")
    found = BINARY_BYTES.findall(sample)
    if b"\x00" in found or len(found) > len(sample) // 100:
        at = BINARY_BYTES.search(sample)
        offset = at.start() if at else 0
        raise FileFormatError(
            path, f"is not a text file: it holds binary bytes (byte {offset} is {sample[offset]:#04x})."
        )


def _binary(path: str | os.PathLike[str], gzipped: bool) -> IO[bytes]:
    """The file's bytes (decompressed when gzipped); the caller closes it."""
    if gzipped:
        return gzip.open(path, "rb")  # type: ignore[return-value]
    return open(path, "rb")


def csv_table(
    path: str | os.PathLike[str], gzipped: bool, encoding: str | None, delimiter: str | None
) -> Table:
    with _binary(path, gzipped) as head:
        sample = head.read(SAMPLE_BYTES)
    if encoding is None:
        encoding = detect_encoding(sample)
        if not encoding.startswith(("utf-16", "utf-32")):
            refuse_binary(path, sample)
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
    if encoding in FALLBACK_FROM and any(UNDECODABLE.search(name) for name in header):
        recoded = [recoded_cell(name) for name in header]
        if any(name is None for name in recoded):
            text.close()
            raise FileFormatError(path, f"the header (row {number}) holds bytes that are not {encoding}.")
        header = [name for name in recoded if name is not None]
        fallback.add(number)
    _check_delimiter(path, header, number, delimiter)
    columns = header_names(path, header, number)
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


DELIMITERS = (",", ";", "\t", "|")


def _check_delimiter(path: str | os.PathLike[str], header: list[str], number: int, delimiter: str) -> None:
    """Refuse a header that is one column but splits on another delimiter: the file was
    read with the wrong one, and every row would become one garbled cell."""
    if len(header) != 1:
        return
    for other in DELIMITERS:
        parts = [part for part in header[0].split(other) if part.strip()]
        if other != delimiter and len(parts) >= 2:
            raise FileFormatError(
                path,
                f"the header (row {number}) is one column {header[0][:80]!r} when read with "
                f"delimiter {delimiter!r}, and {len(parts)} split on {other!r}: "
                f"pass delimiter={other!r} (--delimiter {other!r}).",
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


def _csv_rows(
    reader: Iterable[list[str]], columns: list[str], number: int, encoding: str, fallback: Fallback
) -> Iterator[Row]:
    width = len(columns)
    for cells in reader:
        number += 1
        if not cells or (len(cells) == 1 and not cells[0]):
            continue  # a blank line
        yield split_cells(number, cells, columns, width, encoding, fallback)


# ---------------------------------------------------------------------------- JSON lines

DEEP = "over a thousand levels"  # where json.loads gives up (Python's recursion limit)


def jsonl_table(path: str | os.PathLike[str], gzipped: bool, encoding: str | None) -> Table:
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
        if UNDECODABLE.search(stripped):
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
