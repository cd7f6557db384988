"""Notes and tasks."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from .. import paging
from ..context import Ctx, Reply
from ..errors import APIError, bad_request
from ..store import dumps, new_id, now
from ..values import parse_timestamp


def _record_ref(ctx: Ctx, ref: dict[str, Any], where: str) -> tuple[str, str]:
    """(object slug, record id) of an existing record; 404 naming ``where`` otherwise."""
    catalog = ctx.catalog
    object_row = catalog.object_row(ref["object"])
    if not catalog.record_exists(object_row["id"], ref["record_id"]):
        raise APIError(404, "not_found", f"{where}: no {object_row['api_slug']} record {ref['record_id']!r}.")
    return object_row["api_slug"], ref["record_id"]


def _note(ctx: Ctx, row: sqlite3.Row) -> dict[str, Any]:
    return {
        "id": {"workspace_id": ctx.store.workspace_id, "note_id": row["id"]},
        "parent": {"object": row["parent_object"], "record_id": row["parent_record_id"]},
        "title": row["title"],
        "format": row["format"],
        "content_plaintext": row["content"],
        "created_by_actor": {"type": row["actor_type"], "id": row["actor_id"]},
        "created_at": row["created_at"],
    }


def _note_row(ctx: Ctx) -> sqlite3.Row:
    row = ctx.store.one("SELECT * FROM notes WHERE id = ?", (ctx.path["note_id"],))
    if row is None:
        raise APIError(404, "not_found", f"No note {ctx.path['note_id']!r}.")
    return row


def _note_event(ctx: Ctx, kind: str, row: sqlite3.Row) -> None:
    """Emit ``note.{kind}``; a created note carries itself."""
    object_id = ctx.catalog.object_row(row["parent_object"])["id"]
    ctx.emit(
        f"note.{kind}",
        id={"workspace_id": ctx.store.workspace_id, "note_id": row["id"]},
        parent_object_id=object_id,
        parent_record_id=row["parent_record_id"],
        **({"note": _note(ctx, row)} if kind == "created" else {}),
    )


def list_notes(ctx: Ctx) -> Reply:
    clauses, params = ["1"], []
    if ctx.query.get("parent_object"):
        clauses.append("parent_object = ?")
        params.append(ctx.catalog.object_row(ctx.query["parent_object"])["api_slug"])
    if ctx.query.get("parent_record_id"):
        clauses.append("parent_record_id = ?")
        params.append(ctx.query["parent_record_id"])
    where = " AND ".join(clauses)
    return 200, paging.page(ctx.store, "notes", where, params, ctx.query, lambda r: _note(ctx, r))


def create_note(ctx: Ctx) -> Reply:
    data, store = ctx.data, ctx.store
    parent_object, record_id = _record_ref(ctx, data["parent"], "parent")
    note_id = new_id()
    store.db.execute(
        "INSERT INTO notes VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            note_id,
            parent_object,
            record_id,
            data["title"],
            data.get("format", "plaintext"),
            data["content"],
            *ctx.actor,
            now(),
            store.next_seq("notes"),
        ),
    )
    ctx.path["note_id"] = note_id
    row = _note_row(ctx)
    _note_event(ctx, "created", row)
    return 201, {"data": _note(ctx, row)}


def get_note(ctx: Ctx) -> Reply:
    return 200, {"data": _note(ctx, _note_row(ctx))}


def delete_note(ctx: Ctx) -> Reply:
    row = _note_row(ctx)
    ctx.store.db.execute("DELETE FROM notes WHERE id = ?", (row["id"],))
    _note_event(ctx, "deleted", row)
    return 204, None


def _task(ctx: Ctx, row: sqlite3.Row) -> dict[str, Any]:
    return {
        "id": {"workspace_id": ctx.store.workspace_id, "task_id": row["id"]},
        "content_plaintext": row["content"],
        "deadline_at": row["deadline_at"],
        "is_completed": bool(row["is_completed"]),
        "linked_records": json.loads(row["linked_records"]),
        "assignees": [{"type": "workspace-member", "id": a} for a in json.loads(row["assignees"])],
        "created_by_actor": {"type": row["actor_type"], "id": row["actor_id"]},
        "created_at": row["created_at"],
    }


def _task_row(ctx: Ctx) -> sqlite3.Row:
    row = ctx.store.one("SELECT * FROM tasks WHERE id = ?", (ctx.path["task_id"],))
    if row is None:
        raise APIError(404, "not_found", f"No task {ctx.path['task_id']!r}.")
    return row


def _deadline(value: Any) -> str | None:
    if value is None:
        return None
    parsed = parse_timestamp(value)
    if parsed is None:
        raise bad_request(
            "invalid_value",
            f"deadline_at must be an ISO 8601 timestamp with offset, got {value!r}.",
        )
    return parsed.isoformat(timespec="microseconds")


def _links(ctx: Ctx, refs: list[dict[str, Any]]) -> str:
    links = []
    for i, ref in enumerate(refs):
        slug, record_id = _record_ref(ctx, ref, f"linked_records[{i}]")
        links.append({"object": slug, "record_id": record_id})
    return dumps(links)


def _task_event(ctx: Ctx, kind: str, task_id: str) -> None:
    """Emit ``task.{kind}``; created and updated carry the task as it is now."""
    snapshot = {"task": _task(ctx, _task_row(ctx))} if kind != "deleted" else {}
    ctx.emit(f"task.{kind}", id={"workspace_id": ctx.store.workspace_id, "task_id": task_id}, **snapshot)


def list_tasks(ctx: Ctx) -> Reply:
    clauses, params = ["1"], []
    if ctx.query.get("is_completed") is not None:
        clauses.append("is_completed = ?")
        params.append(int(ctx.query["is_completed"]))
    for param, field in (("linked_object", "object"), ("linked_record_id", "record_id")):
        if ctx.query.get(param):
            value = ctx.query[param]
            if param == "linked_object":
                value = ctx.catalog.object_row(value)["api_slug"]
            clauses.append(
                f"EXISTS (SELECT 1 FROM json_each(linked_records) WHERE json_extract(value, '$.{field}') = ?)"
            )
            params.append(value)
    return 200, paging.page(
        ctx.store,
        "tasks",
        " AND ".join(clauses),
        params,
        ctx.query,
        lambda r: _task(ctx, r),
    )


def create_task(ctx: Ctx) -> Reply:
    data, store = ctx.data, ctx.store
    task_id = new_id()
    store.db.execute(
        "INSERT INTO tasks VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            task_id,
            data["content"],
            _deadline(data.get("deadline_at")),
            int(data.get("is_completed", False)),
            _links(ctx, data.get("linked_records", [])),
            dumps(data.get("assignees", [])),
            *ctx.actor,
            now(),
            store.next_seq("tasks"),
        ),
    )
    ctx.path["task_id"] = task_id
    _task_event(ctx, "created", task_id)
    return 201, {"data": _task(ctx, _task_row(ctx))}


def get_task(ctx: Ctx) -> Reply:
    return 200, {"data": _task(ctx, _task_row(ctx))}


def update_task(ctx: Ctx) -> Reply:
    row, data = _task_row(ctx), ctx.data
    ctx.store.db.execute(
        "UPDATE tasks SET content = ?, deadline_at = ?, is_completed = ?, linked_records = ?, assignees = ? "
        "WHERE id = ?",
        (
            data.get("content", row["content"]),
            _deadline(data["deadline_at"]) if "deadline_at" in data else row["deadline_at"],
            int(data.get("is_completed", row["is_completed"])),
            _links(ctx, data["linked_records"]) if "linked_records" in data else row["linked_records"],
            dumps(data["assignees"]) if "assignees" in data else row["assignees"],
            row["id"],
        ),
    )
    _task_event(ctx, "updated", row["id"])
    return 200, {"data": _task(ctx, _task_row(ctx))}


def delete_task(ctx: Ctx) -> Reply:
    row = _task_row(ctx)
    ctx.store.db.execute("DELETE FROM tasks WHERE id = ?", (row["id"],))
    _task_event(ctx, "deleted", row["id"])
    return 204, None
