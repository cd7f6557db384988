"""Cursor pagination over a table's ``seq`` column, newest first. Cursors are opaque."""

from __future__ import annotations

import base64
import sqlite3
from collections.abc import Callable
from typing import Any

from .errors import bad_request
from .store import Store


def encode(seq: int) -> str:
    return base64.urlsafe_b64encode(f"seq:{seq}".encode()).decode().rstrip("=")


def decode(cursor: str) -> int:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        kind, _, number = text.partition(":")
        if kind != "seq":
            raise ValueError
        return int(number)
    except (ValueError, UnicodeDecodeError):
        raise bad_request("invalid_cursor", f"Cursor {cursor!r} is not one this API gave out.") from None


def page(
    store: Store,
    table: str,
    where: str,
    params: list[Any],
    query: dict[str, Any],
    render: Callable[[sqlite3.Row], dict[str, Any]],
) -> dict[str, Any]:
    """One page: ``{"data": [...], "pagination": {"next_cursor": ...}}``."""
    limit = query["limit"]
    if query.get("cursor"):
        where, params = f"({where}) AND seq < ?", [*params, decode(query["cursor"])]
    rows = store.all(f"SELECT * FROM {table} WHERE {where} ORDER BY seq DESC LIMIT ?", [*params, limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    return {
        "data": [render(r) for r in rows],
        "pagination": {"next_cursor": encode(rows[-1]["seq"]) if more and rows else None},
    }
