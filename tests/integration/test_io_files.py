"""Imports of bad files lose nothing; exports stream, split, flatten, escape and resume."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import overlay

HEADER = "Deal name,Stage,Deal value,Close date\n"


@pytest.fixture
def crm() -> Iterator[overlay.Client]:
    with (
        overlay.Sandbox(seed_data=True, read_rate=None, write_rate=None) as sandbox,
        sandbox.connect() as client,
    ):
        yield client


def error_rows(path: Path) -> list[tuple[str, str]]:
    with path.open(newline="", encoding="utf-8") as lines:
        return [(row[0], row[1]) for row in list(csv.reader(lines))[1:]]


def deals(crm: overlay.Client) -> int:
    return crm.records("deals").where().count()


CORPUS = {
    # name: (bytes, rows expected rejected, a phrase of each rejection)
    "ragged": (
        HEADER + "A,Lead,10 USD,2025-01-01\nB,Lead\nC,Lead,1,2025-01-01,extra\nD,Won,,\n",
        {"3": "2 cells", "4": "5 cells"},
    ),
    "bad dates": (
        HEADER + "A,Lead,,31/02/2025\nB,Lead,,someday\nC,Lead,,2025-02-28\n",
        {"2": "is not a date", "3": "is not a date"},
    ),
    "bad values": (
        HEADER + "A,Leed,,\nB,Lead,12.345 EUR,\n,Lead,,\nD,Lead,1,\n",
        {"2": "Did you mean 'Lead'", "3": "more decimals", "4": "'name'"},
    ),
    "huge cell": (HEADER + "A,Lead,,\n" + "B" * 200_000 + ",Lead,,\n", {"3": "200,000 characters"}),
    "header only": (HEADER, {}),
}


@pytest.mark.parametrize("case", list(CORPUS))
def test_a_bad_file_gives_row_level_errors_and_loses_no_row(
    crm: overlay.Client, tmp_path: Path, case: str
) -> None:
    content, rejected = CORPUS[case]
    path = tmp_path / "deals.csv"
    path.write_text(content)
    errors = tmp_path / "deals.errors.csv"
    before = deals(crm)
    dry = crm.import_file(path, "deals", dry_run=True)
    report = crm.import_file(path, "deals", error_file=errors)
    total = content.count("\n") - 1 - (case == "ragged" and 0)
    for run in (dry, report):
        assert run.accepted + run.rejected == run.total == total
        assert {str(r.row): r.reason for r in run.rejections}.keys() == rejected.keys()
    assert dry.created == report.created == report.accepted
    assert deals(crm) == before + report.accepted
    written = dict(error_rows(errors))
    assert written.keys() == rejected.keys()
    for row, phrase in rejected.items():
        assert phrase in written[row], written[row]


def test_a_file_in_another_encoding_reads_right_and_a_stray_byte_reads_as_windows_1252(
    crm: overlay.Client, tmp_path: Path
) -> None:
    latin = tmp_path / "latin.csv"
    latin.write_bytes((HEADER + "Café crème,Lead,,\nNaïve deal,Won,,\n").encode("cp1252"))
    report = crm.import_file(latin, "deals")
    assert (report.encoding, report.accepted, report.rejected) == ("cp1252", 2, 0)
    assert set(crm.records("deals").where("name ^= 'Caf'").pluck("name")) == {"Café crème"}

    mixed = tmp_path / "mixed.csv"
    mixed.write_bytes(HEADER.encode() + "Zoë's deal,Lead,,\n".encode() + b"Bad \xe9 byte,Lead,,\n")
    report = crm.import_file(mixed, "deals")
    assert (report.encoding, report.accepted, report.failed, report.cp1252_first_rows) == ("utf-8", 2, 0, [3])
    assert set(crm.records("deals").where("name ^= 'Bad'").pluck("name")) == {"Bad é byte"}


def test_unknown_columns_and_empty_files_stop_before_any_write(crm: overlay.Client, tmp_path: Path) -> None:
    before = deals(crm)
    unknown = tmp_path / "unknown.csv"
    unknown.write_text("Deal name,Satge,Colour\nA,Lead,red\n")
    with pytest.raises(
        overlay.MappingError, match=r"'Satge' \(B\) matches no attribute of deals\. Did you mean 'stage'"
    ):
        crm.import_file(unknown, "deals")
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    with pytest.raises(overlay.FileFormatError, match=r"empty\.csv: is empty"):
        crm.import_file(empty, "deals")
    assert deals(crm) == before


def test_upserts_match_dedupe_look_up_references_and_resume(crm: overlay.Client, tmp_path: Path) -> None:
    path = tmp_path / "people.jsonl"
    rows = [
        {"Name": "Ada Lovelace", "Email": "ada@analytical.example", "Company": "analytical.example"},
        {"Name": "New Person", "Email": "new@orbit.example", "Company": "https://www.orbit.example/"},
        {"Name": "Again", "Email": "NEW@orbit.example"},
        {"Name": "Lost", "Email": "lost@nowhere.example", "Company": "nowhere.example"},
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    dry = crm.import_file(path, "people", match="email_addresses", dry_run=True)
    assert (dry.accepted, dry.updated, dry.created, dry.rejected) == (2, 1, 1, 2)
    reasons = {r.row: r.reason for r in dry.rejections}
    assert reasons[3] == "the same email_addresses as row 2, which is imported instead"
    assert "no companies record has domains = 'nowhere.example'" in reasons[4]
    journal = tmp_path / "journal"
    errors = tmp_path / "people.errors.jsonl"
    report = crm.import_file(path, "people", match="email_addresses", journal=journal, error_file=errors)
    assert (report.accepted, report.unchanged, report.created, report.failed) == (2, 1, 1, 2)
    assert [json.loads(line)["_row"] for line in errors.read_text().splitlines()] == [3, 4]
    person = crm.records("people").where("email_addresses = 'new@orbit.example'").include("company").first()
    assert person is not None and person["company"]["name"] == "Orbit Labs"
    again = crm.import_file(path, "people", match="email_addresses", journal=journal)
    assert (again.accepted, again.skipped, again.created, again.failed) == (2, 2, 0, 2)


def test_an_incremental_export_writes_only_what_changed_since_its_watermark(
    crm: overlay.Client, tmp_path: Path
) -> None:
    state = tmp_path / "people.state.json"
    first = crm.records("people").export(tmp_path / "all.jsonl", state=state)
    assert first.rows == 4 and first.watermark is not None
    ada = crm.records("people").where("name ~ 'Ada'").first()
    assert ada is not None
    crm.records("people").update(ada.id, {"job_title": "Programmer"})
    crm.records("people").create({"name": "Mary Somerville", "email_addresses": ["mary@example.com"]})
    second = crm.records("people").export(tmp_path / "changed.jsonl", state=state)
    lines = [json.loads(line) for line in (tmp_path / "changed.jsonl").read_text().splitlines()]
    assert second.rows == 2 and {line["name"] for line in lines} == {"Ada Lovelace", "Mary Somerville"}
    third = crm.records("people").export(tmp_path / "none.jsonl", state=state)
    assert third.rows == 0 and (tmp_path / "none.jsonl").read_text() == ""
    with pytest.raises(overlay.InvalidArgumentError, match="the state of another export"):
        crm.records("people").where("name ~ 'Ada'").export(tmp_path / "x.jsonl", state=state)
    for damaged, message in (("[]", "it holds a JSON list"), ("{", "Expecting")):
        Path(state).write_text(damaged)
        with pytest.raises(overlay.FileFormatError, match=rf"is not an export state file: {message}"):
            crm.records("people").export(tmp_path / "x.jsonl", state=state)


def test_records_deleted_since_the_last_run_leave_an_incremental_export_as_tombstones(
    crm: overlay.Client, tmp_path: Path
) -> None:
    state, people = tmp_path / "people.state.json", crm.records("people")
    first = people.export(tmp_path / "all.csv", state=state)
    rows = list(csv.DictReader((tmp_path / "all.csv").open()))
    assert first.rows == 4 and first.deleted == 0 and {r["_deleted_at"] for r in rows} == {""}
    doomed = people.create({"name": "Briefly Here"})
    kept = people.create({"name": "Still Here"})
    people.delete(doomed.id)
    ada = people.where("name ~ 'Ada'").first()
    assert ada is not None
    people.delete(ada.id)
    second = people.export(tmp_path / "changed.csv", state=state)
    rows = list(csv.DictReader((tmp_path / "changed.csv").open()))
    assert (second.rows, second.deleted) == (1, 2) and "1 row and 2 deleted" in str(second)
    assert [(r["record_id"], r["name"], bool(r["_deleted_at"])) for r in rows] == [
        (kept.id, "Still Here", False),
        (doomed.id, "", True),
        (ada.id, "", True),
    ]
    third = people.export(tmp_path / "none.csv", state=state)
    assert (third.rows, third.deleted) == (0, 0)
    with pytest.raises(overlay.InvalidArgumentError, match="keep record_id in columns"):
        people.export(tmp_path / "x.csv", state=tmp_path / "other.json", columns=["name"])


def test_an_incremental_export_past_the_feeds_retention_says_to_start_over(tmp_path: Path) -> None:
    with overlay.Sandbox(read_rate=None, write_rate=None, seed_data=True, event_retention=0.5) as sb:
        people, state = sb.client.records("people"), tmp_path / "people.state.json"
        people.export(tmp_path / "all.csv", state=state)
        people.create({"name": "Comes and goes"})
        time.sleep(1)
        people.create({"name": "Sweeps the old one"})
        with pytest.raises(overlay.CursorExpiredError, match="delete it to export everything again"):
            people.export(tmp_path / "changed.csv", state=state)
        old = sb.connect(api_version="2026-04-01").records("people")
        report = old.export(tmp_path / "old.csv", state=tmp_path / "old.state.json")
        assert report.rows == 6 and "_deleted_at" not in (tmp_path / "old.csv").read_text().splitlines()[0]
        # one state file, two versions: refused both ways rather than losing deletes
        with pytest.raises(
            overlay.InvalidArgumentError, match="written at an API version without the change feed"
        ):
            people.export(tmp_path / "x.csv", state=tmp_path / "old.state.json")
        fresh = tmp_path / "new.state.json"
        people.export(tmp_path / "new.csv", state=fresh)
        with pytest.raises(overlay.InvalidArgumentError, match="follows deletes through the change feed"):
            old.export(tmp_path / "x.csv", state=fresh)


def test_exports_split_flatten_and_escape_as_asked(crm: overlay.Client, tmp_path: Path) -> None:
    crm.records("companies").create(
        {
            "name": "=cmd|' /C calc'!A0",
            "domains": ["a.example", "b.example"],
            "categories": ["SaaS", "Finance"],
        }
    )
    query = crm.records("companies").order_by("name")
    split = query.export(tmp_path / "companies.csv", split_rows=3, columns=["name", "domains"])
    assert [Path(f).name for f in split.files] == ["companies-00001.csv", "companies-00002.csv"]
    assert [len(Path(f).read_text().splitlines()) - 1 for f in split.files] == [3, 1]
    rows = list(csv.DictReader((tmp_path / "companies-00001.csv").open()))
    assert rows[0]["name"] == "'=cmd|' /C calc'!A0" and rows[0]["domains"] == "a.example; b.example"
    raw = query.limit(1).export(
        tmp_path / "raw.csv", escape_formulas=False, flatten={"domains": "first", "categories": "json"}
    )
    assert raw.rows == 1
    first = next(csv.DictReader((tmp_path / "raw.csv").open()))
    assert first["name"] == "=cmd|' /C calc'!A0" and first["domains"] == "a.example"
    assert json.loads(first["categories"]) == ["SaaS", "Finance"]
    with pytest.raises(overlay.InvalidArgumentError, match="Did you mean 'domains'"):
        query.export(tmp_path / "x.csv", columns=["domain"])


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    return subprocess.run(
        [sys.executable, "-m", "overlay.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=120,
    )


def test_the_cli_imports_with_an_error_file_and_exports(tmp_path: Path) -> None:
    (tmp_path / "people.csv").write_text(
        "Name,Email\nAda Lovelace,ada@analytical.example\nBad,not-an-email\n"
    )
    done = run_cli(
        "import", "people.csv", "--object", "people", "--match", "email_addresses", "--sandbox", cwd=tmp_path
    )
    assert done.returncode == 1, done.stderr
    assert "imported 1 of 2 rows (0 created, 0 updated, 1 unchanged); 1 failed" in done.stdout
    assert error_rows(tmp_path / "people.errors.csv") == [
        ("3", "column 'Email' (email_addresses): 'not-an-email' is not an email address")
    ]
    done = run_cli(
        "export", "people", "--sandbox", "-o", "people.xlsx", "--where", "name ~ 'a'", cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    assert "people → people.xlsx: 4 rows" in done.stdout
    done = run_cli("import", "missing.csv", "--object", "people", "--sandbox", cwd=tmp_path)
    assert done.returncode == 2 and "missing.csv: no such file" in done.stderr
