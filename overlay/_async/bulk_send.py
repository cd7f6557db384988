"""How bulk items reach the API: one call each, ``concurrency`` at a time, or in batches
that are retried item by item and split when refused whole. ``bulk.py`` is the public face."""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Iterable, Mapping
from typing import TYPE_CHECKING, Any, Protocol

from .._bulk_core.keys import Identity, item_problem, key_of
from .._bulk_core.report import BulkReport
from .._bulk_core.run import Batcher, BulkOptions, Pending, Run, Sourced, fail_items
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


async def _each(items: Items) -> AsyncIterator[Any]:
    iterable = hasattr(items, "__iter__") or hasattr(items, "__aiter__")
    if isinstance(items, str | bytes | Mapping) or not iterable:  # a string or a dict is one item
        kind = type(items).__name__
        raise InvalidArgumentError(f"items is an iterable of items (a list, a generator), got {kind}.")
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
    options: BulkOptions,
    done_statuses: tuple[int, ...] = (),
) -> BulkReport:
    """One request per item, ``options.concurrency`` at a time, for what the batch endpoint
    does not take; ``key(item)`` gives an item's key, ``send`` makes its request, and an
    error status among ``done_statuses`` counts as applied (a delete's 404)."""
    shown = renderer(options.progress, f"{operation} {object}")
    run = Run(operation, object, options.journal, shown, options.total)
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
        async for entry, _, error in amap_bounded(attempt, pending(), options.concurrency):
            if isinstance(error, APIStatusError) and error.status not in done_statuses:
                run.fail([entry], error.status, error.code, error.message)
            elif isinstance(error, APIConnectionError | InvalidArgumentError):
                code = "invalid_item" if isinstance(error, InvalidArgumentError) else "connection_error"
                run.fail([entry], None, code, str(error))
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
    return finish(report, options)


# ---------------------------------------------------------------------------- the batch path


async def send_batched(
    base: AsyncBulkClient,
    operation: str,
    object: str,
    items: Items,
    options: BulkOptions,
    matching_attribute: str | None = None,
) -> BulkReport:
    """The items through the batch endpoint, ``options.concurrency`` batches in flight."""
    dry_run = options.dry_run
    types, titles = await _schema(base, object) if dry_run else ({}, {})
    shown = renderer(options.progress, f"{operation} {object}")
    run = Run(operation, object, options.journal, shown, options.total, dry_run=dry_run)
    report = run.report
    client = base.with_options(max_retries=BULK_RETRIES)
    records = client.records(object)

    async def batches() -> AsyncIterator[list[Pending]]:
        """The items in batches; what is refused or already done goes to the report."""
        batcher = Batcher(options.batch_size, options.max_batch_bytes)
        async for item in _each(items):
            index = report.total
            report.total += 1
            source = None
            try:
                if isinstance(item, Sourced):
                    source, item_key = item.source, item.key or key_of(item.values, options.key)
                    item = item.values
                elif not isinstance(item, Mapping):
                    raise InvalidArgumentError(
                        f"an item is a mapping of attribute slug to value, got {item!r}"
                    )
                else:
                    item_key = key_of(item, options.key)
            except InvalidArgumentError as error:
                run.fail([Pending(index, "", item, source=source)], None, "invalid_item", str(error))
                continue
            pending = run.admit(index, item_key, dict(item), source)
            if pending is None:
                continue
            if dry_run:
                problem = item_problem(item, types, titles)
                if problem is None:
                    report.succeeded += 1
                else:
                    run.fail([pending], None, "invalid_item", problem)
                continue
            full = batcher.add(pending)
            if full:
                yield full
        rest = batcher.rest()
        if rest:
            yield rest

    async def send(batch: list[Pending]) -> tuple[BulkReport, list[tuple[Identity, str | None]]]:
        sent, applied = BulkReport(operation, object), list[tuple[Identity, str | None]]()
        await _send(records, run, matching_attribute, batch, sent, applied)
        return sent, applied

    try:
        async for _, outcome, error in amap_bounded(send, batches(), options.concurrency):
            if error is not None:
                raise error
            sent, applied = outcome
            report.add(sent)
            run.applied(applied)
            run.tracker.update()
    finally:
        await client.close()
        run.close()
    return finish(report, options)


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


def finish(report: BulkReport, options: BulkOptions) -> BulkReport:
    """The report, its failures written to ``options.error_file``; raised as a ``BulkError``
    when ``options.raise_on_error`` and something failed."""
    if options.error_file is not None:
        report.write_errors(options.error_file)
    if options.raise_on_error and report.errors:
        first = report.errors[0]
        raise BulkError(report, f"{report.failed} of {report.total} items failed; first: {first.message}")
    return report
