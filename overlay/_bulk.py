"""The parts of bulk writes that do no I/O: item keys, batches, the journal, progress, the report.

Every item has a stable key (given by the caller, or a hash of its content) from which its
idempotency key is derived, so sending it again after a lost response never writes it
twice. The journal records each item the API has applied; a run started with the same
journal skips them, so a killed run resumes where it stopped.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Protocol

from ._errors import InvalidArgumentError

MAX_BATCH_ITEMS = 100
MAX_BATCH_BYTES = 512 * 1024


def content_key(item: Any) -> str:
    """A key for an item from its content: the same item always gets the same key."""
    text = json.dumps(item, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


KeyFn = Callable[[Mapping[str, Any]], Any]


def key_of(item: Mapping[str, Any], key: str | KeyFn | None) -> str:
    """The item's stable key: ``key(item)``, the value of attribute ``key``, or its content hash."""
    if key is None:
        return content_key(item)
    value = key(item) if callable(key) else item.get(key)
    if value is None or value == "" or value == []:
        raise InvalidArgumentError(f"The item has no value for the key {key!r}.")
    return str(value) if isinstance(value, str | int) else content_key(value)


def idempotency_key(operation: str, object: str, item_key: str) -> str:
    return "bulk_" + hashlib.sha256(f"{operation}\0{object}\0{item_key}".encode()).hexdigest()[:40]


def item_problem(
    item: Mapping[str, Any], types: Mapping[str, str], options: Mapping[str, list[str]]
) -> str | None:
    """What is wrong with an item for an object with these attribute ``types`` (None: nothing
    the schema can tell); select and status values must be among ``options``."""
    from ._metadata import hint

    for slug, value in item.items():
        if slug not in types:
            return f"Unknown attribute {slug!r}.{hint(slug, types)}"
        titles = options.get(slug)
        if titles is not None:
            for title in value if isinstance(value, list) else [value]:
                if isinstance(title, str) and title not in titles:
                    return f"{title!r} is not an option of {slug!r}.{hint(title, titles, 'Options')}"
    return None


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
    """One input item on its way: its position in the input, its key and its body."""

    index: int
    key: str
    body: dict[str, Any]
    size: int = 0
    source: Any = None


def batches(items: Iterable[Pending], max_items: int, max_bytes: int) -> Iterator[list[Pending]]:
    """Groups of at most ``max_items`` items and (roughly) ``max_bytes`` bytes of JSON, in order."""
    batch: list[Pending] = []
    size = 0
    for item in items:
        item.size = item.size or len(json.dumps(item.body, default=str))
        if batch and (len(batch) >= max_items or size + item.size > max_bytes):
            yield batch
            batch, size = [], 0
        batch.append(item)
        size += item.size
    if batch:
        yield batch


class Journal:
    """An append-only JSON-lines file of the items the API has applied (``key``, ``record_id``)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.done: dict[str, str | None] = {}
        if self.path.exists():
            with self.path.open() as lines:
                for line in lines:
                    try:
                        entry = json.loads(line)
                    except ValueError:  # a line cut short by a kill: that item was not recorded
                        continue
                    self.done[entry["key"]] = entry.get("record_id")
        self._file: IO[str] = self.path.open("a")

    def record(self, entries: Iterable[tuple[str, str | None]]) -> None:
        for key, record_id in entries:
            self.done[key] = record_id
            self._file.write(json.dumps({"key": key, "record_id": record_id}) + "\n")
        self._file.flush()
        os.fsync(self._file.fileno())

    def close(self) -> None:
        self._file.close()


@dataclass(frozen=True)
class ItemError:
    """An item the API refused: where it was in the input, its key, and why."""

    index: int
    key: str
    status: int | None
    code: str
    message: str
    item: Any = None
    source: Any = None  # the ``Sourced`` item's source


@dataclass
class BulkReport:
    """What a bulk run did: counts, time, throughput, and every item that failed."""

    operation: str
    object: str
    total: int = 0
    succeeded: int = 0
    skipped: int = 0  # already applied by an earlier run with the same journal
    replayed: int = 0  # of the succeeded: the API had applied them before (same idempotency key)
    created: int = 0  # of the succeeded through the batch endpoint: new records
    updated: int = 0  # of the succeeded through the batch endpoint: records an upsert matched
    failed: int = 0
    requests: int = 0
    elapsed: float = 0.0
    errors: list[ItemError] = field(default_factory=list)

    @property
    def throughput(self) -> float:
        """Items applied per second."""
        return self.succeeded / self.elapsed if self.elapsed else 0.0

    def __str__(self) -> str:
        return (
            f"{self.operation} {self.object}: {self.succeeded} ok ({self.replayed} replayed), "
            f"{self.failed} failed, {self.skipped} already done, of {self.total} in {self.elapsed:.1f} s "
            f"({self.throughput:,.0f}/s, {self.requests} requests)"
        )

    def add(self, other: BulkReport) -> None:
        """Count in ``other``, the report of one part of this run."""
        for name in ("succeeded", "replayed", "created", "updated", "failed", "requests"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.errors.extend(other.errors)

    def write_errors(self, path: str | os.PathLike[str]) -> None:
        """The failed items as JSON lines (``index``, ``key``, ``code``, ``message``, ``item``),
        ready to be fixed and fed back in."""
        with Path(path).open("w") as out:
            for error in self.errors:
                fields = {k: v for k, v in error.__dict__.items() if k != "source"}
                out.write(json.dumps(fields, default=str) + "\n")


class Progress(Protocol):
    """Called after every request with the run's state so far."""

    def __call__(self, state: ProgressState) -> None: ...


@dataclass(frozen=True)
class ProgressState:
    done: int
    failed: int
    total: int | None
    rate: float  # items per second so far
    eta: float | None  # seconds left, when the total is known


class Tracker:
    """Counts for the report and the progress callback."""

    def __init__(self, report: BulkReport, total: int | None, progress: Progress | None) -> None:
        self.report = report
        self.total = total
        self.progress = progress
        self.started = time.perf_counter()

    def update(self) -> None:
        self.report.elapsed = time.perf_counter() - self.started
        if self.progress is None:
            return
        done = self.report.succeeded + self.report.skipped
        rate = self.report.succeeded / self.report.elapsed if self.report.elapsed else 0.0
        left = None if self.total is None else max(0, self.total - done - self.report.failed)
        eta = left / rate if left is not None and rate else None
        self.progress(ProgressState(done, self.report.failed, self.total, rate, eta))
