"""Lists and their entries. An entry's values belong to the list's own attributes."""

from __future__ import annotations

import sqlite3
from typing import Any

from .. import paging
from ..context import Ctx, Reply
from ..errors import APIError, bad_request
from ..records import Values
from ..store import new_id, now


def list_lists(ctx: Ctx) -> Reply:
    catalog = ctx.catalog
    rows = ctx.store.all("SELECT * FROM lists ORDER BY created_at, api_slug")
    return 200, {"data": [catalog.render_list(r) for r in rows]}


def create_list(ctx: Ctx) -> Reply:
    made = ctx.catalog.create_list(ctx.data)
    ctx.emit_schema("list.created", made, list=made["api_slug"])
    return 201, {"data": made}


def get_list(ctx: Ctx) -> Reply:
    catalog = ctx.catalog
    return 200, {"data": catalog.render_list(catalog.list_row(ctx.path["list"]))}


def update_list(ctx: Ctx) -> Reply:
    changed = ctx.catalog.update_list(ctx.path["list"], ctx.data)
    ctx.emit_schema("list.updated", changed, list=changed["api_slug"])
    return 200, {"data": changed}


class Entries:
    def __init__(self, ctx: Ctx) -> None:
        self.ctx = ctx
        self.store, self.catalog = ctx.store, ctx.catalog
        self.list = self.catalog.list_row(ctx.path["list"])
        self.values = Values(self.store, self.catalog, self.list["id"], self.list["api_slug"])

    def row(self, entry_id: str) -> sqlite3.Row:
        row = self.store.one(
            "SELECT * FROM entries WHERE id = ? AND list_id = ?", (entry_id, self.list["id"])
        )
        if row is None:
            raise APIError(404, "not_found", f"No entry {entry_id!r} in list {self.list['api_slug']!r}.")
        return row

    def render(self, rows: list[sqlite3.Row]) -> list[dict[str, Any]]:
        values = self.values.read([r["id"] for r in rows])
        ws = self.store.workspace_id
        return [
            {
                "id": {"workspace_id": ws, "list_id": self.list["id"], "entry_id": r["id"]},
                "parent_object": r["parent_object"],
                "parent_record_id": r["parent_record_id"],
                "created_at": r["created_at"],
                "entry_values": values[r["id"]],
            }
            for r in rows
        ]

    def parent(self, data: dict[str, Any]) -> tuple[str, str]:
        """The (object slug, record id) an entry points at, checked against the list's objects."""
        object_row = self.catalog.object_row(data["parent_object"])
        allowed = self.catalog.render_list(self.list)["parent_objects"]
        if object_row["api_slug"] not in allowed:
            raise bad_request(
                "object_not_in_list",
                f"List {self.list['api_slug']!r} holds records of "
                f"{', '.join(allowed)}, not {object_row['api_slug']!r}.",
            )
        if not self.catalog.record_exists(object_row["id"], data["parent_record_id"]):
            raise APIError(
                404,
                "not_found",
                f"No {object_row['api_slug']} record {data['parent_record_id']!r}.",
            )
        return object_row["api_slug"], data["parent_record_id"]

    def event(self, kind: str, row: sqlite3.Row, **extra: Any) -> None:
        """Emit ``list-entry.{kind}``; created and updated carry the entry as it is now."""
        object_id = self.catalog.object_row(row["parent_object"])["id"]
        if kind != "deleted":
            extra["entry"] = self.render([self.row(row["id"])])[0]
        self.ctx.emit(
            f"list-entry.{kind}",
            id={
                "workspace_id": self.store.workspace_id,
                "list_id": self.list["id"],
                "entry_id": row["id"],
            },
            list=self.list["api_slug"],
            parent_object_id=object_id,
            parent_record_id=row["parent_record_id"],
            **extra,
        )

    def create(self, data: dict[str, Any]) -> sqlite3.Row:
        parent_object, record_id = self.parent(data)
        coerced = self.values.coerce(data.get("entry_values") or {})
        entry_id, stamp = new_id(), now()
        self.store.db.execute(
            "INSERT INTO entries VALUES (?, ?, ?, ?, ?, ?)",
            (entry_id, self.list["id"], parent_object, record_id, stamp, stamp),
        )
        self.values.write(entry_id, coerced, "replace", self.ctx.actor, new=True)
        row = self.row(entry_id)
        self.event("created", row)
        return row

    def update(self, row: sqlite3.Row, values: dict[str, Any], mode: str) -> sqlite3.Row:
        self.values.write(row["id"], self.values.coerce(values), mode, self.ctx.actor)
        self.store.db.execute("UPDATE entries SET updated_at = ? WHERE id = ?", (now(), row["id"]))
        changed = [self.values.attribute(slug) for slug in values]
        if changed:
            self.event(
                "updated",
                row,
                attribute_id=changed[0]["id"],
                changed_attributes=[{"attribute_id": a["id"], "api_slug": a["api_slug"]} for a in changed],
            )
        return self.row(row["id"])


def query_entries(ctx: Ctx) -> Reply:
    entries, body = Entries(ctx), ctx.body or {}

    compiler = ctx.catalog.compiler()
    where, params = compiler.compile(entries.list["id"], body.get("filter") or {}, alias="e")
    order, order_params = compiler.order_by(entries.list["id"], body.get("sorts"), alias="e")
    rows = ctx.store.all(
        f"SELECT e.* FROM entries e WHERE e.list_id = ? AND {where} ORDER BY {order} LIMIT ? OFFSET ?",
        [entries.list["id"], *params, *order_params, *paging.window(body, 500)],
    )
    return 200, {"data": entries.render(rows)}


def count_entries(ctx: Ctx) -> Reply:
    entries, body = Entries(ctx), ctx.body or {}
    where, params = ctx.catalog.compiler().compile(entries.list["id"], body.get("filter") or {}, alias="e")
    found = ctx.store.one(
        f"SELECT COUNT(*) AS n FROM entries e WHERE e.list_id = ? AND {where}", [entries.list["id"], *params]
    )
    return 200, {"data": {"count": found["n"] if found else 0}}


def create_entry(ctx: Ctx) -> Reply:
    entries = Entries(ctx)
    return 201, {"data": entries.render([entries.create(ctx.data)])[0]}


def upsert_entry(ctx: Ctx) -> Reply:
    entries = Entries(ctx)
    _, record_id = entries.parent(ctx.data)
    row = ctx.store.one(
        "SELECT * FROM entries WHERE list_id = ? AND parent_record_id = ? ORDER BY created_at LIMIT 1",
        (entries.list["id"], record_id),
    )
    if row is None:
        return 200, {"data": entries.render([entries.create(ctx.data)])[0]}
    row = entries.update(row, ctx.data.get("entry_values") or {}, "replace")
    return 200, {"data": entries.render([row])[0]}


def get_entry(ctx: Ctx) -> Reply:
    entries = Entries(ctx)
    return 200, {"data": entries.render([entries.row(ctx.path["entry_id"])])[0]}


def update_entry(ctx: Ctx) -> Reply:
    entries = Entries(ctx)
    row = entries.update(entries.row(ctx.path["entry_id"]), ctx.data["entry_values"], "append")
    return 200, {"data": entries.render([row])[0]}


def delete_entry(ctx: Ctx) -> Reply:
    entries = Entries(ctx)
    row = entries.row(ctx.path["entry_id"])
    entries.values.clear(row["id"])
    ctx.store.db.execute("DELETE FROM entries WHERE id = ?", (row["id"],))
    entries.event("deleted", row)
    return 204, None
