"""``client.events``: the change feed (API version 2026-12-01 and later)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from crm_client import models, operations  # models: a lazy package

from ..._errors import InvalidArgumentError, ResponseParseError
from ..._paging import Page, Token
from ..._response import NOT_GIVEN, RawResponse, decode_object
from ..pagination import AsyncPaginator
from ._base import _AsyncResource, _given

if TYPE_CHECKING:
    import httpx

FEED_PAGE = 1000  # the most events one read returns
LONGEST_WAIT = 30  # seconds the API holds a long poll
STARTS = ("earliest", "latest")


@dataclass(frozen=True)
class EventBatch:
    """What one read of the feed gave: its events (the API's JSON, oldest first), the cursor
    to store with what you made of them, and whether more events already follow it."""

    events: list[dict[str, Any]]
    cursor: str
    has_more: bool
    request_id: str | None = None
    response: httpx.Response | None = None


def list_of(events: Any) -> list[dict[str, Any]]:
    if not isinstance(events, list) or not all(isinstance(e, dict) for e in events):
        raise TypeError("data is not a list of event objects")
    return events


def _types(types: str | Sequence[str] | None) -> str | None:
    if types is None or types is NOT_GIVEN:
        return None
    joined = types if isinstance(types, str) else ",".join(types)
    if not joined or not all(
        isinstance(t, str) and t for t in ([types] if isinstance(types, str) else types)
    ):
        raise InvalidArgumentError(
            f"types is an event type, a family like 'record.*', or a list of them; got {types!r}."
        )
    return joined


def _whole(name: str, value: Any, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidArgumentError(f"{name} takes a whole number from {low} to {high}, got {value!r}.")
    return value


class AsyncEvents(_AsyncResource):
    """``client.events``: every change in the workspace, in commit order.

    ``read()`` gives one batch and the cursor after it; ``list()`` pages to the feed's head;
    ``follow()`` long-polls for ever. Events are the API's JSON: each has ``event_type``,
    ``sequence``, ``occurred_at`` and, for records, entries, notes and tasks, a snapshot of
    what the change left (deletes carry only the id).
    """

    async def read(
        self,
        *,
        cursor: str | None = None,
        start: str = "earliest",
        limit: int = FEED_PAGE,
        types: str | Sequence[str] | None = None,
        object: str | None = None,
        list: str | None = None,
        wait: int = 0,
    ) -> EventBatch:
        """One read after ``cursor`` (or from ``start``: ``"earliest"`` kept, or ``"latest"``).
        With ``wait`` (seconds, up to 30) an empty read holds on until an event commits.
        A cursor past the feed's retention raises ``CursorExpiredError``."""
        if start not in STARTS:
            raise InvalidArgumentError(f"start is 'earliest' or 'latest', got {start!r}.")
        response = await self._client.send(
            operations.LIST_EVENTS,
            cursor=_given(cursor),
            start=models.ListEventsStart(start),
            limit=_whole("limit", limit, 1, FEED_PAGE),
            types=_given(_types(types)),
            object_=_given(object),
            list_=_given(list),
            wait=_whole("wait", wait, 0, LONGEST_WAIT) or _given(None),
        )
        body = decode_object(operations.LIST_EVENTS, response)
        request_id = response.headers.get("x-request-id")
        try:
            events, pagination = body["data"], body["pagination"]
            return EventBatch(
                list_of(events),
                str(pagination["next_cursor"]),
                bool(pagination["has_more"]),
                request_id,
                response,
            )
        except (KeyError, TypeError) as exc:
            raise ResponseParseError.from_exception("list_events", exc, request_id=request_id) from exc

    async def head(self) -> str:
        """The cursor of the feed's newest event: follow from here to see only what comes next."""
        return (await self.read(start="latest", limit=1)).cursor

    def list(
        self,
        *,
        cursor: str | None = None,
        start: str = "earliest",
        types: str | Sequence[str] | None = None,
        object: str | None = None,
        list: str | None = None,
        page_size: int = FEED_PAGE,
        max_items: int | None = None,
    ) -> AsyncPaginator[dict[str, Any]]:
        """Every event after ``cursor`` (or from ``start``) up to the feed's head, then stop."""

        async def fetch(token: Token, want: int | None) -> Page[dict[str, Any]]:
            limit = min(page_size, want) if want else page_size
            after = str(token) if token is not None else cursor
            batch = await self.read(
                cursor=after, start=start, limit=limit, types=types, object=object, list=list
            )
            assert batch.response is not None
            return Page(
                batch.events,
                batch.cursor if batch.has_more else None,
                RawResponse(batch.response, lambda: batch.events),
            )

        return AsyncPaginator(fetch, max_items=max_items)

    async def follow(
        self,
        *,
        cursor: str | None = None,
        start: str = "latest",
        types: str | Sequence[str] | None = None,
        object: str | None = None,
        list: str | None = None,
        wait: int = LONGEST_WAIT,
    ) -> AsyncIterator[EventBatch]:
        """Batch after batch, for ever: each read long-polls up to ``wait`` seconds, and an
        empty batch (nothing happened) is yielded too, so a loop can stop between reads.
        Store each batch's ``cursor`` with what you made of it, and resume from it."""
        while True:
            batch = await self.read(
                cursor=cursor, start=start, types=types, object=object, list=list, wait=wait
            )
            cursor = batch.cursor
            yield batch
