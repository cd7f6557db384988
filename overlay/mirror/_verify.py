"""``Mirror.verify``: compare each table with the API, id by id and by a checksum of its
values, and repair what differs."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ._layout import SYSTEM_COLUMNS, TableLayout, note_row, now_utc, task_row
from ._read import pages
from ._report import count

if TYPE_CHECKING:
    from ._host import Mirror

IGNORED = {name for name, _ in SYSTEM_COLUMNS} | {"_deleted_at"}


@dataclass
class TableCheck:
    """One table's comparison: rows checked, and the keys missing, extra or different."""

    table: str
    checked: int = 0
    missing: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)
    different: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.missing or self.extra or self.different)


@dataclass
class VerifyReport:
    tables: list[TableCheck] = field(default_factory=list)
    repaired: bool = False

    @property
    def ok(self) -> bool:
        return all(t.ok for t in self.tables)

    def summary(self) -> str:
        lines = []
        for t in self.tables:
            state = (
                "equal"
                if t.ok
                else (
                    f"{len(t.missing)} missing, {len(t.extra)} extra, {len(t.different)} different"
                    + (" (repaired)" if self.repaired else "")
                )
            )
            lines.append(f"{t.table}: {count(t.checked, 'row')}, {state}")
        return "\n".join(lines)


def _plain(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
        return aware.astimezone(dt.UTC).isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def checksum(row: Mapping[str, Any], children: Iterable[Mapping[str, Any]] = ()) -> str:
    """A digest of a row's values (and its child rows'), the mirror's own columns left out."""
    main = {k: _plain(v) for k, v in row.items() if k not in IGNORED}
    kids = sorted(
        json.dumps({k: _plain(v) for k, v in child.items() if k not in IGNORED}, sort_keys=True)
        for child in children
    )
    return hashlib.sha256(json.dumps([main, kids], sort_keys=True, default=str).encode()).hexdigest()


def _database_sums(mirror: Mirror, table: TableLayout) -> dict[str, str]:
    with mirror.db.begin() as connection:
        rows = mirror.db.rows(connection, table.name)
        children: dict[str, list[dict[str, Any]]] = {}
        for attribute in table.children():
            assert attribute.child is not None
            for child in mirror.db.rows(connection, attribute.child):
                children.setdefault(child[table.key], []).append(child)
    return {
        row[table.key]: checksum(row, children.get(row[table.key], ()))
        for row in rows
        if row.get("_deleted_at") is None
    }


def verify(mirror: Mirror, *, repair: bool = True) -> VerifyReport:
    """Compare every table with the API (after catching up); with ``repair``, rewrite the
    rows that differ or are missing and remove the extra ones."""
    report = VerifyReport(repaired=repair)
    at = now_utc()
    for table in list(mirror.layouts.values()):
        check = TableCheck(table.name)
        stored = _database_sums(mirror, table)
        by_key: dict[str, Mapping[str, Any]] = {}
        for items in pages(mirror.client, table):
            for item in items:
                row, children = table.rows(item, 0, at)
                key = row[table.key]
                by_key[key] = item
                check.checked += 1
                flat = [c for rows in children.values() for c in rows]
                if key not in stored:
                    check.missing.append(key)
                elif stored[key] != checksum(row, flat):
                    check.different.append(key)
        check.extra = sorted(set(stored) - set(by_key))
        if repair and not check.ok:
            with mirror.db.begin() as connection:
                mirror._write(connection, table, [by_key[k] for k in check.missing + check.different], 0)
                mirror._remove(connection, table, check.extra)
        report.tables.append(check)
    activity: list[tuple[str, str, list[dict[str, Any]], Any]] = [
        ("notes", "note_id", [n.to_dict() for n in mirror.client.notes.list()], note_row),
        ("tasks", "task_id", [t.to_dict() for t in mirror.client.tasks.list()], task_row),
    ]
    for name, key, listing, to_row in activity:
        check = TableCheck(name)
        with mirror.db.begin() as connection:
            stored = {
                r[key]: checksum(r) for r in mirror.db.rows(connection, name) if r.get("_deleted_at") is None
            }
        fresh = {}
        for item in listing:
            row = to_row(item, 0, at)
            fresh[row[key]] = row
            check.checked += 1
            if row[key] not in stored:
                check.missing.append(row[key])
            elif stored[row[key]] != checksum(row):
                check.different.append(row[key])
        check.extra = sorted(set(stored) - set(fresh))
        if repair and not check.ok:
            with mirror.db.begin() as connection:
                keys = check.missing + check.different
                mirror.db.replace(connection, name, key, keys, [fresh[k] for k in keys])
                mirror.db.delete(connection, name, key, check.extra)
        report.tables.append(check)
    return report
