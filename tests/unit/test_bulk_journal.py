"""The bulk journal: the run id it keeps, and the damage it survives (no I/O besides the file)."""

from __future__ import annotations

import dataclasses
import json
import logging
import re
from pathlib import Path

import pytest

import overlay
from overlay import InvalidArgumentError
from overlay._bulk_core.journal import Journal
from overlay._bulk_core.keys import idempotency_key, key_of
from overlay._bulk_core.report import BulkReport
from overlay._bulk_core.run import Batcher, BulkOptions, Pending, Run

VALID = b'{"key": "acme.example", "record_id": "r1"}\n'


HEADER = b'{"run_id": "run_00000000000000a1", "operation": "create", "object": "companies"}\n'


def journal_lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8", errors="replace").splitlines()


def test_a_new_journal_starts_with_a_run_id_that_a_resumed_run_reuses(tmp_path: Path) -> None:
    path = tmp_path / "run.journal"
    first = Journal(path, "create", "companies")
    first.record([(("acme.example", 0), "r1")])
    first.close()
    again = Journal(path, "create", "companies")
    again.close()
    header = json.loads(journal_lines(path)[0])
    assert header == {"run_id": first.run_id, "operation": "create", "object": "companies"}
    assert again.run_id == first.run_id and again.done == {("acme.example", 0): "r1"}
    assert len(journal_lines(path)) == 2, "a resumed run writes no second header"


def test_each_run_without_a_journal_gets_its_own_idempotency_keys() -> None:
    one, two = Run("create", "companies", None, None, None), Run("create", "companies", None, None, None)
    first, second = one.admit(0, "acme.example", {}), two.admit(0, "acme.example", {})
    assert first is not None and second is not None
    assert one.run_id != two.run_id
    assert one.idempotency_key(first) != two.idempotency_key(second)
    assert one.idempotency_key(first) == idempotency_key(
        one.run_id, "create", "companies", ("acme.example", 0)
    )


def test_two_items_with_one_key_are_two_items_of_the_run() -> None:
    run = Run("upsert", "companies", None, None, None)
    first, second = run.admit(0, "acme.example", {"name": "A"}), run.admit(1, "acme.example", {"name": "B"})
    assert first is not None and second is not None
    assert (first.identity, second.identity) == (("acme.example", 0), ("acme.example", 1))
    assert run.idempotency_key(first) != run.idempotency_key(second)


@pytest.mark.parametrize(
    ("damage", "named"),
    [
        (b'{"key": "torn', "not JSON (cut short"),
        (b"\xff\xfe\x00garbage\n", "not UTF-8 text"),
        (b"{}\n", "not an entry"),
        (b"[1,2]\n", "a JSON list, not an entry"),
        (b'{"key": ["a"], "record_id": 3}\n', "not an entry"),
        (b"[" * 5000 + b"\n", "not JSON"),
    ],
)
def test_a_damaged_line_is_skipped_with_a_warning_naming_it(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, damage: bytes, named: str
) -> None:
    path = tmp_path / "run.journal"
    path.write_bytes(HEADER + VALID + damage)
    with caplog.at_level(logging.WARNING, logger="overlay.bulk"):
        journal = Journal(path, "create", "companies")
    journal.close()
    assert journal.run_id == "run_00000000000000a1" and journal.done == {("acme.example", 0): "r1"}
    [warning] = [r.getMessage() for r in caplog.records if r.name == "overlay.bulk"]
    assert f"{path} line 3: " in warning and named in warning and warning.endswith("skipped")


def test_an_append_after_a_torn_line_starts_on_a_new_line(tmp_path: Path) -> None:
    path = tmp_path / "run.journal"
    path.write_bytes(
        b'{"run_id": "run_00000000000000a1", "operation": "create", "object": "companies"}\n{"key": "to'
    )
    journal = Journal(path, "create", "companies")
    journal.record([(("beta.example", 0), "r2"), (("beta.example", 1), "r3")])
    journal.close()
    lines = journal_lines(path)
    assert lines[1] == '{"key": "to'
    assert [json.loads(line) for line in lines[2:]] == [
        {"key": "beta.example", "record_id": "r2"},
        {"key": "beta.example", "record_id": "r3", "repeat": 1},
    ]
    assert Journal(path, "create", "companies").done == {("beta.example", 0): "r2", ("beta.example", 1): "r3"}


def test_a_journal_without_its_header_gets_a_run_id(tmp_path: Path) -> None:
    path = tmp_path / "run.journal"
    path.write_bytes(b'{"key": "to')  # killed while writing its first line
    journal = Journal(path, "create", "companies")
    journal.close()
    assert journal.run_id and journal.run_id.startswith("run_")
    assert json.loads(journal_lines(path)[1])["run_id"] == journal.run_id


def test_a_journal_of_another_operation_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "run.journal"
    Journal(path, "create", "companies").close()
    with pytest.raises(overlay.InvalidArgumentError, match="belongs to a run of create companies"):
        Journal(path, "upsert", "people")


def test_an_item_key_reads_as_the_value_it_was_taken_from() -> None:
    assert key_of({"domains": ["acme.example"]}, "domains") == "acme.example"
    assert key_of({"domains": [{"domain": "a.example"}, "b.example"]}, "domains") == "a.example,b.example"
    assert key_of({"n": 7}, "n") == "7"
    with pytest.raises(overlay.InvalidArgumentError, match="no value for the key 'domains'"):
        key_of({"domains": []}, "domains")


def test_an_item_with_a_lone_surrogate_fails_alone_naming_its_field() -> None:
    run = Run("create", "companies", None, None, None)
    bad = run.admit(0, "k0", {"name": "Ac\ud800me", "domains": ["ok.example"]})
    good = run.admit(1, "k1", {"name": "Acme"})
    assert bad is None and good is not None and good.size == len(b'{"name":"Acme"}')
    [error] = run.report.errors
    assert (error.index, error.key, error.code, run.report.failed) == (0, "k0", "invalid_unicode", 1)
    assert "'name'" in error.message and "'\\ud800' at character 2" in error.message


def test_the_report_says_what_really_happened() -> None:
    report = BulkReport("upsert", "companies", total=10, succeeded=7, created=1, updated=2, unchanged=4)
    report.failed, report.skipped, report.replayed, report.run_id = 1, 2, 3, "run_ab"
    text = str(report)
    assert text.startswith("upsert companies: 1 created, 2 updated, 4 unchanged (3 replayed), 1 failed, ")
    assert "2 skipped (done by an earlier attempt)" in text and "of 10 in" in text and "run_ab" in text
    assert str(BulkReport("delete", "companies", total=3, succeeded=3)).startswith(
        "delete companies: 3 ok, 0 failed"
    )


@pytest.mark.parametrize("run_id", ["run_a\nb", "run_" + "a" * 10_000, "run_\u0000", 7])
def test_a_header_with_a_run_id_this_sdk_never_writes_is_skipped_and_a_new_run_begins(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, run_id: object
) -> None:
    path = tmp_path / "run.journal"
    header = {"run_id": run_id, "operation": "create", "object": "companies"}
    path.write_text(json.dumps(header) + "\n")
    with caplog.at_level(logging.WARNING, logger="overlay.bulk"):
        journal = Journal(path, "create", "companies")
    journal.close()
    assert journal.run_id != run_id and re.fullmatch(r"run_[0-9a-f]{16}", str(journal.run_id))
    [warning] = [r.getMessage() for r in caplog.records if r.name == "overlay.bulk"]
    assert f"{path} line 1: " in warning and "run_id" in warning


@pytest.mark.parametrize("where", ["a folder", "in a missing folder"])
def test_a_journal_that_cannot_be_opened_is_an_invalid_argument_naming_it(tmp_path: Path, where: str) -> None:
    path = tmp_path if where == "a folder" else tmp_path / "nope" / "run.journal"
    with pytest.raises(InvalidArgumentError, match=r"The journal .* cannot be opened: ") as caught:
        Journal(path, "create", "companies")
    assert str(path) in str(caught.value) and isinstance(caught.value.__cause__, OSError)


# ---------------------------------------------------------------- options and batches


def test_bulk_options_are_checked_once_and_frozen() -> None:
    for wrong, message in (
        ({"batch_size": 0}, "batch_size must be 1 to 100, got 0"),
        ({"batch_size": 101}, "batch_size must be 1 to 100, got 101"),
        ({"concurrency": 0}, "concurrency must be 1 or more, got 0"),
        ({"concurrency": "2"}, "concurrency is a whole number, got str"),
        ({"total": 1.5}, "total is a whole number, got float"),
    ):
        with pytest.raises(InvalidArgumentError, match=message):
            BulkOptions(**wrong)  # type: ignore[arg-type]
    options = BulkOptions(journal="run.journal")
    with pytest.raises(dataclasses.FrozenInstanceError):
        options.dry_run = True  # type: ignore[misc]


def test_batches_close_at_their_item_count_or_byte_size_and_a_big_item_travels_alone() -> None:
    def items(*sizes: int) -> list[Pending]:
        return [Pending(i, f"k{i}", {}, size=size) for i, size in enumerate(sizes)]

    def batched(batcher: Batcher, pending: list[Pending]) -> list[list[int]]:
        out = [full for item in pending if (full := batcher.add(item))]
        rest = batcher.rest()
        return [[p.index for p in batch] for batch in [*out, *([rest] if rest else [])]]

    assert batched(Batcher(2, 1000), items(1, 1, 1, 1, 1)) == [[0, 1], [2, 3], [4]]
    assert batched(Batcher(100, 10), items(4, 4, 4, 30, 1)) == [[0, 1], [2], [3], [4]]
    assert Batcher(5, 5).rest() is None
