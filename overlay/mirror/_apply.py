"""Applying feed events to the mirror's tables, and following the schema as it drifts.

Every record, entry, note and task event carries the whole item as the change left it, so
within a batch only the last event of each key matters: the batch becomes one delete and one
insert per table. A schema event (or a snapshot naming an attribute the table lacks) first
writes what is pending, then brings the tables to the live metadata.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ._layout import AttributeLayout, TableLayout, layout_json, note_row, now_utc, table_name, task_row
from ._read import option_titles, pages

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from ._host import Mirror


Pending = dict[str, tuple[Mapping[str, Any] | None, int]]  # key -> (item, or None to delete; sequence)
ITEM_EVENTS = {
    "record": ("object", "record_id", "record"),
    "list-entry": ("list", "entry_id", "entry"),
}
ACTIVITY = {"note": ("notes", "note_id"), "task": ("tasks", "task_id")}


class _Batch:
    def __init__(self, mirror: Mirror, connection: Connection, *, newer_wins: bool = False) -> None:
        self.mirror, self.connection, self.newer_wins = mirror, connection, newer_wins
        self.pending: dict[str, Pending] = {}
        self.deleted: dict[str, set[str]] = {}  # soft deletes of items this batch also wrote

    def put(self, table: str, key: str, item: Mapping[str, Any] | None, sequence: int) -> None:
        """The item ``key`` is now (None: deleted). A soft delete keeps what the batch knew of it."""
        by_key = self.pending.setdefault(table, {})
        if item is None and self.mirror.soft_delete and key in by_key:
            self.deleted.setdefault(table, set()).add(key)
            return
        by_key[key] = (item, sequence)
        self.deleted.get(table, set()).discard(key)

    def _drop_older(self, name: str, key_column: str, by_key: Pending) -> None:
        """Forget the writes of rows the table holds from a later event (events from
        elsewhere may come late); a delete is final, so it always stands."""
        writes = [key for key, (item, _) in by_key.items() if item is not None]
        held = self.mirror.db.sequences(self.connection, name, key_column, writes) if writes else {}
        for key, sequence in held.items():
            if sequence > by_key[key][1]:
                del by_key[key]

    def flush(self) -> None:
        mirror, connection = self.mirror, self.connection
        for name, by_key in self.pending.items():
            if self.newer_wins:
                key_column = ACTIVITY_TABLES[name][0] if name in ACTIVITY_TABLES else mirror.layouts[name].key
                self._drop_older(name, key_column, by_key)
            puts = [(key, item, seq) for key, (item, seq) in by_key.items() if item is not None]
            gone = [
                key for key, (item, _) in by_key.items() if item is None or key in self.deleted.get(name, ())
            ]
            if name in ACTIVITY_TABLES:
                key_column, to_row = ACTIVITY_TABLES[name]
                at = _stamp()
                rows = [to_row(item, seq, at) for _, item, seq in puts]
                if mirror.soft_delete:
                    for row in rows:
                        row["_deleted_at"] = None
                mirror.db.replace(connection, name, key_column, [k for k, _, _ in puts], rows)
                if gone:
                    if mirror.soft_delete:
                        mirror.db.mark_deleted(connection, name, key_column, gone, at)
                    else:
                        mirror.db.delete(connection, name, key_column, gone)
                mirror.report.rows_written += len(rows)
                mirror.report.rows_deleted += len(gone)
                continue
            table = mirror.layouts[name]
            if puts:
                mirror._write(connection, table, [item for _, item, _ in puts], [seq for _, _, seq in puts])
            if gone:
                mirror._remove(connection, table, gone)
        self.pending, self.deleted = {}, {}


def _stamp() -> Any:
    return now_utc()


ACTIVITY_TABLES = {"notes": ("note_id", note_row), "tasks": ("task_id", task_row)}


def apply_events(
    mirror: Mirror, connection: Connection, events: Sequence[Mapping[str, Any]], *, newer_wins: bool = False
) -> None:
    """Apply ``events`` (oldest first) inside ``connection``'s transaction; with ``newer_wins``
    (events from elsewhere) a row written by a later event than one's is left as it is."""
    batch = _Batch(mirror, connection, newer_wins=newer_wins)
    for event in events:
        kind = str(event.get("event_type", ""))
        family, _, what = kind.partition(".")
        sequence = int(event["sequence"])
        if family in ITEM_EVENTS:
            owner, key_name, snapshot = ITEM_EVENTS[family]
            slug = event.get(owner)
            name = table_name("object" if owner == "object" else "list", str(slug))
            table = mirror.layouts.get(name)
            if table is None:
                continue  # not mirrored
            item = event.get(snapshot) if what != "deleted" else None
            if item is not None and _drifted(table, item):
                batch.flush()
                evolve(mirror, mirror._plan(), connection)
            batch.put(name, event["id"][key_name], item, sequence)
        elif family in ACTIVITY:
            name, key_name = ACTIVITY[family]
            batch.put(name, event["id"][key_name], event.get(family) if what != "deleted" else None, sequence)
        elif family in ("object", "list", "attribute"):
            batch.flush()
            evolve(mirror, mirror._plan(), connection)
            if kind == "attribute.archived":
                _archived(mirror, connection, event)
        elif family == "select-option":
            batch.flush()
            _option_changed(mirror, connection, event)
    batch.flush()


def _drifted(table: TableLayout, item: Mapping[str, Any]) -> bool:
    """Whether a snapshot holds values of an attribute the table does not know."""
    values = item.get("values") if table.kind == "object" else item.get("entry_values")
    return isinstance(values, dict) and not values.keys() <= table.attributes.keys()


def _attribute_of(
    mirror: Mirror, event: Mapping[str, Any], slug: Any
) -> tuple[TableLayout, AttributeLayout] | None:
    """The mirrored table a schema event's object or list is, and its attribute ``slug``."""
    owner = "list" if event.get("list") else "object"
    table = mirror.layouts.get(table_name(owner, str(event.get(owner))))
    attribute = table.attributes.get(str(slug)) if table else None
    return (table, attribute) if table is not None and attribute is not None else None


def _archived(mirror: Mirror, connection: Connection, event: Mapping[str, Any]) -> None:
    """An archived attribute's values leave the API's records and entries: they leave its
    column (or child table) too, which stays for the history of the schema."""
    found = _attribute_of(mirror, event, (event.get("definition") or {}).get("api_slug"))
    if found is None:
        return
    table, attribute = found
    if attribute.multi and attribute.child:
        mirror.db.clear(connection, attribute.child)
    else:
        mirror.db.clear(connection, table.name, attribute.column_names(attribute.slug))


def _option_changed(mirror: Mirror, connection: Connection, event: Mapping[str, Any]) -> None:
    """A renamed option: the rows holding its old title get the new one."""
    ids, definition = event.get("id") or {}, event.get("definition") or {}
    attribute_id, option_id = ids.get("attribute_id"), ids.get("option_id")
    titles = mirror.options.setdefault(str(attribute_id), {})
    old, new = titles.get(str(option_id)), definition.get("title")
    titles[str(option_id)] = str(new)
    found = _attribute_of(mirror, event, event.get("attribute"))
    if old is not None and new is not None and old != new and found is not None:
        table, attribute = found
        if attribute.multi and attribute.child:
            renamed = mirror.db.rename_value(connection, attribute.child, "value", old, new)
        else:
            renamed = mirror.db.rename_value(connection, table.name, attribute.slug, old, new)
        mirror.report.options_renamed += renamed
    mirror.db.save_state(connection, options=mirror.options)


def evolve(mirror: Mirror, planned: Mapping[str, TableLayout], connection: Connection) -> None:
    """Bring the tables to ``planned`` inside ``connection``: a new table is created and
    copied; a new attribute adds its column (or child table) in place; an attribute whose
    type or multiplicity changed rebuilds its table (dropped, created, copied again)."""
    report = mirror.report
    copy: list[TableLayout] = []
    for name, table in planned.items():
        old = mirror.layouts.get(name)
        if old is None:
            report.tables_added.append(name)
            copy.append(table)
            continue
        changed = [
            slug
            for slug, attribute in table.attributes.items()
            if slug in old.attributes
            and (old.attributes[slug].type, old.attributes[slug].multi) != (attribute.type, attribute.multi)
        ]
        if changed:
            report.tables_rebuilt.append(f"{name} ({', '.join(changed)} changed)")
            copy.append(table)
            continue
        for slug, attribute in table.attributes.items():
            if slug in old.attributes:
                continue
            old.attributes[slug] = attribute
            mirror._define(old)
            if attribute.multi and attribute.child:
                mirror.db.create(connection, attribute.child)
                report.tables_added.append(attribute.child)
            else:
                for column, kind in ((slug + suffix, kind) for suffix, kind in attribute.columns):
                    mirror.db.add_column(connection, name, column, kind)
                    report.columns_added.append(f"{name}.{column}")
    for table in copy:
        mirror.layouts[table.name] = table
        mirror._define(table)
        mirror._create(connection, table, fresh=True)
        for page in pages(mirror.client, table):
            mirror._write(connection, table, page, 0)
    if copy:
        mirror.options.update(option_titles(mirror.client, copy))
    mirror.db.save_state(
        connection, layouts={n: layout_json(t) for n, t in mirror.layouts.items()}, options=mirror.options
    )
