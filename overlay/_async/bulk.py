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
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Mapping
from typing import TYPE_CHECKING, Any, Protocol

from .._bulk import (
    MAX_BATCH_BYTES,
    MAX_BATCH_ITEMS,
    BulkReport,
    Identity,
    ItemError,
    KeyFn,
    Pending,
    Progress,
    Run,
    Sourced,
    content_key,
    item_problem,
    key_of,
)
from .._concurrency import amap_bounded
from .._errors import APIConnectionError, APIStatusError, BulkError, InvalidArgumentError
from .._ids import path_id
from .._progress import renderer

if TYPE_CHECKING:
    from .._ids import ListRef, ObjectRef
    from .metadata import AsyncMetadata
    from .resources import AsyncEntries, AsyncNotes, AsyncRecords, AsyncTasks


class AsyncBulkClient(Protocol):
    """What bulk writes need of a client (``AsyncBulkClient`` is one)."""

    @property
    def metadata(self) -> AsyncMetadata: ...

    @property
    def notes(self) -> AsyncNotes: ...

    @property
    def tasks(self) -> AsyncTasks: ...

    def records(self, object: ObjectRef) -> AsyncRecords: ...

    def entries(self, list: ListRef) -> AsyncEntries: ...

    def with_options(self, *, max_retries: int) -> AsyncBulkClient: ...

    async def close(self) -> None: ...


Items = Iterable[Any] | AsyncIterable[Any]
# Retries of the transport for bulk work: a batch is safe to resend (its items carry keys).
BULK_RETRIES = 8
# Single calls in flight at once (the client's rate limiter still paces them).
CONCURRENCY = 8


async def _each(items: Items) -> AsyncIterator[Any]:
    if hasattr(items, "__aiter__"):
        async for item in items:
            yield item
    else:
        for item in items:
            yield item


def _transient(status: int | None) -> bool:
    return status is None or status == 429 or status >= 500


class AsyncBulk:
    """``client.bulk``: many writes at the server's pace, each applied once."""

    def __init__(self, client: AsyncBulkClient) -> None:
        self._client = client

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
        return await self._batched(
            "create", object, items, None, key, journal, progress, total, raise_on_error, error_file,
            batch_size, max_batch_bytes, dry_run, concurrency,
        )  # fmt: skip

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
        return await self._batched(
            "upsert", object, items, matching_attribute, key or matching_attribute, journal, progress, total,
            raise_on_error, error_file, batch_size, max_batch_bytes, dry_run, concurrency,
        )  # fmt: skip

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

        return await self._singles(
            "update",
            object,
            items,
            key,
            send,
            (),
            journal,
            progress,
            total,
            raise_on_error,
            error_file,
            concurrency,
        )

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

        return await self._singles(
            "delete",
            object,
            record_ids,
            record_key,
            send,
            (404,),
            journal,
            progress,
            total,
            raise_on_error,
            error_file,
        )

    async def create_notes(self, items: Items, **options: Any) -> BulkReport:
        """Create a note from each item (the keyword arguments of ``client.notes.create``)."""

        async def send(client: AsyncBulkClient, item: Any, idempotency: str) -> None:
            await client.notes.create(**item, idempotency_key=idempotency)

        return await self._keyword_singles("create", "notes", items, send, options)

    async def create_tasks(self, items: Items, **options: Any) -> BulkReport:
        """Create a task from each item (the keyword arguments of ``client.tasks.create``)."""

        async def send(client: AsyncBulkClient, item: Any, idempotency: str) -> None:
            await client.tasks.create(**item, idempotency_key=idempotency)

        return await self._keyword_singles("create", "tasks", items, send, options)

    async def create_entries(self, list: str, items: Items, **options: Any) -> BulkReport:
        """Add an entry to ``list`` from each item (``parent_object``, ``parent_record_id``,
        ``entry_values``)."""

        async def send(client: AsyncBulkClient, item: Any, idempotency: str) -> None:
            await client.entries(list).create(**item, idempotency_key=idempotency)

        return await self._keyword_singles("create", f"entries of {list}", items, send, options)

    async def _keyword_singles(
        self, operation: str, what: str, items: Items, send: Any, options: Mapping[str, Any]
    ) -> BulkReport:
        allowed = {"journal", "progress", "total", "raise_on_error", "error_file", "concurrency", "key"}
        unknown = sorted(set(options) - allowed)
        if unknown:
            raise InvalidArgumentError(
                f"Unknown option {unknown[0]!r}; options: {', '.join(sorted(allowed))}."
            )
        key = options.get("key")

        def item_key(item: Any) -> str:
            if not isinstance(item, Mapping):
                raise InvalidArgumentError(f"an item is a mapping of keyword arguments, got {item!r}")
            return key_of(item, key)

        async def checked_send(client: AsyncBulkClient, item: Any, idempotency: str) -> None:
            try:
                await send(client, item, idempotency)
            except TypeError as exc:  # a keyword the create method does not take
                raise InvalidArgumentError(str(exc)) from None

        get = options.get
        return await self._singles(
            operation, what, items, item_key, checked_send, (),
            get("journal"), get("progress"), get("total"), get("raise_on_error", False), get("error_file"),
            get("concurrency", CONCURRENCY),
        )  # fmt: skip

    async def _singles(
        self,
        operation: str,
        object: str,
        items: Items,
        key: Any,
        send: Any,
        done_statuses: tuple[int, ...],
        journal: str | os.PathLike[str] | None,
        progress: Progress | bool | None,
        total: int | None,
        raise_on_error: bool,
        error_file: str | os.PathLike[str] | None,
        concurrency: int = CONCURRENCY,
    ) -> BulkReport:
        """One request per item, ``concurrency`` at a time, for what the batch endpoint does not take."""
        if concurrency < 1:
            raise InvalidArgumentError(f"concurrency must be 1 or more, got {concurrency}.")
        run = Run(operation, object, journal, renderer(progress, f"{operation} {object}"), total)
        report = run.report
        client = self._client.with_options(max_retries=BULK_RETRIES)

        async def pending() -> AsyncIterator[Pending]:
            async for item in _each(items):
                index = report.total
                report.total += 1
                try:
                    item_key = key(item)
                except InvalidArgumentError as error:
                    run.fail([Pending(index, "", item)], None, "invalid_item", str(error))
                    continue
                entry = run.admit(index, item_key, item)
                if entry is not None:
                    report.requests += 1
                    yield entry

        async def attempt(entry: Pending) -> None:
            await send(client, entry.body, run.idempotency_key(entry))

        try:
            async for entry, _, error in amap_bounded(attempt, pending(), concurrency):
                if isinstance(error, APIStatusError) and error.status not in done_statuses:
                    run.fail([entry], error.status, error.code, error.message)
                elif isinstance(error, APIConnectionError | InvalidArgumentError):
                    run.fail([entry], None, type(error).__name__, str(error))
                elif error is not None and not isinstance(error, APIStatusError):
                    raise error
                else:
                    report.succeeded += 1
                    report.created += operation == "create"
                    report.updated += operation == "update"
                    run.applied([(entry.identity, None)])
                run.tracker.update()
        finally:
            await client.close()
            run.close()
        return self._finish(report, raise_on_error, error_file)

    # ------------------------------------------------------------------ the batch path

    async def _batched(
        self,
        operation: str,
        object: str,
        items: Items,
        matching_attribute: str | None,
        key: str | KeyFn | None,
        journal: str | os.PathLike[str] | None,
        progress: Progress | bool | None,
        total: int | None,
        raise_on_error: bool,
        error_file: str | os.PathLike[str] | None,
        batch_size: int,
        max_batch_bytes: int,
        dry_run: bool,
        concurrency: int,
    ) -> BulkReport:
        if not 1 <= batch_size <= MAX_BATCH_ITEMS:
            raise InvalidArgumentError(f"batch_size must be 1 to {MAX_BATCH_ITEMS}, got {batch_size}.")
        if concurrency < 1:
            raise InvalidArgumentError(f"concurrency must be 1 or more, got {concurrency}.")
        types, options = await self._schema(object) if dry_run else ({}, {})
        shown = renderer(progress, f"{operation} {object}")
        run = Run(operation, object, journal, shown, total, dry_run=dry_run)
        report = run.report
        client = self._client.with_options(max_retries=BULK_RETRIES)
        records = client.records(object)

        async def batches() -> AsyncIterator[list[Pending]]:
            """The items in batches; what is refused or already done goes to the report."""
            batch: list[Pending] = []
            size = 0
            async for item in _each(items):
                index = report.total
                report.total += 1
                source = None
                try:
                    if isinstance(item, Sourced):
                        source, item_key = item.source, item.key or key_of(item.values, key)
                        item = item.values
                    elif not isinstance(item, Mapping):
                        raise InvalidArgumentError(
                            f"an item is a mapping of attribute slug to value, got {item!r}"
                        )
                    else:
                        item_key = key_of(item, key)
                except InvalidArgumentError as error:
                    run.fail([Pending(index, "", item, source=source)], None, "invalid_item", str(error))
                    continue
                pending = run.admit(index, item_key, dict(item), source)
                if pending is None:
                    continue
                if dry_run:
                    problem = item_problem(item, types, options)
                    if problem is None:
                        report.succeeded += 1
                    else:
                        run.fail([pending], None, "invalid_item", problem)
                    continue
                if batch and (len(batch) >= batch_size or size + pending.size > max_batch_bytes):
                    yield batch
                    batch, size = [], 0
                batch.append(pending)
                size += pending.size
            if batch:
                yield batch

        async def send(batch: list[Pending]) -> tuple[BulkReport, list[tuple[Identity, str | None]]]:
            sent, applied = BulkReport(operation, object), list[tuple[Identity, str | None]]()
            await self._send(records, run, matching_attribute, batch, sent, applied)
            return sent, applied

        try:
            async for _, outcome, error in amap_bounded(send, batches(), concurrency):
                if error is not None:
                    raise error
                sent, applied = outcome
                report.add(sent)
                run.applied(applied)
                run.tracker.update()
        finally:
            await client.close()
            run.close()
        return self._finish(report, raise_on_error, error_file)

    async def _schema(self, object: str) -> tuple[dict[str, str], dict[str, list[str]]]:
        """The object's attribute types, and the titles of its selects and statuses."""
        infos = await self._client.metadata.attribute_infos(object)
        types = {slug: info.type for slug, info in infos.items()}
        return types, {slug: list(info.options) for slug, info in infos.items() if info.options}

    async def _send(
        self,
        records: Any,
        run: Run,
        matching_attribute: str | None,
        batch: list[Pending],
        report: BulkReport,
        applied: list[tuple[Identity, str | None]],
    ) -> None:
        """Send one batch; retry only its items that failed for a passing reason; split a
        batch the API refuses as a whole until the bad items stand alone. Counts go to
        ``report``, and each applied item's (identity, record id) to ``applied``."""
        pending = batch
        for _ in range(BULK_RETRIES):
            body = [
                {
                    "operation": run.operation,
                    "values": p.body,
                    "idempotency_key": run.idempotency_key(p),
                    **({"matching_attribute": matching_attribute} if matching_attribute else {}),
                }
                for p in pending
            ]
            try:
                report.requests += 1
                answer = await records.with_raw_response.batch(body)
                outcome = answer.parse()
            except (APIStatusError, InvalidArgumentError, APIConnectionError) as error:
                refused_here = isinstance(error, InvalidArgumentError)  # before sending: no request
                report.requests -= refused_here
                status = 400 if refused_here else getattr(error, "status", None)
                if not _transient(status) and len(pending) > 1:
                    half = len(pending) // 2
                    await self._send(records, run, matching_attribute, pending[:half], report, applied)
                    await self._send(records, run, matching_attribute, pending[half:], report, applied)
                    return
                if _transient(status):
                    continue  # the transport's retries ran out; the keys make another round safe
                code = getattr(error, "code", "invalid_item")
                self._fail(report, pending, status, code, str(error))
                return
            again: list[Pending] = []
            # The transport resent the batch under its key after losing the answer: the API
            # replayed the whole stored answer, whose items each say ``replayed: false``.
            whole_replay = answer.headers.get("Idempotent-Replayed") == "true"
            for result in outcome.data.results:
                item = pending[result.index]
                status_name = str(result.status)
                if status_name != "failed":
                    applied.append((item.identity, result.record.id.record_id if result.record else None))
                    report.succeeded += 1
                    report.replayed += bool(result.replayed) or whole_replay
                    report.created += status_name == "created"
                    report.updated += status_name == "updated"
                    report.unchanged += status_name == "unchanged"
                elif result.error is not None and _transient(result.error.status_code):
                    again.append(item)
                else:
                    refusal = result.error
                    code, message = (refusal.code, refusal.message) if refusal else ("failed", "failed")
                    self._fail(report, [item], refusal.status_code if refusal else None, code, message)
            if not again:
                return
            pending = again
        self._fail(report, pending, None, "gave_up", f"still failing after {BULK_RETRIES} rounds")

    @staticmethod
    def _fail(report: BulkReport, items: list[Pending], status: int | None, code: str, message: str) -> None:
        for item in items:
            report.failed += 1
            report.errors.append(
                ItemError(item.index, item.key, status, code, message, item.body, item.source)
            )

    @staticmethod
    def _finish(
        report: BulkReport, raise_on_error: bool, error_file: str | os.PathLike[str] | None
    ) -> BulkReport:
        if error_file is not None:
            report.write_errors(error_file)
        if raise_on_error and report.errors:
            first = report.errors[0]
            raise BulkError(report, f"{report.failed} of {report.total} items failed; first: {first.message}")
        return report
