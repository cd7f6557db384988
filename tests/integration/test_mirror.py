"""overlay.mirror against the sandbox over HTTP, into SQLite, a real PostgreSQL cluster and DuckDB."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

import overlay
from overlay.mirror import Mirror, _snapshot

from .postgres import new_database, postgres_cluster

KINDS = ("sqlite", "postgresql", "duckdb")
_numbers = itertools.count()


@pytest.fixture(scope="module")
def postgres() -> Iterator[str]:
    with postgres_cluster() as url:
        yield url


@pytest.fixture
def sandbox() -> Iterator[overlay.Sandbox]:
    with overlay.Sandbox(read_rate=None, write_rate=None, seed_data=True) as sb:
        yield sb


NewUrl = Callable[[str], str]


@pytest.fixture
def new_url(tmp_path: Path, request: pytest.FixtureRequest) -> NewUrl:
    """A fresh, empty database of a kind: a file for SQLite and DuckDB, a new database on
    the module's PostgreSQL cluster."""

    def make(kind: str) -> str:
        n = next(_numbers)
        if kind == "sqlite":
            return f"sqlite:///{tmp_path}/mirror{n}.db"
        if kind == "duckdb":
            return f"duckdb:///{tmp_path}/mirror{n}.duckdb"
        return new_database(request.getfixturevalue("postgres"), f"mirror{n}")

    return make


def rows(url: str, sql: str) -> list[tuple[Any, ...]]:
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    try:
        with engine.connect() as connection:
            return [tuple(r) for r in connection.execute(sa.text(sql))]
    finally:
        engine.dispose()


def api_ids(crm: overlay.Client, obj: str) -> set[str]:
    return {r.id for r in crm.records(obj).where()}


@pytest.mark.parametrize("kind", KINDS)
def test_snapshot_then_changes_and_deletes_follow(
    sandbox: overlay.Sandbox, new_url: NewUrl, kind: str
) -> None:
    crm, url = sandbox.client, new_url(kind)
    with Mirror(crm, url) as mirror:
        first = mirror.run()
        assert first.snapshot_rows["people"] == len(api_ids(crm, "people")) > 0
        people = crm.records("people")
        ada = people.create(
            {"name": "Ada Lovelace", "email_addresses": ["ada@example.com", "ada@king.example"]}
        )
        people.update(ada.id, {"job_title": "Analyst"})
        gone = next(r for r in people.where() if r.id != ada.id)
        people.delete(gone.id)
        second = mirror.run()
        assert second.events_applied == 3 and not second.snapshot_rows
        assert mirror.verify(repair=False).ok
    assert {r[0] for r in rows(url, "SELECT record_id FROM people")} == api_ids(crm, "people")
    assert rows(url, f"SELECT name_first, name_last, job_title FROM people WHERE record_id = '{ada.id}'") == [
        ("Ada", "Lovelace", "Analyst")
    ]
    emails = rows(
        url, f"SELECT position, value FROM people__email_addresses WHERE record_id = '{ada.id}' ORDER BY 1"
    )
    assert emails == [(0, "ada@example.com"), (1, "ada@king.example")]
    assert rows(url, f"SELECT COUNT(*) FROM people__email_addresses WHERE record_id = '{gone.id}'") == [(0,)]
    sequences = [r[0] for r in rows(url, "SELECT sequence FROM _crm_mirror_log ORDER BY 1")]
    assert len(sequences) == len(set(sequences)) == 3


def test_typed_columns(sandbox: overlay.Sandbox, new_url: NewUrl) -> None:
    crm, url = sandbox.client, new_url("sqlite")
    crm.attributes.create("deals", title="Closed on", api_slug="closed_on", type="date")
    crm.attributes.create("deals", title="Won", api_slug="won", type="checkbox")
    deal = crm.records("deals").create(
        {
            "name": "Big",
            "value": {"amount_minor": 123456, "currency_code": "EUR"},
            "closed_on": "2026-11-30",
            "won": True,
        }
    )
    with Mirror(crm, url) as mirror:
        mirror.run()
    found = rows(
        url, f"SELECT value_minor, value_currency, closed_on, won FROM deals WHERE record_id = '{deal.id}'"
    )
    assert found == [(123456, "EUR", "2026-11-30", 1)]


def test_soft_delete_keeps_the_row_with_deleted_at(sandbox: overlay.Sandbox, new_url: NewUrl) -> None:
    crm, url = sandbox.client, new_url("sqlite")
    with Mirror(crm, url, soft_delete=True) as mirror:
        mirror.run()
        person = crm.records("people").create({"name": "Kept"})
        crm.records("people").delete(person.id)
        mirror.run()
    assert rows(url, f"SELECT _deleted_at IS NOT NULL FROM people WHERE record_id = '{person.id}'") == [(1,)]


def test_an_interrupted_snapshot_resumes_with_the_schema_it_missed(
    sandbox: overlay.Sandbox, new_url: NewUrl, monkeypatch: pytest.MonkeyPatch
) -> None:
    crm, url = sandbox.client, new_url("sqlite")
    copy, copied = _snapshot.copy_table, []

    def copy_one_then_die(mirror: Any, table: Any) -> int:
        if copied:
            raise KeyboardInterrupt  # the process ends after the first table
        copied.append(table.name)
        return copy(mirror, table)

    monkeypatch.setattr(_snapshot, "copy_table", copy_one_then_die)
    with Mirror(crm, url) as mirror, pytest.raises(KeyboardInterrupt):
        mirror.run()
    monkeypatch.undo()
    first = copied[0]
    crm.attributes.create(first, title="Late", api_slug="late", type="text")
    late = crm.records(first).create({"late": "here"})
    with Mirror(crm, url) as mirror:
        report = mirror.run()
        assert f"{first}.late" in report.columns_added
        assert mirror.verify(repair=False).ok
    assert rows(url, f"SELECT late FROM {first} WHERE record_id = '{late.id}'") == [("here",)]


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_schema_drift_adds_columns_child_tables_and_renames_options(
    sandbox: overlay.Sandbox, new_url: NewUrl, kind: str
) -> None:
    crm, url = sandbox.client, new_url(kind)
    with Mirror(crm, url) as mirror:
        mirror.run()
        crm.attributes.create("companies", title="Tier", api_slug="tier", type="select")
        gold = crm.attributes.create_option("companies", "tier", title="Gold")
        crm.attributes.create("companies", title="Tags", api_slug="tags", type="text", is_multiselect=True)
        acme = crm.records("companies").create({"name": "Acme", "tier": "Gold", "tags": ["a", "b"]})
        report = mirror.run()
        assert "companies.tier" in report.columns_added and "companies__tags" in report.tables_added
        crm.attributes.update_option("companies", "tier", gold.id.option_id, title="Platinum")
        renamed = mirror.run()
        assert renamed.options_renamed == 1
        assert mirror.verify(repair=False).ok
        crm.attributes.update("companies", "categories", is_archived=True)
        mirror.run()
        assert mirror.verify(repair=False).ok, "an archived attribute's values leave the mirror too"
    assert rows(url, f"SELECT tier FROM companies WHERE record_id = '{acme.id}'") == [("Platinum",)]
    assert rows(
        url, f"SELECT value FROM companies__tags WHERE record_id = '{acme.id}' ORDER BY position"
    ) == [
        ("a",),
        ("b",),
    ]


def test_lists_notes_and_tasks_are_mirrored(sandbox: overlay.Sandbox, new_url: NewUrl) -> None:
    crm, url = sandbox.client, new_url("sqlite")
    crm.lists.create(name="Sales", api_slug="sales", parent_objects=["people"])
    person = crm.records("people").create({"name": "Listed"})
    with Mirror(crm, url) as mirror:
        mirror.run()
        entry = crm.entries("sales").create(parent_object="people", parent_record_id=person.id)
        note = crm.notes.create(
            parent_object="people", parent_record_id=person.id, title="Call", content="Soon"
        )
        crm.tasks.create(content="Follow up", deadline_at="2026-12-24T09:00:00Z")
        mirror.run()
        crm.entries("sales").delete(entry.id)
        crm.notes.delete(note.id)
        mirror.run()
        assert mirror.verify(repair=False).ok
    assert rows(url, "SELECT COUNT(*) FROM list_sales") == [(0,)]
    assert rows(url, "SELECT COUNT(*) FROM notes") == [(0,)]
    assert rows(url, "SELECT content, is_completed FROM tasks") == [("Follow up", 0)]


def test_a_table_dropped_by_hand_is_made_again_and_webhook_duplicates_apply_once(
    sandbox: overlay.Sandbox, new_url: NewUrl
) -> None:
    crm, url = sandbox.client, new_url("sqlite")
    with Mirror(crm, url) as mirror:
        mirror.run()
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.execute(sa.text("DROP TABLE people__phone_numbers"))
        connection.execute(sa.text("DROP TABLE notes"))
    engine.dispose()
    crm.notes.create(
        parent_object="people", parent_record_id=sorted(api_ids(crm, "people"))[0], title="n", content="c"
    )
    with Mirror(crm, url) as mirror:
        report = mirror.run()
        assert "people" in report.tables_added and mirror.verify(repair=False).ok
        events = crm.events.list(start="earliest").to_list()
        assert mirror.apply(events[::-1] + events) == 0  # all applied already, each once
    assert rows(url, "SELECT COUNT(*) FROM notes") == [(1,)]


def test_verify_finds_and_repairs_what_differs(sandbox: overlay.Sandbox, new_url: NewUrl) -> None:
    crm, url = sandbox.client, new_url("sqlite")
    with Mirror(crm, url) as mirror:
        mirror.run()
        some = sorted(api_ids(crm, "people"))
        engine = sa.create_engine(url)
        with engine.begin() as connection:
            connection.execute(
                sa.text(f"UPDATE people SET job_title = 'tampered' WHERE record_id = '{some[0]}'")
            )
            connection.execute(sa.text(f"DELETE FROM people WHERE record_id = '{some[1]}'"))
            connection.execute(sa.text("INSERT INTO people (record_id) VALUES ('not-in-the-api')"))
        engine.dispose()
        found = mirror.verify()
        people = next(t for t in found.tables if t.table == "people")
        assert (people.different, people.missing, people.extra) == ([some[0]], [some[1]], ["not-in-the-api"])
        assert mirror.verify(repair=False).ok, "repaired"


@pytest.mark.parametrize("soft_delete", [False, True])
def test_an_expired_cursor_resyncs_in_full(new_url: NewUrl, soft_delete: bool) -> None:
    with overlay.Sandbox(read_rate=None, write_rate=None, event_retention=0.5, seed_data=True) as sb:
        crm, url = sb.client, new_url("sqlite")
        first, second = sorted(api_ids(crm, "people"))[:2]
        with Mirror(crm, url, soft_delete=soft_delete) as mirror:
            mirror.run()
            crm.records("people").delete(first)
            mirror.run()
            crm.records("people").create({"name": "While away"})
            crm.records("people").delete(second)
            time.sleep(1.2)
            crm.records("people").create({"name": "Sweeper"})
            report = mirror.run()
            assert report.resynced and mirror.verify(repair=False).ok
    kept = rows(url, f"SELECT record_id FROM people WHERE record_id IN ('{first}', '{second}')")
    if soft_delete:  # a resync keeps what was marked deleted, and marks what left while away
        assert sorted(kept) == sorted([(first,), (second,)])
        marked = rows(url, "SELECT COUNT(*) FROM people WHERE _deleted_at IS NOT NULL")
        assert marked == [(2,)]
    else:
        assert kept == []


def test_webhook_events_apply_once_each(sandbox: overlay.Sandbox, new_url: NewUrl) -> None:
    crm, url = sandbox.client, new_url("sqlite")
    with Mirror(crm, url) as mirror:
        mirror.run()
        head = crm.events.head()
        crm.records("people").create({"name": "Via webhook"})
        events = crm.events.read(cursor=head).events
        assert mirror.apply(events) == 1
        assert mirror.apply(events + events) == 0, "redelivered events are applied once"
        person = crm.records("people").where("name = 'Via webhook'").first()
        assert person is not None
        after = crm.events.head()
        crm.records("people").update(person.id, {"job_title": "First"})
        crm.records("people").update(person.id, {"job_title": "Second"})
        first, second = crm.events.read(cursor=after).events
        assert mirror.apply([second]) == 1 and mirror.apply([first]) == 1, "a late event is logged"
        assert mirror.apply(crm.events.read(start="earliest").events) == 0, "before the mirror's position"
        with pytest.raises(overlay.InvalidArgumentError, match=r"events \[1\] \(by position\) have none"):
            mirror.apply([second, {"event_type": "record.updated", "id": {}}])
    assert rows(url, "SELECT COUNT(*) FROM people WHERE name_full = 'Via webhook'") == [(1,)]
    assert rows(url, "SELECT job_title FROM people WHERE name_full = 'Via webhook'") == [("Second",)]


def test_follow_applies_writes_as_they_happen_and_shows_its_progress(
    sandbox: overlay.Sandbox, new_url: NewUrl
) -> None:
    crm, url = sandbox.client, new_url("sqlite")
    stop, states = threading.Event(), []
    with Mirror(crm, url, progress=states.append) as mirror:
        mirror.run()
        # people, companies, deals: rows copied of how many (counted in the server), a rate, an ETA
        assert [(s.done, s.total, s.eta) for s in states] == [(4, 4, 0.0), (3, 3, 0.0), (1, 1, 0.0)]
        assert all(s.rate > 0 for s in states)
        states.clear()
        follower = threading.Thread(target=mirror.follow, kwargs={"wait": 1, "stop": stop.is_set})
        follower.start()
        person = crm.records("people").create({"name": "Followed"})
        deadline = time.monotonic() + 10
        while not rows(url, f"SELECT 1 FROM people WHERE record_id = '{person.id}'"):
            assert time.monotonic() < deadline
        stop.set()
        follower.join(timeout=10)
        assert not follower.is_alive()
    applied = [s for s in states if s.done]
    assert applied and applied[-1].done == 1 and applied[-1].detail.startswith("lag ")


def test_bad_destinations_and_versions_are_named(sandbox: overlay.Sandbox, tmp_path: Path) -> None:
    crm = sandbox.client
    with pytest.raises(overlay.MirrorError, match="'mysql' is not one of them"):
        Mirror(crm, "mysql://u:hunter2@localhost/db")
    with pytest.raises(overlay.MirrorError, match="Cannot reach the database") as caught:
        Mirror(crm, "postgresql://crm:hunter2@127.0.0.1:1/nowhere")
    assert "hunter2" not in str(caught.value)
    with pytest.raises(overlay.MirrorError, match=r"crm\?password=\*\*\*") as caught:
        Mirror(crm, "postgresql://crm@127.0.0.1:1/crm?password=hunter2")
    assert "hunter2" not in str(caught.value)
    with Mirror(crm, f"sqlite:///{tmp_path}/settled.db") as mirror:
        mirror.run()
    with (
        Mirror(crm, f"sqlite:///{tmp_path}/settled.db", objects=["people"], soft_delete=True) as mirror,
        pytest.raises(overlay.MirrorError, match=r"mirrored with objects=None, not \['people'\]"),
    ):
        mirror.run()
    with (
        Mirror(crm, f"sqlite:///{tmp_path}/settled.db", soft_delete=True) as mirror,
        pytest.raises(overlay.MirrorError, match=r"mirrored with soft_delete=False, not True"),
    ):
        mirror.run()
    with pytest.raises(overlay.MirrorError, match=r"'crm\.db' is not a database URL"):
        Mirror(crm, "crm.db")
    with pytest.raises(overlay.MirrorError, match="not a database URL"):
        Mirror(crm, "::::")
    with (
        sandbox.connect(api_version="2026-04-01") as old,
        pytest.raises(overlay.MirrorError, match="2026-12-01"),
    ):
        Mirror(old, f"sqlite:///{tmp_path}/x.db")
    url = f"sqlite:///{tmp_path}/edited.db"
    with Mirror(crm, url) as mirror:
        mirror.run()
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.execute(sa.text("ALTER TABLE people ADD COLUMN my_notes TEXT"))
    engine.dispose()
    with (
        pytest.raises(overlay.MirrorError, match=r"table .people. is not as the mirror left it.*my_notes"),
        Mirror(crm, url) as m,
    ):
        m.run()


def test_the_cli_mirrors_verifies_and_names_bad_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from overlay.cli import main

    url = f"sqlite:///{tmp_path}/cli.db"
    assert main(["mirror", url, "--sandbox", "--quiet", "--objects", "people,companies"]) == 0
    assert "snapshot: " in capsys.readouterr().out
    assert rows(url, "SELECT COUNT(*) FROM people") == [(4,)]
    assert main(["mirror", f"sqlite:///{tmp_path}/v.db", "--sandbox", "--quiet", "--verify"]) == 0
    assert "people: 4 rows, equal" in capsys.readouterr().out
    assert main(["mirror", url, "--sandbox", "--wait", "5"]) == 2
    assert "add --follow" in capsys.readouterr().err
    assert main(["mirror", "mysql://u:hunter2@h/db", "--sandbox"]) == 2
    err = capsys.readouterr().err
    assert "'mysql' is not one of them" in err and "hunter2" not in err
