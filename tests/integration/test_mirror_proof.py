"""The mirror's guarantees under random workloads: a differential test (the mirror equals the
API after random creates, updates, deletes, schema changes and list entries, while it follows)
and a crash test (SIGKILL at random points, then resume: equal, and every event applied once)."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

import overlay
from overlay.mirror import Mirror

from .postgres import new_database, postgres_cluster

DIFFERENTIAL_TRIALS = {"sqlite": 3, "postgresql": 2}
OPS_PER_TRIAL = 40
CRASH_TRIALS = 6


class Workload:
    """Random writes of every kind the mirror follows, from a seeded generator."""

    def __init__(self, crm: overlay.Client, seed: int) -> None:
        self.crm, self.rng = crm, random.Random(seed)
        self.people: list[str] = [r.id for r in crm.records("people").where()]
        self.entries: list[str] = []
        self.notes: list[str] = []
        self.extra: list[tuple[str, bool]] = []  # attributes added: (slug, multi)
        self.options: list[str] = []
        crm.lists.create(name=f"Sales {seed}", api_slug=f"sales_{seed}", parent_objects=["people"])
        self.list = f"sales_{seed}"
        crm.attributes.create("people", title=f"Tier {seed}", api_slug=f"tier_{seed}", type="select")
        self.tier = f"tier_{seed}"

    def step(self) -> None:
        rng, crm = self.rng, self.crm
        people = crm.records("people")
        action = rng.choice(["create", "create", "update", "replace", "delete", "attribute", "option",
                             "entry", "unentry", "note", "unnote", "tier"])  # fmt: skip
        if action == "create" or not self.people:
            values: dict[str, object] = {
                "name": f"P{rng.randrange(10**6)} Q",
                "email_addresses": [f"p{rng.randrange(10**6)}@x.example"],
            }
            self.people.append(people.create(values).id)
        elif action in ("update", "replace"):
            target = rng.choice(self.people)
            values = {
                "email_addresses": [f"u{rng.randrange(10**6)}@x.example"],
                "job_title": f"J{rng.randrange(99)}",
            }
            for slug, multi in self.extra:
                values[slug] = (
                    [f"v{rng.randrange(9)}", f"w{rng.randrange(9)}"] if multi else f"t{rng.randrange(99)}"
                )
            (people.update if action == "update" else people.replace)(target, values)
        elif action == "delete":
            people.delete(self.people.pop(rng.randrange(len(self.people))))
            self.entries.clear()  # a record's entries go with it; forget them all (simpler than tracking)
        elif action == "attribute" and len(self.extra) < 4:
            multi, slug = rng.random() < 0.5, f"extra_{len(self.extra)}_{rng.randrange(10**6)}"
            crm.attributes.create("people", title=slug, api_slug=slug, type="text", is_multiselect=multi)
            self.extra.append((slug, multi))
        elif action == "option":
            if self.options and rng.random() < 0.5:
                crm.attributes.update_option(
                    "people", self.tier, rng.choice(self.options), title=f"Renamed {rng.randrange(10**6)}"
                )
            else:
                self.options.append(
                    crm.attributes.create_option(
                        "people", self.tier, title=f"O{rng.randrange(10**6)}"
                    ).id.option_id
                )
        elif action == "tier" and self.options:
            titles = [o.title for o in crm.attributes.list_options("people", self.tier)]
            people.update(rng.choice(self.people), {self.tier: rng.choice(titles)})
        elif action == "entry":
            entry = crm.entries(self.list).create(
                parent_object="people", parent_record_id=rng.choice(self.people)
            )
            self.entries.append(entry.id.entry_id)
        elif action == "unentry" and self.entries:
            crm.entries(self.list).delete(self.entries.pop())
        elif action == "note":
            note = crm.notes.create(
                parent_object="people", parent_record_id=rng.choice(self.people), title="n", content="c"
            )
            self.notes.append(note.id.note_id)
        elif action == "unnote" and self.notes:
            crm.notes.delete(self.notes.pop())


def assert_equal(crm: overlay.Client, mirror: Mirror, url: str) -> None:
    """The mirror equals the API: each table by ids and row checksums, and the people by name."""
    report = mirror.verify(repair=False)
    assert report.ok, report.summary()
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.connect() as connection:
        names = dict(connection.execute(sa.text("SELECT record_id, name_full FROM people")).all())
    engine.dispose()
    assert names == {r.id: r["name"] for r in crm.records("people").where()}


@pytest.fixture(scope="module")
def postgres() -> Iterator[str]:
    with postgres_cluster() as url:
        yield url


def _url(kind: str, tmp_path: Path, postgres_base: str | None, n: int) -> str:
    if kind == "sqlite":
        return f"sqlite:///{tmp_path}/diff{n}.db"
    assert postgres_base is not None
    return new_database(postgres_base, f"diff{n}")


@pytest.mark.parametrize(
    ("kind", "seed"), [(kind, seed) for kind, trials in DIFFERENTIAL_TRIALS.items() for seed in range(trials)]
)
def test_after_random_changes_the_following_mirror_equals_the_api(
    kind: str, seed: int, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    base = request.getfixturevalue("postgres") if kind == "postgresql" else None
    with overlay.Sandbox(read_rate=None, write_rate=None, seed_data=True) as sb:
        crm = sb.client
        workload = Workload(crm, seed)
        url = _url(kind, tmp_path, base, seed)
        stop = threading.Event()
        with Mirror(crm, url) as mirror:
            mirror.run()
            follower = threading.Thread(target=mirror.follow, kwargs={"wait": 1, "stop": stop.is_set})
            follower.start()
            try:
                for _ in range(OPS_PER_TRIAL):
                    workload.step()
            finally:
                stop.set()
                follower.join(timeout=30)
            assert not follower.is_alive()
            mirror.run()
            assert_equal(crm, mirror, url)


def test_a_mirror_killed_at_random_points_resumes_equal_with_every_event_applied_once(tmp_path: Path) -> None:
    rng = random.Random(7)
    with overlay.Sandbox(read_rate=None, write_rate=None, seed_data=True) as sb:
        crm = sb.client
        workload = Workload(crm, 0)
        for start in range(0, 3000, 100):  # enough records that a kill can land inside the snapshot
            crm.records("companies").batch(
                [{"operation": "create", "values": {"name": f"Bulk {start + i}"}} for i in range(100)]
            )
        url = f"sqlite:///{tmp_path}/crash.db"
        env = {**os.environ, "CRM_API_KEY": sb.token, "CRM_BASE_URL": sb.url}
        stop, failures = threading.Event(), []

        def write() -> None:
            try:
                while not stop.is_set():
                    workload.step()
                    time.sleep(0.01)
            except Exception as exc:  # the test fails on it below
                failures.append(exc)

        def started() -> bool:
            """Whether the mirror has begun: its state table exists (so a kill lands in its work,
            not in the interpreter's start, however slow the machine)."""
            try:
                with sqlite3.connect(f"{tmp_path}/crash.db", timeout=5) as db:
                    return bool(
                        db.execute("SELECT 1 FROM sqlite_master WHERE name = '_crm_mirror'").fetchall()
                    )
            except sqlite3.Error:
                return False

        writer = threading.Thread(target=write)
        writer.start()
        try:
            for _ in range(CRASH_TRIALS):
                process = subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "overlay.cli",
                        "mirror",
                        url,
                        "--follow",
                        "--wait",
                        "1",
                        "--quiet",
                    ],
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.PIPE,
                )
                deadline = time.monotonic() + 60
                while not started() and process.poll() is None and time.monotonic() < deadline:
                    time.sleep(0.05)
                time.sleep(rng.uniform(0.0, 1.5))
                process.send_signal(signal.SIGKILL)
                _, err = process.communicate(timeout=30)
                assert process.returncode == -signal.SIGKILL, err.decode()
        finally:
            stop.set()
            writer.join(timeout=30)
        assert not failures, failures
        with Mirror(crm, url) as mirror:
            mirror.run()
            assert_equal(crm, mirror, url)
        engine = sa.create_engine(url)
        with engine.connect() as connection:
            applied = [
                row[0]
                for row in connection.execute(sa.text("SELECT sequence FROM _crm_mirror_log ORDER BY 1"))
            ]
        engine.dispose()
        assert applied, "the workload's changes after the snapshot's position were applied"
        feed = [e["sequence"] for e in crm.events.list() if e["sequence"] >= applied[0]]
    assert applied == feed, "every event after the snapshot's position applied exactly once, none skipped"
