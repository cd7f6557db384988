"""Records: query, create, upsert, get, update, replace, delete, batch, value history, search."""

from __future__ import annotations

import json
from typing import Any

from ..context import Ctx, Reply
from ..errors import APIError
from ..records import Records
from ..store import dumps


def _records(ctx: Ctx) -> Records:
    return Records(ctx.store, ctx.catalog, ctx.path["object"])


def query_records(ctx: Ctx) -> Reply:
    return 200, {"data": _records(ctx).query(ctx.body or {})}


def count_records(ctx: Ctx) -> Reply:
    return 200, {"data": {"count": _records(ctx).count(ctx.body or {})}}


def create_record(ctx: Ctx) -> Reply:
    records = _records(ctx)
    record = records.create(ctx.data["values"], ctx.actor)
    _emit_write(ctx, records, record, "created", ctx.data["values"])
    return 201, {"data": record}


def upsert_record(ctx: Ctx) -> Reply:
    records = _records(ctx)
    record, status = records.upsert(ctx.query["matching_attribute"], ctx.data["values"], ctx.actor)
    _emit_write(ctx, records, record, status, ctx.data["values"])
    return 200, {"data": record}


def _emit_write(
    ctx: Ctx, records: Records, record: dict[str, Any], status: str, values: dict[str, Any]
) -> None:
    """The event of a write, with the record it left: ``created``, ``updated`` (naming the
    attributes written), or none for ``unchanged``."""
    if status == "unchanged":
        return
    slug = records.object["api_slug"]
    if status == "created":
        ctx.emit("record.created", id=record["id"], object=slug, record=record)
        return
    changed = [records.values.attribute(s) for s in values]
    if not changed:
        return
    ctx.emit(
        "record.updated",
        id=record["id"],
        object=slug,
        attribute_id=changed[0]["id"],
        changed_attributes=[{"attribute_id": a["id"], "api_slug": a["api_slug"]} for a in changed],
        record=record,
    )


def get_record(ctx: Ctx) -> Reply:
    return 200, {"data": _records(ctx).get(ctx.path["record_id"])}


def _update(ctx: Ctx, mode: str) -> Reply:
    records = _records(ctx)
    record = records.update(ctx.path["record_id"], ctx.data["values"], mode, ctx.actor)
    _emit_write(ctx, records, record, "updated", ctx.data["values"])
    return 200, {"data": record}


def update_record(ctx: Ctx) -> Reply:
    return _update(ctx, "append")


def replace_record(ctx: Ctx) -> Reply:
    return _update(ctx, "replace")


def delete_record(ctx: Ctx) -> Reply:
    records = _records(ctx)
    record = records.get(ctx.path["record_id"])
    for entry in records.delete(ctx.path["record_id"]):
        ctx.emit(
            "list-entry.deleted",
            id={
                "workspace_id": ctx.store.workspace_id,
                "list_id": entry["list_id"],
                "entry_id": entry["id"],
            },
            list=ctx.catalog.list_row(entry["list_id"])["api_slug"],
            parent_object_id=records.object["id"],
            parent_record_id=ctx.path["record_id"],
        )
    ctx.emit("record.deleted", id=record["id"], object=records.object["api_slug"])
    return 204, None


def list_record_attribute_values(ctx: Ctx) -> Reply:
    records = _records(ctx)
    records.get(ctx.path["record_id"])
    history = records.values.history(ctx.path["record_id"], ctx.path["attribute"], ctx.query["show_historic"])
    return 200, {"data": history}


def batch_records(ctx: Ctx) -> Reply:
    """Each item in its own savepoint: one item's failure never undoes another's success."""
    records = _records(ctx)
    db, idempotency = ctx.store.db, ctx.idempotency
    results = []
    for index, item in enumerate(ctx.data["items"]):
        key = item.get("idempotency_key")
        fingerprint = idempotency.fingerprint("batch", records.object["id"], item) if key else ""
        try:
            stored = idempotency.replay(ctx.token, f"batch:{key}", fingerprint) if key else None
        except APIError as exc:
            results.append(_failed(index, exc))
            continue
        if stored is not None:
            results.append({**json.loads(stored[1]), "index": index, "replayed": True})
            continue
        db.execute("SAVEPOINT item")
        try:
            if item["operation"] == "upsert":
                if not item.get("matching_attribute"):
                    raise APIError(
                        400,
                        "missing_matching_attribute",
                        "An upsert item needs matching_attribute.",
                    )
                record, status = records.upsert(item["matching_attribute"], item["values"], ctx.actor)
            else:
                record, status = records.create(item["values"], ctx.actor), "created"
            _emit_write(ctx, records, record, status, item["values"])
            result = {
                "index": index,
                "status": status,
                "record": record,
                "error": None,
                "replayed": False,
            }
            db.execute("RELEASE item")
        except APIError as exc:
            db.execute("ROLLBACK TO item")
            db.execute("RELEASE item")
            result = _failed(index, exc)
        if key and result["status"] != "failed":
            idempotency.save(ctx.token, f"batch:{key}", fingerprint, 200, dumps(result).encode())
        results.append(result)
    return 200, {"data": {"results": results}}


def _failed(index: int, exc: APIError) -> dict[str, Any]:
    return {"index": index, "status": "failed", "record": None, "error": exc.body(), "replayed": False}


def search_records(ctx: Ctx) -> Reply:
    store, catalog = ctx.store, ctx.catalog
    query = ctx.body["query"].lower()
    objects = ctx.body.get("objects") or [r["api_slug"] for r in store.all("SELECT api_slug FROM objects")]
    object_ids = {catalog.object_row(slug)["id"]: slug for slug in objects}
    placeholders = ",".join("?" * len(object_ids))
    rows = store.all(
        "SELECT k.owner_id, r.object_id, MIN(CASE WHEN k.lk = ? THEN 0 WHEN k.lk LIKE ? ESCAPE '\\' THEN 1 "
        "ELSE 2 END) AS rank FROM keys k JOIN records r ON r.id = k.owner_id JOIN attributes a ON "
        "a.id = k.attribute_id WHERE r.object_id IN (" + placeholders + ") AND k.lk LIKE ? ESCAPE '\\' "
        "AND a.type IN ('text', 'personal-name', 'email-address', 'domain') GROUP BY k.owner_id "
        "ORDER BY rank, r.created_at LIMIT ?",
        [
            query,
            _like(query) + "%",
            *object_ids,
            "%" + _like(query) + "%",
            ctx.body.get("limit", 25),
        ],
    )
    results = []
    by_object: dict[str, Records] = {}
    for row in rows:
        if row["object_id"] not in by_object:
            by_object[row["object_id"]] = Records(store, catalog, row["object_id"])
        record = by_object[row["object_id"]].get(row["owner_id"])
        results.append(
            {
                "id": record["id"],
                "object": object_ids[row["object_id"]],
                "record_text": _record_text(record),
                "score": round(1.0 / (1 + row["rank"]), 3),
            }
        )
    return 200, {"data": results}


def _like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _record_text(record: dict[str, Any]) -> str:
    for slug in ("name", "full_name"):
        for value in record["values"].get(slug, []):
            return str(value.get("full_name") or value.get("value") or "")
    for values in record["values"].values():
        for value in values:
            for field in ("value", "email_address", "domain"):
                if isinstance(value.get(field), str):
                    return str(value[field])
    return str(record["id"]["record_id"])
