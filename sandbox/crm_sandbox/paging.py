"""Pagination over a table's ``seq`` column, newest first: by cursor, or by offset in the
versions before 2026-04-01 (their list operations take ``offset``)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any

from overlay.migrations.cursors import cursor_of, offset_of

from .errors import bad_request
from .store import Store

MAX_SEQ = 2**62  # a cursor past every row; SQLite integers are 64-bit
MAX_OFFSET = 2**31 - 1  # the spec's maximum for ``offset`` in query bodies


def window(body: dict[str, Any], default_limit: int) -> tuple[int, int]:
    """``(limit, offset)`` of a query body as SQLite integers: a whole float (``5.0``, which the
    spec's ``integer`` admits) is read as an int; an offset past ``MAX_OFFSET`` is a 400."""
    limit, offset = body.get("limit", default_limit), body.get("offset", 0)
    if isinstance(limit, float) and limit.is_integer():
        limit = int(limit)
    if isinstance(offset, float) and offset.is_integer() and abs(offset) <= 2**63:
        offset = int(offset)
    if isinstance(offset, bool) or not isinstance(offset, int) or not 0 <= offset <= MAX_OFFSET:
        raise bad_request(
            "invalid_request",
            f"Invalid request body at body.offset: {offset!r} is not a whole number from 0 to {MAX_OFFSET}.",
        )
    return limit, offset


def encode(seq: int) -> str:
    """A position as a cursor, in the API's cursor codec (``overlay.migrations.cursors``, which
    the client uses for the offsets of older versions): every cursor the spec's pattern admits
    is a position."""
    return cursor_of(seq)


def decode(cursor: str) -> int:
    try:
        return min(offset_of(cursor), MAX_SEQ)
    except ValueError:
        raise bad_request("invalid_cursor", f"Cursor {cursor!r} is not one this API gave out.") from None


def page(
    store: Store,
    table: str,
    where: str,
    params: list[Any],
    query: dict[str, Any],
    render: Callable[[sqlite3.Row], dict[str, Any]],
) -> dict[str, Any]:
    """One page: ``{"data": [...], "pagination": {"next_cursor": ...}}``, or with
    ``{"offset", "limit", "has_more"}`` when the query pages by offset."""
    limit = query["limit"]
    if "offset" in query:
        offset = query["offset"]
        rows = store.all(
            f"SELECT * FROM {table} WHERE {where} ORDER BY seq DESC LIMIT ? OFFSET ?",
            [*params, limit + 1, offset],
        )
        return {
            "data": [render(r) for r in rows[:limit]],
            "pagination": {"offset": offset, "limit": limit, "has_more": len(rows) > limit},
        }
    if query.get("cursor"):
        where, params = f"({where}) AND seq < ?", [*params, decode(query["cursor"])]
    rows = store.all(f"SELECT * FROM {table} WHERE {where} ORDER BY seq DESC LIMIT ?", [*params, limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    return {
        "data": [render(r) for r in rows],
        "pagination": {"next_cursor": encode(rows[-1]["seq"]) if more and rows else None},
    }
