"""The database a mirror writes: SQLite, PostgreSQL or DuckDB, through SQLAlchemy Core.

Rows are replaced by key (delete, then insert), which every destination runs the same way
and which makes applying an event twice harmless. ``_crm_mirror`` keeps the mirror's state
(the feed cursor, the tables' layouts) and ``_crm_mirror_log`` every event applied, by
sequence, both written in the transaction of the rows they describe.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from .._errors import MirrorError
from ._layout import BIGINT, BOOLEAN, DATE, INTEGER, NUMBER, TEXT, TIMESTAMP, names_of

try:
    import sqlalchemy as sa
    from sqlalchemy.engine import Connection, Engine
except ImportError as exc:  # pragma: no cover - the extra is missing
    raise MirrorError("The mirror needs SQLAlchemy: pip install 'crm-sdk[mirror]'.") from exc

KINDS = {"sqlite": "SQLite", "postgresql": "PostgreSQL", "duckdb": "DuckDB"}
STATE, LOG = "_crm_mirror", "_crm_mirror_log"
_TYPES: dict[str, Any] = {
    TEXT: sa.Text,
    NUMBER: sa.Float,
    INTEGER: sa.Integer,
    BIGINT: sa.BigInteger,
    BOOLEAN: sa.Boolean,
    DATE: sa.Date,
    TIMESTAMP: lambda: sa.DateTime(timezone=True),
}
CHUNK = 500  # keys per DELETE ... IN


SECRET_WORDS = "pass|secret|token|key"  # in a query parameter's name: password, sslpassword, ...
SECRET_PARAMETER = re.compile(SECRET_WORDS, re.IGNORECASE)


def shown(url: str | sa.URL) -> str:
    """A database URL fit to print: its password, and any query parameter that may hold one,
    hidden; text that is no URL shown as given, with anything like ``:secret@`` hidden."""
    try:
        parsed = sa.make_url(url)
    except (sa.exc.ArgumentError, ValueError, TypeError):
        text = str(url) if isinstance(url, str) else repr(type(url).__name__)
        text = re.sub(r":[^:/@]*@", ":***@", text)
        return re.sub(rf"((?:{SECRET_WORDS})[^=&]*=)[^&]*", r"\1***", text, flags=re.IGNORECASE)
    hidden = {k: "***" for k in parsed.query if SECRET_PARAMETER.search(k)}
    return parsed.update_query_dict(hidden).render_as_string(hide_password=True).replace("%2A%2A%2A", "***")


class Destination:
    """One mirror database: its engine, the tables it holds and their state."""

    def __init__(self, url: str) -> None:
        self.url = shown(url)
        try:
            parsed = sa.make_url(url)
        except (sa.exc.ArgumentError, ValueError, TypeError):
            raise MirrorError(
                f"{self.url!r} is not a database URL "
                "(sqlite:///crm.db, postgresql://host/db, duckdb:///crm.duckdb)."
            ) from None
        backend = parsed.get_backend_name()
        if backend not in KINDS:
            raise MirrorError(
                f"{self.url}: a mirror writes to {', '.join(KINDS.values())}; {backend!r} is not one of them."
            )
        if backend == "postgresql" and parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")
        self.kind = backend
        try:
            self.engine: Engine = sa.create_engine(parsed)
            if backend == "sqlite":
                sa.event.listen(self.engine, "connect", _sqlite_pragmas)
            with self.engine.connect() as connection:
                connection.execute(sa.text("SELECT 1"))
        except ImportError as exc:
            extra = {"postgresql": "postgres", "duckdb": "duckdb"}.get(backend, "mirror")
            raise MirrorError(
                f"{self.url}: the {KINDS[backend]} driver is missing: pip install 'crm-sdk[{extra}]' ({exc})."
            ) from None
        except sa.exc.SQLAlchemyError as exc:
            raise MirrorError(f"Cannot reach the database {self.url}: {_first_line(exc)}") from None
        self.metadata = sa.MetaData()
        self.tables: dict[str, sa.Table] = {}
        with self.begin() as connection:
            self._state_tables(connection)

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        """One transaction: committed at the end of the block, rolled back if it raises."""
        try:
            with self.engine.begin() as connection:
                yield connection
        except sa.exc.SQLAlchemyError as exc:
            raise MirrorError(f"{self.url}: {_first_line(exc)}") from exc

    # -- the mirror's own tables --------------------------------------------------------

    def _state_tables(self, connection: Connection) -> None:
        sa.Table(
            STATE, self.metadata, sa.Column("key", sa.Text, primary_key=True), sa.Column("value", sa.Text)
        )
        sa.Table(
            LOG,
            self.metadata,
            sa.Column("sequence", sa.BigInteger, primary_key=True, autoincrement=False),
            sa.Column("event_type", sa.Text),
            sa.Column("applied_at", sa.DateTime(timezone=True)),
        )
        self.metadata.create_all(connection, tables=[self.metadata.tables[STATE], self.metadata.tables[LOG]])

    def state(self, connection: Connection) -> dict[str, Any]:
        table = self.metadata.tables[STATE]
        found: dict[str, Any] = {}
        for key, value in connection.execute(sa.select(table.c.key, table.c.value)):
            try:
                found[key] = json.loads(value)
            except (TypeError, ValueError, RecursionError) as exc:
                raise MirrorError(
                    f"{self.url}: the mirror's state ({STATE}, key {key!r}) is damaged ({exc}); "
                    "drop the mirror's tables, or mirror into another database, to start again."
                ) from exc
        return found

    def save_state(self, connection: Connection, **values: Any) -> None:
        table = self.metadata.tables[STATE]
        keys = list(values)
        connection.execute(table.delete().where(table.c.key.in_(keys)))
        connection.execute(
            table.insert(), [{"key": k, "value": json.dumps(values[k], sort_keys=True)} for k in keys]
        )

    def log(self, connection: Connection, events: Sequence[Mapping[str, Any]], at: dt.datetime) -> None:
        """Record ``events`` as applied; one applied before is an error (the caller skipped it)."""
        if events:
            connection.execute(
                self.metadata.tables[LOG].insert(),
                [
                    {"sequence": e["sequence"], "event_type": e["event_type"], "applied_at": at}
                    for e in events
                ],
            )

    def applied(self, connection: Connection, sequences: Iterable[int]) -> set[int]:
        """Which of ``sequences`` the log already holds."""
        table, out = self.metadata.tables[LOG], set()
        for chunk in _chunks(sorted(set(sequences))):
            out |= set(
                connection.execute(sa.select(table.c.sequence).where(table.c.sequence.in_(chunk))).scalars()
            )
        return out

    # -- data tables ----------------------------------------------------------------------

    def define(self, name: str, columns: Sequence[tuple[str, str]], key: Sequence[str]) -> sa.Table:
        """The table ``name`` as the mirror writes it (replacing an earlier definition)."""
        if name in self.metadata.tables:
            self.metadata.remove(self.metadata.tables[name])
        table = sa.Table(
            name,
            self.metadata,
            *(
                sa.Column(column, _TYPES[kind](), primary_key=column in key, autoincrement=False)
                for column, kind in columns
            ),
        )
        self.tables[name] = table
        return table

    def existing_columns(self, connection: Connection, name: str) -> list[str] | None:
        """The columns of table ``name`` in the database, or None when it has no such table."""
        inspector = sa.inspect(connection)
        if not inspector.has_table(name):
            return None
        return [column["name"] for column in inspector.get_columns(name)]

    def create(self, connection: Connection, name: str) -> None:
        self.tables[name].create(connection, checkfirst=True)

    def drop(self, connection: Connection, name: str) -> None:
        connection.execute(sa.text(f"DROP TABLE IF EXISTS {self._quote(name)}"))

    def add_column(self, connection: Connection, name: str, column: str, kind: str) -> None:
        sql_type = _TYPES[kind]().compile(dialect=self.engine.dialect)
        connection.execute(
            sa.text(f"ALTER TABLE {self._quote(name)} ADD COLUMN {self._quote(column)} {sql_type}")
        )

    def _quote(self, name: str) -> str:
        return str(self.engine.dialect.identifier_preparer.quote(name))

    def replace(
        self,
        connection: Connection,
        name: str,
        key: str,
        keys: Sequence[str],
        rows: Sequence[Mapping[str, Any]],
    ) -> None:
        """Delete the rows of ``keys`` (by column ``key``), then insert ``rows``."""
        self.delete(connection, name, key, keys)
        if rows:
            connection.execute(self.tables[name].insert(), list(rows))

    def sequences(self, connection: Connection, name: str, key: str, keys: Sequence[str]) -> dict[str, int]:
        """The ``_sequence`` of the rows of ``keys`` that table ``name`` holds."""
        table, out = self.tables[name], {}
        for chunk in _chunks(keys):
            query = sa.select(table.c[key], table.c._sequence).where(table.c[key].in_(chunk))
            for row_key, sequence in connection.execute(query):  # (a result has keys(): not update())
                out[str(row_key)] = int(sequence)
        return out

    def delete(self, connection: Connection, name: str, key: str, keys: Sequence[str]) -> None:
        table = self.tables[name]
        for chunk in _chunks(keys):
            connection.execute(table.delete().where(table.c[key].in_(chunk)))

    def mark_deleted(
        self, connection: Connection, name: str, key: str, keys: Sequence[str], at: dt.datetime
    ) -> None:
        table = self.tables[name]
        for chunk in _chunks(keys):
            connection.execute(table.update().where(table.c[key].in_(chunk)).values(_deleted_at=at))

    def live_keys(self, connection: Connection, name: str, key: str) -> set[str]:
        """The keys of the rows of ``name`` not marked deleted."""
        table = self.tables[name]
        return {
            str(k)
            for k in connection.execute(
                sa.select(table.c[key]).where(table.c._deleted_at.is_(None))
            ).scalars()
        }

    def rename_value(self, connection: Connection, name: str, column: str, old: str, new: str) -> int:
        table = self.tables[name]
        result = connection.execute(table.update().where(table.c[column] == old).values({column: new}))
        return int(result.rowcount or 0)

    def clear(self, connection: Connection, name: str, columns: Sequence[str] = ()) -> None:
        """Empty ``columns`` of every row of table ``name``, or with none given, delete its rows."""
        table = self.tables[name]
        if columns:
            connection.execute(table.update().values(dict.fromkeys(columns)))
        else:
            connection.execute(table.delete())

    def rows(self, connection: Connection, name: str) -> list[dict[str, Any]]:
        table = self.tables[name]
        return [dict(row._mapping) for row in connection.execute(sa.select(table))]

    def count(self, connection: Connection, name: str) -> int:
        return int(connection.execute(sa.select(sa.func.count()).select_from(self.tables[name])).scalar_one())


def column_names(table: sa.Table) -> list[str]:
    return names_of((c.name, "") for c in table.columns)


def _chunks(keys: Sequence[Any]) -> Iterator[list[Any]]:
    """``keys`` in lists of at most ``CHUNK``, for ``IN`` clauses every database takes."""
    for start in range(0, len(keys), CHUNK):
        yield list(keys[start : start + CHUNK])


def _sqlite_pragmas(connection: Any, _: Any) -> None:
    """Write-ahead logging: readers of the mirror are not blocked while it writes, and a
    commit syncs the log only (still durable across a killed process)."""
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA synchronous = NORMAL")
    cursor.close()


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
