"""The mirror's full copies: the first snapshot (resumable, from a feed position taken
first) and the refresh of a soft-deleting mirror whose cursor expired."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .._bulk_core.report import ProgressState
from .._progress import renderer
from ._apply import evolve
from ._layout import TableLayout, layout_json, now_utc
from ._read import activity, option_titles, pages, prefetched, total

if TYPE_CHECKING:
    from ._host import Mirror


def snapshot(mirror: Mirror, unfinished: Mapping[str, Any] | None) -> None:
    """Copy everything, from a feed position taken first; an unfinished snapshot resumes."""
    start = unfinished["cursor"] if unfinished else mirror.client.events.head()
    done: list[str] = list(unfinished["done"]) if unfinished else []
    planned = mirror._plan()
    # A table copied before an interruption keeps the layout it was made with; the schema
    # may have moved on since, so it is evolved to the plan once all are copied.
    finished = {
        name: mirror._saved_layout(name, saved)
        for name, saved in ((unfinished or {}).get("layouts") or {}).items()
        if name in done and name in planned
    }
    mirror.layouts = {name: finished.get(name, table) for name, table in planned.items()}
    mirror._define_activity()
    for table in mirror.layouts.values():
        mirror._define(table)
    mirror.options = option_titles(mirror.client, mirror.layouts.values())

    def progress() -> dict[str, Any]:
        layouts = {name: layout_json(mirror.layouts[name]) for name in done if name in mirror.layouts}
        return {"cursor": start, "done": done, "layouts": layouts}

    with mirror.db.begin() as connection:
        mirror.db.save_state(connection, snapshot=progress())
    for table in mirror.layouts.values():
        if table.name not in done:
            copy_table(mirror, table)
            done.append(table.name)
            with mirror.db.begin() as connection:
                mirror.db.save_state(connection, snapshot=progress())
    copy_activity(mirror)
    if finished:
        with mirror.db.begin() as connection:
            evolve(mirror, planned, connection)
    with mirror.db.begin() as connection:
        mirror.db.save_state(
            connection,
            cursor=start,
            snapshot=None,
            layouts={name: layout_json(t) for name, t in mirror.layouts.items()},
            options=mirror.options,
            objects=mirror.objects,
            lists=mirror.lists,
            soft_delete=mirror.soft_delete,
        )
    mirror.report.cursor = start


def copy_table(mirror: Mirror, table: TableLayout) -> int:
    """Make ``table`` afresh and fill it, a page a transaction; how many rows it holds."""
    show = renderer(mirror.progress, f"snapshot {table.name}")
    started, copied = time.perf_counter(), 0
    expected = total(mirror.client, table) if show is not None else 0  # for the bar's end and ETA
    with mirror.db.begin() as connection:
        mirror._create(connection, table, fresh=True)
    for items in prefetched(pages(mirror.client, table)):
        with mirror.db.begin() as connection:
            mirror._write(connection, table, items, 0, fresh=True)
        copied += len(items)
        if show is not None:
            elapsed = time.perf_counter() - started
            rate = copied / elapsed if elapsed else 0.0
            eta = max(expected - copied, 0) / rate if rate else None
            show(ProgressState(copied, 0, max(expected, copied), rate, eta, table.name))
    mirror.report.snapshot_rows[table.name] = copied
    return copied


def copy_activity(mirror: Mirror) -> None:
    """Make the notes and tasks tables afresh and fill them."""
    with mirror.db.begin() as connection:
        for name, key, rows in activity(mirror.client, now_utc()):
            mirror.db.drop(connection, name)
            mirror.db.create(connection, name)
            mirror.db.replace(connection, name, key, [], rows)
            mirror.report.snapshot_rows[name] = len(rows)


def refresh(mirror: Mirror) -> None:
    """A resync that keeps the rows marked deleted: the tables follow the schema, every item
    is written over its row, and a row the API no longer has is marked deleted."""
    start = mirror.client.events.head()
    with mirror.db.begin() as connection:
        evolve(mirror, mirror._plan(), connection)
    at = now_utc()
    for table in mirror.layouts.values():
        seen: set[str] = set()
        for items in prefetched(pages(mirror.client, table)):
            with mirror.db.begin() as connection:
                mirror._write(connection, table, items, 0)
            seen.update(str(item["id"][table.key]) for item in items)
        _mark_gone(mirror, table.name, table.key, seen, at)
    for name, key, rows in activity(mirror.client, at):
        for row in rows:
            row["_deleted_at"] = None
        with mirror.db.begin() as connection:
            mirror.db.replace(connection, name, key, [r[key] for r in rows], rows)
        _mark_gone(mirror, name, key, {str(r[key]) for r in rows}, at)
    with mirror.db.begin() as connection:
        mirror.db.save_state(connection, cursor=start, snapshot=None)
    mirror.report.cursor = start


def _mark_gone(mirror: Mirror, name: str, key: str, seen: set[str], at: dt.datetime) -> None:
    with mirror.db.begin() as connection:
        gone = sorted(mirror.db.live_keys(connection, name, key) - seen)
        mirror.db.mark_deleted(connection, name, key, gone, at)
    mirror.report.rows_deleted += len(gone)
