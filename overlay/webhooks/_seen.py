"""Stores of message ids: replay protection for ``verify()``, claims for the ``Router``.

A store holds, per key, either a *lease* (a handler owns the key until a time: in progress)
or a *done* marker (until a time). Every operation is atomic, so several workers can share
one store:

- ``claim(key, expires_at)``: mark ``key`` done unless it is live already; True the first
  time. ``Verifier`` uses it to refuse replays.
- ``acquire(key, owner, lease_until)``: take a lease on ``key`` for ``owner``; answers
  ``"acquired"``, or ``"in_progress"`` (someone else's live lease) or ``"done"``. An expired
  lease or marker is taken over, so the claim of a crashed handler frees itself.
- ``complete(key, owner, expires_at)``: the handler succeeded; ``key`` is done until then.
- ``release(key, owner)``: the handler failed; forget ``key`` if ``owner`` still holds it
  (``owner=None`` forgets it whoever holds it).

A ``SQLiteSeenStore`` whose file cannot be used (read-only, locked past ``timeout``,
corrupt, closed) raises ``SeenStoreError`` naming the file and what failed, from the
``sqlite3`` error.

Times are Unix seconds, the clock of ``webhook-timestamp``. ``RedisSeenStore``
(``._redis_seen``) keeps the same claims in Redis.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Literal, Protocol, runtime_checkable

from .._errors import SeenStoreError

ClaimState = Literal["acquired", "in_progress", "done"]
"""What ``acquire`` found: the lease is yours, another handler holds it, or it was handled."""

_DONE = None  # the owner of a done marker


@runtime_checkable
class SeenStore(Protocol):
    """Where claimed keys live; any object with these four methods will do."""

    def claim(self, key: str, expires_at: float) -> bool:
        """Mark ``key`` done until ``expires_at``; False when it is already live."""
        ...

    def acquire(self, key: str, owner: str, lease_until: float) -> ClaimState:
        """Lease ``key`` to ``owner`` until ``lease_until``, unless a live lease or marker holds it."""
        ...

    def complete(self, key: str, owner: str, expires_at: float) -> None:
        """``key`` was handled: done until ``expires_at``, whoever leased it."""
        ...

    def release(self, key: str, owner: str | None = None) -> None:
        """Forget ``key`` (only while ``owner`` holds it, when given), so it can be claimed again."""
        ...


class MemorySeenStore:
    """Claims in a dict, in this process; expired keys are swept whenever it doubles in size."""

    def __init__(self) -> None:
        self._entries: dict[str, tuple[float, str | None]] = {}  # key: (until, owner or _DONE)
        self._lock = threading.Lock()
        self._sweep_at = 1024

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        return f"<MemorySeenStore {len(self)} keys>"

    def claim(self, key: str, expires_at: float) -> bool:
        return self._take(key, (expires_at, _DONE)) == "acquired"

    def acquire(self, key: str, owner: str, lease_until: float) -> ClaimState:
        return self._take(key, (lease_until, owner))

    def complete(self, key: str, owner: str, expires_at: float) -> None:
        with self._lock:
            self._entries[key] = (expires_at, _DONE)

    def release(self, key: str, owner: str | None = None) -> None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and (owner is None or entry[1] == owner):
                del self._entries[key]

    def _take(self, key: str, entry: tuple[float, str | None]) -> ClaimState:
        """Store ``entry`` unless a live entry holds ``key``."""
        # setdefault is atomic, and returns this call's new tuple only when it stored it.
        if self._entries.setdefault(key, entry) is entry:
            if len(self._entries) >= self._sweep_at:
                self._sweep()
            return "acquired"
        with self._lock:  # the key is known: take it over only if it has expired
            held = self._entries.get(key)
            if held is not None and held[0] > time.time():
                return "done" if held[1] is _DONE else "in_progress"
            self._entries[key] = entry
            return "acquired"

    def _sweep(self) -> None:
        now = time.time()
        with self._lock:
            for key in [k for k, (t, _) in list(self._entries.items()) if t <= now]:
                self._entries.pop(key, None)
            self._sweep_at = max(1024, 2 * len(self._entries))


class SQLiteSeenStore:
    """Claims in a SQLite file, shared by every process (and worker) that opens the same path.

    Every process on one machine that opens the same path sees the same claims; a store on a
    network file system is not safe (SQLite's locks are not), so across machines use a
    shared server store.
    """

    def __init__(self, path: str | Path, *, timeout: float = 10.0) -> None:
        """Open (or create) the store at ``path``; ``timeout`` is how long, in seconds, an
        operation waits for another process's lock before it fails."""
        self.path = str(path)
        self._lock = threading.Lock()
        self._writes = 0
        with self._failures("open"):
            self._db = sqlite3.connect(
                self.path, timeout=timeout, check_same_thread=False, isolation_level=None
            )
            self._db.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS seen (key TEXT PRIMARY KEY, expires_at REAL NOT NULL, owner TEXT)"
            )
            columns = {row[1] for row in self._db.execute("PRAGMA table_info(seen)")}
            if "owner" not in columns:  # a file from before leases: its keys are all done
                with contextlib.suppress(sqlite3.OperationalError):  # another process added it first
                    self._db.execute("ALTER TABLE seen ADD COLUMN owner TEXT")

    @contextlib.contextmanager
    def _failures(self, doing: str) -> Iterator[None]:
        """A ``sqlite3`` error inside becomes a ``SeenStoreError`` saying what failed."""
        try:
            yield
        except sqlite3.Error as exc:
            raise SeenStoreError(
                f"the webhook seen store {self.path} could not {doing}: {exc}", path=self.path
            ) from exc

    def __repr__(self) -> str:
        return f"<SQLiteSeenStore {self.path}>"

    def claim(self, key: str, expires_at: float) -> bool:
        return self._take(key, expires_at, _DONE)

    def acquire(self, key: str, owner: str, lease_until: float) -> ClaimState:
        if self._take(key, lease_until, owner):
            return "acquired"
        with self._lock, self._failures("read a claim"):
            row = self._db.execute("SELECT owner FROM seen WHERE key = ?", (key,)).fetchone()
        # A row gone since (released a moment ago) is answered as in progress: retry soon.
        return "done" if row is not None and row[0] is None else "in_progress"

    def complete(self, key: str, owner: str, expires_at: float) -> None:
        with self._lock, self._failures("mark a message done"):
            self._db.execute(
                "INSERT INTO seen (key, expires_at, owner) VALUES (?, ?, NULL) "
                "ON CONFLICT (key) DO UPDATE SET expires_at = excluded.expires_at, owner = NULL",
                (key, expires_at),
            )

    def release(self, key: str, owner: str | None = None) -> None:
        with self._lock, self._failures("release a claim"):
            if owner is None:
                self._db.execute("DELETE FROM seen WHERE key = ?", (key,))
            else:
                self._db.execute("DELETE FROM seen WHERE key = ? AND owner = ?", (key, owner))

    def close(self) -> None:
        self._db.close()

    def _take(self, key: str, until: float, owner: str | None) -> bool:
        """Insert ``key`` or take over its expired row; False when a live row holds it."""
        now = time.time()
        with self._lock, self._failures("claim a message id"):
            self._writes += 1
            if self._writes % 1024 == 0:
                self._db.execute("DELETE FROM seen WHERE expires_at <= ?", (now,))
            cursor = self._db.execute(
                "INSERT INTO seen (key, expires_at, owner) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET "
                "expires_at = excluded.expires_at, owner = excluded.owner WHERE seen.expires_at <= ?",
                (key, until, owner, now),
            )
            return cursor.rowcount == 1
