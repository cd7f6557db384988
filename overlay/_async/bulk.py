"""``client.bulk``: create, upsert, update and delete many records, exactly once per run, with progress.

Creates and upserts go through the batch endpoint (batches sized by count and bytes);
updates and deletes are single calls. Every item carries an idempotency key derived from
the run's id and its stable key, so a batch sent again after a lost response applies
nothing twice, while a new run applies its items again. A journal file keeps the run's id
and what it applied, so a killed run resumes as the same run. Items that cannot be applied
end up in the report; the others still go through.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from .._bulk_core.keys import KeyFn, content_key, key_of
from .._bulk_core.report import BulkReport, Progress
from .._bulk_core.run import CONCURRENCY, MAX_BATCH_BYTES, MAX_BATCH_ITEMS, BulkOptions
from .._errors import InvalidArgumentError
from .._ids import path_id
from ..io._keywords import checked_keywords
from .bulk_send import AsyncBulkClient, Items, send_batched, send_singles


class AsyncBulk:
    """``client.bulk``: many writes at the server's pace, each applied once."""

    def __init__(self, client: AsyncBulkClient) -> None:
        self._client = client

    @checked_keywords
    async def create(
        self,
        object: str,
        items: Items,
        *,
        key: str | KeyFn | None = None,
        journal: str | os.PathLike[str] | None = None,
        progress: Progress | bool | None = None,
        total: int | None = None,
        raise_on_error: bool = False,
        error_file: str | os.PathLike[str] | None = None,
        batch_size: int = MAX_BATCH_ITEMS,
        max_batch_bytes: int = MAX_BATCH_BYTES,
        dry_run: bool = False,
        concurrency: int = 2,
    ) -> BulkReport:
        """Create a record from each item (a mapping of attribute slug to value).

        ``key`` names the attribute (or gives a function) that identifies an item within
        the run and its resumes, and in its ``ItemError``; by default, its content.
        ``journal`` is a file that keeps the run's id and what it applied: started again
        with it, the run resumes and skips those. Without it, calling again is a new run
        and creates again (to write the same items again without duplicates, ``upsert``).
        ``dry_run`` checks the items against the object's attributes and options and writes
        nothing. ``concurrency`` batches are in flight at once (the next one is built while
        the last one is on the wire).
        """
        options = BulkOptions(
            key=key,
            journal=journal,
            progress=progress,
            total=total,
            raise_on_error=raise_on_error,
            error_file=error_file,
            batch_size=batch_size,
            max_batch_bytes=max_batch_bytes,
            dry_run=dry_run,
            concurrency=concurrency,
        )
        return await send_batched(self._client, "create", object, items, options)

    @checked_keywords
    async def upsert(
        self,
        object: str,
        items: Items,
        *,
        matching_attribute: str,
        key: str | KeyFn | None = None,
        journal: str | os.PathLike[str] | None = None,
        progress: Progress | bool | None = None,
        total: int | None = None,
        raise_on_error: bool = False,
        error_file: str | os.PathLike[str] | None = None,
        batch_size: int = MAX_BATCH_ITEMS,
        max_batch_bytes: int = MAX_BATCH_BYTES,
        dry_run: bool = False,
        concurrency: int = 1,
    ) -> BulkReport:
        """Create or update (matching on ``matching_attribute``) a record from each item.

        Batches go one at a time, so items sharing a matching value apply in input order;
        ``concurrency=2`` overlaps building a batch with sending the last one, for input
        whose matching values are unique (``import_file`` drops repeats, and does so).
        """
        options = BulkOptions(
            key=key or matching_attribute,
            journal=journal,
            progress=progress,
            total=total,
            raise_on_error=raise_on_error,
            error_file=error_file,
            batch_size=batch_size,
            max_batch_bytes=max_batch_bytes,
            dry_run=dry_run,
            concurrency=concurrency,
        )
        return await send_batched(self._client, "upsert", object, items, options, matching_attribute)

    @checked_keywords
    async def update(
        self,
        object: str,
        items: Items,
        *,
        journal: str | os.PathLike[str] | None = None,
        progress: Progress | bool | None = None,
        total: int | None = None,
        raise_on_error: bool = False,
        error_file: str | os.PathLike[str] | None = None,
        concurrency: int = CONCURRENCY,
    ) -> BulkReport:
        """Apply ``{"record_id": ..., "values": {...}}`` items (multiselect values are added)."""

        def key(item: Any) -> str:
            if (
                not isinstance(item, Mapping)
                or not item.get("record_id")
                or not isinstance(item.get("values"), Mapping)
            ):
                raise InvalidArgumentError(
                    f"an update item is {{'record_id': ..., 'values': {{...}}}}, got {item!r}"
                )
            return f"{item['record_id']}:{content_key(item['values'])}"

        async def send(client: AsyncBulkClient, item: Any, idempotency: str) -> None:
            await client.records(object).update(
                str(item["record_id"]), item["values"], idempotency_key=idempotency
            )

        options = BulkOptions(
            journal=journal,
            progress=progress,
            total=total,
            raise_on_error=raise_on_error,
            error_file=error_file,
            concurrency=concurrency,
        )
        return await send_singles(self._client, "update", object, items, key, send, options)

    @checked_keywords
    async def delete(
        self,
        object: str,
        record_ids: Items,
        *,
        journal: str | os.PathLike[str] | None = None,
        progress: Progress | bool | None = None,
        total: int | None = None,
        raise_on_error: bool = False,
        error_file: str | os.PathLike[str] | None = None,
        concurrency: int = CONCURRENCY,
    ) -> BulkReport:
        """Delete each record; one already gone counts as deleted."""

        async def send(client: AsyncBulkClient, record_id: Any, idempotency: str) -> None:
            await client.records(object).delete(record_id, idempotency_key=idempotency)

        def record_key(record_id: Any) -> str:  # a number or None fails as an item, never sent
            return path_id(record_id, "record_id")

        options = BulkOptions(
            journal=journal,
            progress=progress,
            total=total,
            raise_on_error=raise_on_error,
            error_file=error_file,
            concurrency=concurrency,
        )
        return await send_singles(
            self._client, "delete", object, record_ids, record_key, send, options, (404,)
        )

    @checked_keywords
    async def create_notes(
        self,
        items: Items,
        *,
        key: str | KeyFn | None = None,
        journal: str | os.PathLike[str] | None = None,
        progress: Progress | bool | None = None,
        total: int | None = None,
        raise_on_error: bool = False,
        error_file: str | os.PathLike[str] | None = None,
        concurrency: int = CONCURRENCY,
    ) -> BulkReport:
        """Create a note from each item (the keyword arguments of ``client.notes.create``);
        the options are ``create``'s."""

        async def send(client: AsyncBulkClient, item: Any, idempotency: str) -> None:
            await client.notes.create(**item, idempotency_key=idempotency)

        options = BulkOptions(
            key=key,
            journal=journal,
            progress=progress,
            total=total,
            raise_on_error=raise_on_error,
            error_file=error_file,
            concurrency=concurrency,
        )
        return await self._keyword_singles("create", "notes", items, send, options)

    @checked_keywords
    async def create_tasks(
        self,
        items: Items,
        *,
        key: str | KeyFn | None = None,
        journal: str | os.PathLike[str] | None = None,
        progress: Progress | bool | None = None,
        total: int | None = None,
        raise_on_error: bool = False,
        error_file: str | os.PathLike[str] | None = None,
        concurrency: int = CONCURRENCY,
    ) -> BulkReport:
        """Create a task from each item (the keyword arguments of ``client.tasks.create``);
        the options are ``create``'s."""

        async def send(client: AsyncBulkClient, item: Any, idempotency: str) -> None:
            await client.tasks.create(**item, idempotency_key=idempotency)

        options = BulkOptions(
            key=key,
            journal=journal,
            progress=progress,
            total=total,
            raise_on_error=raise_on_error,
            error_file=error_file,
            concurrency=concurrency,
        )
        return await self._keyword_singles("create", "tasks", items, send, options)

    @checked_keywords
    async def create_entries(
        self,
        list: str,
        items: Items,
        *,
        key: str | KeyFn | None = None,
        journal: str | os.PathLike[str] | None = None,
        progress: Progress | bool | None = None,
        total: int | None = None,
        raise_on_error: bool = False,
        error_file: str | os.PathLike[str] | None = None,
        concurrency: int = CONCURRENCY,
    ) -> BulkReport:
        """Add an entry to ``list`` from each item (``parent_object``, ``parent_record_id``,
        ``entry_values``); the options are ``create``'s."""

        async def send(client: AsyncBulkClient, item: Any, idempotency: str) -> None:
            await client.entries(list).create(**item, idempotency_key=idempotency)

        options = BulkOptions(
            key=key,
            journal=journal,
            progress=progress,
            total=total,
            raise_on_error=raise_on_error,
            error_file=error_file,
            concurrency=concurrency,
        )
        return await self._keyword_singles("create", f"entries of {list}", items, send, options)

    async def _keyword_singles(
        self, operation: str, what: str, items: Items, send: Any, options: BulkOptions
    ) -> BulkReport:
        def item_key(item: Any) -> str:
            if not isinstance(item, Mapping):
                raise InvalidArgumentError(f"an item is a mapping of keyword arguments, got {item!r}")
            return key_of(item, options.key)

        async def checked_send(client: AsyncBulkClient, item: Any, idempotency: str) -> None:
            try:
                await send(client, item, idempotency)
            except TypeError as exc:  # a keyword the create method does not take
                raise InvalidArgumentError(str(exc)) from None

        return await send_singles(self._client, operation, what, items, item_key, checked_send, options)
