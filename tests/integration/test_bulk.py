"""Bulk writes against the sandbox: exactly once under chaos, resumable after kill -9, bad items reported."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from crm_sandbox import Chaos

import overlay


def names(crm: overlay.Client, prefix: str) -> list[str]:
    found: list[str] = crm.records("companies").where(overlay.F.name.starts_with(prefix)).pluck("name")
    return found


def test_ten_thousand_items_under_chaos_land_exactly_once() -> None:
    chaos = Chaos(error_rate=0.10, rate_limit_rate=0.05, drop_rate=0.02, commit_drop_rate=0.01, seed=11)
    with (
        overlay.Sandbox(chaos=chaos, read_rate=None, write_rate=None) as sb,
        sb.connect(max_retries=10) as crm,
    ):
        items = ({"name": f"Chaos {i:05d}"} for i in range(10_000))  # a generator: streamed, never held
        report = crm.bulk.create("companies", items, key="name")
        found = names(crm, "Chaos ")
    assert (report.succeeded, report.failed, report.total) == (10_000, 0, 10_000)
    assert len(found) == 10_000 and len(set(found)) == 10_000


def test_invalid_items_are_reported_and_the_rest_go_through(tmp_path: Path) -> None:
    items: list[object] = [{"name": f"Good {i}"} for i in range(30)]
    items[7] = {"name": "Bad domain", "domains": "not a domain !!"}
    items[19] = 42
    items.append({"domains": ["nameless.example"]})
    errors = tmp_path / "errors.jsonl"
    with overlay.Sandbox(read_rate=None, write_rate=None) as sb, sb.connect() as crm:
        report = crm.bulk.create("companies", items, key="name", error_file=errors)
        assert sorted(names(crm, "Good ")) == sorted(f"Good {i}" for i in range(30) if i not in (7, 19))
        with pytest.raises(overlay.BulkError) as caught:
            crm.bulk.create("companies", [{"name": "Bad", "domains": "x y"}], raise_on_error=True)
    assert caught.value.report.failed == 1
    assert (report.succeeded, report.failed) == (28, 3)
    by_index = {e.index: e for e in report.errors}
    assert by_index[7].code == "invalid_value" and "domains" in by_index[7].message
    assert by_index[19].code == "invalid_item" and by_index[30].code == "invalid_item"
    lines = [json.loads(line) for line in errors.read_text().splitlines()]
    assert [line["index"] for line in lines] == [7, 19, 30] and lines[0]["item"]["name"] == "Bad domain"


CHILD = textwrap.dedent(
    """
    import sys, overlay
    url, token, journal = sys.argv[1:4]
    items = ({"name": f"Resume {i:05d}"} for i in range(3000))
    with overlay.Client(api_key=token, base_url=url) as crm:
        report = crm.bulk.create("companies", items, key="name", journal=journal, batch_size=20)
    print(report.succeeded, report.skipped, report.failed)
    """
)


def test_a_run_killed_mid_way_resumes_from_its_journal(tmp_path: Path) -> None:
    journal = tmp_path / "journal.jsonl"
    with overlay.Sandbox(read_rate=None, write_rate=None) as sb:
        command = [sys.executable, "-c", CHILD, sb.url, sb.token, str(journal)]
        child = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and (not journal.exists() or journal.stat().st_size < 20_000):
            time.sleep(0.005)
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        recorded = len(journal.read_text().splitlines())
        assert 0 < recorded < 3000, "the kill landed mid-run"
        rerun = subprocess.run(command, capture_output=True, text=True, check=True, timeout=120)
        succeeded, skipped, failed = map(int, rerun.stdout.split())
        with sb.connect() as crm:
            found = names(crm, "Resume ")
    assert failed == 0 and skipped >= recorded - 20 and succeeded + skipped == 3000
    assert len(found) == 3000 and len(set(found)) == 3000


def test_progress_upserts_deletes_and_the_async_form() -> None:
    seen: list[overlay.ProgressState] = []
    with overlay.Sandbox(read_rate=None, write_rate=None) as sb, sb.connect() as crm:
        items = [{"name": f"Up {i}", "domains": [f"up{i}.example"]} for i in range(250)]
        crm.bulk.create("companies", items[:100], key="name")
        report = crm.bulk.upsert(
            "companies", items, matching_attribute="domains", progress=seen.append, total=250, batch_size=50
        )
        assert (report.succeeded, report.failed) == (250, 0) and len(names(crm, "Up ")) == 250
        assert seen[-1].done == 250 and seen[-1].total == 250 and seen[-1].rate > 0
        ids = [r.id for r in crm.records("companies").where(overlay.F.name.starts_with("Up "))]
        deleted = crm.bulk.delete("companies", ids + ids[:5])
        assert deleted.succeeded == 255 and names(crm, "Up ") == []

        async def run() -> overlay.BulkReport:
            async def stream() -> AsyncIterator[dict[str, str]]:
                for i in range(120):
                    yield {"name": f"Async {i}"}

            async with sb.connect_async() as client:
                return await client.bulk.create("companies", stream(), key="name")

        assert asyncio.run(run()).succeeded == 120 and len(names(crm, "Async ")) == 120


def test_a_delete_of_ids_that_are_not_ids_fails_those_items_without_sending_them() -> None:
    with overlay.Sandbox(read_rate=None, write_rate=None) as sb, sb.connect() as crm:
        kept = crm.records("companies").create(values={"name": "Kept"}).id
        gone = crm.records("companies").create(values={"name": "Gone"}).id
        report = crm.bulk.delete("companies", [gone, 5, None, {"x": 1}, ""])
        assert (report.total, report.succeeded, report.failed) == (5, 1, 4)
        assert sorted(e.index for e in report.errors) == [1, 2, 3, 4]
        assert all(e.code == "invalid_item" and "record_id" in e.message for e in report.errors)
        assert names(crm, "Kept") == ["Kept"] and names(crm, "Gone") == [] and kept
        notes = crm.bulk.create_notes([{"parent_object": "companies", "title": "t", "bogus": 1}])
        assert [(e.code, "bogus" in e.message) for e in notes.errors] == [("invalid_item", True)]
        for items in (None, 5, "abc", {"name": "x"}):
            with pytest.raises(overlay.InvalidArgumentError, match=r"items is an iterable of items"):
                crm.bulk.create("companies", items)  # type: ignore[arg-type]


def test_batches_overlap_with_concurrency_and_upserts_keep_input_order() -> None:
    in_flight, peak = 0, 0
    lock = threading.Lock()

    def sent(request: object) -> None:
        nonlocal in_flight, peak
        with lock:
            in_flight += 1
            peak = max(peak, in_flight)

    def answered(response: object) -> None:
        nonlocal in_flight
        with lock:
            in_flight -= 1

    slow = Chaos(latency_ms=(20, 20))
    with (
        overlay.Sandbox(chaos=slow, read_rate=None, write_rate=None) as sb,
        sb.connect(on_request=[sent], on_response=[answered]) as crm,
    ):
        items = [{"name": f"Pipe {i}"} for i in range(200)]
        assert crm.bulk.create("companies", items, key="name", batch_size=20).succeeded == 200
        assert peak == 2, "the next batch is sent while the last one is still on the wire"
        peak = 0
        versions = [{"domains": ["order.example"], "name": f"Version {i}"} for i in range(60)]
        report = crm.bulk.upsert("companies", versions, matching_attribute="domains", key=str, batch_size=10)
        assert (report.created, report.updated, peak) == (1, 59, 1)
        assert names(crm, "Version ") == ["Version 59"], "the last item in input order wins"
        with pytest.raises(overlay.InvalidArgumentError, match="concurrency"):
            crm.bulk.create("companies", items, concurrency=0)


def test_updates_and_a_dry_run() -> None:
    with overlay.Sandbox(seed_data=True, read_rate=None, write_rate=None) as sb, sb.connect() as crm:
        deals = crm.records("deals").where().to_list()
        renamed = [f"Renamed {i}" for i in range(len(deals))]
        updates = [
            {"record_id": d.id, "values": {"name": name}} for d, name in zip(deals, renamed, strict=True)
        ]
        report = crm.bulk.update(
            "deals", [*updates, {"values": {}}, {"record_id": "nope", "values": {"name": "x"}}]
        )
        assert report.succeeded == len(deals) and report.failed == 2
        assert [e.code for e in report.errors] == ["invalid_item", "not_found"]
        assert sorted(crm.records("deals").where().pluck("name")) == sorted(renamed)
        before = crm.records("deals").where().count()
        items = [{"name": "ok"}, {"name": "x", "stage": "In progres"}, {"nmae": "y"}]
        dry = crm.bulk.create("deals", items, dry_run=True)
        assert (dry.succeeded, dry.failed, dry.requests) == (1, 2, 0)
        assert [e.message for e in dry.errors] == [
            "'In progres' is not an option of 'stage'. Did you mean 'In progress'?",
            "Unknown attribute 'nmae'. Did you mean 'name'?",
        ]
        assert crm.records("deals").where().count() == before


def test_notes_tasks_and_entries_go_through_concurrent_single_calls() -> None:
    chaos = Chaos(error_rate=0.1, drop_rate=0.02, commit_drop_rate=0.02, seed=4)
    sandbox = overlay.Sandbox(seed_data=True, chaos=chaos, read_rate=None, write_rate=None)
    with sandbox as sb, sb.connect(max_retries=10) as crm:
        people = crm.records("people").where().to_list()
        ada = people.find_by(name="Ada Lovelace")
        assert ada is not None
        notes = [
            {"parent_object": "people", "parent_record_id": ada.id, "title": f"Note {i}", "content": "x"}
            for i in range(60)
        ]
        notes.append({"parent_object": "people", "title": "no parent id"})
        report = crm.bulk.create_notes(notes, concurrency=8)
        assert (report.succeeded, report.failed) == (60, 1) and report.errors[0].index == 60
        titles = [n.title for n in crm.notes.list(parent_object="people", parent_record_id=ada.id)]
        assert sorted(titles) == sorted(f"Note {i}" for i in range(60))
        crm.lists.create(name="Pipeline", api_slug="pipeline", parent_objects=["people"])
        entries = [{"parent_object": "people", "parent_record_id": p.id} for p in people]
        assert crm.bulk.create_entries("pipeline", entries).succeeded == len(people)
        assert len(crm.entries("pipeline").query().to_list()) == len(people)

        async def tasks() -> overlay.BulkReport:
            async with sb.connect_async(max_retries=10) as client:
                items = [{"content": f"Task {i}"} for i in range(40)]
                return await client.bulk.create_tasks(items, concurrency=6)

        assert asyncio.run(tasks()).succeeded == 40
        assert sorted(t.content_plaintext for t in crm.tasks.list()) == sorted(f"Task {i}" for i in range(40))
        with pytest.raises(TypeError, match=r"create_tasks\(\) .* 'journel'; did you mean 'journal'\?"):
            crm.bulk.create_tasks([], journel="x")  # type: ignore[call-arg]
        with pytest.raises(TypeError, match=r"upsert\(\) .* 'matching'; did you mean 'matching_attribute'\?"):
            crm.bulk.upsert("people", [], matching="email_addresses")  # type: ignore[call-arg]


# ---------------------------------------------------------------- runs, re-runs and true counts

# make test reruns this file with clients pinned to older versions (CRM_VERSION); there an
# upsert that changes nothing reads as `updated` (`unchanged` is new in 2026-12-01).
PINNED_BEFORE_UNCHANGED = os.environ.get("CRM_VERSION", "9999") < "2026-12-01"


def unchanged_as_read(report: overlay.BulkReport) -> int:
    """What this version calls an unchanged upsert: ``unchanged``, or ``updated`` before 2026-12-01."""
    return report.updated if PINNED_BEFORE_UNCHANGED else report.unchanged


def companies(crm: overlay.Client, prefix: str) -> dict[str, str | None]:
    found = crm.records("companies").where(overlay.F.name.starts_with(prefix)).to_list()
    return {str(r.first("domains")): r["name"] for r in found}


def test_a_new_run_applies_an_upsert_again_after_someone_changed_the_record() -> None:
    with overlay.Sandbox(read_rate=None, write_rate=None) as sb, sb.connect() as crm:
        items = [{"name": f"Rerun {i}", "domains": [f"rerun{i}.example"]} for i in range(3)]
        first = crm.bulk.upsert("companies", items, matching_attribute="domains")
        [record] = crm.records("companies").where(overlay.F.name == "Rerun 1").to_list()
        crm.records("companies").update(record.id, {"name": "Changed by a person"})
        again = crm.bulk.upsert("companies", items, matching_attribute="domains")
        assert companies(crm, "Rerun ") == {f"rerun{i}.example": f"Rerun {i}" for i in range(3)}
    assert (first.created, first.run_id != again.run_id) == (3, True)
    assert (again.created, again.updated) == (0, 3 if PINNED_BEFORE_UNCHANGED else 1)
    assert (again.replayed, again.succeeded, again.failed) == (0, 3, 0)


def test_an_upsert_keyed_by_domain_with_a_changed_value_updates_and_errors_name_the_domain() -> None:
    with overlay.Sandbox(read_rate=None, write_rate=None) as sb, sb.connect() as crm:
        items = [
            {"name": "Keyed", "domains": ["keyed.example"]},
            {"name": "Other", "domains": ["other.example"]},
        ]
        crm.bulk.upsert("companies", items, matching_attribute="domains", key="domains")
        changed = [{"name": "Keyed, renamed", "domains": ["keyed.example"]}]
        changed.append({"name": "Other", "domains": ["other.example"], "employee_count": "many"})
        report = crm.bulk.upsert("companies", changed, matching_attribute="domains", key="domains")
        assert companies(crm, "") == {"keyed.example": "Keyed, renamed", "other.example": "Other"}
    assert (report.updated, report.failed, report.replayed) == (1, 1, 0)
    [error] = report.errors
    assert (error.index, error.key) == (1, "other.example") and error.code != "idempotency_conflict"


def test_a_second_run_of_the_same_upsert_counts_unchanged_and_emits_no_event() -> None:
    with overlay.Sandbox(read_rate=None, write_rate=None) as sb, sb.connect() as crm:
        hook = crm.webhooks.create(
            target_url="http://127.0.0.1:9/hook", subscriptions=["record.created", "record.updated"]
        )

        def messages() -> int:
            return len({d.message_id for d in crm.webhooks.deliveries(hook.id.webhook_id).to_list()})

        items = [{"name": f"Same {i}", "domains": [f"same{i}.example"]} for i in range(40)]
        first = crm.bulk.upsert("companies", items, matching_attribute="domains", batch_size=15)
        before, stamps = messages(), {r.id: r.updated_at for r in crm.records("companies").where()}
        second = crm.bulk.upsert("companies", items, matching_attribute="domains", batch_size=15)
        assert messages() == before == 40, "an unchanged upsert writes nothing and tells no one"
        assert {r.id: r.updated_at for r in crm.records("companies").where()} == stamps
        single = crm.records("companies").upsert(items[0], matching_attribute="domains")
        assert single.updated_at == stamps[single.id] and messages() == 40
    assert (first.created, first.updated, first.unchanged) == (40, 0, 0)
    assert (second.created, unchanged_as_read(second), second.succeeded, second.replayed) == (0, 40, 40, 0)
    if not PINNED_BEFORE_UNCHANGED:
        assert str(second).startswith("upsert companies: 40 unchanged, 0 failed, of 40 in ")


def test_a_resumed_run_skips_what_its_journal_holds_and_a_new_run_creates_again(tmp_path: Path) -> None:
    journal = tmp_path / "companies.journal"
    items = [{"name": f"Journal {i:02d}"} for i in range(50)]
    with overlay.Sandbox(read_rate=None, write_rate=None) as sb, sb.connect() as crm:
        started = crm.bulk.create("companies", items[:30], journal=journal, batch_size=10)
        resumed = crm.bulk.create("companies", items, journal=journal, batch_size=10)
        assert sorted(names(crm, "Journal ")) == [item["name"] for item in items]
        fresh = crm.bulk.create("companies", items[:5])
        assert len(names(crm, "Journal ")) == 55, "a new run without the journal creates again"
    assert started.run_id == resumed.run_id != fresh.run_id
    assert (started.created, resumed.skipped, resumed.created, resumed.replayed) == (30, 30, 20, 0)
    assert "30 skipped (done by an earlier attempt)" in str(resumed)


def test_creates_keyed_by_a_unique_attribute_never_duplicate_on_a_rerun() -> None:
    with overlay.Sandbox(read_rate=None, write_rate=None) as sb, sb.connect() as crm:
        items = [{"name": f"Unique {i}", "domains": [f"unique{i}.example"]} for i in range(5)]
        crm.bulk.create("companies", items, key="domains")
        again = crm.bulk.create("companies", items, key="domains")
        assert len(names(crm, "Unique ")) == 5
        upserted = crm.bulk.upsert("companies", items, matching_attribute="domains")
    assert (again.created, again.failed) == (0, 5)
    assert [(e.key, e.code) for e in again.errors] == [
        (f"unique{i}.example", "uniqueness_conflict") for i in range(5)
    ]
    assert (upserted.created, unchanged_as_read(upserted)) == (0, 5)


def test_an_item_with_a_lone_surrogate_fails_alone_and_the_rest_are_created() -> None:
    items = [{"name": f"Text {i}"} for i in range(5)]
    items[2] = {"name": "Broken \ud800 text"}
    with overlay.Sandbox(read_rate=None, write_rate=None) as sb, sb.connect() as crm:
        report = crm.bulk.create("companies", items, key="name")
        assert sorted(names(crm, "Text ")) == ["Text 0", "Text 1", "Text 3", "Text 4"]
    assert (report.created, report.failed) == (4, 1)
    [error] = report.errors
    assert (error.index, error.code) == (2, "invalid_unicode") and "'name'" in error.message


def test_a_batch_the_transport_resent_after_losing_its_answer_counts_as_replayed() -> None:
    chaos = Chaos(commit_drop_rate=0.3, seed=1)  # the batch is written, then its answer is lost
    with (
        overlay.Sandbox(chaos=chaos, read_rate=None, write_rate=None) as sb,
        sb.connect(max_retries=10) as crm,
    ):
        items = [{"name": f"Resent {i:03d}"} for i in range(100)]
        report = crm.bulk.create("companies", items, batch_size=10)
        found = names(crm, "Resent ")
    assert (report.created, report.failed, len(found), len(set(found))) == (100, 0, 100, 100)
    assert report.replayed > 0 and report.replayed % 10 == 0, "whole batches answered from the stored reply"
    assert f"({report.replayed} replayed)" in str(report)


def test_an_item_json_cannot_carry_fails_alone_and_the_rest_are_applied(tmp_path: Path) -> None:
    deep: dict[str, object] = {}
    for _ in range(3000):
        deep = {"x": deep}
    bad = {150: float("nan"), 151: float("inf"), 152: 10**5000, 153: b"x", 154: {1}, 155: deep}
    rows: list[dict[str, object]] = [{"name": f"J{i}", "domains": [f"j{i}.example"]} for i in range(250)]
    for index, value in bad.items():
        rows[index]["employee_count"] = value
    errors = tmp_path / "errors.jsonl"
    with overlay.Sandbox(read_rate=None, write_rate=None) as sb, sb.connect() as crm:
        report = crm.bulk.create("companies", rows, key="domains", error_file=errors)
        assert (report.total, report.created, report.failed) == (250, 244, 6)
        assert sorted(e.index for e in report.errors) == sorted(bad)
        assert all(e.code == "invalid_item" and e.message.startswith("The item") for e in report.errors)
        assert len(errors.read_text().splitlines()) == 6 and len(names(crm, "J")) == 244
        with pytest.raises(
            overlay.InvalidArgumentError, match="the request cannot be built: Out of range float"
        ):
            crm.records("companies").create({"name": "N", "employee_count": float("nan")})
