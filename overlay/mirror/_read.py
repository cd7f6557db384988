"""What the mirror reads of the workspace through the client: each table's records or entries
a page at a time (read ahead in a thread), the titles of select options, notes and tasks."""

from __future__ import annotations

import datetime as dt
import queue
import threading
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any, TypeVar

from ._layout import TableLayout, note_row, task_row

if TYPE_CHECKING:
    from .._sync.client import Client

T = TypeVar("T")
PAGE = 1000  # records, entries or events a request


def pages(client: Client, table: TableLayout) -> Iterator[list[dict[str, Any]]]:
    """Every record or entry of ``table``, a page (the API's JSON) at a time."""
    if table.kind == "object":
        for records in client.records(table.slug).where().page_size(PAGE).pages():
            yield [record.to_dict() for record in records.items]
    else:
        for entries in client.entries(table.slug).query(page_size=PAGE).pages():
            yield [entry.to_dict() for entry in entries.items]


def total(client: Client, table: TableLayout) -> int:
    """How many records or entries ``table`` will hold, counted in the server."""
    of = client.records(table.slug) if table.kind == "object" else client.entries(table.slug)
    return of.count()


def option_titles(client: Client, tables: Iterable[TableLayout]) -> dict[str, dict[str, str]]:
    """The titles of every select and status option, by attribute id and option id."""
    out: dict[str, dict[str, str]] = {}
    for table in tables:
        if table.kind != "object":
            continue
        for attribute in client.attributes.list(table.slug):
            if attribute.type in ("select", "status"):
                options = client.attributes.list_options(table.slug, attribute.api_slug, show_archived=True)
                out[attribute.id.attribute_id] = {o.id.option_id: o.title for o in options}
    return out


def activity(client: Client, at: dt.datetime) -> list[tuple[str, str, list[dict[str, Any]]]]:
    """Every note and task as rows: ``(table, key column, rows)`` for each."""
    return [
        ("notes", "note_id", [note_row(n.to_dict(), 0, at) for n in client.notes.list()]),
        ("tasks", "task_id", [task_row(t.to_dict(), 0, at) for t in client.tasks.list()]),
    ]


def prefetched(pages: Iterator[T], depth: int = 2) -> Iterator[T]:
    """``pages``, read ahead in a thread (up to ``depth`` pages): the next page downloads
    while this one is written. What the reader raises is raised here."""
    ahead: queue.Queue[tuple[bool, Any]] = queue.Queue(maxsize=depth)
    done = threading.Event()

    def offer(item: tuple[bool, Any]) -> bool:
        while not done.is_set():
            try:
                ahead.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False  # the consumer left

    def read() -> None:
        try:
            for page in pages:
                if not offer((True, page)):
                    return
            offer((False, None))
        except BaseException as exc:  # handed to the consumer, which raises it
            offer((False, exc))

    reader = threading.Thread(target=read, name="mirror-prefetch", daemon=True)
    reader.start()
    try:
        while True:
            more, value = ahead.get()
            if not more:
                if value is not None:
                    raise value
                return
            yield value
    finally:
        done.set()
