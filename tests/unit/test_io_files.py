"""Reading and writing tables: encodings, delimiters, ragged rows, every format both ways."""

from __future__ import annotations

import datetime as dt
import gzip
import re
import zipfile
from collections.abc import Callable
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


def test_a_utf8_row_with_windows_1252_bytes_is_read_as_windows_1252_and_counted(tmp_path: Path) -> None:
    path = tmp_path / "mixed.csv"
    lines = [b"name,city", b"Ada,London", b"Jos\xc3\xa9,M\xe1laga", "Zoë,Zürich".encode(), b"Ren\xe9e,\x80 5"]
    path.write_bytes(b"\n".join([*lines, b"Bad,\x81"]) + b"\n")  # 0x81 is no Windows-1252 character
    with open_table(path) as table:
        rows = list(table)
    assert table.encoding == "utf-8"
    assert [row.cells for row in rows[:4]] == [
        {"name": "Ada", "city": "London"},
        {"name": "José", "city": "Málaga"},  # the UTF-8 cell stays UTF-8
        {"name": "Zoë", "city": "Zürich"},
        {"name": "Renée", "city": "€ 5"},
    ]
    assert (table.fallback.count, table.fallback.first) == (2, [3, 5])
    assert rows[4].cells is None and rows[4].column == "city"
    assert "not valid utf-8 nor cp1252" in (rows[4].problem or "")


def test_a_json_line_with_windows_1252_bytes_is_read_as_windows_1252(tmp_path: Path) -> None:
    path = tmp_path / "mixed.jsonl"
    path.write_bytes('{"name": "Zoë"}\n'.encode() + b'{"name": "Ren\xe9e"}\n')
    with open_table(path) as table:
        assert [row.cells for row in table] == [{"name": "Zoë"}, {"name": "Renée"}]
    assert table.fallback.first == [2]


def test_a_json_line_nested_ten_thousand_deep_is_a_bad_line_not_a_recursion_error(tmp_path: Path) -> None:
    path = tmp_path / "deep.jsonl"
    path.write_text('{"name": "Ada"}\n' + '{"a": ' * 10_000 + "1" + "}" * 10_000 + '\n{"name": "Bo"}\n')
    columns, rows = rows_of(path)
    assert columns == ["name"]
    assert [(number, cells) for number, cells, _ in rows] == [
        (1, {"name": "Ada"}),
        (2, None),
        (3, {"name": "Bo"}),
    ]
    assert "line is JSON nested too deeply" in str(rows[1][2])


@pytest.mark.parametrize("header", [b",", b",,,", b" , "])
def test_a_csv_header_of_only_empty_names_is_refused(tmp_path: Path, header: bytes) -> None:
    path = tmp_path / "blank-header.csv"
    path.write_bytes(header + b"\nAda,London\n")
    with pytest.raises(FileFormatError, match=r"blank-header\.csv: the header \(row 1\) names no column"):
        open_table(path)


def test_a_header_ending_in_an_empty_name_ignores_that_cell(tmp_path: Path) -> None:
    path = tmp_path / "excel.csv"
    path.write_bytes(b"Name,City,\r\nAda,London,\r\nGrace,,\r\n")
    assert rows_of(path) == (
        ["Name", "City"],
        [(2, {"Name": "Ada", "City": "London"}, None), (3, {"Name": "Grace", "City": ""}, None)],
    )


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


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("name,domain\nAcme,acme.com\n", "line 1: not JSON: Expecting value at column 1"),
        ("\n[1, 2]\n\n[3]\n", "line 2: a line holds one JSON object, not list"),
    ],
)
def test_a_json_lines_file_without_one_object_is_refused_naming_its_first_bad_line(
    tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "companies.jsonl"
    path.write_text(content)
    with pytest.raises(FileFormatError, match=f"companies.jsonl: is not JSON Lines .*{re.escape(message)}"):
        open_table(path)


@pytest.mark.parametrize("suffix", ["xlsx", "parquet"])
def test_corrupt_binary_files_are_a_file_format_error(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"broken.{suffix}"
    path.write_bytes(b"PK\x03\x04 not really a workbook")
    with pytest.raises(FileFormatError, match="broken"):
        open_table(path)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            b"PK\x03\x04\x14\x00\x06\x00" + b"\x00" * 40,
            r"is not a text file: it is a zip archive .*format='xlsx'",
        ),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "is not a text file: it is a PNG image"),
        (b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj", "is not a text file: it is a PDF document"),
        (b"PAR1\x15\x04", "is not a text file: it is a Parquet file"),
        (
            b"name,city\nAda,\x00\x00London\n",
            r"is not a text file: it holds binary bytes \(byte 14 is 0x00\)",
        ),
        (bytes(range(1, 256)) * 4, r"is not a text file: it holds binary bytes \(byte 0 is 0x01\)"),
    ],
)
def test_a_binary_file_named_csv_is_refused_naming_the_file_and_what_it_is(
    tmp_path: Path, content: bytes, message: str
) -> None:
    path = tmp_path / "contacts.csv"
    path.write_bytes(content)
    with pytest.raises(FileFormatError, match=rf"contacts\.csv: {message}"):
        open_table(path)


@pytest.mark.parametrize(
    ("content", "delimiter", "message"),
    [
        (b"Name,E-mail,Job title\nAda,ada@x.example,Analyst\n", ";", r"3 split on ',': pass delimiter=','"),
        (b"Name\tE-mail\nAda\tada@x.example\n", ",", r"2 split on '\\t': pass delimiter='\\t'"),
    ],
)
def test_a_file_read_with_the_wrong_delimiter_is_refused_naming_the_right_one(
    tmp_path: Path, content: bytes, delimiter: str, message: str
) -> None:
    path = tmp_path / "people.csv"
    path.write_bytes(content)
    with pytest.raises(
        FileFormatError, match=rf"people\.csv: the header \(row 1\) is one column .*{message}"
    ):
        open_table(path, delimiter=delimiter)
    with open_table(path) as table:  # sniffed, it reads
        assert len(table.columns) >= 2
    one = tmp_path / "one.csv"
    one.write_bytes(b'Name\n"Lovelace, Ada"\n')
    with open_table(one, delimiter=";") as table:
        assert table.columns == ["Name"]


def test_text_with_the_control_characters_spreadsheets_write_is_still_read(tmp_path: Path) -> None:
    path = tmp_path / "sheet.csv"
    path.write_bytes(b"name,notes\nAda,line\x0bbreak\tand tab\x0c\r\nGrace,end\r\n\x1a")
    with open_table(path) as table:
        rows = [row.cells for row in table.rows if row.cells]
    assert rows[:2] == [
        {"name": "Ada", "notes": "line\x0bbreak\tand tab\x0c"},
        {"name": "Grace", "notes": "end"},
    ]


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


def _workbook(path: Path, edit: Callable[[str, bytes], bytes]) -> Path:
    """A small workbook (a header and two rows), its XML parts changed by ``edit``."""
    import openpyxl

    source = path.with_name("source.xlsx")
    book = openpyxl.Workbook()
    sheet = book.active
    for row in (["Name", "City"], ["Ada", "London"], ["Grace", "Arlington"]):
        sheet.append(row)
    book.save(source)
    with zipfile.ZipFile(source) as original, zipfile.ZipFile(path, "w") as changed:
        for item in original.infolist():
            changed.writestr(item, edit(item.filename, original.read(item.filename)))
    return path


def test_an_xlsx_whose_dimension_claims_the_whole_sheet_is_read_by_the_cells_it_has(tmp_path: Path) -> None:
    far = b'<row r="200000"><c r="A200000" t="inlineStr"><is><t>Alan</t></is></c></row></sheetData>'

    def lie(name: str, data: bytes) -> bytes:
        if name != "xl/worksheets/sheet1.xml":
            return data
        return re.sub(rb'<dimension ref="[^"]+"', b'<dimension ref="A1:XFD1048576"', data).replace(
            b"</sheetData>", far
        )

    path = _workbook(tmp_path / "huge.xlsx", lie)
    with open_table(path) as table:
        rows = [(row.number, row.cells) for row in table]
        assert table.size_hint is None  # not the million rows the sheet claims
    assert rows == [
        (2, {"Name": "Ada", "City": "London"}),
        (3, {"Name": "Grace", "City": "Arlington"}),
        (200000, {"Name": "Alan", "City": None}),
    ]


LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + b"".join(
        b'<!ENTITY lol%d "%s">'
        % (n, b"".join(b"&lol%s;" % (b"" if n == 2 else b"%d" % (n - 1)) for _ in range(10)))
        for n in range(2, 10)
    )
    + b"]>"
)


@pytest.mark.parametrize("part", ["xl/worksheets/sheet1.xml", "xl/workbook.xml"])
def test_a_billion_laughs_xlsx_is_a_file_format_error_naming_the_file(tmp_path: Path, part: str) -> None:
    def laugh(name: str, data: bytes) -> bytes:
        if name != part:
            return data
        body = data.split(b"?>", 1)[-1] if data.startswith(b"<?xml") else data
        return LAUGHS + body.replace(b"<t>Ada</t>", b"<t>&lol9;</t>")

    path = _workbook(tmp_path / "laughs.xlsx", laugh)
    with (
        pytest.raises(FileFormatError, match=r"laughs\.xlsx: .*declares entities"),
        open_table(path) as table,
    ):
        list(table)


def test_format_says_what_a_file_is_whatever_its_name_ends_with(tmp_path: Path) -> None:
    book = _workbook(tmp_path / "export.bin", lambda name, data: data)
    with open_table(book, format="xlsx") as table:
        assert table.columns == ["Name", "City"] and [r.cells["Name"] for r in table.rows] == ["Ada", "Grace"]
    text = tmp_path / "people.csv"
    text.write_text("Name,City\nAda,London\n")
    with pytest.raises(FileFormatError, match=r"people\.csv: is not an Excel workbook: BadZipFile"):
        open_table(text, format="xlsx")
