"""Webhooks: subscriptions, their one-time secret, test deliveries and the deliveries log."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from overlay.migrations import TEST_ID_PREFIX

from .. import paging
from ..config import VERSIONS
from ..context import Ctx, Reply
from ..errors import APIError, bad_request
from ..store import dumps, new_id, now
from ..webhooks import new_secret, utc_after


def _webhook(ctx: Ctx, row: sqlite3.Row, *, secret: bool = False) -> dict[str, Any]:
    out = {
        "id": {"workspace_id": ctx.store.workspace_id, "webhook_id": row["id"]},
        "target_url": row["target_url"],
        "subscriptions": json.loads(row["subscriptions"]),
        "api_version": row["api_version"],
        "status": row["status"],
        "created_at": row["created_at"],
    }
    if secret:
        out["secret"] = row["secret"]
    return out


def _row(ctx: Ctx) -> sqlite3.Row:
    row = ctx.store.one("SELECT * FROM webhooks WHERE id = ?", (ctx.path["webhook_id"],))
    if row is None:
        raise APIError(404, "not_found", f"No webhook {ctx.path['webhook_id']!r}.")
    return row


def _subscriptions(data: list[dict[str, Any]]) -> str:
    return dumps([{"event_type": s["event_type"], "filter": s.get("filter")} for s in data])


def list_webhooks(ctx: Ctx) -> Reply:
    return 200, paging.page(ctx.store, "webhooks", "1", [], ctx.query, lambda r: _webhook(ctx, r))


def _api_version(version: str) -> str:
    """A webhook's version: one this API serves, since its deliveries take that version's shape."""
    if version not in VERSIONS:
        raise bad_request(
            "unsupported_version", f"api_version {version!r} is not one of {', '.join(VERSIONS)}."
        )
    return version


def create_webhook(ctx: Ctx) -> Reply:
    data, store = ctx.data, ctx.store
    webhook_id = new_id()
    store.db.execute(
        "INSERT INTO webhooks VALUES (?, ?, ?, ?, 'active', ?, ?, ?, NULL, NULL)",
        (
            webhook_id,
            data["target_url"],
            _subscriptions(data["subscriptions"]),
            _api_version(data.get("api_version", ctx.version)),
            new_secret(),
            now(),
            store.next_seq("webhooks"),
        ),
    )
    ctx.path["webhook_id"] = webhook_id
    return 201, {"data": _webhook(ctx, _row(ctx), secret=True)}


def get_webhook(ctx: Ctx) -> Reply:
    return 200, {"data": _webhook(ctx, _row(ctx))}


def update_webhook(ctx: Ctx) -> Reply:
    row, data = _row(ctx), ctx.data
    ctx.store.db.execute(
        "UPDATE webhooks SET target_url = ?, subscriptions = ?, api_version = ?, status = ? WHERE id = ?",
        (
            data.get("target_url", row["target_url"]),
            _subscriptions(data["subscriptions"]) if "subscriptions" in data else row["subscriptions"],
            _api_version(data.get("api_version", row["api_version"])),
            data.get("status", row["status"]),
            row["id"],
        ),
    )
    return 200, {"data": _webhook(ctx, _row(ctx))}


def delete_webhook(ctx: Ctx) -> Reply:
    row = _row(ctx)
    ctx.store.db.execute("DELETE FROM deliveries WHERE webhook_id = ? AND status = 'pending'", (row["id"],))
    ctx.store.db.execute("DELETE FROM webhooks WHERE id = ?", (row["id"],))
    return 204, None


def test_webhook(ctx: Ctx) -> Reply:
    """A synthetic ``record.created``: ``is_test`` true (left out at versions before
    2026-12-01), and ids that start with ``test_``, which name no object or record. It has
    the shape of a real event (a snapshot of an empty record) but no place in the feed."""
    row, ws = _row(ctx), ctx.store.workspace_id
    actor_type, actor_id = ctx.actor
    record_id = {
        "workspace_id": ws,
        "object_id": f"{TEST_ID_PREFIX}object",
        "record_id": f"{TEST_ID_PREFIX}{new_id().replace('-', '')}",
    }
    stamp = now()
    event = {
        "event_id": f"evt_{TEST_ID_PREFIX}{new_id().replace('-', '')}",
        "event_type": "record.created",
        "occurred_at": stamp,
        "id": record_id,
        "object": f"{TEST_ID_PREFIX}object",
        "record": {"id": record_id, "created_at": stamp, "updated_at": stamp, "values": {}},
        "actor": {"type": actor_type, "id": actor_id},
        "is_test": True,
    }
    delivery = ctx.deliveries.queue_message(row, [event])
    return 202, {"data": ctx.deliveries.render(delivery)}


def rotate_webhook_secret(ctx: Ctx) -> Reply:
    row = _row(ctx)
    overlap = ctx.data.get("overlap_seconds", 86400)
    expires = utc_after(overlap) if overlap else None
    secret = new_secret()
    ctx.store.db.execute(
        "UPDATE webhooks SET secret = ?, previous_secret = ?, previous_secret_expires_at = ? WHERE id = ?",
        (secret, row["secret"] if expires else None, expires, row["id"]),
    )
    data = {"id": _webhook(ctx, row)["id"], "secret": secret, "previous_secret_expires_at": expires}
    return 200, {"data": data}


def list_webhook_deliveries(ctx: Ctx) -> Reply:
    row = _row(ctx)
    return 200, paging.page(
        ctx.store,
        "deliveries",
        "webhook_id = ?",
        [row["id"]],
        ctx.query,
        ctx.deliveries.render,
    )
