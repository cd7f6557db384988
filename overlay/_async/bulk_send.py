"""How bulk items reach the API: one call each, ``concurrency`` at a time, or in batches
that are retried item by item and split when refused whole. ``bulk.py`` is the public face."""

from __future__ import annotations

import os
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Mapping
from typing import TYPE_CHECKING, Any, Protocol

from .._bulk import (
    MAX_BATCH_ITEMS,
    BulkReport,
    Identity,
    ItemError,
    KeyFn,
    Pending,
    Progress,
    Run,
    Sourced,
    item_problem,
    key_of,
)
from .._concurrency import amap_bounded
from .._errors import APIConnectionError, APIStatusError, BulkError, InvalidArgumentError
from .._progress import renderer

if TYPE_CHECKING:
    from .._ids import ListRef, ObjectRef
    from .metadata import AsyncMetadata
    from .resources import AsyncEntries, AsyncNotes, AsyncRecords, AsyncTasks


class AsyncBulkClient(Protocol):
    """What bulk writes need of a client (``AsyncClient`` is one)."""

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


async def send_singles(
    base: AsyncBulkClient,
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
    client = base.with_options(max_retries=BULK_RETRIES)

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
    return finish(report, raise_on_error, error_file)


# ---------------------------------------------------------------------------- the batch path


async def send_batched(
    base: AsyncBulkClient,
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
    types, options = await _schema(base, object) if dry_run else ({}, {})
    shown = renderer(progress, f"{operation} {object}")
    run = Run(operation, object, journal, shown, total, dry_run=dry_run)
    report = run.report
    client = base.with_options(max_retries=BULK_RETRIES)
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
        await _send(records, run, matching_attribute, batch, sent, applied)
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
    return finish(report, raise_on_error, error_file)


async def _schema(base: AsyncBulkClient, object: str) -> tuple[dict[str, str], dict[str, list[str]]]:
    """The object's attribute types, and the titles of its selects and statuses."""
    infos = await base.metadata.attribute_infos(object)
    types = {slug: info.type for slug, info in infos.items()}
    return types, {slug: list(info.options) for slug, info in infos.items() if info.options}


async def _send(
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
                await _send(records, run, matching_attribute, pending[:half], report, applied)
                await _send(records, run, matching_attribute, pending[half:], report, applied)
                return
            if _transient(status):
                continue  # the transport's retries ran out; the keys make another round safe
            code = getattr(error, "code", "invalid_item")
            fail_items(report, pending, status, code, str(error))
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
                fail_items(report, [item], refusal.status_code if refusal else None, code, message)
        if not again:
            return
        pending = again
    fail_items(report, pending, None, "gave_up", f"still failing after {BULK_RETRIES} rounds")


def fail_items(report: BulkReport, items: list[Pending], status: int | None, code: str, message: str) -> None:
    for item in items:
        report.failed += 1
        report.errors.append(ItemError(item.index, item.key, status, code, message, item.body, item.source))


def finish(report: BulkReport, raise_on_error: bool, error_file: str | os.PathLike[str] | None) -> BulkReport:
    if error_file is not None:
        report.write_errors(error_file)
    if raise_on_error and report.errors:
        first = report.errors[0]
        raise BulkError(report, f"{report.failed} of {report.total} items failed; first: {first.message}")
    return report
