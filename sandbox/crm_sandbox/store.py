"""SQLite storage. One connection, one lock: every request's reads and writes are atomic.

Values keep their history (``active_until`` is set when a value is replaced). The ``keys``
table indexes the properties of active values, so a filter becomes indexed look-ups.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import secrets
import sqlite3
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

# A row of the store, or a dict of the same columns (an attribute as values see it, an option
# that is gone): what look-ups and renderers index by column name.
Columns = sqlite3.Row | dict[str, Any]

SCHEMA = """
PRAGMA journal_mode = WAL;
PRAGMA synchronous = NORMAL;
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS objects (
    id TEXT PRIMARY KEY, api_slug TEXT NOT NULL UNIQUE, singular_noun TEXT NOT NULL,
    plural_noun TEXT NOT NULL, created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS lists (
    id TEXT PRIMARY KEY, api_slug TEXT NOT NULL UNIQUE, name TEXT NOT NULL,
    parent_objects TEXT NOT NULL, created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS attributes (
    id TEXT PRIMARY KEY, parent_id TEXT NOT NULL, parent_kind TEXT NOT NULL, api_slug TEXT NOT NULL,
    title TEXT NOT NULL, description TEXT, type TEXT NOT NULL, is_system INTEGER NOT NULL,
    is_writable INTEGER NOT NULL, is_required INTEGER NOT NULL, is_unique INTEGER NOT NULL,
    is_multiselect INTEGER NOT NULL, is_archived INTEGER NOT NULL, config TEXT NOT NULL,
    created_at TEXT NOT NULL, UNIQUE (parent_id, api_slug));
CREATE TABLE IF NOT EXISTS options (
    id TEXT PRIMARY KEY, attribute_id TEXT NOT NULL, title TEXT NOT NULL, is_archived INTEGER NOT NULL,
    UNIQUE (attribute_id, title));
CREATE TABLE IF NOT EXISTS records (
    id TEXT PRIMARY KEY, object_id TEXT NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS records_by_object ON records (object_id, created_at, id);
CREATE TABLE IF NOT EXISTS entries (
    id TEXT PRIMARY KEY, list_id TEXT NOT NULL, parent_object TEXT NOT NULL, parent_record_id TEXT NOT NULL,
    created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS entries_by_list ON entries (list_id, created_at, id);
CREATE INDEX IF NOT EXISTS entries_by_record ON entries (parent_record_id);
CREATE TABLE IF NOT EXISTS vals (
    id INTEGER PRIMARY KEY, owner_id TEXT NOT NULL, attribute_id TEXT NOT NULL, active_from TEXT NOT NULL,
    active_until TEXT, actor_type TEXT NOT NULL, actor_id TEXT, data TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS vals_by_owner ON vals (owner_id, attribute_id, id);
CREATE TABLE IF NOT EXISTS keys (
    val_id INTEGER NOT NULL, owner_id TEXT NOT NULL, attribute_id TEXT NOT NULL, prop TEXT NOT NULL,
    sk TEXT, lk TEXT, nk REAL);
-- Partial where a key is often NULL (a number has no text key, text no number): a value
-- written updates fewer indexes, and every comparison on the column still finds them.
CREATE INDEX IF NOT EXISTS keys_by_text ON keys (attribute_id, prop, sk);
CREATE INDEX IF NOT EXISTS keys_by_lower_text ON keys (attribute_id, prop, lk) WHERE lk IS NOT NULL;
CREATE INDEX IF NOT EXISTS keys_by_numeric ON keys (attribute_id, prop, nk) WHERE nk IS NOT NULL;
CREATE INDEX IF NOT EXISTS keys_by_owner ON keys (owner_id, attribute_id);
DROP INDEX IF EXISTS keys_by_lower;  -- replaced by the partial indexes above (older database files)
DROP INDEX IF EXISTS keys_by_number;
DROP INDEX IF EXISTS keys_by_val;
CREATE TABLE IF NOT EXISTS notes (
    id TEXT PRIMARY KEY, parent_object TEXT NOT NULL, parent_record_id TEXT NOT NULL, title TEXT NOT NULL,
    format TEXT NOT NULL, content TEXT NOT NULL, actor_type TEXT NOT NULL, actor_id TEXT,
    created_at TEXT NOT NULL, seq INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS tasks (
    id TEXT PRIMARY KEY, content TEXT NOT NULL, deadline_at TEXT, is_completed INTEGER NOT NULL,
    linked_records TEXT NOT NULL, assignees TEXT NOT NULL, actor_type TEXT NOT NULL, actor_id TEXT,
    created_at TEXT NOT NULL, seq INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS webhooks (
    id TEXT PRIMARY KEY, target_url TEXT NOT NULL, subscriptions TEXT NOT NULL, api_version TEXT NOT NULL,
    status TEXT NOT NULL, secret TEXT NOT NULL, created_at TEXT NOT NULL, seq INTEGER NOT NULL,
    previous_secret TEXT, previous_secret_expires_at TEXT);
CREATE TABLE IF NOT EXISTS deliveries (
    id TEXT PRIMARY KEY, webhook_id TEXT NOT NULL, message_id TEXT NOT NULL, attempt INTEGER NOT NULL,
    status TEXT NOT NULL, event_types TEXT NOT NULL, payload TEXT NOT NULL, response_status_code INTEGER,
    created_at TEXT NOT NULL, next_attempt_at TEXT, seq INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS deliveries_due ON deliveries (status, next_attempt_at);
CREATE INDEX IF NOT EXISTS deliveries_by_webhook ON deliveries (webhook_id, seq);
-- The change feed: every event in commit order (seq), its JSON as the latest version has it.
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY, event_type TEXT NOT NULL, object_id TEXT, list_id TEXT,
    occurred_at TEXT NOT NULL, body TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS events_by_time ON events (occurred_at);
CREATE TABLE IF NOT EXISTS idempotency (
    token TEXT NOT NULL, key TEXT NOT NULL, fingerprint TEXT NOT NULL, status INTEGER NOT NULL,
    body BLOB NOT NULL, created_at REAL NOT NULL, PRIMARY KEY (token, key));
"""


class _Determinism:
    """Ids from a seeded generator and a clock that ticks a millisecond per reading, so that
    identical requests get identical answers (for property tests that replay scenarios)."""

    rng: random.Random | None = None
    tick = 0


def deterministic(seed: int | None) -> None:
    """Make ids and timestamps reproducible from ``seed`` (None: random ids, the real clock)."""
    _Determinism.rng = random.Random(seed) if seed is not None else None
    _Determinism.tick = 0


def now() -> str:
    if _Determinism.rng is not None:
        _Determinism.tick += 1
        stamp = dt.datetime(2026, 1, 1, tzinfo=dt.UTC) + dt.timedelta(milliseconds=_Determinism.tick)
        return stamp.isoformat(timespec="microseconds")
    return dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")


def random_bytes(n: int) -> bytes:
    if _Determinism.rng is not None:
        return _Determinism.rng.randbytes(n)
    return secrets.token_bytes(n)


def new_id() -> str:
    if _Determinism.rng is not None:
        return str(uuid.UUID(int=_Determinism.rng.getrandbits(128), version=4))
    return str(uuid.uuid4())


class Store:
    """The database of one sandbox workspace."""

    def __init__(self, path: str = ":memory:") -> None:
        self.lock = threading.RLock()
        self.db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self.db.row_factory = sqlite3.Row
        self.db.executescript(SCHEMA)
        self._add_missing_columns()
        self.workspace_id = self.meta("workspace_id") or self._init_workspace()

    def _add_missing_columns(self) -> None:
        """Bring a database file written by an older sandbox up to this schema."""
        columns = {row["name"] for row in self.db.execute("PRAGMA table_info(webhooks)")}
        for name in ("previous_secret", "previous_secret_expires_at"):
            if name not in columns:
                self.db.execute(f"ALTER TABLE webhooks ADD COLUMN {name} TEXT")

    def _init_workspace(self) -> str:
        workspace_id = new_id()
        self.db.execute("INSERT INTO meta VALUES ('workspace_id', ?)", (workspace_id,))
        return workspace_id

    def meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """Hold the lock and a write transaction; roll back on any exception."""
        with self.lock:
            self.db.execute("BEGIN IMMEDIATE")
            try:
                yield self.db
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
            self.db.execute("COMMIT")

    def one(self, sql: str, params: tuple[Any, ...] | list[Any] = ()) -> sqlite3.Row | None:
        row: sqlite3.Row | None = self.db.execute(sql, params).fetchone()
        return row

    def all(self, sql: str, params: tuple[Any, ...] | list[Any] = ()) -> list[sqlite3.Row]:
        return self.db.execute(sql, params).fetchall()

    def next_seq(self, table: str) -> int:
        """An increasing number for ordering rows of ``table`` (cursor pagination)."""
        row = self.db.execute(f"SELECT COALESCE(MAX(seq), 0) + 1 FROM {table}").fetchone()
        return int(row[0])


_COMPACT = json.JSONEncoder(separators=(",", ":"))  # one encoder: json.dumps with options makes one a call


def dumps(value: Any) -> str:
    """``value`` as compact JSON."""
    return _COMPACT.encode(value)
