"""``Mirror``: a typed replica of the workspace in a SQL database, kept fresh from the change feed.

A first run takes the feed's position, then copies every record, entry, note and task (the
snapshot), then applies every event after that position. Later runs only apply events. Each
batch of events is applied in one transaction together with the cursor after it and a log of
the sequences it applied, so a run stopped at any point resumes where its last commit was.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from crm_client import operations

from .._bulk_core.report import Progress, ProgressState
from .._errors import CursorExpiredError, InvalidArgumentError, MirrorError
from .._progress import renderer
from ._apply import apply_events, evolve
from ._destination import Destination
from ._layout import (
    TIMESTAMP,
    TableLayout,
    child_columns,
    layout_from_json,
    layout_of,
    note_columns,
    now_utc,
    task_columns,
)
from ._read import PAGE
from ._report import MirrorReport
from ._snapshot import copy_activity, refresh, snapshot
from ._verify import VerifyReport, verify

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from .._sync.client import Client


_now = now_utc


class Mirror:
    """A replica of objects, lists, notes and tasks in ``url`` (SQLite, PostgreSQL, DuckDB).

    ``objects`` and ``lists`` pick what to mirror (all objects and every list by default);
    ``soft_delete`` keeps deleted rows with ``_deleted_at`` set instead of removing them.
    Left out (None), these are what the database was mirrored with (for a new one: every
    object and list, hard deletes); given otherwise for an existing mirror, a ``MirrorError``.
    ``progress``: ``True`` for a bar (or log lines), or a callable taking a ``ProgressState``
    (its ``detail`` is the table being copied, then the lag while following).
    """

    def __init__(
        self,
        client: Client,
        url: str,
        *,
        objects: Sequence[str] | None = None,
        lists: Sequence[str] | None = None,
        soft_delete: bool | None = None,
        progress: Progress | bool | None = None,
    ) -> None:
        version = client.api_version
        if not operations.LIST_EVENTS.served_at(version):
            raise MirrorError(
                f"The mirror reads the change feed, which API version {version} does not have; "
                f"use a client at {operations.LIST_EVENTS.since} or later "
                "(api_version=None, or CRM_VERSION unset, for the latest)."
            )
        self.client = client
        self.db = Destination(url)
        self.objects = list(objects) if objects is not None else None
        self.lists = list(lists) if lists is not None else None
        self.soft_delete = bool(soft_delete)
        self._asked = {"objects": self.objects, "lists": self.lists, "soft_delete": soft_delete}
        self.progress = progress
        self.layouts: dict[str, TableLayout] = {}  # by table name
        self.options: dict[str, dict[str, str]] = {}  # attribute id -> option id -> title
        self.report = MirrorReport(self.db.url)

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Mirror:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the public runs ------------------------------------------------------------------

    def run(self) -> MirrorReport:
        """Snapshot when this database has no mirror yet (or an unfinished one), then apply
        every event to the feed's head."""
        started = time.perf_counter()
        self.report = MirrorReport(self.db.url)
        with self.db.begin() as connection:
            state = self.db.state(connection)
        if state.get("cursor") is None:
            snapshot(self, state.get("snapshot"))
        else:
            self._load(state)
        self._catch_up()
        self.report.elapsed = time.perf_counter() - started
        return self.report

    def follow(self, *, wait: int = 30, stop: Callable[[], bool] | None = None) -> MirrorReport:
        """``run()``, then long-poll the feed and apply each batch as it comes, until ``stop()``
        says so or Ctrl-C (which ends cleanly, at a batch boundary). Each read waits up to
        ``wait`` seconds (1 to 30) for an event, and ``stop()`` is asked between reads."""
        if isinstance(wait, bool) or not isinstance(wait, int) or not 1 <= wait <= 30:
            raise InvalidArgumentError(f"wait takes 1 to 30 seconds, got {wait!r}.")
        self.run()
        started = time.perf_counter() - self.report.elapsed
        show, shown = renderer(self.progress, "follow"), -1

        def progress() -> None:  # a line when events were applied since the last one
            nonlocal shown
            if show is None or self.report.events_applied == shown:
                return
            shown, elapsed, lag = (
                self.report.events_applied,
                time.perf_counter() - started,
                self.report.lag_seconds,
            )
            rate = shown / elapsed if elapsed else 0.0
            show(ProgressState(shown, 0, None, rate, None, f"lag {lag:.2f} s" if lag is not None else ""))

        try:
            while stop is None or not stop():
                progress()
                batch = self._read(wait=wait)
                self._apply_batch(batch.events, batch.cursor)
        except KeyboardInterrupt:
            pass
        progress()
        self.report.elapsed = time.perf_counter() - started
        return self.report

    def verify(self, *, repair: bool = True) -> VerifyReport:
        """Catch up, then compare every table with the API, id by id and by a checksum of
        each row's values; with ``repair`` (the default) rewrite what differs."""
        self.run()
        return verify(self, repair=repair)

    def apply(self, events: Iterable[Mapping[str, Any]]) -> int:
        """Apply events from elsewhere (a webhook ``Router`` at 2026-12-01): each applied once,
        by sequence, whatever order and however often they come. The cursor stays put. How many
        were new."""
        if not self.layouts:
            with self.db.begin() as connection:
                state = self.db.state(connection)
            if state.get("cursor") is None:
                raise MirrorError(f"{self.db.url} has no mirror yet: run() it first.")
            self._load(state)
        events = list(events)
        unsequenced = [i for i, e in enumerate(events) if not isinstance(e, Mapping) or not _sequenced(e)]
        if unsequenced:
            raise InvalidArgumentError(
                f"apply() takes change events of API version {operations.LIST_EVENTS.since} or later, "
                f"which carry a sequence; events {unsequenced[:10]} (by position) have none: is the "
                "webhook older?"
            )
        by_sequence = {e["sequence"]: dict(e) for e in events}
        with self.db.begin() as connection:
            cursor = self.db.state(connection).get("cursor")
        position = _position(cursor)  # every event up to it is in the log or in the snapshot
        before = self.report.events_applied
        fresh = [by_sequence[n] for n in sorted(by_sequence) if n > position]
        self._apply_batch(fresh, None, newer_wins=True)
        return self.report.events_applied - before

    # -- layout -----------------------------------------------------------------------------

    def _plan(self) -> dict[str, TableLayout]:
        """Every table the mirror holds, from the live metadata."""
        client = self.client
        found: dict[str, TableLayout] = {}
        objects = self.objects if self.objects is not None else [o.api_slug for o in client.objects.list()]
        for slug in objects:
            table = layout_of("object", slug, client.attributes.list(slug, show_archived=True))
            found[table.name] = table
        lists = self.lists if self.lists is not None else [item.api_slug for item in client.lists.list()]
        for slug in lists:
            attributes, _ = client.fetch(operations.LIST_LIST_ATTRIBUTES, slug, show_archived=True)
            table = layout_of("list", slug, attributes.data)
            found[table.name] = table
        return found

    def _define(self, table: TableLayout) -> None:
        columns = table.main_columns()
        if self.soft_delete:
            columns.append(("_deleted_at", TIMESTAMP))
        self.db.define(table.name, columns, [table.key])
        for attribute in table.children():
            assert attribute.child is not None
            self.db.define(attribute.child, child_columns(table, attribute), [table.key, "position"])

    def _define_activity(self) -> None:
        extra = [("_deleted_at", TIMESTAMP)] if self.soft_delete else []
        self.db.define("notes", note_columns() + extra, ["note_id"])
        self.db.define("tasks", task_columns() + extra, ["task_id"])

    def _create(self, connection: Connection, table: TableLayout, *, fresh: bool) -> None:
        """Create ``table`` and its child tables (dropping them first when ``fresh``)."""
        names = [table.name, *(a.child for a in table.children() if a.child)]
        for name in names:
            if fresh:
                self.db.drop(connection, name)
            self.db.create(connection, name)

    def _check_hand_edits(self, connection: Connection) -> None:
        """A table whose columns are not the ones the mirror made was edited by hand: say which."""
        for name, table in self.db.tables.items():
            existing = self.db.existing_columns(connection, name)
            if existing is None:
                continue
            expected = [c.name for c in table.columns]
            if sorted(existing) != sorted(expected):
                missing = sorted(set(expected) - set(existing))
                extra = sorted(set(existing) - set(expected))
                raise MirrorError(
                    f"{self.db.url}: table {name!r} is not as the mirror left it "
                    f"(missing columns: {', '.join(missing) or 'none'}; "
                    f"unknown columns: {', '.join(extra) or 'none'}). "
                    "Drop the table (the next run rebuilds it) or mirror into another database."
                )

    def _load(self, state: Mapping[str, Any]) -> None:
        """The layouts saved with the mirror, and any drift since (new attributes, tables)."""
        saved = state.get("layouts") or {}
        if not isinstance(saved, Mapping):
            raise MirrorError(
                f"{self.db.url}: the mirror's saved layouts are damaged ({type(saved).__name__})."
            )
        self.options = state.get("options") or {}
        for name, value in self._asked.items():  # what was not asked for keeps what the mirror was made with
            if value is not None and name in state and state[name] != value:
                raise MirrorError(
                    f"{self.db.url} was mirrored with {name}={state[name]!r}, not {value!r}: leave it out "
                    "to go on as it was, or mirror into another database."
                )
        self.objects = state.get("objects", self.objects)
        self.lists = state.get("lists", self.lists)
        self.soft_delete = bool(state.get("soft_delete", self.soft_delete))
        planned = self._plan()
        self._define_activity()
        with self.db.begin() as connection:
            for name, _table in planned.items():
                if name in saved:
                    old = self._saved_layout(name, saved[name])
                    self._define(old)
                    self.layouts[name] = old
            self._check_hand_edits(connection)
            for name in list(self.layouts):  # a table dropped by hand is made and copied again
                table = self.layouts[name]
                if any(
                    self.db.existing_columns(connection, n) is None
                    for n in (name, *(a.child for a in table.children() if a.child))
                ):
                    del self.layouts[name]
            activity_gone = any(self.db.existing_columns(connection, n) is None for n in ("notes", "tasks"))
        self._evolve(planned)
        if activity_gone:
            copy_activity(self)

    def _saved_layout(self, name: str, saved: Any) -> TableLayout:
        try:
            return layout_from_json(saved)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise MirrorError(
                f"{self.db.url}: the layout the mirror saved for {name!r} is damaged ({exc!r}); "
                f"drop {name!r} and the mirror's state tables, or mirror into another database."
            ) from exc

    # -- applying ---------------------------------------------------------------------------

    def _write(
        self,
        connection: Connection,
        table: TableLayout,
        items: Sequence[Mapping[str, Any]],
        sequence: int | Sequence[int],
        *,
        fresh: bool = False,
    ) -> None:
        """Replace the rows of ``items`` (records or entries) and their child rows (only
        insert them when ``fresh``: a table being filled holds none of them)."""
        at = _now()
        mains, keys = [], []
        children: dict[str, list[dict[str, Any]]] = {a.child: [] for a in table.children() if a.child}
        for index, item in enumerate(items):
            seq = sequence if isinstance(sequence, int) else sequence[index]
            row, child_rows = table.rows(item, seq, at)
            if self.soft_delete:
                row["_deleted_at"] = None
            mains.append(row)
            keys.append(row[table.key])
            for name, rows in child_rows.items():
                children[name].extend(rows)
        replaced = [] if fresh else keys
        self.db.replace(connection, table.name, table.key, replaced, mains)
        for name, rows in children.items():
            self.db.replace(connection, name, table.key, replaced, rows)
        self.report.rows_written += len(mains)

    def _remove(self, connection: Connection, table: TableLayout, keys: Sequence[str]) -> None:
        if self.soft_delete:
            self.db.mark_deleted(connection, table.name, table.key, keys, _now())
        else:
            self.db.delete(connection, table.name, table.key, keys)
            for attribute in table.children():
                assert attribute.child is not None
                self.db.delete(connection, attribute.child, table.key, keys)
        self.report.rows_deleted += len(keys)

    def _read(self, *, wait: int = 0) -> Any:
        with self.db.begin() as connection:
            cursor = self.db.state(connection).get("cursor")
        try:
            return self.client.events.read(cursor=cursor, limit=PAGE, wait=wait)
        except CursorExpiredError:
            self._resync()
            return self.client.events.read(cursor=self.report.cursor, limit=PAGE, wait=0)

    def _resync(self) -> None:
        self.report.resynced = True
        if self.soft_delete and self.layouts:
            refresh(self)
            return
        with self.db.begin() as connection:
            self.db.save_state(connection, cursor=None, snapshot=None)
        snapshot(self, None)

    def _catch_up(self) -> None:
        while True:
            batch = self._read()
            self._apply_batch(batch.events, batch.cursor)
            if not batch.has_more:
                self.report.cursor = batch.cursor
                return

    def _apply_batch(
        self, events: Sequence[Mapping[str, Any]], cursor: str | None, *, newer_wins: bool = False
    ) -> None:
        """Apply ``events`` (oldest first) and move the cursor, in one transaction."""
        with self.db.begin() as connection:
            seen = self.db.applied(connection, [e["sequence"] for e in events if "sequence" in e])
            fresh = [e for e in events if e.get("sequence") not in seen]
            apply_events(self, connection, fresh, newer_wins=newer_wins)
            self.db.log(connection, fresh, _now())
            if cursor is not None:
                self.db.save_state(connection, cursor=cursor)
        self.report.events_applied += len(fresh)
        newest = events[-1].get("occurred_at") if events else None
        if isinstance(newest, str):  # how long ago the newest change applied was made
            self.report.lag_seconds = (_now() - dt.datetime.fromisoformat(newest)).total_seconds()
        if cursor is not None:
            self.report.cursor = cursor

    def _evolve(self, planned: Mapping[str, TableLayout]) -> None:
        """Bring the tables to ``planned`` (see ``_apply.evolve``), in one transaction."""
        with self.db.begin() as connection:
            evolve(self, planned, connection)


def _sequenced(event: Mapping[str, Any]) -> bool:
    sequence = event.get("sequence")
    return isinstance(sequence, int) and not isinstance(sequence, bool)


def _position(cursor: Any) -> int:
    """The sequence a feed cursor (``<base36 sequence>.<tag>``) stands after; 0 when unreadable."""
    try:
        return int(str(cursor).split(".", 1)[0], 36)
    except ValueError:
        return 0
