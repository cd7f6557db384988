"""The change feed: every event in commit order, kept for the retention period.

A request's events are numbered and stored in its own transaction, and every write holds the
store's one lock, so sequence order is commit order and a reader under the lock sees a prefix
of it: paging by sequence never skips or repeats an event. A cursor is the last sequence read
and a tag of the workspace, so a cursor of another workspace (or of a reset database) is told
apart from one that is merely old.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import difflib
import hashlib
import json
from typing import Any

from .errors import APIError, bad_request
from .store import Store, dumps, new_id, now

RECORD_EVENTS = (
    "record.created", "record.updated", "record.deleted",
    "list-entry.created", "list-entry.updated", "list-entry.deleted",
    "note.created", "note.deleted", "task.created", "task.updated", "task.deleted",
)  # fmt: skip
SCHEMA_EVENTS = (
    "object.created", "object.updated", "list.created", "list.updated",
    "attribute.created", "attribute.updated", "attribute.archived",
    "select-option.created", "select-option.updated", "select-option.archived",
)  # fmt: skip
EVENT_TYPES = RECORD_EVENTS + SCHEMA_EVENTS
FAMILIES = tuple(dict.fromkeys(f"{kind.partition('.')[0]}.*" for kind in EVENT_TYPES))
_PRUNE_EVERY = 1.0  # seconds between retention sweeps


class WaitForEvents(Exception):
    """Raised by a feed read that found nothing and may wait: the app holds the request open
    (outside the store's lock) until an event commits or ``seconds`` pass, then reads again."""

    def __init__(self, seconds: float) -> None:
        super().__init__(seconds)
        self.seconds = seconds


def _span(seconds: float) -> str:
    """A retention as people say it: ``30 days``, ``2 hours``, ``0.5 seconds``."""
    for unit, length in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= length:
            count = seconds / length
            return f"{count:g} {unit}" + ("" if count == 1 else "s")
    return f"{seconds:g} second" + ("" if seconds == 1 else "s")


def _base36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        number, rest = divmod(number, 36)
        out = digits[rest] + out
        if not number:
            return out


def _owners(event: dict[str, Any]) -> tuple[str | None, str | None]:
    """The (object id, list id) an event belongs to, for the feed's ``object`` and ``list`` filters."""
    given = event.get("id")
    ids: dict[str, Any] = given if isinstance(given, dict) else {}
    return ids.get("object_id") or event.get("parent_object_id"), ids.get("list_id")


class Feed:
    """The ``events`` table, its cursors and its long-polling waiters."""

    def __init__(self, store: Store, retention: float) -> None:
        self.store = store
        self.retention = retention
        self.tag = hashlib.sha256(store.workspace_id.encode()).hexdigest()[:8]
        self._waiters: set[asyncio.Future[None]] = set()
        self._swept_at = -_PRUNE_EVERY

    # -- writing ----------------------------------------------------------------------------

    def publish(self, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Number, stamp and store ``events`` (inside the request's transaction); the events
        as complete as the feed serves them."""
        if not events:
            return []
        self._sweep()
        seq = self.head()
        out = []
        for event in events:
            seq += 1
            stamp = now()
            full = {"event_id": f"evt_{new_id().replace('-', '')}", "sequence": seq, "occurred_at": stamp}
            full.update(event)
            if event["event_type"] in RECORD_EVENTS:  # the events webhooks deliver too
                full["is_test"] = False
            object_id, list_id = _owners(event)
            self.store.db.execute(
                "INSERT INTO events VALUES (?, ?, ?, ?, ?, ?)",
                (seq, event["event_type"], object_id, list_id, stamp, dumps(full)),
            )
            out.append(full)
        return out

    def _sweep(self) -> None:
        """Drop events past the retention period, remembering the last sequence dropped."""
        moment = dt.datetime.fromisoformat(now())
        clock = moment.timestamp()
        if clock - self._swept_at < _PRUNE_EVERY:
            return
        self._swept_at = clock
        cutoff = (moment - dt.timedelta(seconds=self.retention)).isoformat(timespec="microseconds")
        row = self.store.one("SELECT MAX(seq) FROM events WHERE occurred_at < ?", (cutoff,))
        if row is None or row[0] is None:
            return
        self.store.db.execute("DELETE FROM events WHERE seq <= ?", (row[0],))
        self.store.set_meta("events_dropped_through", str(row[0]))

    def dropped_through(self) -> int:
        """The last sequence no longer kept (0 when every event is)."""
        return int(self.store.meta("events_dropped_through") or 0)

    def head(self) -> int:
        """The sequence of the newest event (0 before the first)."""
        row = self.store.one("SELECT MAX(seq) FROM events")
        return max(int(row[0] or 0) if row else 0, self.dropped_through())

    # -- reading ----------------------------------------------------------------------------

    def cursor(self, seq: int) -> str:
        return f"{_base36(seq)}.{self.tag}"

    def position(self, cursor: str | None, start: str) -> int:
        """The sequence a read continues after: ``cursor``'s, or the start it names."""
        if cursor is None:
            return self.head() if start == "latest" else self.dropped_through()
        number, _, tag = cursor.partition(".")
        try:
            seq = int(number, 36)
        except ValueError:
            raise bad_request("invalid_cursor", f"The cursor {cursor!r} is not one the feed gave.") from None
        if tag != self.tag or seq > self.head():
            raise APIError(
                410,
                "cursor_expired",
                "The cursor is not a position of this workspace's feed (another workspace, or a "
                "reset database); read everything again and follow from the new cursor.",
            )
        if seq < self.dropped_through():
            raise APIError(
                410,
                "cursor_expired",
                f"The cursor is older than the {_span(self.retention)} of events the feed keeps; "
                "read everything again and follow from the new cursor.",
            )
        return seq

    @staticmethod
    def type_clause(types: str | None) -> tuple[str, list[str]]:
        """SQL selecting the comma-separated event ``types`` (families allowed); 400 on an unknown one."""
        if not types:
            return "1", []
        exact, prefixes = [], []
        for kind in types.split(","):
            if kind in FAMILIES:
                prefixes.append(kind[:-1] + "%")
            elif kind in EVENT_TYPES:
                exact.append(kind)
            else:
                close = difflib.get_close_matches(kind, EVENT_TYPES + FAMILIES, n=1)
                hint = f" Did you mean {close[0]!r}?" if close else ""
                raise bad_request("unknown_event_type", f"Unknown event type {kind!r} in types.{hint}")
        clauses = [f"event_type IN ({', '.join('?' * len(exact))})"] if exact else []
        clauses += ["event_type LIKE ?"] * len(prefixes)
        return f"({' OR '.join(clauses)})", [*exact, *prefixes]

    def page(
        self,
        after: int,
        limit: int,
        types: str | None = None,
        object_id: str | None = None,
        list_id: str | None = None,
    ) -> tuple[list[dict[str, Any]], str, bool]:
        """(the events after ``after`` that match, the cursor to read on, whether more follow)."""
        clause, params = self.type_clause(types)
        where, args = ["seq > ?", clause], [after, *params]
        if object_id is not None:
            where.append("object_id = ?")
            args.append(object_id)
        if list_id is not None:
            where.append("list_id = ?")
            args.append(list_id)
        rows = self.store.all(
            f"SELECT seq, body FROM events WHERE {' AND '.join(where)} ORDER BY seq LIMIT ?",
            [*args, limit + 1],
        )
        more = len(rows) > limit
        rows = rows[:limit]
        # A short page scanned every event to the head, matching or not: continue from there.
        last = rows[-1]["seq"] if more else self.head()
        return [json.loads(row["body"]) for row in rows], self.cursor(last), more

    # -- long polling -----------------------------------------------------------------------

    async def changed(self, timeout: float) -> None:
        """Return when an event commits (``wake``) or ``timeout`` seconds pass."""
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.add(waiter)
        try:
            await asyncio.wait_for(waiter, timeout)
        except TimeoutError:
            pass
        finally:
            self._waiters.discard(waiter)

    def wake(self) -> None:
        """Wake every waiting read (after a commit that published events)."""
        for waiter in list(self._waiters):
            waiter.get_loop().call_soon_threadsafe(_resolve, waiter)


def _resolve(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)
