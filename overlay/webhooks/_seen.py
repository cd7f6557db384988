"""Stores of message ids already seen: replay protection and delivery dedupe.

A store answers one question atomically: ``claim(key, expires_at)`` is True the first time
a key is claimed (until it expires) and False after. ``release(key)`` gives a claim back,
so a delivery whose handler failed is processed again when the sender retries it. Expiry
times are Unix seconds, the clock of ``webhook-timestamp``.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path
from typing import Protocol, runtime_checkable


@runtime_checkable
class SeenStore(Protocol):
    """Where claimed keys live; any object with these two methods will do."""

    def claim(self, key: str, expires_at: float) -> bool:
        """Claim ``key`` until ``expires_at``; False when it is already claimed and live."""
        ...

    def release(self, key: str) -> None:
        """Forget ``key``, so the next claim of it succeeds."""
        ...


class MemorySeenStore:
    """Claims in a dict, in this process; expired keys are swept whenever it doubles in size."""

    def __init__(self) -> None:
        self._expiry: dict[str, tuple[float]] = {}
        self._lock = threading.Lock()
        self._sweep_at = 1024

    def __len__(self) -> int:
        return len(self._expiry)

    def __repr__(self) -> str:
        return f"<MemorySeenStore {len(self)} keys>"

    def claim(self, key: str, expires_at: float) -> bool:
        # setdefault is atomic, and returns this call's new tuple only when it stored it.
        claim = (expires_at,)
        if self._expiry.setdefault(key, claim) is claim:
            if len(self._expiry) >= self._sweep_at:
                self._sweep()
            return True
        with self._lock:  # the key is known: take it over only if its claim has expired
            if self._expiry.get(key, (0.0,))[0] > time.time():
                return False
            self._expiry[key] = claim
            return True

    def release(self, key: str) -> None:
        self._expiry.pop(key, None)

    def _sweep(self) -> None:
        now = time.time()
        with self._lock:
            for key in [k for k, (t,) in list(self._expiry.items()) if t <= now]:
                self._expiry.pop(key, None)
            self._sweep_at = max(1024, 2 * len(self._expiry))


class SQLiteSeenStore:
    """Claims in a SQLite file, shared by every process (and worker) that opens the same path."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self._db = sqlite3.connect(self.path, timeout=10, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS seen (key TEXT PRIMARY KEY, expires_at REAL NOT NULL)")
        self._lock = threading.Lock()
        self._claims = 0

    def __repr__(self) -> str:
        return f"<SQLiteSeenStore {self.path}>"

    def claim(self, key: str, expires_at: float) -> bool:
        now = time.time()
        with self._lock:
            self._claims += 1
            if self._claims % 1024 == 0:
                self._db.execute("DELETE FROM seen WHERE expires_at <= ?", (now,))
            # Inserts a new key, or takes over an expired one; a live key changes nothing.
            cursor = self._db.execute(
                "INSERT INTO seen VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET "
                "expires_at = excluded.expires_at WHERE seen.expires_at <= ?",
                (key, expires_at, now),
            )
            return cursor.rowcount == 1

    def release(self, key: str) -> None:
        with self._lock:
            self._db.execute("DELETE FROM seen WHERE key = ?", (key,))

    def close(self) -> None:
        self._db.close()
