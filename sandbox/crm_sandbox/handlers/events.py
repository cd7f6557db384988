"""The change feed: ``GET /v2/events``."""

from __future__ import annotations

from ..context import Ctx, Reply
from ..feed import WaitForEvents


def list_events(ctx: Ctx) -> Reply:
    """A page of the feed after the cursor; with ``wait``, an empty page waits first."""
    query, catalog, feed = ctx.query, ctx.catalog, ctx.feed
    after = feed.position(query.get("cursor"), query.get("start") or "earliest")
    object_id = catalog.object_row(query["object"])["id"] if query.get("object") else None
    list_id = catalog.list_row(query["list"])["id"] if query.get("list") else None
    limit = query.get("limit") or 100
    events, cursor, more = feed.page(after, limit, query.get("types"), object_id, list_id)
    wait = query.get("wait") or 0
    if not events and wait > 0:
        raise WaitForEvents(wait)
    return 200, {"data": events, "pagination": {"next_cursor": cursor, "has_more": more}}
