"""What the mirror's tables look like, derived from the workspace's live metadata.

One table per object (named by its slug) and per list (``list_<slug>``); a typed column for
each single-valued attribute; a child table (``<table>__<slug>``) for each multi-valued one,
a row per value with its position. ``overlay.io.value_cells`` turns one value object into
that attribute's columns, the same way for a main row and a child row.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..io._flatten import parse_instant, value_cells

# Column kinds, which the destination maps to its SQL types.
TEXT, NUMBER, INTEGER, BIGINT, BOOLEAN, DATE, TIMESTAMP = (
    "text", "number", "integer", "bigint", "boolean", "date", "timestamp",
)  # fmt: skip
# Each attribute type's columns: (suffix, kind). A suffix is appended to the column's base name.
COLUMNS: dict[str, tuple[tuple[str, str], ...]] = {
    "number": (("", NUMBER),),
    "rating": (("", INTEGER),),
    "checkbox": (("", BOOLEAN),),
    "date": (("", DATE),),
    "timestamp": (("", TIMESTAMP),),
    "currency": (("_minor", BIGINT), ("_currency", TEXT)),
    "personal-name": (("_first", TEXT), ("_last", TEXT), ("_full", TEXT)),
}
TEXT_COLUMN = (("", TEXT),)
SYSTEM_COLUMNS = (("_synced_at", TIMESTAMP), ("_sequence", BIGINT))


@dataclass(frozen=True)
class AttributeLayout:
    """Where one attribute's values go: columns of the main table, or a child table."""

    slug: str
    type: str
    multi: bool
    child: str | None  # the child table's name when ``multi``

    @property
    def columns(self) -> tuple[tuple[str, str], ...]:
        return COLUMNS.get(self.type, TEXT_COLUMN)

    def column_names(self, base: str) -> list[str]:
        return [base + suffix for suffix, _ in self.columns]

    def as_json(self) -> list[Any]:
        return [self.type, self.multi]


@dataclass
class TableLayout:
    """One object's or list's table: its name, key column and attributes."""

    name: str
    kind: str  # "object" or "list"
    slug: str
    key: str  # record_id or entry_id
    attributes: dict[str, AttributeLayout] = field(default_factory=dict)

    @property
    def fixed(self) -> tuple[tuple[str, str], ...]:
        """The columns every row of this table has, before its attributes'."""
        if self.kind == "list":
            parent = (("parent_object", TEXT), ("parent_record_id", TEXT))
            return ((self.key, TEXT), *parent, ("created_at", TIMESTAMP))
        return ((self.key, TEXT), ("created_at", TIMESTAMP), ("updated_at", TIMESTAMP))

    def main_columns(self) -> list[tuple[str, str]]:
        out = list(self.fixed)
        for attribute in self.attributes.values():
            if not attribute.multi:
                out += [(attribute.slug + suffix, kind) for suffix, kind in attribute.columns]
        return out + list(SYSTEM_COLUMNS)

    def children(self) -> list[AttributeLayout]:
        return [a for a in self.attributes.values() if a.multi]

    def _plan(self) -> list[tuple[str, str, str | None, list[str], dict[str, None]]]:
        """Per attribute: (slug, type, child table or None, its column names, its empty
        cells), worked out once per set of attributes."""
        cached = self.__dict__.get("_planned")
        if cached is not None and cached[0] == len(self.attributes):
            return cached[1]  # type: ignore[no-any-return]
        plan = []
        for slug, a in self.attributes.items():
            names = a.column_names("value" if a.multi else slug)
            plan.append((slug, a.type, a.child if a.multi else None, names, dict.fromkeys(names)))
        self.__dict__["_planned"] = (len(self.attributes), plan)
        return plan

    def signature(self) -> dict[str, Any]:
        """What must stay the same for the table to be updated in place."""
        return {slug: a.as_json() for slug, a in self.attributes.items()}

    def rows(
        self, item: Mapping[str, Any], sequence: int, synced_at: dt.datetime
    ) -> tuple[dict[str, Any], dict[str, list[dict[str, Any]]]]:
        """A record or entry (the API's JSON) as its main row and its child rows by table."""
        ids = item["id"]
        if self.kind == "list":
            row: dict[str, Any] = {
                self.key: ids["entry_id"],
                "parent_object": item.get("parent_object"),
                "parent_record_id": item.get("parent_record_id"),
                "created_at": parse_instant(item.get("created_at")),
            }
            values = item.get("entry_values") or {}
        else:
            row = {
                self.key: ids["record_id"],
                "created_at": parse_instant(item.get("created_at")),
                "updated_at": parse_instant(item.get("updated_at")),
            }
            values = item.get("values") or {}
        key = row[self.key]
        children: dict[str, list[dict[str, Any]]] = {}
        for slug, kind, child, names, empty in self._plan():
            given = values.get(slug)
            if child is not None:
                rows = children[child] = []
                for position, value in enumerate(given or ()):
                    one = {self.key: key, "position": position, "_sequence": sequence}
                    one.update(zip(names, value_cells(kind, value), strict=True))
                    rows.append(one)
            elif given:
                row.update(zip(names, value_cells(kind, given[0]), strict=True))
            else:
                row.update(empty)
        row["_synced_at"], row["_sequence"] = synced_at, sequence
        return row, children


RESERVED = frozenset({"notes", "tasks"})


def table_name(kind: str, slug: str) -> str:
    """The table of an object (its slug) or a list (``list_<slug>``)."""
    if kind == "list":
        return f"list_{slug}"
    return f"object_{slug}" if slug in RESERVED or slug.startswith("list_") else slug


def layout_of(kind: str, slug: str, attributes: Iterable[Any]) -> TableLayout:
    """The table of one object or list from its attributes (the API's ``Attribute`` models;
    archived ones are left out)."""
    name = table_name(kind, slug)
    table = TableLayout(name, kind, slug, "entry_id" if kind == "list" else "record_id")
    for attribute in attributes:
        if attribute.is_archived:
            continue
        multi, attribute_slug = bool(attribute.is_multiselect), str(attribute.api_slug)
        table.attributes[attribute_slug] = AttributeLayout(
            attribute_slug, str(attribute.type_), multi, f"{name}__{attribute_slug}" if multi else None
        )
    return table


def child_columns(table: TableLayout, attribute: AttributeLayout) -> list[tuple[str, str]]:
    """The columns of an attribute's child table."""
    return [
        (table.key, TEXT),
        ("position", INTEGER),
        *(("value" + suffix, kind) for suffix, kind in attribute.columns),
        ("_sequence", BIGINT),
    ]


def note_columns() -> list[tuple[str, str]]:
    return [
        ("note_id", TEXT), ("parent_object", TEXT), ("parent_record_id", TEXT), ("title", TEXT),
        ("format", TEXT), ("content", TEXT), ("created_at", TIMESTAMP), *SYSTEM_COLUMNS,
    ]  # fmt: skip


def task_columns() -> list[tuple[str, str]]:
    return [
        ("task_id", TEXT), ("content", TEXT), ("deadline_at", TIMESTAMP), ("is_completed", BOOLEAN),
        ("linked_records", TEXT), ("assignees", TEXT), ("created_at", TIMESTAMP), *SYSTEM_COLUMNS,
    ]  # fmt: skip


def note_row(note: Mapping[str, Any], sequence: int, synced_at: dt.datetime) -> dict[str, Any]:
    parent = note.get("parent") or {}
    return {
        "note_id": note["id"]["note_id"],
        "parent_object": parent.get("object"),
        "parent_record_id": parent.get("record_id"),
        "title": note.get("title"),
        "format": note.get("format"),
        "content": note.get("content_plaintext"),
        "created_at": parse_instant(note.get("created_at")),
        "_synced_at": synced_at,
        "_sequence": sequence,
    }


def task_row(task: Mapping[str, Any], sequence: int, synced_at: dt.datetime) -> dict[str, Any]:
    return {
        "task_id": task["id"]["task_id"],
        "content": task.get("content_plaintext"),
        "deadline_at": parse_instant(task.get("deadline_at")),
        "is_completed": bool(task.get("is_completed")),
        "linked_records": json.dumps(task.get("linked_records") or [], sort_keys=True),
        "assignees": json.dumps(task.get("assignees") or [], sort_keys=True),
        "created_at": parse_instant(task.get("created_at")),
        "_synced_at": synced_at,
        "_sequence": sequence,
    }


def names_of(columns: Iterable[tuple[str, str]]) -> list[str]:
    return [name for name, _ in columns]


def layout_json(table: TableLayout) -> dict[str, Any]:
    return {
        "name": table.name,
        "kind": table.kind,
        "slug": table.slug,
        "key": table.key,
        "attributes": {slug: [a.type, a.multi, a.child] for slug, a in table.attributes.items()},
    }


def layout_from_json(data: Mapping[str, Any]) -> TableLayout:
    table = TableLayout(data["name"], data["kind"], data["slug"], data["key"])
    for slug, (kind, multi, child) in data["attributes"].items():
        table.attributes[slug] = AttributeLayout(slug, kind, bool(multi), child)
    return table


def now_utc() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
