"""Reading and writing tables: encodings, delimiters, ragged rows, every format both ways."""

from __future__ import annotations

import datetime as dt
import gzip
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from overlay import FileFormatError
from overlay.io import detect_encoding, escape_formula, open_table, open_writer, unescape_formula


def rows_of(path: Path, **options: object) -> tuple[list[str], list[tuple[int, object, str | None]]]:
    with open_table(path, **options) as table:  # type: ignore[arg-type]
        return table.columns, [(row.number, row.cells, row.problem) for row in table]


def test_a_utf8_bom_is_detected_and_dropped_from_the_header(tmp_path: Path) -> None:
    path = tmp_path / "bom.csv"
    path.write_bytes("\ufeffName,City\nZoë,Zürich\n".encode())
    columns, rows = rows_of(path)
    assert columns == ["Name", "City"]
    assert rows == [(2, {"Name": "Zoë", "City": "Zürich"}, None)]


@pytest.mark.parametrize(
    ("encoding", "expected"),
    [("utf-8", "utf-8"), ("cp1252", "cp1252"), ("utf-16", "utf-16"), ("utf-8-sig", "utf-8-sig")],
)
def test_encodings_are_detected(tmp_path: Path, encoding: str, expected: str) -> None:
    text = "Name;Note\nJosé;Crème brûlée € 5\nÅsa;naïve\n"
    path = tmp_path / "people.csv"
    path.write_bytes(text.encode(encoding))
    assert detect_encoding(path.read_bytes()[:4096]) == expected
    columns, rows = rows_of(path)
    assert columns == ["Name", "Note"]
    assert [cells for _, cells, _ in rows] == [
        {"Name": "José", "Note": "Crème brûlée € 5"},
        {"Name": "Åsa", "Note": "naïve"},
    ]


def test_utf16_without_a_bom_is_detected_by_its_zero_bytes() -> None:
    assert detect_encoding("Name,City\nAda,London\n".encode("utf-16-le")) == "utf-16-le"
    assert detect_encoding("Name,City\nAda,London\n".encode("utf-16-be")) == "utf-16-be"


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_the_delimiter_is_sniffed(tmp_path: Path, delimiter: str) -> None:
    path = tmp_path / "people.csv"
    path.write_text(delimiter.join(["a", "b", "c"]) + "\n" + delimiter.join(["1", "2,5", "3"]) + "\n")
    if delimiter == ",":
        path.write_text('a,b,c\n1,"2,5",3\n')
    columns, rows = rows_of(path)
    assert columns == ["a", "b", "c"]
    assert rows[0][1] == {"a": "1", "b": "2,5", "c": "3"}


def test_quoted_newlines_stay_in_their_cell_and_rows_keep_their_sheet_numbers(tmp_path: Path) -> None:
    path = tmp_path / "notes.csv"
    path.write_text('name,note\nAda,"line one\nline two"\n\nGrace,short\n')
    _, rows = rows_of(path)
    assert rows == [
        (2, {"name": "Ada", "note": "line one\nline two"}, None),
        (4, {"name": "Grace", "note": "short"}, None),
    ]


def test_ragged_rows_come_out_with_a_problem_and_their_cells(tmp_path: Path) -> None:
    path = tmp_path / "ragged.csv"
    path.write_text("a,b,c\n1,2\n1,2,3,4\n1,2,3,,\n")
    with open_table(path) as table:
        rows = list(table)
    assert [(r.number, r.problem) for r in rows[:2]] == [
        (2, "the row has 2 cells; the header has 3"),
        (3, "the row has 4 cells; the header has 3"),
    ]
    assert rows[0].raw == ["1", "2"] and rows[1].cells is None
    assert rows[2].cells == {"a": "1", "b": "2", "c": "3"}  # empty trailing cells are not data


def test_bytes_the_encoding_cannot_read_reject_only_their_row(tmp_path: Path) -> None:
    path = tmp_path / "mixed.csv"
    path.write_bytes(b"name,city\nAda,London\nJos\xc3\xa9,M\xe1laga\n")  # one Latin-1 byte in UTF-8
    with open_table(path) as table:
        rows = list(table)
    assert table.encoding == "utf-8"
    assert rows[0].cells == {"name": "Ada", "city": "London"}
    assert rows[1].cells is None and rows[1].column == "city"
    assert "not valid utf-8" in (rows[1].problem or "")


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"", "is empty"), (b"\n\n", "is empty"), (b"a,b,a\n1,2,3\n", "names 'a' twice: columns A and C")],
)
def test_files_without_a_usable_header_are_refused(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    with pytest.raises(FileFormatError, match=message):
        open_table(path)


def test_a_header_only_file_has_no_rows(tmp_path: Path) -> None:
    path = tmp_path / "header.csv"
    path.write_text("name,email\n")
    assert rows_of(path) == (["name", "email"], [])


@pytest.mark.parametrize(
    ("name", "message"),
    [("people.json", "one object per line as .jsonl"), ("people", "no extension"), ("x.xlsx.gz", ".gz")],
)
def test_unknown_extensions_are_refused_with_the_known_ones(tmp_path: Path, name: str, message: str) -> None:
    path = tmp_path / name
    path.write_text("{}")
    with pytest.raises(FileFormatError, match=message):
        open_table(path)


def test_json_lines_report_bad_lines_and_learn_columns_from_the_first_lines(tmp_path: Path) -> None:
    path = tmp_path / "people.jsonl.gz"
    with gzip.open(path, "wt") as out:
        out.write('{"name": "Ada", "tags": ["a", "b"]}\n\n{"name": \n[1, 2]\n{"email": "x@y.example"}\n')
    columns, rows = rows_of(path)
    assert columns == ["name", "tags", "email"]
    assert rows[0] == (1, {"name": "Ada", "tags": ["a", "b"]}, None)
    assert rows[1][0] == 3 and rows[1][1] is None and "not JSON" in str(rows[1][2])
    assert rows[2] == (4, None, "a line holds one JSON object, not list")


@pytest.mark.parametrize("suffix", ["xlsx", "parquet"])
def test_corrupt_binary_files_are_a_file_format_error(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"broken.{suffix}"
    path.write_bytes(b"PK\x03\x04 not really a workbook")
    with pytest.raises(FileFormatError, match="broken"):
        open_table(path)


ROWS = [
    ["r1", "Ada", 3.5, True, "2025-03-01", "2025-03-01T09:30:00+00:00"],
    ["r2", "=HYPERLINK()", None, False, None, None],
]
KINDS = ["string", "string", "number", "boolean", "date", "timestamp"]
COLUMNS = ["record_id", "name", "score", "active", "since", "seen_at"]


@pytest.mark.parametrize("name", ["out.csv", "out.jsonl", "out.jsonl.gz", "out.xlsx", "out.parquet"])
def test_every_writer_is_read_back_by_its_reader(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    fmt = {"csv": "csv", "jsonl": "jsonl", "xlsx": "xlsx", "parquet": "parquet"}[name.split(".")[1]]
    writer = open_writer(path, fmt, COLUMNS, KINDS, gzipped=name.endswith(".gz"))
    for row in ROWS:
        writer.write(row)
    assert not path.exists()  # written under a temporary name until closed
    writer.close()
    columns, rows = rows_of(path)
    assert columns == COLUMNS
    first, second = (cells for _, cells, _ in rows)
    assert isinstance(first, dict) and isinstance(second, dict)
    assert first["name"] == "Ada" and second["active"] in (False, "false")
    if fmt in ("csv", "xlsx"):
        assert second["name"] == "'=HYPERLINK()"  # escaped against formula injection
    else:
        assert second["name"] == "=HYPERLINK()"
    if fmt in ("xlsx", "parquet"):
        assert first["since"] in (dt.date(2025, 3, 1), dt.datetime(2025, 3, 1))
        assert first["seen_at"].replace(tzinfo=None) == dt.datetime(2025, 3, 1, 9, 30)
        assert first["score"] == 3.5 and first["active"] is True


def test_formula_escaping_can_be_turned_off(tmp_path: Path) -> None:
    path = tmp_path / "raw.csv"
    writer = open_writer(path, "csv", ["a"], escape_formulas=False)
    writer.write(["=1+1"])
    writer.close()
    assert path.read_text().splitlines() == ["a", "=1+1"]


@given(st.text())
def test_unescaping_an_escaped_cell_gives_it_back(text: str) -> None:
    escaped = escape_formula(text)
    assert unescape_formula(escaped) == text
    assert escaped[:1] not in ("=", "+", "-", "@", "\t", "\r")


def test_an_aborted_writer_leaves_no_file(tmp_path: Path) -> None:
    path = tmp_path / "out.csv"
    writer = open_writer(path, "csv", ["a"])
    writer.write(["1"])
    writer.abort()
    assert list(tmp_path.iterdir()) == []
