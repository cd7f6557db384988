"""Imports of hostile or awkward input: every row ends applied or rejected with all its
reasons, error files fed back keep the original rows, and the counts say what happened."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

import overlay
from overlay.io import Column

HEADER = "Deal name,Stage,Deal value\n"


@pytest.fixture
def crm() -> Iterator[overlay.Client]:
    with (
        overlay.Sandbox(seed_data=True, read_rate=None, write_rate=None) as sandbox,
        sandbox.connect() as client,
    ):
        yield client


def deal_names(crm: overlay.Client) -> set[str]:
    return set(crm.records("deals").where().pluck("name"))


def test_a_lone_surrogate_rejects_its_row_and_the_others_are_applied(
    crm: overlay.Client, tmp_path: Path
) -> None:
    path = tmp_path / "deals.jsonl"
    rows = [{"Deal name": "Fine deal"}, {"Deal name": "Bad \ud800 deal"}, {"Deal name": "Also fine"}]
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))  # \ud800 written as an escape
    errors = tmp_path / "deals.errors.jsonl"
    report = crm.import_file(path, "deals", error_file=errors)
    assert (report.total, report.created, report.failed) == (3, 2, 1)
    [rejection] = report.rejections
    assert rejection.row == 2 and rejection.column == "Deal name" and "lone surrogate" in rejection.reason
    assert {"Fine deal", "Also fine"} <= deal_names(crm)
    errors.read_bytes().decode("utf-8")  # always valid UTF-8
    assert json.loads(errors.read_text())["_row"] == 2
    in_memory = crm.import_rows([{"Deal name": "x\udfff"}, {"Deal name": "In memory"}], "deals")
    assert (in_memory.created, in_memory.failed) == (1, 1)


def test_a_row_reports_every_problem_in_one_pass(crm: overlay.Client, tmp_path: Path) -> None:
    path = tmp_path / "deals.csv"
    path.write_text("Deal name,Stage,Deal value,Close date\n,Leed,12.345 EUR,someday\n")
    report = crm.import_file(path, "deals")
    [rejection] = report.rejections
    assert [column for column, _ in rejection.problems] == ["Stage", "Deal value", "Close date", None]
    for phrase in ("Did you mean 'Lead'", "more decimals", "is not a date", "needs 'name'"):
        assert phrase in rejection.reason


def test_reimporting_an_error_file_keeps_the_rows_of_the_original_file(
    crm: overlay.Client, tmp_path: Path
) -> None:
    original = tmp_path / "deals.csv"
    original.write_text(HEADER + "Good,Lead,\nBad one,Leed,\nGood two,Won,\nBad two,Lead,12.345 EUR\n")
    first_errors = tmp_path / "deals.errors.csv"
    first = crm.import_file(original, "deals", error_file=first_errors)
    assert [r.row for r in first.rejections] == [3, 5]
    second_errors = tmp_path / "deals.errors.again.csv"
    second = crm.import_file(first_errors, "deals", error_file=second_errors)  # fed back unfixed
    assert [(r.row, r.source_row) for r in second.rejections] == [(2, 3), (3, 5)]
    assert "row 2 (row 3 of the original file)" in str(second)
    with second_errors.open(newline="") as lines:
        assert [row[0] for row in csv.reader(lines)][1:] == ["3", "5"]


def test_windows_1252_rows_of_a_utf8_file_are_read_as_such_and_reported(
    crm: overlay.Client, tmp_path: Path
) -> None:
    path = tmp_path / "mixed.csv"
    path.write_bytes(
        HEADER.encode()
        + "Zoë's deal,Lead,\n".encode()
        + b"Caf\xe9 cr\xe8me,Lead,\n"
        + b"Na\xefve deal,Won,\n"
        + b"Undefined \x81 byte,Lead,\n"
    )
    errors = tmp_path / "mixed.errors.csv"
    report = crm.import_file(path, "deals", error_file=errors)
    assert (report.encoding, report.created, report.failed) == ("utf-8", 3, 1)
    assert (report.cp1252_rows, report.cp1252_first_rows) == (2, [3, 4])
    assert "2 rows were not utf-8 and were read as Windows-1252 (rows 3, 4)" in str(report)
    assert {"Zoë's deal", "Café crème", "Naïve deal"} <= deal_names(crm)
    text = errors.read_bytes().decode("utf-8")  # valid UTF-8, whatever the input held
    assert "not valid utf-8 nor cp1252" in text and "Undefined \ufffd byte" in text


def test_a_file_whose_columns_are_all_ignored_is_a_mapping_error(crm: overlay.Client, tmp_path: Path) -> None:
    path = tmp_path / "unrelated.csv"
    path.write_text("Colour,Size\nred,9\n")
    before = deal_names(crm)
    with pytest.raises(
        overlay.MappingError, match=r"unrelated\.csv: no column maps to an attribute of deals"
    ):
        crm.import_file(path, "deals", unmapped="ignore")
    with pytest.raises(overlay.MappingError, match="no column maps"):
        crm.import_file(path, "deals", ignore=["Colour", "Size"])
    assert deal_names(crm) == before


def test_a_misspelt_import_option_is_a_type_error_naming_the_nearest(
    crm: overlay.Client, tmp_path: Path
) -> None:
    path = tmp_path / "deals.csv"
    path.write_text(HEADER + "A,Lead,\n")
    with pytest.raises(
        TypeError, match=r"import_file\(\) got an unexpected keyword argument 'mach'; did you mean 'match'"
    ):
        crm.import_file(path, "deals", mach="name")  # type: ignore[call-arg]
    with pytest.raises(TypeError, match=r"import_rows\(\) .* 'dryrun'; did you mean 'dry_run'"):
        crm.import_rows([{"Deal name": "A"}], "deals", dryrun=True)  # type: ignore[call-arg]
    assert "A" not in deal_names(crm)


@pytest.mark.parametrize("formats", [5, "%d/%m/%Y", [5]])
def test_date_formats_that_are_not_a_list_of_formats_are_refused_naming_the_option(
    crm: overlay.Client, tmp_path: Path, formats: object
) -> None:
    path = tmp_path / "deals.csv"
    path.write_text(HEADER + "B,Lead,\n")
    with pytest.raises(overlay.InvalidArgumentError, match=r"date_formats is a list of strptime formats"):
        crm.import_file(path, "deals", date_formats=formats)  # type: ignore[arg-type]
    assert "B" not in deal_names(crm)


@pytest.mark.parametrize(
    ("formats", "problem"),
    [
        (["%Q"], r"date_formats: '%Q' holds %Q, which strptime does not read"),
        (["%d/%m/%Y", "%Y-%m-%"], r"'%Y-%m-%' holds a lone % at the end"),
        (["dd/mm/yyyy"], r"'dd/mm/yyyy' has no % directive \(a format reads like '%d/%m/%Y'\)"),
    ],
)
def test_a_date_format_strptime_cannot_read_is_refused_before_any_row(
    crm: overlay.Client, tmp_path: Path, formats: list[str], problem: str
) -> None:
    path = tmp_path / "deals.csv"
    path.write_text(HEADER + "C,Lead,\n")
    with pytest.raises(overlay.InvalidArgumentError, match=problem):
        crm.import_file(path, "deals", date_formats=formats)
    with pytest.raises(overlay.MappingError, match=r"Column 'Deal name': formats: '%Q' holds %Q"):
        crm.import_file(path, "deals", mapping={"Deal name": Column("name", formats=("%Q",))})
    assert "C" not in deal_names(crm)


def test_a_second_import_of_the_same_file_counts_unchanged_rows(crm: overlay.Client, tmp_path: Path) -> None:
    path = tmp_path / "people.csv"
    path.write_text("Name,Email\nNew Person,new@orbit.example\nAugusta Ada King,ada@analytical.example\n")
    first = crm.import_file(path, "people", match="email_addresses")
    assert (first.created, first.updated, first.failed) == (1, 1, 0)
    dry = crm.import_file(path, "people", match="email_addresses", dry_run=True)  # as documented
    assert (dry.created, dry.updated, dry.unchanged) == (0, 2, 0)
    again = crm.import_file(path, "people", match="email_addresses")
    assert (again.created, again.updated, again.unchanged, again.accepted) == (0, 0, 2, 2)
    assert "0 created, 0 updated, 2 unchanged" in str(again)


def test_phone_numbers_are_checked_in_their_region_and_keep_what_was_typed(
    crm: overlay.Client, tmp_path: Path
) -> None:
    path = tmp_path / "people.csv"
    path.write_text(
        "Name,Email,Phone\n"
        "Wrong Region,wrong@x.example,(555) 010-1234\n"
        "Right Region,right@x.example,020 7946 0958\n"
    )
    report = crm.import_file(path, "people", match="email_addresses", phone_region="GB")
    [rejection] = report.rejections
    assert rejection.row == 2 and rejection.column == "Phone"
    assert "'(555) 010-1234' is not a valid phone number in GB" in rejection.reason
    person = crm.records("people").where("email_addresses = 'right@x.example'").first()
    assert person is not None
    [phone] = person.to_dict()["values"]["phone_numbers"]
    assert phone["phone_number"] == "+442079460958"
    assert phone["original_phone_number"] == "020 7946 0958"
    assert phone["country_code"] == "GB"


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        ({"match": 5}, overlay.MappingError, r"match names a unique attribute by its slug, got int"),
        ({"encoding": 5}, overlay.InvalidArgumentError, r"encoding is text \(str\), got int"),
        ({"delimiter": "ab"}, overlay.InvalidArgumentError, r"delimiter is one character .* got 'ab'"),
    ],
)
def test_options_of_the_wrong_type_are_named_not_a_foreign_error(
    crm: overlay.Client, tmp_path: Path, options: dict[str, object], error: type[Exception], message: str
) -> None:
    path = tmp_path / "deals.csv"
    path.write_text(HEADER + "D,Lead,\n")
    with pytest.raises(error, match=message):
        crm.import_file(path, "deals", **options)  # type: ignore[arg-type]
    assert "D" not in deal_names(crm)


def test_a_phone_region_or_timezone_that_is_not_one_is_a_bad_option_not_bad_rows(
    crm: overlay.Client, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "deals.csv"
    path.write_text(HEADER + "E,Lead,\n")
    with pytest.raises(
        overlay.InvalidArgumentError, match=r"phone_region: 'ZZ' is not a country code such as GB"
    ):
        crm.import_file(path, "deals", phone_region="ZZ")
    with pytest.raises(
        overlay.InvalidArgumentError, match=r"timezone is a tzinfo or an IANA zone name .* 'Mars/Base'"
    ):
        crm.import_file(path, "deals", timezone="Mars/Base")
    assert "E" not in deal_names(crm)
    from overlay.cli import main

    assert (
        main(["import", str(path), "--object", "deals", "--phone-region", "ZZ", "--dry-run", "--sandbox"])
        == 2
    )
    assert "'ZZ' is not a country code" in capsys.readouterr().err
    assert crm.import_file(path, "deals", timezone="Europe/London", dry_run=True).failed == 0


def test_numbers_beyond_what_the_api_stores_are_rejected_row_by_row(
    crm: overlay.Client, tmp_path: Path
) -> None:
    path = tmp_path / "deals.csv"
    big = "9" * 5000
    path.write_text(HEADER + f"F1,Lead,{big}\nF2,Lead,1e9999999\nF3,Lead,12\nF4,Lead,1e400 EUR\n")
    report = crm.import_file(path, "deals")
    assert (report.created, report.failed) == (1, 3)
    assert [r.row for r in report.rejections] == [2, 3, 5]
    assert all("beyond the largest" in r.reason for r in report.rejections)
    rows = [{"Deal name": "G1", "Stage": "Lead", "Deal value": float("inf")}]
    assert crm.import_rows(rows, "deals").rejections[0].reason.endswith("'inf' is not a number")


def test_a_gzip_file_cut_short_is_a_file_format_error_naming_it_and_the_last_row(
    crm: overlay.Client, tmp_path: Path
) -> None:
    import gzip

    data = gzip.compress(
        ("Name,Email\n" + "".join(f"P{i},p{i}@cut.example\n" for i in range(30000))).encode()
    )
    path = tmp_path / "people.csv.gz"
    path.write_bytes(data[: len(data) * 3 // 4])
    with pytest.raises(
        overlay.FileFormatError, match=r"people\.csv\.gz: cannot be read past row \d+: EOFError"
    ):
        crm.import_file(path, "people", dry_run=True)


def test_an_output_file_that_is_the_input_is_refused_before_anything_is_written(
    crm: overlay.Client, tmp_path: Path
) -> None:
    path = tmp_path / "deals.csv"
    path.write_text(HEADER + "H,Lead,\n")
    for option in ("error_file", "journal"):
        with pytest.raises(overlay.InvalidArgumentError, match=rf"{option} is the file being read"):
            crm.import_file(path, "deals", **{option: str(path)})  # type: ignore[arg-type]
    assert path.read_text() == HEADER + "H,Lead,\n" and "H" not in deal_names(crm)
