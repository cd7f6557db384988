"""One bulk run: its options, its items on their way, the batches they travel in, and
the bookkeeping of what was applied, skipped or failed."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .._errors import InvalidArgumentError
from .journal import Journal
from .keys import Identities, Identity, KeyFn, encoded, idempotency_key, new_run_id
from .report import BulkReport, ItemError, Progress, Tracker

MAX_BATCH_ITEMS = 100
MAX_BATCH_BYTES = 512 * 1024
CONCURRENCY = 8  # single calls in flight at once, by default


@dataclass(frozen=True)
class BulkOptions:
    """How a bulk run goes, as ``client.bulk``'s methods take it: the items' ``key``, the
    ``journal`` to resume from, ``progress`` and the ``total`` it counts to, whether to
    ``raise_on_error`` or write failures to ``error_file``, batches of ``batch_size`` items
    and ``max_batch_bytes``, a ``dry_run``, and how many requests are in flight at once."""

    key: str | KeyFn | None = None
    journal: str | os.PathLike[str] | None = None
    progress: Progress | bool | None = None
    total: int | None = None
    raise_on_error: bool = False
    error_file: str | os.PathLike[str] | None = None
    batch_size: int = MAX_BATCH_ITEMS
    max_batch_bytes: int = MAX_BATCH_BYTES
    dry_run: bool = False
    concurrency: int = CONCURRENCY

    def __post_init__(self) -> None:
        for name in ("batch_size", "max_batch_bytes", "concurrency", "total"):
            value = getattr(self, name)
            if (value is not None or name != "total") and (
                isinstance(value, bool) or not isinstance(value, int)
            ):
                raise InvalidArgumentError(f"{name} is a whole number, got {type(value).__name__}.")
        if not 1 <= self.batch_size <= MAX_BATCH_ITEMS:
            raise InvalidArgumentError(f"batch_size must be 1 to {MAX_BATCH_ITEMS}, got {self.batch_size}.")
        if self.concurrency < 1:
            raise InvalidArgumentError(f"concurrency must be 1 or more, got {self.concurrency}.")


@dataclass(frozen=True)
class Sourced:
    """An item that remembers where it came from: ``values`` to write, ``key`` (its stable
    key, or ``None`` for the usual one) and ``source`` (say, an import row), which the
    item's ``ItemError`` carries back if the API refuses it."""

    values: Mapping[str, Any]
    source: Any = None
    key: str | None = None


@dataclass
class Pending:
    """One input item on its way: its position in the input, its key, identity and body."""

    index: int
    key: str
    body: Any
    identity: Identity = ("", 0)
    size: int = 0
    source: Any = None


class Batcher:
    """Groups items into batches of at most ``size`` items and ``max_bytes`` of bodies (an
    item bigger than that travels alone)."""

    def __init__(self, size: int, max_bytes: int) -> None:
        self.size, self.max_bytes = size, max_bytes
        self._batch: list[Pending] = []
        self._bytes = 0

    def add(self, item: Pending) -> list[Pending] | None:
        """Take ``item``; the batch before it, full, when ``item`` does not fit in it."""
        full = None
        if self._batch and (len(self._batch) >= self.size or self._bytes + item.size > self.max_bytes):
            full, self._batch, self._bytes = self._batch, [], 0
        self._batch.append(item)
        self._bytes += item.size
        return full

    def rest(self) -> list[Pending] | None:
        """The last batch, not full (``None`` when empty)."""
        rest, self._batch, self._bytes = self._batch, [], 0
        return rest or None


class Run:
    """One run of a bulk operation: its id (the journal's when there is one), its report,
    its journal, the identities of its items and the progress tracker."""

    def __init__(
        self,
        operation: str,
        object: str,
        journal: str | os.PathLike[str] | None,
        progress: Progress | None,
        total: int | None,
        *,
        dry_run: bool = False,
    ) -> None:
        self.operation, self.object = operation, object
        self.journal = Journal(journal, operation, object) if journal is not None else None
        self.run_id = self.journal.run_id if self.journal and self.journal.run_id else new_run_id()
        self.report = BulkReport(operation, object, run_id=self.run_id, dry_run=dry_run)
        self.tracker = Tracker(self.report, total, progress)
        self._identities = Identities()

    def admit(self, index: int, key: str, body: Any, source: Any = None) -> Pending | None:
        """The item on its way, or None when it is skipped (done by an earlier attempt of this
        run) or failed (its text cannot be sent: it goes to the report)."""
        identity = self._identities(key)
        if self.journal is not None and identity in self.journal.done:
            self.report.skipped += 1
            return None
        pending = Pending(index, key, body, identity, source=source)
        try:
            pending.size = len(encoded(body))
        except InvalidArgumentError as error:
            code = "invalid_unicode" if "Unicode" in str(error) else "invalid_item"
            self.fail([pending], None, code, str(error))
            return None
        return pending

    def idempotency_key(self, item: Pending) -> str:
        return idempotency_key(self.run_id, self.operation, self.object, item.identity)

    def fail(self, items: list[Pending], status: int | None, code: str, message: str) -> None:
        fail_items(self.report, items, status, code, message)

    def applied(self, entries: list[tuple[Identity, str | None]]) -> None:
        if self.journal is not None and entries:
            self.journal.record(entries)

    def close(self) -> None:
        self.tracker.update()
        self.report.errors.sort(key=lambda error: error.index)  # in input order
        if self.journal is not None:
            self.journal.close()


def fail_items(report: BulkReport, items: list[Pending], status: int | None, code: str, message: str) -> None:
    """Count ``items`` as failed in ``report``, each with an ``ItemError`` saying why."""
    for item in items:
        report.failed += 1
        report.errors.append(ItemError(item.index, item.key, status, code, message, item.body, item.source))
